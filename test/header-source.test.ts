// The header source as a proxy's headers reach it: what Node did to them on the way (trimmed
// spaces, latin1), which repeats are an attack, which header wins where two could name the
// subject, and what each "not verified" answer logs.
import Fastify from 'fastify'
import { Writable } from 'node:stream'
import { test } from 'tap'
import tlsCertAuth from '../index'
import { headerNames } from '../plugin/sources/headers'
import { PRESETS, type PresetName } from '../plugin/sources/presets'
import { buildApp, certHeaders, logged, type LogLine } from './helpers/app'
import { sharedPki, type CertFiles } from './helpers/pki'

const LOGIN = '/accounts/login/'
const urlPem = (certificate: CertFiles): string => encodeURIComponent(certificate.certPem)

test('a DN that ended in an escaped space arrives ending in a lone backslash: the space is put back', async (t) => {
  const { app, logs } = await buildApp()
  const username = async (dn: string) => (await app.inject({ url: '/whoami', headers: certHeaders(dn) })).json().certUser?.username ?? null
  t.equal(await username('CN=alice\\'), 'alice ', 'one backslash: an escaped space Node trimmed')
  t.equal(await username('CN=alice\\\\'), 'alice\\', 'two: an escaped backslash, nothing trimmed')
  t.equal(await username('CN=alice\\\\\\'), 'alice\\ ', 'three: an escaped backslash, then an escaped space')
  t.equal(await username('CN=J\u00c3\u00bcrgen'), 'Jürgen', 'raw UTF-8, which Node reads as latin1, is read as UTF-8')

  const slash = await buildApp({ headers: { uncheckedSlashForm: true } })
  await slash.app.inject({ url: '/whoami', headers: certHeaders('/CN=alice\\') })
  t.match(logged(slash.logs, 'client certificate refused')[0].reason, /a backslash in the slash form.* in "\/CN=alice\\\\"$/,
    'the slash form has no escapes: nothing is put back, and the backslash refuses it')
  t.same(logged(logs, 'client certificate refused'), [])
})

test('only our own headers count as repeated: another header of the same length sent twice is not ours', async (t) => {
  const { app, logs } = await buildApp()
  const sameLength = 'x-forwarded-zzzz'
  t.equal(sameLength.length, 'x-client-cert-dn'.length)
  const response = await app.inject({ url: '/whoami', headers: { ...certHeaders('CN=alice'), [sameLength]: ['a', 'b'] } })
  t.equal(response.json().certUser.username, 'alice')
  t.same(logged(logs, 'sent more than once'), [])
})

test('every preset: its headers present but empty are no certificate, not a refusal', async (t) => {
  for (const preset of Object.keys(PRESETS) as PresetName[]) {
    const options = preset === 'nginx-legacy' ? { preset, headers: { uncheckedSlashForm: true } } : { preset }
    const { app, logs } = await buildApp(options)
    const empty = Object.fromEntries(headerNames(PRESETS[preset]).map((name) => [name, '']))
    const response = await app.inject({ url: LOGIN, headers: empty })
    t.equal(response.statusCode, 200, `${preset}: the login page`)
    t.same(logged(logs, 'client certificate refused'), [], `${preset}: nothing refused`)
  }
})

test('the key of the material kept per header values keeps each header apart', async (t) => {
  const { app } = await buildApp({ headers: { issuerDn: 'x-client-cert-issuer' } })
  const user = async (dn: string, issuer: string) =>
    (await app.inject({ url: '/whoami', headers: { ...certHeaders(dn), 'x-client-cert-issuer': issuer } })).json().certUser?.username ?? null
  t.equal(await user('CN=ab', 'CN=c'), 'ab')
  t.equal(await user('CN=a', 'bCN=c'), 'a', 'the same text split elsewhere is another certificate')
})

test('Envoy: Chain serves caFingerprints, and a DN header of your own is checked against Cert', async (t) => {
  const pki = await sharedPki()
  const accept = { caFingerprints: [pki.intermediateCa.x509.fingerprint256] }
  const { app } = await buildApp({ preset: 'envoy', accept })
  const login = async (xfcc: string) => {
    const response = await app.inject({ url: LOGIN, headers: { 'x-forwarded-client-cert': xfcc } })
    return response.statusCode === 302 ? 'logged in' : response.json().code
  }
  t.equal(await login(`By=a;Cert="${urlPem(pki.alice)}"`), 'FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED', 'no Chain: nothing to check the pin against')
  t.equal(await login(`By=a;Cert="${urlPem(pki.alice)}";Chain="${urlPem(pki.alice)}${urlPem(pki.intermediateCa)}"`), 'logged in')

  const withDn = await buildApp({ preset: 'envoy', headers: { dn: 'x-client-dn' } })
  const who = async (headers: Record<string, string>) => (await withDn.app.inject({ url: '/whoami', headers })).json().certUser?.username ?? null
  t.equal(await who({ 'x-client-dn': 'CN=bob' }), 'bob', 'the DN header alone')
  t.equal(await who({ 'x-client-dn': 'CN=alice,O=Example,C=AU', 'x-forwarded-client-cert': `By=a;Cert="${urlPem(pki.alice)}"` }), 'alice')
  t.equal(await who({ 'x-client-dn': 'CN=admin', 'x-forwarded-client-cert': `By=a;Cert="${urlPem(pki.alice)}"` }), null,
    'an XFCC element without Subject leaves the DN header to be checked against Cert')
})

test('a Google Cloud load balancer\'s chain header serves caFingerprints', async (t) => {
  const pki = await sharedPki()
  const { app } = await buildApp({ preset: 'gcp', accept: { caFingerprints: [pki.intermediateCa.x509.fingerprint256] } })
  const sent = { 'x-client-cert-present': 'true', 'x-client-cert-chain-verified': 'true', 'x-client-cert-leaf': `:${pki.alice.derBase64}:` }
  t.equal((await app.inject({ url: LOGIN, headers: sent })).json().code, 'FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED', 'no chain')
  const withChain = await app.inject({ url: LOGIN, headers: { ...sent, 'x-client-cert-chain': `:${pki.intermediateCa.derBase64}:` } })
  t.equal(withChain.statusCode, 302)
})

test('uncheckedSlashForm is the DN header\'s, and a debug fake DN\'s: never an XFCC Subject\'s or a real header\'s beside fakes', async (t) => {
  const envoy = await buildApp({ preset: 'envoy', headers: { dn: 'x-client-dn', uncheckedSlashForm: true } })
  const who = async (app: typeof envoy.app, headers: Record<string, string>) => (await app.inject({ url: '/whoami', headers })).json().certUser?.username ?? null
  t.equal(await who(envoy.app, { 'x-client-dn': '/O=x/CN=bob' }), 'bob', 'the DN header, as told')
  t.equal(await who(envoy.app, { 'x-client-dn': 'CN=bob', 'x-forwarded-client-cert': 'By=a;Subject="/O=x/CN=admin"' }), null,
    'an XFCC Subject in the slash form is not read unchecked')

  const before = process.env.NODE_ENV
  process.env.NODE_ENV = 'development'
  t.teardown(() => { process.env.NODE_ENV = before })
  const partial = await buildApp({ debug: true, debugFakeHeaders: { HTTP_X_CLIENT_CERT_VALID: 'SUCCESS' } })
  t.equal(await who(partial.app, { 'x-client-cert-dn': '/O=x/CN=root' }), null, 'a real slash-form DN beside a fake verify header')
  const faked = await buildApp({ debug: true, debugFakeHeaders: { HTTP_X_CLIENT_CERT_VALID: 'SUCCESS', HTTP_X_CLIENT_CERT_DN: '/C=AU/O=Example/CN=alice' } })
  t.equal(await who(faked.app, {}), 'alice', 'the Django documentation\'s fake DN, typed by the developer')
})

test('Traefik\'s Info header is read only when nothing better came', async (t) => {
  const pki = await sharedPki()
  const info = 'Subject%3D%22CN%3Dadmin%22%3BIssuer%3D%22CN%3DTest Intermediate CA%22'
  const { app } = await buildApp({ preset: 'traefik', headers: { info: 'x-info', dn: 'x-dn' } })
  const certUser = async (headers: Record<string, string>) => (await app.inject({ url: '/whoami', headers })).json().certUser
  const fromInfo = await certUser({ 'x-info': info })
  t.same([fromInfo.username, fromInfo.dn], ['admin', 'CN=admin'], 'Info alone')
  t.equal((await certUser({ 'x-info': info, 'x-forwarded-tls-client-cert': pki.alice.derBase64 })).username, 'alice', 'the certificate wins')
  t.equal((await certUser({ 'x-info': info, 'x-dn': 'CN=bob' })).username, 'bob', 'a DN header wins')
})

test('a verify value that is no success: a failure is logged (cut to 200 characters), a plain "no" is not', async (t) => {
  const { app, logs } = await buildApp({ preset: 'cloudflare' })
  const sent = (verified: string) => ({ 'cf-cert-presented': 'true', 'cf-cert-verified': verified, 'cf-cert-revoked': 'false', 'cf-cert-subject-dn-rfc2253': 'CN=alice' })
  await app.inject({ url: '/whoami', headers: sent('false') })
  t.same(logged(logs, 'not verified'), [], 'false: no certificate, nothing to say')
  const nginx = await buildApp()
  const long = 'FAILED:' + 'x'.repeat(300)
  await nginx.app.inject({ url: '/whoami', headers: certHeaders('CN=alice', long) })
  const [line] = logged(nginx.logs, 'not verified')
  t.equal(line.level, 30)
  t.equal(line.verify, long.slice(0, 200), 'the first 200 characters, no more')
})

test('a require header with another value: no certificate, said at debug level', async (t) => {
  const logs: LogLine[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { logs.push(JSON.parse(chunk.toString())); done() } })
  const app = Fastify({ logger: { level: 'debug', stream } })
  await app.register(tlsCertAuth, { preset: 'haproxy', loginUrl: false })
  app.get('/whoami', async (request) => ({ certUser: request.certUser }))
  const response = await app.inject({ url: '/whoami', headers: { 'x-ssl-client-verify': '0', 'x-ssl-client-used': '0', 'x-ssl-client-dn': 'CN=alice' } })
  t.equal(response.json().certUser, null)
  t.same(logged(logs, 'client certificate not verified by the proxy').map(({ level, header }) => [level, header]), [[20, 'x-ssl-client-used']])
})
