import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { HeaderSet } from './presets'
import type { TrustCheck } from '../trust'
import { decodeUtf8, decoders } from '../parse/encodings'
import { traefikInfoCn } from '../parse/traefik'
import { ABSENT, ok, refuse, type Result } from '../result'
import type { CertificateSource, RawCertificate } from './types'
import { parseXfcc, single } from '../parse/xfcc'

export interface HeaderSourceConfig {
  headers: HeaderSet
  trusted: TrustCheck
  /** Debug fake headers by lower-case name; empty unless debug is on. */
  fakeHeaders: Map<string, string>
  /** Which XFCC element to read: the one the nearest proxy appended (last) or the first. */
  xfccElement: 'first' | 'last'
}

/**
 * Node reads header bytes as latin1; Apache and Caddy send raw UTF-8 in DNs. Re-read them as
 * UTF-8, and refuse bytes that are not. Node also trims trailing spaces: an RFC 4514 DN whose last
 * value ends in an escaped space (`CN=alice\ `) arrives ending in a lone backslash, which can only
 * have been that. The slash form (`/…`) has no escapes to restore.
 */
function headerText (value: string): string {
  const text = /^[\x00-\x7f]*$/.test(value) ? value : decodeUtf8(Buffer.from(value, 'latin1')) // eslint-disable-line no-control-regex
  let end = text.length
  while (text.charCodeAt(end - 1) === 0x5c) end-- // the backslashes it ends with (charCodeAt(-1) is NaN)
  return (text.length - end) % 2 === 1 && text.charCodeAt(0) !== 0x2f ? text + ' ' : text
}

/**
 * Names among `wanted` that the client sent more than once. Node joins repeated custom headers
 * with ", ", which could turn two DNs into one plausible-looking DN, so only rawHeaders tells.
 * Names of another length are skipped without lower-casing them: most headers are not ours.
 */
function repeatedHeaders (rawHeaders: string[], wanted: string[], lengths: Set<number>): string[] {
  // Stryker disable next-line ArrayDeclaration: a name that is not wanted is never looked up in it
  const seen: string[] = []
  const repeated: string[] = []
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (!lengths.has(rawHeaders[i].length)) continue
    const name = rawHeaders[i].toLowerCase()
    if (!wanted.includes(name)) continue
    if (seen.includes(name)) repeated.push(name)
    else seen.push(name)
  }
  return repeated
}

/** What an XFCC element says: Envoy's Cert, Chain (which starts with the leaf itself) and Subject. */
function readXfccElement (raw: RawCertificate, header: string, which: 'first' | 'last'): void {
  const elements = parseXfcc(header)
  const element = elements[which === 'last' ? elements.length - 1 : 0]
  const pem = single(element, 'cert')
  const chain = single(element, 'chain')
  const subject = single(element, 'subject')
  if (pem !== undefined) [raw.der] = decoders.pem(pem)
  if (chain !== undefined) raw.chain = decoders.pem(chain).slice(1)
  if (subject !== undefined) {
    // RFC 2253, as Envoy writes it; older Envoy documentation shows the slash form, which only a
    // Cert beside it can check (uncheckedSlashForm is for the DN header, not for this one).
    raw.dn = subject
    raw.dnFormat = 'auto'
    raw.uncheckedSlashForm = false
  }
}

/** The certificate material of a verified request, or why there is none. */
function readMaterial (config: HeaderSourceConfig, read: (name: string | null) => string | undefined, source: RawCertificate['source']): Result<RawCertificate> {
  const { headers } = config
  const raw: RawCertificate = { source }
  try {
    const dn = read(headers.dn)
    if (dn !== undefined) {
      raw.dn = headerText(dn)
      raw.dnFormat = headers.dnFormat
      // A debug fake DN is typed by the developer: neither written by an OpenSSL nor trimmed by Node.
      raw.uncheckedSlashForm = headers.uncheckedSlashForm || config.fakeHeaders.has(headers.dn as string)
    }
    const issuerDn = read(headers.issuerDn)
    if (issuerDn !== undefined) raw.issuerDn = headerText(issuerDn)

    const cert = read(headers.cert)
    const encoding = headers.certEncoding
    if (encoding === 'xfcc') {
      if (cert !== undefined) readXfccElement(raw, cert, config.xfccElement)
    } else {
      if (cert !== undefined) [raw.der, ...raw.chain] = decoders[encoding](cert)
      const chain = read(headers.chain)
      if (chain !== undefined) raw.chain = decoders[encoding](chain)
    }

    const info = raw.der === undefined && raw.dn === undefined ? read(headers.info) : undefined
    if (info !== undefined) {
      const cn = traefikInfoCn(info)
      raw.dn = `CN=${cn}`
      raw.subject = [[{ type: 'CN', value: cn }]]
    }
  } catch (error) {
    return refuse(`unreadable certificate header: ${(error as Error).message}`)
  }
  if (raw.der === undefined && raw.dn === undefined) return refuse('verified, but no certificate or subject header')
  return ok(raw)
}

/** Logged at startup where a DN in OpenSSL's slash form may be read without a certificate to check it. */
export const SLASH_FORM_WARNING = 'fastify-tls-certificate-auth: headers.uncheckedSlashForm reads a DN in OpenSSL\'s slash ' +
  'form with no certificate to check it: a CN that ends in spaces (which Node trims) or is no string (which OpenSSL ' +
  'prints as text) logs in as another name, and behind a proxy built with OpenSSL before 3.0 (or LibreSSL, ' +
  'BoringSSL), which writes / inside a value raw, a certificate without a CN whose O is x/CN=admin logs in as ' +
  'admin. Prefer RFC 2253 (nginx\'s $ssl_client_s_dn, preset \'nginx\'), or forward the certificate (headers.cert)'

/** Every header a set reads but the chain list, which alone may come as several lines. */
function singleHeaderNames (headers: HeaderSet): string[] {
  return [headers.verify, ...Object.keys(headers.require), headers.dn, headers.issuerDn, headers.cert, headers.info]
    .filter((name): name is string => name !== null)
}

/** Every header a set reads: each one the proxy must overwrite on every request. */
export function headerNames (headers: HeaderSet): string[] {
  return [...singleHeaderNames(headers), ...(headers.chain === null ? [] : [headers.chain])]
}

// Decoded material by the header values it came from: a user's repeated requests decode and parse
// their certificate once. Bounded, so that an attacker's distinct values cannot grow memory.
const MATERIALS_KEPT = 500

/** The proxy's headers (a preset, or names of your own), debug fake headers taking precedence. */
export function headerSource (config: HeaderSourceConfig): CertificateSource {
  const { headers, trusted, fakeHeaders } = config
  const requireEntries = Object.entries(headers.require)
  // Every header we read, but the chain list, must come once: a second copy is an attack or a mistake.
  const singleNames = singleHeaderNames(headers)
  const singleLengths = new Set(singleNames.map((name) => name.length))
  const allNames = headerNames(headers)
  const materialNames = [headers.dn, headers.issuerDn, headers.cert, headers.chain, headers.info]
  // With debug fakes for these headers, every identity they give is a debug one.
  const source: RawCertificate['source'] = allNames.some((name) => fakeHeaders.has(name)) ? 'debug' : 'headers'
  // Whether a peer is a trusted proxy is a property of its connection.
  const trustedSocket = new WeakMap<object, boolean>()
  const materials = new Map<string, Result<RawCertificate>>()
  const faking = fakeHeaders.size > 0 // debug only: no map lookups per header otherwise

  const indexOf = new Map(allNames.map((name, index) => [name, index]))

  return function readProxyHeaders (request: FastifyRequest): Result<RawCertificate> {
    // Each header read once. An empty value is what proxies send for "no certificate" (Caddy's
    // empty placeholders).
    const values: Array<string | undefined> = []
    let present = false
    let fromClient = false
    for (const name of allNames) {
      const found = faking ? fakeHeaders.get(name) ?? request.headers[name] : request.headers[name]
      const value = typeof found === 'string' && found !== '' ? found : undefined
      values.push(value)
      if (value === undefined) continue
      present = true
      if (!faking || !fakeHeaders.has(name)) fromClient = true
    }
    if (!present) return ABSENT
    const read = (name: string | null): string | undefined => name === null ? undefined : values[indexOf.get(name) as number]
    if (fromClient) {
      const { socket } = request
      let peerTrusted = trustedSocket.get(socket)
      if (peerTrusted === undefined) {
        peerTrusted = trusted(socket.remoteAddress)
        trustedSocket.set(socket, peerTrusted)
      }
      if (!peerTrusted) {
        const peer = socket.remoteAddress
        request.log.warn({ peer },
          `client certificate headers from untrusted peer ${String(peer)} ignored: if it is your proxy, add it to the trustedProxies option`)
        return ABSENT
      }
      const repeated = repeatedHeaders(request.raw.rawHeaders, singleNames, singleLengths)
      if (repeated.length > 0) {
        request.log.warn({ headers: repeated }, 'client certificate header sent more than once: no identity')
        return ABSENT
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
        return ABSENT
      }
    }
    for (const [name, value] of requireEntries) {
      if (read(name) !== value) {
        request.log.debug({ header: name }, 'client certificate not verified by the proxy')
        return ABSENT
      }
    }

    // Header values hold no NUL: joined by it, they name the material exactly.
    // Stryker disable next-line StringLiteral: any start is the same for every key
    let key = ''
    for (const name of materialNames) key += (read(name) ?? '') + '\0'
    let material = materials.get(key)
    if (material === undefined) {
      material = readMaterial(config, read, source)
      // The oldest entry goes first; `as string`: the map is full, so it has a first key.
      if (materials.size >= MATERIALS_KEPT) materials.delete(materials.keys().next().value as string)
      materials.set(key, material)
    }
    return material
  }
}

/** Startup logs: which headers are trusted, and a warning where the slash form is read unchecked. */
export function logTrustedHeaders (log: FastifyBaseLogger, headers: HeaderSet): void {
  log.info({ headers: headerNames(headers) },
    'fastify-tls-certificate-auth: client certificate headers read from trusted proxies; the proxy must overwrite each one')
  // The options allow it only beside a DN header that can be in the slash form.
  if (headers.uncheckedSlashForm) {
    log.warn({ header: headers.dn, dnFormat: headers.dnFormat }, SLASH_FORM_WARNING)
  }
}
