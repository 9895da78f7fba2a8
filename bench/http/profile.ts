// `npm run bench:profile -- 4 6c`: where each contender of a scenario spends its CPU per response,
// from V8's sampling profiler run inside the server for the loaded time only (not its start-up).
// Prints, per scenario, the self time per response by owner (the plugin's own code in dist/, each
// package, Node's parts, GC) for the plugin's server and the reference's, then the plugin's top
// functions. Not a test, and not a throughput measurement: profiling slows both servers alike.
//
//   --seconds S   profiled load per contender (default 10), after a 2 s warm-up

import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { median, printTable } from '../harness'
import type { TlsServerFiles } from './apps'
import { checkAnswer, pinCpus, runUntimed, ServerProcess } from './load'
import { createBenchPki } from './pki'
import type { CpuProfile } from './protocol'
import { scenarios, type Scenario } from './scenarios'

const { values: args, positionals: ids } = parseArgs({
  options: { seconds: { type: 'string', default: '10' } },
  allowPositionals: true
})
const seconds = Number(args.seconds)
if (!(seconds > 0)) throw new Error('--seconds expects a positive number')

/** Who a profiled function belongs to. */
function ownerOf (url: string, functionName: string): string | null {
  if (functionName === '(idle)') return null
  if (url === '') return functionName === '(garbage collector)' ? 'GC' : 'V8 and native code'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg !== null) return pkg[1]
  if (url.includes('/dist/')) return 'the plugin (dist/)'
  if (url.includes('/bench/http/')) return 'the hand-written hook (bench/http/apps.ts)'
  const builtin = /^node:(?:internal\/)?_?([a-z_]+)/.exec(url)
  if (builtin !== null) return `node:${builtin[1].startsWith('http') ? 'http' : builtin[1]}`
  return 'other'
}

interface Breakdown {
  responses: number
  /** Self µs per response by owner. */
  owners: Map<string, number>
  /** Self µs per response by function of the plugin's own code. */
  pluginFunctions: Map<string, number>
}

function breakDown (profile: CpuProfile, responses: number): Breakdown {
  const selfMicros = new Map<number, number>()
  profile.samples.forEach((node, i) => { selfMicros.set(node, (selfMicros.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0)) })
  const owners = new Map<string, number>()
  const pluginFunctions = new Map<string, number>()
  const add = (map: Map<string, number>, key: string, micros: number): void => { map.set(key, (map.get(key) ?? 0) + micros / responses) }
  for (const { id, callFrame } of profile.nodes) {
    const micros = selfMicros.get(id) ?? 0
    const owner = ownerOf(callFrame.url, callFrame.functionName)
    if (micros === 0 || owner === null) continue
    add(owners, owner, micros)
    if (owner === 'the plugin (dist/)') {
      const where = `${callFrame.url.replace(/^.*\/dist\//, '')}:${callFrame.lineNumber + 1}`
      add(pluginFunctions, `${callFrame.functionName === '' ? '(anonymous)' : callFrame.functionName} ${where}`, micros)
    }
  }
  return { responses, owners, pluginFunctions }
}

async function profileContender (scenario: Scenario, contender: Scenario['plugin'], tls: TlsServerFiles): Promise<Breakdown> {
  const { load } = scenario
  const server = await ServerProcess.start({ contender, tls: load.clientCertificate === undefined ? undefined : tls })
  try {
    await checkAnswer(server, load)
    await runUntimed(server, load, { seconds: 2 })
    let responses = 0
    const profile = await server.profile(async () => { responses = await runUntimed(server, load, { seconds }) })
    return breakDown(profile, responses)
  } finally {
    await server.stop()
  }
}

const micros = (value: number | undefined): string => value === undefined ? '' : value.toFixed(1)
const total = (map: Map<string, number>): number => [...map.values()].reduce((sum, value) => sum + value, 0)

function print (scenario: Scenario, plugin: Breakdown, reference: Breakdown): void {
  console.log(`\n${scenario.id} ${scenario.title}: self CPU µs per response (sampled, ${seconds} s each; ` +
    `${plugin.responses} and ${reference.responses} responses)\n`)
  const owners = [...new Set([...plugin.owners.keys(), ...reference.owners.keys()])]
    .sort((a, b) => Math.max(plugin.owners.get(b) ?? 0, reference.owners.get(b) ?? 0) - Math.max(plugin.owners.get(a) ?? 0, reference.owners.get(a) ?? 0))
  printTable(['owner', scenario.plugin, scenario.reference, 'difference'], [
    ...owners.map((owner) => {
      const mine = plugin.owners.get(owner) ?? 0
      const theirs = reference.owners.get(owner) ?? 0
      return [owner, micros(mine), micros(theirs), micros(mine - theirs)]
    }),
    ['total', micros(total(plugin.owners)), micros(total(reference.owners)), micros(total(plugin.owners) - total(reference.owners))]
  ])
  console.log(`\n${scenario.plugin}: the plugin's own functions, self CPU µs per response (top 12)\n`)
  printTable(['function', 'µs'], [...plugin.pluginFunctions].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([name, value]) => [name, micros(value)]))
}

async function main (): Promise<void> {
  pinCpus(availableParallelism())
  const pki = await createBenchPki()
  const tls: TlsServerFiles = { key: pki.server.keyPem, cert: pki.server.certPem, ca: pki.caPem }
  const all = scenarios(pki)
  const chosen = ids.length === 0
    ? all.filter((scenario) => scenario.id === '4')
    : ids.map((id) => {
      const found = all.find((scenario) => scenario.id === id)
      if (found === undefined) throw new Error(`no scenario ${id}; ids are ${all.map((scenario) => scenario.id).join(' ')}`)
      return found
    })
  for (const scenario of chosen) {
    // Three alternations: the table shows each owner's median.
    const runs: Array<[Breakdown, Breakdown]> = []
    for (let run = 0; run < 3; run++) {
      process.stderr.write(`  ${scenario.id}: profile ${run + 1}/3\n`)
      runs.push([await profileContender(scenario, scenario.plugin, tls), await profileContender(scenario, scenario.reference, tls)])
    }
    const medianOf = (pick: (pair: [Breakdown, Breakdown]) => Breakdown): Breakdown => {
      const keys = (field: 'owners' | 'pluginFunctions'): Set<string> => new Set(runs.flatMap((pair) => [...pick(pair)[field].keys()]))
      const medians = (field: 'owners' | 'pluginFunctions'): Map<string, number> =>
        new Map([...keys(field)].map((key) => [key, median(runs.map((pair) => pick(pair)[field].get(key) ?? 0))]))
      return { responses: median(runs.map((pair) => pick(pair).responses)), owners: medians('owners'), pluginFunctions: medians('pluginFunctions') }
    }
    print(scenario, medianOf((pair) => pair[0]), medianOf((pair) => pair[1]))
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
