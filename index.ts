import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import * as dn from './plugin/parse/dn'
import * as errors from './plugin/errors'
import type * as identity from './plugin/identity'
import { loginHook } from './plugin/login'
import * as options from './plugin/options'
import { identityReader, kIdentityResult, kRevocationChecked } from './plugin/identity-reader'
import { createResolver } from './plugin/resolver'
import { certificateGuard, type AnyServerRequest } from './plugin/guard'
import { documentGuardedRoutes } from './plugin/openapi'
import type * as presets from './plugin/sources/presets'
import type * as certificate from './plugin/parse/certificate'
import type * as custom from './plugin/sources/custom'
import { customSource } from './plugin/sources/custom'
import { headerNames, headerSource, SLASH_FORM_WARNING } from './plugin/sources/headers'
import { tlsSource } from './plugin/sources/tls'
import type * as trust from './plugin/trust'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The identity of the trusted client certificate, or null. Worked out on first read; every
     * `accept` check applies (`isRevoked` is settled in an onRequest hook when it is set).
     */
    readonly certUser: identity.CertIdentity | null
  }
  interface FastifyInstance {
    /**
     * onRequest hook: 401 without a trusted certificate, 403 when `accept` refuses it. Typed for
     * every server Fastify runs (HTTP/1, HTTPS, HTTP/2).
     */
    requireCertificate: (request: AnyServerRequest) => Promise<void>
  }
}

/**
 * The names the session object uses itself (its own and inherited properties): storing the user
 * under one of them would overwrite what the session plugin calls. Read from a session that
 * @fastify/session builds for a cookie that does not verify, synchronously and without I/O.
 */
function sessionPropertyNames (fastify: FastifyInstance): Set<string> {
  const plugins = fastify as {
    decryptSession?: (id: string, request: object, done: () => void) => void // @fastify/session
    createSecureSession?: (data: object) => object // @fastify/secure-session
  }
  const probe: { session?: object } = {}
  if (typeof plugins.decryptSession === 'function') plugins.decryptSession('', probe, () => {})
  else if (typeof plugins.createSecureSession === 'function') probe.session = plugins.createSecureSession({})
  const session = probe.session ?? {}
  const names = new Set<string>()
  for (let object: object | null = session; object !== null; object = Object.getPrototypeOf(object)) {
    for (const name of Object.getOwnPropertyNames(object)) names.add(name)
  }
  // The fields a fresh session already stores (@fastify/secure-session's `__ts`), kept under a symbol.
  for (const symbol of Object.getOwnPropertySymbols(session)) {
    const stored: unknown = (session as Record<symbol, unknown>)[symbol]
    if (typeof stored === 'object' && stored !== null && Object.getPrototypeOf(stored) === Object.prototype) {
      for (const name of Object.keys(stored)) names.add(name)
    }
  }
  return names
}

/** Startup logs: which headers are trusted, and a warning where a text DN cannot be cross-checked. */
function logHeaderSource (fastify: FastifyInstance, config: options.Config): void {
  const { headers } = config
  fastify.log.info({ headers: headerNames(headers) },
    'fastify-tls-certificate-auth: client certificate headers read from trusted proxies; the proxy must overwrite each one')
  // `auto` reads the slash form only when it arrives: the header source says so then.
  if (headers.dn !== null && headers.dnFormat === 'legacy' && headers.cert === null) {
    fastify.log.warn({ header: headers.dn, dnFormat: headers.dnFormat }, SLASH_FORM_WARNING)
  }
}

async function tlsCertAuth (fastify: FastifyInstance, pluginOptions: options.TlsCertAuthOptions): Promise<void> {
  if (fastify.hasRequestDecorator('certUser')) throw new errors.FST_TLS_CERT_AUTH_ALREADY_REGISTERED()
  const config = options.readOptions(pluginOptions, process.env.NODE_ENV)
  // The default login keeps the user in a session; `saveUser` or no login needs none.
  if (config.loginUrl !== false && config.saveUser === undefined) {
    if (!fastify.hasRequestDecorator('session')) throw new errors.FST_TLS_CERT_AUTH_NO_SESSION()
    if (sessionPropertyNames(fastify).has(config.sessionKey)) {
      throw new errors.FST_TLS_CERT_AUTH_BAD_OPTION(`sessionKey: ${JSON.stringify(config.sessionKey)} is a name of the session itself`)
    }
  }
  if (config.debug) {
    fastify.log.warn({ fakeHeaders: [...config.fakeHeaders.keys()] },
      'fastify-tls-certificate-auth: debug is on, debugFakeHeaders act as client certificate headers')
  }
  if (config.source === 'headers') logHeaderSource(fastify, config)

  const source = config.source === 'headers'
    ? headerSource(config)
    : config.source === 'tls' ? tlsSource() : customSource(config.source)
  const identities = identityReader(source, config.username, config.policy)
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
  if (loginUrl !== false) fastify.addHook('onRequest', loginHook({ ...config, loginUrl }, identities, createResolver(config)))
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
  export type CommonOptions = options.CommonOptions
  export type LoginOptions = options.LoginOptions
  export type NoLoginOptions = options.NoLoginOptions
  export type AutoCreateOptions = options.AutoCreateOptions
  export type HeaderSourceOptions = options.HeaderSourceOptions
  export type OtherSourceOptions = options.OtherSourceOptions
  export type FindUser = options.FindUser
  export type CreateUser = options.CreateUser
  export type SaveUser = options.SaveUser
  export type AcceptOptions = options.AcceptOptions
  export type PresetName = presets.PresetName
  export type UsernameRule = identity.UsernameRule
  export type SubjectAltName = certificate.SubjectAltName
  export type CustomCertificate = custom.CustomCertificate
  export type CustomSourceFunction = custom.CustomSourceFunction
  export const parseDN: typeof dn.parseDN
  export const FST_TLS_CERT_AUTH_BAD_OPTION: typeof errors.FST_TLS_CERT_AUTH_BAD_OPTION
  export const FST_TLS_CERT_AUTH_NO_SESSION: typeof errors.FST_TLS_CERT_AUTH_NO_SESSION
  export const FST_TLS_CERT_AUTH_ALREADY_REGISTERED: typeof errors.FST_TLS_CERT_AUTH_ALREADY_REGISTERED
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
  export const FST_TLS_CERT_AUTH_REVOCATION_UNKNOWN: typeof errors.FST_TLS_CERT_AUTH_REVOCATION_UNKNOWN
  export const FST_TLS_CERT_AUTH_USER_TIMEOUT: typeof errors.FST_TLS_CERT_AUTH_USER_TIMEOUT
  export const FST_TLS_CERT_AUTH_BAD_USER: typeof errors.FST_TLS_CERT_AUTH_BAD_USER
  export const FST_TLS_CERT_AUTH_SESSION_STORE: typeof errors.FST_TLS_CERT_AUTH_SESSION_STORE
  export { tlsCertAuth, tlsCertAuth as default }
}
export = tlsCertAuth

// At run time the plugin function carries the named exports, so `require()` and both ESM forms agree.
Object.assign(tlsCertAuth, { default: tlsCertAuth, tlsCertAuth, parseDN: dn.parseDN, ...errors })
/* c8 ignore start */
// Never runs: it names, for Node's ESM loader (cjs-module-lexer), the exports of this CommonJS file.
0 && (exports.tlsCertAuth = exports.parseDN = exports.FST_TLS_CERT_AUTH_BAD_OPTION =
  exports.FST_TLS_CERT_AUTH_NO_SESSION = exports.FST_TLS_CERT_AUTH_ALREADY_REGISTERED =
  exports.FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION =
  exports.FST_TLS_CERT_AUTH_BAD_DN = exports.FST_TLS_CERT_AUTH_NO_IDENTITY =
  exports.FST_TLS_CERT_AUTH_USER_NOT_FOUND = exports.FST_TLS_CERT_AUTH_NO_CERTIFICATE =
  exports.FST_TLS_CERT_AUTH_ISSUER_NOT_ACCEPTED = exports.FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED =
  exports.FST_TLS_CERT_AUTH_FINGERPRINT_NOT_ACCEPTED = exports.FST_TLS_CERT_AUTH_EKU_NOT_ACCEPTED =
  exports.FST_TLS_CERT_AUTH_NOT_VALID_NOW = exports.FST_TLS_CERT_AUTH_REVOKED =
  exports.FST_TLS_CERT_AUTH_REVOCATION_UNKNOWN = exports.FST_TLS_CERT_AUTH_USER_TIMEOUT =
  exports.FST_TLS_CERT_AUTH_BAD_USER = exports.FST_TLS_CERT_AUTH_SESSION_STORE = undefined)
/* c8 ignore stop */
