// Minimal HTTPS client for e2e tests: optional client certificate, raw
// (possibly duplicated) request headers, no connection reuse so every request
// does its own TLS handshake.

import { request } from 'node:https'
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'

/** PEM cert + key (e.g. a pki entry), or a PKCS#12 bundle (pki.alice.p12 / p12Password). */
export type ClientIdentity =
  | { certPem: string, keyPem: string }
  | { pfx: Buffer, passphrase: string }

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

// Pick fields explicitly: pki entries also carry `cert`/`key` *paths*, which
// must not end up as TLS options.
function tlsIdentity (id?: ClientIdentity): { cert?: string, key?: string, pfx?: Buffer, passphrase?: string } {
  if (id === undefined) return {}
  if ('pfx' in id) return { pfx: id.pfx, passphrase: id.passphrase }
  return { cert: id.certPem, key: id.keyPem }
}

/**
 * Rejects on TLS failures; err.code then names the server's alert, e.g.
 * ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED, ERR_SSL_TLSV1_ALERT_UNKNOWN_CA,
 * ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE (Caddy, for any rejected certificate).
 */
export async function tlsRequest (url: string, opts: TlsRequestOptions): Promise<TlsResponse> {
  return await new Promise((resolve, reject) => {
    const req = request(url, {
      method: opts.method ?? 'GET',
      headers: opts.headers,
      ca: opts.ca,
      ...tlsIdentity(opts.identity),
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
