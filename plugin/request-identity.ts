import type { FastifyRequest } from 'fastify'
import { buildIdentity, type IdentityResult } from './identity'
import type { CertificateSource } from './sources/types'

export type ReadIdentity = (request: FastifyRequest) => IdentityResult

export const kIdentityResult = Symbol('fastify-tls-certificate-auth.identity')

declare module 'fastify' {
  interface FastifyRequest {
    [kIdentityResult]: IdentityResult | null
  }
}

/** Source → identity, worked out once per request and only when somebody asks. */
export function identityReader (source: CertificateSource): ReadIdentity {
  return function readIdentity (request) {
    let result = request[kIdentityResult]
    if (result === null) {
      const found = source(request)
      result = found.status === 'present' ? buildIdentity(found.raw) : found
      if (result.status === 'refused') request.log.warn({ reason: result.reason }, 'client certificate gives no identity')
      request[kIdentityResult] = result
    }
    return result
  }
}
