// A user's visit, as the e2e tests replay it: a TLS client with or without a certificate and a
// session cookie, against the proxy (or the app's own HTTPS), and the assertions every test
// makes about logins.

import type { OutgoingHttpHeaders } from 'node:http'
import type { Test } from 'tap'
import { LOGIN_URL, REDIRECT_URL, sessionCookieOf, type Whoami } from './app'
import { tlsRequest, type ClientIdentity, type TlsResponse } from '../../helpers/tls-client'

/** Every request is bounded: a hang fails the test instead of eating the file's timeout. */
export const REQUEST_TIMEOUT_MS = 5000

export interface Site {
  /** https://localhost:<port> */
  url: string
  /** PEM of the CA that issued the server certificate. */
  ca: string
}

export interface Visit {
  identity?: ClientIdentity
  cookie?: string | null
  headers?: OutgoingHttpHeaders
  method?: string
}

export async function visit (site: Site, path: string, options: Visit = {}): Promise<TlsResponse> {
  const headers: OutgoingHttpHeaders = { ...options.headers }
  if (options.cookie != null) headers.cookie = options.cookie
  return await tlsRequest(site.url + path, {
    ca: site.ca,
    identity: options.identity,
    method: options.method,
    headers,
    timeoutMs: REQUEST_TIMEOUT_MS
  })
}

export async function whoami (site: Site, options: Visit = {}): Promise<Whoami> {
  const response = await visit(site, '/whoami', options)
  if (response.status !== 200) throw new Error(`/whoami answered ${response.status}: ${response.body}`)
  return JSON.parse(response.body) as Whoami
}

/** A certificate login: 302 to the redirect target with a Secure session cookie. Returns the cookie. */
export async function expectLogin (t: Test, site: Site, options: Visit, what: string): Promise<string | null> {
  const response = await visit(site, LOGIN_URL, options)
  t.equal(response.status, 302, `${what}: 302`)
  t.equal(response.headers.location, REDIRECT_URL, `${what}: to ${REDIRECT_URL}`)
  const cookie = sessionCookieOf(response.headers['set-cookie'])
  t.ok(cookie, `${what}: a session cookie`)
  const line = [response.headers['set-cookie'] ?? []].flat().find((value) => value.startsWith(cookie + ';'))
  t.match(line, /; Secure/i, `${what}: the cookie is Secure (secure: 'auto' saw https)`)
  return cookie
}

/** The login route's own page: no login, no session cookie. */
export function expectLoginPage (t: Test, response: TlsResponse, what: string): void {
  t.equal(response.status, 200, `${what}: the login page answers`)
  t.match(response.body, /"page":"login"/, `${what}: it is the login page`)
  t.equal(sessionCookieOf(response.headers['set-cookie']), null, `${what}: no session cookie`)
}

/**
 * No login, whatever stood in the way: a TLS alert, the proxy's own error page, or the app's
 * login page. Only a 302 to the redirect target or a session cookie would be a login.
 * Returns what happened, for the test's messages.
 */
export async function expectNoLogin (t: Test, site: Site, options: Visit, what: string): Promise<string> {
  let response: TlsResponse
  try {
    response = await visit(site, LOGIN_URL, options)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error)
    // A refused handshake; not a timeout or a refused connection, which would hide a broken setup.
    t.match(code, /^(ERR_SSL_|ECONNRESET$|EPIPE$)/, `${what}: refused in the TLS handshake (${code})`)
    return `TLS: ${code}`
  }
  t.not(response.status, 302, `${what}: no redirect (HTTP ${response.status})`)
  t.equal(sessionCookieOf(response.headers['set-cookie']), null, `${what}: no session cookie`)
  if (response.status === 200) t.match(response.body, /"page":"login"/, `${what}: the login page`)
  return `HTTP ${response.status}`
}
