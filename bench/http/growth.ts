// How cost grows with what varies in production: the number of distinct users logging in (flat
// expected) and the size of a DN (linear expected). No targets: the tables show the shape.

import { parseDN } from '../../dist/index'
import { median, runCase } from '../harness'
import { ALICE_DN, userDn, type ContenderName } from './apps'
import { runRound, runUntimed, ServerProcess, type Load, type RoundSample } from './load'
import { LOGIN_HEADERS, loginLoad } from './scenarios'

export interface UsersRow {
  contender: ContenderName
  users: number
  requestsPerSecond: number
  p99Ms: number
  cpuMicrosPerResponse: number
  /** Requests/s ÷ the same contender's with one user, per round. */
  ratio: { median: number, min: number, max: number }
}

/** Logins cycling through `count` users; one user goes through the same rewriting, so the client costs the same. */
function cyclingLogins (count: number): Load {
  const dns = count === 1 ? [ALICE_DN] : Array.from({ length: count }, (_, i) => userDn(i + 1))
  let next = 0
  return {
    ...loginLoad,
    setupRequest: (request) => ({ ...request, headers: { ...LOGIN_HEADERS, 'x-client-cert-dn': dns[next++ % dns.length] } })
  }
}

/**
 * Each contender's logins with each number of users, all runs of a round in rotation. The
 * hand-written login shows what more users cost an application anyway (a bigger map, more
 * distinct strings), so that the plugin's rows read against it.
 */
export async function loginUsersGrowth (names: ContenderName[], counts: number[], rounds: number, seconds: number): Promise<UsersRow[]> {
  const servers = await Promise.all(names.map(async (contender) => await ServerProcess.start({ contender })))
  try {
    const runs = servers.flatMap((server) => counts.map((users) => ({ server, users, load: cyclingLogins(users), samples: [] as RoundSample[] })))
    for (const run of runs) await runUntimed(run.server, run.load, { seconds })
    for (let round = 0; round < rounds; round++) {
      // Rotate who goes first, as in the scenarios.
      for (let k = 0; k < runs.length; k++) {
        const run = runs[(round + k) % runs.length]
        run.samples.push(await runRound(run.server, run.load, seconds))
      }
    }
    return runs.map(({ server, users, samples }) => {
      const oneUser = runs.find((run) => run.server === server && run.users === counts[0])?.samples ?? samples
      const ratios = samples.map((sample, round) => sample.requestsPerSecond / oneUser[round].requestsPerSecond)
      return {
        contender: server.name,
        users,
        requestsPerSecond: median(samples.map((sample) => sample.requestsPerSecond)),
        p99Ms: median(samples.map((sample) => sample.p99Ms)),
        cpuMicrosPerResponse: median(samples.map((sample) => sample.cpuMicrosPerResponse)),
        ratio: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) }
      }
    })
  } finally {
    await Promise.all(servers.map(async (server) => { await server.stop() }))
  }
}

export interface DnRow {
  shape: 'RDNs' | 'value length'
  size: number
  nsPerParse: number
  /**
   * Time each added unit (RDN, or character of the DN) costs against the previous size: the same
   * down the column when the parse is linear. Null on a shape's first row.
   */
  nsPerAddedUnit: number | null
}

/** `CN=alice` and then `count - 1` OUs. */
const dnWithRdns = (count: number): string =>
  ['CN=alice', ...Array.from({ length: count - 1 }, (_, i) => `OU=Team ${i + 1}`)].join(',')
/** A CN of `length` characters in an otherwise ordinary DN. */
const dnWithValue = (length: number): string => `CN=${'a'.repeat(length)},O=Example,C=AU`

export function dnGrowth (rounds: number): DnRow[] {
  const shapes: Array<{ shape: DnRow['shape'], sizes: number[], text: (size: number) => string, units: (text: string, size: number) => number }> = [
    { shape: 'RDNs', sizes: [1, 4, 16, 64, 256], text: dnWithRdns, units: (_text, size) => size },
    { shape: 'value length', sizes: [16, 256, 4096, 16384], text: dnWithValue, units: (text) => text.length }
  ]
  return shapes.flatMap(({ shape, sizes, text: makeText, units }) => {
    let previous: { ns: number, units: number } | null = null
    return sizes.map((size): DnRow => {
      const text = makeText(size)
      if (parseDN(text).length !== (shape === 'RDNs' ? size : 3)) throw new Error(`parseDN misread ${text.slice(0, 40)}`)
      const result = runCase({ name: `${shape} ${size}`, contenders: [{ name: 'parseDN', run: () => parseDN(text) }] },
        { rounds, sliceMs: 50, turns: 1, warmupMs: 50, clock: 'cpu' })
      const ns = 1e9 / result.contenders[0].opsPerSecond
      const count = units(text, size)
      const nsPerAddedUnit = previous === null ? null : (ns - previous.ns) / (count - previous.units)
      previous = { ns, units: count }
      return { shape, size, nsPerParse: ns, nsPerAddedUnit }
    })
  })
}
