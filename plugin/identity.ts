import { attributeValues, parseDN, type DistinguishedName } from './dn'
import type { RawCertificate } from './sources/types'

/** The identity a trusted certificate gives, as `request.certUser` exposes it. */
export interface CertIdentity {
  /** The subject DN exactly as received. */
  dn: string
  /** The subject, parsed: RDNs in the order written. */
  subject: DistinguishedName
  /** The single CN value, or null when there is none or more than one. */
  cn: string | null
  /** The name the application knows the user by. */
  username: string
  /** Where the certificate came from. */
  source: RawCertificate['source']
}

export type IdentityResult =
  | { status: 'absent' }
  | { status: 'refused', reason: string }
  | { status: 'ok', identity: CertIdentity }

/** The identity of a verified certificate, or why it has none (the reason is for the log only). */
export function buildIdentity (raw: RawCertificate): IdentityResult {
  let subject: DistinguishedName
  try {
    subject = parseDN(raw.dn, raw.dnFormat)
  } catch (error) {
    return { status: 'refused', reason: (error as Error).message }
  }
  const cns = attributeValues(subject, 'CN')
  // Several CNs: every tool picks a different one, so we refuse to pick.
  if (cns.length !== 1) return { status: 'refused', reason: `expected exactly one CN in the subject, found ${cns.length}` }
  const cn = cns[0]
  if (cn === '') return { status: 'refused', reason: 'the CN is empty' }
  return { status: 'ok', identity: { dn: raw.dn, subject, cn, username: cn, source: raw.source } }
}
