// The application under test: Fastify with @fastify/cookie, @fastify/session and the plugin,
// set up the way the README tells users to, listening on a real socket.

import cookie from '@fastify/cookie'
import session, { type FastifySessionOptions } from '@fastify/session'
import Fastify, { type FastifyHttpsOptions, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Server as HttpsServer, ServerOptions } from 'node:https'
import { Writable } from 'node:stream'
import tlsCertAuth from '../../../index'

export const SESSION_SECRET = 'an e2e session secret, at least 32 characters'
export const LOGIN_URL = '/accounts/login/'
export const REDIRECT_URL = '/'
export const SESSION_COOKIE = 'sessionId'

export interface LogLine { level: number, msg: string, [key: string]: unknown }

export interface StartAppOptions {
  plugin: tlsCertAuth.TlsCertAuthOptions
  /** Reported by /whoami and an `x-instance` header, to tell scaled-out instances apart. */
  instance?: string
  /** A session store shared by instances; default @fastify/session's in-memory store. */
  store?: FastifySessionOptions['store']
  /** Serve HTTPS with Node's own TLS (for `source: 'tls'`) instead of plain HTTP behind a proxy. */
  https?: ServerOptions
  /** Default 127.0.0.1. */
  host?: string
}

export interface RunningApp {
  app: FastifyInstance
  instance: string
  port: number
  /** http(s)://127.0.0.1:<port> */
  url: string
  /** Every log line, for assertions and for failure messages. */
  logs: LogLine[]
  close(): Promise<void>
}

/** What /whoami reports of `request.certUser`. */
export interface CertUserSummary {
  username: string
  dn: string
  source: string
  fingerprint256: string | null
  hasCertificate: boolean
}

export interface Whoami {
  instance: string
  /** The user stored in the session at login. */
  user: { username: string, dn: string } | null
  /** The certificate on this very request. */
  certUser: CertUserSummary | null
}

export async function startApp (options: StartAppOptions): Promise<RunningApp> {
  const instance = options.instance ?? 'app'
  const logs: LogLine[] = []
  const stream = new Writable({
    write (chunk, _encoding, done) {
      logs.push(JSON.parse(chunk.toString()))
      done()
    }
  })
  const base: FastifyServerOptions = {
    logger: { level: 'info', stream },
    // Behind a proxy: believe its X-Forwarded-Proto, so `secure: 'auto'` sets a Secure cookie
    // although the proxy talks plain HTTP to the app. Only the proxy's address is believed.
    trustProxy: options.https === undefined ? '127.0.0.1' : false
  }
  // Fastify's types pick the server type from the options; both are the same app to the tests.
  const app = options.https === undefined
    ? Fastify(base)
    : Fastify({ ...base, https: options.https } as FastifyHttpsOptions<HttpsServer>) as unknown as FastifyInstance

  await app.register(cookie)
  await app.register(session, {
    secret: SESSION_SECRET,
    cookie: { secure: 'auto' },
    saveUninitialized: false,
    store: options.store
  })
  await app.register(tlsCertAuth, options.plugin)

  app.addHook('onSend', async (_request, reply) => { reply.header('x-instance', instance) })
  app.get(LOGIN_URL, async () => ({ page: 'login', instance }))
  app.get(REDIRECT_URL, async () => ({ page: 'home', instance }))
  app.get('/whoami', async (request): Promise<Whoami> => {
    const certUser = request.certUser
    return {
      instance,
      user: (request.session.get('user' as 'cookie') as unknown as Whoami['user']) ?? null,
      certUser: certUser === null
        ? null
        : {
            username: certUser.username,
            dn: certUser.dn,
            source: certUser.source,
            fingerprint256: certUser.fingerprint256,
            hasCertificate: certUser.certificate !== null
          }
    }
  })
  app.post('/logout', async (request) => {
    await request.session.destroy()
    return { loggedOut: true, instance }
  })

  const host = options.host ?? '127.0.0.1'
  await app.listen({ host, port: 0 })
  const { port } = app.server.address() as { port: number }
  return {
    app,
    instance,
    port,
    url: `${options.https === undefined ? 'http' : 'https'}://${host}:${port}`,
    logs,
    close: async () => { await app.close() }
  }
}

/** The `name=value` of the session cookie a response sets, or null. */
export function sessionCookieOf (setCookie: string | string[] | undefined): string | null {
  const all = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie]
  const found = all.find((line) => line.startsWith(SESSION_COOKIE + '='))
  return found === undefined ? null : found.split(';')[0]
}
