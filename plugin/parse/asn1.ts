// A strict reader for the little DER a client certificate login needs: names, times, SANs, EKUs.
// Every length is checked against its container; anything off throws Asn1Error.

import { decodeUtf8 } from './encodings'

export class Asn1Error extends Error {
  override name = 'Asn1Error'
}

export interface Tlv {
  tag: number
  /** Offset of the first content byte. */
  start: number
  /** Offset just past the content. */
  end: number
  /** Offset of the tag byte: `der.subarray(offset, end)` is the whole element. */
  offset: number
}

export function readTlv (der: Uint8Array, offset: number, limit: number = der.length): Tlv {
  if (offset + 2 > limit) throw new Asn1Error('truncated element')
  const tag = der[offset]
  if ((tag & 0x1f) === 0x1f) throw new Asn1Error('multi-byte tags are not used here')
  let length = der[offset + 1]
  let start = offset + 2
  if (length & 0x80) {
    const count = length & 0x7f
    if (count === 0 || count > 4 || start + count > limit) throw new Asn1Error('bad length')
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]
    // DER writes a length in as few bytes as it takes: no leading zero byte, no long form below 128.
    if (der[start] === 0 || length < 0x80) throw new Asn1Error('length not in its shortest form')
    start += count
  }
  const end = start + length
  if (end > limit) throw new Asn1Error('element runs past its container')
  return { tag, start, end, offset }
}

/** The elements inside a constructed element, in order. */
export function children (der: Uint8Array, parent: Tlv): Tlv[] {
  const items: Tlv[] = []
  for (let offset = parent.start; offset < parent.end;) {
    const item = readTlv(der, offset, parent.end)
    items.push(item)
    offset = item.end
  }
  return items
}

export function expectTag (item: Tlv | undefined, tag: number, what: string): Tlv {
  if (item === undefined || item.tag !== tag) throw new Asn1Error(`expected ${what}`)
  return item
}

export function decodeOid (der: Uint8Array, item: Tlv): string {
  if (item.tag !== 0x06 || item.end === item.start) throw new Asn1Error('expected an OID')
  if (der[item.end - 1] & 0x80) throw new Asn1Error('truncated OID')
  // Built as it is read: an OID is decoded for every attribute and extension of every request.
  let text = ''
  let value = 0
  let big: bigint | null = null // an arc past 2^53, which a double cannot count exactly
  for (let i = item.start; i < item.end; i++) {
    const byte = der[i]
    // A subidentifier starting with 0x80 pads itself: 55 04 80 03 would be CN's 2.5.4.3 again.
    if (byte === 0x80 && value === 0 && big === null) throw new Asn1Error('OID not in its shortest form')
    if (big === null && value >= 2 ** 46) big = BigInt(value)
    if (big === null) value = value * 128 + (byte & 0x7f)
    else big = big * 128n + BigInt(byte & 0x7f)
    if (byte & 0x80) continue
    // The first subidentifier holds two arcs: 40 × first + second (first is 2 from 80 on).
    const arc = big === null ? value : big
    if (text !== '') text += '.' + String(arc)
    else if (big !== null) text = '2.' + String(big - 80n)
    else text = value < 80 ? Math.floor(value / 40) + '.' + (value % 40) : '2.' + (value - 80)
    value = 0
    big = null
  }
  return text
}

// How OpenSSL reads each string type as text (its `tag2nbyte`): UTF8String as UTF-8 (0), one byte
// a character as ISO 8859-1 (1: NumericString, PrintableString, TeletexString, IA5String,
// VisibleString), BMPString as UCS-2 (2), UniversalString as UCS-4 (4). Anything else (-1) is no
// text: OpenSSL prints it as `#` and the hex of its DER. (OpenSSL 3.0 refuses a certificate whose
// name holds a VisibleString, VideotexString, GraphicString, GeneralString or a time: these reach
// us only as `#hex` in a DN string.)
const TEXT_WIDTH = new Int8Array(256).fill(-1)
TEXT_WIDTH[0x0c] = 0
for (const tag of [0x12, 0x13, 0x14, 0x16, 0x1a]) TEXT_WIDTH[tag] = 1
TEXT_WIDTH[0x1e] = 2
TEXT_WIDTH[0x1c] = 4

/** ASN.1 string types by tag: the ones OpenSSL prints as text. */
export function isStringTag (tag: number): boolean {
  return TEXT_WIDTH[tag] >= 0
}

/**
 * The text of the ASN.1 string `der[start, end)` of type `tag`, without a view or a copy of the
 * bytes: names and SANs are short, and a loop costs less than the native calls around them.
 */
export function stringAt (der: Uint8Array, tag: number, start: number, end: number): string {
  const width = TEXT_WIDTH[tag]
  if (width === 1) return latin1At(der, start, end)
  if (width === 0) {
    // Stryker disable next-line BooleanLiteral: false only sends ASCII through decodeUtf8, same text
    let ascii = true
    // Stryker disable next-line LogicalOperator,UpdateOperator: the scan only picks the fast path, same text
    for (let i = start; i < end && ascii; i++) ascii = der[i] < 0x80
    if (ascii) return latin1At(der, start, end) // ASCII reads the same in UTF-8
    try {
      return decodeUtf8(der.subarray(start, end))
    } catch {
      throw new Asn1Error('UTF8String is not UTF-8')
    }
  }
  if (width < 0) throw new Asn1Error('not a string type')
  if ((end - start) % width !== 0) throw new Asn1Error('string has a partial character')
  let text = ''
  for (let i = start; i < end; i += width) {
    const code = width === 2
      ? der[i] * 0x100 + der[i + 1]
      : der[i] * 0x1000000 + der[i + 1] * 0x10000 + der[i + 2] * 0x100 + der[i + 3]
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw new Asn1Error('string has an invalid character')
    text += String.fromCodePoint(code)
  }
  return text
}

/** ISO 8859-1: every byte is the code point of the same number. */
function latin1At (der: Uint8Array, start: number, end: number): string {
  let text = ''
  for (let i = start; i < end; i++) text += String.fromCharCode(der[i])
  return text
}

/** The number written by `count` ASCII digits at `at`. */
function digitsAt (der: Uint8Array, at: number, count: number): number {
  let value = 0
  for (let i = at; i < at + count; i++) value = value * 10 + der[i] - 0x30
  return value
}

/** UTCTime or GeneralizedTime, as DER writes them (`Z`, whole seconds). */
export function decodeTime (der: Uint8Array, item: Tlv): Date {
  // YYMMDDhhmmssZ or YYYYMMDDhhmmssZ: digits, then Z, nothing else.
  const yearDigits = item.tag === 0x17 ? 2 : item.tag === 0x18 ? 4 : 0
  const { start, end } = item
  if (yearDigits === 0 || end - start !== yearDigits + 11 || der[end - 1] !== 0x5a) throw new Asn1Error('bad time')
  for (let i = start; i < end - 1; i++) {
    if (der[i] < 0x30 || der[i] > 0x39) throw new Asn1Error('bad time')
  }
  let year = digitsAt(der, start, yearDigits)
  if (yearDigits === 2) year += year < 50 ? 2000 : 1900 // RFC 5280 §4.1.2.5.1
  const at = start + yearDigits
  const [month, day, hour, minute, second] = [0, 2, 4, 6, 8].map((offset) => digitsAt(der, at + offset, 2))
  // setUTCFullYear, not Date.UTC, which reads years 0 to 99 as 1900 to 1999.
  const time = new Date(0)
  time.setUTCFullYear(year, month - 1, day)
  time.setUTCHours(hour, minute, second)
  // Dates roll month 13 into the next year: a time that does not come back as written is no time.
  if (time.getUTCMonth() !== month - 1 || time.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw new Asn1Error('bad time')
  }
  return time
}
