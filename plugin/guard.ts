import type { FastifyRequest, RawRequestDefaultExpression, RawServerBase, RouteGenericInterface } from 'fastify'
import { FST_TLS_CERT_AUTH_NO_CERTIFICATE } from './errors'
import type { IdentityReader } from './identity-reader'
import type { Identified } from './identity'
import type { Result } from './result'

/** A request of any server Fastify runs: HTTP/1, HTTPS or HTTP/2. */
export type AnyServerRequest = FastifyRequest<RouteGenericInterface, RawServerBase, RawRequestDefaultExpression<RawServerBase>>

/** Fastify's `done` of a hook, and @fastify/auth's. */
export type Done = (error?: Error) => void

function answer (result: Result<Identified>, done: Done): void {
  if (result.status === 'absent') done(new FST_TLS_CERT_AUTH_NO_CERTIFICATE())
  // The reason was logged when the identity was read.
  else if (result.status === 'refused') done(new result.ErrorType())
  else done()
}

/**
 * `app.requireCertificate`: an onRequest hook for API routes, like @fastify/basic-auth's
 * `app.basicAuth`. No session involved: 401 without a trusted certificate, 403 when the policy
 * refuses it (503 when the revocation check fails), the route otherwise. A callback hook: with no
 * revocation check to wait for, it answers without a promise.
 */
export function certificateGuard (identities: IdentityReader) {
  return function requireCertificate (request: AnyServerRequest, _reply: unknown, done: Done): void {
    // Sound: the plugin reads only what every server's request has (headers, rawHeaders, socket, log).
    const fastifyRequest = request as FastifyRequest
    // Without a revocation check, accepted() would give the same answer, a promise later.
    if (!identities.revocable) {
      answer(identities.read(fastifyRequest), done)
      return
    }
    identities.accepted(fastifyRequest).then((result) => { answer(result, done) }, done)
  }
}
