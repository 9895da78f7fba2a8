import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import * as dn from './plugin/dn'
import * as errors from './plugin/errors'
import type * as identity from './plugin/identity'
import { loginHook } from './plugin/login'
import * as options from './plugin/options'
import { identityReader, kIdentityResult } from './plugin/request-identity'
import { createResolver } from './plugin/resolver'
import { certificateGuard } from './plugin/guard'
import type * as presets from './plugin/presets'
import type * as certificate from './plugin/certificate'
import type * as custom from './plugin/sources/custom'
import { customSource } from './plugin/sources/custom'
import { headerSource } from './plugin/sources/headers'
import { tlsSource } from './plugin/sources/tls'
import type * as trust from './plugin/trust'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The identity of the trusted client certificate, or null. Worked out on first read; the
     * `accept` checks apply, except `isRevoked`, which needs the login or `requireCertificate`.
     */
    readonly certUser: identity.CertIdentity | null
  }
  interface FastifyInstance {
    /** onRequest hook: 401 without a trusted certificate, 403 when `accept` refuses it. */
    requireCertificate: (request: FastifyRequest) => Promise<void>
  }
}

async function tlsCertAuth (fastify: FastifyInstance, pluginOptions: options.TlsCertAuthOptions): Promise<void> {
  const config = options.readOptions(pluginOptions, process.env.NODE_ENV)
  if (!fastify.hasRequestDecorator('session')) throw new errors.FST_TLS_CERT_AUTH_NO_SESSION()
  if (config.debug) {
    fastify.log.warn({ fakeHeaders: [...config.fakeHeaders.keys()] },
      'fastify-tls-certificate-auth: debug is on, debugFakeHeaders act as client certificate headers')
  }

  const source = config.source === 'headers'
    ? headerSource(config)
    : config.source === 'tls' ? tlsSource() : customSource(config.source)
  const readIdentity = identityReader(source, config.username, config.policy)
  fastify.decorateRequest(kIdentityResult, null)
  fastify.decorateRequest('certUser', {
    getter () {
      const result = readIdentity(this)
      return result.status === 'ok' ? result.identity : null
    }
  })
  fastify.decorate('requireCertificate', certificateGuard(readIdentity, config.policy))
  fastify.addHook('onRequest', loginHook(config, readIdentity, config.policy, createResolver(config)))
}

fp(tlsCertAuth, { fastify: '5.x', name: 'fastify-tls-certificate-auth' })

// `export =` with a merged namespace: `require()`, `import x from`, `import { x } from` and their
// types all see the same plugin.
declare namespace tlsCertAuth {
  export type TlsCertAuthOptions = options.TlsCertAuthOptions
  export type CertIdentity = identity.CertIdentity
  export type DnAttribute = dn.DnAttribute
  export type RelativeDistinguishedName = dn.RelativeDistinguishedName
  export type DistinguishedName = dn.DistinguishedName
  export type DnFormat = dn.DnFormat
  export type TrustedProxies = trust.TrustedProxies
  export type HeaderOptions = options.HeaderOptions
  export type AcceptOptions = options.AcceptOptions
  export type PresetName = presets.PresetName
  export type UsernameRule = identity.UsernameRule
  export type SubjectAltName = certificate.SubjectAltName
  export type CustomCertificate = custom.CustomCertificate
  export type CustomSourceFunction = custom.CustomSourceFunction
  export const parseDN: typeof dn.parseDN
  export const FST_TLS_CERT_AUTH_BAD_OPTION: typeof errors.FST_TLS_CERT_AUTH_BAD_OPTION
  export const FST_TLS_CERT_AUTH_NO_SESSION: typeof errors.FST_TLS_CERT_AUTH_NO_SESSION
  export const FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION: typeof errors.FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION
  export const FST_TLS_CERT_AUTH_BAD_DN: typeof errors.FST_TLS_CERT_AUTH_BAD_DN
  export const FST_TLS_CERT_AUTH_NO_IDENTITY: typeof errors.FST_TLS_CERT_AUTH_NO_IDENTITY
  export const FST_TLS_CERT_AUTH_USER_NOT_FOUND: typeof errors.FST_TLS_CERT_AUTH_USER_NOT_FOUND
  export const FST_TLS_CERT_AUTH_NO_CERTIFICATE: typeof errors.FST_TLS_CERT_AUTH_NO_CERTIFICATE
  export const FST_TLS_CERT_AUTH_ISSUER_NOT_ACCEPTED: typeof errors.FST_TLS_CERT_AUTH_ISSUER_NOT_ACCEPTED
  export const FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED: typeof errors.FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED
  export const FST_TLS_CERT_AUTH_FINGERPRINT_NOT_ACCEPTED: typeof errors.FST_TLS_CERT_AUTH_FINGERPRINT_NOT_ACCEPTED
  export const FST_TLS_CERT_AUTH_EKU_NOT_ACCEPTED: typeof errors.FST_TLS_CERT_AUTH_EKU_NOT_ACCEPTED
  export const FST_TLS_CERT_AUTH_NOT_VALID_NOW: typeof errors.FST_TLS_CERT_AUTH_NOT_VALID_NOW
  export const FST_TLS_CERT_AUTH_REVOKED: typeof errors.FST_TLS_CERT_AUTH_REVOKED
  export { tlsCertAuth, tlsCertAuth as default }
}
export = tlsCertAuth

// At run time the plugin function carries the named exports, so `require()` and both ESM forms agree.
Object.assign(tlsCertAuth, { default: tlsCertAuth, tlsCertAuth, parseDN: dn.parseDN, ...errors })
/* c8 ignore start */
// Never runs: it names, for Node's ESM loader (cjs-module-lexer), the exports of this CommonJS file.
0 && (exports.tlsCertAuth = exports.parseDN = exports.FST_TLS_CERT_AUTH_BAD_OPTION =
  exports.FST_TLS_CERT_AUTH_NO_SESSION = exports.FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION =
  exports.FST_TLS_CERT_AUTH_BAD_DN = exports.FST_TLS_CERT_AUTH_NO_IDENTITY =
  exports.FST_TLS_CERT_AUTH_USER_NOT_FOUND = exports.FST_TLS_CERT_AUTH_NO_CERTIFICATE =
  exports.FST_TLS_CERT_AUTH_ISSUER_NOT_ACCEPTED = exports.FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED =
  exports.FST_TLS_CERT_AUTH_FINGERPRINT_NOT_ACCEPTED = exports.FST_TLS_CERT_AUTH_EKU_NOT_ACCEPTED =
  exports.FST_TLS_CERT_AUTH_NOT_VALID_NOW = exports.FST_TLS_CERT_AUTH_REVOKED = undefined)
/* c8 ignore stop */
