// `npm run bench:http`: the plugin over real HTTP beside what an application would use instead,
// each contender a server process of its own, measured in alternation. Not a test: it reports.
//
//   --quick          a smoke run of about 2 minutes: 2 rounds of 1 s, fewer requests everywhere
//   --rounds N       rounds per scenario, at least 2 (default 8): half of them with the plugin's
//                    server in the first slot, half with the reference's there
//   --seconds S      length of a round (default 3)
//   --only IDS       comma-separated: scenario ids (0 1 2 3 4 5 6a 6b 6c 6d), 7 (session footprint),
//                    growth (users, DN size)
//   --unpinned       leave CPU placement to the scheduler (by default autocannon runs on CPU 0
//                    and every server on CPU 1, see pinCpus)

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { formatOps, median, printTable } from '../harness'
import type { TlsServerFiles } from './apps'
import { sessionFootprint, type FootprintSummary } from './footprint'
import { dnGrowth, loginUsersGrowth, type DnRow, type UsersRow } from './growth'
import { checkAnswer, CONNECTIONS, pinCpus, runRound, runUntimed, ServerProcess, type RoundSample } from './load'
import { createBenchPki } from './pki'
import { scenarios, type Scenario } from './scenarios'

interface Settings {
  rounds: number
  seconds: number
  warmupSeconds: number
  /** Load again after the heap reading: a forced full collection leaves the first requests after it slower. */
  settleSeconds: number
  /** Requests the plugin's server has served after its warm-up when its heap is read again... */
  heapRequests: number
  /** ...unless topping the rounds' requests up to that many would take longer than this. */
  heapTopUpSeconds: number
  growthRounds: number
  growthSeconds: number
  footprintLogins: number
  footprintPairs: number
  dnRounds: number
}

const FULL: Settings = {
  rounds: 8,
  seconds: 3,
  warmupSeconds: 2,
  settleSeconds: 1,
  heapRequests: 200_000,
  heapTopUpSeconds: 15,
  growthRounds: 4,
  growthSeconds: 2,
  footprintLogins: 5000,
  footprintPairs: 3,
  dnRounds: 7
}
const QUICK: Settings = {
  rounds: 2,
  seconds: 1,
  warmupSeconds: 0.5,
  settleSeconds: 0.25,
  heapRequests: 10_000,
  heapTopUpSeconds: 1,
  growthRounds: 2,
  growthSeconds: 1,
  footprintLogins: 1000,
  footprintPairs: 1,
  dnRounds: 3
}

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    only: { type: 'string' },
    unpinned: { type: 'boolean', default: false }
  }
})

function positive (text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!(value > 0)) throw new Error(`--${name} expects a positive number`)
  return value
}

const base = args.quick ? QUICK : FULL
const settings: Settings = {
  ...base,
  rounds: Math.max(2, Math.round(positive(args.rounds, 'rounds', base.rounds))),
  seconds: positive(args.seconds, 'seconds', base.seconds)
}
const only = args.only?.split(',').map((id) => id.trim())
const selected = (id: string): boolean => only === undefined || only.includes(id)

interface Spread { median: number, min: number, max: number }

interface ContenderSummary {
  name: string
  requestsPerSecond: number
  p99Ms: number
  cpuMicrosPerResponse: number
  rounds: RoundSample[]
}

interface ScenarioResult {
  id: string
  title: string
  referenceLabel: string
  plugin: ContenderSummary
  reference: ContenderSummary
  /** Plugin requests/s ÷ reference requests/s, per round. */
  ratio: Spread
  /**
   * Reference CPU per response ÷ the plugin's, per round: the same question asked of CPU time,
   * which time spent descheduled on a busy machine does not inflate. Reported, not the target.
   */
  cpuRatio: Spread
  minRatio?: number
  /** Null for the control, which has no target. */
  met: boolean | null
  /** The plugin's server: heap after its warm-up and after `requests` more, the session store emptied each time. */
  heap: { requests: number, afterWarmupBytes: number, afterBytes: number }
}

const spread = (values: number[]): Spread => ({ median: median(values), min: Math.min(...values), max: Math.max(...values) })

function summarise (name: string, rounds: RoundSample[]): ContenderSummary {
  return {
    name,
    requestsPerSecond: median(rounds.map((round) => round.requestsPerSecond)),
    p99Ms: median(rounds.map((round) => round.p99Ms)),
    cpuMicrosPerResponse: median(rounds.map((round) => round.cpuMicrosPerResponse)),
    rounds
  }
}

const progress = (text: string): void => { process.stderr.write(`  ${text}\n`) }

interface Half {
  pluginRounds: RoundSample[]
  referenceRounds: RoundSample[]
  heap: ScenarioResult['heap']
}

/**
 * One half of a scenario: both servers started, checked, warmed up and loaded in slot order, the
 * first slot first. The halves swap the slots, because two identical servers came out up to 1.26x
 * apart, the first slot the faster (see bench/README.md).
 */
async function runHalf (scenario: Scenario, tls: TlsServerFiles, pluginFirst: boolean, rounds: number): Promise<Half> {
  const { load } = scenario
  const serverTls = load.clientCertificate === undefined ? undefined : tls
  const names = pluginFirst ? [scenario.plugin, scenario.reference] : [scenario.reference, scenario.plugin]
  const slots: ServerProcess[] = []
  try {
    for (const contender of names) slots.push(await ServerProcess.start({ contender, tls: serverTls }))
    const [plugin, reference] = pluginFirst ? slots : [slots[1], slots[0]]
    for (const server of slots) await checkAnswer(server, load)
    for (const server of slots) await runUntimed(server, load, { seconds: settings.warmupSeconds })
    // Both read (each one a full collection), so that both start the rounds after the same.
    const heaps = new Map<ServerProcess, number>()
    for (const server of slots) heaps.set(server, await server.heapBytes())
    for (const server of slots) await runUntimed(server, load, { seconds: settings.settleSeconds })
    const samples = new Map<ServerProcess, RoundSample[]>(slots.map((server) => [server, []]))
    for (let round = 0; round < rounds; round++) {
      // Who goes first alternates, so that neither always runs right after the other.
      for (const server of round % 2 === 0 ? slots : [slots[1], slots[0]]) {
        samples.get(server)?.push(await runRound(server, load, settings.seconds))
      }
      progress(`${scenario.id}: ${pluginFirst ? 'plugin' : 'reference'} in the first slot, round ${round + 1}/${rounds}`)
    }
    const pluginRounds = samples.get(plugin) ?? []
    let requests = pluginRounds.reduce((sum, round) => sum + round.responses, 0)
    if (requests < settings.heapRequests) {
      const affordable = Math.ceil(median(pluginRounds.map((round) => round.requestsPerSecond)) * settings.heapTopUpSeconds)
      requests += await runUntimed(plugin, load, { amount: Math.min(settings.heapRequests - requests, affordable) })
    }
    const afterBytes = await plugin.heapBytes()
    return {
      pluginRounds,
      referenceRounds: samples.get(reference) ?? [],
      heap: { requests, afterWarmupBytes: heaps.get(plugin) ?? 0, afterBytes }
    }
  } finally {
    await Promise.all(slots.map(async (server) => { await server.stop() }))
  }
}

async function runScenario (scenario: Scenario, tls: TlsServerFiles): Promise<ScenarioResult> {
  // Half the rounds with the plugin in the first slot, half with the reference there.
  const first = await runHalf(scenario, tls, true, Math.ceil(settings.rounds / 2))
  const second = await runHalf(scenario, tls, false, Math.floor(settings.rounds / 2))
  const pluginRounds = [...first.pluginRounds, ...second.pluginRounds]
  const referenceRounds = [...first.referenceRounds, ...second.referenceRounds]
  const ratio = spread(pluginRounds.map((round, i) => round.requestsPerSecond / referenceRounds[i].requestsPerSecond))
  const cpuRatio = spread(pluginRounds.map((round, i) => referenceRounds[i].cpuMicrosPerResponse / round.cpuMicrosPerResponse))
  return {
    id: scenario.id,
    title: scenario.title,
    referenceLabel: scenario.referenceLabel,
    plugin: summarise(scenario.plugin, pluginRounds),
    reference: summarise(scenario.reference, referenceRounds),
    ratio,
    cpuRatio,
    minRatio: scenario.minRatio,
    met: scenario.minRatio === undefined ? null : ratio.median >= scenario.minRatio,
    // The second half's plugin server: the last one to have served the scenario.
    heap: second.heap
  }
}

const times = (value: number): string => value.toFixed(2) + 'x'
const spreadText = (value: Spread): string => `${times(value.median)} [${times(value.min)}–${times(value.max)}]`
// autocannon's latencies are whole milliseconds; a median of an even count of rounds may end in .5.
const ms = (value: number): string => value.toFixed(Number.isInteger(value) ? 0 : 1) + ' ms'
const micros = (value: number): string => value.toFixed(1)
const megabytes = (bytes: number): string => (bytes / 2 ** 20).toFixed(1) + ' MB'
const metText = (met: boolean | null): string => met === null ? '' : met ? 'met' : 'MISSED'

function printScenarios (results: ScenarioResult[]): void {
  console.log(`\nHTTP: median of ${settings.rounds} rounds of ${settings.seconds} s per contender, ${CONNECTIONS} keep-alive ` +
    'connections, order alternating, slots swapped halfway; ratio = plugin req/s ÷ reference req/s per round, median [min–max]; ' +
    'CPU = server process CPU µs per response; CPU ratio = reference CPU ÷ plugin CPU per round')
  for (const result of results) console.log(`  ${result.id.padEnd(3)} ${result.title}; reference: ${result.referenceLabel}`)
  console.log()
  printTable(
    ['scenario', 'plugin req/s', 'ref req/s', 'ratio [min–max]', 'plugin p99', 'ref p99', 'plugin CPU', 'ref CPU', 'CPU ratio [min–max]', 'target', ''],
    results.map((result) => [
      `${result.id} ${result.title}`,
      formatOps(result.plugin.requestsPerSecond),
      formatOps(result.reference.requestsPerSecond),
      spreadText(result.ratio),
      ms(result.plugin.p99Ms),
      ms(result.reference.p99Ms),
      micros(result.plugin.cpuMicrosPerResponse),
      micros(result.reference.cpuMicrosPerResponse),
      spreadText(result.cpuRatio),
      result.minRatio === undefined ? '' : `≥ ${result.minRatio}x`,
      metText(result.met)
    ])
  )
}

function printFootprint (footprint: FootprintSummary): void {
  const perSession = (results: FootprintSummary['plugin']): string =>
    (median(results.map((result) => result.bytesPerSession)) / 1024).toFixed(2) + ' KiB'
  console.log(`\n7 session footprint: heap after GC per stored session, ${footprint.logins} logins into a MemoryStore, ` +
    `${footprint.plugin.length} fresh process(es) each; ratio = plugin ÷ hand-written login per pair\n`)
  printTable(
    ['scenario', 'plugin', 'hand-written', 'ratio [min–max]', 'target', ''],
    [['7 bytes per session', perSession(footprint.plugin), perSession(footprint.reference), spreadText(footprint.ratio),
      `≤ ${footprint.maxRatio}x`, metText(footprint.met)]]
  )
  const residual = (results: FootprintSummary['plugin']): string => (median(results.map((result) => result.residualBytes)) / 1024).toFixed(0) + ' KiB'
  console.log(`  heap not freed by emptying the store (code, caches; not per session): plugin ${residual(footprint.plugin)}, ` +
    `hand-written ${residual(footprint.reference)}`)
}

function printUsers (rows: UsersRow[]): void {
  console.log(`\nGrowth: logins cycling through N users (median of ${settings.growthRounds} rounds of ${settings.growthSeconds} s, ` +
    'all runs in rotation; flat expected, read against the hand-written login)\n')
  printTable(
    ['contender', 'users', 'req/s', 'p99', 'CPU µs/resp', 'vs 1 user [min–max]'],
    rows.map((row) => [row.contender, String(row.users), formatOps(row.requestsPerSecond), ms(row.p99Ms),
      micros(row.cpuMicrosPerResponse), spreadText(row.ratio)])
  )
}

function printDn (rows: DnRow[]): void {
  console.log('\nGrowth: parseDN time against DN size (CPU time; linear: the cost of an added unit stays the same)\n')
  printTable(
    ['DN', 'ns/parse', 'ns per added unit'],
    rows.map((row) => [
      row.shape === 'RDNs' ? `${row.size} RDNs` : `CN of ${row.size} chars`,
      row.nsPerParse.toFixed(0),
      row.nsPerAddedUnit === null ? '' : `${row.nsPerAddedUnit.toFixed(1)} per ${row.shape === 'RDNs' ? 'RDN' : 'char'}`
    ])
  )
}

function printHeap (results: ScenarioResult[]): void {
  console.log(`\nGrowth: heap of the plugin's server after its warm-up and after ${settings.heapRequests} more requests ` +
    `(fewer where topping up would take over ${settings.heapTopUpSeconds} s); session store emptied, garbage collected; no growth expected\n`)
  printTable(
    ['scenario', 'requests', 'after warm-up', 'after', 'growth'],
    results.map(({ id, title, heap }) => [`${id} ${title}`, String(heap.requests), megabytes(heap.afterWarmupBytes),
      megabytes(heap.afterBytes), ((heap.afterBytes - heap.afterWarmupBytes) / 1024).toFixed(0) + ' KiB'])
  )
}

function machine (): Record<string, string | number> {
  let cpuModel = cpus()[0]?.model ?? 'unknown'
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel
  } catch {
    // Not Linux: os.cpus() said what it could.
  }
  return { cpus: availableParallelism(), cpuModel, node: process.version, platform: `${process.platform} ${process.arch}` }
}

async function main (): Promise<void> {
  const started = Date.now()
  const host = machine()
  const loadAtStart = loadavg()[0]
  const serverCpu = args.unpinned ? undefined : pinCpus(availableParallelism())
  console.log(`node ${host.node}, ${host.cpus} CPUs (${host.cpuModel}), load average ${loadAtStart.toFixed(2)}` +
    (serverCpu === undefined ? ', not pinned' : `, autocannon on CPU 0, servers on CPU ${serverCpu}`) + (args.quick ? ', --quick' : ''))

  const pki = await createBenchPki()
  const tls: TlsServerFiles = { key: pki.server.keyPem, cert: pki.server.certPem, ca: pki.caPem }
  const all = scenarios(pki)
  const unknown = only?.filter((id) => id !== '7' && id !== 'growth' && !all.some((scenario) => scenario.id === id)) ?? []
  if (unknown.length > 0) throw new Error(`--only: no ${unknown.join(', ')}; ids are ${all.map((scenario) => scenario.id).join(' ')} 7 growth`)
  const results: ScenarioResult[] = []
  for (const scenario of all.filter((candidate) => selected(candidate.id))) {
    progress(`${scenario.id}: ${scenario.plugin} vs ${scenario.reference}`)
    results.push(await runScenario(scenario, tls))
  }
  let footprint: FootprintSummary | undefined
  if (selected('7')) {
    progress('7: session footprint')
    footprint = await sessionFootprint(settings.footprintLogins, settings.footprintPairs)
  }
  let users: UsersRow[] | undefined
  let dn: DnRow[] | undefined
  if (selected('growth')) {
    progress('growth: login users')
    users = await loginUsersGrowth(['plugin-login', 'hook-login'], [1, 100, 10_000], settings.growthRounds, settings.growthSeconds)
    progress('growth: DN size')
    dn = dnGrowth(settings.dnRounds)
  }

  if (results.length > 0) printScenarios(results)
  if (footprint !== undefined) printFootprint(footprint)
  if (users !== undefined) printUsers(users)
  if (dn !== undefined) printDn(dn)
  if (results.length > 0) printHeap(results)

  const missed = [...results.filter((result) => result.met === false).map((result) => result.id), ...(footprint?.met === false ? ['7'] : [])]
  console.log(missed.length === 0 ? '\nEvery target met.' : `\nTargets missed: ${missed.join(', ')}.`)
  const seconds = Math.round((Date.now() - started) / 1000)
  const loadAtEnd = loadavg()[0]
  console.log(`${seconds} s, load average ${loadAtEnd.toFixed(2)}`)

  const file = join(__dirname, '..', 'results', 'http-latest.json')
  mkdirSync(join(file, '..'), { recursive: true })
  writeFileSync(file, JSON.stringify({
    date: new Date().toISOString(),
    machine: host,
    loadAverage: { start: loadAtStart, end: loadAtEnd },
    settings: { ...settings, quick: args.quick, connections: CONNECTIONS, serverCpu, only },
    seconds,
    scenarios: results,
    footprint,
    growth: { users, dn }
  }, null, 2) + '\n')
  console.log(`results: ${file}`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
