// Scale-out: two app instances behind nginx (round robin) share sessions in Redis through
// connect-redis. A login on one instance is a login on both; so is a logout; and a Redis outage
// fails logins fast and cleanly, then heals without restarting the app.

import { RedisStore } from 'connect-redis'
import { createClient } from 'redis'
import t, { type Test } from 'tap'
import { sharedPki, skipUnlessInstalled, startNginx, startRedis, type Pki, type RunningRedis } from './lib'
import { LOGIN_URL, sessionCookieOf, startApp, type RunningApp } from './lib/app'
import { expectLogin, expectLoginPage, visit, whoami, type Site } from './lib/journey'

const INSTANCES = ['a', 'b']
// Enough requests that round robin over two instances reaches both, whatever the first one was.
const ROUNDS = 6

let pki: Pki
t.before(async () => { pki = await sharedPki() })

/** One app instance with its own Redis connection, as a separate process would have. */
async function startInstance (t: Test, redis: RunningRedis, instance: string): Promise<RunningApp> {
  const client = createClient({
    url: redis.url,
    // While Redis is away a command fails at once instead of waiting in a queue for it to come back.
    disableOfflineQueue: true,
    // A Redis that stops answering (paused, overloaded, a dead link that keeps the TCP connection)
    // fails the command after socketTimeout; the pings keep a healthy idle connection from timing out.
    pingInterval: 200,
    socket: {
      socketTimeout: 800,
      connectTimeout: 1000,
      // Retry soon and often: logins work again shortly after Redis is back.
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 500)
    }
  })
  // node-redis emits 'error' on every failed reconnect; unhandled, it would take the process down.
  const errors: string[] = []
  client.on('error', (error: Error) => { errors.push(error.message) })
  await client.connect()
  t.teardown(() => client.destroy())

  const app = await startApp({
    plugin: { preset: 'nginx', trustedProxies: '127.0.0.1' },
    instance,
    store: new RedisStore({ client, prefix: 'e2e-session:' })
  })
  t.teardown(app.close)
  return app
}

/** ROUNDS visits to /whoami: the session user each instance saw. */
async function usersSeen (site: Site, cookie: string | null): Promise<Map<string, Set<string | null>>> {
  const seen = new Map<string, Set<string | null>>()
  for (let i = 0; i < ROUNDS; i++) {
    const { instance, user } = await whoami(site, { cookie })
    if (!seen.has(instance)) seen.set(instance, new Set())
    seen.get(instance)?.add(user?.username ?? null)
  }
  return seen
}

t.test('two instances, one Redis', {
  skip: skipUnlessInstalled('redis') || skipUnlessInstalled('nginx'),
  timeout: 60000
}, async (t) => {
  const redis = await startRedis()
  t.teardown(redis.stop)
  const apps = await Promise.all(INSTANCES.map(async (instance) => await startInstance(t, redis, instance)))
  const nginx = await startNginx({ pki, upstream: apps.map((app) => app.url) })
  t.teardown(nginx.stop)
  const site: Site = { url: nginx.url, ca: pki.rootCa.certPem }

  let cookie: string | null = null
  await t.test('a login through one instance is a login on both', async (t) => {
    cookie = await expectLogin(t, site, { identity: pki.alice }, 'alice')
    const seen = await usersSeen(site, cookie)
    t.same([...seen.keys()].sort(), INSTANCES, 'both instances answered')
    for (const [instance, users] of seen) t.same([...users], ['alice'], `instance ${instance} sees alice`)
  })

  await t.test('a logout on one instance is a logout on both', async (t) => {
    const logout = await visit(site, '/logout', { method: 'POST', cookie })
    t.equal(logout.status, 200, `logged out on instance ${logout.headers['x-instance']}`)
    const seen = await usersSeen(site, cookie)
    t.same([...seen.keys()].sort(), INSTANCES, 'both instances answered')
    for (const [instance, users] of seen) t.same([...users], [null], `instance ${instance} sees nobody`)
  })

  await t.test('Redis paused (SIGSTOP): logins answer 5xx within the bound, no cookie, then work again', async (t) => {
    const earlier = await expectLogin(t, site, { identity: pki.alice }, 'alice, before the pause')
    redis.pause()
    try {
      for (const [what, cookie, status] of [['no session yet', null, 503], ['a session from before', earlier, 500]] as const) {
        const started = Date.now()
        const login = await visit(site, LOGIN_URL, { identity: pki.alice, cookie })
        const took = Date.now() - started
        t.equal(login.status, status, `${what}: HTTP ${login.status}`)
        if (status === 503) t.equal(JSON.parse(login.body).code, 'FST_TLS_CERT_AUTH_SESSION_STORE', `${what}: the plugin's coded error`)
        t.equal(sessionCookieOf(login.headers['set-cookie']), null, `${what}: no session cookie`)
        t.ok(took < 3000, `${what}: answered in ${took} ms`)
      }
    } finally {
      redis.resume()
    }
    const deadline = Date.now() + 5000
    let status = 0
    while (status !== 302 && Date.now() < deadline) {
      status = (await visit(site, LOGIN_URL, { identity: pki.alice })).status
      if (status !== 302) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    t.equal(status, 302, 'after SIGCONT the next login works')
  })

  await t.test('Redis gone: logins fail fast with a 5xx and no cookie, and the app keeps answering', async (t) => {
    const earlier = await expectLogin(t, site, { identity: pki.alice }, 'alice, before the outage')
    await redis.kill()

    const instances = new Set<string>()
    for (const [what, cookie] of [['no session yet', null], ['a session from before', earlier]] as const) {
      for (let i = 0; i < INSTANCES.length; i++) {
        const started = Date.now()
        const login = await visit(site, LOGIN_URL, { identity: pki.alice, cookie })
        const took = Date.now() - started
        const instance = String(login.headers['x-instance'])
        instances.add(instance)
        t.ok(login.status >= 500 && login.status < 600, `${what}, instance ${instance}: HTTP ${login.status}`)
        t.equal(login.headers.location, undefined, `${what}, instance ${instance}: no redirect`)
        t.equal(sessionCookieOf(login.headers['set-cookie']), null, `${what}, instance ${instance}: no session cookie`)
        t.ok(took < 2000, `${what}, instance ${instance}: answered in ${took} ms`)
      }
    }
    t.same([...instances].sort(), INSTANCES, 'both instances failed the same way')

    // A request that needs no session still works on both instances.
    for (let i = 0; i < INSTANCES.length; i++) expectLoginPage(t, await visit(site, LOGIN_URL), 'no certificate, no cookie')
  })

  await t.test('Redis back: logins work again without restarting the app', async (t) => {
    await redis.restart()
    // Each client reconnects on its own within its reconnect delay (at most 500 ms).
    const healed = new Set<string>()
    const deadline = Date.now() + 5000
    while (healed.size < INSTANCES.length && Date.now() < deadline) {
      const login = await visit(site, LOGIN_URL, { identity: pki.alice })
      if (login.status === 302) healed.add(String(login.headers['x-instance']))
      else await new Promise((resolve) => setTimeout(resolve, 50))
    }
    t.same([...healed].sort(), INSTANCES, 'logins succeed again on both instances')
    const cookie = await expectLogin(t, site, { identity: pki.alice }, 'alice, after the outage')
    const seen = await usersSeen(site, cookie)
    t.same([...seen.keys()].sort(), INSTANCES, 'both instances answered')
    for (const [instance, users] of seen) t.same([...users], ['alice'], `instance ${instance} sees alice`)
  })
})
