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
  t.same(attrs('CN=DOMAIN\\\\user'), ['CN=DOMAIN\\user'], 'an escaped backslash before letters, as in a Windows account')
  t.same(attrs('CN=a\\=bc'), ['CN=a=bc'], 'an escaped = before hex digits is the = alone')
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

/** The error a refused input throws (a test fails on an input that is accepted). */
const refusal = (input: string, format?: Parameters<typeof parseDN>[1]): Error => {
  try {
    parseDN(input, format)
  } catch (error) {
    return error as Error
  }
  throw new Error(`accepted ${JSON.stringify(input)}`)
}

/** The message of a refusal: the reason, and the input it was found in (logged as the refusal reason). */
const refusedFor = (reason: string, input: string) => `Malformed distinguished name: ${reason} in ${JSON.stringify(input)}`

test('a refused RFC 4514 DN says why, with the input', async (t) => {
  const cases: Array<[string, string]> = [
    ['CN', 'expected = after CN'],
    ['=a', 'bad attribute type ""'],
    ['CN=\\C3', 'escaped bytes are not UTF-8'],
    ['CN=a\\x', 'bad escape'],
    ['CN=a\\', 'bad escape'],
    ['CN=a>b', 'unescaped ">"'],
    ['CN=a;O=b', 'unescaped ";"'],
    ['CN=a,', 'trailing ,'],
    ['CN=a, ', 'trailing ,'],
    ['CN=a,  ', 'trailing ,']
  ]
  for (const [input, reason] of cases) {
    const error = refusal(input)
    t.ok(error instanceof FST_TLS_CERT_AUTH_BAD_DN, JSON.stringify(input))
    t.equal(error.message, refusedFor(reason, input))
  }
})

test('a numeric OID type is digits and dots alone, each arc without a leading zero', async (t) => {
  for (const type of ['1a.2', '1.2.3x', '1.2.3-x', '01.2', '1.02', '1.', '1..2']) {
    const input = `${type}=a`
    const error = refusal(input)
    t.ok(error instanceof FST_TLS_CERT_AUTH_BAD_DN, type)
    t.equal(error.message, refusedFor(`bad attribute type ${JSON.stringify(type)}`, input))
  }
  t.same(attrs('2.999.0.10=a,0.1=b'), ['2.999.0.10=a', '0.1=b'], 'unknown OIDs, a zero arc among them, stay as written')
})

test('#hex values: no hex, odd length, bytes past the BER element and bad BER are refused by name', async (t) => {
  const cases: Array<[string, string]> = [
    ['CN=#x', 'bad #hex value'],
    ['CN=#x,O=y', 'bad #hex value'],
    ['CN=#0c01611', 'bad #hex value'], // odd length: not read as the whole bytes before the last digit
    ['CN=#0c016 ', 'bad #hex value'],
    ['CN=#0c016161', 'BER length does not match the value'],
    ['CN=#0c80', 'bad BER value: bad length'],
    ['CN=#0c', 'bad BER value: truncated element'],
    ['CN=#2c050c03616263', 'bad BER value: a string in constructed form is not DER'],
    // Only `,` or `+` may follow a #hex value: `;` (RFC 1779's separator) is not one.
    ['CN=#0c0161;O=x', 'expected , or + after a value'],
    ['CN=#0c0161 x', 'expected , or + after a value'],
    ['CN=#0c0161xO=x', 'expected , or + after a value']
  ]
  for (const [input, reason] of cases) {
    const error = refusal(input)
    t.ok(error instanceof FST_TLS_CERT_AUTH_BAD_DN, JSON.stringify(input))
    t.equal(error.message, refusedFor(reason, input))
  }
  t.same(attrs('1.2.3.4=#3003020101,CN=#0c0161'), ['1.2.3.4=#3003020101', 'CN=a'],
    'a SEQUENCE (constructed, not a string type) keeps its hex form')
})

test('a refused slash-form DN says why, with the input', async (t) => {
  const cases: Array<[string, string]> = [
    ['/', 'empty legacy DN'],
    ['/CN', 'expected ='],
    ['/CN=a/O', 'expected ='],
    ['/CN=a\0', 'NUL in value'],
    ['/CN=a/', 'trailing /'],
    ['/CN=a+', 'trailing +'],
    ['/C N=a', 'bad attribute type "C N"']
  ]
  for (const [input, reason] of cases) {
    const error = refusal(input)
    t.ok(error instanceof FST_TLS_CERT_AUTH_BAD_DN, JSON.stringify(input))
    t.equal(error.message, refusedFor(reason, input))
  }
})

test('the format: rfc4514 never reads the slash form, legacy needs it, others are refused', async (t) => {
  const rfc = refusal('/CN=a', 'rfc4514')
  t.ok(rfc instanceof FST_TLS_CERT_AUTH_BAD_DN)
  t.equal(rfc.message, refusedFor('bad attribute type "/CN"', '/CN=a'), 'a slash form string is no RFC 4514 DN')
  const legacy = refusal('CN=x', 'legacy')
  t.ok(legacy instanceof FST_TLS_CERT_AUTH_BAD_DN)
  t.equal(legacy.message, refusedFor('a legacy DN starts with /', 'CN=x'))
  t.same(attrs('/CN=a', 'auto'), ['CN=a'], 'auto reads it')
  const unknown = refusal('CN=x', 'ldap' as 'auto')
  t.ok(unknown instanceof FST_TLS_CERT_AUTH_BAD_DN)
  t.equal(unknown.message, 'Malformed distinguished name: unknown format ldap')
  const notString = refusal(42 as unknown as string)
  t.ok(notString instanceof FST_TLS_CERT_AUTH_BAD_DN)
  t.equal(notString.message, 'Malformed distinguished name: not a string')
})

test('a refusal shows up to 200 characters of the input, and marks a cut', async (t) => {
  const at200 = 'CN=' + 'x'.repeat(196) + ';'
  t.equal(at200.length, 200)
  t.equal(refusal(at200).message, refusedFor('unescaped ";"', at200), '200 characters: shown whole')
  const at201 = 'CN=' + 'x'.repeat(197) + ';'
  t.equal(refusal(at201).message, refusedFor('unescaped ";"', at201.slice(0, 200) + '…'), '201: cut at 200, and … added')
  const escaped = 'CN=' + 'x'.repeat(300) + '\\C3'
  t.equal(refusal(escaped).message, refusedFor('escaped bytes are not UTF-8', 'CN=' + 'x'.repeat(197) + '…'))
})
