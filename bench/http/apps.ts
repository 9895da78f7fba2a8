// The contenders of the HTTP benchmark: the plugin (built, from dist/) in each configuration, and
// what an application would use instead: a hand-written hook, or @fastify/passport with
// passport-client-cert. Each builder returns an app that is not listening yet; server.ts serves it
// in a process of its own, footprint.ts drives it in-process.

import cookie from '@fastify/cookie'
import fastifyPassport from '@fastify/passport'
import secureSession from '@fastify/secure-session'
import session, { MemoryStore } from '@fastify/session'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type Session } from 'fastify'
import { X509Certificate } from 'node:crypto'
import { Strategy as ClientCertStrategy, type PeerCertificate } from 'passport-client-cert'
import tlsCertAuth from '../../dist/index'

export interface User { id: number, username: string }

/** The PEM files of a server that does mutual TLS itself. */
export interface TlsServerFiles { key: string, cert: string, ca: string }

export interface BenchApp {
  app: FastifyInstance
  /** The MemoryStore's map, when the app keeps sessions in one, so that it can be emptied. */
  sessions?: Map<string, unknown>
}

export const LOGIN_URL = '/accounts/login/'
export const ALICE_DN = 'CN=alice,O=Example,C=AU'
/** nginx's `$ssl_client_verify` and `$ssl_client_s_dn` for alice's certificate. */
export const PROXY_HEADERS: Record<string, string> = { 'x-client-cert-valid': 'SUCCESS', 'x-client-cert-dn': ALICE_DN }
/** Users besides alice, so that a login looks its user up in a realistically sized map. */
const OTHER_USERS = 10_000

export const userDn = (index: number): string => `CN=user${String(index).padStart(5, '0')},O=Example,C=AU`

function makeUsers (): Map<string, User> {
  const users = new Map<string, User>([['alice', { id: 0, username: 'alice' }]])
  for (let i = 1; i <= OTHER_USERS; i++) {
    const username = `user${String(i).padStart(5, '0')}`
    users.set(username, { id: i, username })
  }
  return users
}
const users = makeUsers()

// Fixed and public on purpose: these sessions live for one benchmark run on 127.0.0.1.
const SESSION_SECRET = 'bench-only session secret, 32+ characters long'
const SECURE_SESSION_KEY = Buffer.alloc(32, 'bench')

type SessionKind = 'session' | 'secure-session'

/** @fastify/session in a MemoryStore over a map we hold, or @fastify/secure-session. */
async function registerSession (app: FastifyInstance, kind: SessionKind): Promise<Map<string, unknown> | undefined> {
  if (kind === 'secure-session') {
    await app.register(secureSession, { key: SECURE_SESSION_KEY, cookie: { path: '/', httpOnly: true, secure: 'auto' } })
    return undefined
  }
  const sessions = new Map<string, Session>()
  await app.register(cookie)
  await app.register(session, {
    secret: SESSION_SECRET,
    store: new MemoryStore(sessions),
    saveUninitialized: false,
    cookie: { secure: 'auto' }
  })
  return sessions
}

/**
 * A login a user writes by hand checks only that the proxy said SUCCESS and splits the DN on ','
 * (wrong for an escaped comma: that is the floor we are measured against, not a model).
 */
function naiveUsername (request: FastifyRequest): string | null {
  if (request.headers['x-client-cert-valid'] !== 'SUCCESS') return null
  const dn = request.headers['x-client-cert-dn']
  if (typeof dn !== 'string') return null
  for (const part of dn.split(',')) {
    if (part.startsWith('CN=')) return part.slice(3)
  }
  return null
}

/** The same, reading the CN from the forwarded PEM parsed on every request. */
function naivePemUsername (request: FastifyRequest): string | null {
  if (request.headers['x-client-cert-valid'] !== 'SUCCESS') return null
  const pem = request.headers['x-client-cert']
  if (typeof pem !== 'string') return null
  const subject = new X509Certificate(decodeURIComponent(pem)).subject
  for (const line of subject.split('\n')) {
    if (line.startsWith('CN=')) return line.slice(3)
  }
  return null
}

/** The field a hand-written hook decorates the request with. */
type HandRequest = FastifyRequest & { clientUsername: string | null }

/** What the hand-written login uses of a session; re-read after regenerate(), which replaces it. */
interface LoginSession {
  regenerate: () => Promise<void> | void
  set: (key: string, value: unknown) => void
}
const sessionOf = (request: FastifyRequest): LoginSession => (request as unknown as { session: LoginSession }).session

const identityRoute = (app: FastifyInstance): void => {
  app.get('/me', async (request) => request.certUser?.username ?? '')
}
const handIdentityRoute = (app: FastifyInstance): void => {
  app.decorateRequest('clientUsername', null)
  app.get('/me', async (request) => (request as HandRequest).clientUsername ?? '')
}
const loginPage = (app: FastifyInstance): void => {
  app.get(LOGIN_URL, async () => 'password form')
}

/** Scenario 1's reference: the app without the plugin. */
async function bare (): Promise<BenchApp> {
  const app = Fastify()
  app.get('/hello', async () => 'hello')
  return { app }
}

async function pluginUnread (): Promise<BenchApp> {
  const app = Fastify()
  await app.register(tlsCertAuth, { loginUrl: false })
  app.get('/hello', async () => 'hello')
  return { app }
}

async function pluginIdentity (): Promise<BenchApp> {
  const app = Fastify()
  await app.register(tlsCertAuth, { loginUrl: false })
  identityRoute(app)
  return { app }
}

async function hookIdentity (): Promise<BenchApp> {
  const app = Fastify()
  handIdentityRoute(app)
  app.addHook('onRequest', async (request) => {
    (request as HandRequest).clientUsername = naiveUsername(request)
  })
  return { app }
}

async function pluginGuard (): Promise<BenchApp> {
  const app = Fastify()
  await app.register(tlsCertAuth, { loginUrl: false })
  app.get('/api/me', { onRequest: app.requireCertificate }, async (request) => request.certUser?.username ?? '')
  return { app }
}

async function hookGuard (): Promise<BenchApp> {
  const app = Fastify()
  app.decorateRequest('clientUsername', null)
  const guard = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const username = naiveUsername(request)
    if (username === null) return await reply.code(401).send('no certificate')
    ;(request as HandRequest).clientUsername = username
  }
  app.get('/api/me', { onRequest: guard }, async (request) => (request as HandRequest).clientUsername ?? '')
  return { app }
}

// Logins run behind a proxy that says the browser spoke HTTPS, as in the README: so the cookie
// is Secure, as it is in production.
const proxiedApp = (): FastifyInstance => Fastify({ trustProxy: '127.0.0.1' })

async function pluginLogin (): Promise<BenchApp> {
  const app = proxiedApp()
  const sessions = await registerSession(app, 'session')
  await app.register(tlsCertAuth, { findUser: (identity) => users.get(identity.username) ?? null })
  loginPage(app)
  return { app, sessions }
}

async function hookLogin (): Promise<BenchApp> {
  const app = proxiedApp()
  const sessions = await registerSession(app, 'session')
  app.addHook('onRequest', async (request, reply) => {
    if (request.url !== LOGIN_URL) return
    const username = naiveUsername(request)
    if (username === null) return
    const user = users.get(username)
    if (user === undefined) return await reply.code(403).send('no such user')
    await sessionOf(request).regenerate()
    sessionOf(request).set('user', user)
    return await reply.redirect('/', 302)
  })
  loginPage(app)
  return { app, sessions }
}

async function pluginPem (): Promise<BenchApp> {
  const app = Fastify()
  await app.register(tlsCertAuth, { loginUrl: false, headers: { cert: 'x-client-cert' } })
  identityRoute(app)
  return { app }
}

async function hookPem (): Promise<BenchApp> {
  const app = Fastify()
  handIdentityRoute(app)
  app.addHook('onRequest', async (request) => {
    (request as HandRequest).clientUsername = naivePemUsername(request)
  })
  return { app }
}

function mutualTlsApp (tls: TlsServerFiles | undefined): FastifyInstance {
  if (tls === undefined) throw new Error('a mutual TLS contender needs the server\'s PEM files')
  // Browsers without a certificate still reach the login page: the app decides, not the handshake.
  const app = Fastify({ https: { ...tls, requestCert: true, rejectUnauthorized: false } })
  return app as unknown as FastifyInstance
}

/** The plugin on Node's own mutual TLS: an identity route and the login, in one app with sessions. */
function pluginTls (kind: SessionKind) {
  return async (tls?: TlsServerFiles): Promise<BenchApp> => {
    const app = mutualTlsApp(tls)
    const sessions = await registerSession(app, kind)
    await app.register(tlsCertAuth, { source: 'tls', findUser: (identity) => users.get(identity.username) ?? null })
    app.get('/api/me', { onRequest: app.requireCertificate }, async (request) => request.certUser?.username ?? '')
    loginPage(app)
    return { app, sessions }
  }
}

/** The same app with @fastify/passport and passport-client-cert, as their READMEs set them up. */
function passportTls (kind: SessionKind) {
  return async (tls?: TlsServerFiles): Promise<BenchApp> => {
    const app = mutualTlsApp(tls)
    const sessions = await registerSession(app, kind)
    const passport = new fastifyPassport.Authenticator()
    passport.use('client-cert', new ClientCertStrategy((certificate: PeerCertificate, done) => {
      const { CN } = certificate.subject
      done(null, (typeof CN === 'string' && users.get(CN)) || false)
    }))
    passport.registerUserSerializer(async (user: User) => user.username)
    passport.registerUserDeserializer(async (username: string) => users.get(username) ?? null)
    await app.register(passport.initialize())
    await app.register(passport.secureSession())
    app.get('/api/me', { preValidation: passport.authenticate('client-cert', { session: false }) },
      async (request) => (request.user as User).username)
    app.get(LOGIN_URL, { preValidation: passport.authenticate('client-cert', { successRedirect: '/' }) }, async () => 'password form')
    return { app, sessions }
  }
}

export const contenders = {
  bare,
  'plugin-unread': pluginUnread,
  'plugin-identity': pluginIdentity,
  'hook-identity': hookIdentity,
  'plugin-guard': pluginGuard,
  'hook-guard': hookGuard,
  'plugin-login': pluginLogin,
  'hook-login': hookLogin,
  'plugin-pem': pluginPem,
  'hook-pem': hookPem,
  'tls-plugin-session': pluginTls('session'),
  'tls-passport-session': passportTls('session'),
  'tls-plugin-secure-session': pluginTls('secure-session'),
  'tls-passport-secure-session': passportTls('secure-session')
} satisfies Record<string, (tls?: TlsServerFiles) => Promise<BenchApp>>

export type ContenderName = keyof typeof contenders
