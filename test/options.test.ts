import cookie from '@fastify/cookie'
import Fastify from 'fastify'
import { test, type Test } from 'tap'
import tlsCertAuth from '../index'
import { buildApp, certHeaders, logged } from './helpers/app'
import { SLASH_FORM_NEEDS_CERTIFICATE } from '../plugin/sources/header-options'
import { exactly } from './helpers/refusal'

/** Sets NODE_ENV (undefined: unset); the value before the test's first change is restored after it. */
function nodeEnv (t: Test, value: string | undefined): void {
  const set = (to: string | undefined) => {
    if (to === undefined) delete process.env.NODE_ENV
    else process.env.NODE_ENV = to
  }
  if (!restoring.has(t)) {
    restoring.add(t)
    const before = process.env.NODE_ENV
    t.teardown(() => set(before))
  }
  set(value)
}
const restoring = new WeakSet<Test>()

const rejects = (t: Test, options: object, code: string, message: RegExp | string = '') =>
  t.rejects(async () => { await buildApp(options as tlsCertAuth.TlsCertAuthOptions) }, { code, message }, JSON.stringify(options))

test('bad options fail at registration with FST_TLS_CERT_AUTH_BAD_OPTION', async (t) => {
  nodeEnv(t, 'test')
  const code = 'FST_TLS_CERT_AUTH_BAD_OPTION'
  await t.test('the login: URLs, users, the session key', async (t) => {
    await rejects(t, { loginURL: '/x' }, code, /loginURL: unknown option/)
    await rejects(t, { loginUrl: 'accounts/login' }, code, /loginUrl/)
    await rejects(t, { loginUrl: '/login?x=1' }, code, /loginUrl/)
    await rejects(t, { loginUrl: '/log in' }, code, /loginUrl/)
    await rejects(t, { loginUrl: 7 }, code, /loginUrl: expected a string/)
    await rejects(t, { loginRedirectUrl: '/x\r\nSet-Cookie: a=b' }, code, /loginRedirectUrl/)
    await rejects(t, { autoCreate: 'yes' }, code, /autoCreate: expected a boolean/)
    await rejects(t, { autoCreate: true, findUser: () => null }, code, /needs both findUser and createUser/)
    await rejects(t, { autoCreate: true, createUser: () => ({}) }, code, /needs both/)
    await rejects(t, { findUser: 'users' }, code, /findUser: expected a function/)
    await rejects(t, { sessionKey: '' }, code, /sessionKey/)
    await rejects(t, { sessionKey: 'cookie' }, code, /sessionKey: "cookie" is a name of the session itself/)
    await rejects(t, { sessionKey: '__proto__' }, code, /sessionKey/)
  })
  await t.test('the header source: preset, headers, XFCC element, source', async (t) => {
    await rejects(t, { headers: 'x' }, code, /headers: expected an object/)
    await rejects(t, { headers: null }, code, /headers: expected an object/)
    await rejects(t, { headers: { verfy: 'x' } }, code, /headers.verfy: unknown/)
    await rejects(t, { headers: { dn: '' } }, code, /headers.dn: expected a header name, or null/)
    await rejects(t, { headers: { dn: 'x dn' } }, code, /not a header name/)
    await rejects(t, { headers: { dnFormat: 'ldap' } }, code, /headers.dnFormat/)
    await rejects(t, { source: 'socket' }, code, /source/)
    await rejects(t, { source: 'tls', preset: 'nginx' }, code, /preset: applies to source: headers only/)
    await rejects(t, { source: 'tls', headers: {} }, code, /headers: applies to source: headers only/)
    await rejects(t, { preset: 'squid' }, code, /preset: "squid" is not one of nginx, nginx-legacy/)
    await rejects(t, { preset: 'toString' }, code, /preset/)
    await rejects(t, { headers: { require: 'x' } }, code, /headers.require: expected an object/)
    await rejects(t, { headers: { require: { 'x-used': 1 } } }, code, /headers.require.x-used: expected a string/)
    await rejects(t, { headers: { verifySuccess: '' } }, code, /headers.verifySuccess/)
    await rejects(t, { headers: { certEncoding: 'der' } }, code, /headers.certEncoding: expected one of pem, base64-der, rfc9440, xfcc/)
    await rejects(t, { preset: 'envoy', headers: { chain: 'x-chain' } }, code, /XFCC carries its own Chain/)
    await rejects(t, { headers: { dn: null, cert: null } }, code, /at least one of dn, cert or info/)
    const needsCertificate = (name: string) => exactly(`fastify-tls-certificate-auth: invalid option ${name}: ${SLASH_FORM_NEEDS_CERTIFICATE}`)
    await rejects(t, { preset: 'nginx-legacy' }, code, needsCertificate('preset'))
    await rejects(t, { preset: 'nginx-legacy', headers: { cert: null, uncheckedSlashForm: false } }, code, needsCertificate('preset'))
    await rejects(t, { headers: { dnFormat: 'legacy' } }, code, needsCertificate('headers.dnFormat'))
    await rejects(t, { preset: 'nginx-legacy', headers: { dnFormat: 'legacy' } }, code, needsCertificate('headers.dnFormat'))
    await rejects(t, { headers: { uncheckedSlashForm: 'yes' } }, code, /^fastify-tls-certificate-auth: invalid option headers.uncheckedSlashForm: expected a boolean$/)
    for (const headers of [{ dnFormat: 'rfc4514', uncheckedSlashForm: true }, { dn: null, cert: 'x-cert', uncheckedSlashForm: true }] as const) {
      await rejects(t, { headers }, code, /^fastify-tls-certificate-auth: invalid option headers.uncheckedSlashForm: reads a DN header in the slash form, and no DN header here can be in it$/)
    }
    await rejects(t, { preset: 'haproxy', headers: { uncheckedSlashForm: true } }, code, /headers.uncheckedSlashForm: reads a DN header in the slash form/)
    await rejects(t, { xfccElement: 'middle' }, code, /xfccElement/)
  })
  await t.test('trusted proxies and debug', async (t) => {
    await rejects(t, { trustedProxies: '10.0.0.0/33' }, code, /trustedProxies/)
    await rejects(t, { trustedProxies: 'nowhere' }, code, /trustedProxies/)
    await rejects(t, { debug: 1 }, code, /debug: expected a boolean/)
    await rejects(t, { debugFakeHeaders: null }, code, /debugFakeHeaders: expected an object/)
    await rejects(t, { debugFakeHeaders: { HTTP_X_CLIENT_CERT_DN: 1 } }, code, /debugFakeHeaders.HTTP_X_CLIENT_CERT_DN/)
    await rejects(t, { debug: true, debugFakeHeaders: { 'bad header': 'x' } }, code, /not a header name/)
  })
  await t.test('the username rule and the accept checks', async (t) => {
    await rejects(t, { username: 'nickname' }, code, /username: expected a function or one of cn, email/)
    await rejects(t, { accept: null }, code, /accept: expected an object/)
    await rejects(t, { accept: { issuer: [] } }, code, /accept.issuer: unknown option/)
    await rejects(t, { accept: { issuers: [] } }, code, /accept.issuers: expected a non-empty array/)
    await rejects(t, { accept: { issuers: ['CN=a;b'] } }, code, /accept.issuers: Malformed distinguished name/)
    await rejects(t, { accept: { fingerprints: 'AB' } }, code, /accept.fingerprints: expected a non-empty array/)
    await rejects(t, { accept: { caFingerprints: ['AB:CD'] } }, code, /accept.caFingerprints: "AB:CD" is not a SHA-256 fingerprint/)
    await rejects(t, { accept: { clockSkew: -1 } }, code, /accept.clockSkew/)
    await rejects(t, { accept: { clockSkew: Number.NaN } }, code, /accept.clockSkew/)
    await rejects(t, { accept: { checkValidity: 'yes' } }, code, /accept.checkValidity: expected a boolean/)
    await rejects(t, { accept: { isRevoked: true } }, code, /accept.isRevoked: expected a function/)
  })
})

test('a misspelt option, header field or accept check gets a "did you mean"', async (t) => {
  const code = 'FST_TLS_CERT_AUTH_BAD_OPTION'
  await rejects(t, { trustedProxy: '127.0.0.1' }, code, /trustedProxy: unknown option \(did you mean "trustedProxies"\?\)/)
  await rejects(t, { loginURL: '/x' }, code, /did you mean "loginUrl"/)
  await rejects(t, { findUsers: () => null }, code, /did you mean "findUser"/)
  await rejects(t, { headers: { dnFromat: 'rfc4514' } }, code, /headers.dnFromat: unknown header option \(did you mean "dnFormat"\?\)/)
  await rejects(t, { headers: { verfy: 'x' } }, code, /did you mean "verify"/)
  await rejects(t, { accept: { isRevocked: () => false } }, code, /accept.isRevocked: unknown option \(did you mean "isRevoked"\?\)/)
  await t.rejects(async () => { await buildApp({ zzz: 1 } as tlsCertAuth.TlsCertAuthOptions) }, { message: /zzz: unknown option$/ }, 'nothing close: no guess')
})

test('trustedProxies: hints for a host name or a URL, and an empty list is refused', async (t) => {
  const code = 'FST_TLS_CERT_AUTH_BAD_OPTION'
  await rejects(t, { trustedProxies: 'localhost' }, code, /did you mean "loopback"/)
  await rejects(t, { trustedProxies: ['10.0.0.1', 'LocalHost'] }, code, /did you mean "loopback"/)
  await rejects(t, { trustedProxies: 'http://10.0.0.5:8080' }, code, /did you mean "10.0.0.5"\? trustedProxies takes addresses and ranges, not URLs/)
  await rejects(t, { trustedProxies: 'https://[fd00::1]/' }, code, /did you mean "fd00::1"/)
  await rejects(t, { trustedProxies: [] }, code, /trustedProxies: an empty list trusts no peer/)
  await rejects(t, { trustedProxies: '' }, code, /trustedProxies: an empty list trusts no peer/)
  await rejects(t, { trustedProxies: [5] }, code, /trustedProxies: .*$/)
  await rejects(t, { trustedProxies: 'mailto:' }, code, /trustedProxies: [^(]*$/)
  await rejects(t, { trustedProxies: 7 }, code, /trustedProxies: expected addresses and ranges/)
  await rejects(t, { saveUser: () => {}, sessionKey: 'account' }, code, /sessionKey: saveUser keeps the user/)
})

test('registering the plugin twice is this plugin\'s own error', async (t) => {
  const { app } = await buildApp()
  await t.rejects(async () => { await app.register(tlsCertAuth, {}) }, { code: 'FST_TLS_CERT_AUTH_ALREADY_REGISTERED' })
})

test('options Fastify passes to every plugin are accepted', async (t) => {
  const { app } = await buildApp({ prefix: '/x', logLevel: 'warn', logSerializers: {} } as tlsCertAuth.TlsCertAuthOptions)
  await app.ready()
  t.pass()
})

test('header sets that name only some headers, where that is enough, register', async (t) => {
  for (const [options, trusted] of [
    [{ preset: 'traefik', headers: { info: 'x-info' } }, ['x-forwarded-tls-client-cert', 'x-info']], // the certificate, or Traefik's Info
    [{ preset: 'traefik', headers: { cert: null, info: 'x-info' } }, ['x-info']], // Info alone
    // The certificate alone: no slash form read.
    [{ preset: 'nginx-legacy', headers: { dn: null, cert: 'x-client-cert' } }, ['x-client-cert-valid', 'x-client-cert']],
    [{ preset: 'nginx-legacy', headers: { dn: null, info: 'x-info' } }, ['x-client-cert-valid', 'x-info']] // no DN header, so no slash form either
  ] as const) {
    const { app, logs } = await buildApp(options)
    await app.ready()
    t.same(logged(logs, 'trusted proxies')[0]?.headers, trusted, `${JSON.stringify(options)}: registered, reading these headers`)
  }
  t.equal(SLASH_FORM_NEEDS_CERTIFICATE, "the slash form ('legacy') is read only with the certificate to check it: forward it " +
    "(headers.cert: 'x-client-cert', with the proxy setting that header on every request: nginx's proxy_set_header X-Client-Cert " +
    "$ssl_client_escaped_cert), send RFC 2253 (nginx's $ssl_client_s_dn, preset 'nginx'), or accept the slash form's blind " +
    'spots with headers.uncheckedSlashForm: true')
})

test('custom header names, success value, DN format, login URL and session key', async (t) => {
  const { app } = await buildApp({
    loginUrl: '/login',
    sessionKey: 'account',
    headers: { verify: 'X-SSL-Verify', verifySuccess: '0', require: { 'X-SSL-Used': '1' }, dn: 'X-SSL-DN', dnFormat: 'legacy', uncheckedSlashForm: true }
  })
  app.get('/login', async () => 'form')
  app.get('/account', async (request) => request.session.get('account' as 'cookie'))
  const unused = await app.inject({ url: '/login', headers: { 'x-ssl-verify': '0', 'x-ssl-used': '0', 'x-ssl-dn': '/O=x/CN=carol' } })
  t.equal(unused.statusCode, 200, 'a require header with another value: no certificate')
  const response = await app.inject({ url: '/login', headers: { 'x-ssl-verify': '0', 'x-ssl-used': '1', 'x-ssl-dn': '/O=x/CN=carol' } })
  t.equal(response.statusCode, 302)
  const account = await app.inject({ url: '/account', headers: { cookie: response.headers['set-cookie'] as string } })
  t.same(account.json(), { username: 'carol', dn: '/O=x/CN=carol' })
  const rfc = await app.inject({ url: '/login', headers: { 'x-ssl-verify': '0', 'x-ssl-used': '1', 'x-ssl-dn': 'CN=carol' } })
  t.equal(rfc.statusCode, 403, 'the legacy format is enforced, not guessed')
  const old = await app.inject({ url: '/accounts/login/', headers: certHeaders('CN=alice') })
  t.equal(old.statusCode, 200, 'the default login URL no longer logs in')
})

test('without @fastify/session, registration fails with FST_TLS_CERT_AUTH_NO_SESSION', async (t) => {
  const app = Fastify()
  await app.register(cookie)
  await t.rejects(async () => { await app.register(tlsCertAuth) }, {
    code: 'FST_TLS_CERT_AUTH_NO_SESSION',
    message: exactly('fastify-tls-certificate-auth keeps a logged-in user in a session, and none is registered: register ' +
      '@fastify/session (with @fastify/cookie) or @fastify/secure-session before it, keep the user your own way ' +
      'with saveUser, or set loginUrl: false for certificate checks without a login')
  })
})

test('debugFakeHeaders act as client headers, only with debug on', async (t) => {
  nodeEnv(t, 'development')
  const fakes = { HTTP_X_CLIENT_CERT_VALID: 'SUCCESS', 'X-Client-Cert-Dn': 'CN=dev,O=Local' }
  const { app, logs } = await buildApp({ debug: true, debugFakeHeaders: fakes })
  await app.ready()
  t.match(logged(logs, 'debug is on')[0], { level: 40, fakeHeaders: ['x-client-cert-valid', 'x-client-cert-dn'] })
  const response = await app.inject({ url: '/whoami', headers: certHeaders('CN=real'), remoteAddress: '203.0.113.9' })
  t.match(response.json().certUser, { username: 'dev', source: 'debug' }, 'fakes override real headers, from any peer')
  const login = await app.inject({ url: '/accounts/login/' })
  t.equal(login.statusCode, 302)

  const off = await buildApp({ debug: false, debugFakeHeaders: fakes })
  t.equal((await off.app.inject({ url: '/whoami' })).json().certUser, null, 'ignored when debug is off')
  t.equal(logged(off.logs, 'debug is on').length, 0)

  const partial = await buildApp({ debug: true, debugFakeHeaders: { HTTP_X_CLIENT_CERT_VALID: 'SUCCESS' } })
  const untrusted = await partial.app.inject({ url: '/whoami', headers: { 'x-client-cert-dn': 'CN=real' }, remoteAddress: '203.0.113.9' })
  t.equal(untrusted.json().certUser, null, 'a real header in the mix still needs a trusted peer')
  const trusted = await partial.app.inject({ url: '/whoami', headers: { 'x-client-cert-dn': 'CN=real' } })
  t.match(trusted.json().certUser, { username: 'real', source: 'debug' })
})

test('debug registers only under NODE_ENV development or test, and the error says what to set', async (t) => {
  for (const value of ['production', 'Production', 'prod', 'staging', '', undefined]) {
    nodeEnv(t, value)
    await t.rejects(async () => { await buildApp({ debug: true }) },
      { code: 'FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION', message: /NODE_ENV=development or NODE_ENV=test/ }, String(value))
    const { app } = await buildApp({ debug: false })
    await app.ready()
  }
  for (const value of ['development', 'test']) {
    nodeEnv(t, value)
    const { app } = await buildApp({ debug: true })
    await app.ready()
  }
})

test('sessionKey refuses every name the session object uses itself, read from the session plugin', async (t) => {
  for (const sessionKey of ['isSaved', 'isModified', 'cookie', 'sessionId', 'regenerate', 'save', 'touch', 'toString', 'hasOwnProperty', '__proto__', 'constructor']) {
    await t.rejects(async () => { await buildApp({ sessionKey }) },
      { code: 'FST_TLS_CERT_AUTH_BAD_OPTION', message: /sessionKey: .* is a name of the session itself/ }, sessionKey)
  }
  const { app } = await buildApp({ sessionKey: 'account' })
  await app.ready()
})

test('with a session plugin of another kind, sessionKey still refuses the names every object has', async (t) => {
  const build = async (sessionKey: string) => {
    const app = Fastify()
    // A session plugin of the application's own: a plain object per request.
    // (@fastify/session's types, loaded by the other tests, describe its own session object)
    app.decorateRequest('session', null as never)
    await app.register(tlsCertAuth, { sessionKey })
    await app.ready()
  }
  await t.rejects(async () => { await build('toString') }, { code: 'FST_TLS_CERT_AUTH_BAD_OPTION', message: /sessionKey: "toString"/ })
  await build('account')
})

test('keys __proto__, constructor and prototype are refused anywhere in the options', async (t) => {
  const code = 'FST_TLS_CERT_AUTH_BAD_OPTION'
  await rejects(t, JSON.parse('{ "headers": { "require": { "__proto__": "x" } } }'), code, /headers.require.__proto__: "__proto__" is never an option key/)
  await rejects(t, JSON.parse('{ "__proto__": { "debug": true } }'), code, /__proto__/)
  await rejects(t, { accept: { constructor: 'x' } }, code, /accept.constructor/)
  await rejects(t, { debugFakeHeaders: { prototype: 'x' } }, code, /debugFakeHeaders.prototype/)
})

test('each option error names the option and says what is wrong, in whole', async (t) => {
  nodeEnv(t, 'test')
  const prefix = 'fastify-tls-certificate-auth: invalid option '
  const cases: Array<[object, string]> = [
    [JSON.parse('{ "__proto__": { "debug": true } }'), '__proto__: "__proto__" is never an option key'],
    [{ loginUrl: false, findUser: () => null }, 'findUser: acts on the login only, and loginUrl is false'],
    [{ loginUrl: false, storeTimeout: 5 }, 'storeTimeout: acts on the login only, and loginUrl is false'],
    [{ loginUrl: 'login' }, 'loginUrl: expected a path such as /accounts/login/, or false for no login'],
    [{ loginUrl: '/login?x=1' }, 'loginUrl: expected a path such as /accounts/login/, or false for no login'],
    [{ loginUrl: '/log in' }, 'loginUrl: expected a path such as /accounts/login/, or false for no login'],
    [{ loginRedirectUrl: '/a b' }, 'loginRedirectUrl: expected a URL without spaces or control characters'],
    [{ autoCreate: true, findUser: () => null }, 'autoCreate: needs both findUser and createUser'],
    [{ autoCreate: true, createUser: () => null }, 'autoCreate: needs both findUser and createUser'],
    [{ sessionKey: '' }, 'sessionKey: expected a non-empty string'],
    [{ saveUser: () => {}, sessionKey: 'account' }, 'sessionKey: saveUser keeps the user, so sessionKey is never used'],
    [{ userTimeout: 0 }, 'userTimeout: expected whole milliseconds from 1 to 600000'],
    [{ userTimeout: 600_001 }, 'userTimeout: expected whole milliseconds from 1 to 600000'],
    [{ userTimeout: 1.5 }, 'userTimeout: expected whole milliseconds from 1 to 600000'],
    [{ storeTimeout: Number.NaN }, 'storeTimeout: expected whole milliseconds from 1 to 600000'],
    [{ storeTimeout: '5' }, 'storeTimeout: expected a number'],
    [{ trustedProxie: 'loopback' }, 'trustedProxie: unknown option (did you mean "trustedProxies"?)'],
    [{ source: 'cookie' }, "source: expected 'headers', 'tls' or a function"],
    [{ source: 'tls', preset: 'nginx' }, 'preset: applies to source: headers only'],
    [{ source: 'tls', headers: { dn: 'x-dn' } }, 'headers: applies to source: headers only'],
    [{ debug: 'yes' }, 'debug: expected a boolean'],
    [{ debugFakeHeaders: null }, 'debugFakeHeaders: expected an object'],
    [{ username: 'nickname' }, 'username: expected a function or one of cn, email, uid, upn, issuerSerial, serialNumber, fingerprint256'],
    [{ username: 'serialNumber' }, "username: 'serialNumber' is unique per issuing CA only: pin exactly one with accept.issuers or accept.caFingerprints, or use 'issuerSerial'"],
    [{ xfccElement: 'middle' }, 'xfccElement: expected one of last, first'],
    [{ headers: { require: null } }, 'headers.require: expected an object of header: value'],
    [{ headers: { require: { 'x-ok': 1 } } }, 'headers.require.x-ok: expected a string, or null'],
    [{ headers: { verifySuccess: '' } }, 'headers.verifySuccess: expected a non-empty string'],
    [{ headers: { verifySuccess: 5 } }, 'headers.verifySuccess: expected a non-empty string'],
    [{ headers: { dn: '' } }, 'headers.dn: expected a header name, or null'],
    [{ headers: { dn: 'x dn' } }, 'headers.dn: "x dn" is not a header name'],
    [{ preset: 'envoy', headers: { chain: 'x-chain' } }, 'headers.chain: XFCC carries its own Chain'],
    [{ headers: { dn: null } }, 'headers: name at least one of dn, cert or info'],
    [{ debug: true, debugFakeHeaders: { HTTP_X_CLIENT_CERT_DN: 1 } }, 'debugFakeHeaders.HTTP_X_CLIENT_CERT_DN: expected a string'],
    [{ debug: true, debugFakeHeaders: { 'x dn': 'CN=a' } }, 'debugFakeHeaders.x dn: "x dn" is not a header name'],
    [{ loginRedirectUrl: 5 }, 'loginRedirectUrl: expected a string'],
    [{ autoCreate: true, findUser: () => null, createUser: 'x' }, 'createUser: expected a function'],
    [{ sessionKey: 5 }, 'sessionKey: expected a string'],
    [{ saveUser: 'x' }, 'saveUser: expected a function'],
    [{ debugFakeHeaders: 'x' }, 'debugFakeHeaders: expected an object'],
    [{ accept: { constructor: 'x' } }, 'accept.constructor: "constructor" is never an option key'],
    [{ debugFakeHeaders: { prototype: 'x' } }, 'debugFakeHeaders.prototype: "prototype" is never an option key'],
    [{ headers: { dn: 5 } }, 'headers.dn: expected a header name, or null']
  ]
  for (const [options, message] of cases) {
    const error = await buildApp(options as tlsCertAuth.TlsCertAuthOptions).then(() => null, (caught: Error) => caught)
    t.equal(error?.message, prefix + message, JSON.stringify(options))
  }
  // The bounds themselves are accepted, and so is null for a header the preset reads.
  for (const ms of [1, 600_000]) {
    const { app } = await buildApp({ userTimeout: ms, storeTimeout: ms })
    await app.ready()
  }
  const { app: noIssuer } = await buildApp({ preset: 'aws-alb', headers: { issuerDn: null } })
  await noIssuer.ready()
  // verifySuccess is a value, compared as written: not a header name, which is lower-cased.
  const { app: verified } = await buildApp({ headers: { verifySuccess: 'OK' } })
  const login = await verified.inject({ url: '/accounts/login/', headers: certHeaders('CN=alice', 'OK') })
  t.equal(login.statusCode, 302, 'verifySuccess OK, sent as OK')
  // Without debug, NODE_ENV does not matter; with it, the error says what NODE_ENV is.
  for (const [value, shown] of [[undefined, 'unset'], ['production', '"production"']] as const) {
    nodeEnv(t, value)
    const error = await buildApp({ debug: true }).then(() => null, (caught: Error) => caught)
    t.equal(error?.message, `fastify-tls-certificate-auth: debug needs NODE_ENV=development or NODE_ENV=test (NODE_ENV is ${shown})`)
  }
})
