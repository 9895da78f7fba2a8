import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { buildApp, certHeaders, logged, sessionCookie } from './helpers/app'
import { userStore } from './helpers/users'

const LOGIN = '/accounts/login/'

test('findUser decides who logs in; unknown users get 403 without autoCreate', async (t) => {
  const store = userStore()
  store.db.prepare('INSERT INTO users (username) VALUES (?)').run('alice')
  const { app, logs } = await buildApp({ findUser: store.findUser })
  const ok = await app.inject({ url: LOGIN, headers: certHeaders('CN=alice') })
  const whoami = await app.inject({ url: '/whoami', headers: { cookie: sessionCookie(ok.headers['set-cookie']) } })
  t.same(whoami.json().user, { id: 1, username: 'alice' })

  const unknown = await app.inject({ url: LOGIN, headers: certHeaders('CN=mallory') })
  t.equal(unknown.statusCode, 403)
  t.equal(unknown.json().code, 'FST_TLS_CERT_AUTH_USER_NOT_FOUND')
  t.notOk(unknown.headers['set-cookie'])
  t.match(logged(logs, 'no such user')[0], { username: 'mallory' })
  t.equal(store.count(), 1, 'nobody was created')
})

test('autoCreate creates the user on first login and finds it afterwards', async (t) => {
  const store = userStore()
  const { app } = await buildApp({ autoCreate: true, findUser: store.findUser, createUser: store.createUser })
  t.equal((await app.inject({ url: LOGIN, headers: certHeaders('CN=bob') })).statusCode, 302)
  t.equal((await app.inject({ url: LOGIN, headers: certHeaders('CN=bob') })).statusCode, 302)
  t.equal(store.count(), 1)
  t.equal(store.counts.create, 1)
})

test('findUser answering undefined is "no such user", like null', async (t) => {
  const { app } = await buildApp({ findUser: () => undefined })
  const response = await app.inject({ url: LOGIN, headers: certHeaders('CN=bob') })
  t.equal(response.statusCode, 403)
  t.equal(response.json().code, 'FST_TLS_CERT_AUTH_USER_NOT_FOUND')
})

test('a creation that failed is not remembered: the next login creates the user', async (t) => {
  let attempts = 0
  const created = new Set<string>()
  const { app } = await buildApp({
    autoCreate: true,
    findUser: (identity) => created.has(identity.username) ? { name: identity.username } : null,
    createUser: (identity) => {
      if (++attempts === 1) throw new Error('database is busy')
      created.add(identity.username)
      return { name: identity.username }
    }
  })
  t.equal((await app.inject({ url: LOGIN, headers: certHeaders('CN=bob') })).statusCode, 500, 'the first creation fails')
  t.equal((await app.inject({ url: LOGIN, headers: certHeaders('CN=bob') })).statusCode, 302, 'the next one is tried afresh')
  t.equal(attempts, 2)
})

test('after a failed creation the user is looked up again, and that answer is checked too', async (t) => {
  let finds = 0
  const { app, logs } = await buildApp({
    autoCreate: true,
    findUser: () => ++finds === 1 ? null : 7,
    createUser: () => { throw new Error('UNIQUE constraint failed') }
  })
  const response = await app.inject({ url: LOGIN, headers: certHeaders('CN=bob') })
  t.equal(response.json().code, 'FST_TLS_CERT_AUTH_BAD_USER')
  t.same(logged(logs, 'returned a number').map(({ level, username, msg }) => [level, username, msg]),
    [[50, 'bob', 'client certificate login: findUser returned a number, not a user object or null']])
})

test('createUser returning null refuses the login', async (t) => {
  const { app } = await buildApp({ autoCreate: true, findUser: () => null, createUser: () => null })
  const response = await app.inject({ url: LOGIN, headers: certHeaders('CN=bob') })
  t.equal(response.statusCode, 403)
  t.equal(response.json().code, 'FST_TLS_CERT_AUTH_USER_NOT_FOUND')
})

test('20 concurrent first logins of one user: one user, 20 logins', async (t) => {
  const store = userStore()
  const { app } = await buildApp({ autoCreate: true, findUser: store.findUser, createUser: store.createUser })
  const responses = await Promise.all(Array.from({ length: 20 }, () =>
    app.inject({ url: LOGIN, headers: certHeaders('CN=carol') })))
  t.same(responses.map((r) => r.statusCode), Array(20).fill(302))
  t.equal(new Set(responses.map((r) => sessionCookie(r.headers['set-cookie']))).size, 20, '20 sessions')
  t.equal(store.count(), 1, 'one user')
  t.equal(store.counts.create, 1, 'concurrent logins in one process share one creation')
})

test('two app instances on one database race: the loser looks the user up again', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-cert-auth-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'users.db')
  const stores = [userStore(new Database(file)), userStore(new Database(file))]
  const apps = await Promise.all(stores.map(async (store) =>
    (await buildApp({ autoCreate: true, findUser: store.findUser, createUser: store.createUser })).app))
  const responses = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    apps[i % 2].inject({ url: LOGIN, headers: certHeaders('CN=dave') })))
  t.same(responses.map((r) => r.statusCode), Array(20).fill(302), '20 logins')
  t.equal(stores[0].count(), 1, 'one user')
  t.equal(stores[0].counts.createFailed + stores[1].counts.createFailed, 1, 'one creation hit the unique constraint')
  const cookie = sessionCookie(responses[1].headers['set-cookie'])
  t.same((await apps[1].inject({ url: '/whoami', headers: { cookie } })).json().user, { id: 1, username: 'dave' })
})

test('a failing user store: the error reaches the error handler and the session is untouched', async (t) => {
  const boom = new Error('database is down')
  for (const options of [
    { findUser: async () => { throw boom } },
    { autoCreate: true as const, findUser: async () => null, createUser: async () => { throw boom } }
  ]) {
    const { app, logs } = await buildApp(options)
    const visit = await app.inject({ url: '/visit' })
    const cookie = sessionCookie(visit.headers['set-cookie'])
    const response = await app.inject({ url: LOGIN, headers: { ...certHeaders('CN=erin'), cookie } })
    t.equal(response.statusCode, 500)
    const sent = response.headers['set-cookie']
    t.ok(sent === undefined || sessionCookie(sent) === cookie, 'no new session id')
    t.equal(response.headers.location, undefined)
    const after = await app.inject({ url: '/whoami', headers: { cookie } })
    t.equal(after.json().user, null, 'the old session is still there, without a user')
    t.match(logs.find((line) => line.level === 50), { err: { message: 'database is down' } })
  }
})
