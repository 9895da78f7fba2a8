import cookie from '@fastify/cookie'
import session from '@fastify/session'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { ServerOptions } from 'node:https'
import { Writable } from 'node:stream'
import tlsCertAuth from '../../index'

export const SECRET = 'a secret with minimum length of 32 characters'

export interface LogLine { level: number, msg: string, [key: string]: unknown }

/** A Fastify app with cookie, session and the plugin, whose log lines the test can read. */
export async function buildApp (
  options: tlsCertAuth.TlsCertAuthOptions = {},
  serverOptions: FastifyServerOptions & { https?: ServerOptions } = {}
): Promise<{ app: FastifyInstance, logs: LogLine[] }> {
  const logs: LogLine[] = []
  const stream = new Writable({
    write (chunk, _encoding, done) {
      logs.push(JSON.parse(chunk.toString()))
      done()
    }
  })
  // Fastify's overloads pick the server type from `https`; the tests only need the common instance.
  const app = Fastify({ logger: { level: 'info', stream }, ...serverOptions } as FastifyServerOptions) as unknown as FastifyInstance
  await app.register(cookie)
  await app.register(session, { secret: SECRET, cookie: { secure: 'auto' }, saveUninitialized: false })
  await app.register(tlsCertAuth, options)
  app.get('/accounts/login/', async (request) => ({ page: 'login form', certUser: request.certUser }))
  app.get('/visit', async (request) => {
    request.session.set('visited' as 'cookie', true as never)
    return 'visited'
  })
  app.get('/whoami', async (request) => ({ certUser: request.certUser, user: request.session.get('user' as 'cookie') ?? null }))
  return { app, logs }
}

/** The log lines whose message contains `text`. */
export function logged (logs: LogLine[], text: string): LogLine[] {
  return logs.filter((line) => line.msg.includes(text))
}

/** The nginx-style header pair for a verified certificate with this subject DN. */
export function certHeaders (dn: string, verify = 'SUCCESS'): Record<string, string> {
  return { 'x-client-cert-valid': verify, 'x-client-cert-dn': dn }
}

/** The `name=value` pair of the session cookie in a response. */
export function sessionCookie (setCookie: string | string[] | undefined): string {
  const first = Array.isArray(setCookie) ? setCookie[0] : setCookie
  if (first === undefined) throw new Error('no set-cookie header')
  return first.split(';')[0]
}
