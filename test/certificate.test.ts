import { test } from 'tap'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Asn1Error, children, decodeOid, decodeTime, expectTag, readTlv, stringAt } from '../plugin/parse/asn1'
import { CertificateFacts, readName } from '../plugin/parse/certificate'
import { formatDN, nameValue, parseDN, sameDN } from '../plugin/parse/dn'
import { sharedPki } from './helpers/pki'
import * as der from './helpers/der'
import { refusalsOf } from './helpers/refusal'

test('certificates are read from their DER: names, SANs of every kind, EKU, dates', async (t) => {
  const pki = await sharedPki()
  const rich = new CertificateFacts(pki.rich.x509.raw)
  t.same(rich.subject, [[{ type: 'CN', value: 'dora' }], [{ type: 'UID', value: 'dora7' }], [{ type: 'O', value: 'Example' }]])
  t.same(rich.subjectAltNames, [
    { type: 'email', value: 'dora@example.com' },
    { type: 'dns', value: 'dora.example.com' },
    { type: 'uri', value: 'spiffe://example.com/dora' },
    { type: 'ip', value: '10.0.0.1' },
    { type: 'ip', value: '2001:db8:0:0:0:0:0:1' },
    { type: 'upn', value: 'dora@corp.example' }
  ], 'an otherName that is not a UPN is left out')
  t.same(rich.extKeyUsage, ['1.3.6.1.5.5.7.3.2'])
  t.equal(rich.serialNumber, pki.rich.x509.serialNumber)
  t.equal(rich.fingerprint256, pki.rich.x509.fingerprint256)
  t.equal(rich.validTo.getTime(), new Date(pki.rich.x509.validTo).getTime())
  t.equal(rich.certificate.subject, pki.rich.x509.subject)

  const future = new CertificateFacts(pki.future.x509.raw)
  t.equal(future.validFrom.toISOString(), '2049-01-01T00:00:00.000Z', 'UTCTime')
  t.equal(future.validTo.toISOString(), '2051-01-01T00:00:00.000Z', 'GeneralizedTime')
  t.equal(new CertificateFacts(pki.noEku.x509.raw).extKeyUsage, null, 'no EKU extension')
  t.same(new CertificateFacts(pki.smith.x509.raw).subject[0], [{ type: 'CN', value: 'Smith, John' }])
  t.throws(() => new CertificateFacts(Buffer.from('3003020100', 'hex')), 'not a certificate')

  // A version 1 certificate: no version field, no extensions.
  const run = promisify(execFile)
  await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'v1.key', '-out', 'v1.csr', '-subj', '/CN=old'], { cwd: pki.dir })
  await run('openssl', ['x509', '-req', '-in', 'v1.csr', '-signkey', 'v1.key', '-days', '1', '-outform', 'DER', '-out', 'v1.der'], { cwd: pki.dir })
  const v1 = new CertificateFacts(await readFile(join(pki.dir, 'v1.der')))
  t.same(v1.subject, [[{ type: 'CN', value: 'old' }]])
  t.same([v1.subjectAltNames, v1.extKeyUsage], [[], null])
})

test('malformed names are refused even where OpenSSL would not let them through', async (t) => {
  const name = (hex: string) => () => { const der = Buffer.from(hex, 'hex'); return readName(der, readTlv(der, 0)) }
  t.throws(name('3100'), /expected a Name/)
  t.throws(name('30023000'), /expected an RDN/)
  t.throws(name('30023100'), /empty RDN/)
  t.throws(name('3009310730050603550403'), /bad attribute/, 'no value')
  t.throws(name('300f310d300b06035504030c01610c0162'), /bad attribute/, 'two values')
  t.same(name('300c310a300806035504030c0161')(), [[{ type: 'CN', value: 'a' }]])
  t.throws(() => expectTag(undefined, 0x30, 'a thing'), /expected a thing/)
})

test('DER reading is strict', async (t) => {
  const bad = (hex: string) => () => readTlv(Buffer.from(hex, 'hex'), 0)
  t.throws(bad('30'), Asn1Error, 'truncated')
  t.throws(bad('1f0100'), Asn1Error, 'multi-byte tag')
  t.throws(bad('3080'), Asn1Error, 'indefinite length')
  t.throws(bad('3085'), Asn1Error, 'five length bytes')
  t.throws(bad('3082'), Asn1Error, 'length bytes past the end')
  t.throws(bad('3003'), Asn1Error, 'content past the end')
  t.same(readTlv(Buffer.from('3003010203', 'hex'), 0), { tag: 0x30, start: 2, end: 5, offset: 0 })
  const der = Buffer.from('0603550403', 'hex')
  t.equal(decodeOid(der, readTlv(der, 0)), '2.5.4.3')
  const big = Buffer.from('06028837', 'hex') // 2.999
  t.equal(decodeOid(big, readTlv(big, 0)), '2.999')
  const truncated = Buffer.from('060155', 'hex')
  t.equal(decodeOid(truncated, readTlv(truncated, 0)), '2.5')
  t.throws(() => decodeOid(Buffer.from('060188', 'hex'), readTlv(Buffer.from('060188', 'hex'), 0)), Asn1Error)
  t.throws(() => decodeOid(Buffer.from('0600', 'hex'), readTlv(Buffer.from('0600', 'hex'), 0)), Asn1Error)
  t.throws(() => stringAt(Buffer.from('01', 'hex'), 0x02, 0, 1), Asn1Error, 'INTEGER is not a string')
  t.throws(() => stringAt(Buffer.from('ff', 'hex'), 0x0c, 0, 1), Asn1Error, 'UTF8String that is not UTF-8')
  const time = (hex: string) => { const item = Buffer.from(hex, 'hex'); return decodeTime(item, readTlv(item, 0)) }
  t.equal(time('170d3439313233313233353935395a').toISOString(), '2049-12-31T23:59:59.000Z')
  t.equal(time('170d3530303130313030303030305a').toISOString(), '1950-01-01T00:00:00.000Z')
  t.throws(() => time('170d3439313233313233353935392b'), Asn1Error, 'not Z')
  t.throws(() => time('0203010203'), Asn1Error, 'not a time')
  const utc = (text: string) => time('170d' + Buffer.from(text).toString('hex'))
  for (const bad of ['491301000000Z', '490230000000Z', '490101240000Z', '490101006000Z', '490101000060Z', '490100000000Z']) {
    t.throws(() => utc(bad), Asn1Error, `${bad} is no time`)
  }
  const sequence = Buffer.from('3006020101020102', 'hex')
  t.equal(children(sequence, readTlv(sequence, 0)).length, 2)
})

test('formatDN writes RFC 4514 that parseDN reads back, and sameDN compares RDNs as sets', async (t) => {
  for (const value of ['a,b', 'x+y', '"q"', 'back\\slash', '<>;=', '#lead', ' lead', 'trail ', ' ', '  ', 'nul\0']) {
    const dn = [[{ type: 'CN', value }], [{ type: 'O', value: 'x' }]]
    t.same(parseDN(formatDN(dn)), dn, JSON.stringify(value))
  }
  t.equal(formatDN([[{ type: 'CN', value: 'a' }, { type: 'UID', value: 'b' }]]), 'CN=a+UID=b')
  t.ok(sameDN(parseDN('CN=a+UID=b,O=x'), parseDN('UID=b+CN=a,O=x')))
  t.notOk(sameDN(parseDN('CN=a,O=x'), parseDN('O=x,CN=a')), 'order of RDNs matters')
  t.notOk(sameDN(parseDN('CN=a'), parseDN('CN=a,O=x')))
})

// Certificates the openssl CLI will not write: any attribute type, any string type.
const issuer = der.throwawayIssuer()
const { publicKey } = der.clientKey()
const issue = (rdns: der.Attribute[][]) => der.certificate({ subject: der.name(rdns), issuer, publicKey })
const cnOf = (value: Buffer) => [[{ type: '2.5.4.10', value: der.string(der.TAGS.utf8, 'Example') }], [{ type: '2.5.4.3', value }]]

test('a CN of every string type OpenSSL prints as text reads the same from DER and from #hex', async (t) => {
  for (const [type, text] of [
    ['utf8', 'Jürgen € \u{1f600}'],
    ['numeric', '31415'],
    ['printable', 'Alice Example'],
    ['teletex', 'Télétex'], // ISO 8859-1 bytes, as OpenSSL reads them
    ['ia5', 'ia5@example.com'],
    ['universal', 'Jü\u{1f600}'],
    ['bmp', 'Jü€']
  ] as const) {
    const value = der.string(der.TAGS[type], text)
    const facts = new CertificateFacts(issue(cnOf(value)))
    t.same(facts.subject, [[{ type: 'CN', value: text }], [{ type: 'O', value: 'Example' }]], `${type}: from DER`)
    t.ok(sameDN(facts.subject, parseDN(`CN=#${value.toString('hex')},O=Example`)), `${type}: as #hex, as Go writes it`)
    t.ok(sameDN(facts.subject, parseDN(formatDN(facts.subject))), `${type}: as RFC 4514 text`)
  }
})

test('VisibleString, VideotexString, GraphicString, GeneralString: OpenSSL refuses such a name, and DER and #hex agree', async (t) => {
  for (const [type, expected] of [
    ['visible', 'alice'], // OpenSSL would print it as text...
    ['videotex', '#1505616c696365'], // ...and these as their DER
    ['graphic', '#1905616c696365'],
    ['general', '#1b05616c696365']
  ] as const) {
    const value = der.string(der.TAGS[type], 'alice')
    const rdns = cnOf(value)
    // OpenSSL 3.0 (and so Node, nginx, Apache and HAProxy) does not parse the certificate at all.
    t.throws(() => new CertificateFacts(issue(rdns)), { code: /^ERR_OSSL_/ }, `${type}: no certificate`)
    const name = der.name(rdns)
    t.same(readName(name, readTlv(name, 0))[0], [{ type: 'CN', value: expected }], `${type}: the name read from DER`)
    t.same(parseDN(`CN=#${value.toString('hex').toUpperCase()}`)[0], [{ type: 'CN', value: expected }], `${type}: the same from #hex`)
  }
})

test('attribute types from DER equal every spelling of them in a DN: OpenSSL\'s, Go\'s, the OID', async (t) => {
  const facts = new CertificateFacts(issue([
    [{ type: '2.5.4.6', value: der.string(der.TAGS.printable, 'AU') }],
    [{ type: '1.3.6.1.4.1.311.60.2.1.3', value: der.string(der.TAGS.printable, 'AU') }],
    [{ type: '2.5.4.10', value: der.string(der.TAGS.utf8, 'Example') }],
    [{ type: '2.5.4.15', value: der.string(der.TAGS.utf8, 'Private Organization') }],
    [{ type: '2.5.4.17', value: der.string(der.TAGS.utf8, '3000') }],
    [{ type: '1.2.840.113549.1.9.2', value: der.string(der.TAGS.ia5, 'host.example') }],
    [{ type: '2.5.4.5', value: der.string(der.TAGS.printable, '42') }],
    [{ type: '2.5.4.3', value: der.string(der.TAGS.utf8, 'alice') }]
  ]))
  t.same(facts.subject.map(([{ type }]) => type),
    ['CN', 'serialNumber', 'unstructuredName', 'postalCode', 'businessCategory', 'O', 'jurisdictionC', 'C'])
  // `openssl x509 -nameopt RFC2253`, nginx's $ssl_client_s_dn, HAProxy's ssl_c_s_dn(,0,rfc2253):
  const openssl = 'CN=alice,serialNumber=42,unstructuredName=host.example,postalCode=3000,' +
    'businessCategory=Private Organization,O=Example,jurisdictionC=AU,C=AU'
  // Go's pkix.Name.String() (Caddy): its own names in upper case, other types as OID=#BER.
  const go = 'CN=alice,SERIALNUMBER=42,1.2.840.113549.1.9.2=#160c686f73742e6578616d706c65,POSTALCODE=3000,' +
    '2.5.4.15=#0c1450726976617465204f7267616e697a6174696f6e,O=Example,1.3.6.1.4.1.311.60.2.1.3=#13024155,C=AU'
  const oids = 'CN=alice,2.5.4.5=42,1.2.840.113549.1.9.2=host.example,2.5.4.17=3000,2.5.4.15=Private Organization,' +
    'O=Example,jurisdictionCountryName=AU,2.5.4.6=AU'
  for (const [what, dn] of [['OpenSSL', openssl], ['Go', go], ['OIDs and long names', oids]]) {
    t.ok(sameDN(facts.subject, parseDN(dn)), `${what}: ${dn}`)
  }
  t.notOk(sameDN(facts.subject, parseDN(openssl.replace('postalCode=3000', 'postalCode=3001'))), 'values still count')
})

test('a name value that is a string in constructed form (BER, never DER) is refused, not read as #hex', async (t) => {
  // UTF8String 'ad' + 'min' in two segments: 2c 0b (0c 02 'ad') (0c 03 'min')
  const constructed = Buffer.from('2c090c0261640c036d696e', 'hex')
  t.throws(() => nameValue(constructed, readTlv(constructed, 0)), Asn1Error)
  t.throws(() => parseDN('CN=#2c090c0261640c036d696e'), { code: 'FST_TLS_CERT_AUTH_BAD_DN' }, 'and in a DN string, as #hex')
  const octets = Buffer.from('0403616263', 'hex')
  t.equal(nameValue(octets, readTlv(octets, 0)), '#0403616263', 'a value of another type keeps its #hex form')
})

test('OID arcs past 2^53 are read exactly, not rounded', async (t) => {
  const decoded = (dotted: string) => {
    const encoded = der.oid(dotted)
    return decodeOid(encoded, readTlv(encoded, 0))
  }
  for (const dotted of ['1.3.6.1.4.1.9007199254740993', '1.2.18446744073709551617.5', '2.9007199254741073', '2.5.4.3']) {
    t.equal(decoded(dotted), dotted, dotted)
  }
})

const refused = refusalsOf(Asn1Error)

test('DER lengths and tags: each refusal gives its reason, and the longest lengths still read', async (t) => {
  const tlv = (hex: string, limit?: number) => () => readTlv(Buffer.from(hex, 'hex'), 0, limit)
  refused(t, tlv('30'), 'truncated element', 'a tag and no length')
  refused(t, tlv('1f0100'), 'multi-byte tags are not used here', 'a high tag number')
  refused(t, tlv('0480'), 'bad length', 'indefinite length (BER, never DER)')
  refused(t, tlv('04850100000000'), 'bad length', 'five length bytes, all there')
  refused(t, tlv('0482'), 'bad length', 'length bytes cut off')
  refused(t, tlv('048180'), 'element runs past its container', 'one length byte that ends the input, no content')
  refused(t, tlv('048401000000'), 'element runs past its container', 'four length bytes, no content')
  refused(t, tlv('0403'), 'element runs past its container', 'short form, no content')
  refused(t, tlv('0401410000', 2), 'element runs past its container', 'the container ends before the element')
  refused(t, tlv('04810141'), 'length not in its shortest form', 'the long form for a length below 128 (X.690 10.1)')
  refused(t, tlv('0481' + '7f' + '00'.repeat(0x7f)), 'length not in its shortest form', '127 in the long form')
  refused(t, tlv('0482000141'), 'length not in its shortest form', 'a leading zero length byte')
  refused(t, tlv('04820080' + '00'.repeat(0x80)), 'length not in its shortest form', '128 in two length bytes')

  const long = Buffer.concat([Buffer.from('048180', 'hex'), Buffer.alloc(0x80)])
  t.same(readTlv(long, 0), { tag: 0x04, start: 3, end: 0x83, offset: 0 }, '128 bytes: one length byte')
  const huge = Buffer.alloc(6 + 2 ** 24)
  huge.set([0x04, 0x84, 0x01, 0x00, 0x00, 0x00])
  t.same(readTlv(huge, 0), { tag: 0x04, start: 6, end: 6 + 2 ** 24, offset: 0 }, '16 MiB: four length bytes')
})

test('OIDs: the first arcs at their boundaries, and each refusal gives its reason', async (t) => {
  const oid = (hex: string) => () => { const item = Buffer.from(hex, 'hex'); return decodeOid(item, readTlv(item, 0)) }
  t.equal(oid('06014f')(), '1.39', '79 is 1.39')
  t.equal(oid('060150')(), '2.0', '80 is 2.0')
  t.equal(oid('06027f01')(), '2.47.1')
  refused(t, oid('0600'), 'expected an OID', 'an empty OID')
  refused(t, oid('0c0155'), 'expected an OID', 'a UTF8String read as an OID')
  refused(t, oid('060188'), 'truncated OID', 'one byte that continues')
  refused(t, oid('0603550483'), 'truncated OID', 'a last arc that continues')
  refused(t, oid('060455048003'), 'OID not in its shortest form', '2.5.4.3 with its last arc padded by 0x80 (X.690 8.19.2)')
  refused(t, oid('06028001'), 'OID not in its shortest form', 'a padded first subidentifier')
  t.equal(oid('0604558180' + '00')(), '2.5.16384', '0x80 inside a subidentifier is a zero digit, not padding')
})

test('strings: UTF-8 exactly, BMPString as UCS-2, UniversalString as UCS-4 up to U+10FFFF', async (t) => {
  const text = (tag: number, hex: string, start = 0) => () => { const bytes = Buffer.from(hex, 'hex'); return stringAt(bytes, tag, start, bytes.length) }
  t.equal(text(0x0c, '41007f')(), 'A\0\x7f', 'ASCII UTF8String')
  t.equal(text(0x0c, '41c280')(), 'A\u0080', 'U+0080 in UTF-8')
  refused(t, text(0x0c, '4180'), 'UTF8String is not UTF-8', 'a lone continuation byte 0x80')
  refused(t, text(0x0c, '41ff'), 'UTF8String is not UTF-8', 'a byte 0xff')
  refused(t, text(0x02, '01'), 'not a string type', 'an INTEGER')
  refused(t, text(0x04, '41'), 'not a string type', 'an OCTET STRING')

  refused(t, text(0x1e, '004100'), 'string has a partial character', 'a BMPString of three bytes')
  refused(t, text(0x1c, '000000410000'), 'string has a partial character', 'a UniversalString of six bytes')
  t.equal(text(0x1e, 'ff0041', 1)(), 'A', 'a BMPString that starts at an odd offset')
  t.equal(text(0x1c, 'ff00000041', 1)(), 'A', 'a UniversalString that starts at an odd offset')
  t.equal(text(0x1c, 'ffff0000004100000042', 2)(), 'AB', 'and one at an even offset')

  t.equal(text(0x1e, 'd7ffe000')(), '\ud7ff\ue000', 'BMPString: the code points around the surrogates')
  refused(t, text(0x1e, 'd800'), 'string has an invalid character', 'BMPString: the first surrogate')
  refused(t, text(0x1e, 'dfff'), 'string has an invalid character', 'BMPString: the last surrogate')
  t.equal(text(0x1c, '0010ffff')(), '\u{10ffff}', 'UniversalString: U+10FFFF, the last code point')
  refused(t, text(0x1c, '00110000'), 'string has an invalid character', 'UniversalString: past U+10FFFF')
  refused(t, text(0x1c, '01000041'), 'string has an invalid character', 'UniversalString: its top byte set')
  refused(t, text(0x1c, '0000dfff'), 'string has an invalid character', 'UniversalString: a surrogate')
})

test('times: only UTCTime and GeneralizedTime, digits where digits go, real dates; each refusal says bad time', async (t) => {
  const time = (tag: number, text: string) => () => {
    const item = Buffer.concat([Buffer.from([tag, text.length]), Buffer.from(text, 'latin1')])
    return decodeTime(item, readTlv(item, 0))
  }
  t.equal(time(0x17, '480229000000Z')().toISOString(), '2048-02-29T00:00:00.000Z', 'Feb 29 of a leap year')
  t.equal(time(0x18, '20491231235959Z')().toISOString(), '2049-12-31T23:59:59.000Z')
  t.equal(time(0x18, '00491231235959Z')().getUTCFullYear(), 49, 'GeneralizedTime year 0049 is the year 49, not 1949')
  t.equal(time(0x18, '00000229000000Z')().getUTCDate(), 29, 'the year 0 is a leap year (1900 was not)')
  for (const [tag, text, what] of [
    [0x04, '20491231235959Z', 'a GeneralizedTime text in an OCTET STRING'],
    [0x04, '491231235959Z', 'a UTCTime text in an OCTET STRING'],
    [0x13, '1231235959Z', 'eleven characters in a PrintableString'],
    [0x17, '49121:000000Z', 'a colon, just past 9, where a digit goes'],
    [0x17, '49123123595/Z', 'a slash, just before 0, where a digit goes'],
    [0x17, '490230000000Z', 'Feb 30'],
    [0x17, '490229000000Z', 'Feb 29 of a year that is not a leap year'],
    [0x17, '490431000000Z', 'Apr 31'],
    [0x17, '490100000000Z', 'day 0'],
    [0x17, '491301000000Z', 'month 13'],
    [0x17, '490101240000Z', 'hour 24'],
    [0x17, '490101006000Z', 'minute 60'],
    [0x17, '490101000060Z', 'second 60']
  ] as const) {
    refused(t, time(tag, text), 'bad time', what)
  }
})
