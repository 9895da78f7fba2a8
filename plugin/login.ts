import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { CertIdentity } from './identity'
import { callWithin, isThenable } from './deadline'
import { FST_TLS_CERT_AUTH_SESSION_STORE, FST_TLS_CERT_AUTH_USER_NOT_FOUND } from './errors'
import type { SaveUser } from './options'
import { kIdentityResult, type IdentityReader } from './identity-reader'
import type { ResolveUser } from './resolver'

export interface LoginConfig {
  loginUrl: string
  loginRedirectUrl: string
  sessionKey: string
  saveUser?: SaveUser
  storeTimeout: number
}

/**
 * The little of a session this plugin uses, as @fastify/session and @fastify/secure-session both
 * have it: `regenerate` (a promise, or nothing) and `set`. @fastify/session's also has a cookie.
 */
interface AnySession {
  regenerate: () => unknown
  set: (key: string, value: unknown) => void
  /** @fastify/session's: removes the session from its store. */
  destroy?: () => Promise<void>
  cookie?: { secure?: unknown }
}

function sessionOf (request: FastifyRequest): AnySession | null | undefined {
  // Typed by whichever session plugin the application registered, if any: read as the common part.
  return (request as unknown as { session?: AnySession | null }).session
}

/** No session for this request: the session plugin then writes nothing and sets no cookie. */
function dropSession (request: FastifyRequest): void {
  if (sessionOf(request) != null) (request as unknown as { session: null }).session = null
}

/** The session of a login in flight, kept until its response is delivered. */
interface Delivery {
  /** The session plugin's onSend hook, which writes the session to its store, has run. */
  written: boolean
  /** The connection closed before the response was delivered. */
  lost: boolean
}

export const kDelivery = Symbol('fastify-tls-certificate-auth.delivery')

declare module 'fastify' {
  interface FastifyRequest {
    [kDelivery]: Delivery | null
  }
}

/** Drop the login's session from the request and remove it from the store. */
function removeSession (request: FastifyRequest): void {
  const session = sessionOf(request)
  dropSession(request)
  session?.destroy?.().catch((error: Error) => request.log.warn({ reason: error.message }, 'client certificate login: an undelivered session could not be removed'))
}

/**
 * A client that went away before its login was answered must not leave a session in the store
 * that no cookie will ever name. The session plugin writes it in its onSend hook: removing it
 * before that write is done would lose the race to it, so a connection lost earlier leaves the
 * removal to `afterSessionWritten`.
 */
function removeIfUndelivered (request: FastifyRequest, reply: FastifyReply): void {
  const response = reply.raw
  if (response.destroyed) {
    removeSession(request)
    return
  }
  // Stryker disable next-line ObjectLiteral: flags left undefined read as false
  const delivery: Delivery = { written: false, lost: false }
  request[kDelivery] = delivery
  // 'finish' and not writableFinished: light-my-request's inject emits 'finish' without setting it.
  let delivered = false
  response.on('finish', () => { delivered = true })
  response.on('close', () => {
    if (delivered) return
    // Stryker disable next-line BooleanLiteral: a closed response is destroyed too, which afterSessionWritten reads
    delivery.lost = true
    if (delivery.written) removeSession(request)
  })
}

/**
 * onSend, added after the session plugin's own: the session of a login is in its store now. If the
 * connection is gone already, remove it.
 */
export function afterSessionWritten (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void): void {
  const delivery = request[kDelivery]
  if (delivery !== null) {
    delivery.written = true
    // Stryker disable next-line LogicalOperator: lost implies destroyed, and a destroyed response closes later
    if (delivery.lost || reply.raw.destroyed) removeSession(request)
  }
  done(null, payload)
}

/**
 * The names the session object uses itself (its own and inherited properties): storing the user
 * under one of them would overwrite what the session plugin calls. Read from a session that
 * @fastify/session builds for a cookie that does not verify, synchronously and without I/O.
 */
export function sessionPropertyNames (fastify: FastifyInstance): Set<string> {
  const plugins = fastify as {
    decryptSession?: (id: string, request: object, done: () => void) => void // @fastify/session
    createSecureSession?: (data: object) => object // @fastify/secure-session
  }
  const probe: { session?: object } = {}
  // What a fresh session stores in the object it is given (@fastify/secure-session's `__ts`).
  const fresh: Record<string, unknown> = {}
  // Stryker disable next-line StringLiteral: any unsigned session id builds the same fresh session
  if (typeof plugins.decryptSession === 'function') plugins.decryptSession('', probe, () => {})
  else if (typeof plugins.createSecureSession === 'function') probe.session = plugins.createSecureSession(fresh)
  const names = new Set(Object.keys(fresh))
  for (let object: object | null = probe.session ?? {}; object !== null; object = Object.getPrototypeOf(object)) {
    for (const name of Object.getOwnPropertyNames(object)) names.add(name)
  }
  return names
}

/**
 * The default way to keep the user: a new session (a session id planted before login is worth
 * nothing after it; with @fastify/secure-session every old field is dropped), the user in it.
 * Synchronous where the session plugin's regenerate() is.
 */
function sessionSaver (sessionKey: string): SaveUser {
  return function saveInSession (request, _reply, user) {
    // regenerate() may replace request.session: read it again.
    const store = (): void => { sessionOf(request)?.set(sessionKey, user) }
    const regenerated = sessionOf(request)?.regenerate()
    // A synchronous regenerate could be stored a tick later just as well; a promise must be awaited.
    if (isThenable(regenerated)) return Promise.resolve(regenerated).then(store)
    store()
  }
}

/**
 * A login the browser cannot keep: over plain HTTP a Secure cookie is never sent, and a certificate
 * forwarded by a proxy means the browser spoke TLS, so a cookie without Secure is a mistake too.
 * Both come from Fastify not believing the proxy's X-Forwarded-Proto. Asked once per connection
 * (whose peer decides whether X-Forwarded-Proto counts), as working out the protocol is not free.
 */
function warnIfCookieCannotStick (request: FastifyRequest, identity: CertIdentity, checked: WeakSet<object>): void {
  if (checked.has(request.socket)) return
  checked.add(request.socket)
  const secureCookie = sessionOf(request)?.cookie?.secure === true
  if ((!secureCookie && identity.source !== 'headers') || request.protocol !== 'http') return
  request.log.warn({ protocol: request.protocol, secureCookie },
    (secureCookie
      ? 'client certificate login over plain HTTP with a Secure session cookie: the browser gets no cookie'
      : 'client certificate login over plain HTTP behind a TLS proxy: the session cookie is not marked Secure') +
    ". Set Fastify's trustProxy option to the proxy's address (so X-Forwarded-Proto counts) and the session cookie's secure option to 'auto'")
}

/**
 * A `next` target we may redirect to: a path on this site. `//host` and `/\host` are other sites
 * to a browser, and browsers drop tabs and newlines, so only printable ASCII without `\` passes.
 */
const SAME_SITE_PATH = /^\/(?![/\\])[\x21-\x5b\x5d-\x7e]*$/

function redirectTarget (url: string, fallback: string): string {
  const query = url.indexOf('?')
  if (query === -1) return fallback
  const next = new URLSearchParams(url.slice(query + 1)).get('next')
  // Stryker disable next-line ConditionalExpression: test(null) reads "null", never a path
  return next !== null && SAME_SITE_PATH.test(next) ? next : fallback
}

/** The URL's path is `path` (the query aside): compared in place, with nothing allocated. */
function hasPath (url: string, path: string): boolean {
  return url.startsWith(path) && (url.length === path.length || url.charCodeAt(path.length) === 63 /* ? */)
}

/** The onRequest hook of the login URL: certificate → user → kept (session or saveUser) → redirect. */
export function loginHook (config: LoginConfig, identities: IdentityReader, resolveUser: ResolveUser) {
  const saveUser = config.saveUser ?? sessionSaver(config.sessionKey)
  const { storeTimeout } = config
  const cookieChecked = new WeakSet<object>()

  /**
   * saveUser within storeTimeout. The default session step that fails or hangs answers 503, and
   * its session is dropped from the request so that no cookie points to a session never stored.
   */
  async function keepUser (request: FastifyRequest, reply: FastifyReply, user: unknown, identity: CertIdentity): Promise<void> {
    try {
      await callWithin(() => saveUser(request, reply, user), storeTimeout, () => new FST_TLS_CERT_AUTH_SESSION_STORE())
    } catch (error) {
      const timedOut = error instanceof FST_TLS_CERT_AUTH_SESSION_STORE
      // saveUser's own failure is the application's error to answer; a timeout, or the session step's, is ours.
      if (config.saveUser !== undefined && !timedOut) throw error
      request.log.error({ username: identity.username, reason: timedOut ? `no answer within ${storeTimeout} ms` : (error as Error).message },
        'client certificate login: the user could not be kept')
      dropSession(request)
      throw timedOut ? error : new FST_TLS_CERT_AUTH_SESSION_STORE()
    }
  }

  /** Whether the login answered: then the hook must not let the request go on to its route. */
  async function logIn (request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    // Without a revocation check the identity is at hand: no promise to wait on.
    const result = identities.revocable ? await identities.accepted(request) : identities.read(request)
    // No certificate: the login route itself answers (a password form keeps working).
    if (result.status === 'absent') return false
    // The reason was logged when the identity was read.
    if (result.status === 'refused') throw new result.ErrorType()
    const { identity } = result.value
    const user = await resolveUser(identity, request)
    if (user == null) {
      request.log.warn({ username: identity.username }, 'client certificate login refused: no such user')
      throw new FST_TLS_CERT_AUTH_USER_NOT_FOUND()
    }
    if (reply.raw.destroyed) {
      request.log.info({ username: identity.username }, 'client certificate login abandoned: the client went away')
      dropSession(request)
      return false
    }
    await keepUser(request, reply, user, identity)
    removeIfUndelivered(request, reply)
    request.log.info({ username: identity.username, source: identity.source }, 'client certificate login')
    warnIfCookieCannotStick(request, identity, cookieChecked)
    // The identity stays in memory as long as the session that holds this request: let it go.
    request[kIdentityResult] = null
    // A saveUser that answered itself (its own redirect) has the last word. Not awaited: a reply
    // in flight is answered, even when its client leaves before it is delivered.
    if (!reply.sent) reply.redirect(redirectTarget(request.url, config.loginRedirectUrl), 302)
    return true
  }

  // A callback hook, global: every other URL goes on at once, with no promise made.
  return function certificateLogin (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void {
    if (!hasPath(request.url, config.loginUrl)) {
      done()
      return
    }
    logIn(request, reply).then((answered) => { if (!answered) done() }, done)
  }
}
