import type { FastifyInstance } from 'fastify'
import { FST_TLS_CERT_AUTH_ALREADY_REGISTERED, FST_TLS_CERT_AUTH_BAD_OPTION, FST_TLS_CERT_AUTH_NO_SESSION } from './errors'
import { certificateGuard } from './guard'
import { identityReader, kIdentityResult, kRevocationChecked } from './identity-reader'
import { afterSessionWritten, kDelivery, loginHook, sessionPropertyNames } from './login'
import { documentGuardedRoutes } from './openapi'
import { readOptions, type TlsCertAuthOptions } from './options'
import { createResolver } from './resolver'
import { createSource } from './sources'
import { logTrustedHeaders } from './sources/headers'
import type { AnyServerRequest, Done } from './guard'
import type { CertIdentity } from './identity'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The identity of the trusted client certificate, or null. Worked out on first read; every
     * `accept` check applies (`isRevoked` is settled in an onRequest hook when it is set).
     */
    readonly certUser: CertIdentity | null
  }
  interface FastifyInstance {
    /**
     * onRequest hook: 401 without a trusted certificate, 403 when `accept` refuses it. Typed for
     * every server Fastify runs (HTTP/1, HTTPS, HTTP/2).
     */
    requireCertificate: (request: AnyServerRequest, reply: unknown, done: Done) => void
  }
}

/** The plugin: options read once, the request decorations, the login and the guard. */
export async function register (fastify: FastifyInstance, pluginOptions: TlsCertAuthOptions): Promise<void> {
  if (fastify.hasRequestDecorator('certUser')) throw new FST_TLS_CERT_AUTH_ALREADY_REGISTERED()
  const config = readOptions(pluginOptions, process.env.NODE_ENV)
  // The default login keeps the user in a session; `saveUser` or no login needs none.
  if (config.loginUrl !== false && config.saveUser === undefined) {
    if (!fastify.hasRequestDecorator('session')) throw new FST_TLS_CERT_AUTH_NO_SESSION()
    if (sessionPropertyNames(fastify).has(config.sessionKey)) {
      throw new FST_TLS_CERT_AUTH_BAD_OPTION(`sessionKey: ${JSON.stringify(config.sessionKey)} is a name of the session itself`)
    }
  }
  if (config.debug) {
    fastify.log.warn({ fakeHeaders: [...config.fakeHeaders.keys()] },
      'fastify-tls-certificate-auth: debug is on, debugFakeHeaders act as client certificate headers')
  }
  if (config.source === 'headers') logTrustedHeaders(fastify.log, config.headers)

  const identities = identityReader(createSource(config), config.username, config.policy)
  fastify.decorateRequest(kIdentityResult, null)
  fastify.decorateRequest('certUser', {
    getter () {
      return identities.current(this)
    }
  })
  if (identities.revocable) {
    // Revocation may wait on I/O, so it is settled before any handler can read `certUser`.
    fastify.decorateRequest(kRevocationChecked, false)
    fastify.addHook('onRequest', async (request) => { await identities.accepted(request) })
  }
  const requireCertificate = certificateGuard(identities)
  fastify.decorate('requireCertificate', requireCertificate)
  documentGuardedRoutes(fastify, requireCertificate, identities.revocable)
  const { loginUrl } = config
  if (loginUrl !== false) {
    fastify.decorateRequest(kDelivery, null)
    fastify.addHook('onRequest', loginHook({ ...config, loginUrl }, identities, createResolver(config)))
    // After the session plugin's onSend, which is registered before this plugin.
    fastify.addHook('onSend', afterSessionWritten)
  }
}
