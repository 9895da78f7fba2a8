import { test } from 'tap'
import { sharedPki, type Pki } from './helpers/pki'
import { buildApp, logged } from './helpers/app'
import type tlsCertAuth from '../index'
import { SLASH_FORM_WARNING } from '../plugin/sources/headers'

// Header sets shaped like each proxy's documentation, carrying certificates of our own PKI.
const pem = (pki: Pki) => pki.alice.certPem
const b64 = (pki: Pki) => pki.alice.derBase64
const urlPem = (pki: Pki) => encodeURIComponent(pem(pki)) // nginx $ssl_client_escaped_cert
const awsPem = (pki: Pki) => encodeURIComponent(pem(pki)).replace(/%2B/g, '+').replace(/%3D/g, '=').replace(/%2F/g, '/')
const sf = (der: string) => `:${der}:` // RFC 9440 byte sequence

interface Case {
  headers: (pki: Pki) => Record<string, string>
  /** Values that mean "no certificate" (or an unverified one): each must give no identity. */
  failures: Array<(pki: Pki) => Record<string, string>>
  /** Does the identity carry the parsed certificate? */
  certificate: boolean
  /** Headers the proxy's minimal config does not set, so the preset reads them only when asked. */
  optIn?: tlsCertAuth.HeaderOptions
}

// Every preset, each with its row: a new preset without one does not compile.
const CASES: Record<tlsCertAuth.PresetName, Case> = {
  nginx: {
    headers: (pki) => ({ 'x-client-cert-valid': 'SUCCESS', 'x-client-cert-dn': 'CN=alice,O=Example,C=AU', 'x-client-cert': urlPem(pki) }),
    failures: [
      () => ({ 'x-client-cert-valid': 'NONE' }),
      () => ({ 'x-client-cert-valid': 'FAILED:certificate has expired', 'x-client-cert-dn': 'CN=alice,O=Example,C=AU' }),
      () => ({ 'x-client-cert-valid': 'FAILED:unable to verify the first certificate', 'x-client-cert-dn': 'CN=alice' })
    ],
    certificate: true,
    optIn: { cert: 'x-client-cert' }
  },
  'nginx-legacy': {
    // The slash form is read only with the certificate that checks it (or uncheckedSlashForm).
    headers: (pki) => ({ 'x-client-cert-valid': 'SUCCESS', 'x-client-cert-dn': '/C=AU/O=Example/CN=alice', 'x-client-cert': urlPem(pki) }),
    failures: [
      () => ({ 'x-client-cert-valid': 'NONE' }),
      () => ({ 'x-client-cert-valid': 'FAILED:certificate has expired', 'x-client-cert-dn': '/C=AU/O=Example/CN=alice' })
    ],
    certificate: true,
    optIn: { cert: 'x-client-cert' }
  },
  apache: {
    // SSL_CLIENT_CERT arrives with spaces where the PEM had newlines; no certificate: NONE and "(null)".
    headers: (pki) => ({ 'x-client-cert-valid': 'SUCCESS', 'x-client-cert-dn': 'CN=alice,O=Example,C=AU', 'x-client-cert': pem(pki).replace(/\n/g, ' ') }),
    failures: [
      () => ({ 'x-client-cert-valid': 'NONE', 'x-client-cert-dn': '(null)', 'x-client-cert': '(null)' }),
      () => ({ 'x-client-cert-valid': 'GENEROUS', 'x-client-cert-dn': 'CN=alice' }),
      () => ({ 'x-client-cert-valid': 'FAILED:unable to get local issuer certificate', 'x-client-cert-dn': 'CN=alice' })
    ],
    certificate: true,
    optIn: { cert: 'x-client-cert' }
  },
  haproxy: {
    headers: (pki) => ({ 'x-ssl-client-verify': '0', 'x-ssl-client-used': '1', 'x-ssl-client-dn': 'CN=alice,O=Example,C=AU', 'x-ssl-client-cert': b64(pki) }),
    failures: [
      () => ({ 'x-ssl-client-verify': '0', 'x-ssl-client-used': '0', 'x-ssl-client-dn': '', 'x-ssl-client-cert': '' }),
      (pki) => ({ 'x-ssl-client-verify': '10', 'x-ssl-client-used': '1', 'x-ssl-client-cert': b64(pki) }),
      (pki) => ({ 'x-ssl-client-verify': '0', 'x-ssl-client-cert': b64(pki) })
    ],
    certificate: true,
    optIn: { cert: 'x-ssl-client-cert' }
  },
  traefik: {
    headers: (pki) => ({ 'x-forwarded-tls-client-cert': `${b64(pki)},${pki.intermediateCa.derBase64}` }),
    failures: [() => ({})],
    certificate: true
  },
  envoy: {
    headers: (pki) => ({
      'x-forwarded-client-cert': `By=spiffe://example.com/app;Hash=${pki.alice.x509.fingerprint256.replaceAll(':', '').toLowerCase()};` +
        `Cert="${encodeURIComponent(pem(pki))}";Subject="CN=alice,O=Example,C=AU";URI=;DNS=alice.example.com`
    }),
    failures: [() => ({})],
    certificate: true
  },
  'aws-alb': {
    headers: (pki) => ({
      'x-amzn-mtls-clientcert-serial-number': pki.alice.x509.serialNumber,
      'x-amzn-mtls-clientcert-issuer': 'CN=Test Intermediate CA,O=Example,C=AU',
      'x-amzn-mtls-clientcert-subject': 'CN=alice,O=Example,C=AU',
      'x-amzn-mtls-clientcert-validity': 'NotBefore=2026-01-01T00:00:00Z;NotAfter=2029-01-01T00:00:00Z',
      'x-amzn-mtls-clientcert-leaf': awsPem(pki)
    }),
    failures: [() => ({})],
    certificate: true
  },
  caddy: {
    // Caddy's empty placeholders: no certificate sends empty values.
    headers: (pki) => ({ 'x-client-cert': b64(pki), 'x-client-cert-dn': 'CN=alice,O=Example,C=AU' }),
    failures: [() => ({ 'x-client-cert': '', 'x-client-cert-dn': '' }), () => ({ 'x-client-cert-valid': 'SUCCESS', 'x-client-cert-dn': 'CN=admin' })],
    certificate: true
  },
  cloudflare: {
    headers: (pki) => ({
      'cf-cert-presented': 'true',
      'cf-cert-verified': 'true',
      'cf-cert-revoked': 'false',
      'cf-cert-subject-dn-rfc2253': 'CN=alice,O=Example,C=AU',
      'cf-cert-issuer-dn-rfc2253': 'CN=Test Intermediate CA,O=Example,C=AU',
      'client-cert': sf(b64(pki))
    }),
    failures: [
      () => ({ 'cf-cert-presented': 'false', 'cf-cert-verified': 'false', 'cf-cert-revoked': 'false' }),
      () => ({ 'cf-cert-presented': 'true', 'cf-cert-verified': 'false', 'cf-cert-revoked': 'false', 'cf-cert-subject-dn-rfc2253': 'CN=alice' }),
      () => ({ 'cf-cert-presented': 'true', 'cf-cert-verified': 'true', 'cf-cert-revoked': 'true', 'cf-cert-subject-dn-rfc2253': 'CN=alice' })
    ],
    certificate: false // Client-Cert is opt-in: the header set here carries one, and it is not read
  },
  rfc9440: {
    headers: (pki) => ({ 'client-cert': sf(b64(pki)), 'client-cert-chain': `${sf(pki.intermediateCa.derBase64)}, ${sf(pki.rootCa.derBase64)}` }),
    failures: [() => ({})],
    certificate: true
  },
  gcp: {
    headers: (pki) => ({
      'x-client-cert-present': 'true',
      'x-client-cert-chain-verified': 'true',
      'x-client-cert-error': '',
      'x-client-cert-leaf': sf(b64(pki)),
      'x-client-cert-chain': sf(pki.intermediateCa.derBase64)
    }),
    failures: [
      () => ({ 'x-client-cert-present': 'false', 'x-client-cert-chain-verified': 'false', 'x-client-cert-error': 'client_cert_not_provided' }),
      (pki) => ({ 'x-client-cert-present': 'true', 'x-client-cert-chain-verified': 'false', 'x-client-cert-error': 'client_cert_validation_failed', 'x-client-cert-leaf': sf(b64(pki)) })
    ],
    certificate: true
  },
  'azure-appgw': {
    headers: (pki) => ({
      'x-client-cert-verification': 'SUCCESS',
      'x-client-cert-subject': 'CN=alice,O=Example,C=AU',
      'x-client-cert-issuer': 'CN=Test Intermediate CA,O=Example,C=AU',
      'x-client-cert': urlPem(pki)
    }),
    failures: [
      () => ({ 'x-client-cert-verification': 'NONE' }),
      () => ({ 'x-client-cert-verification': 'FAILED:certificate has expired', 'x-client-cert-subject': 'CN=alice' })
    ],
    certificate: true,
    optIn: { issuerDn: 'x-client-cert-issuer', cert: 'x-client-cert' }
  }
}
const PRESET_CASES = Object.entries(CASES) as Array<[tlsCertAuth.PresetName, Case]>

test('every preset reads its proxy\'s headers, and each failure value gives no identity', async (t) => {
  const pki = await sharedPki()
  for (const [preset, { headers, failures, certificate, optIn }] of PRESET_CASES) {
    await t.test(preset, async (t) => {
      const { app } = await buildApp({ preset, headers: optIn })
      const response = await app.inject({ url: '/whoami', headers: headers(pki) })
      const identity = response.json().certUser
      t.equal(identity?.username, 'alice', 'alice')
      t.same(identity.subject, [[{ type: 'CN', value: 'alice' }], [{ type: 'O', value: 'Example' }], [{ type: 'C', value: 'AU' }]])
      if (certificate) {
        t.equal(identity.fingerprint256, pki.alice.x509.fingerprint256, 'parsed from the forwarded certificate')
        t.equal(identity.serialNumber, pki.alice.x509.serialNumber)
        t.same(identity.subjectAltNames, [{ type: 'email', value: 'alice@example.com' }])
        t.same(identity.issuer, [[{ type: 'CN', value: 'Test Intermediate CA' }], [{ type: 'O', value: 'Example' }], [{ type: 'C', value: 'AU' }]])
      }
      const login = await app.inject({ url: '/accounts/login/', headers: headers(pki) })
      t.equal(login.statusCode, 302, 'logs in')
      for (const failure of failures) {
        const refused = await app.inject({ url: '/accounts/login/', headers: failure(pki) })
        t.equal(refused.statusCode, 200, `no identity: ${JSON.stringify(failure(pki)).slice(0, 120)}`)
        t.equal(refused.json().certUser, null)
      }
    })
  }
})

test('by default a preset reads only what its proxy\'s minimal config sets: a client\'s copy of an opt-in header is ignored', async (t) => {
  const pki = await sharedPki()
  for (const [preset, { headers, optIn }] of PRESET_CASES) {
    if (optIn === undefined) continue
    await t.test(preset, async (t) => {
      // nginx-legacy without the certificate must be told to read the slash form alone.
      const { app } = await buildApp({ preset, headers: preset === 'nginx-legacy' ? { uncheckedSlashForm: true } : undefined })
      // A certificate of the client's choosing beside the proxy's own headers (here, alice's own).
      const identity = (await app.inject({ url: '/whoami', headers: headers(pki) })).json().certUser
      t.equal(identity.username, 'alice', 'the DN the proxy sent')
      t.equal(identity.fingerprint256, null, 'the certificate header is not read')
      t.equal(identity.issuer, null, 'nor an issuer header the proxy was not told to set')
    })
  }
})

test('at startup the plugin logs the header names it trusts, once', async (t) => {
  const { app, logs } = await buildApp({ preset: 'haproxy' })
  await app.ready()
  const lines = logged(logs, 'client certificate headers read from trusted proxies')
  t.equal(lines.length, 1)
  t.match(lines[0], { level: 30, headers: ['x-ssl-client-verify', 'x-ssl-client-used', 'x-ssl-client-dn'] })
  const optedIn = await buildApp({ preset: 'nginx', headers: { cert: 'x-client-cert' } })
  await optedIn.app.ready()
  t.same(logged(optedIn.logs, 'trusted proxies')[0].headers, ['x-client-cert-valid', 'x-client-cert-dn', 'x-client-cert'])
  for (const source of ['tls', () => null] as const) {
    const other = await buildApp({ source })
    await other.app.ready()
    t.same(logged(other.logs, 'trusted proxies'), [], `source ${typeof source === 'string' ? source : 'function'}: no header is trusted, none is named`)
  }
})

test('the slash form alone is refused; read anyway where uncheckedSlashForm says so, with a warning at startup', async (t) => {
  const read = async (options: tlsCertAuth.TlsCertAuthOptions, dn: string) => {
    const { app, logs } = await buildApp(options)
    const certUser = (await app.inject({ url: '/whoami', headers: { 'x-client-cert-valid': 'SUCCESS', 'x-client-cert-dn': dn } })).json().certUser
    return { username: certUser?.username ?? null, warnings: logged(logs, 'slash form').filter((line) => line.level === 40) }
  }
  t.same(await read({ preset: 'nginx' }, 'CN=alice,O=x'), { username: 'alice', warnings: [] }, 'auto, RFC 2253: read, nothing to say')
  t.same(await read({ preset: 'nginx' }, '/O=x/CN=alice'), { username: null, warnings: [] }, 'auto, the slash form alone: refused')
  t.same(await read({ preset: 'nginx', headers: { cert: 'x-client-cert' } }, '/O=x/CN=alice'), { username: null, warnings: [] },
    'a certificate header named but not sent checks nothing')
  for (const options of [{ preset: 'nginx', headers: { uncheckedSlashForm: true } }, { preset: 'nginx-legacy', headers: { uncheckedSlashForm: true } }] as const) {
    const { username, warnings } = await read(options, '/O=x/CN=alice')
    t.equal(username, 'alice', `${options.preset} with uncheckedSlashForm: read`)
    t.match(warnings, [{ header: 'x-client-cert-dn', dnFormat: options.preset === 'nginx' ? 'auto' : 'legacy' }])
    t.equal(warnings[0]?.msg, SLASH_FORM_WARNING)
    t.equal(SLASH_FORM_WARNING, "fastify-tls-certificate-auth: headers.uncheckedSlashForm reads a DN in OpenSSL's slash form with no " +
      'certificate to check it: a CN that ends in spaces (which Node trims) or is no string (which OpenSSL prints as text) logs in ' +
      'as another name, and behind a proxy built with OpenSSL before 3.0 (or LibreSSL, BoringSSL), which writes / inside a ' +
      "value raw, a certificate without a CN whose O is x/CN=admin logs in as admin. Prefer RFC 2253 (nginx's $ssl_client_s_dn, " +
      "preset 'nginx'), or forward the certificate (headers.cert)")
    t.equal(warnings.length, 1, 'warned once, at startup')
  }
  t.same((await read({ preset: 'nginx-legacy', headers: { cert: 'x-client-cert' } }, 'CN=alice')).warnings, [], 'checked by a certificate: no warning')
  const { app, logs } = await buildApp({ preset: 'haproxy' })
  await app.ready()
  t.same(logged(logs, 'slash form'), [])
})

test('headers.require adds to the preset\'s required headers; null removes one', async (t) => {
  const verified = { 'cf-cert-presented': 'true', 'cf-cert-verified': 'true', 'cf-ipcountry': 'AU', 'cf-cert-subject-dn-rfc2253': 'CN=alice' }
  const { app } = await buildApp({ preset: 'cloudflare', headers: { require: { 'CF-IPCountry': 'AU' } } })
  const revoked = await app.inject({ url: '/accounts/login/', headers: { ...verified, 'cf-cert-revoked': 'true' } })
  t.equal(revoked.statusCode, 200, 'Cf-Cert-Revoked: true still means no certificate')
  t.equal(revoked.json().certUser, null)
  const good = await app.inject({ url: '/whoami', headers: { ...verified, 'cf-cert-revoked': 'false' } })
  t.equal(good.json().certUser.username, 'alice')
  const elsewhere = await app.inject({ url: '/whoami', headers: { ...verified, 'cf-cert-revoked': 'false', 'cf-ipcountry': 'NZ' } })
  t.equal(elsewhere.json().certUser, null, 'the added requirement applies too')
  const { app: dropped } = await buildApp({ preset: 'cloudflare', headers: { require: { 'cf-cert-revoked': null } } })
  const withoutFlag = await dropped.inject({ url: '/whoami', headers: verified })
  t.equal(withoutFlag.json().certUser.username, 'alice', 'an explicit null removes one of the preset\'s')
})

test('a DN header and a forwarded certificate that disagree give no identity', async (t) => {
  const pki = await sharedPki()
  const { app, logs } = await buildApp({ preset: 'nginx', headers: { cert: 'x-client-cert' } })
  const response = await app.inject({
    url: '/accounts/login/',
    headers: { 'x-client-cert-valid': 'SUCCESS', 'x-client-cert-dn': 'CN=admin,O=Example,C=AU', 'x-client-cert': encodeURIComponent(pki.alice.certPem) }
  })
  t.equal(response.statusCode, 403)
  t.equal(response.json().code, 'FST_TLS_CERT_AUTH_NO_IDENTITY')
  t.ok(logs.some((line) => String(line.reason).includes('disagree')))
  const legacy = await buildApp({ preset: 'nginx-legacy', headers: { cert: 'x-client-cert' } })
  const agrees = await legacy.app.inject({
    url: '/whoami',
    headers: { 'x-client-cert-valid': 'SUCCESS', 'x-client-cert-dn': '/C=AU/O=Example/CN=alice', 'x-client-cert': encodeURIComponent(pki.alice.certPem) }
  })
  t.equal(agrees.json().certUser.username, 'alice', 'the legacy order is the certificate\'s order')
})

test('a certificate slipped in beside the proxy\'s own headers is refused', async (t) => {
  const pki = await sharedPki()
  // Cloudflare with the RFC 9440 transform rule: the issuer header must match the certificate.
  const { app } = await buildApp({ preset: 'cloudflare', headers: { cert: 'client-cert' } })
  const sent = (issuer: string) => ({
    'cf-cert-presented': 'true',
    'cf-cert-verified': 'true',
    'cf-cert-revoked': 'false',
    'cf-cert-subject-dn-rfc2253': 'CN=alice,O=Example,C=AU',
    'cf-cert-issuer-dn-rfc2253': issuer,
    'client-cert': `:${pki.alice.derBase64}:`
  })
  const genuine = await app.inject({ url: '/whoami', headers: sent('CN=Test Intermediate CA,O=Example,C=AU') })
  t.equal(genuine.json().certUser.fingerprint256, pki.alice.x509.fingerprint256, 'opted in: the certificate is read')
  const slipped = await app.inject({ url: '/accounts/login/', headers: sent('CN=Real Issuing CA,O=Corp') })
  t.equal(slipped.statusCode, 403, 'issuer header and certificate disagree')
})

test('headers override a preset field by field', async (t) => {
  const { app } = await buildApp({ preset: 'haproxy', headers: { require: { 'x-ssl-client-used': null }, dn: 'x-dn', dnFormat: 'legacy', uncheckedSlashForm: true } })
  const response = await app.inject({ url: '/whoami', headers: { 'x-ssl-client-verify': '0', 'x-dn': '/O=x/CN=bob' } })
  t.equal(response.json().certUser.username, 'bob')
  const { app: noVerify } = await buildApp({ headers: { verify: null } })
  const direct = await noVerify.inject({ url: '/whoami', headers: { 'x-client-cert-dn': 'CN=carol' } })
  t.equal(direct.json().certUser.username, 'carol', 'verify: null trusts the presence of the identity headers')
})

test('unreadable certificate headers give 403 with the reason logged', async (t) => {
  const { app, logs } = await buildApp({ preset: 'nginx', headers: { cert: 'x-client-cert' } })
  for (const cert of ['not a certificate', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', '%zz',
    '-----BEGIN CERTIFICATE-----\nMII*\n-----END CERTIFICATE-----\n']) {
    const response = await app.inject({ url: '/accounts/login/', headers: { 'x-client-cert-valid': 'SUCCESS', 'x-client-cert': cert } })
    t.equal(response.statusCode, 403, JSON.stringify(cert))
  }
  t.equal(logs.filter((line) => String(line.reason).startsWith('unread')).length, 4)
  const { app: latin } = await buildApp({ preset: 'apache' })
  const bad = await latin.inject({ url: '/whoami', headers: { 'x-client-cert-valid': 'SUCCESS', 'x-client-cert-dn': Buffer.from('CN=\xff', 'latin1').toString('latin1') } })
  t.equal(bad.json().certUser, null, 'bytes that are not UTF-8 in a DN header')
  const utf8 = await latin.inject({ url: '/whoami', headers: { 'x-client-cert-valid': 'SUCCESS', 'x-client-cert-dn': Buffer.from('CN=Jürgen').toString('latin1') } })
  t.equal(utf8.json().certUser.username, 'Jürgen', 'raw UTF-8 as Apache sends it')
})
