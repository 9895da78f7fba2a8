import type { X509Certificate } from 'node:crypto'
import { CertificateFacts, type SubjectAltName } from './parse/certificate'
import { attributeValues, formatDN, isSlashForm, parseDN, sameDN, type DistinguishedName, type DnFormat } from './parse/dn'
import { ok, refuse, type Result } from './result'
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

export type UsernameRule = UsernameField | ((identity: CertIdentity) => string | null | undefined)
export type UsernameField = keyof typeof USERNAME_RULES

/** A verified certificate's identity, with the CA certificates forwarded beside it. */
export interface Identified {
  identity: CertIdentity
  chain: Buffer[]
}

/** A DN in RFC 4514 order: the legacy slash form writes the most general RDN first. */
export function parseSubject (text: string, format: DnFormat): DistinguishedName {
  const dn = parseDN(text, format)
  return isSlashForm(text, format) ? dn.reverse() : dn
}

/**
 * Why a DN text cannot be read without the certificate, or null. The slash form cannot show a CN
 * that ends in spaces (Node trims a header value's, so `root   ` arrives as `root`), a CN that is
 * no string (OpenSSL writes its content bytes as if they were text), nor, from an OpenSSL before
 * 3.0, a `/` inside a value. Only the certificate tells, so without one such a DN is refused unless
 * the source was told to read it anyway.
 */
function slashFormAlone (raw: RawCertificate, text: string, format: DnFormat, which: string): string | null {
  if (!isSlashForm(text, format) || raw.uncheckedSlashForm === true) return null
  return `${which} in OpenSSL's slash form with no certificate to check it: forward the certificate, or send the DN ` +
    'in RFC 2253 (uncheckedSlashForm: true reads it anyway)'
}

// C0 controls, DEL and C1 controls: `admin\0.evil` must not reach a user store that ends strings at
// NUL, nor `admin\u0085` a log or terminal that reads U+0085 as a line break.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/

/** A name an application can store and compare, or why it is not one. */
function storableName (name: string, what: string): Result<string> {
  if (name === '') return refuse(`the ${what} is empty`)
  if (CONTROL.test(name)) return refuse(`the ${what} holds a control character`)
  return ok(name)
}

/** The single value, or why there is not exactly one. */
function exactlyOne (values: string[], what: string): Result<string> {
  if (values.length !== 1) return refuse(`expected exactly one ${what}, found ${values.length}`)
  return storableName(values[0], what)
}

function altNames (identity: CertIdentity, type: SubjectAltName['type']): string[] {
  return identity.subjectAltNames.filter((name) => name.type === type).map((name) => name.value)
}

/** A certificate field that exists only when a whole certificate was forwarded. */
function certificateField (field: 'issuerSerial' | 'serialNumber' | 'fingerprint256') {
  return (identity: CertIdentity): Result<string> => {
    const value = identity[field]
    return value === null ? refuse(`no certificate was forwarded to read its ${field} from`) : storableName(value, field)
  }
}

/** The built-in username rules, one row each. `issuerSerial` is unique across CAs; `serialNumber` only per CA. */
const USERNAME_RULES = {
  cn: (identity: CertIdentity) => exactlyOne(attributeValues(identity.subject, 'CN'), 'CN in the subject'),
  email: (identity: CertIdentity) => {
    const inSubject = attributeValues(identity.subject, 'emailAddress')
    return inSubject.length > 0 ? exactlyOne(inSubject, 'emailAddress in the subject') : exactlyOne(altNames(identity, 'email'), 'email SAN')
  },
  uid: (identity: CertIdentity) => exactlyOne(attributeValues(identity.subject, 'UID'), 'UID in the subject'),
  upn: (identity: CertIdentity) => exactlyOne(altNames(identity, 'upn'), 'UPN SAN'),
  issuerSerial: certificateField('issuerSerial'),
  serialNumber: certificateField('serialNumber'),
  fingerprint256: certificateField('fingerprint256')
} satisfies Record<string, (identity: CertIdentity) => Result<string>>

export const USERNAME_FIELDS = Object.keys(USERNAME_RULES) as UsernameField[]

function mapUsername (identity: CertIdentity, rule: UsernameRule): Result<string> {
  if (typeof rule !== 'function') return USERNAME_RULES[rule](identity)
  let name: unknown
  try {
    name = rule(identity)
  } catch (error) {
    return refuse(`the username function threw: ${(error as Error).message}`)
  }
  return typeof name === 'string' ? storableName(name, 'name from the username function') : refuse('the username function gave no name')
}

/** The identity of a verified certificate, or why it has none. */
export function buildIdentity (raw: RawCertificate, usernameRule: UsernameRule): Result<Identified> {
  let facts: CertificateFacts | null = null
  let subject: DistinguishedName | undefined
  let issuer: DistinguishedName | null
  try {
    if (raw.der !== undefined) facts = new CertificateFacts(raw.der)
    const format = raw.dnFormat ?? 'auto'
    if (facts === null) {
      const alone = (raw.dn === undefined ? null : slashFormAlone(raw, raw.dn, format, 'a DN')) ??
        (raw.issuerDn === undefined ? null : slashFormAlone(raw, raw.issuerDn, 'auto', 'an issuer DN'))
      if (alone !== null) return refuse(alone)
    }
    const fromHeader = raw.subject ?? (raw.dn === undefined ? undefined : parseSubject(raw.dn, format))
    if (facts !== null && fromHeader !== undefined && !sameDN(facts.subject, fromHeader)) {
      return refuse('the subject DN header and the forwarded certificate disagree')
    }
    subject = facts?.subject ?? fromHeader
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
  if (subject === undefined) return refuse('neither a certificate nor a subject DN')

  const cns = attributeValues(subject, 'CN')
  // The digests are worked out when first read: a login that needs only the username does not
  // pay for them. Getters in a literal are enumerable: the identity serialises like plain data.
  const identity: CertIdentity = {
    dn: raw.dn ?? formatDN(subject),
    subject,
    // Several CNs: every tool picks a different one, so we refuse to pick.
    cn: cns.length === 1 ? cns[0] : null,
    username: '', // until the rule below names it; a username function sees it empty
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
  if (username.status !== 'ok') return username
  identity.username = username.value
  return ok({ identity, chain: raw.chain ?? [] })
}
