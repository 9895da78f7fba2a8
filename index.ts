import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import * as dn from './plugin/dn'
import * as errors from './plugin/errors'
import type * as identity from './plugin/identity'
import { loginHook } from './plugin/login'
import * as options from './plugin/options'
import { identityReader, kIdentityResult } from './plugin/request-identity'
import { createResolver } from './plugin/resolver'
import { headerSource } from './plugin/sources/headers'
import type * as trust from './plugin/trust'

declare module 'fastify' {
  interface FastifyRequest {
    /** The identity of the trusted client certificate, or null. Worked out on first read. */
    readonly certUser: identity.CertIdentity | null
  }
}

async function tlsCertAuth (fastify: FastifyInstance, pluginOptions: options.TlsCertAuthOptions): Promise<void> {
  const config = options.readOptions(pluginOptions, process.env.NODE_ENV)
  if (!fastify.hasRequestDecorator('session')) throw new errors.FST_TLS_CERT_AUTH_NO_SESSION()
  if (config.debug) {
    fastify.log.warn({ fakeHeaders: [...config.fakeHeaders.keys()] },
      'fastify-tls-certificate-auth: debug is on, debugFakeHeaders act as client certificate headers')
  }

  const readIdentity = identityReader(headerSource(config))
  fastify.decorateRequest(kIdentityResult, null)
  fastify.decorateRequest('certUser', {
    getter () {
      const result = readIdentity(this)
      return result.status === 'ok' ? result.identity : null
    }
  })
  fastify.addHook('onRequest', loginHook(config, readIdentity, createResolver(config)))
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
  export const parseDN: typeof dn.parseDN
  export const FST_TLS_CERT_AUTH_BAD_OPTION: typeof errors.FST_TLS_CERT_AUTH_BAD_OPTION
  export const FST_TLS_CERT_AUTH_NO_SESSION: typeof errors.FST_TLS_CERT_AUTH_NO_SESSION
  export const FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION: typeof errors.FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION
  export const FST_TLS_CERT_AUTH_BAD_DN: typeof errors.FST_TLS_CERT_AUTH_BAD_DN
  export const FST_TLS_CERT_AUTH_NO_IDENTITY: typeof errors.FST_TLS_CERT_AUTH_NO_IDENTITY
  export const FST_TLS_CERT_AUTH_USER_NOT_FOUND: typeof errors.FST_TLS_CERT_AUTH_USER_NOT_FOUND
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
  exports.FST_TLS_CERT_AUTH_USER_NOT_FOUND = undefined)
/* c8 ignore stop */
