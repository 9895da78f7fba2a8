import type { FastifyRequest, RawRequestDefaultExpression, RawServerBase, RouteGenericInterface } from 'fastify'
import { FST_TLS_CERT_AUTH_NO_CERTIFICATE } from './errors'
import type { IdentityReader } from './identity-reader'

/** A request of any server Fastify runs: HTTP/1, HTTPS or HTTP/2. */
export type AnyServerRequest = FastifyRequest<RouteGenericInterface, RawServerBase, RawRequestDefaultExpression<RawServerBase>>

/**
 * `app.requireCertificate`: an onRequest hook for API routes, like @fastify/basic-auth's
 * `app.basicAuth`. No session involved: 401 without a trusted certificate, 403 when the policy
 * refuses it (503 when the revocation check fails), the route otherwise.
 */
export function certificateGuard (identities: IdentityReader) {
  return async function requireCertificate (request: AnyServerRequest): Promise<void> {
    // Sound: the plugin reads only what every server's request has (headers, rawHeaders, socket, log).
    const result = await identities.accepted(request as FastifyRequest)
    if (result.status === 'absent') throw new FST_TLS_CERT_AUTH_NO_CERTIFICATE()
    // The reason was logged when the identity was read.
    if (result.status === 'refused') throw new result.ErrorType()
  }
}
