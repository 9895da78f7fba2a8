import secureSession from '@fastify/secure-session'
import Fastify from 'fastify'
import { randomBytes } from 'node:crypto'
import { test } from 'tap'
import tlsCertAuth from '../index'
import { sessionPropertyNames } from '../plugin/login'
import { buildApp, certHeaders, logged, sessionCookie } from './helpers/app'
import { certificate, clientKey, name, pem, string, TAGS, throwawayIssuer } from './helpers/der'
import { exactly } from './helpers/refusal'

const LOGIN = '/accounts/login/'

test('no certificate, or a verify value other than SUCCESS: the login route answers as usual', async (t) => {
  const { app, logs } = await buildApp()
  for (const headers of [{}, certHeaders('CN=alice', 'FAILED:certificate has expired'), certHeaders('CN=alice', 'NONE'),
    certHeaders('CN=alice', ''), certHeaders('CN=alice', 'GENEROUS'), certHeaders('CN=alice', 'success'),
    { 'x-client-cert-valid': 'NONE' }]) {
    const response = await app.inject({ url: LOGIN, headers })
    t.equal(response.statusCode, 200, JSON.stringify(headers))
    t.same(response.json(), { page: 'login form', certUser: null })
    t.notOk(response.headers['set-cookie'], 'no session written')
  }
  t.equal(logged(logs, 'not verified by the proxy').length, 3, 'FAILED, GENEROUS and success are logged; NONE and empty are not')
  t.match(logged(logs, 'not verified')[0], { verify: 'FAILED:certificate has expired' })
})

test('a verified certificate logs in: session regenerated, user stored, 302 to loginRedirectUrl', async (t) => {
  const { app, logs } = await buildApp({ loginRedirectUrl: '/home' })
  const before = await app.inject({ url: '/visit' })
  const planted = sessionCookie(before.headers['set-cookie'])

  const response = await app.inject({ url: LOGIN, headers: { ...certHeaders('CN=alice,O=Example,C=AU'), cookie: planted } })
  t.equal(response.statusCode, 302)
  t.equal(response.headers.location, '/home')
  const cookie = sessionCookie(response.headers['set-cookie'])
  t.not(cookie, planted, 'session id changes on login (no fixation)')

  const whoami = await app.inject({ url: '/whoami', headers: { cookie } })
  t.same(whoami.json().user, { username: 'alice', dn: 'CN=alice,O=Example,C=AU' })
  t.equal(whoami.json().certUser, null, 'the session, not the certificate, carries the login')
  const old = await app.inject({ url: '/whoami', headers: { cookie: planted } })
  t.equal(old.json().user, null, 'the planted session holds no user')

  t.match(logged(logs, 'client certificate login')[0], { username: 'alice', source: 'headers' })
  t.notOk(JSON.stringify(logs).includes('O=Example'), 'the DN is not logged on success')
})

test('the Django examples log in as alice and mp', async (t) => {
  const { app } = await buildApp({ findUser: (identity) => ({ name: identity.username }) })
  for (const [dn, name] of [['C=AU, ST=Victoria, L=Melbourne, CN=mp', 'mp'],
    ['CN=alice\\,CN=admin', 'alice,CN=admin'], ['OU=x\\+CN=admin,CN=bob', 'bob'], ['CN=J\\C3\\BCrgen', 'Jürgen']]) {
    const response = await app.inject({ url: LOGIN, headers: certHeaders(dn) })
    const whoami = await app.inject({ url: '/whoami', headers: { cookie: sessionCookie(response.headers['set-cookie']) } })
    t.same(whoami.json().user, { name }, dn)
  }
})

test('the slash form logs in with the certificate that checks it, or where uncheckedSlashForm says so', async (t) => {
  const key = clientKey()
  const alice = certificate({
    subject: name([[{ type: '2.5.4.6', value: string(TAGS.printable, 'AU') }], [{ type: '2.5.4.10', value: string(TAGS.utf8, 'Example') }],
      [{ type: '2.5.4.3', value: string(TAGS.utf8, 'alice') }]]),
    issuer: throwawayIssuer(),
    publicKey: key.publicKey
  })
  const django = certHeaders('/C=AU/O=Example/CN=alice')
  const withCertificate = { ...django, 'x-client-cert': encodeURIComponent(pem(alice)) }

  const { app, logs } = await buildApp()
  const refused = await app.inject({ url: LOGIN, headers: django })
  t.equal(refused.statusCode, 403, 'the slash form alone is refused by default')
  t.equal(refused.json().code, 'FST_TLS_CERT_AUTH_NO_IDENTITY')
  t.notOk(refused.headers['set-cookie'])
  t.equal(logged(logs, 'client certificate refused')[0].reason, 'a DN in OpenSSL\'s slash form with no certificate to check it: ' +
    'forward the certificate, or send the DN in RFC 2253 (uncheckedSlashForm: true reads it anyway)')

  for (const options of [{ headers: { cert: 'x-client-cert' } }, { preset: 'nginx-legacy', headers: { cert: 'x-client-cert' } }] as const) {
    const checked = (await buildApp(options)).app
    const login = await checked.inject({ url: LOGIN, headers: withCertificate })
    t.equal(login.statusCode, 302, `${JSON.stringify(options)}: the certificate checks the DN`)
    const whoami = await checked.inject({ url: '/whoami', headers: { cookie: sessionCookie(login.headers['set-cookie']) } })
    t.equal(whoami.json().user.username, 'alice')
    const disagreeing = await checked.inject({ url: LOGIN, headers: { ...withCertificate, 'x-client-cert-dn': '/C=AU/O=Example/CN=admin' } })
    t.equal(disagreeing.statusCode, 403, 'a DN the certificate does not hold is refused')
    t.equal((await checked.inject({ url: LOGIN, headers: django })).statusCode, 403, 'and the DN alone still is')
  }

  for (const options of [{ headers: { uncheckedSlashForm: true } }, { preset: 'nginx-legacy', headers: { uncheckedSlashForm: true } }] as const) {
    const unchecked = await buildApp(options)
    const login = await unchecked.app.inject({ url: LOGIN, headers: django })
    t.equal(login.statusCode, 302, `${JSON.stringify(options)}: the DN alone is read`)
    const whoami = await unchecked.app.inject({ url: '/whoami', headers: { cookie: sessionCookie(login.headers['set-cookie']) } })
    t.same(whoami.json().user, { username: 'alice', dn: '/C=AU/O=Example/CN=alice' })
    t.equal((await unchecked.app.inject({ url: LOGIN, headers: certHeaders('/C=AU/O=Example/CN=alice/CN=admin') })).statusCode, 403,
      'a second CN is still refused')
  }
})

test('verified but no usable identity: 403 FST_TLS_CERT_AUTH_NO_IDENTITY with the reason logged', async (t) => {
  const { app, logs } = await buildApp()
  const cases: Array<[Record<string, string>, string]> = [
    [certHeaders('CN=alice,CN=admin'), 'exactly one CN'],
    [certHeaders('CN=a+CN=b'), 'exactly one CN'],
    [certHeaders('CN=a,2.5.4.3=b'), 'exactly one CN'],
    [certHeaders('O=Example,C=AU'), 'found 0'],
    [certHeaders('CN=,O=x'), 'CN in the subject is empty'],
    [certHeaders('CN=a;O=b'), 'unescaped'],
    [{ 'x-client-cert-valid': 'SUCCESS' }, 'no certificate or subject header']
  ]
  for (const [headers, reason] of cases) {
    logs.length = 0
    const response = await app.inject({ url: LOGIN, headers })
    t.equal(response.statusCode, 403, JSON.stringify(headers))
    t.equal(response.json().code, 'FST_TLS_CERT_AUTH_NO_IDENTITY')
    t.notOk(response.headers['set-cookie'])
    t.match(logged(logs, 'client certificate refused')[0], { reason: new RegExp(reason) })
  }
})

test('the path alone decides: query strings are ignored, other paths never log in', async (t) => {
  const { app } = await buildApp()
  const withQuery = await app.inject({ url: LOGIN + '?x=1', headers: certHeaders('CN=alice') })
  t.equal(withQuery.statusCode, 302)
  const other = await app.inject({ url: '/whoami', headers: certHeaders('CN=alice') })
  t.equal(other.statusCode, 200)
  t.equal(other.json().certUser.username, 'alice', 'certUser works on every route')
  t.equal(other.json().user, null, 'but only the login URL writes the session')
})

test('a header sent twice gives no identity, and a warning', async (t) => {
  const { app, logs } = await buildApp()
  for (const headers of [
    { 'x-client-cert-valid': 'SUCCESS', 'x-client-cert-dn': ['CN=alice', 'CN=admin'] },
    { 'x-client-cert-valid': ['SUCCESS', 'SUCCESS'], 'x-client-cert-dn': 'CN=alice' }
  ]) {
    const response = await app.inject({ url: LOGIN, headers })
    t.equal(response.statusCode, 200)
    t.equal(response.json().certUser, null)
  }
  t.same(logged(logs, 'sent more than once').map((line) => line.headers), [['x-client-cert-dn'], ['x-client-cert-valid']])
})

test('open redirects are refused: only same-site paths are followed', async (t) => {
  const { app } = await buildApp({ loginRedirectUrl: '/dashboard' })
  const login = (next: string) => app.inject({ url: LOGIN + '?next=' + encodeURIComponent(next), headers: certHeaders('CN=alice') })
  for (const next of ['//evil.example', 'https://evil.example', '/\\evil.example', '\\\\evil.example', 'evil.example',
    '/\t/evil.example', '/x\nLocation: //evil', '', 'javascript:alert(1)', '/ü']) {
    t.equal((await login(next)).headers.location, '/dashboard', JSON.stringify(next))
  }
  for (const next of ['/reports?year=2026', '/a/b#c', '/']) {
    t.equal((await login(next)).headers.location, next, next)
  }
})

test('certUser is computed once, when first read, and not at all when unread', async (t) => {
  let reads = 0
  const { app } = await buildApp({
    headers: { dn: 'x-dn' },
    debug: false
  })
  app.addHook('onRequest', async (request) => {
    // Count the reads of the DN header through a getter.
    const headers = request.headers
    const dn = headers['x-dn']
    Object.defineProperty(headers, 'x-dn', { get: () => { reads++; return dn }, enumerable: true, configurable: true })
  })
  app.get('/twice', async (request) => [request.certUser?.username, request.certUser?.username])
  app.get('/never', async () => 'ok')
  const headers = { 'x-client-cert-valid': 'SUCCESS', 'x-dn': 'CN=alice' }
  t.same((await app.inject({ url: '/twice', headers })).json(), ['alice', 'alice'])
  t.equal(reads, 1, 'read once for two accesses')
  await app.inject({ url: '/never', headers })
  t.equal(reads, 1, 'a route that never reads certUser pays nothing')
})

test('a user\'s repeated requests build the identity once; an attacker\'s distinct values cannot grow what is kept', async (t) => {
  const { app } = await buildApp()
  const seen: unknown[] = []
  app.get('/keep', async (request) => { seen.push(request.certUser); return 'ok' })
  const as = async (dn: string) => await app.inject({ url: '/keep', headers: certHeaders(dn) })
  await as('CN=alice')
  await as('CN=alice')
  t.equal(seen[0], seen[1], 'the same identity, built once')
  await as('CN=bob')
  await as('CN=alice')
  t.equal(seen[3], seen[0], 'and kept beside another user\'s')
  for (let i = 0; i < 500; i++) await as(`CN=visitor${i}`)
  await as('CN=alice')
  t.not(seen.at(-1), seen[0], 'after 500 other names, alice\'s was let go and is built again')
  t.match(seen.at(-1), { username: 'alice' })
})

test('only the login path logs in: a longer path, another path of the same length or a shorter prefix does not', async (t) => {
  const { app, logs } = await buildApp()
  for (const url of ['/accounts/login/x', '/accounts/login/x?next=/', '/accounts/logon/', '/accounts/login', '/accounts/logi?n/']) {
    const response = await app.inject({ url, headers: certHeaders('CN=alice') })
    t.equal(response.statusCode, 404, url)
    t.notOk(response.headers['set-cookie'], `${url}: no session`)
  }
  t.same(logged(logs, 'client certificate login'), [], 'no login was attempted')
  for (const url of [LOGIN, LOGIN + '?a', LOGIN + '?']) {
    t.equal((await app.inject({ url, headers: certHeaders('CN=alice') })).statusCode, 302, url)
  }
})

test('without a same-site next in the query the login goes to loginRedirectUrl', async (t) => {
  const { app } = await buildApp({ loginUrl: '/', loginRedirectUrl: '/home' })
  const location = async (url: string) => (await app.inject({ url, headers: certHeaders('CN=alice') })).headers.location
  t.equal(await location('/?next=/reports'), '/reports', 'a query right after the path')
  t.equal(await location('/'), '/home', 'no query')
  t.equal(await location('/?'), '/home', 'an empty query')
  t.equal(await location('/?a=1&nxt=/x'), '/home', 'a query without next')
  t.equal(await location('/?next=https://evil.example'), '/home', 'next on another site')

  // Only the query carries `next`: a path that reads like one does not.
  const { app: other } = await buildApp({ loginUrl: '/sign-in&next=/elsewhere', loginRedirectUrl: '/home' })
  const response = await other.inject({ url: '/sign-in&next=/elsewhere', headers: certHeaders('CN=alice') })
  t.equal(response.statusCode, 302)
  t.equal(response.headers.location, '/home')
})

test('a login answered by the plugin never reaches the login route, and a saveUser that answers has the last word', async (t) => {
  const { app, logs } = await buildApp()
  let handled = 0
  app.addHook('preHandler', async (request) => { if (request.url.startsWith(LOGIN)) handled++ })
  // An answer still on its way when the login hook is done (a session store or a hook that waits on I/O).
  app.addHook('onSend', async () => { await new Promise(setImmediate) })
  t.equal((await app.inject({ url: LOGIN, headers: certHeaders('CN=alice') })).statusCode, 302)
  t.equal(handled, 0, 'the route does not run after the redirect')
  t.equal((await app.inject({ url: LOGIN })).statusCode, 200, 'without a certificate the route answers')
  t.equal(handled, 1)

  const answering = await buildApp({ saveUser: async (_request, reply) => { await reply.code(200).send({ welcome: true }) } })
  const response = await answering.app.inject({ url: LOGIN, headers: certHeaders('CN=alice') })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { welcome: true })
  t.notOk(response.headers.location)
  // Warnings and errors, the cookie warning of plain HTTP aside.
  const problems = (lines: typeof logs) => lines.filter((line) => line.level >= 40 && !line.msg.includes('over plain HTTP'))
  t.same(problems(answering.logs), [], 'no second answer attempted')
  t.same(problems(logs), [])
})

/** How registration refuses a sessionKey that the session object uses itself. */
const nameOfTheSession = (sessionKey: string) => ({
  code: 'FST_TLS_CERT_AUTH_BAD_OPTION',
  message: exactly(`fastify-tls-certificate-auth: invalid option sessionKey: ${JSON.stringify(sessionKey)} is a name of the session itself`)
})

test('sessionKey, with @fastify/session: the names of its session are refused, those of its store and signer are not', async (t) => {
  for (const sessionKey of ['sessionId', 'encryptedSessionId', 'isSaved', 'isModified', 'cookie', 'regenerate', 'reload', 'destroy', 'save', 'touch', 'options']) {
    await t.rejects(async () => { await buildApp({ sessionKey }) }, nameOfTheSession(sessionKey), sessionKey)
  }
  // Names of its store, signer and cookie options, and of the request it is built for, are no names of the session.
  for (const sessionKey of ['store', 'algorithm', 'secrets', '_events', 'domain', 'secure', 'maxAge', 'path', 'session']) {
    const { app } = await buildApp({ sessionKey })
    t.equal((await app.inject({ url: LOGIN, headers: certHeaders('CN=alice') })).statusCode, 302, sessionKey)
  }
})

test('sessionKey, with @fastify/secure-session: every name of its session and the __ts it stores are refused', async (t) => {
  const app = Fastify()
  await app.register(secureSession, { key: randomBytes(32), cookie: { path: '/' } })
  await app.ready()
  t.same([...sessionPropertyNames(app)].filter((name) => !(name in Object.prototype)).sort(),
    ['__ts', 'changed', 'data', 'delete', 'deleted', 'get', 'options', 'regenerate', 'set', 'touch'])
})

test('sessionKey, with a session plugin of another kind: only the names every object has are refused', async (t) => {
  const build = async (sessionKey: string, decorate: (app: ReturnType<typeof Fastify>) => void) => {
    const app = Fastify()
    app.decorateRequest('session', null as never)
    decorate(app)
    await app.register(tlsCertAuth, { sessionKey })
    await app.ready()
  }
  const plain = () => {}
  await build('user', plain)
  await build('sessionId', plain)
  await t.rejects(async () => { await build('toString', plain) }, nameOfTheSession('toString'))

  // Built like @fastify/secure-session: it keeps the object it is given, and stores __ts in it.
  const secureLike = (app: ReturnType<typeof Fastify>) => {
    app.decorate('createSecureSession', (data: Record<string, unknown>) => ({
      [Symbol('object')]: Object.assign(data, { __ts: 1 }),
      [Symbol('cookie options')]: { path: '/', domain: 'example.com' },
      get () {},
      set () {},
      regenerate () {}
    }))
  }
  await build('user', secureLike)
  await build('domain', secureLike)
  await t.rejects(async () => { await build('__ts', secureLike) }, nameOfTheSession('__ts'))
  await t.rejects(async () => { await build('regenerate', secureLike) }, nameOfTheSession('regenerate'))
})
