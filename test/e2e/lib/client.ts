// Minimal HTTPS client for e2e tests: optional client certificate, raw
// (possibly duplicated) request headers, no connection reuse so every request
// does its own TLS handshake.

import { request } from 'node:https'
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'

export interface ClientIdentity {
  certPem: string
  keyPem: string
}

export interface TlsRequestOptions {
  /** PEM of the CA that issued the proxy's server certificate. */
  ca: string
  /** Client certificate to present; omit for none. */
  identity?: ClientIdentity
  method?: string
  /** Header values given as arrays are sent as repeated header lines. */
  headers?: OutgoingHttpHeaders
  body?: string
  timeoutMs?: number
}

export interface TlsResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/**
 * Rejects on TLS failures; err.message then carries OpenSSL's reason, e.g.
 * 'sslv3 alert certificate expired' or 'tlsv13 alert certificate required'.
 */
export async function tlsRequest (url: string, opts: TlsRequestOptions): Promise<TlsResponse> {
  return await new Promise((resolve, reject) => {
    const req = request(url, {
      method: opts.method ?? 'GET',
      headers: opts.headers,
      ca: opts.ca,
      cert: opts.identity?.certPem,
      key: opts.identity?.keyPem,
      agent: false,
      timeout: opts.timeoutMs ?? 10000
    }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: Buffer.concat(chunks).toString('utf8')
      }))
    })
    req.on('timeout', () => req.destroy(new Error(`request to ${url} timed out`)))
    req.on('error', reject)
    req.end(opts.body)
  })
}
