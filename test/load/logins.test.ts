// Many users logging in at once, through real nginx (round robin) to two app instances, each a
// process of its own, sharing sessions in a real Redis (connect-redis). Every login must hold
// exactly its own user as seen by both instances, nothing may fail, and each instance's heap
// must come back to where it was before the load.
//
// `npm test` runs a slice (200 logins as 50 users, 50 at a time); `npm run test:load` the whole
// size (2,000 logins as 200 users, 100 at a time). See ./lib/size.ts.

import { createClient } from 'redis'
import t from 'tap'
import { cpus, loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { sharedPki, skipUnlessInstalled, startRedis, type Pki } from '../e2e/lib'
import { REDIRECT_URL } from '../e2e/lib/app'
import { startAppProcess, type AppProcess } from './lib/children'
import { userCertificates, type UserCertificate } from './lib/certs'
import { inPool, loadClient, mb, percentile } from './lib/client'
import { startNginx } from '../e2e/lib'
import type { HeapSample } from './lib/protocol'
import { FULL, SIZE } from './lib/size'
import { usernames } from './lib/usernames'

const INSTANCES = ['a', 'b']
const SESSION_PREFIX = 'load-session:'
/**
 * How far above its baseline (after the warm-up and a full GC) an instance's heap may stay after
 * the load and a full GC: 10% of the baseline (about 22 MB), but at least 2 MB. The first
 * thousand logins after the warm-up still add about 0.8 MB of compiled code and V8's feedback
 * data (old space +0.4 MB, code space +0.4 MB, measured), which then stays flat: over 5,000
 * logins an instance's heap grew 1.3 MB in the first 1,000 and 0.1 to 0.3 MB in each of the
 * next four. 2 MB holds that with room for the machine's noise.
 */
const HEAP_SLACK = (baseline: number): number => Math.max(0.1 * baseline, 2 * 1048576)
/**
 * What the second half of the load may add to an instance's heap, between two full GCs: by then
 * the warm-up has settled (measured: -0.2 to +0.1 MB), so growth there is a leak. 1 MB over the
 * about 500 logins an instance takes in the second half of the full run is 2 KB per login: a
 * retained request, reply or session with its user is at least that.
 */
const SECOND_HALF_SLACK = 1048576

/** From one heap sample to another: the whole heap, and its old and code spaces. */
function change (from: HeapSample, to: HeapSample): string {
  const signed = (bytes: number): string => `${bytes < 0 ? '-' : '+'}${mb(Math.abs(bytes))}`
  const space = (name: string): number => (to.spaces[name] ?? 0) - (from.spaces[name] ?? 0)
  return `${signed(to.heapUsed - from.heapUsed)}: old space ${signed(space('old_space'))}, code ${signed(space('code_space'))}`
}

let pki: Pki
t.before(async () => { pki = await sharedPki() })

t.test(`${SIZE.logins} logins as ${SIZE.users} users, ${SIZE.concurrency} at a time: nginx, two instances, one Redis`, {
  skip: skipUnlessInstalled('redis') || skipUnlessInstalled('nginx'),
  timeout: FULL ? 600_000 : 120_000
}, async (t) => {
  const redis = await startRedis()
  t.teardown(redis.stop)
  const names = usernames(SIZE.users)
  const madeAt = performance.now()
  const certificates = userCertificates(pki, names)
  const certificateMs = performance.now() - madeAt
  const ids = new Map(names.map((name, i) => [name, i + 1]))

  const apps: AppProcess[] = await Promise.all(INSTANCES.map(async (instance) =>
    await startAppProcess({ instance, redisUrl: redis.url, users: { kind: 'fixed', count: SIZE.users } })))
  for (const app of apps) t.teardown(app.stop)
  const nginx = await startNginx({ pki, upstream: apps.map((app) => app.url) })
  t.teardown(nginx.stop)
  const client = loadClient({ url: nginx.url, ca: pki.rootCa.certPem }, SIZE.concurrency)
  t.teardown(client.close)

  const failures: string[] = []
  let failed = 0
  const fail = (message: string): void => {
    failed++
    if (failures.length < 20) failures.push(message)
  }
  const loginMs: number[] = []
  const whoamiMs: number[] = []
  const loginsBy = new Map<string, number>()
  const cookies = new Set<string>()
  const loggedInAt = new Map(names.map((name) => [name, new Set<string>()]))

  /**
   * One login and (unless `check` is false) what both instances then say about its session;
   * anything off is a failure. `measured`: its latencies count in the figures.
   */
  async function journey (certificate: UserCertificate, measured: boolean, check = true): Promise<void> {
    const { username, identity } = certificate
    const expected = { id: ids.get(username), username }
    try {
      const login = await client.login(identity)
      if (measured) loginMs.push(login.ms)
      if (login.status !== 302 || login.location !== REDIRECT_URL || login.cookie === null || !login.secure || login.reused) {
        fail(`${username}: login answered ${login.status} to ${String(login.location)}, cookie ${String(login.cookie)}, ` +
          `secure ${String(login.secure)}, on a ${login.reused ? 'reused' : 'new'} connection`)
        return
      }
      if (cookies.has(login.cookie)) fail(`${username}: the session id of another login`)
      cookies.add(login.cookie)
      if (measured) loginsBy.set(login.instance, (loginsBy.get(login.instance) ?? 0) + 1)
      loggedInAt.get(username)?.add(login.instance)
      if (!check) return

      const viaProxy = await client.whoamiViaProxy(login.cookie)
      if (measured) whoamiMs.push(viaProxy.ms)
      const other = apps.find((app) => app.instance !== viaProxy.instance)
      if (other === undefined) {
        fail(`${username}: /whoami through nginx answered from instance ${viaProxy.instance}`)
        return
      }
      const direct = await client.whoamiDirect(other.url, login.cookie)
      for (const seen of [viaProxy, direct]) {
        if (seen.user?.username !== expected.username || seen.user.id !== expected.id || seen.certUser !== null) {
          fail(`${username}: instance ${seen.instance} sees ${JSON.stringify(seen.user)} (certificate ${String(seen.certUser)}), not ${JSON.stringify(expected)}`)
        }
      }
    } catch (error) {
      fail(`${username}: ${(error as Error).message}`)
    }
  }

  // Warm-up, until every user has logged in on every instance: the JIT, lazily loaded modules,
  // the Redis connections and nginx settle, and whatever the plugin keeps per certificate (the
  // header source keeps the last few hundred decoded) holds every user's. Then the baseline of
  // each instance after a full GC: what the load adds to it is what it leaves behind.
  await inPool(certificates.length, SIZE.concurrency, async (i) => { await journey(certificates[i], false) })
  // A user some instance has not seen yet logs in again, alone, until it has: nginx's round robin
  // alternates, so the next login reaches the other instance.
  const unseen = ({ username }: UserCertificate): boolean => (loggedInAt.get(username)?.size ?? 0) < INSTANCES.length
  for (const certificate of certificates.filter(unseen)) {
    for (let attempt = 0; attempt < 4 && unseen(certificate); attempt++) await journey(certificate, false, false)
  }
  t.same(certificates.filter(unseen).map(({ username }) => username), [], 'warm-up: every user logged in on every instance')
  const warmUpLogins = cookies.size
  const baseline = await Promise.all(apps.map(async (app) => await app.heap(true)))
  const statsBefore = await Promise.all(apps.map(async (app) => await app.stats()))
  const cpuBefore = process.cpuUsage()

  // The load, with each instance's heap sampled (no GC) for its peak.
  const peak = baseline.map((sample) => ({ ...sample }))
  const sampling = new AbortController()
  const sampler = (async () => {
    while (!sampling.signal.aborted) {
      const samples = await Promise.all(apps.map(async (app) => await app.heap(false)))
      samples.forEach((sample, i) => {
        peak[i].heapUsed = Math.max(peak[i].heapUsed, sample.heapUsed)
        peak[i].rss = Math.max(peak[i].rss, sample.rss)
      })
      await sleep(50)
    }
  })()
  // In two halves, with each instance's heap after a full GC between them: what is left of the
  // warm-up settles in the first half, so growth in the second is what a leak would add.
  const half = Math.floor(SIZE.logins / 2)
  let seconds = 0
  let middle: HeapSample[] = []
  for (const [from, to] of [[0, half], [half, SIZE.logins]]) {
    const started = performance.now()
    await inPool(to - from, SIZE.concurrency, async (i) => { await journey(certificates[(from + i) % certificates.length], true) })
    seconds += (performance.now() - started) / 1000
    if (from === 0) middle = await Promise.all(apps.map(async (app) => await app.heap(true)))
  }
  sampling.abort()
  await sampler
  const testCpu = process.cpuUsage(cpuBefore)

  // Keep-alive connections closed, then each instance collects its garbage.
  client.close()
  await sleep(500)
  const after: HeapSample[] = await Promise.all(apps.map(async (app) => await app.heap(true)))
  const stats = await Promise.all(apps.map(async (app) => await app.stats()))

  const redisClient = createClient({ url: redis.url })
  await redisClient.connect()
  const stored = (await redisClient.keys(SESSION_PREFIX + '*')).length
  redisClient.destroy()

  const requests = 3 * SIZE.logins
  t.comment([
    `machine: ${cpus().length} CPUs, load average ${loadavg().map((load) => load.toFixed(1)).join(' ')} at the end`,
    `${SIZE.logins} logins (${SIZE.users} users, ${SIZE.concurrency} in flight) after ${warmUpLogins} warm-up logins; ` +
      `${SIZE.users} certificates made in ${certificateMs.toFixed(0)} ms`,
    `run: ${seconds.toFixed(2)} s, ${(SIZE.logins / seconds).toFixed(0)} logins/s, ${(requests / seconds).toFixed(0)} requests/s ` +
      '(each login: the login, /whoami through nginx, /whoami at the other instance)',
    `login latency: p50 ${percentile(loginMs, 50).toFixed(1)} ms, p99 ${percentile(loginMs, 99).toFixed(1)} ms, max ${Math.max(...loginMs).toFixed(1)} ms ` +
      '(new TLS connection with the client certificate, through nginx, session in Redis)',
    `/whoami through nginx: p50 ${percentile(whoamiMs, 50).toFixed(1)} ms, p99 ${percentile(whoamiMs, 99).toFixed(1)} ms`,
    `CPU time per login and its two /whoami: both app instances together ${(stats.reduce((sum, stat, i) => sum + stat.cpuMicros - statsBefore[i].cpuMicros, 0) / 1000 / SIZE.logins).toFixed(2)} ms, ` +
      `this test's TLS clients ${((testCpu.user + testCpu.system) / 1000 / SIZE.logins).toFixed(2)} ms (nginx and Redis not counted)`,
    `logins per instance: ${INSTANCES.map((instance) => `${instance} ${loginsBy.get(instance) ?? 0}`).join(', ')}; ` +
      `errors: ${failed}; sessions in Redis: ${stored}`,
    ...apps.map((app, i) => `heap of instance ${app.instance}: baseline ${mb(baseline[i].heapUsed)}, peak ${mb(peak[i].heapUsed)}, ` +
      `half-way ${mb(middle[i].heapUsed)}, after ${mb(after[i].heapUsed)} (${change(baseline[i], after[i])}, allowed +${mb(HEAP_SLACK(baseline[i].heapUsed))}; ` +
      `second half ${change(middle[i], after[i])}); rss baseline ${mb(baseline[i].rss)}, peak ${mb(peak[i].rss)}, after ${mb(after[i].rss)}`)
  ].join('\n'))

  t.same(failures, [], `no errors (${failed} of ${warmUpLogins + SIZE.logins} logins went wrong)`)
  t.equal(cookies.size, warmUpLogins + SIZE.logins, 'every login has a session of its own')
  t.equal(stored, cookies.size, 'Redis holds exactly one session per login')
  for (const instance of INSTANCES) t.ok((loginsBy.get(instance) ?? 0) > 0, `instance ${instance} logged users in`)
  stats.forEach((stat, i) => {
    t.same({ warnings: stat.warnings, errors: stat.errors }, { warnings: 0, errors: 0 },
      `instance ${apps[i].instance} logged no warning or error`, { lastLines: stat.lastLines })
    t.ok(after[i].heapUsed <= baseline[i].heapUsed + HEAP_SLACK(baseline[i].heapUsed),
      `instance ${apps[i].instance}: the heap is back to its baseline (${mb(baseline[i].heapUsed)} -> ${mb(after[i].heapUsed)})`)
    t.ok(after[i].heapUsed <= middle[i].heapUsed + SECOND_HALF_SLACK,
      `instance ${apps[i].instance}: the second half of the load left no more than ${mb(SECOND_HALF_SLACK)} (${mb(middle[i].heapUsed)} -> ${mb(after[i].heapUsed)})`)
  })
  t.notMatch(nginx.logs(), /\[(error|crit|alert|emerg)\]/, 'nginx logged no error')
  if (!t.passing()) t.comment(`nginx error log:\n${nginx.logs().slice(-4000)}`)
})
