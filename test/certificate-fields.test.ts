// The fields CertificateFacts reads from a certificate's DER, at their edges: attribute types,
// subjectAltName entries of every kind, extKeyUsage, extensions present or not, unique identifiers,
// and each refusal with its reason. Certificates are written by hand (no openssl per case).

import { test } from 'tap'
import * as crypto from 'node:crypto'
import { Asn1Error, readTlv } from '../plugin/parse/asn1'
import { CertificateFacts, fingerprint, readName } from '../plugin/parse/certificate'
import * as der from './helpers/der'
import { refusalsOf } from './helpers/refusal'

const issuer = der.throwawayIssuer()
const { publicKey } = der.clientKey()
const ECDSA_WITH_SHA256 = der.sequence(der.oid('1.2.840.10045.4.3.2'))
const hex = (text: string): Buffer => Buffer.from(text, 'hex')
const utf8 = (text: string): Buffer => der.string(der.TAGS.utf8, text)
const cn = (value: string): Buffer => der.name([[{ type: '2.5.4.3', value: utf8(value) }]])

interface Spec {
  /** 0: v1 (no version field), 1: v2, 2: v3 (the default). */
  version?: number
  serial?: Buffer
  notBefore?: Buffer
  notAfter?: Buffer
  subject?: Buffer
  /** issuerUniqueID, subjectUniqueID: what comes between the public key and the extensions. */
  uniqueIds?: Buffer[]
  /** The [3] element, whole. */
  extensions?: Buffer
}

/** A certificate as OpenSSL reads it, signed by a throwaway issuer (nothing checks the signature). */
function certificate (spec: Spec = {}): Buffer {
  const version = spec.version ?? 2
  const tbs = der.sequence(
    ...(version === 0 ? [] : [der.tlv(0xa0, der.integer(Buffer.from([version])))]),
    der.integer(spec.serial ?? hex('0abcde')),
    ECDSA_WITH_SHA256,
    issuer.name,
    der.sequence(spec.notBefore ?? der.tlv(0x17, Buffer.from('240101000000Z')), spec.notAfter ?? der.tlv(0x18, Buffer.from('20510101000000Z'))),
    spec.subject ?? cn('alice'),
    publicKey.export({ type: 'spki', format: 'der' }),
    ...(spec.uniqueIds ?? []),
    ...(spec.extensions === undefined ? [] : [spec.extensions])
  )
  return der.sequence(tbs, ECDSA_WITH_SHA256, der.tlv(0x03, Buffer.concat([Buffer.from([0]), crypto.sign('sha256', tbs, issuer.key)])))
}

/** One Extension: its OID, the critical flag when set, and its value (the OCTET STRING's content). */
const extension = (oid: string, value: Buffer, critical = false): Buffer =>
  der.sequence(der.oid(oid), ...(critical ? [der.tlv(0x01, Buffer.from([0xff]))] : []), der.tlv(0x04, value))
const extensions = (...list: Buffer[]): Buffer => der.tlv(0xa3, der.sequence(...list))
const san = (...names: Buffer[]): Buffer => extension('2.5.29.17', der.sequence(...names))
const eku = (...oids: string[]): Buffer => extension('2.5.29.37', der.sequence(...oids.map(der.oid)))
const withSan = (...names: Buffer[]): Buffer => certificate({ extensions: extensions(san(...names)) })

const UPN = '1.3.6.1.4.1.311.20.2.3'
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'
/** otherName: type-id, then [0] EXPLICIT value. */
const otherName = (...parts: Buffer[]): Buffer => der.tlv(0xa0, Buffer.concat(parts))
const upn = (value: Buffer): Buffer => otherName(der.oid(UPN), der.tlv(0xa0, value))

const refused = refusalsOf(Asn1Error)

test('attribute types: X.520\'s 2.5.4.n by name, any other OID as written, even one that starts like them', async (t) => {
  const subject = (type: string) => new CertificateFacts(certificate({ subject: der.name([[{ type, value: utf8('x') }]]) })).subject[0][0].type
  for (const [type, expected] of [
    ['2.5.4.3', 'CN'],
    ['2.5.4.10', 'O'],
    ['2.5.4.5', 'serialNumber'],
    ['2.5.4.3.1', '2.5.4.3.1'], // 2.5.4.3 and one more arc: not CN
    ['2.5.4.127', '2.5.4.127'], // the last arc of one byte, which X.520 does not name
    ['2.5.4.128', '2.5.4.128'], // the first arc of two bytes
    ['2.5.6.0', '2.5.6.0'], // 55 06 00: under 2.5, not 2.5.4
    ['1.3.4.5', '1.3.4.5'], // 2b 04 05: three bytes, the second 04, yet not 2.5.4
    ['1.3.6.1.4.1.311.60.2.1.3', 'jurisdictionC'],
    ['0.9.2342.19200300.100.1.1', 'UID'],
    ['1.2.840.113549.1.9.1', 'emailAddress']
  ]) {
    t.equal(subject(type), expected, `${type} is ${expected}`)
  }
})

test('names the strict reader refuses, with their reasons', async (t) => {
  const name = (bytes: Buffer) => () => readName(bytes, readTlv(bytes, 0))
  // SEQUENCE { SET { x } }
  const rdnOf = (...attributes: Buffer[]) => der.sequence(der.set(...attributes))
  refused(t, name(rdnOf(der.set(der.oid('2.5.4.3'), utf8('a')))), 'expected an attribute', 'a SET where an attribute goes')
  refused(t, name(rdnOf(der.sequence(der.tlv(0x0c, hex('550403')), utf8('a')))), 'expected an OID',
    'a type that is a UTF8String holding the bytes of 2.5.4.3')
  refused(t, name(rdnOf(der.sequence(der.tlv(0x06, hex('550480')), utf8('a')))), 'truncated OID',
    '2.5.4 and an arc that never ends')
  t.same(name(rdnOf(der.sequence(der.oid('2.5.4.3'), utf8('a'))))(), [[{ type: 'CN', value: 'a' }]], 'the same shape, well formed')
})

test('subjectAltName: email, DNS, URI, IPv4, IPv6 and UPN are read in order; other kinds are left out', async (t) => {
  const facts = new CertificateFacts(certificate({
    subject: der.sequence(), // an empty subject: the SAN is critical then
    extensions: extensions(extension('2.5.29.17', der.sequence(
      der.tlv(0x81, Buffer.from('a@bc')), // four bytes, as an IPv4 address
      der.tlv(0x82, Buffer.from('host.example')),
      der.tlv(0x88, der.oid('1.2.3.4.5').subarray(2)), // registeredID, four bytes
      der.tlv(0xa4, cn('directory')), // directoryName
      der.tlv(0x87, hex('ff000a01')),
      der.tlv(0x87, hex('fe800000000000000210abffef3c4d5e')),
      der.tlv(0x87, hex('0a000001ffffff00')), // eight bytes: an address and a mask, as name constraints write them
      der.tlv(0x87, hex('')),
      der.tlv(0x88, der.oid('1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17').subarray(2)), // registeredID, sixteen bytes
      otherName(der.oid('1.3.6.1.4.1.311.25.1'), der.tlv(0xa0, der.tlv(0x04, hex('00112233')))), // an otherName, not a UPN
      der.tlv(0x86, Buffer.from('spiffe://example.com/a')),
      upn(utf8('a@corp.example')),
      der.tlv(0x81, Buffer.from('second@example.com'))
    ), true))
  }))
  t.equal(facts.certificate.subjectAltName?.includes('Registered ID:1.2.3.4.5'), true, 'OpenSSL reads the certificate')
  t.same(facts.subjectAltNames, [
    { type: 'email', value: 'a@bc' },
    { type: 'dns', value: 'host.example' },
    { type: 'ip', value: '255.0.10.1' },
    { type: 'ip', value: 'fe80:0:0:0:210:abff:ef3c:4d5e' },
    { type: 'uri', value: 'spiffe://example.com/a' },
    { type: 'upn', value: 'a@corp.example' },
    { type: 'email', value: 'second@example.com' }
  ])
  t.same(facts.subject, [], 'the empty subject')
  t.equal(facts.extKeyUsage, null, 'no EKU extension')
})

test('extensions present or not: no SAN, an empty SAN, an empty EKU, unknown and critical extensions', async (t) => {
  const read = (list?: Buffer) => {
    const facts = new CertificateFacts(certificate({ extensions: list }))
    return { subjectAltNames: facts.subjectAltNames, extKeyUsage: facts.extKeyUsage }
  }
  t.same(read(), { subjectAltNames: [], extKeyUsage: null }, 'no extensions at all')
  t.same(read(extensions()), { subjectAltNames: [], extKeyUsage: null }, 'an empty list of extensions')
  t.same(read(extensions(eku(CLIENT_AUTH))), { subjectAltNames: [], extKeyUsage: [CLIENT_AUTH] }, 'an EKU and no SAN')
  t.same(read(extensions(san())), { subjectAltNames: [], extKeyUsage: null }, 'an empty SAN')
  t.same(read(extensions(extension('2.5.29.37', der.sequence()))), { subjectAltNames: [], extKeyUsage: [] }, 'an empty EKU: [], not null')
  t.same(read(extensions(
    extension('2.5.29.19', der.sequence(), true), // basicConstraints, critical
    extension('1.3.6.1.4.1.99999.1', hex('ffff'), true), // unknown, critical, its value no DER at all
    extension('2.5.29.37', der.sequence(der.oid('1.3.6.1.5.5.7.3.4'), der.oid(CLIENT_AUTH), der.oid('2.5.29.37.0')), true),
    san(der.tlv(0x82, Buffer.from('a.example'))),
    extension('1.3.6.1.4.1.99999.2', hex(''))
  )), {
    subjectAltNames: [{ type: 'dns', value: 'a.example' }],
    extKeyUsage: ['1.3.6.1.5.5.7.3.4', CLIENT_AUTH, '2.5.29.37.0']
  }, 'unknown extensions are passed over; critical EKU read in order')
})

test('unique identifiers before the extensions (v2 and v3 certificates) are passed over', async (t) => {
  const uniqueIds = [der.tlv(0x81, hex('00010203')), der.tlv(0x82, hex('00040506'))]
  const v3 = new CertificateFacts(certificate({ uniqueIds, extensions: extensions(san(der.tlv(0x82, Buffer.from('a.example'))), eku(CLIENT_AUTH)) }))
  t.same([v3.subjectAltNames, v3.extKeyUsage], [[{ type: 'dns', value: 'a.example' }], [CLIENT_AUTH]])
  t.same(v3.subject, [[{ type: 'CN', value: 'alice' }]])
  const v2 = new CertificateFacts(certificate({ version: 1, uniqueIds }))
  t.same([v2.subjectAltNames, v2.extKeyUsage], [[], null])
  const v1 = new CertificateFacts(certificate({ version: 0 }))
  t.same([v1.subject, v1.subjectAltNames, v1.extKeyUsage], [[[{ type: 'CN', value: 'alice' }]], [], null])
})

test('serial number as upper-case hex, validity from UTCTime and GeneralizedTime, issuer and subject', async (t) => {
  const facts = new CertificateFacts(certificate({
    serial: hex('00fedcba9876543210'),
    notBefore: der.tlv(0x17, Buffer.from('491231235959Z')),
    notAfter: der.tlv(0x18, Buffer.from('20500101000000Z')),
    subject: der.name([[{ type: '2.5.4.10', value: utf8('Example') }], [{ type: '2.5.4.3', value: utf8('bob') }]])
  }))
  t.equal(facts.serialNumber, 'FEDCBA9876543210', 'as Node prints it: no leading zero byte')
  t.equal(facts.validFrom.toISOString(), '2049-12-31T23:59:59.000Z')
  t.equal(facts.validTo.toISOString(), '2050-01-01T00:00:00.000Z')
  t.same(facts.issuer, [[{ type: 'CN', value: 'Throwaway CA' }]])
  t.same(facts.subject, [[{ type: 'CN', value: 'bob' }], [{ type: 'O', value: 'Example' }]])
})

test('malformed SAN and EKU contents, and DER that is no certificate: each refusal gives its reason', async (t) => {
  const facts = (cert: Buffer) => () => new CertificateFacts(cert)
  refused(t, facts(certificate({ extensions: extensions(extension('2.5.29.17', der.set(der.tlv(0x82, Buffer.from('a.example'))))) })),
    'expected GeneralNames', 'a SAN that is a SET')
  refused(t, facts(withSan(otherName(utf8(UPN), der.tlv(0xa0, utf8('a@corp.example'))))),
    'expected an otherName type-id', 'an otherName whose type-id is a string')
  refused(t, facts(withSan(otherName(der.oid(UPN)))), 'expected an otherName value', 'a UPN with no value')
  refused(t, facts(withSan(otherName(der.oid(UPN), der.tlv(0xa1, utf8('a@corp.example'))))),
    'expected an otherName value', 'a UPN value tagged [1]')
  refused(t, facts(withSan(upn(der.string(der.TAGS.ia5, 'a@corp.example')))), 'expected a UTF8String UPN', 'a UPN as an IA5String')
  refused(t, facts(certificate({ extensions: extensions(extension('2.5.29.37', der.oid(CLIENT_AUTH))) })),
    'expected ExtKeyUsageSyntax', 'an EKU that is one OID, not a SEQUENCE of them')
  // OpenSSL takes an OCTET STRING in constructed form (BER); DER has none.
  const constructed = certificate({ extensions: extensions(der.sequence(der.oid('2.5.29.37'), der.tlv(0x24, der.tlv(0x04, der.sequence(der.oid(CLIENT_AUTH)))))) })
  t.ok(new crypto.X509Certificate(constructed), 'OpenSSL reads the certificate')
  refused(t, facts(constructed), 'expected an extension value', 'an extension value in constructed form')
  // Node reads PEM too; this reader takes DER only.
  refused(t, facts(Buffer.from(der.pem(certificate()))), 'expected a Certificate', 'PEM text')
})

test('fingerprints are the same where crypto.hash is missing (Node before 20.12)', async (t) => {
  const cert = certificate()
  const expected = new crypto.X509Certificate(cert).fingerprint256
  t.equal(fingerprint(cert), expected, 'with crypto.hash')
  const { hash: _hash, ...withoutHash } = crypto
  const old = t.mockRequire<typeof import('../plugin/parse/certificate')>('../plugin/parse/certificate', { 'node:crypto': withoutHash })
  t.equal(old.fingerprint(cert), expected, 'with createHash')
  t.equal(new old.CertificateFacts(cert).fingerprint256, expected)
})
