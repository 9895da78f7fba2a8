// A small side-by-side harness. Machines are shared and noisy, so absolute numbers mean little:
// in every round each contender of a case gets the same time, in short slices taken in turn
// (A B A B ...), and what we quote is the median over rounds of the per-round ratio.

import { performance } from 'node:perf_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

// Each slice ends with a collection that it pays for itself. Otherwise a function that allocates
// little JavaScript memory (new X509Certificate: a small wrapper around OpenSSL's memory) leaves
// thousands of native certificates for a later collection to free, and the function that happens
// to trigger it pays for them: the comparison would be skewed by who allocates more, not by cost.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void

export interface Contender {
  name: string
  run: () => unknown
}

/** What the first contender (ours) must achieve against one of the others. */
export interface Target {
  /** Name of the contender compared with. */
  against: string
  /** Ours must do at least this many operations per operation of `against` (10 = ten times faster). */
  minRatio: number
  /** How the target reads in the table, e.g. `≥ 10x` or `≤ +15%`. */
  label: string
}

export interface BenchCase {
  name: string
  /** The first one is ours; the ratios are ours ÷ each of the others. */
  contenders: Contender[]
  target?: Target
}

export interface Settings {
  rounds: number
  /** Time each contender runs per round... */
  sliceMs: number
  /** ...in this many slices, alternating with the other contenders. */
  turns: number
  /** Untimed run of each contender before the first round, so that the JIT has settled. */
  warmupMs: number
  /** CPU time of the whole process (GC threads included), or wall-clock time. */
  clock: 'cpu' | 'wall'
}

export interface ContenderResult {
  name: string
  /** Median operations per second over the rounds. */
  opsPerSecond: number
}

export interface RatioResult {
  against: string
  /** Median over rounds of ours ÷ theirs, each round's two numbers measured side by side. */
  median: number
  min: number
  max: number
}

export interface CaseResult {
  name: string
  rounds: number
  contenders: ContenderResult[]
  ratios: RatioResult[]
  target?: Target & { met: boolean }
}

// Results land here so that the compiler cannot drop a call whose value is unused.
const sink: unknown[] = [undefined]

export function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** Calls per batch so that one batch takes about `batchMs`: reading the clock must not dominate. */
function batchSize (run: () => unknown, batchMs: number): number {
  let calls = 1
  for (;;) {
    const start = performance.now()
    for (let i = 0; i < calls; i++) sink[0] = run()
    const elapsed = performance.now() - start
    if (elapsed >= batchMs / 4 || calls >= 1 << 20) return Math.max(1, Math.round(calls * batchMs / Math.max(elapsed, 1e-3)))
    calls *= 4
  }
}

/** Milliseconds of CPU this process has used: time spent descheduled on a busy machine does not count. */
function cpuMs (): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

interface Tally { calls: number, ms: number }

/** Runs `run` for one slice, in CPU or wall-clock time, and adds the calls and the time to `tally`. */
function slice (run: () => unknown, batch: number, sliceMs: number, clock: () => number, tally: Tally): void {
  let calls = 0
  const start = clock()
  do {
    for (let i = 0; i < batch; i++) sink[0] = run()
    calls += batch
  } while (clock() - start < sliceMs)
  sink[0] = undefined
  gc({ type: 'minor' })
  tally.calls += calls
  tally.ms += clock() - start
}

export function runCase (benchCase: BenchCase, settings: Settings): CaseResult {
  const { contenders } = benchCase
  const clock = settings.clock === 'cpu' ? cpuMs : () => performance.now()
  gc({ type: 'minor' }) // the previous case's garbage is not this case's cost
  const batches = contenders.map((contender) => {
    slice(contender.run, 1, settings.warmupMs, clock, { calls: 0, ms: 0 })
    return batchSize(contender.run, 0.5)
  })
  const samples: number[][] = contenders.map(() => [])
  for (let round = 0; round < settings.rounds; round++) {
    const tallies = contenders.map((): Tally => ({ calls: 0, ms: 0 }))
    for (let turn = 0; turn < settings.turns; turn++) {
      // Rotate who goes first, so that no contender always runs right after the same other one.
      for (let k = 0; k < contenders.length; k++) {
        const index = (round + turn + k) % contenders.length
        slice(contenders[index].run, batches[index], settings.sliceMs / settings.turns, clock, tallies[index])
      }
    }
    tallies.forEach((tally, index) => samples[index].push(tally.calls / (tally.ms / 1000)))
  }

  const ours = samples[0]
  const ratios = contenders.slice(1).map((contender, i): RatioResult => {
    const perRound = ours.map((value, round) => value / samples[i + 1][round])
    return { against: contender.name, median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound) }
  })
  const result: CaseResult = {
    name: benchCase.name,
    rounds: settings.rounds,
    contenders: contenders.map((contender, i) => ({ name: contender.name, opsPerSecond: median(samples[i]) })),
    ratios
  }
  if (benchCase.target !== undefined) {
    const ratio = ratios.find((candidate) => candidate.against === benchCase.target?.against)
    if (ratio === undefined) throw new Error(`${benchCase.name}: no contender ${benchCase.target.against}`)
    result.target = { ...benchCase.target, met: ratio.median >= benchCase.target.minRatio }
  }
  return result
}

/** 1234567 → `1.23M`: three significant digits are all a noisy machine gives. */
export function formatOps (value: number): string {
  const units: Array<[number, string]> = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']]
  for (const [size, unit] of units) {
    if (value >= size) return (value / size).toPrecision(3) + unit
  }
  return value.toPrecision(3)
}

export function printTable (header: string[], rows: string[][]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)))
  const line = (cells: string[]): string =>
    cells.map((cell, column) => column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])).join('  ')
  console.log(line(header))
  console.log(widths.map((width) => '-'.repeat(width)).join('  '))
  for (const row of rows) console.log(line(row))
}
