// The ways an application keeps a logged-in user, each against the real package: @fastify/session
// (the default, see login.test.ts), @fastify/secure-session, @fastify/passport and @fastify/jwt
// through `saveUser`, and no login at all (`loginUrl: false`).

import auth from '@fastify/auth'
import cookie from '@fastify/cookie'
import jwt from '@fastify/jwt'
import fastifyPassport from '@fastify/passport'
import secureSession from '@fastify/secure-session'
import Fastify, { type FastifyRequest } from 'fastify'
import { randomBytes } from 'node:crypto'
import { test } from 'tap'
import tlsCertAuth from '../index'
import { certHeaders } from './helpers/app'

const LOGIN = '/accounts/login/'

/** The `name=value` pairs of every Set-Cookie of a response, ready for a Cookie header. */
function cookies (setCookie: string | string[] | undefined): string {
  return [setCookie ?? []].flat().map((line) => line.split(';')[0]).join('; ')
}

test('loginUrl: false needs no session plugin and sets no cookie; certUser and requireCertificate work', async (t) => {
  const app = Fastify()
  await app.register(tlsCertAuth, { loginUrl: false })
  app.get('/whoami', async (request) => ({ username: request.certUser?.username ?? null }))
  app.get('/api', { onRequest: app.requireCertificate }, async (request) => ({ me: request.certUser?.username }))
  app.get(LOGIN, async () => 'an ordinary route')
  for (const url of ['/whoami', '/api', LOGIN]) {
    const response = await app.inject({ url, headers: certHeaders('CN=alice') })
    t.equal(response.statusCode, 200, url)
    t.notOk(response.headers['set-cookie'], `${url}: no cookie`)
  }
  t.same((await app.inject({ url: '/whoami', headers: certHeaders('CN=alice') })).json(), { username: 'alice' })
  t.same((await app.inject({ url: '/api', headers: certHeaders('CN=alice') })).json(), { me: 'alice' })
  t.equal((await app.inject({ url: '/api' })).statusCode, 401)
  t.equal((await app.inject({ url: LOGIN, headers: certHeaders('CN=alice') })).body, 'an ordinary route', 'no login hook')
})

test('loginUrl: false refuses the options that act on the login only', async (t) => {
  for (const [key, value] of [['findUser', () => null], ['saveUser', () => {}], ['sessionKey', 'u'], ['loginRedirectUrl', '/x'], ['autoCreate', false]] as const) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(tlsCertAuth, { loginUrl: false, [key]: value } as unknown as tlsCertAuth.TlsCertAuthOptions) },
      { code: 'FST_TLS_CERT_AUTH_BAD_OPTION', message: new RegExp(`${key}: acts on the login only`) }, key)
  }
})

test('without a session plugin the error names the three ways out', async (t) => {
  const app = Fastify()
  await t.rejects(async () => { await app.register(tlsCertAuth, {}) }, {
    code: 'FST_TLS_CERT_AUTH_NO_SESSION',
    message: /@fastify\/session \(with @fastify\/cookie\) or @fastify\/secure-session.*saveUser.*loginUrl: false/
  })
})

async function secureSessionApp (options: tlsCertAuth.TlsCertAuthOptions = {}) {
  const app = Fastify()
  await app.register(secureSession, { key: randomBytes(32), cookie: { path: '/', httpOnly: true } })
  await app.register(tlsCertAuth, options)
  app.get('/visit', async (request) => {
    request.session.set('cart', 'three apples')
    return 'visited'
  })
  app.get('/me', async (request) => ({ user: request.session.get('user') ?? null, cart: request.session.get('cart') ?? null }))
  return app
}

test('@fastify/secure-session: the login writes the user, and fields from before the login are gone', async (t) => {
  const app = await secureSessionApp()
  const before = cookies((await app.inject({ url: '/visit' })).headers['set-cookie'])
  t.same((await app.inject({ url: '/me', headers: { cookie: before } })).json(), { user: null, cart: 'three apples' })
  const login = await app.inject({ url: LOGIN, headers: { ...certHeaders('CN=alice'), cookie: before } })
  t.equal(login.statusCode, 302)
  const after = cookies(login.headers['set-cookie'])
  t.not(after, before, 'a new session cookie')
  t.same((await app.inject({ url: '/me', headers: { cookie: after } })).json(), { user: { username: 'alice', dn: 'CN=alice' }, cart: null })
})

test('@fastify/secure-session: sessionKey refuses the names its session uses', async (t) => {
  for (const sessionKey of ['changed', 'deleted', 'regenerate', 'data', '__ts']) {
    await t.rejects(async () => { await (await secureSessionApp({ sessionKey })).ready() },
      { code: 'FST_TLS_CERT_AUTH_BAD_OPTION', message: /is a name of the session itself/ }, sessionKey)
  }
})

test('saveUser replaces the session step: no session plugin needed, and its own answer wins', async (t) => {
  const saved: Array<{ user: unknown, url: string }> = []
  const app = Fastify()
  await app.register(tlsCertAuth, { saveUser: (request, _reply, user) => { saved.push({ user, url: request.url }) } })
  const login = await app.inject({ url: `${LOGIN}?next=/orders`, headers: certHeaders('CN=alice') })
  t.equal(login.statusCode, 302)
  t.equal(login.headers.location, '/orders')
  t.same(saved, [{ user: { username: 'alice', dn: 'CN=alice' }, url: `${LOGIN}?next=/orders` }])

  const answering = Fastify()
  await answering.register(tlsCertAuth, { saveUser: async (_request, reply) => { await reply.code(200).send({ welcome: true }) } })
  t.same((await answering.inject({ url: LOGIN, headers: certHeaders('CN=alice') })).json(), { welcome: true })

  const failing = Fastify()
  await failing.register(tlsCertAuth, { saveUser: async () => { throw new Error('cannot keep the user') } })
  const failed = await failing.inject({ url: LOGIN, headers: certHeaders('CN=alice') })
  t.equal(failed.statusCode, 500, 'a failing saveUser reaches the error handler')
  t.notOk(failed.headers.location)
})

test('@fastify/passport: saveUser logs the user in through request.logIn', async (t) => {
  const users = new Map([['alice', { id: 7, username: 'alice' }]])
  const app = Fastify()
  await app.register(secureSession, { key: randomBytes(32), cookie: { path: '/' } })
  await app.register(fastifyPassport.initialize())
  await app.register(fastifyPassport.secureSession())
  fastifyPassport.registerUserSerializer(async (user: { id: number }) => user.id)
  fastifyPassport.registerUserDeserializer(async (id: number) => [...users.values()].find((user) => user.id === id) ?? null)
  await app.register(tlsCertAuth, {
    findUser: async (identity) => users.get(identity.username) ?? null,
    saveUser: async (request, _reply, user) => { await request.logIn(user) }
  })
  app.get('/me', async (request) => ({ authenticated: request.isAuthenticated(), user: request.user ?? null }))

  const login = await app.inject({ url: LOGIN, headers: certHeaders('CN=alice') })
  t.equal(login.statusCode, 302)
  const me = await app.inject({ url: '/me', headers: { cookie: cookies(login.headers['set-cookie']) } })
  t.same(me.json(), { authenticated: true, user: { id: 7, username: 'alice' } })
  t.same((await app.inject({ url: '/me' })).json(), { authenticated: false, user: null }, 'without the cookie: nobody')
})

test('@fastify/jwt: saveUser signs a token into a cookie', async (t) => {
  const app = Fastify()
  await app.register(cookie)
  await app.register(jwt, { secret: 'a jwt secret of the application', cookie: { cookieName: 'token', signed: false } })
  await app.register(tlsCertAuth, {
    saveUser: async (_request, reply, user: { username: string }) => {
      const token = await reply.jwtSign({ sub: user.username }, { expiresIn: '1h' })
      reply.setCookie('token', token, { path: '/', httpOnly: true, secure: true, sameSite: 'lax' })
    }
  })
  app.get('/me', async (request) => {
    await request.jwtVerify()
    return { sub: (request.user as { sub: string }).sub }
  })
  const login = await app.inject({ url: LOGIN, headers: certHeaders('CN=alice') })
  t.equal(login.statusCode, 302)
  t.match(login.headers['set-cookie'], /token=.*; HttpOnly; Secure/)
  t.same((await app.inject({ url: '/me', headers: { cookie: cookies(login.headers['set-cookie']) } })).json(), { sub: 'alice' })
  t.equal((await app.inject({ url: '/me' })).statusCode, 401)
})

test('@fastify/auth: a certificate or a bearer token', async (t) => {
  const app = Fastify()
  await app.register(auth)
  await app.register(tlsCertAuth, { loginUrl: false })
  const bearer = async (request: FastifyRequest) => {
    if (request.headers.authorization !== 'Bearer service-token') throw Object.assign(new Error('bad token'), { statusCode: 401 })
  }
  app.get('/api', { onRequest: app.auth([app.requireCertificate, bearer]) }, async (request) => ({ via: request.certUser === null ? 'token' : request.certUser.username }))
  t.same((await app.inject({ url: '/api', headers: certHeaders('CN=alice') })).json(), { via: 'alice' })
  t.same((await app.inject({ url: '/api', headers: { authorization: 'Bearer service-token' } })).json(), { via: 'token' })
  const neither = await app.inject({ url: '/api', headers: { authorization: 'Bearer wrong' } })
  t.equal(neither.statusCode, 401)
})
