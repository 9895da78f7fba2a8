// `npm run bench`: DN parsing and certificate extraction, each beside a reference measured in the
// same run. Not a test: it reports, it does not fail.
//
//   --rounds N                 rounds per case (default 9)
//   --only dn|certificates     one half only
//   --clock cpu|wall           what a slice measures (default cpu: the process's CPU time, so that
//                              time spent descheduled on a shared machine is not counted)

import { availableParallelism, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { createPki } from '../test/helpers/pki'
import { certificateCases } from './certificate'
import { dnCases } from './dn'
import { formatOps, printTable, runCase, type BenchCase, type CaseResult, type RatioResult, type Settings } from './harness'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '9' },
    only: { type: 'string' },
    clock: { type: 'string', default: 'cpu' }
  }
})
const rounds = Number(args.rounds)
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds expects a positive whole number')
if (args.clock !== 'cpu' && args.clock !== 'wall') throw new Error('--clock expects cpu or wall')
const clock: Settings['clock'] = args.clock
if (args.only !== undefined && args.only !== 'dn' && args.only !== 'certificates') throw new Error('--only expects dn or certificates')

const times = (ratio: number): string => ratio >= 10 ? ratio.toFixed(1) + 'x' : ratio.toFixed(2) + 'x'
const timesRange = (ratio: RatioResult): string => `${times(ratio.median)} [${times(ratio.min)}–${times(ratio.max)}]`
// Ours ÷ floor in operations is floor ÷ ours in time: the extra time an extraction costs.
const overhead = (ratio: number): string => {
  const percent = (1 / ratio - 1) * 100
  return (percent >= 0 ? '+' : '') + percent.toFixed(1) + '%'
}
const overheadRange = (ratio: RatioResult): string => `${overhead(ratio.median)} [${overhead(ratio.max)} … ${overhead(ratio.min)}]`

function run (title: string, cases: BenchCase[], settings: Settings, ratioText: (ratio: RatioResult) => string): CaseResult[] {
  console.log(`\n${title}: median ops/s of ${settings.rounds} rounds; per round, ${settings.sliceMs} ms of ${settings.clock} ` +
    `time per function in ${settings.turns} slices taken in turn`)
  const results = cases.map((benchCase) => {
    if (process.stdout.isTTY) process.stdout.write(`  ${benchCase.name}…`)
    const result = runCase(benchCase, settings)
    if (process.stdout.isTTY) process.stdout.write('\r\x1b[K')
    return result
  })
  const first = results[0]
  printTable(
    [
      'case',
      ...first.contenders.map((contender) => contender.name),
      ...first.ratios.map((ratio) => `${first.contenders[0].name} vs ${ratio.against} [min–max]`),
      'target'
    ],
    results.map((result) => [
      result.name,
      ...result.contenders.map((contender) => formatOps(contender.opsPerSecond)),
      ...result.ratios.map((ratio) => ratio.against === result.target?.against ? ratioText(ratio) : timesRange(ratio)),
      result.target === undefined ? '' : `${result.target.label}: ${result.target.met ? 'met' : 'MISSED'}`
    ])
  )
  return results
}

async function main (): Promise<void> {
  const started = Date.now()
  console.log(`node ${process.version}, ${availableParallelism()} CPUs, load average ${loadavg()[0].toFixed(2)}`)
  const results: CaseResult[] = []

  if (args.only !== 'certificates') {
    results.push(...run('DN parsing', dnCases(), { rounds, sliceMs: 100, turns: 2, warmupMs: 200, clock }, timesRange))
  }
  if (args.only !== 'dn') {
    const pki = await createPki()
    try {
      const cases = certificateCases(pki)
      console.log('\nextraction: headerSource + buildIdentity on the headers each preset\'s proxy sends (alice\'s certificate)' +
        '\nX509Certificate: new X509Certificate(der) on the DER already decoded, the floor' +
        '\nthe ratio column is the extra time an extraction takes over the floor')
      results.push(...run('Certificate extraction', cases, { rounds, sliceMs: 200, turns: 4, warmupMs: 300, clock }, overheadRange))
    } finally {
      await pki.cleanup()
    }
  }

  const missed = results.filter((result) => result.target?.met === false)
  console.log(missed.length === 0
    ? '\nEvery target met.'
    : `\nTargets missed (${missed.length} of ${results.length} cases): ${missed.map((result) => result.name).join(', ')}.`)
  console.log(`${((Date.now() - started) / 1000).toFixed(0)} s, load average ${loadavg()[0].toFixed(2)}`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
