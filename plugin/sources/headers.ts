import type { FastifyRequest } from 'fastify'
import type { HeaderSet } from './presets'
import type { TrustCheck } from '../trust'
import { decoders } from '../parse/encodings'
import { traefikInfoCn } from '../parse/traefik'
import type { CertificateSource, RawCertificate, SourceResult } from './types'
import { parseXfcc, single } from '../parse/xfcc'

export interface HeaderSourceConfig {
  headers: HeaderSet
  trusted: TrustCheck
  /** Debug fake headers by lower-case name; empty unless debug is on. */
  fakeHeaders: Map<string, string>
  /** Which XFCC element to read: the one the nearest proxy appended (last) or the first. */
  xfccElement: 'first' | 'last'
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Node reads header bytes as latin1; Apache and Caddy send raw UTF-8 in DNs. Re-read them as
 * UTF-8, and refuse bytes that are not. Node also trims trailing spaces: an RFC 4514 DN whose last
 * value ends in an escaped space (`CN=alice\ `) arrives ending in a lone backslash, which can only
 * have been that. The slash form (`/…`) has no escapes to restore.
 */
function headerText (value: string): string {
  // eslint-disable-next-line no-control-regex
  const text = /^[\x00-\x7f]*$/.test(value) ? value : utf8.decode(Buffer.from(value, 'latin1'))
  let end = text.length
  while (end > 0 && text.charCodeAt(end - 1) === 0x5c) end-- // the backslashes it ends with
  return (text.length - end) % 2 === 1 && text.charCodeAt(0) !== 0x2f ? text + ' ' : text
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

/** The certificate material of a verified request, or why there is none. */
function readMaterial (
  config: HeaderSourceConfig, read: (name: string | null) => string | undefined, raw: RawCertificate
): string | null {
  const { headers } = config
  const dn = read(headers.dn)
  if (dn !== undefined) {
    raw.dn = headerText(dn)
    raw.dnFormat = headers.dnFormat
  }
  const issuerDn = read(headers.issuerDn)
  if (issuerDn !== undefined) raw.issuerDn = headerText(issuerDn)

  const cert = read(headers.cert)
  if (cert !== undefined) {
    if (headers.certEncoding === 'xfcc') {
      const elements = parseXfcc(cert)
      const element = elements[config.xfccElement === 'last' ? elements.length - 1 : 0]
      const pem = single(element, 'cert')
      const chain = single(element, 'chain')
      const subject = single(element, 'subject')
      if (pem !== undefined) [raw.der] = decoders.pem(pem)
      // Envoy's Chain starts with the leaf itself.
      if (chain !== undefined) raw.chain = decoders.pem(chain).slice(1)
      if (subject !== undefined) {
        raw.dn = subject
        raw.dnFormat = 'auto'
      }
    } else {
      const [leaf, ...chain] = decoders[headers.certEncoding](cert)
      raw.der = leaf
      if (chain.length > 0) raw.chain = chain
    }
  }
  const chain = read(headers.chain)
  if (chain !== undefined) raw.chain = decoders[headers.certEncoding as 'rfc9440'](chain)

  if (raw.der === undefined && raw.dn === undefined) {
    const info = read(headers.info)
    if (info !== undefined) {
      const cn = traefikInfoCn(info)
      raw.dn = `CN=${cn}`
      raw.subject = [[{ type: 'CN', value: cn }]]
    }
  }
  if (raw.der === undefined && raw.dn === undefined) return 'verified, but no certificate or subject header'
  return null
}

/** Logged where a DN in OpenSSL's slash form is read without a forwarded certificate to check it. */
export const SLASH_FORM_WARNING = 'fastify-tls-certificate-auth: a DN in OpenSSL\'s slash form, with no certificate forwarded to ' +
  'check it: the slash form is unambiguous only from a proxy built with OpenSSL 3.0 or later. Prefer RFC 2253 ' +
  "(nginx's $ssl_client_s_dn, with headers.dnFormat: 'rfc4514'), or forward the certificate (headers.cert)"

/** Every header a set reads but the chain list, which alone may come as several lines. */
function singleHeaderNames (headers: HeaderSet): string[] {
  return [headers.verify, ...Object.keys(headers.require), headers.dn, headers.issuerDn, headers.cert, headers.info]
    .filter((name): name is string => name !== null)
}

/** Every header a set reads: each one the proxy must overwrite on every request. */
export function headerNames (headers: HeaderSet): string[] {
  return [...singleHeaderNames(headers), ...(headers.chain === null ? [] : [headers.chain])]
}

/** The proxy's headers (a preset, or names of your own), debug fake headers taking precedence. */
export function headerSource (config: HeaderSourceConfig): CertificateSource {
  const { headers, trusted, fakeHeaders } = config
  const requireEntries = Object.entries(headers.require)
  // Every header we read, but the chain list, must come once: a second copy is an attack or a mistake.
  const singleNames = singleHeaderNames(headers)
  const allNames = headerNames(headers)
  let warnSlashForm = headers.dnFormat === 'auto'

  return function readHeaders (request: FastifyRequest): SourceResult {
    let fromDebug = false
    const read = (name: string | null): string | undefined => {
      if (name === null) return undefined
      const fake = fakeHeaders.get(name)
      if (fake !== undefined) {
        fromDebug = true
        return fake
      }
      const value = request.headers[name]
      // An empty value is what proxies send for "no certificate" (Caddy's empty placeholders).
      return typeof value === 'string' && value !== '' ? value : undefined
    }
    if (!allNames.some((name) => read(name) !== undefined)) return { status: 'absent' }
    const fromClient = allNames.some((name) => !fakeHeaders.has(name) && request.headers[name] !== undefined)
    if (fromClient) {
      const peer = request.socket.remoteAddress
      if (!trusted(peer)) {
        request.log.warn({ peer },
          `client certificate headers from untrusted peer ${String(peer)} ignored: if it is your proxy, add it to the trustedProxies option`)
        return { status: 'absent' }
      }
      const repeated = repeatedHeaders(request.raw.rawHeaders, singleNames)
      if (repeated.length > 0) {
        request.log.warn({ headers: repeated }, 'client certificate header sent more than once: no identity')
        return { status: 'absent' }
      }
    }

    if (headers.verify !== null) {
      const verify = read(headers.verify)
      if (verify !== headers.verifySuccess) {
        // FAILED:reason, GENEROUS, NONE, false, empty: the proxy did not verify a certificate.
        // Only the first two say something worth an info line; the others are "no certificate".
        if (verify !== undefined && verify !== 'NONE' && verify !== 'false') {
          request.log.info({ verify: verify.slice(0, 200) }, 'client certificate not verified by the proxy')
        }
        return { status: 'absent' }
      }
    }
    for (const [name, value] of requireEntries) {
      if (read(name) !== value) {
        request.log.debug({ header: name }, 'client certificate not verified by the proxy')
        return { status: 'absent' }
      }
    }

    const raw: RawCertificate = { source: 'headers' }
    let missing: string | null
    try {
      missing = readMaterial(config, read, raw)
    } catch (error) {
      return { status: 'refused', reason: `unreadable certificate header: ${(error as Error).message}` }
    }
    if (missing !== null) return { status: 'refused', reason: missing }
    // `auto` met the slash form with nothing to check it against: say so, once.
    if (warnSlashForm && raw.der === undefined && raw.dn?.charCodeAt(0) === 0x2f) {
      warnSlashForm = false
      request.log.warn({ header: headers.dn }, SLASH_FORM_WARNING)
    }
    if (fromDebug) raw.source = 'debug'
    return { status: 'present', raw }
  }
}
