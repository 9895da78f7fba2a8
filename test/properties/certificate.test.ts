// Properties of the DER reader (plugin/parse/certificate.ts, asn1.ts): every input gives facts or
// an Asn1Error (or Node's ERR_OSSL_* when OpenSSL will not read the certificate at all), in time
// linear in the input; a Name written by the test's DER writer reads back as its RDNs; and what
// it reads, written as RFC 4514 and parsed again, is the same DN (the check every header path
// makes between a proxy's DN and the forwarded certificate).

import { generateKeyPairSync, X509Certificate } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import { Asn1Error, decodeOid, readTlv, stringAt } from '../../plugin/parse/asn1'
import { ATTRIBUTE_TYPES } from '../../plugin/parse/attribute-types'
import { CertificateFacts, readName } from '../../plugin/parse/certificate'
import { canonicalType, formatDN, parseDN, sameDN, type DistinguishedName } from '../../plugin/parse/dn'
import * as der from '../helpers/der'
import { holds, linear, throwsOnly } from './helpers'

const derError = (error: unknown): boolean =>
  error instanceof Asn1Error || /^ERR_OSSL/.test(String((error as { code?: unknown } | null)?.code))

/**
 * A bug this property found, now fixed: a subjectAltName otherName with no content (`a0 00`) made
 * readAltNames read `.tag` of undefined (a TypeError, not an Asn1Error). Any such TypeError is
 * counted and fails the test below.
 */
let knownTypeErrors = 0
function knownBug (error: unknown): boolean {
  const known = error instanceof TypeError && /readAltNames/.test(error.stack ?? '')
  if (known) knownTypeErrors++
  return known
}

const KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' })
const ISSUER = der.name([[{ type: '2.5.4.3', value: der.string(der.TAGS.utf8, 'Property CA') }]])
const ALGORITHM = der.sequence(der.oid('1.2.840.10045.4.3.2'))

/** A certificate around a subject and extensions. Nothing checks its signature here: it is a fixed dummy. */
function certificate (subject: Buffer, extensions: Buffer[] = []): Buffer {
  const tbs = der.sequence(
    der.tlv(0xa0, der.integer(Buffer.from([2]))),
    der.integer(Buffer.from([0x12, 0x34])),
    ALGORITHM,
    ISSUER,
    der.sequence(der.tlv(0x17, Buffer.from('240101000000Z')), der.tlv(0x18, Buffer.from('20510101000000Z'))),
    subject,
    KEY,
    ...(extensions.length === 0 ? [] : [der.tlv(0xa3, der.sequence(...extensions))])
  )
  return der.sequence(tbs, ALGORITHM, der.tlv(0x03, Buffer.from([0, 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01])))
}

const extension = (oid: string, value: Buffer): Buffer => der.sequence(der.oid(oid), der.tlv(0x04, value))

const UPN = '1.3.6.1.4.1.311.20.2.3'
const RICH = certificate(der.name([[{ type: '2.5.4.10', value: der.string(der.TAGS.printable, 'Example') }], [{ type: '2.5.4.3', value: der.string(der.TAGS.utf8, 'dora') }]]), [
  extension('2.5.29.17', der.sequence(
    der.tlv(0x81, Buffer.from('dora@example.com')), der.tlv(0x82, Buffer.from('dora.example.com')), der.tlv(0x86, Buffer.from('spiffe://x/dora')),
    der.tlv(0x87, Buffer.from([10, 0, 0, 1])), der.tlv(0x87, Buffer.alloc(16, 1)),
    der.tlv(0xa0, Buffer.concat([der.oid(UPN), der.tlv(0xa0, der.string(der.TAGS.utf8, 'dora@corp'))])),
    der.tlv(0xa0, Buffer.concat([der.oid('1.2.3.4'), der.tlv(0xa0, der.string(der.TAGS.utf8, 'other'))]))
  )),
  extension('2.5.29.37', der.sequence(der.oid('1.3.6.1.5.5.7.3.2')))
])

type Kind = 'utf8' | 'printable' | 'ia5' | 'teletex' | 'numeric' | 'bmp' | 'universal'

/** Text each string type can hold, as OpenSSL reads it. */
const TEXT: Record<Kind, fc.Arbitrary<string>> = {
  utf8: fc.string({ unit: 'grapheme', maxLength: 20 }),
  universal: fc.string({ unit: 'grapheme', maxLength: 20 }),
  bmp: fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).filter((code) => code < 0xd800 || code > 0xdfff).map((code) => String.fromCharCode(code)), maxLength: 20 }),
  teletex: fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((code) => String.fromCharCode(code)), maxLength: 20 }),
  ia5: fc.string({ unit: 'binary-ascii', maxLength: 20 }),
  printable: fc.string({ unit: fc.constantFrom(...'ABCXYZabcxyz0189 \'()+,-./:=?'), maxLength: 20 }),
  numeric: fc.string({ unit: fc.constantFrom(...'0123456789 '), maxLength: 20 })
}

/** One attribute value: a string of some type (read back as its text), or another element (read back as #hex). */
const attributeValue: fc.Arbitrary<{ element: Buffer, read: string }> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...Object.keys(TEXT) as Kind[]).chain((kind) => TEXT[kind].map((text) => ({ element: der.string(der.TAGS[kind], text), read: text }))) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(0x03, 0x30, 0x07, 0x08, 0x09, 0x0b, 0x0d, 0x0e, 0x0f, 0x1d, 0x02, 0x04), fc.uint8Array({ maxLength: 12 }))
      .map(([tag, content]) => {
        const element = der.tlv(tag, content)
        return { element, read: '#' + element.toString('hex') }
      })
  }
)

const TABLE_OIDS = Object.keys(ATTRIBUTE_TYPES)

/** OIDs of the table, near CN, and of no table (arcs up to 2^53: the reader counts in doubles). */
const attributeOid: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...TABLE_OIDS),
  fc.constantFrom('2.5.4.3', '2.5.4.3.0', '2.5.4.30', '2.5.4.131', '2.5.4.259', '2.5.4.2147483651'),
  fc.tuple(fc.constantFrom(0, 1, 2), fc.nat({ max: 39 }), fc.array(fc.maxSafeNat(), { maxLength: 6 }))
    .map(([first, second, rest]) => [first, first === 2 ? second + 40 * (second % 3) : second, ...rest].join('.'))
)

/** RDNs (DER order) and the DN readName must give for them: most specific first, canonical types. */
const name: fc.Arbitrary<{ element: Buffer, read: DistinguishedName }> = fc.array(
  fc.array(fc.tuple(attributeOid, attributeValue), { minLength: 1, maxLength: 3 }), { maxLength: 6 }
).map((rdns) => {
  // DER sorts a SET's elements: read back in that order.
  const sorted = rdns.map((rdn) => rdn
    .map(([oid, value]) => ({ oid, value, encoding: der.sequence(der.oid(oid), value.element) }))
    .sort((a, b) => Buffer.compare(a.encoding, b.encoding)))
  return {
    element: der.sequence(...sorted.map((rdn) => der.tlv(0x31, Buffer.concat(rdn.map(({ encoding }) => encoding))))),
    read: sorted.map((rdn) => rdn.map(({ oid, value }) => ({ type: canonicalType(oid), value: value.read }))).reverse()
  }
})

/** DER-ish trees: any tag, nested, so that the reader meets every shape at every depth. */
const { tree } = fc.letrec<{ tree: Buffer }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(fc.constantFrom(0x06, 0x0c, 0x13, 0x16, 0x1e, 0x1c, 0x02, 0x80, 0x81, 0x87, 0x00, 0x1f, 0x17), fc.uint8Array({ maxLength: 10 }))
      .map(([tag, content]) => der.tlv(tag, content)),
    fc.tuple(fc.constantFrom(0x30, 0x31, 0xa0, 0xa3, 0x2c), fc.array(tie('tree'), { maxLength: 4 }))
      .map(([tag, items]) => der.tlv(tag, Buffer.concat(items)))
  )
}))

/** The bytes with a few of them changed, cut, or with bytes put in. */
function mutated (base: Buffer): fc.Arbitrary<Buffer> {
  return fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.nat({ max: 255 }), fc.constantFrom('set', 'cut', 'insert')), { minLength: 1, maxLength: 4 })
    .map((edits) => {
      let bytes = Buffer.from(base)
      for (const [at, byte, edit] of edits) {
        const where = at % Math.max(bytes.length, 1)
        if (edit === 'set') bytes[where] = byte
        else if (edit === 'cut') bytes = bytes.subarray(0, where)
        else bytes = Buffer.concat([bytes.subarray(0, where), Buffer.from([byte]), bytes.subarray(where)])
      }
      return bytes
    })
}

/** Facts, or an expected error; `true` either way, anything else throws on. */
function facts (bytes: Buffer): boolean {
  throwsOnly(() => new CertificateFacts(bytes), (error) => derError(error) || knownBug(error))
  return true
}

function nameOf (bytes: Buffer): boolean {
  throwsOnly(() => readName(bytes, readTlv(bytes, 0)), derError)
  return true
}

/** GeneralNames of any kind, well formed or not: what the SAN reader meets. */
const generalNames: fc.Arbitrary<Buffer> = fc.array(fc.oneof(
  fc.tuple(fc.constantFrom(0x81, 0x82, 0x86, 0x87, 0x88, 0x84), fc.uint8Array({ maxLength: 20 })).map(([tag, content]) => der.tlv(tag, content)),
  fc.tuple(fc.constantFrom(UPN, '1.2.3.4'), fc.oneof(tree, attributeValue.map(({ element }) => element)))
    .map(([oid, inner]) => der.tlv(0xa0, Buffer.concat([der.oid(oid), der.tlv(0xa0, inner)]))),
  tree.map((inner) => der.tlv(0xa0, inner)),
  fc.constantFrom(der.tlv(0xa0, Buffer.alloc(0)), der.tlv(0xa0, der.oid(UPN)), der.tlv(0xa0, Buffer.concat([der.oid(UPN), der.tlv(0xa0, Buffer.alloc(0))])))
), { maxLength: 4 }).map((names) => der.sequence(...names))

t.test('total: facts, an Asn1Error, or OpenSSL\'s ERR_OSSL_*; never another exception', async (t) => {
  holds(t, 'readName: any bytes', fc.property(fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)), nameOf), 1500)
  holds(t, 'readName: trees of any tags', fc.property(tree, nameOf), 1500)
  holds(t, 'readName: names with bytes changed', fc.property(name.chain(({ element }) => element.length > 0 ? mutated(element) : fc.constant(element)), nameOf), 1000)
  holds(t, 'CertificateFacts: any bytes', fc.property(fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)), facts), 300)
  holds(t, 'CertificateFacts: a certificate with SANs of every kind, bytes changed', fc.property(mutated(RICH), facts), 800)
  holds(t, 'CertificateFacts: random subjects', fc.property(name, ({ element }) => facts(certificate(element))), 300)
  holds(t, 'CertificateFacts: random subjectAltName and extKeyUsage contents', fc.property(generalNames, tree, (san, eku) =>
    facts(certificate(ISSUER, [extension('2.5.29.17', san)])) && facts(certificate(ISSUER, [extension('2.5.29.37', eku)]))), 800)
  if (knownTypeErrors > 0) {
    t.fail(`${knownTypeErrors} inputs threw a TypeError in readAltNames`)
  }
})

t.test('a subjectAltName otherName with no content is an Asn1Error (it was a TypeError)', async (t) => {
  const bytes = certificate(ISSUER, [extension('2.5.29.17', der.sequence(der.tlv(0xa0, Buffer.alloc(0))))])
  t.doesNotThrow(() => new X509Certificate(bytes), 'OpenSSL reads the certificate (it parses extensions only when asked)')
  let thrown: unknown
  try { new CertificateFacts(bytes) } catch (error) { thrown = error } // eslint-disable-line no-new
  t.ok(thrown instanceof Asn1Error, `an Asn1Error (got ${String(thrown)})`)
})

t.test('round trip: a DER Name reads back as its RDNs, and as RFC 4514 back again', async (t) => {
  holds(t, 'readName gives the RDNs, most specific first, canonical types, strings decoded, the rest #hex', fc.property(name, ({ element, read }) =>
    JSON.stringify(readName(element, readTlv(element, 0))) === JSON.stringify(read)), 800)
  holds(t, 'in a certificate too (of the names OpenSSL reads)', fc.property(name, ({ element, read }) => {
    const bytes = certificate(element)
    if (throwsOnly(() => new X509Certificate(bytes), derError)) return true // an INTEGER or OCTET STRING value
    return JSON.stringify(new CertificateFacts(bytes).subject) === JSON.stringify(read)
  }), 300)
  holds(t, 'formatDN of what it reads parses back to the same DN', fc.property(name, ({ element }) => {
    const dn = readName(element, readTlv(element, 0))
    return sameDN(parseDN(formatDN(dn)), dn)
  }), 800)
  holds(t, 'every OID reads back as written (arcs up to 2^53)', fc.property(attributeOid, (oid) => {
    const element = der.oid(oid)
    return decodeOid(element, readTlv(element, 0)) === oid
  }), 500)
  const facts = new CertificateFacts(RICH)
  t.same(facts.subjectAltNames.map(({ type }) => type), ['email', 'dns', 'uri', 'ip', 'ip', 'upn'], 'the base certificate of the mutations reads whole')
})

t.test('OID arcs past 2^53 read back exactly (they were rounded)', async (t) => {
  holds(t, 'OIDs with arcs up to 2^64 read back as written', fc.property(fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n }), (arc) => {
    const oid = `1.3.6.1.4.1.${arc}`
    const element = der.oid(oid)
    return decodeOid(element, readTlv(element, 0)) === oid
  }), 50)
})

t.test('linear: input x10, time under x20', async (t) => {
  const subject = (n: number): Buffer => der.name(Array.from({ length: n }, (_, i) => [{ type: i % 2 === 0 ? '2.5.4.11' : '1.3.6.1.4.1.99999.7', value: der.string(der.TAGS.utf8, `unit ${i}`) }]))
  const read = (input: string | Buffer): unknown => readName(input as Buffer, readTlv(input as Buffer, 0))
  linear(t, 'readName: many RDNs', subject, read, 150)
  linear(t, 'readName: one RDN of many attributes', (n) => der.name([Array.from({ length: n }, (_, i) => ({ type: '2.5.4.10', value: der.string(der.TAGS.printable, `o${i}`) }))]), read, 150)
  linear(t, 'CertificateFacts: a big subject', (n) => certificate(subject(n)), (input) => new CertificateFacts(input as Buffer), 150)
  linear(t, 'CertificateFacts: many SANs', (n) => certificate(ISSUER, [extension('2.5.29.17', der.sequence(...Array.from({ length: n }, (_, i) => der.tlv(0x82, Buffer.from(`h${i}.example.com`)))))]),
    (input) => new CertificateFacts(input as Buffer).subjectAltNames, 150)
  const string = (tag: number, text: (n: number) => string) => (n: number): Buffer => der.string(tag, text(n))
  const value = (input: string | Buffer): unknown => {
    const item = readTlv(input as Buffer, 0)
    return stringAt(input as Buffer, item.tag, item.start, item.end)
  }
  linear(t, 'a UTF8String of non-ASCII', string(der.TAGS.utf8, (n) => 'é€'.repeat(n)), value, 600)
  linear(t, 'a BMPString', string(der.TAGS.bmp, (n) => 'é€'.repeat(n)), value, 600)
  linear(t, 'a UniversalString', string(der.TAGS.universal, (n) => 'é😀'.repeat(n)), value, 400)
  linear(t, 'a TeletexString', string(der.TAGS.teletex, (n) => 'éa'.repeat(n)), value, 1000)
  linear(t, 'an OID of many arcs', (n) => der.oid('1.3.' + Array.from({ length: n }, (_, i) => 1000 + i).join('.')), (input) => decodeOid(input as Buffer, readTlv(input as Buffer, 0)), 800)
})
