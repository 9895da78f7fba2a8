// Scores and survivors of mutation runs, from Stryker's JSON reports or, for a run still going or
// stopped early, from its event-recorder files (one per mutant tested so far).
//
//   node test/mutation/summarize.mjs [group…]     default: every group under .mutation/reports
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const ROOT = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..')
const REPORTS = join(ROOT, '.mutation', 'reports')

/** The mutants of one group: the final report when there is one, else the events so far. */
function mutantsOf (group) {
  const report = join(REPORTS, `${group}.json`)
  const events = join(REPORTS, `events-${group}`)
  if (existsSync(report)) {
    const { files } = JSON.parse(readFileSync(report, 'utf8'))
    return { complete: true, mutants: Object.entries(files).flatMap(([file, { mutants }]) => mutants.map((m) => ({ ...m, file }))) }
  }
  if (!existsSync(events)) return { complete: false, mutants: [] }
  const mutants = readdirSync(events)
    .filter((name) => name.endsWith('-onMutantTested.json'))
    .map((name) => JSON.parse(readFileSync(join(events, name), 'utf8')))
    .map((m) => ({ ...m, file: relative(ROOT, m.fileName) }))
  return { complete: false, mutants }
}

const KILLED = new Set(['Killed', 'Timeout'])
const COUNTED = new Set(['Killed', 'Timeout', 'Survived', 'NoCoverage'])

const groups = process.argv.length > 2
  ? process.argv.slice(2)
  : readdirSync(REPORTS).flatMap((name) => {
    const match = /^(?:events-)?(.+?)(?:\.json)?$/.exec(name)
    return match !== null && (name.endsWith('.json') || name.startsWith('events-')) ? [match[1]] : []
  }).filter((group, i, all) => all.indexOf(group) === i)

let killedAll = 0
let countedAll = 0
for (const group of groups) {
  const { complete, mutants } = mutantsOf(group)
  console.log(`\n## ${group}: ${complete ? 'complete' : 'partial (events so far)'}, ${mutants.length} mutants`)
  const byFile = new Map()
  for (const mutant of mutants) {
    if (!byFile.has(mutant.file)) byFile.set(mutant.file, [])
    byFile.get(mutant.file).push(mutant)
  }
  for (const [file, list] of [...byFile].sort()) {
    const killed = list.filter((m) => KILLED.has(m.status)).length
    const counted = list.filter((m) => COUNTED.has(m.status)).length
    killedAll += killed
    countedAll += counted
    const score = counted === 0 ? 'n/a' : (100 * killed / counted).toFixed(2) + '%'
    const other = list.length - counted
    console.log(`${file}: ${score} (${killed} killed of ${counted}${other > 0 ? `; ${other} ignored/errors` : ''})`)
    const left = list.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
      .sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column)
    for (const m of left) {
      const replacement = (m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 100)
      console.log(`  ${file}:${m.location.start.line}:${m.location.start.column} ${m.status} ${m.mutatorName} -> ${replacement}`)
    }
  }
}
if (countedAll > 0) console.log(`\nall groups: ${(100 * killedAll / countedAll).toFixed(2)}% (${killedAll} killed of ${countedAll})`)
