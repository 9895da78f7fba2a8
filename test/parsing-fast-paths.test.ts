// The parsers read common input by shortcuts; these pin each shortcut to what the plain reading
// gives, so that being fast never changes what is accepted or what comes out.

import { test, type Test } from 'tap'
import { decodeTime, readTlv } from '../plugin/parse/asn1'
import { ATTRIBUTE_TYPES } from '../plugin/parse/attribute-types'
import { canonicalType, formatDN, parseDN, sameDN } from '../plugin/parse/dn'
import { decodeBase64Der, decodePem, decodeRfc9440, decodeUtf8, EncodingError } from '../plugin/parse/encodings'
import { sharedPki } from './helpers/pki'
import { refusalsOf } from './helpers/refusal'

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** What parseDN must make of escaped bytes: TextDecoder's reading, or a refusal. */
function expected (bytes: number[]): string | null {
  try {
    return utf8.decode(Uint8Array.from(bytes))
  } catch {
    return null
  }
}

function checkEscapes (t: Test, bytes: number[]): void {
  const want = expected(bytes)
  const input = 'CN=' + bytes.map((byte) => '\\' + byte.toString(16).padStart(2, '0')).join('')
  let got: string | null
  try {
    got = parseDN(input, 'rfc4514')[0][0].value
  } catch (error) {
    if ((error as { code?: string }).code !== 'FST_TLS_CERT_AUTH_BAD_DN') throw error
    got = null
  }
  // Only failures are reported one by one: 32 768 passing asserts would drown the output.
  if (got !== want) t.fail(`${input}: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`)
}

test('escaped bytes are read as UTF-8 exactly as TextDecoder reads them', async (t) => {
  for (let lead = 0x80; lead <= 0xff; lead++) {
    for (let next = 0; next <= 0xff; next++) checkEscapes(t, [lead, next, 0xbf, 0xbf])
  }
  for (const bytes of [
    [0xef, 0xbb, 0xbf, 0x41], // a byte order mark is data, at the start...
    [0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf],
    [0x41, 0xef, 0xbb, 0xbf], // ...and anywhere else
    [0xf0, 0x9f, 0x98, 0x80], [0xf4, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf0, 0x8f, 0xbf, 0xbf],
    [0xed, 0x9f, 0xbf], [0xed, 0xa0, 0x80], [0xe0, 0xa0, 0x80], [0xe0, 0x9f, 0xbf], [0xc2, 0x80], [0xc1, 0xbf],
    [0xe2, 0x82], [0x00], [0x7f]
  ]) {
    checkEscapes(t, bytes)
  }
  t.pass('every sequence read as TextDecoder reads it')
})

test('attribute types: a spelling found as written gives what the case-insensitive reading gives', async (t) => {
  // canonicalType finds OpenSSL's spellings as written (and in lower case) without lower-casing;
  // any other case goes the slow way. Both must agree, but for the kept name UID, exactly so written.
  const descr = /^[A-Za-z][A-Za-z0-9-]*$/
  // The type a DN with this spelling has, or null when it is refused (ambiguous).
  const read = (spelling: string): string | null => {
    try {
      return parseDN(`${spelling}=x`)[0][0].type
    } catch {
      return null
    }
  }
  let checked = 0
  for (const names of Object.values(ATTRIBUTE_TYPES)) {
    for (const spelling of names) {
      if (!descr.test(spelling)) continue
      // Alternating case: no table spelling is written so, so this one is looked up lower-cased.
      const slow = [...spelling].map((char, i) => i % 2 === 0 ? char.toLowerCase() : char.toUpperCase()).join('')
      const expected = read(slow)
      for (const fast of [spelling, spelling.toLowerCase(), spelling.toUpperCase()]) {
        if (fast === 'UID') continue
        if (read(fast) !== expected) t.fail(`${fast}: ${read(fast)}, ${slow}: ${expected}`)
        if (expected !== null && canonicalType(fast) !== expected) t.fail(`canonicalType(${fast}): ${canonicalType(fast)}`)
        checked++
      }
    }
  }
  t.ok(checked > 3000, `${checked} spellings`)
})

test('sameDN: RDN keys as JSON, whatever the shape', async (t) => {
  t.notOk(sameDN(parseDN('CN=a+UID=b'), parseDN('CN=a+UID=c')), 'multi-valued RDNs that differ')
  t.ok(sameDN(parseDN('CN=a,O=x'), parseDN('CN=a, O=x')))
  t.notOk(sameDN(parseDN('CN=a'), parseDN('CN=a+UID=b')), 'one attribute against two')
})

test('formatDN leaves plain values alone and escapes the rest', async (t) => {
  t.equal(formatDN([[{ type: 'CN', value: '' }], [{ type: 'O', value: 'x' }]]), 'CN=,O=x')
  t.equal(formatDN([[{ type: 'CN', value: 'a b' }]]), 'CN=a b')
  t.equal(formatDN([[{ type: 'CN', value: 'a ' }]]), 'CN=a\\ ')
  t.equal(formatDN([[], [{ type: 'O', value: 'x' }]]), ',O=x', 'an empty RDN still takes its place')
})

test('times are digits and Z, nothing else', async (t) => {
  const time = (text: string, tag = 0x17) => {
    const der = Buffer.concat([Buffer.from([tag, text.length]), Buffer.from(text, 'latin1')])
    return decodeTime(der, readTlv(der, 0))
  }
  t.equal(time('491231235959Z').toISOString(), '2049-12-31T23:59:59.000Z')
  t.equal(time('20491231235959Z', 0x18).toISOString(), '2049-12-31T23:59:59.000Z')
  for (const bad of ['4912312359A9Z', '49123123595 Z', '4912312359:9Z', '491231235959', '4912312359599Z']) {
    t.throws(() => time(bad), { name: 'Asn1Error' }, bad)
  }
  t.throws(() => time('491231235959Z', 0x18), { name: 'Asn1Error' }, 'UTCTime length as GeneralizedTime')
})

test('PEM and base64 decoding accept and refuse exactly what the encodings allow', async (t) => {
  const pki = await sharedPki()
  const alice = pki.alice.certPem.trim()
  const root = pki.rootCa.certPem.trim()
  const der = pki.alice.x509.raw
  t.same(decodePem(alice + root), [der, pki.rootCa.x509.raw], 'blocks with nothing between them')
  t.same(decodePem(' \n' + alice + '\u00a0\n' + root + '\u2028'), [der, pki.rootCa.x509.raw], 'any white space around')
  t.throws(() => decodePem('-----BEGIN CERTIFICATE-----x-y\n' + alice), /not a sequence/,
    'a block that does not end is text before the next one')
  t.throws(() => decodePem('junk' + alice + root), /not a sequence/)
  t.throws(() => decodePem(alice + 'junk' + root), /not a sequence/)
  t.throws(() => decodePem('-----BEGIN CERTIFICATE-----QR=A-----END CERTIFICATE-----' + alice), /not base64/,
    'bad base64 is reported first')

  // Base64 whose padding bits are not zero is not what Node writes back, yet it is base64.
  t.same(decodeBase64Der('QR=='), [Buffer.from('A')])
  t.same(decodeRfc9440(':QR==:'), [Buffer.from('A')])
  t.same(decodePem('-----BEGIN CERTIFICATE-----\nQR==\n-----END CERTIFICATE-----'), [Buffer.from('A')])
  t.same(decodeRfc9440(` :${pki.alice.derBase64}: `), [der], 'spaces around a byte sequence')
  for (const bad of ['Q===', 'QQ=A', '', 'QUJD!A==']) {
    t.throws(() => decodeBase64Der(bad), /not base64/, JSON.stringify(bad))
  }
  t.throws(() => decodeRfc9440(':QUJ:'), /not base64/)
  t.throws(() => decodeRfc9440(':Q!JD:'), /RFC 9440/)
})

const refused = refusalsOf(EncodingError)

test('certificate header decoders: each refusal gives its reason, and text around PEM blocks is refused wherever it is', async (t) => {
  const pki = await sharedPki()
  const pem = pki.alice.certPem // ends with a newline
  const notPem = 'not a sequence of PEM certificates'
  t.ok(pem.endsWith('-----\n'))

  t.equal(decodeUtf8(Buffer.from('\ufeffJürgen')), '\ufeffJürgen', 'UTF-8, a byte order mark kept')
  refused(t, () => decodeUtf8(Buffer.from('Jürgen', 'latin1')), 'not UTF-8', 'ISO 8859-1 read as UTF-8')
  refused(t, () => decodeBase64Der('QUFB%2'), 'bad percent-encoding', 'base64 DER: a cut-off escape')
  refused(t, () => decodePem(encodeURIComponent(pem).slice(0, -1)), 'bad percent-encoding', 'PEM: a cut-off escape')

  refused(t, () => decodePem('junk\n' + pem + '\n' + pem), notPem, 'text before the first block, white space between the blocks')
  refused(t, () => decodePem('junk' + pem), notPem, 'text before the only block, white space after it')
  refused(t, () => decodePem(pem + 'junk\n' + pem), notPem, 'text between the blocks')
  refused(t, () => decodePem(pem + '\njunk'), notPem, 'text after the last block')
  refused(t, () => decodePem('-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nQUFB'), notPem,
    'an END, then a BEGIN that never ends')
  refused(t, () => decodePem('-----BEGIN CERTIFICATE-----x-y\n' + pem), notPem, 'a BEGIN whose body has a dash')
  t.same(decodePem('\n' + pem + '\n\n' + pem + '\n'), [pki.alice.x509.raw, pki.alice.x509.raw], 'white space only: read')

  const rfc9440 = 'not an RFC 9440 byte sequence'
  t.same(decodeRfc9440(':QUFB:, :QkJC:'), [Buffer.from('AAA'), Buffer.from('BBB')])
  refused(t, () => decodeRfc9440('x:QUFB:'), rfc9440, 'text before the colons')
  refused(t, () => decodeRfc9440(':QUFB:x'), rfc9440, 'text after the colons')
  refused(t, () => decodeRfc9440(':QUFB:, QkJC'), rfc9440, 'a list item without colons')
})
