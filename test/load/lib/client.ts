// The clients of the load tests: a login through nginx with a user's own certificate (a new TLS
// connection each, so each is a full handshake that nginx verifies), /whoami with the session
// cookie through nginx (no certificate: only the session can name the user) or straight to one
// instance, and a pool that keeps a fixed number of them in flight.

import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls'
import { LOGIN_URL, sessionCookieOf } from '../../e2e/lib/app'
import type { ClientIdentity } from '../../helpers/tls-client'
import type { Whoami } from './protocol'

/** Generous under load, but a hang still fails the request instead of the whole file's timeout. */
export const REQUEST_TIMEOUT_MS = 20_000

export interface Answer {
  /** Sent on a connection that was already open (keep-alive), not a new one. */
  reused: boolean
  status: number
  headers: IncomingHttpHeaders
  body: string
  /** Milliseconds from the request to the end of the answer (connection and handshake included). */
  ms: number
}

async function read (send: (done: (res: IncomingMessage) => void) => ReturnType<typeof httpRequest>): Promise<Answer> {
  const started = performance.now()
  return await new Promise((resolve, reject) => {
    const req = send((res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => resolve({
        reused: req.reusedSocket,
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: Buffer.concat(chunks).toString(),
        ms: performance.now() - started
      }))
    })
    req.setTimeout(REQUEST_TIMEOUT_MS, () => { req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)) })
    req.on('error', reject)
    req.end()
  })
}

export interface Login {
  status: number
  location: string | undefined
  /** `sessionId=...`, or null. */
  cookie: string | null
  /** The Set-Cookie line of the session cookie says Secure. */
  secure: boolean
  instance: string
  /** On a connection that was already open: no handshake of its own. */
  reused: boolean
  ms: number
}

export interface Site {
  /** https://localhost:<port>: nginx. */
  url: string
  /** PEM of the CA of nginx's server certificate. */
  ca: string
}

export type PemIdentity = ClientIdentity & { certPem: string, keyPem: string }

export interface LoadClient {
  /**
   * A certificate login as this identity: on a connection of its own (a full handshake), or on
   * `agent`'s (see certificateAgent).
   */
  login (identity: PemIdentity, agent?: HttpsAgent): Promise<Login>
  /** A keep-alive agent of one connection that presents this identity's certificate. */
  certificateAgent (identity: PemIdentity): HttpsAgent
  /** The status of a GET through nginx on `agent`'s connection (to open it before a login). */
  open (agent: HttpsAgent, path: string): Promise<number>
  /** /whoami through nginx with the cookie and no certificate (keep-alive connections). */
  whoamiViaProxy (cookie: string): Promise<Whoami & { ms: number }>
  /** /whoami straight to one instance, as nginx would send it (X-Forwarded-Proto https from 127.0.0.1). */
  whoamiDirect (appUrl: string, cookie: string): Promise<Whoami & { ms: number }>
  close (): void
}

function whoamiOf (answer: Answer, where: string): Whoami & { ms: number } {
  if (answer.status !== 200) throw new Error(`/whoami ${where} answered ${answer.status}: ${answer.body}`)
  return { ...JSON.parse(answer.body) as Whoami, ms: answer.ms }
}

export function loadClient (site: Site, sockets: number): LoadClient {
  // One TLS context per certificate, made once: the PEM is parsed once, not at each login.
  const contexts = new WeakMap<object, SecureContext>()
  const contextOf = (identity: PemIdentity): SecureContext => {
    let context = contexts.get(identity)
    if (context === undefined) {
      context = createSecureContext({ ca: site.ca, cert: identity.certPem, key: identity.keyPem })
      contexts.set(identity, context)
    }
    return context
  }
  const proxyAgent = new HttpsAgent({ keepAlive: true, maxSockets: sockets, ca: site.ca })
  const directAgent = new HttpAgent({ keepAlive: true, maxSockets: sockets })

  return {
    async login (identity, agent) {
      // Node's https passes secureContext on to tls.connect; its RequestOptions type does not list it.
      const tls: ConnectionOptions = { secureContext: contextOf(identity) }
      const answer = await read((done) => httpsRequest(site.url + LOGIN_URL, { ...tls, agent: agent ?? false }, done))
      const cookie = sessionCookieOf(answer.headers['set-cookie'])
      const line = (answer.headers['set-cookie'] ?? []).find((value) => cookie !== null && value.startsWith(cookie + ';'))
      return {
        status: answer.status,
        location: answer.headers.location,
        cookie,
        secure: line !== undefined && /;\s*Secure/i.test(line),
        instance: String(answer.headers['x-instance']),
        reused: answer.reused,
        ms: answer.ms
      }
    },
    certificateAgent (identity) {
      return new HttpsAgent({ keepAlive: true, maxSockets: 1, secureContext: contextOf(identity) })
    },
    async open (agent, path) {
      return (await read((done) => httpsRequest(site.url + path, { agent }, done))).status
    },
    async whoamiViaProxy (cookie) {
      const answer = await read((done) => httpsRequest(site.url + '/whoami', { agent: proxyAgent, headers: { cookie } }, done))
      return whoamiOf(answer, 'through nginx')
    },
    async whoamiDirect (appUrl, cookie) {
      const headers: OutgoingHttpHeaders = { cookie, 'x-forwarded-proto': 'https' }
      const answer = await read((done) => httpRequest(appUrl + '/whoami', { agent: directAgent, headers }, done))
      return whoamiOf(answer, `at ${appUrl}`)
    },
    close () {
      proxyAgent.destroy()
      directAgent.destroy()
    }
  }
}

/** Runs work(0) ... work(count - 1), `concurrency` at a time, each started as soon as one ends. */
export async function inPool (count: number, concurrency: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) await work(next++)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
}

/** The p-th percentile (0 to 100) of some numbers, nearest rank. */
export function percentile (values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

export const mb = (bytes: number): string => (bytes / 1048576).toFixed(2) + ' MB'
