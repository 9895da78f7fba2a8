import cookie from '@fastify/cookie'
import session from '@fastify/session'
import Fastify from 'fastify'
import tap, { test } from 'tap'
import tlsCertAuth from '../index'
import { sharedPki, type CertFiles, type Pki } from './helpers/pki'
import { buildApp, logged, SECRET } from './helpers/app'
import { certificate, clientKey, issuerFromPem, name, string, TAGS } from './helpers/der'

// RFC 9440 headers: the simplest way to hand the plugin a certificate and its chain.
const headers = (cert: CertFiles, chain: CertFiles[] = []) => ({
  'client-cert': `:${cert.derBase64}:`,
  ...(chain.length > 0 ? { 'client-cert-chain': chain.map((ca) => `:${ca.derBase64}:`).join(', ') } : {})
})

async function loginWith (options: tlsCertAuth.CommonOptions, sent: Record<string, string>) {
  const { app, logs } = await buildApp({ preset: 'rfc9440', ...options })
  const response = await app.inject({ url: '/accounts/login/', headers: sent })
  const certUser = (await app.inject({ url: '/whoami', headers: sent })).json().certUser
  return { status: response.statusCode, code: response.statusCode === 302 ? null : response.json().code, certUser, logs }
}

let pki: Pki
tap.before(async () => { pki = await sharedPki() })

/** The reason logged for a certificate outside its validity period, with its dates. */
const validityReason = (which: 'expired' | 'future'): string => {
  const { validFrom, validTo } = pki[which].x509
  return `outside its validity period (${new Date(validFrom).toISOString()} to ${new Date(validTo).toISOString()})`
}

test('each accept check: one certificate passes, one is refused with its own code', async (t) => {
  const checks: Array<[string, tlsCertAuth.AcceptOptions, () => Record<string, string>, () => Record<string, string>, string, string | RegExp]> = [
    ['issuers', { issuers: ['CN=Test Intermediate CA, O=Example, C=AU', '/C=AU/O=Other/CN=x'] },
      () => headers(pki.alice), () => headers(pki.mallory), 'FST_TLS_CERT_AUTH_ISSUER_NOT_ACCEPTED', 'issuer not in accept.issuers'],
    ['caFingerprints (the root, two signatures up)', { caFingerprints: [pki.rootCa.x509.fingerprint256] },
      () => headers(pki.alice, [pki.intermediateCa, pki.rootCa]), () => headers(pki.mallory, [pki.foreignCa]), 'FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED',
      'not signed by a CA in accept.caFingerprints'],
    ['caFingerprints (no chain forwarded)', { caFingerprints: [pki.intermediateCa.x509.fingerprint256.replaceAll(':', '').toLowerCase()] },
      () => headers(pki.alice, [pki.intermediateCa]), () => headers(pki.alice), 'FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED',
      'no CA chain forwarded to check accept.caFingerprints against'],
    ['caFingerprints (a pinned CA that did not sign it)', { caFingerprints: [pki.foreignCa.x509.fingerprint256] },
      () => headers(pki.mallory, [pki.foreignCa]), () => headers(pki.alice, [pki.foreignCa, pki.intermediateCa]), 'FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED',
      'not signed by a CA in accept.caFingerprints'],
    ['fingerprints', { fingerprints: [pki.alice.x509.fingerprint256] },
      () => headers(pki.alice), () => headers(pki.smith), 'FST_TLS_CERT_AUTH_FINGERPRINT_NOT_ACCEPTED', 'fingerprint not in accept.fingerprints'],
    ['requireClientAuthEku', { requireClientAuthEku: true },
      () => headers(pki.alice), () => headers(pki.noClientAuth), 'FST_TLS_CERT_AUTH_EKU_NOT_ACCEPTED', 'no clientAuth extended key usage'],
    ['requireClientAuthEku (no EKU at all)', { requireClientAuthEku: true },
      () => headers(pki.alice), () => headers(pki.noEku), 'FST_TLS_CERT_AUTH_EKU_NOT_ACCEPTED', 'no clientAuth extended key usage'],
    ['checkValidity (expired)', { checkValidity: true },
      () => headers(pki.alice), () => headers(pki.expired), 'FST_TLS_CERT_AUTH_NOT_VALID_NOW', validityReason('expired')],
    ['checkValidity (not yet valid)', { checkValidity: true, clockSkew: 300 },
      () => headers(pki.alice), () => headers(pki.future), 'FST_TLS_CERT_AUTH_NOT_VALID_NOW', validityReason('future')],
    ['isRevoked', { isRevoked: async (identity) => identity.serialNumber === pki.smith.x509.serialNumber },
      () => headers(pki.alice), () => headers(pki.smith), 'FST_TLS_CERT_AUTH_REVOKED', 'revoked by accept.isRevoked']
  ]
  for (const [name, accept, passes, refused, code, reason] of checks) {
    const ok = await loginWith({ accept }, passes())
    t.equal(ok.status, 302, `${name}: passes`)
    const no = await loginWith({ accept }, refused())
    t.equal(no.status, 403, `${name}: refused`)
    t.equal(no.code, code, `${name}: ${code}`)
    t.same([...new Set(logged(no.logs, 'client certificate refused').map((line) => line.reason))], [reason], `${name}: its reason logged`)
    t.equal(no.certUser, null, `${name}: certUser is null too`)
  }
})

test('checks that need a certificate refuse when only a DN was forwarded, validity included', async (t) => {
  const dnOnly = { 'x-client-cert-valid': 'SUCCESS', 'x-client-cert-dn': 'CN=alice,O=Example,C=AU' }
  const run = async (accept: tlsCertAuth.AcceptOptions) => {
    const { app, logs } = await buildApp({ accept })
    const response = await app.inject({ url: '/accounts/login/', headers: dnOnly })
    const reasons = logged(logs, 'client certificate refused').map((line) => String(line.reason))
    return response.statusCode === 302 ? 'login' : `${String(response.json().code)}: ${reasons.join(', ')}`
  }
  t.equal(await run({ fingerprints: [pki.alice.x509.fingerprint256] }), 'FST_TLS_CERT_AUTH_FINGERPRINT_NOT_ACCEPTED: fingerprint not in accept.fingerprints')
  t.equal(await run({ requireClientAuthEku: true }), 'FST_TLS_CERT_AUTH_EKU_NOT_ACCEPTED: no clientAuth extended key usage')
  t.equal(await run({ caFingerprints: [pki.rootCa.x509.fingerprint256] }),
    'FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED: no CA chain forwarded to check accept.caFingerprints against')
  t.equal(await run({ issuers: ['CN=Test Intermediate CA,O=Example,C=AU'] }), 'FST_TLS_CERT_AUTH_ISSUER_NOT_ACCEPTED: issuer unknown')
  t.equal(await run({ checkValidity: true }), 'FST_TLS_CERT_AUTH_NOT_VALID_NOW: validity dates unknown: no certificate was forwarded',
    'unknown dates are not valid dates')
  // A custom source may hand over a chain without the certificate: nothing to climb it from.
  const { app: chainOnly, logs: chainOnlyLogs } = await buildApp({
    source: () => ({ dn: 'CN=alice', chain: [pki.intermediateCa.x509] }),
    accept: { caFingerprints: [pki.intermediateCa.x509.fingerprint256] }
  })
  t.equal((await chainOnly.inject({ url: '/accounts/login/' })).json().code, 'FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED')
  t.same(logged(chainOnlyLogs, 'client certificate refused').map((line) => line.reason), ['no CA chain forwarded to check accept.caFingerprints against'])
  const { app } = await buildApp({ preset: 'aws-alb', accept: { issuers: ['CN=Test Intermediate CA,O=Example,C=AU'] } })
  const issuerHeader = await app.inject({
    url: '/accounts/login/',
    headers: { 'x-amzn-mtls-clientcert-subject': 'CN=alice', 'x-amzn-mtls-clientcert-issuer': 'CN=Test Intermediate CA,O=Example,C=AU' }
  })
  t.equal(issuerHeader.statusCode, 302, 'an issuer header serves accept.issuers')
})

test('every username mapping, and no value → 403 NO_IDENTITY', async (t) => {
  const mappings: Array<[tlsCertAuth.UsernameRule, CertFiles, string | null]> = [
    ['cn', pki.rich, 'dora'],
    ['cn', pki.emailOnly, null],
    ['email', pki.rich, 'dora@example.com'],
    ['email', pki.emailOnly, 'carol@example.com'],
    ['email', pki.smith, null],
    ['uid', pki.rich, 'dora7'],
    ['uid', pki.alice, null],
    ['upn', pki.rich, 'dora@corp.example'],
    ['upn', pki.alice, null],
    ['issuerSerial', pki.alice, `CN=Test Intermediate CA,O=Example,C=AU/${pki.alice.x509.serialNumber}`],
    ['fingerprint256', pki.alice, pki.alice.x509.fingerprint256],
    [(identity) => identity.subjectAltNames.find((name) => name.type === 'uri')?.value, pki.rich, 'spiffe://example.com/dora'],
    [(identity) => identity.subjectAltNames.find((name) => name.type === 'uri')?.value, pki.alice, null],
    [() => { throw new Error('boom') }, pki.alice, null],
    [() => 'admin\u0000.evil.example', pki.alice, null]
  ]
  const cns = new Map([[pki.rich, 'dora'], [pki.alice, 'alice'], [pki.emailOnly, null], [pki.smith, 'Smith, John']])
  for (const [username, cert, expected] of mappings) {
    const result = await loginWith({ username }, headers(cert))
    const label = `${typeof username === 'function' ? 'function' : username} of ${cert.x509.subject.replace(/\n/g, ',')}`
    if (expected === null) {
      t.equal(result.code, 'FST_TLS_CERT_AUTH_NO_IDENTITY', `${label}: refused`)
    } else {
      t.equal(result.certUser?.username, expected, label)
      t.equal(result.certUser.cn, cns.get(cert), `${label}: cn`)
    }
  }
  const { app } = await buildApp({ username: 'issuerSerial' })
  const dnOnly = await app.inject({ url: '/accounts/login/', headers: { 'x-client-cert-valid': 'SUCCESS', 'x-client-cert-dn': 'CN=a' } })
  t.equal(dnOnly.json().code, 'FST_TLS_CERT_AUTH_NO_IDENTITY', 'issuerSerial needs a forwarded certificate')
  const { app: alb } = await buildApp({ preset: 'aws-alb', username: 'issuerSerial' })
  const issuerOnly = await alb.inject({
    url: '/accounts/login/',
    headers: { 'x-amzn-mtls-clientcert-subject': 'CN=alice', 'x-amzn-mtls-clientcert-issuer': 'CN=Test Intermediate CA,O=Example,C=AU' }
  })
  t.equal(issuerOnly.json().code, 'FST_TLS_CERT_AUTH_NO_IDENTITY', 'an issuer header without the certificate has no serial')
})

test('username serialNumber needs exactly one pinned issuing CA: serials are unique per CA only', async (t) => {
  const intermediate = 'CN=Test Intermediate CA,O=Example,C=AU'
  for (const accept of [undefined, { issuers: [intermediate, 'CN=Other CA'] }, { caFingerprints: [pki.rootCa.x509.fingerprint256, pki.foreignCa.x509.fingerprint256] }]) {
    await t.rejects(async () => { await buildApp({ username: 'serialNumber', accept }) },
      { code: 'FST_TLS_CERT_AUTH_BAD_OPTION', message: /serialNumber.*issuerSerial/ }, JSON.stringify(accept ?? null))
  }
  const pinned = await loginWith({ username: 'serialNumber', accept: { issuers: [intermediate] } }, headers(pki.alice))
  t.equal(pinned.certUser.username, pki.alice.x509.serialNumber, 'one issuer pinned')
  t.equal(pinned.certUser.issuerSerial, `${intermediate}/${pki.alice.x509.serialNumber}`, 'the unique id is on every identity')
  const byCa = await loginWith({ username: 'serialNumber', accept: { caFingerprints: [pki.rootCa.x509.fingerprint256] } }, headers(pki.alice, [pki.intermediateCa, pki.rootCa]))
  t.equal(byCa.certUser.username, pki.alice.x509.serialNumber, 'one CA pinned by fingerprint')
})

test('with accept.isRevoked, no path exposes a revoked identity', async (t) => {
  const asked: string[] = []
  const isRevoked = async (identity: tlsCertAuth.CertIdentity) => {
    asked.push(identity.username)
    return identity.cn === 'Smith, John'
  }
  const { app, logs } = await buildApp({ preset: 'rfc9440', accept: { isRevoked } })
  app.get('/plain', async (request) => ({ certUser: request.certUser?.username ?? null }))
  const revoked = await app.inject({ url: '/plain', headers: headers(pki.smith) })
  t.same(revoked.json(), { certUser: null }, 'a route that only reads certUser sees no identity')
  t.match(logged(logs, 'client certificate refused').pop(), { username: 'Smith, John', reason: /isRevoked/ })
  t.same((await app.inject({ url: '/plain', headers: headers(pki.alice) })).json(), { certUser: 'alice' })
  t.same(asked, ['Smith, John', 'alice'], 'asked once per request that carries a certificate')
  await app.inject({ url: '/plain' })
  t.equal(asked.length, 2, 'requests without a certificate never ask')
})

test('certUser read before revocation is settled is null, and a failing isRevoked answers 503', async (t) => {
  const { app } = await buildApp({ preset: 'rfc9440', accept: { isRevoked: () => false } })
  // A hook of the application's, added before the plugin, runs before the plugin's own: revocation is not settled yet.
  const early = Fastify()
  await early.register(cookie)
  await early.register(session, { secret: SECRET, cookie: { secure: 'auto' } })
  early.addHook('onRequest', async (request, reply) => {
    if (request.url === '/early') await reply.send({ certUser: request.certUser })
  })
  await early.register(tlsCertAuth, { preset: 'rfc9440', accept: { isRevoked: () => false } })
  early.get('/early', async () => 'not reached')
  t.same((await early.inject({ url: '/early', headers: headers(pki.alice) })).json(), { certUser: null })
  t.equal((await app.inject({ url: '/whoami', headers: headers(pki.alice) })).json().certUser.username, 'alice')

  const failing = await buildApp({ preset: 'rfc9440', accept: { isRevoked: async () => { throw new Error('CRL store down') } } })
  failing.app.get('/api', { onRequest: failing.app.requireCertificate }, async () => 'reached')
  const login = await failing.app.inject({ url: '/accounts/login/', headers: headers(pki.alice) })
  t.equal(login.statusCode, 503)
  t.equal(login.json().code, 'FST_TLS_CERT_AUTH_REVOCATION_UNKNOWN')
  t.notOk(login.headers['set-cookie'], 'no session')
  t.equal((await failing.app.inject({ url: '/api', headers: headers(pki.alice) })).json().code, 'FST_TLS_CERT_AUTH_REVOCATION_UNKNOWN')
  t.equal((await failing.app.inject({ url: '/whoami', headers: headers(pki.alice) })).json().certUser, null)
  t.ok(logged(failing.logs, 'client certificate refused').some((line) => /CRL store down/.test(String(line.reason))))
})

test('app.requireCertificate guards API routes without a session', async (t) => {
  const { app, logs } = await buildApp({ preset: 'rfc9440', accept: { requireClientAuthEku: true, isRevoked: (identity) => identity.cn === 'Smith, John' } })
  app.get('/api/me', { onRequest: app.requireCertificate }, async (request) => ({ me: request.certUser?.username }))
  const call = (sent: Record<string, string> = {}) => app.inject({ url: '/api/me', headers: sent })
  const none = await call()
  t.equal(none.statusCode, 401)
  t.equal(none.json().code, 'FST_TLS_CERT_AUTH_NO_CERTIFICATE')
  t.same((await call(headers(pki.alice))).json(), { me: 'alice' })
  t.notOk((await call(headers(pki.alice))).headers['set-cookie'], 'no session involved')
  t.equal((await call(headers(pki.noClientAuth))).json().code, 'FST_TLS_CERT_AUTH_EKU_NOT_ACCEPTED')
  t.equal((await call(headers(pki.smith))).json().code, 'FST_TLS_CERT_AUTH_REVOKED')
  t.match(logged(logs, 'client certificate refused').pop(), { username: 'Smith, John', reason: /isRevoked/ })
  t.equal((await call({ 'client-cert': ':bm90IGEgY2VydA==:' })).statusCode, 403, 'garbage: 403 NO_IDENTITY')
})

test('a source function of the application', async (t) => {
  const from = (cert: tlsCertAuth.CustomCertificate | null) => async () => {
    const { app, logs } = await buildApp({ source: () => cert, accept: { caFingerprints: [pki.intermediateCa.x509.fingerprint256] } })
    return { response: await app.inject({ url: '/accounts/login/' }), logs }
  }
  t.equal((await from({ certificate: pki.alice.x509, chain: [pki.intermediateCa.x509.raw] })()).response.statusCode, 302, 'X509Certificate and DER')
  t.equal((await from({ certificate: pki.alice.certPem, chain: [pki.intermediateCa.certPem] })()).response.statusCode, 302, 'PEM')
  t.equal((await from(null)()).response.statusCode, 200, 'null: no certificate')
  const noChain = await from({ certificate: pki.alice.x509.raw })()
  t.equal(noChain.response.json().code, 'FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED')
  const empty = await from({})()
  t.equal(empty.response.statusCode, 403)
  t.ok(logged(empty.logs, 'refused').some((line) => /no certificate and no DN/.test(String(line.reason))))
  const { app, logs } = await buildApp({ source: () => { throw new Error('lookup failed') } })
  t.equal((await app.inject({ url: '/accounts/login/' })).statusCode, 403)
  t.ok(logs.some((line) => /lookup failed/.test(String(line.reason))))
  const auto = await buildApp({ source: () => ({ dn: '/O=x/CN=frank', uncheckedSlashForm: true }) })
  t.equal((await auto.app.inject({ url: '/whoami' })).json().certUser.username, 'frank', 'dnFormat defaults to auto')
  const promised = await buildApp({ source: (async () => ({ dn: 'CN=x' })) as unknown as tlsCertAuth.CustomSourceFunction })
  t.equal((await promised.app.inject({ url: '/accounts/login/' })).statusCode, 403)
  t.ok(promised.logs.some((line) => /must answer synchronously/.test(String(line.reason))), 'an async source is refused, and says why')
  const control = await buildApp({ source: () => ({ dn: 'CN=admin\\00.evil' }) })
  t.equal((await control.app.inject({ url: '/accounts/login/' })).statusCode, 403, 'a NUL in the CN')
  const junkChain = await buildApp({ source: () => ({ certificate: pki.alice.x509, chain: [Buffer.from('not a certificate')] }), accept: { caFingerprints: [pki.intermediateCa.x509.fingerprint256] } })
  t.equal((await junkChain.app.inject({ url: '/accounts/login/' })).json().code, 'FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED', 'junk in the chain: refused, not 500')
  const junkBesideCa = await buildApp({ source: () => ({ certificate: pki.alice.x509, chain: [Buffer.from('not a certificate'), pki.intermediateCa.x509.raw] }), accept: { caFingerprints: [pki.intermediateCa.x509.fingerprint256] } })
  t.equal((await junkBesideCa.app.inject({ url: '/accounts/login/' })).json().code, 'FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED', 'junk beside the pinned CA: the chain proves nothing')
  const rfc = await buildApp({ source: () => ({ dn: 'CN=erin,O=x', dnFormat: 'rfc4514' }) })
  t.equal((await rfc.app.inject({ url: '/whoami' })).json().certUser.username, 'erin', 'dnFormat rfc4514')
  const dn = await buildApp({ source: () => ({ dn: '/O=x/CN=erin', dnFormat: 'legacy', uncheckedSlashForm: true }) })
  t.equal((await dn.app.inject({ url: '/whoami' })).json().certUser.username, 'erin')
  t.equal((await dn.app.inject({ url: '/whoami' })).json().certUser.source, 'custom')
  const slashAlone = await buildApp({ source: () => ({ dn: '/O=x/CN=erin', dnFormat: 'legacy' }) })
  t.equal((await slashAlone.app.inject({ url: '/accounts/login/' })).statusCode, 403, 'the slash form alone: refused by default')
  t.match(logged(slashAlone.logs, 'client certificate refused'), [{ reason: /^a DN in OpenSSL's slash form with no certificate to check it/ }])
  const checked = await buildApp({ source: () => ({ dn: '/C=AU/O=Example/CN=alice', certificate: pki.alice.certPem }) })
  t.equal((await checked.app.inject({ url: '/whoami' })).json().certUser.username, 'alice', 'with the certificate that checks it: read')
})

test('a source function that returns anything but null or a well-formed object gives no identity, never a 500', async (t) => {
  const answers: Array<[string, unknown, RegExp]> = [
    ['{}', {}, /no certificate and no DN/],
    ['{ certificate: {} }', { certificate: {} }, /certificate that is not/],
    ['a number', 5, /returned a number/],
    ['a string', 'CN=admin', /returned a string/],
    ['an array', [{ dn: 'CN=admin' }], /returned an array/],
    ['a dn that is no string', { dn: ['CN=admin'] }, /dn that is not a string/],
    ['an unknown dnFormat', { dn: 'CN=admin', dnFormat: 'ldap' }, /^the source function gave a dnFormat other than auto, rfc4514, legacy$/],
    ['a chain that is no list of certificates', { dn: 'CN=admin', chain: 'x' }, /^the source function gave a chain that is not an array of certificates$/],
    ['a chain with one thing that is no certificate', { dn: 'CN=admin', chain: [pki.intermediateCa.x509, 5] }, /^the source function gave a chain that is not an array of certificates$/],
    ['an uncheckedSlashForm that is no boolean', { dn: '/CN=admin', uncheckedSlashForm: 'yes' }, /^the source function gave an uncheckedSlashForm that is not a boolean$/],
    ['PEM text that is no certificate', { certificate: 'junk' }, /failed/]
  ]
  for (const [what, answer, reason] of answers) {
    const { app, logs } = await buildApp({ source: (() => answer) as unknown as tlsCertAuth.CustomSourceFunction })
    app.get('/api', { onRequest: app.requireCertificate }, async () => 'reached')
    const whoami = await app.inject({ url: '/whoami' })
    t.equal(whoami.statusCode, 200, `${what}: an ordinary route answers`)
    t.equal(whoami.json().certUser, null, `${what}: no identity`)
    t.match(logged(logs, 'client certificate refused')[0], { level: 40, reason }, `${what}: warn log with the reason`)
    t.equal((await app.inject({ url: '/accounts/login/' })).json().code, 'FST_TLS_CERT_AUTH_NO_IDENTITY', `${what}: the login refuses`)
    t.equal((await app.inject({ url: '/api' })).statusCode, 403, `${what}: the guard refuses`)
  }
})

test('caFingerprints: a certificate that names the pinned CA as its issuer but is signed by another key is refused', async (t) => {
  const intermediate = issuerFromPem(pki.intermediateCa.certPem, pki.intermediateCa.keyPem)
  const forger = { name: intermediate.name, key: clientKey().privateKey } // the CA's name, someone else's key
  const subject = name([[{ type: '2.5.4.3', value: string(TAGS.utf8, 'admin') }]])
  const forged = certificate({ subject, issuer: forger, publicKey: clientKey().publicKey })
  const genuine = certificate({ subject, issuer: intermediate, publicKey: clientKey().publicKey })
  const sent = (der: Buffer) => ({ 'client-cert': `:${der.toString('base64')}:`, 'client-cert-chain': `:${pki.intermediateCa.derBase64}:` })
  const accept = { caFingerprints: [pki.intermediateCa.x509.fingerprint256] }
  t.equal((await loginWith({ accept }, sent(genuine))).status, 302, 'signed by the pinned CA')
  const refused = await loginWith({ accept }, sent(forged))
  t.equal(refused.code, 'FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED', 'the name is not the signature')
  t.ok(logged(refused.logs, 'client certificate refused').some((line) => line.reason === 'not signed by a CA in accept.caFingerprints'))
})

test('accept values are checked at registration, at their bounds', async (t) => {
  const bad = async (accept: object, message: RegExp) => {
    await t.rejects(async () => { await buildApp({ accept } as tlsCertAuth.TlsCertAuthOptions) }, { code: 'FST_TLS_CERT_AUTH_BAD_OPTION', message }, JSON.stringify(accept))
  }
  await bad({ fingerprints: [] }, /accept.fingerprints: expected a non-empty array/)
  await bad({ fingerprints: ['nope'] }, /"nope" is not a SHA-256 fingerprint/)
  await bad({ fingerprints: ['x' + pki.alice.x509.fingerprint256] }, /is not a SHA-256 fingerprint/)
  await bad({ fingerprints: [pki.alice.x509.fingerprint256 + ':00'] }, /is not a SHA-256 fingerprint/)
  // Values that print as a fingerprint but are none: refused as options, not a TypeError later.
  await bad({ fingerprints: [[pki.alice.x509.fingerprint256]] }, /accept.fingerprints: \[".*"\] is not a SHA-256 fingerprint/)
  await bad({ caFingerprints: [{ toString: () => pki.rootCa.x509.fingerprint256 }] }, /accept.caFingerprints: \{\} is not a SHA-256 fingerprint/)
  await bad({ checkValidity: true, clockSkew: 86401 }, /accept.clockSkew: expected seconds from 0 to 86400/)
  await bad({ checkValidity: true, clockSkew: '300' }, /invalid option accept\.clockSkew: expected a number$/)
  await bad({ requireClientAuthEku: 'yes' }, /invalid option accept\.requireClientAuthEku: expected a boolean$/)
  await t.rejects(async () => { await buildApp({ accept: 'strict' } as unknown as tlsCertAuth.TlsCertAuthOptions) },
    { code: 'FST_TLS_CERT_AUTH_BAD_OPTION', message: /invalid option accept: expected an object$/ })
  const { app } = await buildApp({ accept: { checkValidity: true, clockSkew: 86400 } })
  await app.ready()
})

test('clockSkew forgives a clock that is behind, by that many seconds', async (t) => {
  const intermediate = issuerFromPem(pki.intermediateCa.certPem, pki.intermediateCa.keyPem)
  const soon = certificate({
    subject: name([[{ type: '2.5.4.3', value: string(TAGS.utf8, 'soon') }]]),
    issuer: intermediate,
    publicKey: clientKey().publicKey,
    notBefore: new Date(Date.now() + 60_000)
  })
  const sent = { 'client-cert': `:${soon.toString('base64')}:` }
  t.equal((await loginWith({ accept: { checkValidity: true, clockSkew: 120 } }, sent)).status, 302, 'valid in 60 s, 120 s forgiven')
  t.equal((await loginWith({ accept: { checkValidity: true } }, sent)).code, 'FST_TLS_CERT_AUTH_NOT_VALID_NOW', 'no skew: not yet valid')
})

test('a username with a C1 control character is refused like a C0 one', async (t) => {
  for (const name of ['admin\u0085', 'admin\u009b[2J', 'admin\u0080']) {
    t.equal((await loginWith({ username: () => name }, headers(pki.alice))).code, 'FST_TLS_CERT_AUTH_NO_IDENTITY', JSON.stringify(name))
  }
  t.equal((await loginWith({ username: () => 'adm\u00efn' }, headers(pki.alice))).status, 302, 'Latin-1 letters are names')
})

test('checkValidity: the first and the last instant of the validity period count, and clockSkew forgives a clock ahead too', async (t) => {
  const from = new Date(pki.alice.x509.validFrom).getTime()
  const to = new Date(pki.alice.x509.validTo).getTime()
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  const statusAt = async (now: number, accept: tlsCertAuth.AcceptOptions): Promise<number> => {
    const { app } = await buildApp({ preset: 'rfc9440', accept })
    Date.now = () => now
    try {
      return (await app.inject({ url: '/accounts/login/', headers: headers(pki.alice) })).statusCode
    } finally {
      Date.now = realNow
    }
  }
  const strict = { checkValidity: true }
  t.equal(await statusAt(from, strict), 302, 'validFrom itself')
  t.equal(await statusAt(from - 1, strict), 403, 'a millisecond before')
  t.equal(await statusAt(to, strict), 302, 'validTo itself')
  t.equal(await statusAt(to + 1, strict), 403, 'a millisecond after')
  const skewed = { checkValidity: true, clockSkew: 300 }
  t.equal(await statusAt(to + 150_000, skewed), 302, 'a clock 150 s ahead, past validTo, within a 300 s skew')
  t.equal(await statusAt(to + 300_001, skewed), 403, 'past the skew')
})
