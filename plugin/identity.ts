import type { X509Certificate } from 'node:crypto'
import { readCertificate, type CertificateFacts, type SubjectAltName } from './parse/certificate'
import { attributeValues, formatDN, parseDN, sameDN, type DistinguishedName, type DnFormat } from './parse/dn'
import { FST_TLS_CERT_AUTH_NO_IDENTITY } from './errors'
import type { RawCertificate } from './sources/types'

/** The identity a trusted certificate gives, as `request.certUser` exposes it. */
export interface CertIdentity {
  /** The subject DN: as the proxy sent it, or written from the certificate (RFC 4514). */
  dn: string
  /** The subject, parsed, most specific RDN first (RFC 4514 order) whatever the header's format. */
  subject: DistinguishedName
  /** The single CN value, or null when there is none or more than one. */
  cn: string | null
  /** The name the application knows the user by (the `username` option). */
  username: string
  /** Where the certificate came from. */
  source: RawCertificate['source']
  /** The issuer DN, when the certificate or an issuer header was forwarded. */
  issuer: DistinguishedName | null
  /** Certificate serial number, upper-case hex. Null when only a DN was forwarded; so are the rest. */
  serialNumber: string | null
  /** The issuer DN in RFC 4514, `/`, the serial: the certificate's unique id (what a CRL names). */
  issuerSerial: string | null
  /** SHA-256 of the certificate, `AB:CD:…`. Not unique: an ECDSA signature can be rewritten. */
  fingerprint256: string | null
  validFrom: Date | null
  validTo: Date | null
  /** email, dns, uri, upn and ip entries, read from the extension itself. */
  subjectAltNames: SubjectAltName[]
  /** Extended key usage OIDs; null when unknown or the certificate has none. */
  extKeyUsage: string[] | null
  certificate: X509Certificate | null
}

/** The built-in username rules. `issuerSerial` is unique across CAs; `serialNumber` only per CA. */
export const USERNAME_FIELDS = ['cn', 'email', 'uid', 'upn', 'issuerSerial', 'serialNumber', 'fingerprint256'] as const
export type UsernameField = typeof USERNAME_FIELDS[number]
export type UsernameRule = UsernameField | ((identity: CertIdentity) => string | null | undefined)

/** Why a verified certificate gives no identity: the reason is for the log, the error for the client. */
export interface Refusal {
  status: 'refused'
  reason: string
  ErrorType: new () => Error
}

export type IdentityResult =
  | { status: 'absent' }
  | Refusal
  | { status: 'ok', identity: CertIdentity, chain: Buffer[] }

export function refuse (reason: string, ErrorType: new () => Error = FST_TLS_CERT_AUTH_NO_IDENTITY): Refusal {
  return { status: 'refused', reason, ErrorType }
}

/** A DN in RFC 4514 order: the legacy slash form writes the most general RDN first. */
export function parseSubject (text: string, format: DnFormat): DistinguishedName {
  const dn = parseDN(text, format)
  return format === 'legacy' || (format === 'auto' && text.startsWith('/')) ? dn.reverse() : dn
}

// C0 controls and DEL: `admin\0.evil` must not reach a user store that ends strings at NUL.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/

/** A name an application can store and compare, or why it is not one. */
function usable (name: string, what: string): string | { reason: string } {
  if (name === '') return { reason: `the ${what} is empty` }
  if (CONTROL.test(name)) return { reason: `the ${what} holds a control character` }
  return name
}

/** The single value, or a reason why there is not exactly one. */
function one (values: string[], what: string): string | { reason: string } {
  if (values.length !== 1) return { reason: `expected exactly one ${what}, found ${values.length}` }
  return usable(values[0], what)
}

function mapUsername (identity: CertIdentity, rule: UsernameRule): string | { reason: string } {
  const altNames = (type: SubjectAltName['type']) =>
    identity.subjectAltNames.filter((name) => name.type === type).map((name) => name.value)
  switch (rule) {
    case 'cn': return one(attributeValues(identity.subject, 'CN'), 'CN in the subject')
    case 'uid': return one(attributeValues(identity.subject, 'UID'), 'UID in the subject')
    case 'email': {
      const inSubject = attributeValues(identity.subject, 'emailAddress')
      return inSubject.length > 0 ? one(inSubject, 'emailAddress in the subject') : one(altNames('email'), 'email SAN')
    }
    case 'upn': return one(altNames('upn'), 'UPN SAN')
    case 'issuerSerial':
    case 'serialNumber':
    case 'fingerprint256': {
      const value = identity[rule]
      return value === null ? { reason: `no certificate was forwarded to read its ${rule} from` } : usable(value, rule)
    }
    default: {
      let name: unknown
      try {
        name = rule(identity)
      } catch (error) {
        return { reason: `the username function threw: ${(error as Error).message}` }
      }
      return typeof name === 'string' ? usable(name, 'name from the username function') : { reason: 'the username function gave no name' }
    }
  }
}

/** The identity of a verified certificate, or why it has none. */
export function buildIdentity (raw: RawCertificate, usernameRule: UsernameRule): IdentityResult {
  let facts: CertificateFacts | null = null
  let subject: DistinguishedName
  let issuer: DistinguishedName | null
  try {
    if (raw.der !== undefined) facts = readCertificate(raw.der)
    const fromHeader = raw.subject ?? (raw.dn === undefined ? undefined : parseSubject(raw.dn, raw.dnFormat ?? 'auto'))
    if (facts !== null && fromHeader !== undefined && !sameDN(facts.subject, fromHeader)) {
      return refuse('the subject DN header and the forwarded certificate disagree')
    }
    subject = facts?.subject ?? fromHeader as DistinguishedName
    const issuerFromHeader = raw.issuerDn === undefined ? undefined : parseSubject(raw.issuerDn, 'auto')
    // A proxy that sends both vouches for both: a certificate the client slipped in beside them
    // (through a header that proxy does not set) names its own subject or issuer, and is refused.
    if (facts !== null && issuerFromHeader !== undefined && !sameDN(facts.issuer, issuerFromHeader)) {
      return refuse('the issuer DN header and the forwarded certificate disagree')
    }
    issuer = facts?.issuer ?? issuerFromHeader ?? null
  } catch (error) {
    return refuse(`unreadable certificate or DN: ${(error as Error).message}`)
  }

  const cns = attributeValues(subject, 'CN')
  // The digests are worked out when first read: a login that needs only the username does not
  // pay for them. Getters in a literal are enumerable: the identity serialises like plain data.
  const identity: CertIdentity = {
    dn: raw.dn ?? formatDN(subject),
    subject,
    // Several CNs: every tool picks a different one, so we refuse to pick.
    cn: cns.length === 1 ? cns[0] : null,
    username: '',
    source: raw.source,
    issuer,
    get serialNumber () { return facts?.serialNumber ?? null },
    // The serial is hex: the last `/` ends the issuer, whatever its values hold.
    get issuerSerial () { return facts === null ? null : `${formatDN(facts.issuer)}/${facts.serialNumber}` },
    get fingerprint256 () { return facts?.fingerprint256 ?? null },
    validFrom: facts?.validFrom ?? null,
    validTo: facts?.validTo ?? null,
    subjectAltNames: facts?.subjectAltNames ?? [],
    extKeyUsage: facts?.extKeyUsage ?? null,
    certificate: facts?.certificate ?? null
  }
  const username = mapUsername(identity, usernameRule)
  if (typeof username !== 'string') return refuse(username.reason)
  identity.username = username
  return { status: 'ok', identity, chain: raw.chain ?? [] }
}
