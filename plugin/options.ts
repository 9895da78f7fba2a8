import type { FastifyRequest } from 'fastify'
import type { DnFormat } from './dn'
import { FST_TLS_CERT_AUTH_BAD_OPTION, FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION } from './errors'
import type { CertIdentity } from './identity'
import type { HeaderNames } from './sources/headers'
import { compileTrust, type TrustCheck, type TrustedProxies } from './trust'

export interface TlsCertAuthOptions {
  /** The path on which a certificate logs the user in. Default `/accounts/login/`. */
  loginUrl?: string
  /** Where a successful login redirects when no safe `next` is given. Default `/`. */
  loginRedirectUrl?: string
  /** Create users that `findUser` does not know. Default false. */
  autoCreate?: boolean
  /** Look up the application user; null when there is none. */
  findUser?: (identity: CertIdentity, request: FastifyRequest) => unknown
  /** Create the application user (with `autoCreate`); null refuses the login. */
  createUser?: (identity: CertIdentity, request: FastifyRequest) => unknown
  /** The session key the user is stored under. Default `user`. */
  sessionKey?: string
  /** The proxy's header names and success value. */
  headers?: Partial<Omit<HeaderNames, 'dnFormat'>> & { dnFormat?: DnFormat }
  /** Peers allowed to send certificate headers. Default `loopback, linklocal, uniquelocal`. */
  trustedProxies?: TrustedProxies
  /** Turns on `debugFakeHeaders`. Refused when NODE_ENV is production. */
  debug?: boolean
  /** Headers treated as if the client had sent them (debug only): `HTTP_X_CLIENT_CERT_DN` or `x-client-cert-dn`. */
  debugFakeHeaders?: Record<string, string>
}

export interface Config {
  loginUrl: string
  loginRedirectUrl: string
  autoCreate: boolean
  findUser?: TlsCertAuthOptions['findUser']
  createUser?: TlsCertAuthOptions['createUser']
  sessionKey: string
  headers: HeaderNames
  trusted: TrustCheck
  debug: boolean
  fakeHeaders: Map<string, string>
}

const DEFAULT_HEADERS: HeaderNames = {
  verify: 'x-client-cert-valid',
  verifySuccess: 'SUCCESS',
  dn: 'x-client-cert-dn',
  dnFormat: 'auto'
}

// Options Fastify itself passes to every plugin.
const FASTIFY_OPTIONS = new Set(['prefix', 'logLevel', 'logSerializers'])
const KNOWN_OPTIONS = new Set<string>([
  'loginUrl', 'loginRedirectUrl', 'autoCreate', 'findUser', 'createUser', 'sessionKey',
  'headers', 'trustedProxies', 'debug', 'debugFakeHeaders'
])
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

function readHeaders (headers: TlsCertAuthOptions['headers']): HeaderNames {
  if (headers === undefined) return DEFAULT_HEADERS
  if (typeof headers !== 'object' || headers === null) bad('headers', 'expected an object')
  const result = { ...DEFAULT_HEADERS }
  for (const [key, value] of Object.entries(headers)) {
    if (!(key in DEFAULT_HEADERS)) bad(`headers.${key}`, 'unknown header option')
    if (typeof value !== 'string' || value === '') bad(`headers.${key}`, 'expected a non-empty string')
    if (key === 'verify' || key === 'dn') result[key] = headerName(value, `headers.${key}`)
    else if (key === 'dnFormat') {
      if (value !== 'auto' && value !== 'rfc4514' && value !== 'legacy') bad('headers.dnFormat', 'expected auto, rfc4514 or legacy')
      result.dnFormat = value
    } else result.verifySuccess = value
  }
  return result
}

/** Check and normalise the options once, at registration: a bad option fails here, not at a request. */
export function readOptions (options: TlsCertAuthOptions, nodeEnv: string | undefined): Config {
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key) && !FASTIFY_OPTIONS.has(key)) bad(key, 'unknown option')
  }
  const loginUrl = optional(options.loginUrl, '/accounts/login/', 'loginUrl', 'string')
  if (!loginUrl.startsWith('/') || !URL_PATH.test(loginUrl) || loginUrl.includes('?')) {
    bad('loginUrl', 'expected a path such as /accounts/login/')
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

  let trusted: TrustCheck
  try {
    trusted = compileTrust(options.trustedProxies ?? 'loopback, linklocal, uniquelocal')
  } catch (error) {
    bad('trustedProxies', (error as Error).message)
  }

  const debug = optional(options.debug, false, 'debug', 'boolean')
  if (debug && nodeEnv === 'production') throw new FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION()
  const fakeHeaders = new Map<string, string>()
  const fakes = optional(options.debugFakeHeaders, {}, 'debugFakeHeaders', 'object')
  if (fakes === null) bad('debugFakeHeaders', 'expected an object')
  for (const [name, value] of Object.entries(fakes)) {
    if (typeof value !== 'string') bad(`debugFakeHeaders.${name}`, 'expected a string')
    // Without debug the fake headers are ignored, as Django ignores DEBUG_FAKE_HEADERS.
    if (debug) fakeHeaders.set(fakeHeaderName(name), value)
  }

  return {
    loginUrl,
    loginRedirectUrl,
    autoCreate,
    findUser,
    createUser,
    sessionKey,
    headers: readHeaders(options.headers),
    trusted,
    debug,
    fakeHeaders
  }
}
