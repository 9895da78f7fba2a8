import type { FastifyRequest } from 'fastify'
import { buildIdentity, refuse, type CertIdentity, type IdentityResult, type UsernameRule } from './identity'
import { checkPolicy, checkRevoked, type Policy } from './policy'
import type { CertificateSource, RawCertificate } from './sources/types'

export type ReadIdentity = (request: FastifyRequest) => IdentityResult

export const kIdentityResult = Symbol('fastify-tls-certificate-auth.identity')

declare module 'fastify' {
  interface FastifyRequest {
    [kIdentityResult]: IdentityResult | null
  }
}

/**
 * Source → identity → the checks that need no I/O, worked out once per request and only when
 * somebody asks. A source that hands back the same raw certificate (one TLS connection) has its
 * identity built once; the time-dependent checks still run per request.
 */
export function identityReader (source: CertificateSource, usernameRule: UsernameRule, policy: Policy): ReadIdentity {
  const built = new WeakMap<RawCertificate, IdentityResult>()

  function extract (request: FastifyRequest): IdentityResult {
    const found = source(request)
    if (found.status === 'absent') return found
    if (found.status === 'refused') return refuse(found.reason)
    let result = built.get(found.raw)
    if (result === undefined) {
      result = buildIdentity(found.raw, usernameRule)
      built.set(found.raw, result)
    }
    if (result.status !== 'ok') return result
    return checkPolicy(result.identity, result.chain, policy, Date.now()) ?? result
  }

  return function readIdentity (request) {
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
}

/**
 * The identity once every check has passed, revocation included: null without a certificate,
 * the policy's coded error when refused.
 */
export async function acceptedIdentity (request: FastifyRequest, readIdentity: ReadIdentity, policy: Policy): Promise<CertIdentity | null> {
  const found = readIdentity(request)
  if (found.status === 'absent') return null
  // The reason was logged when the identity was read.
  if (found.status === 'refused') throw new found.ErrorType()
  const revoked = await checkRevoked(found.identity, policy)
  if (revoked !== null) {
    request.log.warn({ username: found.identity.username, reason: revoked.reason }, 'client certificate refused')
    throw new revoked.ErrorType()
  }
  return found.identity
}
