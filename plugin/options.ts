import type { FastifyReply, FastifyRequest } from 'fastify'
import { FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION } from './errors'
import { USERNAME_FIELDS, type CertIdentity, type UsernameRule } from './identity'
import { invalid, oneOf, optional } from './option-values'
import { XFCC_ELEMENTS, type XfccElementChoice } from './parse/xfcc'
import { readPolicy, type AcceptOptions, type Policy } from './policy'
import type { CustomSourceFunction } from './sources/custom'
import { readFakeHeaders, readHeaderOptions, type HeaderOptions } from './sources/header-options'
import type { HeaderSet, PresetName } from './sources/presets'
import { didYouMean } from './suggest'
import { readTrust, type TrustCheck, type TrustedProxies } from './trust'

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
  xfccElement?: XfccElementChoice
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

/**
 * Every option once, with what it acts on: the login only, the header source only, or anything.
 * Its type makes the list exactly the options' keys.
 */
const OPTION_SCOPES = {
  loginUrl: 'any',
  loginRedirectUrl: 'login',
  autoCreate: 'login',
  findUser: 'login',
  createUser: 'login',
  sessionKey: 'login',
  saveUser: 'login',
  userTimeout: 'login',
  storeTimeout: 'login',
  source: 'any',
  preset: 'headers',
  headers: 'headers',
  xfccElement: 'headers',
  debugFakeHeaders: 'headers',
  username: 'any',
  accept: 'any',
  trustedProxies: 'any',
  debug: 'any'
} as const satisfies Record<keyof AnyOptions, 'any' | 'login' | 'headers'>
type OptionKey = keyof typeof OPTION_SCOPES
const OPTION_KEYS = Object.keys(OPTION_SCOPES) as OptionKey[]
const scoped = (scope: 'login' | 'headers'): OptionKey[] => OPTION_KEYS.filter((key) => OPTION_SCOPES[key] === scope)
const LOGIN_ONLY = scoped('login')
const HEADERS_ONLY = scoped('headers')
// Options Fastify itself passes to every plugin.
const FASTIFY_OPTIONS = ['prefix', 'logLevel', 'logSerializers']

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
  xfccElement: XfccElementChoice
  username: UsernameRule
  policy: Policy
  trusted: TrustCheck
  debug: boolean
  fakeHeaders: Map<string, string>
}

// Printable ASCII without spaces: anything else in a Location header is an injection.
const URL_PATH = /^[\x21-\x7e]+$/
// Keys that reach an object's prototype instead of the object: never an option.
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype'])
// `debug` turns client-supplied headers into identities: only where it is meant to.
const DEBUG_ENVIRONMENTS = new Set(['development', 'test'])

/** Refuse prototype keys anywhere in the options (a JSON config can carry `"__proto__"`). */
function refusePrototypeKeys (value: unknown, path: string): void {
  if (typeof value !== 'object' || value === null) return
  for (const key of Object.keys(value)) {
    const name = path === '' ? key : `${path}.${key}`
    if (PROTOTYPE_KEYS.has(key)) invalid(name, `${JSON.stringify(key)} is never an option key`)
    refusePrototypeKeys((value as Record<string, unknown>)[key], name)
  }
}

/** A bound on a call that may wait on I/O: from 1 ms to 10 minutes, 10 s by default. */
function milliseconds (value: number | undefined, name: string): number {
  const ms = optional(value, 10_000, name, 'number')
  if (!Number.isInteger(ms) || ms < 1 || ms > 600_000) invalid(name, 'expected whole milliseconds from 1 to 600000')
  return ms
}

/** The options of the login, checked; with `loginUrl: false` none of them may be given. */
function readLogin (options: AnyOptions) {
  const loginUrl: string | false = options.loginUrl === false ? false : optional(options.loginUrl, '/accounts/login/', 'loginUrl', 'string')
  if (loginUrl === false) {
    for (const key of LOGIN_ONLY) {
      if (options[key] !== undefined) invalid(key, 'acts on the login only, and loginUrl is false')
    }
  } else if (!loginUrl.startsWith('/') || !URL_PATH.test(loginUrl) || loginUrl.includes('?')) {
    invalid('loginUrl', 'expected a path such as /accounts/login/, or false for no login')
  }
  const loginRedirectUrl = optional(options.loginRedirectUrl, '/', 'loginRedirectUrl', 'string')
  if (!URL_PATH.test(loginRedirectUrl)) invalid('loginRedirectUrl', 'expected a URL without spaces or control characters')
  const autoCreate = optional(options.autoCreate, false, 'autoCreate', 'boolean')
  const findUser = optional(options.findUser, undefined, 'findUser', 'function')
  const createUser = optional(options.createUser, undefined, 'createUser', 'function')
  if (autoCreate && (findUser === undefined || createUser === undefined)) invalid('autoCreate', 'needs both findUser and createUser')
  const sessionKey = optional(options.sessionKey, 'user', 'sessionKey', 'string')
  if (sessionKey === '') invalid('sessionKey', 'expected a non-empty string')
  const saveUser = optional(options.saveUser, undefined, 'saveUser', 'function')
  if (saveUser !== undefined && options.sessionKey !== undefined) invalid('sessionKey', 'saveUser keeps the user, so sessionKey is never used')
  return {
    loginUrl,
    loginRedirectUrl,
    autoCreate,
    findUser,
    createUser,
    sessionKey,
    saveUser,
    userTimeout: milliseconds(options.userTimeout, 'userTimeout'),
    storeTimeout: milliseconds(options.storeTimeout, 'storeTimeout')
  }
}

/** Check and normalise the options once, at registration: a bad option fails here, not at a request. */
export function readOptions (pluginOptions: TlsCertAuthOptions, nodeEnv: string | undefined): Config {
  const options: AnyOptions = pluginOptions
  refusePrototypeKeys(options, '')
  for (const key of Object.keys(options)) {
    if (!(OPTION_KEYS as string[]).includes(key) && !FASTIFY_OPTIONS.includes(key)) invalid(key, 'unknown option' + didYouMean(key, OPTION_KEYS))
  }

  const source = options.source ?? 'headers'
  if (source !== 'headers' && source !== 'tls' && typeof source !== 'function') invalid('source', "expected 'headers', 'tls' or a function")
  if (source !== 'headers') {
    for (const key of HEADERS_ONLY) {
      if (options[key] !== undefined) invalid(key, 'applies to source: headers only')
    }
  }
  const debug = optional(options.debug, false, 'debug', 'boolean')
  if (debug && !DEBUG_ENVIRONMENTS.has(nodeEnv as string)) {
    throw new FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION(nodeEnv === undefined ? 'unset' : JSON.stringify(nodeEnv))
  }
  const fakes = optional(options.debugFakeHeaders, {}, 'debugFakeHeaders', 'object')
  if (fakes === null) invalid('debugFakeHeaders', 'expected an object')

  const username = options.username ?? 'cn'
  if (typeof username !== 'function' && !(USERNAME_FIELDS as readonly string[]).includes(username)) {
    invalid('username', `expected a function or one of ${USERNAME_FIELDS.join(', ')}`)
  }
  const policy = readPolicy(options.accept)
  // A serial number is unique per issuing CA only: two CAs that both number from 01 would share accounts.
  if (username === 'serialNumber' && policy.settings.issuers?.length !== 1 && policy.settings.caFingerprints?.size !== 1) {
    invalid('username', "'serialNumber' is unique per issuing CA only: pin exactly one with accept.issuers or " +
      "accept.caFingerprints, or use 'issuerSerial'")
  }

  return {
    ...readLogin(options),
    source,
    headers: readHeaderOptions(options.preset, options.headers),
    xfccElement: options.xfccElement === undefined ? 'last' : oneOf(options.xfccElement, XFCC_ELEMENTS, 'xfccElement'),
    username,
    policy,
    trusted: readTrust(options.trustedProxies),
    debug,
    fakeHeaders: readFakeHeaders(fakes, debug)
  }
}
