// Differential: what each real proxy writes of a certificate (RFC 2253 DN, slash-form DN, PEM,
// base64 DER), and Node's own TLS, against the certificate's DER read by an oracle of our own.
//
// Seeded certificate subjects (generator.ts), signed by the run's intermediate CA, go through real
// nginx (RFC 2253 DN with the certificate; slash form with it; slash form alone), HAProxy, Apache,
// Caddy and `source: 'tls'`. For each one the app's certUser must be the single CN the oracle reads
// from the DER (oracle.ts), or no identity with a logged reason of a documented class (reasons.ts,
// README.md). A wrong username fails the test; refusals are counted and printed per reason. The
// slash form alone must log no one in at all.
//
// `npm test` runs a fixed-seed slice of 60 certificates; `npm run test:differential` runs 2,000
// with a new seed. SEED=… replays a run, DIFFERENTIAL_CASE=n only its certificate n.

import { randomInt } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type tlsCertAuth from '../../index'
import * as der from '../helpers/der'
import type { Pki } from '../helpers/pki'
import { isolatedPki } from './pki-copy'
import { tlsRequest } from '../helpers/tls-client'
import { skipUnlessInstalled, startProxy, type ProxyName, type RunningProxy } from '../e2e/lib'
import { startApp, type LogLine, type RunningApp, type Whoami } from '../e2e/lib/app'
import { SubjectGenerator } from './generator'
import { ascii, describeSubject, expectedUsername, readSubject, type Expected, type OracleAttribute } from './oracle'
import { Random, seedFrom } from './random'
import { classify, REASON_CLASSES } from './reasons'

const DEFAULT_COUNT = 60
const DEFAULT_SEED = 20250611
const FULL = process.env.DIFFERENTIAL_COUNT !== undefined && process.env.DIFFERENTIAL_COUNT !== ''
const COUNT = FULL ? Number(process.env.DIFFERENTIAL_COUNT) : DEFAULT_COUNT
const SEED = seedFrom(process.env.SEED, () => FULL ? randomInt(2 ** 32 - 1) : DEFAULT_SEED)
const ONLY = process.env.DIFFERENTIAL_CASE === undefined || process.env.DIFFERENTIAL_CASE === '' ? null : Number(process.env.DIFFERENTIAL_CASE)
/** Requests in flight per path; every path runs at once. */
const CONCURRENCY = Number(process.env.DIFFERENTIAL_CONCURRENCY ?? 4)
const TRUSTED = '127.0.0.1'

if (!Number.isInteger(COUNT) || COUNT < 1) throw new Error(`DIFFERENTIAL_COUNT must be a positive integer, not ${String(process.env.DIFFERENTIAL_COUNT)}`)

interface PathSpec {
  name: string
  /** The proxy in front of the app; null for Node's own TLS. */
  daemon: ProxyName | null
  proxyOptions?: { legacyDn?: boolean, forwardCert?: boolean }
  plugin: tlsCertAuth.TlsCertAuthOptions
  /** Where no certificate may log in: each one is refused, the ones that reach the plugin mostly for this reason class. */
  refusesAll?: string
}

const PATHS: PathSpec[] = [
  { name: 'nginx', daemon: 'nginx', plugin: { preset: 'nginx', headers: { cert: 'x-client-cert' }, trustedProxies: TRUSTED } },
  { name: 'nginx-legacy', daemon: 'nginx', proxyOptions: { legacyDn: true }, plugin: { preset: 'nginx-legacy', headers: { cert: 'x-client-cert' }, trustedProxies: TRUSTED } },
  // The slash form alone, met by the `auto` format of the nginx preset: nothing can check it.
  {
    name: 'nginx-slash-alone',
    daemon: 'nginx',
    proxyOptions: { legacyDn: true, forwardCert: false },
    plugin: { preset: 'nginx', trustedProxies: TRUSTED },
    refusesAll: 'slash form: no certificate'
  },
  { name: 'haproxy', daemon: 'haproxy', plugin: { preset: 'haproxy', headers: { cert: 'x-ssl-client-cert' }, trustedProxies: TRUSTED } },
  { name: 'apache', daemon: 'apache', plugin: { preset: 'apache', headers: { cert: 'x-client-cert' }, trustedProxies: TRUSTED } },
  { name: 'caddy', daemon: 'caddy', plugin: { preset: 'caddy', trustedProxies: TRUSTED } },
  { name: 'tls', daemon: null, plugin: { source: 'tls' } }
]

interface Case {
  index: number
  certPem: string
  der: Buffer
  features: string[]
  expected: Expected
  /** What in the subject is known to trip a path up, for the report's breakdown of refusals. */
  suspects: string[]
}

/** What one path made of one certificate. */
type Outcome =
  | { kind: 'proxy', detail: string }
  | { kind: 'username', username: string }
  | { kind: 'refused', reason: string }
  | { kind: 'silent' }

type Verdict =
  | { kind: 'right' }
  | { kind: 'proxy', detail: string }
  | { kind: 'refused', klass: string, clean: boolean }
  | { kind: 'undocumented', reason: string }
  | { kind: 'silent' }
  | { kind: 'wrong', username: string }

function sameUsername (actual: string, expected: Expected): boolean {
  if (expected.kind === 'username') return expected.hex ? actual.toUpperCase() === expected.username.toUpperCase() : actual === expected.username
  // A subject OpenSSL would refuse that a proxy let through: only its own single, clean CN is right.
  return expected.why === 'undecodable subject' && expected.username !== null && actual === expected.username
}

function judge (item: Case, outcome: Outcome): Verdict {
  if (outcome.kind === 'proxy') return { kind: 'proxy', detail: outcome.detail }
  if (outcome.kind === 'silent') return { kind: 'silent' }
  if (outcome.kind === 'refused') {
    const klass = classify(outcome.reason)
    if (klass === null) return { kind: 'undocumented', reason: outcome.reason }
    return { kind: 'refused', klass, clean: item.expected.kind === 'username' }
  }
  if (sameUsername(outcome.username, item.expected)) return { kind: 'right' }
  return { kind: 'wrong', username: outcome.username }
}

function makeCases (pki: Pki): { cases: Case[], tableTypes: number } {
  const random = new Random(SEED)
  const generator = new SubjectGenerator(random)
  const issuer = der.issuerFromPem(pki.intermediateCa.certPem, pki.intermediateCa.keyPem)
  const cases: Case[] = []
  for (let index = 0; index < COUNT; index++) {
    const subject = generator.next()
    if (ONLY !== null && ONLY !== index) continue
    const certificate = der.certificate({ subject: subject.name, issuer, publicKey: CLIENT.publicKey })
    const read = readSubject(certificate)
    cases.push({ index, certPem: der.pem(certificate), der: certificate, features: subject.features, expected: expectedUsername(read), suspects: suspects(read) })
  }
  return { cases, tableTypes: generator.tableTypesUsed }
}

const CLIENT = der.clientKey()

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
/** uniqueIdentifier (`uid`), rfc822Mailbox (`mail`) and Mail: OpenSSL's names for them differ from others' only by case. */
const AMBIGUOUS = new Set(['0.9.2342.19200300.100.1.44', '0.9.2342.19200300.100.1.3', '1.3.6.1.7'])

function suspects (subject: OracleAttribute[][]): string[] {
  const attributes = subject.flat()
  const found: string[] = []
  // In order of blame: the first one found is the one the report names.
  if (attributes.some(({ oid }) => oid !== null && oid.length > 79)) found.push('an OID longer than 79 characters')
  if (attributes.some(({ oid }) => oid !== null && oid.split('.').some((arc) => BigInt(arc) > MAX_SAFE))) found.push('an OID arc past 2^53')
  if (attributes.some(({ ber }) => ber)) found.push('BER')
  if (attributes.some(({ oid }) => oid !== null && AMBIGUOUS.has(oid))) found.push('an ambiguous type')
  if (subject[subject.length - 1]?.some(({ oid, text }) => oid === '2.5.4.3' && / $/.test(text ?? ''))) found.push('a CN ending the DN ends in a space')
  return found
}

/** Runs `work` over the items with at most `limit` at a time. */
async function pool<T> (items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

interface Running {
  spec: PathSpec
  url: string
  ca: string
  app: RunningApp
  proxy: RunningProxy | null
}

async function start (spec: PathSpec, pki: Pki): Promise<Running> {
  if (spec.daemon === null) {
    const app = await startApp({
      plugin: spec.plugin,
      https: { key: pki.server.keyPem, cert: pki.server.chainPem, ca: pki.caBundlePem, requestCert: true, rejectUnauthorized: false }
    })
    return { spec, url: app.url, ca: pki.rootCa.certPem, app, proxy: null }
  }
  const app = await startApp({ plugin: spec.plugin })
  try {
    const proxy = await startProxy[spec.daemon]({ pki, upstream: app.url, ...spec.proxyOptions })
    return { spec, url: proxy.url, ca: pki.rootCa.certPem, app, proxy }
  } catch (error) {
    await app.close()
    throw error
  }
}

/** What the app logged about each request, by its URL: refusals, and TLS or proxy verification failures. */
function logsByUrl (logs: LogLine[]): Map<string, LogLine[]> {
  const urls = new Map<unknown, string>()
  const byUrl = new Map<string, LogLine[]>()
  for (const line of logs) {
    const reqId = line.reqId
    if (line.msg === 'incoming request') {
      const url = (line.req as { url?: string } | undefined)?.url
      if (url !== undefined) urls.set(reqId, url)
      continue
    }
    const url = urls.get(reqId)
    if (url === undefined) continue
    byUrl.set(url, [...(byUrl.get(url) ?? []), line])
  }
  return byUrl
}

async function ask (running: Running, item: Case): Promise<{ status: number, body: string } | { error: string }> {
  const url = `${running.url}/whoami?c=${item.index}`
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await tlsRequest(url, { ca: running.ca, identity: { certPem: item.certPem, keyPem: CLIENT.keyPem }, timeoutMs: 20000 })
      return { status: response.status, body: response.body }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String((error as Error).message)
      // A refused handshake is an answer; a connection that never came up is worth one more try.
      if (attempt < 2 && /ECONNREFUSED|timed out/.test(code)) continue
      return { error: code }
    }
  }
}

async function runPath (running: Running, cases: Case[]): Promise<Map<number, Outcome>> {
  const raw = new Map<number, { status: number, body: string } | { error: string }>()
  await pool(cases, CONCURRENCY, async (item) => { raw.set(item.index, await ask(running, item)) })
  const logs = logsByUrl(running.app.logs)
  const outcomes = new Map<number, Outcome>()
  for (const item of cases) {
    const answer = raw.get(item.index)
    if (answer === undefined) throw new Error('a request was lost')
    if ('error' in answer) {
      // ERR_OSSL_*: Node's own OpenSSL would not load the certificate to present it; OpenSSL on the
      // other side would not read it either.
      const detail = answer.error.startsWith('ERR_OSSL_') ? `OpenSSL cannot load it: ${answer.error}` : `TLS: ${answer.error}`
      outcomes.set(item.index, { kind: 'proxy', detail })
      continue
    }
    if (answer.status !== 200 || !answer.body.startsWith('{')) {
      outcomes.set(item.index, { kind: 'proxy', detail: `HTTP ${answer.status}` })
      continue
    }
    const { certUser } = JSON.parse(answer.body) as Whoami
    if (certUser !== null) {
      outcomes.set(item.index, { kind: 'username', username: certUser.username })
      continue
    }
    const lines = logs.get(`/whoami?c=${item.index}`) ?? []
    const refusal = lines.find((line) => line.msg === 'client certificate refused')
    const unverified = lines.find((line) => /not verified by (TLS|the proxy)/.test(line.msg))
    if (refusal !== undefined) outcomes.set(item.index, { kind: 'refused', reason: String(refusal.reason) })
    else if (unverified !== undefined) outcomes.set(item.index, { kind: 'proxy', detail: `${unverified.msg}: ${String(unverified.reason ?? unverified.verify)}`.slice(0, 120) })
    else outcomes.set(item.index, { kind: 'silent' })
  }
  return outcomes
}

interface Tally {
  tried: number
  right: number
  proxy: Map<string, number>
  proxyExamples: Map<string, Case[]>
  refused: Map<string, { expected: number, clean: number }>
  undocumented: Array<{ item: Case, reason: string }>
  silent: Case[]
  wrong: Array<{ item: Case, username: string }>
  cleanExamples: Map<string, Array<{ item: Case, reason: string }>>
  /** Clean-CN refusals by class, then by what the subject holds that is known to cause them. */
  cleanCauses: Map<string, Map<string, number>>
}

function tally (cases: Case[], outcomes: Map<number, Outcome>): Tally {
  const result: Tally = { tried: 0, right: 0, proxy: new Map(), proxyExamples: new Map(), refused: new Map(), undocumented: [], silent: [], wrong: [], cleanExamples: new Map(), cleanCauses: new Map() }
  for (const item of cases) {
    const outcome = outcomes.get(item.index) as Outcome
    const verdict = judge(item, outcome)
    result.tried++
    if (verdict.kind === 'right') {
      result.right++
    } else if (verdict.kind === 'proxy') {
      const detail = verdict.detail
      result.proxy.set(detail, (result.proxy.get(detail) ?? 0) + 1)
      if (detail.startsWith('HTTP')) {
        const examples = result.proxyExamples.get(detail) ?? []
        if (examples.length < 3) examples.push(item)
        result.proxyExamples.set(detail, examples)
      }
    } else if (verdict.kind === 'refused') {
      const counts = result.refused.get(verdict.klass) ?? { expected: 0, clean: 0 }
      if (verdict.clean) {
        counts.clean++
        const causes = result.cleanCauses.get(verdict.klass) ?? new Map<string, number>()
        const cause = item.suspects[0] ?? 'nothing known'
        causes.set(cause, (causes.get(cause) ?? 0) + 1)
        result.cleanCauses.set(verdict.klass, causes)
        const examples = result.cleanExamples.get(verdict.klass) ?? []
        if (examples.length < 3) examples.push({ item, reason: (outcome as { reason: string }).reason })
        result.cleanExamples.set(verdict.klass, examples)
      } else {
        counts.expected++
      }
      result.refused.set(verdict.klass, counts)
    } else if (verdict.kind === 'undocumented') {
      result.undocumented.push({ item, reason: verdict.reason })
    } else if (verdict.kind === 'silent') {
      result.silent.push(item)
    } else {
      result.wrong.push({ item, username: verdict.username })
    }
  }
  return result
}

const sum = (counts: Iterable<number>): number => [...counts].reduce((a, b) => a + b, 0)

function report (tallies: Map<string, Tally>, cases: Case[], tableTypes: number, seconds: number): string {
  const lines: string[] = []
  const replay = `SEED=${SEED}${FULL ? ` DIFFERENTIAL_COUNT=${COUNT} npm run test:differential` : ' npx tap test/differential/differential.test.ts'}`
  lines.push(`differential: seed ${SEED}, ${cases.length} certificates, ${tableTypes} of ${SubjectGenerator.tableSize} table types, ${seconds.toFixed(1)} s (replay: ${replay})`)
  const expectations = new Map<string, number>()
  for (const item of cases) {
    const key = item.expected.kind === 'username' ? 'one clean CN' : item.expected.why
    expectations.set(key, (expectations.get(key) ?? 0) + 1)
  }
  lines.push(`oracle: ${[...expectations].map(([key, count]) => `${key} ${count}`).join(', ')}`)
  const header = ['path', 'tried', 'right username', 'refused by proxy', 'refused by plugin', 'of them clean CN', 'wrong usernames']
  const rows = [...tallies].map(([path, tally]) => [
    path, tally.tried, tally.right, sum(tally.proxy.values()),
    sum([...tally.refused.values()].map((count) => count.expected + count.clean)) + tally.undocumented.length + tally.silent.length,
    sum([...tally.refused.values()].map((count) => count.clean)),
    tally.wrong.length
  ].map(String))
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)))
  for (const row of [header, ...rows]) lines.push(row.map((cell, column) => column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])).join('  '))
  for (const [path, tally] of tallies) {
    lines.push(`${path}:`)
    if (tally.proxy.size > 0) lines.push(`  refused by the proxy: ${[...tally.proxy].map(([detail, count]) => `${detail} ${count}`).join(', ')}`)
    for (const [detail, examples] of tally.proxyExamples) {
      for (const item of examples) lines.push(`    proxy answered ${detail}: #${item.index} ${describeSubject(item.der)}`)
    }
    const refusals = [...tally.refused].sort(([a], [b]) => a.localeCompare(b))
    if (refusals.length > 0) lines.push(`  refused by the plugin (expected + clean CN): ${refusals.map(([klass, count]) => `${klass} ${count.expected}+${count.clean}`).join(', ')}`)
    for (const [klass, causes] of tally.cleanCauses) {
      lines.push(`    clean CN refused, ${klass}, by what the subject holds: ${[...causes].map(([cause, count]) => `${cause} ${count}`).join(', ')}`)
    }
    for (const [klass, examples] of tally.cleanExamples) {
      for (const { item, reason } of examples) lines.push(`    clean CN refused, ${klass}: #${item.index} ${describeSubject(item.der)} -> ${ascii(reason.slice(0, 160))}`)
    }
    for (const { item, reason } of tally.undocumented) lines.push(`  UNDOCUMENTED reason: #${item.index} ${ascii(reason)}`)
    for (const item of tally.silent) lines.push(`  NO IDENTITY AND NO REASON: #${item.index} ${describeSubject(item.der)}`)
    for (const { item, username } of tally.wrong) {
      const expected = item.expected.kind === 'username' ? ascii(item.expected.username) : `a refusal (${item.expected.why})`
      lines.push(`  WRONG USERNAME: #${item.index} got ${ascii(username)}, expected ${expected}: ${describeSubject(item.der)}`)
    }
  }
  return lines.join('\n')
}

t.test('the username is the certificate\'s own CN, through every proxy and Node\'s TLS', async (t) => {
  const pki = await isolatedPki()
  t.teardown(pki.cleanup)
  const { cases, tableTypes } = makeCases(pki)
  const available = PATHS.filter((spec) => spec.daemon === null || skipUnlessInstalled(spec.daemon) === false)
  for (const spec of PATHS) if (!available.includes(spec)) t.comment(`${spec.name}: skipped, ${String(skipUnlessInstalled(spec.daemon as ProxyName))}`)

  const started = Date.now()
  const starts = await Promise.allSettled(available.map(async (spec) => await start(spec, pki)))
  const running = starts.flatMap((start) => start.status === 'fulfilled' ? [start.value] : [])
  t.teardown(async () => {
    await Promise.all(running.map(async ({ app, proxy }) => {
      await proxy?.stop()
      await app.close()
    }))
  })
  for (const start of starts) if (start.status === 'rejected') throw start.reason
  const results = await Promise.all(running.map(async (path) => [path.spec.name, await runPath(path, cases)] as const))
  const seconds = (Date.now() - started) / 1000
  const tallies = new Map(results.map(([name, outcomes]) => [name, tally(cases, outcomes)]))
  const text = report(tallies, cases, tableTypes, seconds)
  const dump = process.env.DIFFERENTIAL_DUMP
  if (dump !== undefined && dump !== '') {
    // One JSON line per certificate: its subject, what the oracle expects, what each path did.
    writeFileSync(dump, cases.map((item) => JSON.stringify({
      index: item.index,
      subject: describeSubject(item.der),
      features: item.features,
      expected: item.expected,
      outcomes: Object.fromEntries(results.map(([name, outcomes]) => [name, outcomes.get(item.index)]))
    }) + '\n').join(''))
  }
  t.comment(text)
  if (FULL) console.error(text)

  for (const [path, result] of tallies) {
    t.same(result.wrong.map(({ item, username }) => `#${item.index} gave ${ascii(username)}`), [], `${path}: no wrong username`)
    t.same(result.undocumented.map(({ reason }) => reason), [], `${path}: every refusal has a documented reason`)
    t.same(result.silent.map(({ index }) => index), [], `${path}: no certificate is dropped without a reason`)
    const refusesAll = PATHS.find((spec) => spec.name === path)?.refusesAll
    if (refusesAll === undefined) {
      t.ok(result.right > 0, `${path}: some certificates log in`)
    } else {
      t.equal(result.right, 0, `${path}: no certificate logs in`)
      t.ok(result.refused.has(refusesAll), `${path}: refused for this reason: ${refusesAll}`)
    }
  }
  const proxyRefused = sum([...tallies.values()].map((result) => sum(result.proxy.values())))
  const tried = sum([...tallies.values()].map((result) => result.tried))
  t.ok(proxyRefused <= tried * 0.2, `the generator mostly makes certificates the proxies accept (${proxyRefused} of ${tried} refused)`)
})

t.test('the README documents every reason class', async (t) => {
  const readme = readFileSync(join(__dirname, 'README.md'), 'utf8')
  for (const { name } of REASON_CLASSES) t.match(readme, `| ${name} |`, name)
})
