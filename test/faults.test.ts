// Nothing half-written, nothing left hanging: session stores and user stores that fail, throw, hang
// or answer nonsense, and clients that leave in the middle of a login.

import cookie from '@fastify/cookie'
import secureSession from '@fastify/secure-session'
import session, { MemoryStore } from '@fastify/session'
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import { request as httpRequest } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { Writable } from 'node:stream'
import { test } from 'tap'
import tlsCertAuth from '../index'
import { certHeaders, logged, SECRET, type LogLine } from './helpers/app'
import { httpGet } from './helpers/http'

// The store API passes any session value through.
type Callback = (error?: Error | null, value?: any) => void
type Fault = 'fails' | 'throws' | 'hangs' | null

/** @fastify/session's MemoryStore, with a fault that a test switches on and off per operation. */
class FaultyStore extends MemoryStore {
  faults: Record<'get' | 'set' | 'destroy', Fault> = { get: null, set: null, destroy: null }
  sessions = new Map<string, unknown>()
  private fault (operation: 'get' | 'set' | 'destroy', callback: Callback, work: () => void): void {
    const fault = this.faults[operation]
    if (fault === 'throws') throw new Error(`${operation} threw`)
    if (fault === 'fails') { callback(new Error(`${operation} failed`)); return }
    if (fault === 'hangs') return
    work()
  }

  override get (id: string, callback: Callback): void { this.fault('get', callback, () => callback(null, this.sessions.get(id))) }
  override set (id: string, value: unknown, callback: Callback): void { this.fault('set', callback, () => { this.sessions.set(id, value); callback() }) }
  override destroy (id: string, callback: Callback): void { this.fault('destroy', callback, () => { this.sessions.delete(id); callback() }) }
}

async function appWith (plugin: tlsCertAuth.LoginOptions & tlsCertAuth.AutoCreateOptions = {}, sessionOptions: { saveUninitialized?: boolean } = {}) {
  const logs: LogLine[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { logs.push(JSON.parse(chunk.toString())); done() } })
  const store = new FaultyStore()
  const app = Fastify({ logger: { level: 'info', stream } })
  await app.register(cookie)
  await app.register(session, { secret: SECRET, store, cookie: { secure: 'auto' }, saveUninitialized: false, ...sessionOptions })
  await app.register(tlsCertAuth, { storeTimeout: 200, userTimeout: 200, ...plugin })
  app.get('/me', async (request) => ({ user: request.session.get('user' as 'cookie') ?? null }))
  return { app, store, logs }
}

const LOGIN = '/accounts/login/'
const login = { url: LOGIN, headers: certHeaders('CN=alice') }

test('a session store whose set or destroy fails, throws or hangs: 503 within the bound, no cookie, then recovery', async (t) => {
  for (const operation of ['set', 'destroy'] as const) {
    for (const fault of ['fails', 'throws', 'hangs'] as const) {
      const what = `${operation} ${fault}`
      const { app, store, logs } = await appWith()
      store.faults[operation] = fault
      const started = Date.now()
      const response = await app.inject(login)
      t.equal(response.statusCode, 503, `${what}: 503`)
      t.equal(response.json().code, 'FST_TLS_CERT_AUTH_SESSION_STORE', `${what}: its code`)
      t.ok(Date.now() - started < 1500, `${what}: answered within the bound (${Date.now() - started} ms)`)
      t.notOk(response.headers['set-cookie'], `${what}: no cookie that points to nothing`)
      t.ok(logged(logs, 'could not be kept').length === 1, `${what}: logged with the reason`)
      t.equal([...store.sessions.values()].filter((stored) => JSON.stringify(stored).includes('alice')).length, 0, `${what}: no user stored`)

      store.faults[operation] = null
      const again = await app.inject(login)
      t.equal(again.statusCode, 302, `${what}: the next login after recovery works`)
      const me = await app.inject({ url: '/me', headers: { cookie: String(again.headers['set-cookie']).split(';')[0] } })
      t.same(me.json().user, { username: 'alice', dn: 'CN=alice' }, `${what}: and its session holds the user`)
    }
  }
})

test('a session store whose get fails: the session plugin answers 5xx, with no cookie', async (t) => {
  const { app, store } = await appWith()
  const first = await app.inject(login)
  const cookieHeader = String(first.headers['set-cookie']).split(';')[0]
  store.faults.get = 'fails'
  const response = await app.inject({ ...login, headers: { ...login.headers, cookie: cookieHeader } })
  t.equal(response.statusCode, 500)
  t.notOk(response.headers['set-cookie'])
  store.faults.get = null
  t.equal((await app.inject({ ...login, headers: { ...login.headers, cookie: cookieHeader } })).statusCode, 302, 'recovers')
})

test('findUser or createUser that throws, hangs or answers nonsense: a clear error, logged, no session', async (t) => {
  const cases: Array<[string, tlsCertAuth.LoginOptions & tlsCertAuth.AutoCreateOptions, number, string | null, RegExp]> = [
    ['findUser throws', { findUser: () => { throw new Error('database is down') } }, 500, null, /database is down/],
    ['findUser hangs', { findUser: async () => await new Promise(() => {}) }, 503, 'FST_TLS_CERT_AUTH_USER_TIMEOUT', /findUser did not answer within 200 ms/],
    ['createUser hangs', { autoCreate: true, findUser: () => null, createUser: async () => await new Promise(() => {}) }, 503, 'FST_TLS_CERT_AUTH_USER_TIMEOUT', /createUser did not answer/],
    ['findUser returns a number', { findUser: () => 42 }, 500, 'FST_TLS_CERT_AUTH_BAD_USER', /findUser returned a number, not a user object or null/],
    ['findUser returns a string', { findUser: async () => 'alice' }, 500, 'FST_TLS_CERT_AUTH_BAD_USER', /returned a string/],
    ['createUser returns an array', { autoCreate: true, findUser: () => null, createUser: () => [] }, 500, 'FST_TLS_CERT_AUTH_BAD_USER', /createUser returned an array/]
  ]
  for (const [what, options, status, code, reason] of cases) {
    const { app, store, logs } = await appWith(options)
    const response = await app.inject(login)
    t.equal(response.statusCode, status, `${what}: ${status}`)
    if (code !== null) t.equal(response.json().code, code, `${what}: ${code}`)
    t.notOk(response.headers['set-cookie'], `${what}: no cookie`)
    t.equal(store.sessions.size, 0, `${what}: no session written`)
    const line = logs.find((line) => line.level >= 50 && reason.test(JSON.stringify(line)))
    t.ok(line, `${what}: logged`)
    if (code !== null) t.equal(line?.username, 'alice', `${what}: the log names the user`)
  }
})

test('the bounds are options, checked at registration', async (t) => {
  for (const value of [0, -1, 1.5, 600_001, '100']) {
    await t.rejects(async () => { await (await appWith({ userTimeout: value as number })).app.ready() }, { code: 'FST_TLS_CERT_AUTH_BAD_OPTION', message: /userTimeout/ })
    await t.rejects(async () => { await (await appWith({ storeTimeout: value as number })).app.ready() }, { code: 'FST_TLS_CERT_AUTH_BAD_OPTION', message: /storeTimeout/ })
  }
})

test('saveUser: its own failure is the application\'s error; a hang is bounded', async (t) => {
  const failing = Fastify()
  await failing.register(tlsCertAuth, { saveUser: () => { throw Object.assign(new Error('no'), { statusCode: 418 }) } })
  t.equal((await failing.inject(login)).statusCode, 418)
  const hanging = Fastify()
  await hanging.register(tlsCertAuth, { storeTimeout: 100, saveUser: async () => await new Promise(() => {}) })
  const response = await hanging.inject(login)
  t.equal(response.statusCode, 503)
  t.equal(response.json().code, 'FST_TLS_CERT_AUTH_SESSION_STORE')
})

/** A login over a real socket that the client abandons after `leaveAfter` ms. */
async function abandonedLogin (port: number, leaveAfter: number): Promise<void> {
  const req = httpRequest({ host: '127.0.0.1', port, path: LOGIN, headers: certHeaders('CN=alice') })
  req.on('error', () => {})
  req.end()
  await sleep(leaveAfter)
  req.destroy()
}

test('a client that leaves in the middle of a login leaves no session behind, and the server goes on', async (t) => {
  const cases = [
    ['while the user is looked up', 'findUser'],
    ['while the new session is stored', 'regenerate'],
    // After the login hook: @fastify/session writes the session with the user in its onSend hook.
    ['while the session with the user is written, before the response', 'save']
  ] as const
  for (const [where, slow] of cases) {
    const { app, store, logs } = await appWith({
      findUser: async (identity) => { if (slow === 'findUser') await sleep(150); return { username: identity.username } }
    })
    const set = store.set.bind(store)
    store.set = (id, value, callback) => {
      const withUser = (value as { get: (key: string) => unknown }).get('user') !== undefined
      setTimeout(() => { set(id, value, callback) }, (slow === 'regenerate' && !withUser) || (slow === 'save' && withUser) ? 150 : 0)
    }
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as { port: number }
    await abandonedLogin(port, 50)
    await sleep(600)
    t.equal(store.sessions.size, 0, `${where}: no session in the store`)
    t.equal(logged(logs, 'client certificate login').filter((line) => line.msg === 'client certificate login').length <= 1, true)
    store.set = set
    const next = await app.inject(login)
    t.equal(next.statusCode, 302, `${where}: the next login works`)
    await app.close()
  }
})

const KEEP_FAILED = 'client certificate login: the user could not be kept'
const NOT_REMOVED = 'client certificate login: an undelivered session could not be removed'
const ABANDONED = 'client certificate login abandoned: the client went away'

/** The fields a test compares of a log line. */
const line = ({ level, msg, username, reason }: LogLine) => ({ level, msg, username, reason })

/** How many sessions in the store hold alice. */
const withAlice = (store: FaultyStore) => [...store.sessions.values()].filter((stored) => JSON.stringify(stored).includes('alice')).length

test('a failed login logs the user and the reason, and leaves no cookie even when every session is saved', async (t) => {
  // saveUninitialized: true is @fastify/session's default: a session left on the request would be saved.
  const cases = [['set', 'fails', 'set failed'], ['set', 'throws', 'set threw'], ['destroy', 'fails', 'destroy failed'],
    ['destroy', 'hangs', 'no answer within 200 ms'], ['set', 'hangs', 'no answer within 200 ms']] as const
  for (const [operation, fault, reason] of cases) {
    const what = `${operation} ${fault}`
    const { app, store, logs } = await appWith({}, { saveUninitialized: true })
    store.faults[operation] = fault
    const response = await app.inject(login)
    t.equal(response.statusCode, 503, `${what}: 503`)
    t.equal(response.json().code, 'FST_TLS_CERT_AUTH_SESSION_STORE', `${what}: its code`)
    t.notOk(response.headers['set-cookie'], `${what}: no cookie`)
    t.equal(withAlice(store), 0, `${what}: no user stored`)
    t.same(logged(logs, 'could not be kept').map(line), [{ level: 50, msg: KEEP_FAILED, username: 'alice', reason }], `${what}: logged`)
  }
})

test('a saveUser that hangs without a session plugin: 503, and request.session is left alone', async (t) => {
  const app = Fastify()
  await app.register(tlsCertAuth, { storeTimeout: 100, saveUser: async () => await new Promise(() => {}) })
  app.setErrorHandler(async (error: { code?: string }, request, reply) => {
    await reply.code(503).send({ code: error.code, session: 'session' in request ? String(request.session) : 'absent' })
  })
  const response = await app.inject(login)
  t.same(response.json(), { code: 'FST_TLS_CERT_AUTH_SESSION_STORE', session: 'absent' })
})

/** The app listening on 127.0.0.1, and its port. */
async function listening (app: { listen: (options: { host: string, port: number }) => Promise<string>, server: { address: () => unknown } }): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  return (app.server.address() as { port: number }).port
}

/** Slow down the sessions the store writes with the user in them (or without), by `ms`. */
function slowWrites (store: FaultyStore, which: 'withUser' | 'withoutUser', ms: number, onWrite: (withUser: boolean) => void = () => {}): void {
  const set = store.set.bind(store)
  store.set = (id, value, callback) => {
    const withUser = (value as { get: (key: string) => unknown }).get('user') !== undefined
    onWrite(withUser)
    setTimeout(() => { set(id, value, callback) }, withUser === (which === 'withUser') ? ms : 0)
  }
}

test('a client that leaves while its user is looked up: the login is abandoned, logged, and no session is saved', async (t) => {
  const { app, store, logs } = await appWith({ findUser: async (identity) => { await sleep(150); return { username: identity.username } } }, { saveUninitialized: true })
  t.teardown(async () => { await app.close() })
  await abandonedLogin(await listening(app), 50)
  await sleep(250)
  t.equal(store.sessions.size, 0, 'no session in the store')
  t.same(logged(logs, 'abandoned').map(line), [{ level: 30, msg: ABANDONED, username: 'alice', reason: undefined }])
  t.same(logs.filter((entry) => entry.msg === 'client certificate login'), [], 'not logged as a login')
})

test('a client that leaves while the new session is stored: the session is removed, and its user never written', async (t) => {
  const { app, store } = await appWith()
  t.teardown(async () => { await app.close() })
  let userWrites = 0
  slowWrites(store, 'withoutUser', 150, (withUser) => { if (withUser) userWrites++ })
  await abandonedLogin(await listening(app), 50)
  await sleep(250)
  t.equal(store.sessions.size, 0, 'no session in the store')
  t.equal(userWrites, 0, 'the session with the user is never written')
})

test('a client that leaves while its session is written, and a store that cannot remove it: a warning with the reason', async (t) => {
  const { app, store, logs } = await appWith()
  t.teardown(async () => { await app.close() })
  // The store goes down while it writes the session with the user.
  slowWrites(store, 'withUser', 150, (withUser) => { if (withUser) store.faults.destroy = 'fails' })
  await abandonedLogin(await listening(app), 50)
  await sleep(250)
  t.same(logged(logs, 'could not be removed').map(line), [{ level: 40, msg: NOT_REMOVED, username: undefined, reason: 'destroy failed' }])
})

/** An onSend hook of the application's, after the plugin's, slow on the login URL. */
const slowAnswer = async (request: { url: string }) => { if (request.url.startsWith(LOGIN)) await sleep(150) }

test('a client that leaves after its session was written, before the answer reached it: the session is removed', async (t) => {
  const { app, store, logs } = await appWith()
  t.teardown(async () => { await app.close() })
  let written = false
  slowWrites(store, 'withUser', 0, (withUser) => { if (withUser) written = true })
  app.addHook('onSend', slowAnswer)
  await abandonedLogin(await listening(app), 50)
  await sleep(250)
  t.ok(written, 'the session with the user was written')
  t.equal(store.sessions.size, 0, 'and removed')
  t.same(logged(logs, 'could not be removed'), [], 'removed without a warning')
})

test('a login delivered over a real connection keeps its session', async (t) => {
  const { app, store } = await appWith()
  t.teardown(async () => { await app.close() })
  const port = await listening(app)
  const response = await httpGet(`http://127.0.0.1:${port}${LOGIN}`, certHeaders('CN=alice'))
  t.equal(response.status, 302)
  await sleep(50)
  t.equal(withAlice(store), 1, 'the session stays in the store')
  const me = await httpGet(`http://127.0.0.1:${port}/me`, { cookie: String(response.headers['set-cookie']).split(';')[0] })
  t.same(JSON.parse(me.body), { user: { username: 'alice', dn: 'CN=alice' } })
})

test('a client that leaves before the answer, with a session plugin that has no store or with none: nothing breaks', async (t) => {
  const withSecureSession = async () => {
    const app = Fastify()
    await app.register(secureSession, { key: randomBytes(32), cookie: { path: '/' } })
    await app.register(tlsCertAuth)
    return app
  }
  const withoutSession = async () => {
    const app = Fastify()
    await app.register(tlsCertAuth, { saveUser: (_request, reply, user: { username: string }) => { reply.header('x-user', user.username) } })
    return app
  }
  for (const [what, build] of [['@fastify/secure-session', withSecureSession], ['saveUser, no session plugin', withoutSession]] as const) {
    const app = await build()
    const errors: unknown[] = []
    app.addHook('onSend', slowAnswer)
    app.addHook('onError', async (_request, _reply, error) => { errors.push(error) })
    await abandonedLogin(await listening(app), 50)
    await sleep(250)
    t.same(errors, [], `${what}: no error`)
    t.equal((await app.inject(login)).statusCode, 302, `${what}: the next login works`)
    await app.close()
  }
})
