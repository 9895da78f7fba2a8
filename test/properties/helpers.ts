// Shared pieces of the property tests: running a fast-check property under tap, the error classes
// a parser may throw, text that reaches deep into the parsers, and a growth check for linear time.

import fc from 'fast-check'
import type { Test } from 'tap'

/** FC_SEED replays a run; each test prints the seed it used when a property fails. */
const SEED = process.env.FC_SEED === undefined || process.env.FC_SEED === '' ? undefined : Number(process.env.FC_SEED)

/**
 * Runs the property and asserts it held; a failure names the seed, the counterexample and the
 * error. `todo` marks a property a known, reported bug breaks: shown, not failing.
 */
export function holds<Ts> (t: Test, name: string, property: fc.IProperty<Ts>, numRuns = 300, todo?: string): void {
  const details = fc.check(property, { numRuns, ...(SEED === undefined ? {} : { seed: SEED }) })
  const report = details.failed ? { diagnostic: true, report: `FC_SEED=${details.seed}\n${fc.defaultReportMessage(details) ?? ''}` } : {}
  t.ok(!details.failed, name, { ...report, ...(todo === undefined ? {} : { todo }) })
}

/**
 * Calls `parse` and returns whether it threw an error of an expected class; any other exception
 * (TypeError, RangeError…) is thrown on, so the property fails with it.
 */
export function throwsOnly (parse: () => unknown, expected: (error: unknown) => boolean): boolean {
  try {
    parse()
    return false
  } catch (error) {
    if (expected(error)) return true
    throw error
  }
}

export const hasCode = (code: string) => (error: unknown): boolean => (error as { code?: unknown } | null)?.code === code

/**
 * Characters that mean something to one parser or another: separators, escapes, quotes, hex
 * digits, PEM and base64, percent escapes, controls, non-ASCII, a lone surrogate.
 */
const SPECIAL = [
  '=', ',', '+', '\\', '#', '"', ' ', '/', ';', '<', '>', ':', '%', '-', '\n', '\r', '\t', '\0', '\x7f', '\u0085',
  'a', 'A', 'z', '0', '9', 'c', 'C', 'f', 'F', '2', 'é', '€', '😀', '\ufeff', '\ud800', 'CN', 'cn', 'O', '-----', 'BEGIN',
  'END', 'CERTIFICATE', '%2C', '%0A', '%', '%zz', '\\2C', '\\C3\\BC', '\\"', 'Subject="', 'Issuer="', 'Cert="', 'By=', '";'
]

/** Text of any code units, and text made of the characters parsers care about. */
export function text (maxLength = 200): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: fc.constantFrom(...SPECIAL), maxLength: Math.ceil(maxLength / 2) }),
    fc.string({ unit: 'grapheme-ascii', maxLength })
  )
}

/** CPU milliseconds of this process: on a loaded machine, wall time counts the waits for a core too. */
function now (): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** How many calls take 5 ms or more. */
function callsFor (call: () => void): number {
  for (let calls = 1; ; calls *= 2) {
    const start = now()
    for (let i = 0; i < calls; i++) call()
    if (now() - start >= 5 || calls >= 1 << 16) return calls
  }
}

/** Milliseconds per call of `calls` calls. */
function round (call: () => void, calls: number): number {
  const start = now()
  for (let i = 0; i < calls; i++) call()
  return (now() - start) / calls
}

/**
 * The time of the large input over the time of the small: rounds of the two interleaved, so that
 * load on the machine falls on both alike, and the median of 9 rounds' ratios.
 */
function ratio (small: () => void, large: () => void): number {
  const smallCalls = callsFor(small)
  const largeCalls = callsFor(large)
  const ratios: number[] = []
  for (let i = 0; i < 9; i++) ratios.push(round(large, largeCalls) / round(small, smallCalls))
  return median(ratios)
}

/**
 * Input ten times as long, time under twenty times as long (linear with room for a shared
 * machine; quadratic would be a hundred). Measured up to three times, the best kept: load on the
 * machine only ever makes a ratio worse. Keep the large input to tens of kilobytes, the size of
 * headers: past that the ratio measures the CPU's caches and the garbage collector more than the code.
 */
export function linear (t: Test, name: string, make: (size: number) => string | Buffer, call: (input: string | Buffer) => unknown, size: number): void {
  // Flat strings, as a header arrives: a rope built by `+` or `repeat` costs V8 more to walk.
  const flat = (input: string | Buffer): string | Buffer => typeof input === 'string' ? Buffer.from(input, 'utf8').toString('utf8') : input
  const small = flat(make(size))
  const large = flat(make(size * 10))
  const quietly = (input: string | Buffer) => (): void => {
    try { call(input) } catch {}
  }
  let best = Infinity
  for (let attempt = 0; attempt < 3 && best >= 20; attempt++) best = Math.min(best, ratio(quietly(small), quietly(large)))
  t.ok(best < 20, `${name}: input x10 (${small.length} to ${large.length}), time x${best.toFixed(1)}`)
}
