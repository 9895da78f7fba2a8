import { createHash, X509Certificate } from 'node:crypto'
import { Asn1Error, children, decodeOid, decodeString, decodeTime, expectTag, readTlv, type Tlv } from './asn1'
import { canonicalType, nameValue, type DistinguishedName } from './dn'

export interface SubjectAltName {
  type: 'email' | 'dns' | 'uri' | 'upn' | 'ip'
  value: string
}

/** What a certificate says, read from its DER (never from Node's ambiguous display strings). */
export interface CertificateFacts {
  certificate: X509Certificate
  /** RFC 4514 order: the most specific RDN (CN) first. */
  subject: DistinguishedName
  issuer: DistinguishedName
  /** Hex, upper case, as Node and nginx print it. */
  serialNumber: string
  /** SHA-256 of the DER, upper-case hex pairs joined by colons, as Node prints it. */
  fingerprint256: string
  validFrom: Date
  validTo: Date
  subjectAltNames: SubjectAltName[]
  /** Extended key usage OIDs, or null when the certificate has no such extension. */
  extKeyUsage: string[] | null
}

const OID_SAN = '2.5.29.17'
const OID_EKU = '2.5.29.37'
const OID_UPN = '1.3.6.1.4.1.311.20.2.3'

/** A Name (SEQUENCE OF SET OF AttributeTypeAndValue), most specific RDN first. */
export function readName (der: Uint8Array, name: Tlv): DistinguishedName {
  expectTag(name, 0x30, 'a Name')
  const dn: DistinguishedName = []
  for (const set of children(der, name)) {
    expectTag(set, 0x31, 'an RDN')
    const rdn = children(der, set).map((pair) => {
      const [type, value, extra] = children(der, expectTag(pair, 0x30, 'an attribute'))
      if (value === undefined || extra !== undefined) throw new Asn1Error('bad attribute')
      return { type: canonicalType(decodeOid(der, type)), value: nameValue(der, value) }
    })
    if (rdn.length === 0) throw new Asn1Error('empty RDN')
    dn.unshift(rdn)
  }
  return dn
}

function readAltNames (der: Uint8Array, value: Tlv): SubjectAltName[] {
  const names: SubjectAltName[] = []
  for (const name of children(der, expectTag(value, 0x30, 'GeneralNames'))) {
    const body = der.subarray(name.start, name.end)
    if (name.tag === 0x81) names.push({ type: 'email', value: decodeString(0x16, body) })
    else if (name.tag === 0x82) names.push({ type: 'dns', value: decodeString(0x16, body) })
    else if (name.tag === 0x86) names.push({ type: 'uri', value: decodeString(0x16, body) })
    else if (name.tag === 0x87 && (body.length === 4 || body.length === 16)) {
      const view = Buffer.from(body)
      const ip = body.length === 4
        ? [...body].join('.')
        : Array.from({ length: 8 }, (_, group) => view.readUInt16BE(group * 2).toString(16)).join(':')
      names.push({ type: 'ip', value: ip })
    } else if (name.tag === 0xa0) {
      // otherName: type-id, [0] EXPLICIT value. Only the Microsoft UPN is a login name.
      const [typeId, wrapped] = children(der, name)
      if (decodeOid(der, typeId) !== OID_UPN) continue
      const inner = readTlv(der, expectTag(wrapped, 0xa0, 'an otherName value').start, wrapped.end)
      names.push({ type: 'upn', value: decodeString(expectTag(inner, 0x0c, 'a UTF8String UPN').tag, der.subarray(inner.start, inner.end)) })
    }
  }
  return names
}

function readExtensions (der: Uint8Array, explicit: Tlv, facts: Pick<CertificateFacts, 'subjectAltNames' | 'extKeyUsage'>): void {
  const [list] = children(der, explicit)
  for (const extension of children(der, expectTag(list, 0x30, 'Extensions'))) {
    const parts = children(der, expectTag(extension, 0x30, 'an Extension'))
    const oid = decodeOid(der, parts[0])
    const octets = expectTag(parts[parts.length - 1], 0x04, 'an extension value')
    if (oid === OID_SAN) {
      facts.subjectAltNames = readAltNames(der, readTlv(der, octets.start, octets.end))
    } else if (oid === OID_EKU) {
      const usages = readTlv(der, octets.start, octets.end)
      facts.extKeyUsage = children(der, expectTag(usages, 0x30, 'ExtKeyUsageSyntax')).map((item) => decodeOid(der, item))
    }
  }
}

/**
 * Parse a DER certificate. Node's X509Certificate checks the whole structure first (it throws on
 * anything OpenSSL will not read); our reader then takes the fields in structured form.
 */
export function readCertificate (der: Buffer): CertificateFacts {
  const certificate = new X509Certificate(der)
  const cert = readTlv(der, 0)
  const tbs = children(der, children(der, expectTag(cert, 0x30, 'a Certificate'))[0])
  let i = tbs[0].tag === 0xa0 ? 1 : 0 // optional version
  i++ // serialNumber: Node's hex is the one people compare with
  i++ // signature algorithm
  const issuer = readName(der, tbs[i++])
  const [notBefore, notAfter] = children(der, tbs[i++])
  const subject = readName(der, tbs[i++])
  const facts: CertificateFacts = {
    certificate,
    subject,
    issuer,
    serialNumber: certificate.serialNumber.toUpperCase(),
    fingerprint256: fingerprint(der),
    validFrom: decodeTime(der, notBefore),
    validTo: decodeTime(der, notAfter),
    subjectAltNames: [],
    extKeyUsage: null
  }
  for (i++; i < tbs.length; i++) {
    if (tbs[i].tag === 0xa3) readExtensions(der, tbs[i], facts)
  }
  return facts
}

/** SHA-256 of the DER as `AB:CD:…`, the form of Node's `fingerprint256`. */
export function fingerprint (der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:')
}
