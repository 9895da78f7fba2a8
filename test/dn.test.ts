import { test } from 'tap'
import { FST_TLS_CERT_AUTH_BAD_DN, parseDN } from '../index'
import { canonicalType } from '../plugin/parse/dn'
import { buildApp, certHeaders } from './helpers/app'
import { httpGet } from './helpers/http'

const attrs = (input: string, format?: 'auto' | 'rfc4514' | 'legacy') =>
  parseDN(input, format).map((rdn) => rdn.map(({ type, value }) => `${type}=${value}`).join('+'))

test('the Django examples and nginx RFC 2253 form', async (t) => {
  t.same(attrs('/C=AU/O=Example/CN=alice'), ['C=AU', 'O=Example', 'CN=alice'])
  t.same(attrs('C=AU, ST=Victoria, L=Melbourne, CN=mp'), ['C=AU', 'ST=Victoria', 'L=Melbourne', 'CN=mp'])
  t.same(attrs('CN=alice,O=Example,C=AU'), ['CN=alice', 'O=Example', 'C=AU'])
  t.same(parseDN('CN=alice'), [[{ type: 'CN', value: 'alice' }]], 'objects of type and value')
})

test('RFC 4514 escapes', async (t) => {
  t.same(attrs('CN=alice\\,CN=admin'), ['CN=alice,CN=admin'], 'escaped comma stays in the value')
  t.same(attrs('OU=x\\+CN=admin,CN=bob'), ['OU=x+CN=admin', 'CN=bob'], 'escaped plus stays in the value')
  t.same(attrs('CN=\\"q\\" \\\\ \\< \\> \\; \\='), ['CN="q" \\ < > ; ='])
  t.same(attrs('CN=\\41\\6c\\69ce'), ['CN=Alice'], 'hex pairs')
  t.same(attrs('CN=J\\C3\\BCrgen'), ['CN=Jürgen'], 'UTF-8 as hex pairs')
  t.same(attrs('CN=\\E2\\82\\AC\\,x'), ['CN=€,x'], 'multi-byte then an escaped special')
  t.same(attrs('CN=Jürgen'), ['CN=Jürgen'], 'raw UTF-8 as nginx sends it')
  t.same(attrs('CN=\\EF\\BB\\BFadmin,O=ad\\EF\\BB\\BFmin'), ['CN=\uFEFFadmin', 'O=ad\uFEFFmin'], 'a byte order mark is data, never dropped')
  t.same(attrs('CN=\\ lead,O=trail\\ '), ['CN= lead', 'O=trail '], 'escaped spaces are kept')
  t.same(attrs('CN=\\#hash'), ['CN=#hash'], 'escaped leading #')
  t.same(attrs('CN=a=b'), ['CN=a=b'], 'an unescaped = inside a value')
  t.same(attrs('CN='), ['CN='], 'an empty value')
  t.same(parseDN(''), [], 'the empty DN')
  t.same(parseDN('   '), [], 'only spaces')
})

test('spaces around separators, as OpenSSL writes them', async (t) => {
  t.same(attrs(' C = AU ,  CN = mp '), ['C=AU', 'CN=mp'])
  t.same(attrs('CN = a + UID = 7, O = x'), ['CN=a+UID=7', 'O=x'])
  t.same(attrs('CN=two words  here ,O=x'), ['CN=two words  here', 'O=x'], 'inner spaces kept, trailing trimmed')
})

test('multi-valued RDNs', async (t) => {
  t.same(parseDN('CN=a+UID=b,O=x'), [[{ type: 'CN', value: 'a' }, { type: 'UID', value: 'b' }], [{ type: 'O', value: 'x' }]])
  t.same(attrs('/O=x/CN=a+UID=b'), ['O=x', 'CN=a+UID=b'], 'legacy too')
})

test('attribute types: every spelling of one type is one name', async (t) => {
  t.same(attrs('commonName=a,2.5.4.3=b,cn=c,E=d,1.2.840.113549.1.9.1=e'), ['CN=a', 'CN=b', 'CN=c', 'emailAddress=d', 'emailAddress=e'])
  t.same(attrs('1.3.6.1.4.1.1466.0=x'), ['1.3.6.1.4.1.1466.0=x'], 'unknown OIDs stay as written')
  t.equal(canonicalType('SomethingElse'), 'SomethingElse')
  t.same(attrs('constructor=x,toString=y'), ['constructor=x', 'toString=y'], 'no inherited names')
})

test('#hex values are BER and decode by their string type', async (t) => {
  t.same(attrs('CN=#0c05616c696365'), ['CN=alice'], 'UTF8String')
  t.same(attrs('CN=#1305616c696365 ,O=x'), ['CN=alice', 'O=x'], 'PrintableString, space before the comma')
  t.same(attrs('1.2.840.113549.1.9.1=#1611616c696365406578616d706c652e636f6d'), ['emailAddress=alice@example.com'], 'IA5String as Go writes it')
  t.same(attrs('CN=#1e0400e90041'), ['CN=éA'], 'BMPString')
  t.same(attrs('CN=#1c08000000e900000041'), ['CN=éA'], 'UniversalString')
  t.same(attrs('2.5.4.45=#030200ff'), ['x500UniqueIdentifier=#030200ff'], 'other types keep their hex form')
  const long = 'a'.repeat(200)
  t.same(attrs(`CN=#0c81c8${Buffer.from(long).toString('hex')}`), [`CN=${long}`], 'long-form length')
})

test('#hex of every string type reads as OpenSSL prints the type, the others as their DER', async (t) => {
  t.same(attrs('CN=#12053134313539'), ['CN=14159'], 'NumericString')
  t.same(attrs('CN=#1305416c696365'), ['CN=Alice'], 'PrintableString')
  t.same(attrs('CN=#1403e9e0fc'), ['CN=éàü'], 'TeletexString: its bytes as ISO 8859-1, as OpenSSL reads them')
  t.same(attrs('CN=#1605616c696365'), ['CN=alice'], 'IA5String')
  t.same(attrs('CN=#1a05616c696365'), ['CN=alice'], 'VisibleString')
  t.same(attrs('CN=#1c0c0000004a000000fc0001f600'), ['CN=Jü\u{1f600}'], 'UniversalString: UCS-4')
  t.same(attrs('CN=#1e06004a00fc20ac'), ['CN=Jü€'], 'BMPString: UCS-2')
  for (const tag of ['15', '19', '1b']) {
    // VideotexString, GraphicString, GeneralString: OpenSSL prints them as `#` and their DER in hex
    // (upper case); the value is that, in one case.
    t.same(attrs(`CN=#${tag}05616C696365`), [`CN=#${tag}05616c696365`], `tag 0x${tag} keeps its hex form`)
  }
})

test('the value #: OpenSSL writes it unescaped, and it is the one # with no hex after it', async (t) => {
  // `openssl x509 -nameopt RFC2253` and nginx's $ssl_client_s_dn print the subject O=x, CN=# as
  // `CN=#,O=x`: OpenSSL escapes a leading `#` unless it is also the last character.
  t.same(attrs('CN=#,O=x'), ['CN=#', 'O=x'])
  t.same(attrs('CN=#'), ['CN=#'])
  t.same(attrs('CN = # , O = x'), ['CN=#', 'O=x'], 'spaces around it')
  t.same(attrs('CN=#+UID=7'), ['CN=#+UID=7'], 'in a multi-valued RDN')
  t.same(attrs('CN=\\#'), ['CN=#'], 'escaped, as RFC 4514 writers do')
  t.same(attrs('CN=\\#0c0161'), ['CN=#0c0161'], 'an escaped leading # is data')
  t.same(attrs('CN=#0c0161'), ['CN=a'], 'an unescaped leading # starts hex BER')
  t.same(attrs('CN=a#'), ['CN=a#'], 'not leading: data')
  for (const bad of ['CN=# x', 'CN=#x', 'CN=#0', 'CN=#,', 'CN=##', 'CN=#\\20']) {
    t.throws(() => parseDN(bad), { code: 'FST_TLS_CERT_AUTH_BAD_DN' }, JSON.stringify(bad))
  }
})

test('legacy slash form', async (t) => {
  t.same(attrs('/CN=a=b'), ['CN=a=b'])
  t.same(attrs('CN=a/b', 'rfc4514'), ['CN=a/b'], 'a slash is plain text in RFC 4514')
  t.same(attrs('/CN=x', 'legacy'), ['CN=x'])
})

test('the slash form is refused whenever it holds a backslash', async (t) => {
  // O=Example, OU="x/CN=admin/OU=y\", CN=eve, as OpenSSL 1.1.1, LibreSSL and BoringSSL write it
  // (`/`, `+` and `\` raw): read with `\/` as an escaped slash, eve would be admin.
  const forged = '/O=Example/OU=x/CN=admin/OU=y\\/CN=eve'
  for (const format of ['legacy', 'auto'] as const) {
    const error = t.throws(() => parseDN(forged, format), { code: 'FST_TLS_CERT_AUTH_BAD_DN' }, format) as Error
    t.match(error.message, /a backslash in the slash form.*use the RFC 2253 form/, `${format}: says why and what to do`)
  }
  for (const input of ['/CN=a\\/CN=admin/O=x', '/CN=a\\+b/O=c\\/d', '/CN=a\\', '/CN=\\\\', '/O=x/CN=a\\b']) {
    t.throws(() => parseDN(input), { code: 'FST_TLS_CERT_AUTH_BAD_DN' }, JSON.stringify(input))
  }
  t.same(attrs('CN=eve,OU=y\\\\,OU=x/CN=admin,O=Example'), ['CN=eve', 'OU=y\\', 'OU=x/CN=admin', 'O=Example'],
    'the RFC 2253 form of that name says who it is')
})

test('a DN header whose last value ended in an escaped space: Node trims it, the plugin restores it', async (t) => {
  const { app } = await buildApp()
  t.teardown(() => app.close())
  const certUser = async (dn: string) => (await app.inject({ url: '/whoami', headers: certHeaders(dn) })).json().certUser
  t.match(await certUser('CN=alice\\'), { username: 'alice ', dn: 'CN=alice\\ ' }, 'a lone backslash at the end was \\ ')
  t.match(await certUser('O=x\\ ,CN=alice\\'), { username: 'alice ' }, 'only at the very end')
  t.match(await certUser('CN=a\\\\\\'), { username: 'a\\ ' }, 'an odd run: the last backslash escaped a space')
  t.match(await certUser('CN=alice\\\\'), { username: 'alice\\' }, 'an even run is escaped backslashes: nothing to restore')
  t.equal(await certUser('/CN=alice\\'), null, 'the slash form has no escapes to restore: refused')
  t.match(await certUser('CN=#'), { username: '#' }, 'the value #')
  t.throws(() => parseDN('CN=alice\\'), { code: 'FST_TLS_CERT_AUTH_BAD_DN' }, 'parseDN itself stays strict')

  // Over a real socket: what the proxy sends, and what Node makes of it.
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number } // listening on TCP: an address, not a pipe name
  const response = await httpGet(`http://127.0.0.1:${port}/whoami`, certHeaders('CN=alice\\ '))
  t.match(JSON.parse(response.body).certUser, { username: 'alice ', dn: 'CN=alice\\ ' }, 'sent as CN=alice\\ , read as alice and a space')
})

test('invalid input throws a coded error and never guesses', async (t) => {
  const bad = [
    'CN', 'CN=a,', 'CN=a,,O=b', '=a', 'C N=a', '1.=a', '01.2=a', 'OID.2.5.4.3=a', 'CN=a;O=b', 'CN="quoted"',
    'CN=a<b', 'CN=a\\', 'CN=a\\x', 'CN=\\zz', 'CN=\\C3', 'CN=\\C3\\28', 'CN=#x', 'CN=#0', 'CN=#zz', 'CN=#0c05616c6963',
    'CN=#0c80', 'CN=#0c85', 'CN=#0c02c328', 'CN=#1e03000041', 'CN=#1e02d800', 'CN=#1c0400110000', 'CN=#0c0161 x',
    'CN=a\0', 'CN=a+', '/', '/CN', '/CN=a/', '/CN=a+', '//CN=a', '/CN=a\\q', '/CN=\\xZZ', '/CN=\\xC3', '/CN=a\0',
    '/CN=\\xC3\\/', '/CN=\\x61dmin', '/O=a\\\\/UID=admin', '/CN=a\\=b', '/CN=J\\xC3\\xBCrgen', 'CN=#0c016161', 'CN=x'
  ]
  for (const input of bad.slice(0, -1)) {
    t.throws(() => parseDN(input), { code: 'FST_TLS_CERT_AUTH_BAD_DN' }, JSON.stringify(input))
  }
  t.throws(() => parseDN('CN=x', 'legacy'), { code: 'FST_TLS_CERT_AUTH_BAD_DN' }, 'legacy must start with /')
  t.throws(() => parseDN('CN=x', 'ldap' as 'auto'), { code: 'FST_TLS_CERT_AUTH_BAD_DN' }, 'unknown format')
  t.throws(() => parseDN(42 as unknown as string), { code: 'FST_TLS_CERT_AUTH_BAD_DN' }, 'not a string')
  const error = t.throws(() => parseDN('CN=' + 'x'.repeat(500) + ';')) as Error
  t.ok(error instanceof FST_TLS_CERT_AUTH_BAD_DN)
  t.ok(error.message.length < 300, 'long input is cut in the message')
})

test('linear time on hostile input', async (t) => {
  const sizes = [20_000, 40_000]
  const times = sizes.map((n) => {
    const inputs = [
      'CN=' + '\\,'.repeat(n),
      'CN=a' + '+CN=a'.repeat(n),
      'CN=' + ' '.repeat(n) + 'x',
      'CN=' + '\\C3\\BC'.repeat(n),
      '/' + 'CN=a/'.repeat(n) + 'O=x'
    ]
    const start = process.hrtime.bigint()
    for (const input of inputs) parseDN(input)
    return Number(process.hrtime.bigint() - start)
  })
  // Doubling the input must not quadruple the time; a loose bound keeps a noisy machine out of it.
  t.ok(times[1] < times[0] * 3.5, `20k: ${times[0]}ns, 40k: ${times[1]}ns`)
})
