// No proxy in between: Node terminating mutual TLS itself, and a client reaching the app
// directly, past the proxy, with certificate headers of its own.

import { readFile } from 'node:fs/promises'
import t from 'tap'
import { httpGet } from '../helpers/http'
import { sharedPki, type Pki } from './lib'
import { LOGIN_URL, REDIRECT_URL, sessionCookieOf, startApp } from './lib/app'
import {
  allForgedHeaders, createForgedAdmin, FORGED_USERNAME, forgedHeaders, PRESET_NAMES, type ForgedCertificate
} from './lib/forged'
import { expectLogin, expectLoginPage, visit, whoami, type Site } from './lib/journey'

let pki: Pki
let forged: ForgedCertificate
t.before(async () => {
  pki = await sharedPki()
  forged = await createForgedAdmin(pki.dir)
})

t.test("source: 'tls', Fastify's own HTTPS server asks for the client certificate", { timeout: 30000 }, async (t) => {
  const app = await startApp({
    plugin: { source: 'tls' },
    https: {
      key: pki.server.keyPem,
      cert: pki.server.chainPem,
      ca: pki.caBundlePem,
      requestCert: true,
      // Let unverified clients finish the handshake: they get the login page, not a TLS error.
      rejectUnauthorized: false
    }
  })
  t.teardown(app.close)
  const site: Site = { url: `https://localhost:${app.port}`, ca: pki.rootCa.certPem }

  await t.test('no certificate: the login page', async (t) => {
    expectLoginPage(t, await visit(site, LOGIN_URL), 'no certificate')
    t.equal((await whoami(site)).certUser, null, 'no certUser')
  })

  await t.test('alice logs in, and the session remembers her without the certificate', async (t) => {
    const cookie = await expectLogin(t, site, { identity: pki.alice }, 'alice')
    t.equal((await visit(site, REDIRECT_URL, { cookie })).status, 200, 'the redirect target answers')
    const seen = await whoami(site, { cookie })
    t.same(seen.user, { username: 'alice', dn: 'CN=alice,O=Example,C=AU' }, 'the session user is alice')
    t.equal(seen.certUser, null, 'no certificate on this request')
    t.match((await whoami(site, { identity: pki.alice })).certUser, {
      username: 'alice', source: 'tls', fingerprint256: pki.alice.x509.fingerprint256, hasCertificate: true
    }, 'certUser is alice, read from the TLS connection')
  })

  await t.test('alice from her PKCS#12 bundle, as a browser would send it', async (t) => {
    const cookie = await expectLogin(t, site, { identity: { pfx: await readFile(pki.alice.p12), passphrase: pki.alice.p12Password } }, 'alice.p12')
    t.equal((await whoami(site, { cookie })).user?.username, 'alice')
  })

  await t.test('"Smith, John": the comma stays in the username', async (t) => {
    const cookie = await expectLogin(t, site, { identity: pki.smith }, 'smith')
    t.equal((await whoami(site, { cookie })).user?.username, 'Smith, John')
  })

  await t.test('expired, foreign-CA and serverAuth-only certificates: the login page, no identity', async (t) => {
    for (const name of ['expired', 'mallory', 'noClientAuth'] as const) {
      expectLoginPage(t, await visit(site, LOGIN_URL, { identity: pki[name] }), name)
      t.equal((await whoami(site, { identity: pki[name] })).certUser, null, `${name}: no certUser`)
    }
  })

  await t.test('certificate headers are not a certificate', async (t) => {
    const headers = allForgedHeaders('nginx', forged)
    expectLoginPage(t, await visit(site, LOGIN_URL, { headers }), 'no certificate, forged headers')
    const cookie = await expectLogin(t, site, { identity: pki.alice, headers }, 'alice, forged headers')
    t.equal((await whoami(site, { cookie })).user?.username, 'alice', 'still alice, not admin')
  })
})

t.test('a client that reaches the app past the proxy cannot speak for the proxy', { timeout: 30000 }, async (t) => {
  // The app trusts its proxy at 127.0.0.1; the attacker connects from 127.0.0.2, claims in
  // X-Forwarded-For to be the proxy, and sends the headers of whichever proxy the app expects.
  for (const preset of PRESET_NAMES) {
    // nginx-legacy in its most permissive form: the forged slash-form DN alone would log in.
    const headerOptions = preset === 'nginx-legacy' ? { uncheckedSlashForm: true } : undefined
    const app = await startApp({ plugin: { preset, headers: headerOptions, trustedProxies: '127.0.0.1' } })
    try {
      const headers = { ...forgedHeaders(preset, forged), 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1' }
      const login = await httpGet(app.url + LOGIN_URL, headers, '127.0.0.2')
      t.equal(login.status, 200, `${preset}: the login page, not a login`)
      t.equal(sessionCookieOf(login.headers['set-cookie']), null, `${preset}: no session cookie`)
      const seen = JSON.parse((await httpGet(app.url + '/whoami', headers, '127.0.0.2')).body)
      t.equal(seen.certUser, null, `${preset}: no certUser`)
      t.ok(app.logs.some((line) => line.msg.includes('untrusted peer') && line.peer === '127.0.0.2'), `${preset}: the attempt is logged`)

      // The same headers from the proxy's address do log in: only the peer address stopped them.
      const fromProxy = await httpGet(app.url + LOGIN_URL, headers, '127.0.0.1')
      t.equal(fromProxy.status, 302, `${preset}: from 127.0.0.1 the same headers log in`)
      const cookie = sessionCookieOf(fromProxy.headers['set-cookie'])
      const user = JSON.parse((await httpGet(app.url + '/whoami', { cookie: cookie ?? '' }, '127.0.0.1')).body).user
      t.equal(user?.username, FORGED_USERNAME, `${preset}: as ${FORGED_USERNAME}`)
    } finally {
      await app.close()
    }
  }
})
