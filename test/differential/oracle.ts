// The oracle: what a certificate's subject says, read from its DER with code of its own (none of
// plugin/), the way OpenSSL reads and prints a name. It decides which username the plugin must
// give, or that it must give none.
//
// - OIDs are read with BigInt (any arc); a subidentifier that starts with 0x80 is no OID.
// - Strings decode as OpenSSL's tag2nbyte says: UTF8String as UTF-8 (strict: no overlong form, no
//   surrogate, nothing past U+10FFFF), NumericString, PrintableString, TeletexString and
//   IA5String one byte a character (ISO 8859-1), BMPString as UCS-2, UniversalString as UCS-4.
//   A constructed (BER) string is the concatenation of its segments, as OpenSSL collects them.
// - Any other value is `#` and the hex of its element, as OpenSSL's RFC 2253 output writes it.

export interface OracleAttribute {
  /** The dotted OID, or null when its encoding is invalid. */
  oid: string | null
  /** The value as OpenSSL prints it, or null when OpenSSL cannot decode it. */
  text: string | null
  /** The value is no string: `text` is `#` and hex. */
  hex: boolean
  /** A constructed string or a long-form length: BER that DER forbids. */
  ber: boolean
}

export type Expected =
  | { kind: 'username', username: string, hex: boolean, notes: string[] }
  | { kind: 'refusal', why: ExpectedRefusal, username: string | null, notes: string[] }

/** Why no username may come from the subject, by the README's rules. */
export type ExpectedRefusal = 'no CN' | 'several CNs' | 'empty CN' | 'control character' | 'undecodable subject'

interface Element { tag: number, offset: number, start: number, end: number }

class OracleError extends Error {}

function element (der: Uint8Array, offset: number, limit: number): Element {
  if (offset + 2 > limit) throw new OracleError('truncated')
  const tag = der[offset]
  let length = der[offset + 1]
  let start = offset + 2
  if (length >= 0x80) {
    const count = length - 0x80
    if (count === 0 || count > 4) throw new OracleError('length')
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]
    start += count
  }
  if (start + length > limit) throw new OracleError('overrun')
  return { tag, offset, start, end: start + length }
}

function inside (der: Uint8Array, parent: Element): Element[] {
  const items: Element[] = []
  for (let at = parent.start; at < parent.end;) {
    const item = element(der, at, parent.end)
    items.push(item)
    at = item.end
  }
  return items
}

function oidText (der: Uint8Array, item: Element): string | null {
  if (item.tag !== 0x06 || item.start === item.end || der[item.end - 1] >= 0x80) return null
  const arcs: bigint[] = []
  let value = 0n
  let first = true
  for (let i = item.start; i < item.end; i++) {
    if (first && der[i] === 0x80) return null // a padded subidentifier
    first = false
    value = value * 128n + BigInt(der[i] & 0x7f)
    if (der[i] < 0x80) {
      arcs.push(value)
      value = 0n
      first = true
    }
  }
  const [head, ...rest] = arcs
  const top = head < 80n ? [head / 40n, head % 40n] : [2n, head - 80n]
  return [...top, ...rest].join('.')
}

function utf8 (bytes: Uint8Array): string | null {
  let text = ''
  for (let i = 0; i < bytes.length;) {
    const lead = bytes[i]
    if (lead < 0x80) {
      text += String.fromCharCode(lead)
      i++
      continue
    }
    let follow: number
    let code: number
    let least: number
    if (lead >= 0xc2 && lead <= 0xdf) [follow, code, least] = [1, lead & 0x1f, 0x80]
    else if (lead >= 0xe0 && lead <= 0xef) [follow, code, least] = [2, lead & 0x0f, 0x800]
    else if (lead >= 0xf0 && lead <= 0xf4) [follow, code, least] = [3, lead & 0x07, 0x10000]
    else return null
    if (i + follow >= bytes.length) return null // cut short
    for (let k = 1; k <= follow; k++) {
      const next = bytes[i + k]
      if ((next & 0xc0) !== 0x80) return null
      code = code * 64 + (next & 0x3f)
    }
    if (code < least || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return null
    text += String.fromCodePoint(code)
    i += follow + 1
  }
  return text
}

function wide (bytes: Uint8Array, width: 2 | 4): string | null {
  if (bytes.length % width !== 0) return null
  let text = ''
  for (let i = 0; i < bytes.length; i += width) {
    let code = 0
    for (let k = 0; k < width; k++) code = code * 256 + bytes[i + k]
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return null
    text += String.fromCodePoint(code)
  }
  return text
}

const ONE_BYTE = new Set([0x12, 0x13, 0x14, 0x16])
const STRING_TAGS = new Set([0x0c, 0x1e, 0x1c, ...ONE_BYTE])

function decodeString (tag: number, bytes: Uint8Array): string | null {
  if (tag === 0x0c) return utf8(bytes)
  if (tag === 0x1e) return wide(bytes, 2)
  if (tag === 0x1c) return wide(bytes, 4)
  return Buffer.from(bytes).toString('latin1')
}

function value (der: Uint8Array, item: Element): { text: string | null, hex: boolean, ber: boolean } {
  const longForm = der[item.offset + 1] >= 0x80 && item.end - item.start < 0x80
  if (STRING_TAGS.has(item.tag)) return { text: decodeString(item.tag, der.subarray(item.start, item.end)), hex: false, ber: longForm }
  const base = item.tag & ~0x20
  if ((item.tag & 0x20) !== 0 && STRING_TAGS.has(base)) {
    const segments = inside(der, item)
    if (segments.some((segment) => segment.tag !== base)) return { text: null, hex: false, ber: true }
    const bytes = Buffer.concat(segments.map((segment) => der.subarray(segment.start, segment.end)))
    return { text: decodeString(base, bytes), hex: false, ber: true }
  }
  return { text: '#' + Buffer.from(der.subarray(item.offset, item.end)).toString('hex').toUpperCase(), hex: true, ber: longForm }
}

/** The subject of a certificate, RDNs in DER order. */
export function readSubject (certificate: Uint8Array): OracleAttribute[][] {
  const [tbs] = inside(certificate, element(certificate, 0, certificate.length))
  const fields = inside(certificate, tbs)
  const subject = fields[fields[0].tag === 0xa0 ? 5 : 4]
  return inside(certificate, subject).map((rdn) => inside(certificate, rdn).map((pair) => {
    const [type, item] = inside(certificate, pair)
    return { oid: oidText(certificate, type), ...value(certificate, item) }
  }))
}

// Control characters (Unicode Cc: C0, DEL, C1), which the README promises to refuse in a username.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/

/** The username the plugin must give (the single CN), or why it must give none. */
export function expectedUsername (subject: OracleAttribute[][]): Expected {
  const attributes = subject.flat()
  const notes: string[] = []
  if (attributes.some((attribute) => attribute.ber)) notes.push('BER')
  const cns = attributes.filter((attribute) => attribute.oid === '2.5.4.3')
  const username = cns.length === 1 ? cns[0].text : null
  if (attributes.some((attribute) => attribute.text === null || attribute.oid === null)) {
    return { kind: 'refusal', why: 'undecodable subject', username, notes }
  }
  if (cns.length === 0) return { kind: 'refusal', why: 'no CN', username, notes }
  if (cns.length > 1) return { kind: 'refusal', why: 'several CNs', username, notes }
  const [cn] = cns
  const text = cn.text as string
  if (text === '') return { kind: 'refusal', why: 'empty CN', username, notes }
  if (CONTROL.test(text)) return { kind: 'refusal', why: 'control character', username, notes }
  return { kind: 'username', username: text, hex: cn.hex, notes }
}

/** A subject as text for a report: `[O=printable"Example"] [CN=utf8"alice"+UID=…]`, DER order. */
export function describeSubject (certificate: Uint8Array): string {
  const [tbs] = inside(certificate, element(certificate, 0, certificate.length))
  const fields = inside(certificate, tbs)
  const subject = fields[fields[0].tag === 0xa0 ? 5 : 4]
  return inside(certificate, subject).map((rdn) => '[' + inside(certificate, rdn).map((pair) => {
    const [type, item] = inside(certificate, pair)
    const decoded = value(certificate, item)
    const oid = oidText(certificate, type) ?? `bad OID ${Buffer.from(certificate.subarray(type.start, type.end)).toString('hex')}`
    const shown = decoded.text === null ? `undecodable ${Buffer.from(certificate.subarray(item.offset, item.end)).toString('hex')}` : ascii(decoded.text)
    return `${oid}=${TAG_NAMES[item.tag] ?? `tag 0x${item.tag.toString(16)}`}:${shown}`
  }).join(' + ') + ']').join(' ')
}

/** JSON, with everything outside printable ASCII escaped: reports stay one line each, whatever the values hold. */
export function ascii (text: string): string {
  return JSON.stringify(text).replace(/[^\x20-\x7e]/g, (char) => '\\u' + char.charCodeAt(0).toString(16).padStart(4, '0'))
}

const TAG_NAMES: Record<number, string> = {
  0x0c: 'utf8', 0x12: 'numeric', 0x13: 'printable', 0x14: 'teletex', 0x16: 'ia5', 0x1e: 'bmp', 0x1c: 'universal'
}
