import { X509Certificate } from 'node:crypto'
import { fingerprint } from './parse/certificate'
import { sameDN, type DistinguishedName } from './parse/dn'
import {
  FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED,
  FST_TLS_CERT_AUTH_EKU_NOT_ACCEPTED,
  FST_TLS_CERT_AUTH_FINGERPRINT_NOT_ACCEPTED,
  FST_TLS_CERT_AUTH_ISSUER_NOT_ACCEPTED,
  FST_TLS_CERT_AUTH_NOT_VALID_NOW,
  FST_TLS_CERT_AUTH_REVOKED
} from './errors'
import { refuse, type CertIdentity, type Refusal } from './identity'

/** Which certificates the application accepts, beyond what the proxy verified. Every check is off by default. */
export interface Policy {
  /** Allowed issuer DNs, compared as parsed RDNs. */
  issuers: DistinguishedName[] | null
  /** SHA-256 fingerprints (`AB:CD:…`) of CAs, one of which must have signed the certificate. */
  caFingerprints: Set<string> | null
  /** SHA-256 fingerprints of the leaf certificates allowed in. */
  fingerprints: Set<string> | null
  requireClientAuthEku: boolean
  checkValidity: boolean
  /** Seconds of clock difference forgiven at either end of the validity period. */
  clockSkew: number
  isRevoked: ((identity: CertIdentity) => boolean | Promise<boolean>) | null
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'

/** Does a CA with a pinned fingerprint sign the certificate or one of the CAs above it? */
function signedByPinnedCa (certificate: X509Certificate, chain: Buffer[], pinned: Set<string>): boolean {
  const cas: Array<{ x509: X509Certificate, fingerprint: string }> = []
  for (const der of chain) {
    try {
      cas.push({ x509: new X509Certificate(der), fingerprint: fingerprint(der) })
    } catch {
      return false // a chain with something that is no certificate proves nothing
    }
  }
  let current = certificate
  // Each step climbs one verified signature; a chain cannot be longer than its certificates.
  for (let step = 0; step < cas.length; step++) {
    const issuer = cas.find((ca) => current.checkIssued(ca.x509) && current.verify(ca.x509.publicKey))
    if (issuer === undefined) return false
    if (pinned.has(issuer.fingerprint)) return true
    current = issuer.x509
  }
  return false
}

/** The checks that need no I/O, in the order a reader of the log would expect. */
export function checkPolicy (identity: CertIdentity, chain: Buffer[], policy: Policy, now: number): Refusal | null {
  if (policy.checkValidity) {
    const { validFrom, validTo } = identity
    // Only a DN arrived: the dates are unknown, and unknown is not valid.
    if (validFrom === null || validTo === null) {
      return refuse('validity dates unknown: no certificate was forwarded', FST_TLS_CERT_AUTH_NOT_VALID_NOW)
    }
    const skew = policy.clockSkew * 1000
    if (now + skew < validFrom.getTime() || now - skew > validTo.getTime()) {
      return refuse(`outside its validity period (${validFrom.toISOString()} to ${validTo.toISOString()})`,
        FST_TLS_CERT_AUTH_NOT_VALID_NOW)
    }
  }
  if (policy.requireClientAuthEku && !(identity.extKeyUsage ?? []).includes(CLIENT_AUTH)) {
    return refuse('no clientAuth extended key usage', FST_TLS_CERT_AUTH_EKU_NOT_ACCEPTED)
  }
  if (policy.issuers !== null) {
    const issuer = identity.issuer
    if (issuer === null || !policy.issuers.some((allowed) => sameDN(allowed, issuer))) {
      return refuse(issuer === null ? 'issuer unknown' : 'issuer not in accept.issuers', FST_TLS_CERT_AUTH_ISSUER_NOT_ACCEPTED)
    }
  }
  if (policy.fingerprints !== null && !policy.fingerprints.has(identity.fingerprint256 as string)) {
    return refuse('fingerprint not in accept.fingerprints', FST_TLS_CERT_AUTH_FINGERPRINT_NOT_ACCEPTED)
  }
  if (policy.caFingerprints !== null) {
    const certificate = identity.certificate
    if (certificate === null || chain.length === 0) {
      return refuse('no CA chain forwarded to check accept.caFingerprints against', FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED)
    }
    if (!signedByPinnedCa(certificate, chain, policy.caFingerprints)) {
      return refuse('not signed by a CA in accept.caFingerprints', FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED)
    }
  }
  return null
}

/** The application's own revocation list; the one check that may wait on I/O. */
export async function checkRevoked (identity: CertIdentity, isRevoked: NonNullable<Policy['isRevoked']>): Promise<Refusal | null> {
  return await isRevoked(identity) ? refuse('revoked by accept.isRevoked', FST_TLS_CERT_AUTH_REVOKED) : null
}
