import type { FastifyRequest } from 'fastify'
import { FST_TLS_CERT_AUTH_NO_CERTIFICATE } from './errors'
import type { Policy } from './policy'
import { acceptedIdentity, type ReadIdentity } from './request-identity'

/**
 * `app.requireCertificate`: an onRequest hook for API routes, like @fastify/basic-auth's
 * `app.basicAuth`. No session involved: 401 without a trusted certificate, 403 when the policy
 * refuses it, the route otherwise.
 */
export function certificateGuard (readIdentity: ReadIdentity, policy: Policy) {
  return async function requireCertificate (request: FastifyRequest): Promise<void> {
    if (await acceptedIdentity(request, readIdentity, policy) === null) throw new FST_TLS_CERT_AUTH_NO_CERTIFICATE()
  }
}
