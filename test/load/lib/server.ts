// One app instance of the load tests, in a process of its own (forked by ./children.ts with
// --expose-gc, under tsx): Fastify with @fastify/cookie, @fastify/session and the plugin, built
// as test/e2e/lib/app.ts builds it, behind nginx on a free port of 127.0.0.1. It answers the
// parent over IPC only: its heap (after a full GC, or as it stands) and its counters.
//
// Logs go to a counter, not to memory: only warn and above are kept (the last few), so that the
// heap measures the app, not its log.

import cookie from '@fastify/cookie'
import session, { type FastifySessionOptions } from '@fastify/session'
import Database from 'better-sqlite3'
import { RedisStore } from 'connect-redis'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { getHeapSpaceStatistics } from 'node:v8'
import { createClient } from 'redis'
import tlsCertAuth from '../../../index'
import { userStore } from '../../helpers/users'
import { LOGIN_URL, REDIRECT_URL, SESSION_SECRET } from '../../e2e/lib/app'
import { usernames } from './usernames'
import type { FromServer, ServerArgs, ServerStats, ToServer, User, Whoami } from './protocol'

function send (message: FromServer): void {
  if (process.send === undefined) throw new Error('server.ts runs forked, with an IPC channel')
  process.send(message)
}

function collectGarbage (): void {
  const { gc } = globalThis as { gc?: () => void }
  if (gc === undefined) throw new Error('start this process with --expose-gc')
  // Twice: what the first collection's finalizers and weak references release goes in the second.
  gc()
  gc()
}

const LEVELS: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' }

async function main (): Promise<void> {
  const args = JSON.parse(process.argv[2]) as ServerArgs
  const { instance } = args

  const logged = { warnings: 0, errors: 0, lastLines: [] as string[] }
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      const line = chunk.toString()
      const level = (JSON.parse(line) as { level: number }).level
      if (level >= 50) logged.errors++
      else logged.warnings++
      logged.lastLines.push(`${LEVELS[level] ?? level}: ${line.trim()}`)
      if (logged.lastLines.length > 20) logged.lastLines.shift()
      done()
    }
  })
  const app = Fastify({ logger: { level: 'warn', stream }, trustProxy: '127.0.0.1' })

  let store: FastifySessionOptions['store']
  if (args.redisUrl !== undefined) {
    // The README's client settings (Running several instances).
    const redis = createClient({
      url: args.redisUrl,
      disableOfflineQueue: true,
      pingInterval: 1000,
      socket: { socketTimeout: 3000, connectTimeout: 1000, reconnectStrategy: (attempt) => Math.min(50 * 2 ** attempt, 500) }
    })
    redis.on('error', (error: Error) => { app.log.warn({ err: error }, 'redis') })
    await redis.connect()
    app.addHook('onClose', async () => { redis.destroy() })
    store = new RedisStore({ client: redis, prefix: 'load-session:' })
  }

  let users: Pick<tlsCertAuth.LoginOptions, 'findUser'> | tlsCertAuth.AutoCreateOptions
  let userCounts = (): ServerStats['users'] => ({ rows: 0, find: 0, create: 0, createFailed: 0 })
  if (args.users.kind === 'fixed') {
    const byName = new Map(usernames(args.users.count).map((username, i) => [username, { id: i + 1, username }]))
    users = { findUser: async (identity) => byName.get(identity.username) ?? null }
  } else {
    const db = new Database(args.users.file)
    db.pragma('journal_mode = WAL')
    const sqlite = userStore(db)
    const { latencyMs } = args.users
    // A networked database answers after a round trip: concurrent first logins in both
    // processes then tend to find no user before either has created it.
    const roundTrip = async (): Promise<void> => { if (latencyMs > 0) await sleep(latencyMs) }
    users = {
      autoCreate: true,
      findUser: async (identity) => { await roundTrip(); return await sqlite.findUser(identity) },
      createUser: async (identity) => { await roundTrip(); return await sqlite.createUser(identity) }
    }
    userCounts = () => ({ rows: sqlite.count(), ...sqlite.counts })
    app.addHook('onClose', async () => { db.close() })
  }

  await app.register(cookie)
  await app.register(session, { secret: SESSION_SECRET, cookie: { secure: 'auto' }, saveUninitialized: false, store })
  await app.register(tlsCertAuth, { preset: 'nginx', headers: { cert: 'x-client-cert' }, trustedProxies: '127.0.0.1', ...users })

  app.addHook('onSend', async (_request, reply) => { reply.header('x-instance', instance) })
  app.get(LOGIN_URL, async () => ({ page: 'login', instance }))
  app.get(REDIRECT_URL, async () => ({ page: 'home', instance }))
  app.get('/whoami', async (request): Promise<Whoami> => ({
    instance,
    user: (request.session.get('user' as 'cookie') as unknown as User | undefined) ?? null,
    certUser: request.certUser?.username ?? null
  }))

  await app.listen({ host: '127.0.0.1', port: 0 })
  process.on('message', (message: ToServer) => {
    if (message.type === 'stats') {
      const { user, system } = process.cpuUsage()
      send({ id: message.id, type: 'stats', ...logged, users: userCounts(), cpuMicros: user + system })
      return
    }
    if (message.gc) collectGarbage()
    const { heapUsed, rss } = process.memoryUsage()
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((space) => [space.space_name, space.space_used_size]))
    send({ id: message.id, type: 'heap', heapUsed, rss, spaces })
  })
  // The parent going away, for whatever reason, ends the instance.
  process.on('disconnect', () => { app.close().finally(() => process.exit(0)) })
  send({ type: 'listening', port: (app.server.address() as AddressInfo).port })
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
