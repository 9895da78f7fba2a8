import type {} from '@fastify/session'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { FST_TLS_CERT_AUTH_USER_NOT_FOUND } from './errors'
import type { IdentityReader } from './request-identity'
import type { ResolveUser } from './resolver'

export interface LoginConfig {
  loginUrl: string
  loginRedirectUrl: string
  sessionKey: string
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
  return next !== null && SAME_SITE_PATH.test(next) ? next : fallback
}

function pathOf (url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/** The onRequest hook of the login URL: certificate → user → fresh session → redirect. */
export function loginHook (config: LoginConfig, identities: IdentityReader, resolveUser: ResolveUser) {
  return async function certificateLogin (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (pathOf(request.url) !== config.loginUrl) return
    const result = await identities.accepted(request)
    // No certificate: the login route itself answers (a password form keeps working).
    if (result.status === 'absent') return
    // The reason was logged when the identity was read.
    if (result.status === 'refused') throw new result.ErrorType()
    const { identity } = result
    const user = await resolveUser(identity, request)
    if (user == null) {
      request.log.warn({ username: identity.username }, 'client certificate login refused: no such user')
      throw new FST_TLS_CERT_AUTH_USER_NOT_FOUND()
    }
    // A new session id on login: a session id planted before login is worth nothing after it.
    await request.session.regenerate()
    request.session.set(config.sessionKey as 'cookie', user as never)
    request.log.info({ username: identity.username, source: identity.source }, 'client certificate login')
    await reply.redirect(redirectTarget(request.url, config.loginRedirectUrl), 302)
  }
}
