import type { FastifyReply, FastifyRequest } from 'fastify'
import type { DnFormat } from './parse/dn'
import { FST_TLS_CERT_AUTH_BAD_OPTION, FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION } from './errors'
import { parseSubject, USERNAME_FIELDS, type CertIdentity, type UsernameRule } from './identity'
import type { Policy } from './policy'
import { PRESETS, type HeaderSet, type PresetName } from './sources/presets'
import type { CustomSourceFunction } from './sources/custom'
import type { CertEncoding } from './parse/encodings'
import { didYouMean } from './suggest'
import { compileTrust, type TrustCheck, type TrustedProxies } from './trust'

/** The `headers` option: any field overrides the preset's. */
export interface HeaderOptions {
  verify?: string | null
  verifySuccess?: string
  /** Headers that must carry exactly these values, added to the preset's; `null` removes one of the preset's. */
  require?: Record<string, string | null>
  dn?: string | null
  dnFormat?: DnFormat
  issuerDn?: string | null
  cert?: string | null
  certEncoding?: CertEncoding | 'xfcc'
  chain?: string | null
  info?: string | null
}

export interface AcceptOptions {
  /** Allowed issuer DNs (any format parseDN reads), compared as parsed RDNs. */
  issuers?: string[]
  /** SHA-256 fingerprints of CAs, one of which must have signed the certificate (chain forwarded, or source tls). */
  caFingerprints?: string[]
  /** SHA-256 fingerprints of the only leaf certificates allowed in. */
  fingerprints?: string[]
  /** Refuse certificates without the clientAuth extended key usage. */
  requireClientAuthEku?: boolean
  /** Refuse certificates outside their validity period, when the dates are known. */
  checkValidity?: boolean
  /** Seconds of clock difference forgiven by checkValidity. Default 0. */
  clockSkew?: number
  /** The application's own revocation list. */
  isRevoked?: (identity: CertIdentity) => boolean | Promise<boolean>
}

export type FindUser = (identity: CertIdentity, request: FastifyRequest) => unknown
export type CreateUser = (identity: CertIdentity, request: FastifyRequest) => unknown
/** Keeps the logged-in user: replaces "regenerate the session, store the user under `sessionKey`". */
export type SaveUser = (request: FastifyRequest, reply: FastifyReply, user: any) => void | Promise<void>

/** The login on `loginUrl`: certificate → user → kept (session or `saveUser`) → redirect. */
export interface LoginOptions {
  /** The path on which a certificate logs the user in. Default `/accounts/login/`; `false`: no login. */
  loginUrl?: string
  /** Where a successful login redirects when no safe `next` is given. Default `/`. */
  loginRedirectUrl?: string
  /** Look up the application user; null when there is none. */
  findUser?: FindUser
  /** The session key the user is stored under. Default `user`. */
  sessionKey?: string
  /** Keep the user your own way (Passport, a JWT cookie…); then no session plugin is needed. */
  saveUser?: SaveUser
  /** Milliseconds a findUser or createUser call may take before the login answers 503. Default 10 000. */
  userTimeout?: number
  /** Milliseconds the session step (or saveUser) may take before the login answers 503. Default 10 000. */
  storeTimeout?: number
}

/** `autoCreate: true` needs `findUser` and `createUser`. */
export type AutoCreateOptions =
  | { /** Create users that `findUser` does not know. Default false. */ autoCreate?: false, /** Create the application user (with `autoCreate`); null refuses the login. */ createUser?: CreateUser }
  | { autoCreate: true, findUser: FindUser, createUser: CreateUser }

/** `loginUrl: false`: no login, no session; `certUser` and `requireCertificate` only. */
export interface NoLoginOptions {
  loginUrl: false
  loginRedirectUrl?: never
  findUser?: never
  createUser?: never
  autoCreate?: never
  sessionKey?: never
  saveUser?: never
  userTimeout?: never
  storeTimeout?: never
}

export interface HeaderSourceOptions {
  /** Where certificates come from: proxy headers (default), Node's own TLS, or a function of yours. */
  source?: 'headers'
  /** The proxy whose headers to read. Default `nginx`. */
  preset?: PresetName
  /** Header names and values, overriding the preset's. */
  headers?: HeaderOptions
  /** Which element of a multi-hop XFCC header to read. Default `last`, the one the nearest proxy added. */
  xfccElement?: 'first' | 'last'
  /** Headers treated as if the client had sent them (debug only): `HTTP_X_CLIENT_CERT_DN` or `x-client-cert-dn`. */
  debugFakeHeaders?: Record<string, string>
}

/** Node's own mutual TLS, or a function of the application's: no proxy headers to name. */
export interface OtherSourceOptions {
  source: 'tls' | CustomSourceFunction
  preset?: never
  headers?: never
  xfccElement?: never
  debugFakeHeaders?: never
}

export interface CommonOptions {
  /** How a certificate names the user. Default `cn`. */
  username?: UsernameRule
  /** Which certificates the application accepts. */
  accept?: AcceptOptions
  /** Peers allowed to send certificate headers. Default `loopback`. */
  trustedProxies?: TrustedProxies
  /** Turns on `debugFakeHeaders`. Refused unless NODE_ENV is development or test. */
  debug?: boolean
}

/** The plugin's options; mixes that cannot work (a preset with `source: 'tls'`…) do not type-check. */
export type TlsCertAuthOptions = CommonOptions & (HeaderSourceOptions | OtherSourceOptions) &
  ((LoginOptions & AutoCreateOptions) | NoLoginOptions)

/** Every option any variant names, for reading the options before they are known to be well-formed. */
type AnyOptions = CommonOptions & Omit<HeaderSourceOptions, 'source'> & Omit<LoginOptions, 'loginUrl'> & {
  source?: 'headers' | 'tls' | CustomSourceFunction
  loginUrl?: string | false
  autoCreate?: boolean
  createUser?: CreateUser
}

export interface Config {
  /** false: no login hook at all. */
  loginUrl: string | false
  loginRedirectUrl: string
  autoCreate: boolean
  findUser?: FindUser
  createUser?: CreateUser
  sessionKey: string
  saveUser?: SaveUser
  userTimeout: number
  storeTimeout: number
  source: 'headers' | 'tls' | CustomSourceFunction
  headers: HeaderSet
  xfccElement: 'first' | 'last'
  username: UsernameRule
  policy: Policy
  trusted: TrustCheck
  debug: boolean
  fakeHeaders: Map<string, string>
}

// Options Fastify itself passes to every plugin.
const FASTIFY_OPTIONS = new Set(['prefix', 'logLevel', 'logSerializers'])
// Options that act only on the login.
const LOGIN_OPTIONS = ['loginRedirectUrl', 'autoCreate', 'findUser', 'createUser', 'sessionKey', 'saveUser', 'userTimeout', 'storeTimeout'] as const
const KNOWN_OPTIONS = new Set<string>([
  'loginUrl', ...LOGIN_OPTIONS,
  'source', 'preset', 'headers', 'xfccElement', 'username', 'accept', 'trustedProxies', 'debug', 'debugFakeHeaders'
])
const ENCODINGS = new Set(['pem', 'base64-der', 'rfc9440', 'xfcc'])
const DN_FORMATS = new Set(['auto', 'rfc4514', 'legacy'])
const HEX_FINGERPRINT = /^[0-9A-F]{2}(?::?[0-9A-F]{2}){31}$/i
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// Printable ASCII without spaces: anything else in a Location header is an injection.
const URL_PATH = /^[\x21-\x7e]+$/

function bad (name: string, why: string): never {
  throw new FST_TLS_CERT_AUTH_BAD_OPTION(`${name}: ${why}`)
}

function optional<T> (value: T | undefined, fallback: T, name: string, type: string): T {
  if (value === undefined) return fallback
  // eslint-disable-next-line valid-typeof
  if (typeof value !== type) bad(name, `expected a ${type}`)
  return value
}

function headerName (value: string, name: string): string {
  if (!HEADER_NAME.test(value)) bad(name, `${JSON.stringify(value)} is not a header name`)
  return value.toLowerCase()
}

/** `HTTP_X_CLIENT_CERT_DN` (Django's spelling) or `X-Client-Cert-Dn`, as a Node header name. */
function fakeHeaderName (name: string): string {
  const plain = name.startsWith('HTTP_') ? name.slice(5).replaceAll('_', '-') : name
  return headerName(plain, `debugFakeHeaders.${name}`)
}

function readHeaders (preset: PresetName | undefined, headers: HeaderOptions | undefined): HeaderSet {
  if (preset !== undefined && !Object.hasOwn(PRESETS, preset)) {
    bad('preset', `${JSON.stringify(preset)} is not one of ${Object.keys(PRESETS).join(', ')}`)
  }
  const result: HeaderSet = { ...PRESETS[preset ?? 'nginx'] }
  if (headers === undefined) return result
  if (typeof headers !== 'object' || headers === null) bad('headers', 'expected an object')
  for (const [key, value] of Object.entries(headers) as Array<[keyof HeaderSet, unknown]>) {
    const name = `headers.${key}`
    if (!Object.hasOwn(result, key)) bad(name, 'unknown header option' + didYouMean(key, Object.keys(result)))
    if (key === 'require') {
      if (typeof value !== 'object' || value === null) bad(name, 'expected an object of header: value')
      // Added to the preset's own: dropping one (Cloudflare's revocation flag) takes an explicit null.
      result.require = { ...result.require }
      for (const [header, expected] of Object.entries(value)) {
        if (expected !== null && typeof expected !== 'string') bad(`${name}.${header}`, 'expected a string, or null')
        if (expected === null) delete result.require[headerName(header, name)]
        else result.require[headerName(header, name)] = expected
      }
    } else if (key === 'verifySuccess') {
      if (typeof value !== 'string' || value === '') bad(name, 'expected a non-empty string')
      result.verifySuccess = value
    } else if (key === 'dnFormat' || key === 'certEncoding') {
      if (!(key === 'dnFormat' ? DN_FORMATS : ENCODINGS).has(value as string)) {
        bad(name, `expected one of ${[...(key === 'dnFormat' ? DN_FORMATS : ENCODINGS)].join(', ')}`)
      }
      result[key] = value as never
    } else if (value === null) {
      result[key] = null
    } else {
      if (typeof value !== 'string' || value === '') bad(name, 'expected a header name, or null')
      result[key] = headerName(value, name)
    }
  }
  if (result.chain !== null && result.certEncoding === 'xfcc') bad('headers.chain', 'XFCC carries its own Chain')
  if (result.dn === null && result.cert === null && result.info === null) bad('headers', 'name at least one of dn, cert or info')
  return result
}

function fingerprints (values: unknown, name: string): Set<string> | null {
  if (values === undefined) return null
  if (!Array.isArray(values) || values.length === 0) bad(name, 'expected a non-empty array of SHA-256 fingerprints')
  return new Set(values.map((value) => {
    if (typeof value !== 'string' || !HEX_FINGERPRINT.test(value)) bad(name, `${JSON.stringify(value)} is not a SHA-256 fingerprint`)
    return value.replaceAll(':', '').toUpperCase().replace(/(..)(?!$)/g, '$1:')
  }))
}

function readPolicy (accept: AcceptOptions | undefined): Policy {
  const options = optional(accept, {}, 'accept', 'object')
  if (options === null) bad('accept', 'expected an object')
  const known = ['issuers', 'caFingerprints', 'fingerprints', 'requireClientAuthEku', 'checkValidity', 'clockSkew', 'isRevoked']
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) bad(`accept.${key}`, 'unknown option' + didYouMean(key, known))
  }
  let issuers: Policy['issuers'] = null
  if (options.issuers !== undefined) {
    if (!Array.isArray(options.issuers) || options.issuers.length === 0) bad('accept.issuers', 'expected a non-empty array of DNs')
    issuers = options.issuers.map((issuer) => {
      try {
        return parseSubject(issuer, 'auto')
      } catch (error) {
        return bad('accept.issuers', (error as Error).message)
      }
    })
  }
  const clockSkew = optional(options.clockSkew, 0, 'accept.clockSkew', 'number')
  if (!(clockSkew >= 0 && clockSkew <= 86400)) bad('accept.clockSkew', 'expected seconds from 0 to 86400')
  return {
    issuers,
    caFingerprints: fingerprints(options.caFingerprints, 'accept.caFingerprints'),
    fingerprints: fingerprints(options.fingerprints, 'accept.fingerprints'),
    requireClientAuthEku: optional(options.requireClientAuthEku, false, 'accept.requireClientAuthEku', 'boolean'),
    checkValidity: optional(options.checkValidity, false, 'accept.checkValidity', 'boolean'),
    clockSkew,
    isRevoked: optional(options.isRevoked, undefined, 'accept.isRevoked', 'function') ?? null
  }
}

/** A bound on a call that may wait on I/O: from 1 ms to 10 minutes, 10 s by default. */
function milliseconds (value: number | undefined, name: string): number {
  const ms = optional(value, 10_000, name, 'number')
  if (!Number.isInteger(ms) || ms < 1 || ms > 600_000) bad(name, 'expected whole milliseconds from 1 to 600000')
  return ms
}

/**
 * Which peers may send certificate headers: loopback unless named (a LAN host, a container or a
 * pod is no proxy of ours until the application says so). An empty list, which no certificate could
 * ever pass, is refused; an entry proxy-addr cannot read gets a hint.
 */
function readTrust (value: TrustedProxies | undefined): TrustCheck {
  if (value === undefined || typeof value === 'function') return compileTrust(value ?? 'loopback')
  if (typeof value !== 'string' && !Array.isArray(value)) bad('trustedProxies', 'expected addresses and ranges, a list of them, or a function')
  if (value.length === 0) bad('trustedProxies', 'an empty list trusts no peer, so no certificate could ever arrive; leave it out to trust loopback')
  try {
    return compileTrust(value)
  } catch (error) {
    return bad('trustedProxies', (error as Error).message + trustHint(value))
  }
}

/** What the user probably meant by a trustedProxies entry that proxy-addr cannot read. */
function trustHint (value: string | string[]): string {
  for (const entry of (typeof value === 'string' ? value.split(',') : value).map((part) => String(part).trim())) {
    if (entry.toLowerCase() === 'localhost') return ' (did you mean "loopback"?)'
    const host = URL.canParse(entry) ? new URL(entry).hostname.replace(/^\[|\]$/g, '') : ''
    if (host !== '') return ` (did you mean ${JSON.stringify(host)}? trustedProxies takes addresses and ranges, not URLs)`
  }
  return ''
}

// Keys that reach an object's prototype instead of the object: never an option.
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/** Refuse prototype keys anywhere in the options (a JSON config can carry `"__proto__"`). */
function refusePrototypeKeys (value: unknown, path: string): void {
  if (typeof value !== 'object' || value === null) return
  for (const key of Object.keys(value)) {
    const name = path === '' ? key : `${path}.${key}`
    if (PROTOTYPE_KEYS.has(key)) bad(name, `${JSON.stringify(key)} is never an option key`)
    refusePrototypeKeys((value as Record<string, unknown>)[key], name)
  }
}

// `debug` turns client-supplied headers into identities: only where it is meant to.
const DEBUG_ENVIRONMENTS = new Set(['development', 'test'])

/** Check and normalise the options once, at registration: a bad option fails here, not at a request. */
export function readOptions (pluginOptions: TlsCertAuthOptions, nodeEnv: string | undefined): Config {
  const options: AnyOptions = pluginOptions
  refusePrototypeKeys(options, '')
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key) && !FASTIFY_OPTIONS.has(key)) bad(key, 'unknown option' + didYouMean(key, KNOWN_OPTIONS))
  }
  const loginUrl = options.loginUrl === false ? false : optional(options.loginUrl, '/accounts/login/', 'loginUrl', 'string')
  if (loginUrl === false) {
    for (const key of LOGIN_OPTIONS) {
      if (options[key] !== undefined) bad(key, 'acts on the login only, and loginUrl is false')
    }
  } else if (!loginUrl.startsWith('/') || !URL_PATH.test(loginUrl) || loginUrl.includes('?')) {
    bad('loginUrl', 'expected a path such as /accounts/login/, or false for no login')
  }
  const loginRedirectUrl = optional(options.loginRedirectUrl, '/', 'loginRedirectUrl', 'string')
  if (!URL_PATH.test(loginRedirectUrl)) bad('loginRedirectUrl', 'expected a URL without spaces or control characters')
  const autoCreate = optional(options.autoCreate, false, 'autoCreate', 'boolean')
  const findUser = optional(options.findUser, undefined, 'findUser', 'function')
  const createUser = optional(options.createUser, undefined, 'createUser', 'function')
  if (autoCreate && (findUser === undefined || createUser === undefined)) {
    bad('autoCreate', 'needs both findUser and createUser')
  }
  const sessionKey = optional(options.sessionKey, 'user', 'sessionKey', 'string')
  if (sessionKey === '') bad('sessionKey', 'expected a non-empty string')
  const saveUser = optional(options.saveUser, undefined, 'saveUser', 'function')
  if (saveUser !== undefined && options.sessionKey !== undefined) bad('sessionKey', 'saveUser keeps the user, so sessionKey is never used')
  const userTimeout = milliseconds(options.userTimeout, 'userTimeout')
  const storeTimeout = milliseconds(options.storeTimeout, 'storeTimeout')

  const trusted = readTrust(options.trustedProxies)

  const debug = optional(options.debug, false, 'debug', 'boolean')
  if (debug && !DEBUG_ENVIRONMENTS.has(nodeEnv as string)) {
    throw new FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION(nodeEnv === undefined ? 'unset' : JSON.stringify(nodeEnv))
  }
  const fakeHeaders = new Map<string, string>()
  const fakes = optional(options.debugFakeHeaders, {}, 'debugFakeHeaders', 'object')
  if (fakes === null) bad('debugFakeHeaders', 'expected an object')
  for (const [name, value] of Object.entries(fakes)) {
    if (typeof value !== 'string') bad(`debugFakeHeaders.${name}`, 'expected a string')
    // Without debug the fake headers are ignored, as Django ignores DEBUG_FAKE_HEADERS.
    if (debug) fakeHeaders.set(fakeHeaderName(name), value)
  }

  const source = options.source ?? 'headers'
  if (source !== 'headers' && source !== 'tls' && typeof source !== 'function') {
    bad('source', "expected 'headers', 'tls' or a function")
  }
  if (source !== 'headers') {
    for (const key of ['preset', 'headers', 'xfccElement', 'debugFakeHeaders'] as const) {
      if (options[key] !== undefined) bad(key, 'applies to source: headers only')
    }
  }
  const xfccElement = optional(options.xfccElement, 'last', 'xfccElement', 'string')
  if (xfccElement !== 'first' && xfccElement !== 'last') bad('xfccElement', "expected 'first' or 'last'")
  const username = options.username ?? 'cn'
  if (typeof username !== 'function' && !(USERNAME_FIELDS as readonly string[]).includes(username)) {
    bad('username', `expected a function or one of ${USERNAME_FIELDS.join(', ')}`)
  }
  const policy = readPolicy(options.accept)
  // A serial number is unique per issuing CA only: two CAs that both number from 01 would share accounts.
  if (username === 'serialNumber' && policy.issuers?.length !== 1 && policy.caFingerprints?.size !== 1) {
    bad('username', "'serialNumber' is unique per issuing CA only: pin exactly one with accept.issuers or " +
      "accept.caFingerprints, or use 'issuerSerial'")
  }

  return {
    loginUrl,
    loginRedirectUrl,
    autoCreate,
    findUser,
    createUser,
    sessionKey,
    saveUser,
    userTimeout,
    storeTimeout,
    source,
    headers: readHeaders(options.preset, options.headers),
    xfccElement,
    username,
    policy,
    trusted,
    debug,
    fakeHeaders
  }
}
