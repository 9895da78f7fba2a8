import type { FastifyRequest } from 'fastify'
import { FST_TLS_CERT_AUTH_REVOCATION_UNKNOWN } from './errors'
import { buildIdentity, type CertIdentity, type Identified, type UsernameRule } from './identity'
import { checkPolicy, checkRevoked, type Policy } from './policy'
import { refuse, type Refused, type Result } from './result'
import type { CertificateSource, RawCertificate } from './sources/types'

export interface IdentityReader {
  /** `request.certUser`: the identity once every check has passed, else null. Never waits. */
  current: (request: FastifyRequest) => CertIdentity | null
  /** Source → identity → the checks that need no I/O, once per request. */
  read: (request: FastifyRequest) => Result<Identified>
  /** Every check, `accept.isRevoked` included: what the login and `requireCertificate` act on. */
  accepted: (request: FastifyRequest) => Promise<Result<Identified>>
  /** Whether `accepted` must run before `current` may answer (an `isRevoked` check is set). */
  revocable: boolean
}

export const kIdentityResult = Symbol('fastify-tls-certificate-auth.identity')
export const kRevocationChecked = Symbol('fastify-tls-certificate-auth.revocation-checked')

declare module 'fastify' {
  interface FastifyRequest {
    [kIdentityResult]: Result<Identified> | null
    [kRevocationChecked]: boolean
  }
}

/**
 * Source → identity → policy, worked out once per request and only when somebody asks. A source
 * that hands back the same raw certificate (one TLS connection) has its identity built once; the
 * time-dependent checks and revocation still run per request.
 */
export function identityReader (source: CertificateSource, usernameRule: UsernameRule, policy: Policy): IdentityReader {
  const built = new WeakMap<RawCertificate, Result<Identified>>()
  const { isRevoked } = policy

  function extract (request: FastifyRequest): Result<Identified> {
    const found = source(request)
    if (found.status !== 'ok') return found
    let result = built.get(found.value)
    if (result === undefined) {
      result = buildIdentity(found.value, usernameRule)
      built.set(found.value, result)
    }
    return result.status === 'ok' ? checkPolicy(result, policy, Date.now()) : result
  }

  function read (request: FastifyRequest): Result<Identified> {
    let result = request[kIdentityResult]
    if (result === null) {
      result = extract(request)
      if (result.status === 'refused') {
        request.log.warn({ reason: result.reason }, 'client certificate refused')
      }
      request[kIdentityResult] = result
    }
    return result
  }

  return {
    read,
    revocable: isRevoked !== null,
    current (request) {
      const result = read(request)
      // With `isRevoked`, an identity whose revocation has not been asked about yet is none.
      return result.status === 'ok' && (isRevoked === null || request[kRevocationChecked]) ? result.value.identity : null
    },
    async accepted (request) {
      const result = read(request)
      if (isRevoked === null || result.status !== 'ok' || request[kRevocationChecked]) return result
      let refusal: Refused | undefined
      try {
        refusal = await checkRevoked(result.value.identity, isRevoked)
      } catch (error) {
        // Unknown is not "not revoked": fail closed, and say it is the check that failed.
        refusal = refuse(`accept.isRevoked failed: ${(error as Error).message}`, FST_TLS_CERT_AUTH_REVOCATION_UNKNOWN)
      }
      request[kRevocationChecked] = true
      if (refusal === undefined) return result
      request.log.warn({ username: result.value.identity.username, reason: refusal.reason }, 'client certificate refused')
      request[kIdentityResult] = refusal
      return refusal
    }
  }
}
