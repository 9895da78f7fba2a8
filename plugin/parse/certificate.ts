import { createHash, hash, X509Certificate } from 'node:crypto'
import { Asn1Error, children, decodeOid, decodeTime, expectTag, readTlv, stringAt, type Tlv } from './asn1'
import { canonicalType, nameValue, type DistinguishedName, type DnAttribute, type RelativeDistinguishedName } from './dn'

export interface SubjectAltName {
  type: 'email' | 'dns' | 'uri' | 'upn' | 'ip'
  value: string
}

const OID_SAN = '2.5.29.17'
const OID_EKU = '2.5.29.37'
const OID_UPN = '1.3.6.1.4.1.311.20.2.3'

// The attribute types under 2.5.4 (CN, O, OU, C...), by their last arc: most names use no other.
const X520_NAMES = Array.from({ length: 0x80 }, (_, arc) => canonicalType(`2.5.4.${arc}`))

/** canonicalType(decodeOid(der, item)), without writing out the OID when it is one of X.520's. */
function attributeType (der: Uint8Array, item: Tlv): string {
  const { start } = item
  // Stryker disable next-line BlockStatement: an empty block falls through to canonicalType(decodeOid()), the same name
  if (item.tag === 0x06 && item.end - start === 3 && der[start] === 0x55 && der[start + 1] === 0x04 && der[start + 2] < 0x80) {
    return X520_NAMES[der[start + 2]]
  }
  return canonicalType(decodeOid(der, item))
}

function readAttribute (der: Uint8Array, pair: Tlv): DnAttribute {
  const parts = children(der, expectTag(pair, 0x30, 'an attribute'))
  if (parts.length !== 2) throw new Asn1Error('bad attribute')
  return { type: attributeType(der, parts[0]), value: nameValue(der, parts[1]) }
}

/** A Name (SEQUENCE OF SET OF AttributeTypeAndValue), most specific RDN first. */
export function readName (der: Uint8Array, name: Tlv): DistinguishedName {
  expectTag(name, 0x30, 'a Name')
  const sets = children(der, name)
  const dn: DistinguishedName = []
  for (let i = 0; i < sets.length; i++) {
    const pairs = children(der, expectTag(sets[i], 0x31, 'an RDN'))
    if (pairs.length === 0) throw new Asn1Error('empty RDN')
    const rdn: RelativeDistinguishedName = []
    for (let j = 0; j < pairs.length; j++) rdn.push(readAttribute(der, pairs[j]))
    dn.push(rdn)
  }
  return dn.reverse() // DER lists the most general RDN first
}

function readAltNames (der: Uint8Array, value: Tlv): SubjectAltName[] {
  const names: SubjectAltName[] = []
  for (const name of children(der, expectTag(value, 0x30, 'GeneralNames'))) {
    const { start, end } = name
    if (name.tag === 0x81) names.push({ type: 'email', value: stringAt(der, 0x16, start, end) })
    else if (name.tag === 0x82) names.push({ type: 'dns', value: stringAt(der, 0x16, start, end) })
    else if (name.tag === 0x86) names.push({ type: 'uri', value: stringAt(der, 0x16, start, end) })
    else if (name.tag === 0x87 && (end - start === 4 || end - start === 16)) {
      let ip = ''
      if (end - start === 4) ip = `${der[start]}.${der[start + 1]}.${der[start + 2]}.${der[start + 3]}`
      else for (let i = start; i < end; i += 2) ip += (i === start ? '' : ':') + (der[i] * 0x100 + der[i + 1]).toString(16)
      names.push({ type: 'ip', value: ip })
    } else if (name.tag === 0xa0) {
      // otherName: type-id, [0] EXPLICIT value. Only the Microsoft UPN is a login name.
      const [typeId, wrapped] = children(der, name)
      if (decodeOid(der, expectTag(typeId, 0x06, 'an otherName type-id')) !== OID_UPN) continue
      const inner = readTlv(der, expectTag(wrapped, 0xa0, 'an otherName value').start, wrapped.end)
      names.push({ type: 'upn', value: stringAt(der, expectTag(inner, 0x0c, 'a UTF8String UPN').tag, inner.start, inner.end) })
    }
  }
  return names
}

interface Extensions { subjectAltNames: SubjectAltName[], extKeyUsage: string[] | null }

function readExtensions (der: Uint8Array, explicit: Tlv): Extensions {
  const facts: Extensions = { subjectAltNames: [], extKeyUsage: null }
  const [list] = children(der, explicit)
  // Stryker disable next-line StringLiteral: OpenSSL refuses a certificate whose extensions are no SEQUENCE first
  for (const extension of children(der, expectTag(list, 0x30, 'Extensions'))) {
    // Stryker disable next-line StringLiteral: OpenSSL refuses an Extension that is no SEQUENCE first
    const parts = children(der, expectTag(extension, 0x30, 'an Extension'))
    const oid = decodeOid(der, parts[0])
    const octets = expectTag(parts[parts.length - 1], 0x04, 'an extension value')
    if (oid === OID_SAN) {
      facts.subjectAltNames = readAltNames(der, readTlv(der, octets.start, octets.end))
    } else if (oid === OID_EKU) {
      const usages = readTlv(der, octets.start, octets.end)
      const items = children(der, expectTag(usages, 0x30, 'ExtKeyUsageSyntax'))
      const oids: string[] = []
      for (let j = 0; j < items.length; j++) oids.push(decodeOid(der, items[j]))
      facts.extKeyUsage = oids
    }
  }
  return facts
}

/**
 * What a certificate says, read from its DER (never from Node's ambiguous display strings).
 * Node's X509Certificate checks the whole structure first (it throws on anything OpenSSL will not
 * read); then our own strict reader takes every field it parses, so that anything it refuses is
 * refused here, at once. Only the two digests, which cannot fail, wait until somebody asks.
 */
export class CertificateFacts {
  readonly certificate: X509Certificate
  /** RFC 4514 order: the most specific RDN (CN) first. */
  readonly subject: DistinguishedName
  readonly subjectAltNames: SubjectAltName[]
  /** Extended key usage OIDs, or null when the certificate has no such extension. */
  readonly extKeyUsage: string[] | null
  readonly issuer: DistinguishedName
  readonly validFrom: Date
  readonly validTo: Date
  readonly #der: Buffer
  #fingerprint256?: string

  constructor (der: Buffer) {
    this.certificate = new X509Certificate(der)
    this.#der = der
    const tbs = children(der, children(der, expectTag(readTlv(der, 0), 0x30, 'a Certificate'))[0])
    let i = tbs[0].tag === 0xa0 ? 1 : 0 // optional version
    i += 2 // serialNumber (Node's hex is the one people compare with), signature algorithm
    this.issuer = readName(der, tbs[i++])
    const [notBefore, notAfter] = children(der, tbs[i++])
    this.validFrom = decodeTime(der, notBefore)
    this.validTo = decodeTime(der, notAfter)
    // Stryker disable next-line UpdateOperator: i-- only makes the loop below also pass over subject and key, never [3]
    this.subject = readName(der, tbs[i++])
    let extensions: Extensions = { subjectAltNames: [], extKeyUsage: null }
    for (i++; i < tbs.length; i++) {
      if (tbs[i].tag === 0xa3) extensions = readExtensions(der, tbs[i])
    }
    this.subjectAltNames = extensions.subjectAltNames
    this.extKeyUsage = extensions.extKeyUsage
  }

  /** Hex, upper case, as Node and nginx print it. */
  get serialNumber (): string {
    return this.certificate.serialNumber.toUpperCase()
  }

  /** SHA-256 of the DER, upper-case hex pairs joined by colons, as Node prints it. */
  get fingerprint256 (): string {
    this.#fingerprint256 ??= fingerprint(this.#der)
    return this.#fingerprint256
  }
}

// crypto.hash (Node 20.12 and later) hashes in one call; createHash first builds a stream object.
// Stryker disable next-line StringLiteral: '' only picks createHash, which gives the same digest
const sha256Hex: (data: Uint8Array) => string = typeof hash === 'function'
  ? (data) => hash('sha256', data, 'hex')
  /* c8 ignore next */
  : (data) => createHash('sha256').update(data).digest('hex')

/** Hex digits as Node prints a fingerprint: upper case, pairs joined by colons (`AB:CD:…`). */
export function colonHex (hex: string): string {
  const upper = hex.toUpperCase()
  let text = upper.slice(0, 2)
  for (let i = 2; i < upper.length; i += 2) text += ':' + upper.slice(i, i + 2)
  return text
}

/** SHA-256 of the DER as `AB:CD:…`, the form of Node's `fingerprint256`. */
export function fingerprint (der: Uint8Array): string {
  return colonHex(sha256Hex(der))
}
