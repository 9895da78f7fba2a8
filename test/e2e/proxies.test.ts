// The user's journey through each real reverse proxy, running the configuration the README
// prints (plus nginx's DN-only variants): the proxy verifies the client certificate and forwards
// it in its preset's headers.

import t, { type Test } from 'tap'
import type tlsCertAuth from '../../index'
import {
  sharedPki, skipUnlessInstalled, startProxy, type Pki, type ProxyName, type StartProxyOptions
} from './lib'
import { LOGIN_URL, REDIRECT_URL, startApp } from './lib/app'
import {
  allForgedHeaders, createForgedAdmin, createSelfSigned, duplicatedForgedHeaders, type ForgedCertificate
} from './lib/forged'
import { expectLogin, expectLoginPage, expectNoLogin, visit, whoami, type Site } from './lib/journey'

interface Variant {
  name: string
  daemon: ProxyName
  preset: tlsCertAuth.PresetName
  proxyOptions?: Partial<StartProxyOptions>
  /** Plugin options beside the preset: the opt-in certificate header, as the README's configs say. */
  plugin?: { headers: tlsCertAuth.HeaderOptions }
  /** Whether the proxy forwards the certificate itself, so the identity carries its fingerprint. */
  forwardsCertificate: boolean
}

const VARIANTS: Variant[] = [
  { name: 'nginx, RFC 2253 DN only', daemon: 'nginx', preset: 'nginx', proxyOptions: { forwardCert: false }, forwardsCertificate: false },
  {
    name: 'nginx, legacy DN ($ssl_client_s_dn_legacy) and $ssl_client_escaped_cert',
    daemon: 'nginx',
    preset: 'nginx-legacy',
    proxyOptions: { legacyDn: true },
    plugin: { headers: { cert: 'x-client-cert' } },
    forwardsCertificate: true
  },
  { name: 'nginx, DN and $ssl_client_escaped_cert', daemon: 'nginx', preset: 'nginx', plugin: { headers: { cert: 'x-client-cert' } }, forwardsCertificate: true },
  { name: 'HAProxy', daemon: 'haproxy', preset: 'haproxy', plugin: { headers: { cert: 'x-ssl-client-cert' } }, forwardsCertificate: true },
  { name: 'Apache httpd', daemon: 'apache', preset: 'apache', plugin: { headers: { cert: 'x-client-cert' } }, forwardsCertificate: true },
  { name: 'Caddy', daemon: 'caddy', preset: 'caddy', forwardsCertificate: true }
]

let pki: Pki
let forged: ForgedCertificate
t.before(async () => {
  pki = await sharedPki()
  forged = await createForgedAdmin(pki.dir)
})

for (const variant of VARIANTS) {
  t.test(variant.name, { skip: skipUnlessInstalled(variant.daemon), timeout: 30000 }, async (t) => {
    const app = await startApp({ plugin: { preset: variant.preset, trustedProxies: '127.0.0.1', ...variant.plugin } })
    t.teardown(app.close)
    const proxy = await startProxy[variant.daemon]({ pki, upstream: app.url, ...variant.proxyOptions })
    t.teardown(proxy.stop)
    const site: Site = { url: proxy.url, ca: pki.rootCa.certPem }
    try {
      await journey(t, site, variant)
    } finally {
      if (!t.passing()) t.comment(`${proxy.name} config:\n${proxy.config}\n${proxy.name} logs:\n${proxy.logs()}`)
    }
  })
}

async function journey (t: Test, site: Site, variant: Variant): Promise<void> {
  await t.test('no certificate: the login page', async (t) => {
    expectLoginPage(t, await visit(site, LOGIN_URL), 'no certificate')
    t.equal((await whoami(site)).certUser, null, 'no certUser')
  })

  await t.test('alice logs in, and the session remembers her without the certificate', async (t) => {
    const cookie = await expectLogin(t, site, { identity: pki.alice }, 'alice')
    const home = await visit(site, REDIRECT_URL, { cookie })
    t.equal(home.status, 200, 'the redirect target answers')
    const seen = await whoami(site, { cookie })
    t.equal(seen.user?.username, 'alice', 'the session user is alice')
    t.equal(seen.certUser, null, 'no certificate on this request: the session alone carries the login')

    const withCertificate = await whoami(site, { identity: pki.alice })
    t.match(withCertificate.certUser, { username: 'alice', source: 'headers' }, 'certUser is alice')
    if (variant.forwardsCertificate) {
      t.equal(withCertificate.certUser?.fingerprint256, pki.alice.x509.fingerprint256, 'parsed from the forwarded certificate')
      t.equal(withCertificate.certUser?.hasCertificate, true, 'the certificate itself is there')
    } else {
      t.equal(withCertificate.certUser?.fingerprint256, null, 'only a DN was forwarded: no fingerprint')
    }
  })

  await t.test('"Smith, John": the escaped comma stays in the username', async (t) => {
    const cookie = await expectLogin(t, site, { identity: pki.smith }, 'smith')
    t.equal((await whoami(site, { cookie })).user?.username, 'Smith, John')
  })

  await t.test('expired, foreign-CA and serverAuth-only certificates log nobody in', async (t) => {
    for (const name of ['expired', 'mallory', 'noClientAuth'] as const) {
      const outcome = await expectNoLogin(t, site, { identity: pki[name] }, name)
      t.comment(`${variant.name}, ${name}: ${outcome}`)
    }
  })

  await t.test('certificate headers forged by the client are replaced by the proxy', async (t) => {
    const sets = [
      ['every preset\'s headers', allForgedHeaders(variant.preset, forged)],
      ['this preset\'s headers twice', duplicatedForgedHeaders(variant.preset, forged)]
    ] as const
    for (const [what, headers] of sets) {
      expectLoginPage(t, await visit(site, LOGIN_URL, { headers }), `no certificate, ${what}`)
      t.equal((await whoami(site, { headers })).certUser, null, `no certificate, ${what}: no certUser`)

      const cookie = await expectLogin(t, site, { identity: pki.alice, headers }, `alice, ${what}`)
      t.equal((await whoami(site, { cookie })).user?.username, 'alice', `alice, ${what}: still alice, not admin`)
    }
  })
}

t.test('nginx with the Django package\'s two headers only: a certificate the client adds is not read', { skip: skipUnlessInstalled('nginx'), timeout: 30000 }, async (t) => {
  // The client's own self-signed certificate with her real subject and the e-mail address she wants.
  const planted = await createSelfSigned(pki.dir, 'planted', '/C=AU/O=Example/CN=alice', 'email:admin@example.com')
  const app = await startApp({ plugin: { preset: 'nginx', username: 'email', trustedProxies: '127.0.0.1' } })
  t.teardown(app.close)
  const proxy = await startProxy.nginx({ pki, upstream: app.url, djangoHeadersOnly: true })
  t.teardown(proxy.stop)
  t.notMatch(proxy.config, /X-Client-Cert /, 'the config sets no X-Client-Cert')
  const site: Site = { url: proxy.url, ca: pki.rootCa.certPem }
  const headers = { 'x-client-cert': encodeURIComponent(planted.certPem) }
  const outcome = await expectNoLogin(t, site, { identity: pki.alice, headers }, 'alice with a planted certificate')
  t.equal(outcome, 'HTTP 403', 'refused: the DN alone names no e-mail address')
  t.equal((await whoami(site, { identity: pki.alice, headers })).certUser, null, 'never admin@example.com')
  t.ok(app.logs.some((line) => /exactly one email SAN, found 0/.test(String(line.reason))), 'the reason is logged')
})
