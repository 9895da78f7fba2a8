// 50 first logins of one new user at the same moment, with `autoCreate`, through real nginx
// (round robin) to two app processes on one SQLite file whose usernames are unique: exactly one
// row, and 50 logins whose sessions all hold that user. Inside a process the plugin shares one
// createUser; between the processes the loser's INSERT hits the unique constraint, and the plugin
// must look the user up again rather than fail the login.
//
// Every client opens its TLS connection (with the certificate) first and sends its login only
// when all 50 connections stand, so that the logins arrive together. The user store answers
// after a 50 ms round trip, as a distant networked database would: both processes' first logins
// then find no user before either has created it, so the race between the processes does
// happen in most rounds (with 5 ms in about half of them, with 20 ms in four out of five, with
// 50 ms in all of 15 on a quiet moment and two out of three under heavy load: the 50 logins
// reach the two processes over tens to hundreds of milliseconds on a busy 2-core machine). Each
// round is a new user; rounds go on (up to 20) until the processes have raced in one of them.

import Database from 'better-sqlite3'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { sharedPki, skipUnlessInstalled, type Pki } from '../e2e/lib'
import { REDIRECT_URL } from '../e2e/lib/app'
import { startAppProcess, type AppProcess } from './lib/children'
import { userCertificates } from './lib/certs'
import { loadClient, percentile, type Login } from './lib/client'
import { startNginx } from '../e2e/lib'
import type { User } from './lib/protocol'
import { SIZE } from './lib/size'

const INSTANCES = ['a', 'b']
const LOGINS = 50
const LATENCY_MS = 50
const MAX_ROUNDS = 20

let pki: Pki
t.before(async () => { pki = await sharedPki() })

t.test(`${LOGINS} concurrent first logins of one new user, autoCreate, two processes on one SQLite file`, {
  skip: skipUnlessInstalled('nginx'),
  timeout: 120_000
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'load-sqlite-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'users.db')
  // The table and WAL mode once, before either process opens the file.
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE)')
  t.teardown(() => { db.close() })
  const rowsOf = (username: string): User[] => db.prepare<[string], User>('SELECT id, username FROM users WHERE username = ?').all(username)

  // Sessions stay in each process's memory: a session is checked at the instance that made it.
  const apps: AppProcess[] = await Promise.all(INSTANCES.map(async (instance) =>
    await startAppProcess({ instance, users: { kind: 'sqlite', file, latencyMs: LATENCY_MS } })))
  for (const app of apps) t.teardown(app.stop)
  const nginx = await startNginx({ pki, upstream: apps.map((app) => app.url) })
  t.teardown(nginx.stop)
  const client = loadClient({ url: nginx.url, ca: pki.rootCa.certPem }, LOGINS)
  t.teardown(client.close)

  // Each process logs a first user in before the rounds, so that no round runs cold code.
  const [warmUp] = userCertificates(pki, ['warmup'])
  const warmUps = await Promise.all(Array.from({ length: 4 }, async () => await client.login(warmUp.identity)))
  t.same(warmUps.map((login) => login.status), Array(4).fill(302), 'warm-up logins')

  const raced: number[] = []
  // At least SIZE.raceRounds rounds, and more (up to MAX_ROUNDS) until the processes have raced.
  let round = 0
  while (round < SIZE.raceRounds || (raced.length === 0 && round < MAX_ROUNDS)) {
    round++
    const username = `newcomer${round}`
    await t.test(`round ${round}: ${username}`, async (t) => {
      const [{ identity }] = userCertificates(pki, [username])
      const before = await Promise.all(apps.map(async (app) => (await app.stats()).users))

      // 50 connections, each with the certificate, open before any login is sent.
      const agents = Array.from({ length: LOGINS }, () => client.certificateAgent(identity))
      t.teardown(() => { for (const agent of agents) agent.destroy() })
      const opened = await Promise.all(agents.map(async (agent) => await client.open(agent, REDIRECT_URL)))
      t.same(opened, Array(LOGINS).fill(200), `${LOGINS} connections open (the home page, no login)`)
      t.same(rowsOf(username), [], 'no user yet')
      const logins: Login[] = await Promise.all(agents.map(async (agent) => await client.login(identity, agent)))
      t.ok(logins.every((login) => login.reused), 'every login went out on its open connection, no handshake in between')

      const statuses = logins.map((login) => `${login.status} ${String(login.location)}`)
      t.same(statuses, Array(LOGINS).fill(`302 ${REDIRECT_URL}`), `${LOGINS} logins: 302 to ${REDIRECT_URL}`)
      t.ok(logins.every((login) => login.cookie !== null && login.secure), 'each with a Secure session cookie')
      t.equal(new Set(logins.map((login) => login.cookie)).size, LOGINS, 'each a session of its own')
      const rows = rowsOf(username)
      t.equal(rows.length, 1, 'exactly one row')

      const held = await Promise.all(logins.map(async (login) => {
        const app = apps.find((app) => app.instance === login.instance)
        if (app === undefined || login.cookie === null) return null
        return (await client.whoamiDirect(app.url, login.cookie)).user
      }))
      t.same(held, Array(LOGINS).fill(rows[0]), `every session holds the one user ${JSON.stringify(rows[0])}`)

      const after = await Promise.all(apps.map(async (app) => await app.stats()))
      const calls = after.map((stats, i) => ({
        logins: logins.filter((login) => login.instance === apps[i].instance).length,
        find: stats.users.find - before[i].find,
        create: stats.users.create - before[i].create,
        createFailed: stats.users.createFailed - before[i].createFailed
      }))
      for (const [i, call] of calls.entries()) t.ok(call.logins > 0, `instance ${apps[i].instance} took ${call.logins} of the logins`)
      t.equal(calls.reduce((sum, call) => sum + call.create - call.createFailed, 0), 1, 'one createUser succeeded')
      for (const [i, stats] of after.entries()) {
        t.same({ warnings: stats.warnings, errors: stats.errors }, { warnings: 0, errors: 0 },
          `instance ${apps[i].instance} logged no warning or error`, { lastLines: stats.lastLines })
      }
      // Both processes called createUser: the race between them happened this round.
      if (calls.every((call) => call.create > 0)) raced.push(round)
      const ms = logins.map((login) => login.ms)
      t.comment(`${username}: ${calls.map((call, i) => `instance ${apps[i].instance}: ${call.logins} logins, findUser ${call.find}, ` +
        `createUser ${call.create} (${call.createFailed} hit the unique constraint)`).join('; ')}; ` +
        `login latency p50 ${percentile(ms, 50).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms`)
    })
  }
  t.comment(`the two processes raced to create the user in ${raced.length} of ${round} rounds`)
  t.ok(raced.length > 0, 'in some round both processes called createUser, and the loser\'s login still succeeded')
  t.notMatch(nginx.logs(), /\[(error|crit|alert|emerg)\]/, 'nginx logged no error')
})
