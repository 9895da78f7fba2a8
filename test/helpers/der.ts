// A small DER writer for tests: certificates whose names hold any attribute type and any string
// type, which the openssl CLI will not write (it picks the string type itself), signed by a test CA.

import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto'
import { children, readTlv } from '../../plugin/parse/asn1'

/** One element: tag, DER length, content. */
export function tlv (tag: number, content: Uint8Array): Buffer {
  const length = content.length
  let header: number[]
  if (length < 0x80) {
    header = [tag, length]
  } else {
    const bytes: number[] = []
    for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256)
    header = [tag, 0x80 | bytes.length, ...bytes]
  }
  return Buffer.concat([Buffer.from(header), content])
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(0x30, Buffer.concat(items))

/** A SET OF: DER sorts its elements by their encodings. */
export const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat([...items].sort(Buffer.compare)))

/** The base-128 arcs of an OID, the first two folded into one. */
export function oid (dotted: string): Buffer {
  const arcs = dotted.split('.').map(BigInt)
  const bytes: number[] = []
  for (const arc of [arcs[0] * 40n + arcs[1], ...arcs.slice(2)]) {
    const group = [Number(arc & 0x7fn)]
    for (let rest = arc >> 7n; rest > 0n; rest >>= 7n) group.unshift(Number(rest & 0x7fn) | 0x80)
    bytes.push(...group)
  }
  return tlv(0x06, Buffer.from(bytes))
}

export function integer (value: Uint8Array): Buffer {
  // DER's shortest form: no leading zero byte but before a byte whose top bit is set (positive).
  let start = 0
  while (start < value.length - 1 && value[start] === 0 && (value[start + 1] & 0x80) === 0) start++
  const bytes = value.subarray(start)
  return tlv(0x02, bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes)
}

export const TAGS = {
  utf8: 0x0c,
  numeric: 0x12,
  printable: 0x13,
  teletex: 0x14,
  videotex: 0x15,
  ia5: 0x16,
  graphic: 0x19,
  visible: 0x1a,
  general: 0x1b,
  universal: 0x1c,
  bmp: 0x1e
} as const

/** The bytes of a string of this tag: UTF-8, UCS-4 or UCS-2 (big-endian), else ISO 8859-1. */
export function stringBytes (tag: number, text: string): Buffer {
  if (tag === TAGS.utf8) return Buffer.from(text, 'utf8')
  const codes = [...text].map((char) => char.codePointAt(0) ?? 0)
  if (tag === TAGS.universal) return Buffer.concat(codes.map((code) => { const b = Buffer.alloc(4); b.writeUInt32BE(code); return b }))
  if (tag === TAGS.bmp) return Buffer.from(text, 'utf16le').swap16()
  if (codes.some((code) => code > 0xff)) throw new Error(`${JSON.stringify(text)} is not ISO 8859-1`)
  return Buffer.from(codes)
}

export const string = (tag: number, text: string): Buffer => tlv(tag, stringBytes(tag, text))

/** One AttributeTypeAndValue: the value is a whole element (a string, or anything else). */
export interface Attribute { type: string, value: Buffer }

/** A Name from its RDNs in DER order (most general first), each a set of attributes. */
export function name (rdns: Attribute[][]): Buffer {
  return sequence(...rdns.map((rdn) => set(...rdn.map(({ type, value }) => sequence(oid(type), value)))))
}

function utcTime (date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'
  return tlv(0x17, Buffer.from(text))
}

/** Who signs: its Name (a CA certificate's subject, see `subjectOf`) and its EC private key. */
export interface Issuer { name: Buffer, key: KeyObject }

export interface CertificateSpec {
  /** The subject Name (see `name`). */
  subject: Buffer
  issuer: Issuer
  /** The subject's public key. */
  publicKey: KeyObject
  notBefore?: Date
  notAfter?: Date
}

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'))

/** The subject Name of a certificate, as its DER holds it. */
export function subjectOf (certificate: X509Certificate): Buffer {
  const der = certificate.raw
  const tbs = children(der, children(der, readTlv(der, 0))[0])
  const subject = tbs[tbs[0].tag === 0xa0 ? 5 : 4]
  return der.subarray(subject.offset, subject.end)
}

/** An X.509 v3 client certificate (clientAuth), signed with the issuer's EC key (ECDSA, SHA-256). */
export function certificate (spec: CertificateSpec): Buffer {
  const now = Date.now()
  const extensions = tlv(0xa3, sequence(
    sequence(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, sequence())), // basicConstraints, critical, CA:FALSE
    sequence(oid('2.5.29.15'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, tlv(0x03, Buffer.from([0x07, 0x80])))), // keyUsage: digitalSignature
    sequence(oid('2.5.29.37'), tlv(0x04, sequence(oid('1.3.6.1.5.5.7.3.2')))) // extKeyUsage: clientAuth
  ))
  const tbs = sequence(
    tlv(0xa0, integer(Buffer.from([2]))), // v3
    integer(randomBytes(16)),
    ECDSA_WITH_SHA256,
    spec.issuer.name,
    sequence(utcTime(spec.notBefore ?? new Date(now - 3600_000)), utcTime(spec.notAfter ?? new Date(now + 86400_000))),
    spec.subject,
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    extensions
  )
  return sequence(tbs, ECDSA_WITH_SHA256, tlv(0x03, Buffer.concat([Buffer.from([0]), sign('sha256', tbs, spec.issuer.key)])))
}

export const pem = (der: Buffer): string =>
  `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`

/** A client key pair for test certificates (one is enough for any number of them). */
export function clientKey (): { privateKey: KeyObject, publicKey: KeyObject, keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { privateKey, publicKey, keyPem: String(privateKey.export({ type: 'pkcs8', format: 'pem' })) }
}

/** A CA of the test PKI (e.g. its intermediate) as an issuer, from its PEM certificate and key. */
export function issuerFromPem (certPem: string, keyPem: string): Issuer {
  return { name: subjectOf(new X509Certificate(certPem)), key: createPrivateKey(keyPem) }
}

/** An issuer with a fresh key, for tests that only read certificates (nothing checks the signature). */
export function throwawayIssuer (): Issuer {
  return { name: name([[{ type: '2.5.4.3', value: string(TAGS.utf8, 'Throwaway CA') }]]), key: clientKey().privateKey }
}
