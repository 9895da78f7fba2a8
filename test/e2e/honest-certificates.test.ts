// Every honest certificate gives its identity: certificates carrying each attribute type of
// OpenSSL's table, and CNs in each string type OpenSSL reads, go through real nginx, Apache and
// HAProxy, which forward the RFC 2253 subject DN beside the certificate. The app must find the DN
// header equal to the certificate's subject, and log the CN in, for every one of them.

import type { IncomingHttpHeaders } from 'node:http'
import t, { type Test } from 'tap'
import type tlsCertAuth from '../../index'
import { ATTRIBUTE_TYPES } from '../../plugin/parse/attribute-types'
import * as der from '../helpers/der'
import { sharedPki, skipUnlessInstalled, startProxy, type Pki, type ProxyName } from './lib'
import { LOGIN_URL, startApp } from './lib/app'
import { expectLogin, visit, whoami, type Site } from './lib/journey'

// Extra RDNs per certificate beside its CN: the whole table in a few dozen certificates, each well
// under Node's 16 KiB of request headers once nginx has URL-encoded its PEM.
const BATCH = 50

interface Case {
  what: string
  subject: der.Attribute[][]
  /** The CN, which the app must log in; null when the DN must be refused (fail closed). */
  username: string | null
}

const cn = (tag: number, text: string): der.Attribute[] => [{ type: '2.5.4.3', value: der.string(tag, text) }]

function cases (): Case[] {
  const all: Case[] = []
  const table: Array<[string, readonly string[]]> = Object.entries(ATTRIBUTE_TYPES)
  const owners = new Map<string, number>()
  for (const [, names] of table) {
    for (const name of new Set(names.map((spelling) => spelling.toLowerCase()))) owners.set(name, (owners.get(name) ?? 0) + 1)
  }
  // A type whose OpenSSL short name another type shares but for case (uniqueIdentifier's uid,
  // mail and Mail): in a DN header that name is refused, so its certificate is too. Only UID,
  // exactly so written, stays userId's, as identity.subject has always named it.
  const ambiguous = table.filter(([, [shortName]]) => shortName !== 'UID' && (owners.get(shortName.toLowerCase()) ?? 0) > 1)
  const named = table.map(([oid]) => oid).filter((oid) => oid !== '2.5.4.3' && !ambiguous.some(([other]) => other === oid))
  for (let i = 0; i < named.length; i += BATCH) {
    const batch = named.slice(i, i + BATCH)
    const username = `types-${i / BATCH}`
    all.push({
      what: `${username}: ${batch[0]} to ${batch[batch.length - 1]}`,
      // DER order: the most general first, the CN last (first in the RFC 2253 DN).
      subject: [...batch.map((type, j) => [{ type, value: der.string(der.TAGS.utf8, `v${j}`) }]), cn(der.TAGS.utf8, username)],
      username
    })
  }
  for (const [type, [shortName]] of ambiguous) {
    all.push({
      what: `${type} (${shortName}, ambiguous): refused`,
      subject: [[{ type, value: der.string(der.TAGS.utf8, 'admin') }], cn(der.TAGS.utf8, 'ambiguous')],
      username: null
    })
  }
  for (const [type, text] of [
    ['utf8', 'Jürgen € \u{1f600}'],
    ['numeric', '31415'],
    ['printable', 'Smith, J. (x+y=z)'], // escaped in the DN header
    ['teletex', 'Télétex'],
    ['ia5', 'a;b<c>"d"\\e#'],
    ['universal', 'Üniversal \u{1f600}'],
    ['bmp', 'BMP Jürgen €']
  ] as const) {
    all.push({
      what: `a CN in a ${type} string`,
      subject: [[{ type: '2.5.4.10', value: der.string(der.TAGS.printable, 'Example') }], cn(der.TAGS[type], text)],
      username: text
    })
  }
  all.push({
    what: 'the value # (OpenSSL writes it unescaped)',
    subject: [[{ type: '2.5.4.10', value: der.string(der.TAGS.printable, 'Example') }], cn(der.TAGS.utf8, '#')],
    username: '#'
  })
  return all
}

interface Variant {
  daemon: ProxyName
  plugin: tlsCertAuth.TlsCertAuthOptions
  dnHeader: string
  certHeader: string
}

const VARIANTS: Variant[] = [
  {
    daemon: 'nginx',
    // The certificate header is opt-in: the DN header is checked against the certificate.
    plugin: { preset: 'nginx', headers: { cert: 'x-client-cert' }, trustedProxies: '127.0.0.1' },
    dnHeader: 'x-client-cert-dn',
    certHeader: 'x-client-cert'
  },
  {
    daemon: 'apache',
    plugin: { preset: 'apache', headers: { cert: 'x-client-cert' }, trustedProxies: '127.0.0.1' },
    dnHeader: 'x-client-cert-dn',
    certHeader: 'x-client-cert'
  },
  {
    daemon: 'haproxy',
    plugin: { preset: 'haproxy', headers: { cert: 'x-ssl-client-cert' }, trustedProxies: '127.0.0.1' },
    dnHeader: 'x-ssl-client-dn',
    certHeader: 'x-ssl-client-cert'
  }
]

let pki: Pki
let identities: Array<Case & { identity: { certPem: string, keyPem: string } }>
t.before(async () => {
  pki = await sharedPki()
  const issuer = der.issuerFromPem(pki.intermediateCa.certPem, pki.intermediateCa.keyPem)
  const { publicKey, keyPem } = der.clientKey()
  identities = cases().map((item) => ({
    ...item,
    identity: { certPem: der.pem(der.certificate({ subject: der.name(item.subject), issuer, publicKey })), keyPem }
  }))
})

for (const variant of VARIANTS) {
  t.test(variant.daemon, { skip: skipUnlessInstalled(variant.daemon), timeout: 60000 }, async (t) => {
    const app = await startApp({ plugin: variant.plugin })
    t.teardown(app.close)
    // What reached the app: Fastify answers, this only looks (a second listener of the same requests).
    const received: IncomingHttpHeaders[] = []
    app.app.server.on('request', (request: { headers: IncomingHttpHeaders }) => { received.push(request.headers) })
    const proxy = await startProxy[variant.daemon]({ pki, upstream: app.url })
    t.teardown(proxy.stop)
    const site: Site = { url: proxy.url, ca: pki.rootCa.certPem }
    try {
      await check(t, site, variant, received, app.logs)
    } finally {
      if (!t.passing()) t.comment(`${proxy.name} logs:\n${proxy.logs()}`)
    }
  })
}

async function check (
  t: Test, site: Site, variant: Variant, received: IncomingHttpHeaders[], logs: Array<{ msg: string, reason?: unknown }>
): Promise<void> {
  t.ok(identities.length > 25, `${identities.length} certificates`)
  t.equal(identities.filter(({ username }) => username === null).length, 3, 'uniqueIdentifier (uid), rfc822Mailbox (mail), Mail: refused')
  for (const { what, identity, username } of identities) {
    const seen = await whoami(site, { identity })
    const headers = received[received.length - 1]
    t.ok(headers[variant.dnHeader], `${what}: the proxy sent the DN`)
    t.ok(headers[variant.certHeader], `${what}: and the certificate`)
    if (username === null) {
      t.equal(seen.certUser, null, `${what}: no identity`)
      const response = await visit(site, LOGIN_URL, { identity })
      t.equal(response.status, 403, `${what}: the login is refused`)
      const refusals = logs.filter((line) => line.msg === 'client certificate refused')
      t.match(refusals[refusals.length - 1]?.reason, /ambiguous attribute type/, `${what}: and says why`)
    } else {
      t.equal(seen.certUser?.username, username, `${what}: logged in as the CN`)
      t.equal(seen.certUser?.hasCertificate, true, `${what}: read from the certificate, checked against the DN`)
      await expectLogin(t, site, { identity }, what)
    }
  }
}
