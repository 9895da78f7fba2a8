// Certificates as proxies put them in headers. Each decoder is strict: a value that is not exactly
// its encoding throws, so a mangled header can never decode into something else.

export class EncodingError extends Error {
  override name = 'EncodingError'
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Bytes as UTF-8, anything ill-formed refused; a byte order mark is kept (`\uFEFFadmin` is not `admin`). */
export function decodeUtf8 (bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes)
  } catch {
    throw new EncodingError('not UTF-8')
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const BEGIN = '-----BEGIN CERTIFICATE-----'
const END = '-----END CERTIFICATE-----'
const WHITE_SPACE = /^\s*$/

/** How a proxy writes a certificate into a header; each has its decoder below. */
export const CERT_ENCODINGS = ['pem', 'base64-der', 'rfc9440'] as const
export type CertEncoding = typeof CERT_ENCODINGS[number]

/** Base64 as proxies write it: the alphabet, padded to a multiple of four. */
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
 * `+` stays `+` (AWS leaves it raw). Between and around the blocks, only white space.
 */
export function decodePem (value: string): Buffer[] {
  // Stryker disable next-line StringLiteral: decodeURIComponent leaves text without % as it is
  const text = value.includes('%') ? percentDecode(value) : value
  const certificates: Buffer[] = []
  let outside = true // so far, nothing but white space outside the blocks
  let after = 0 // just past the last block
  // A block is BEGIN, a body without `-`, END; where that fails, the next BEGIN is tried.
  for (let begin = text.indexOf(BEGIN); begin !== -1; begin = text.indexOf(BEGIN, begin + 1)) {
    const body = begin + BEGIN.length
    const dash = text.indexOf('-', body)
    if (dash === -1 || !text.startsWith(END, dash)) continue
    if (outside && begin > after) outside = WHITE_SPACE.test(text.slice(after, begin))
    // Stryker disable next-line Regex: removing white space a character at a time, same text
    certificates.push(base64(text.slice(body, dash).replace(/\s+/g, '')))
    after = dash + END.length
    begin = after - 1
  }
  // Stryker disable next-line EqualityOperator: at after === text.length the slice is '', white space
  if (outside && after < text.length) outside = WHITE_SPACE.test(text.slice(after))
  if (certificates.length === 0 || !outside) throw new EncodingError('not a sequence of PEM certificates')
  return certificates
}

/** Base64 DER, several joined by commas (Traefik's chain), possibly URL-escaped (older Traefik). */
export function decodeBase64Der (value: string): Buffer[] {
  // Stryker disable next-line StringLiteral: decodeURIComponent leaves text without % as it is
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
