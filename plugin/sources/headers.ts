import type { FastifyRequest } from 'fastify'
import type { DnFormat } from '../dn'
import type { TrustCheck } from '../trust'
import type { CertificateSource, SourceResult } from './types'

export interface HeaderNames {
  /** Header carrying the proxy's verification result. */
  verify: string
  /** The exact value that means "verified"; anything else is no certificate. */
  verifySuccess: string
  /** Header carrying the subject DN. */
  dn: string
  dnFormat: DnFormat
}

export interface HeaderSourceConfig {
  headers: HeaderNames
  trusted: TrustCheck
  /** Debug fake headers by lower-case name; empty unless debug is on. */
  fakeHeaders: Map<string, string>
}

/**
 * Names among `wanted` that the client sent more than once. Node joins repeated custom headers
 * with ", ", which could turn two DNs into one plausible-looking DN, so only rawHeaders tells.
 */
function repeatedHeaders (rawHeaders: string[], wanted: string[]): string[] {
  const seen = new Set<string>()
  const repeated: string[] = []
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase()
    if (!wanted.includes(name)) continue
    if (seen.has(name)) repeated.push(name)
    seen.add(name)
  }
  return repeated
}

/** The configured proxy headers, with debug fake headers taking precedence over real ones. */
export function headerSource (config: HeaderSourceConfig): CertificateSource {
  const { headers, trusted, fakeHeaders } = config
  const names = [headers.verify, headers.dn]

  return function readHeaders (request: FastifyRequest): SourceResult {
    let fromClient = false
    let fromDebug = false
    const read = (name: string): string | undefined => {
      const fake = fakeHeaders.get(name)
      if (fake !== undefined) {
        fromDebug = true
        return fake
      }
      const value = request.headers[name]
      if (value !== undefined) fromClient = true
      // Array values only arise for set-cookie-like headers; rawHeaders below refuses them anyway.
      return typeof value === 'string' ? value : undefined
    }
    const verify = read(headers.verify)
    const dn = read(headers.dn)
    if (verify === undefined && dn === undefined) return { status: 'absent' }

    if (fromClient) {
      const peer = request.socket.remoteAddress
      if (!trusted(peer)) {
        request.log.warn({ peer }, 'client certificate headers from an untrusted peer ignored')
        return { status: 'absent' }
      }
      const repeated = repeatedHeaders(request.raw.rawHeaders, names)
      if (repeated.length > 0) {
        request.log.warn({ headers: repeated }, 'client certificate header sent more than once: no identity')
        return { status: 'absent' }
      }
    }

    if (verify !== headers.verifySuccess) {
      // FAILED:reason, NONE, GENEROUS, empty: the proxy did not verify a certificate.
      if (verify !== undefined && verify !== '' && verify !== 'NONE') {
        request.log.info({ verify: verify.slice(0, 200) }, 'client certificate not verified by the proxy')
      }
      return { status: 'absent' }
    }
    if (dn === undefined) return { status: 'refused', reason: `verified, but no ${headers.dn} header` }
    return { status: 'present', raw: { source: fromDebug ? 'debug' : 'headers', dn, dnFormat: headers.dnFormat } }
  }
}
