import { X509Certificate } from 'node:crypto'
import {
  FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED,
  FST_TLS_CERT_AUTH_EKU_NOT_ACCEPTED,
  FST_TLS_CERT_AUTH_FINGERPRINT_NOT_ACCEPTED,
  FST_TLS_CERT_AUTH_ISSUER_NOT_ACCEPTED,
  FST_TLS_CERT_AUTH_NOT_VALID_NOW,
  FST_TLS_CERT_AUTH_REVOKED
} from './errors'
import { parseSubject, type CertIdentity, type Identified } from './identity'
import { invalid, optional } from './option-values'
import { colonHex, fingerprint } from './parse/certificate'
import { sameDN, type DistinguishedName } from './parse/dn'
import { refuse, type ErrorClass, type Refused, type Result } from './result'
import { didYouMean } from './suggest'

/** The `accept` option: which certificates the application accepts, beyond what the proxy verified. */
export interface AcceptOptions {
  /** Allowed issuer DNs (any format parseDN reads), compared as parsed RDNs. */
  issuers?: string[]
  /** SHA-256 fingerprints of CAs, one of which must have signed the certificate (chain forwarded, or source tls). */
  caFingerprints?: string[]
  /** SHA-256 fingerprints of the only leaf certificates allowed in. */
  fingerprints?: string[]
  /** Refuse certificates without the clientAuth extended key usage. */
  requireClientAuthEku?: boolean
  /** Refuse certificates outside their validity period, or whose dates are unknown. */
  checkValidity?: boolean
  /** Seconds of clock difference forgiven by checkValidity. Default 0. */
  clockSkew?: number
  /** The application's own revocation list. */
  isRevoked?: (identity: CertIdentity) => boolean | Promise<boolean>
}

/**
 * One `accept` check: the options it reads, how they are read (once, at registration: null means
 * the check is off), why it refuses an identity (per request), and the error it answers with.
 */
interface AcceptCheck<Setting> {
  keys: ReadonlyArray<keyof AcceptOptions>
  read: (accept: AcceptOptions) => Setting | null
  refuses: (found: Identified, setting: Setting, now: number) => string | undefined
  error: ErrorClass
}

function check<Setting> (row: AcceptCheck<Setting>): AcceptCheck<Setting> {
  return row
}

const HEX_FINGERPRINT = /^[0-9A-F]{2}(?::?[0-9A-F]{2}){31}$/i
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'

function flag (value: boolean | undefined, name: string): true | null {
  return optional(value, false, `accept.${name}`, 'boolean') ? true : null
}

/** SHA-256 fingerprints, with or without colons, in Node's `AB:CD:…` form. */
function fingerprints (values: unknown, name: string): Set<string> | null {
  if (values === undefined) return null
  if (!Array.isArray(values) || values.length === 0) invalid(`accept.${name}`, 'expected a non-empty array of SHA-256 fingerprints')
  return new Set(values.map((value) => {
    if (typeof value !== 'string' || !HEX_FINGERPRINT.test(value)) invalid(`accept.${name}`, `${JSON.stringify(value)} is not a SHA-256 fingerprint`)
    return colonHex(value.replaceAll(':', ''))
  }))
}

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

/** The checks that need no I/O, one row each, in the order a reader of the log would expect. */
const ACCEPT_CHECKS = {
  checkValidity: check({
    keys: ['checkValidity', 'clockSkew'],
    read: (accept) => {
      const clockSkew = optional(accept.clockSkew, 0, 'accept.clockSkew', 'number')
      if (!(clockSkew >= 0 && clockSkew <= 86400)) invalid('accept.clockSkew', 'expected seconds from 0 to 86400')
      return flag(accept.checkValidity, 'checkValidity') && clockSkew * 1000
    },
    refuses: ({ identity: { validFrom, validTo } }, skew, now) => {
      // Only a DN arrived: the dates are unknown, and unknown is not valid.
      if (validFrom === null || validTo === null) return 'validity dates unknown: no certificate was forwarded'
      if (now + skew < validFrom.getTime() || now - skew > validTo.getTime()) {
        return `outside its validity period (${validFrom.toISOString()} to ${validTo.toISOString()})`
      }
    },
    error: FST_TLS_CERT_AUTH_NOT_VALID_NOW
  }),
  requireClientAuthEku: check({
    keys: ['requireClientAuthEku'],
    read: (accept) => flag(accept.requireClientAuthEku, 'requireClientAuthEku'),
    // Stryker disable next-line ArrayDeclaration: no EKU to read includes clientAuth either way
    refuses: ({ identity }) => (identity.extKeyUsage ?? []).includes(CLIENT_AUTH) ? undefined : 'no clientAuth extended key usage',
    error: FST_TLS_CERT_AUTH_EKU_NOT_ACCEPTED
  }),
  issuers: check({
    keys: ['issuers'],
    read: ({ issuers }): DistinguishedName[] | null => {
      if (issuers === undefined) return null
      if (!Array.isArray(issuers) || issuers.length === 0) invalid('accept.issuers', 'expected a non-empty array of DNs')
      return issuers.map((issuer) => {
        try {
          return parseSubject(issuer, 'auto')
        } catch (error) {
          return invalid('accept.issuers', (error as Error).message)
        }
      })
    },
    refuses: ({ identity: { issuer } }, issuers) => {
      if (issuer === null) return 'issuer unknown'
      if (!issuers.some((allowed) => sameDN(allowed, issuer))) return 'issuer not in accept.issuers'
    },
    error: FST_TLS_CERT_AUTH_ISSUER_NOT_ACCEPTED
  }),
  fingerprints: check({
    keys: ['fingerprints'],
    read: (accept) => fingerprints(accept.fingerprints, 'fingerprints'),
    refuses: ({ identity: { fingerprint256 } }, allowed) => {
      if (fingerprint256 === null || !allowed.has(fingerprint256)) return 'fingerprint not in accept.fingerprints'
    },
    error: FST_TLS_CERT_AUTH_FINGERPRINT_NOT_ACCEPTED
  }),
  caFingerprints: check({
    keys: ['caFingerprints'],
    read: (accept) => fingerprints(accept.caFingerprints, 'caFingerprints'),
    refuses: ({ identity: { certificate }, chain }, pinned) => {
      if (certificate === null || chain.length === 0) return 'no CA chain forwarded to check accept.caFingerprints against'
      if (!signedByPinnedCa(certificate, chain, pinned)) return 'not signed by a CA in accept.caFingerprints'
    },
    error: FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED
  })
}

// `isRevoked` may wait on I/O: no row of the table, it is settled once per request (identity-reader.ts).
const ACCEPT_KEYS: readonly string[] = [...Object.values(ACCEPT_CHECKS).flatMap((row) => row.keys), 'isRevoked']

type Setting<K extends keyof typeof ACCEPT_CHECKS> = NonNullable<ReturnType<typeof ACCEPT_CHECKS[K]['read']>>

/** The accept options as read at registration: each check that is on, with its setting. */
export interface Policy {
  settings: { [K in keyof typeof ACCEPT_CHECKS]?: Setting<K> }
  /** The checks that are on, in the table's order, each with its setting bound. */
  active: Array<{ refuses: (found: Identified, now: number) => string | undefined, error: ErrorClass }>
  isRevoked: NonNullable<AcceptOptions['isRevoked']> | null
}

/** Read the `accept` option once, at registration: a bad value fails here, with its name. */
export function readPolicy (accept: AcceptOptions | undefined): Policy {
  const options = optional(accept, {}, 'accept', 'object')
  if (options === null) invalid('accept', 'expected an object')
  for (const key of Object.keys(options)) {
    if (!ACCEPT_KEYS.includes(key)) invalid(`accept.${key}`, 'unknown option' + didYouMean(key, ACCEPT_KEYS))
  }
  const isRevoked = optional(options.isRevoked, undefined, 'accept.isRevoked', 'function') ?? null
  const policy: Policy = { settings: {}, active: [], isRevoked }
  for (const [name, row] of Object.entries(ACCEPT_CHECKS) as Array<[keyof typeof ACCEPT_CHECKS, AcceptCheck<unknown>]>) {
    const setting = row.read(options)
    if (setting === null) continue
    policy.settings[name] = setting as never // this row's own setting, whose type the key names
    policy.active.push({ refuses: (found, now) => row.refuses(found, setting, now), error: row.error })
  }
  return policy
}

/** The checks that need no I/O: the identity as it came, or the first refusal. */
export function checkPolicy (found: Result<Identified> & { status: 'ok' }, policy: Policy, now: number): Result<Identified> {
  for (const { refuses, error } of policy.active) {
    const why = refuses(found.value, now)
    if (why !== undefined) return refuse(why, error)
  }
  return found
}

/** The application's own revocation list; the one check that may wait on I/O. */
export async function checkRevoked (identity: CertIdentity, isRevoked: NonNullable<Policy['isRevoked']>): Promise<Refused | undefined> {
  return await isRevoked(identity) ? refuse('revoked by accept.isRevoked', FST_TLS_CERT_AUTH_REVOKED) : undefined
}
