import type { FastifyRequest } from 'fastify'
import { FST_TLS_CERT_AUTH_NO_CERTIFICATE } from './errors'
import type { IdentityReader } from './request-identity'

/**
 * `app.requireCertificate`: an onRequest hook for API routes, like @fastify/basic-auth's
 * `app.basicAuth`. No session involved: 401 without a trusted certificate, 403 when the policy
 * refuses it (503 when the revocation check fails), the route otherwise.
 */
export function certificateGuard (identities: IdentityReader) {
  return async function requireCertificate (request: FastifyRequest): Promise<void> {
    const result = await identities.accepted(request)
    if (result.status === 'absent') throw new FST_TLS_CERT_AUTH_NO_CERTIFICATE()
    // The reason was logged when the identity was read.
    if (result.status === 'refused') throw new result.ErrorType()
  }
}
