// Certificates as proxies put them in headers. Each decoder is strict: a value that is not exactly
// its encoding throws, so a mangled header can never decode into something else.

export class EncodingError extends Error {}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g

export type CertEncoding = 'pem' | 'base64-der' | 'rfc9440'

function base64 (text: string): Buffer {
  if (text.length % 4 !== 0 || !BASE64.test(text)) throw new EncodingError('not base64')
  return Buffer.from(text, 'base64')
}

function percentDecode (value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    throw new EncodingError('bad percent-encoding')
  }
}

/**
 * PEM blocks: as they are, with spaces for newlines (Apache), or URL-encoded (nginx's
 * `$ssl_client_escaped_cert`, AWS, Envoy). Base64 never contains `%`, so a `%` means URL-encoded;
 * `+` stays `+` (AWS leaves it raw).
 */
export function decodePem (value: string): Buffer[] {
  const text = value.includes('%') ? percentDecode(value) : value
  const certificates: Buffer[] = []
  let rest = text
  for (const match of text.matchAll(PEM_BLOCK)) {
    certificates.push(base64(match[1].replace(/[\s]+/g, '')))
    rest = rest.replace(match[0], '')
  }
  if (certificates.length === 0 || rest.trim() !== '') throw new EncodingError('not a sequence of PEM certificates')
  return certificates
}

/** Base64 DER, several joined by commas (Traefik's chain), possibly URL-escaped (older Traefik). */
export function decodeBase64Der (value: string): Buffer[] {
  const text = value.includes('%') ? percentDecode(value) : value
  return text.split(',').map((part) => base64(part.trim()))
}

/** RFC 9440 / RFC 8941 byte sequences: `:base64:`, a list of them separated by commas. */
export function decodeRfc9440 (value: string): Buffer[] {
  return value.split(',').map((item) => {
    const match = /^\s*:([A-Za-z0-9+/=]*):\s*$/.exec(item)
    if (match === null) throw new EncodingError('not an RFC 9440 byte sequence')
    return base64(match[1])
  })
}

export const decoders: Record<CertEncoding, (value: string) => Buffer[]> = {
  pem: decodePem,
  'base64-der': decodeBase64Der,
  rfc9440: decodeRfc9440
}
