// A strict reader for the little DER a client certificate login needs: names, times, SANs, EKUs.
// Every length is checked against its container; anything off throws Asn1Error.

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
  const parts: number[] = []
  let value = 0
  for (let i = item.start; i < item.end; i++) {
    value = value * 128 + (der[i] & 0x7f)
    if (!(der[i] & 0x80)) {
      parts.push(value)
      value = 0
    }
  }
  if (der[item.end - 1] & 0x80) throw new Asn1Error('truncated OID')
  const first = parts[0]
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80]
  return [...head, ...parts.slice(1)].join('.')
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** ASN.1 string types by tag: the ones a certificate name or SAN may use. */
const STRING_TAGS = new Set([0x0c, 0x13, 0x14, 0x16, 0x1a, 0x1e, 0x1c])

export function isStringTag (tag: number): boolean {
  return STRING_TAGS.has(tag)
}

/** The text of an ASN.1 string (UTF8, Printable, Teletex as ISO 8859-1, IA5, Visible, BMP, Universal). */
export function decodeString (tag: number, body: Uint8Array): string {
  if (tag === 0x0c) {
    try {
      return utf8.decode(body)
    } catch {
      throw new Asn1Error('UTF8String is not UTF-8')
    }
  }
  if (tag === 0x1e || tag === 0x1c) {
    const width = tag === 0x1e ? 2 : 4
    if (body.length % width !== 0) throw new Asn1Error('string has a partial character')
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
    let text = ''
    for (let i = 0; i < body.length; i += width) {
      const code = width === 2 ? view.getUint16(i) : view.getUint32(i)
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw new Asn1Error('string has an invalid character')
      text += String.fromCodePoint(code)
    }
    return text
  }
  if (!STRING_TAGS.has(tag)) throw new Asn1Error('not a string type')
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1')
}

/** UTCTime or GeneralizedTime, as DER writes them (`Z`, whole seconds). */
export function decodeTime (der: Uint8Array, item: Tlv): Date {
  const text = Buffer.from(der.buffer, der.byteOffset + item.start, item.end - item.start).toString('latin1')
  const match = item.tag === 0x17
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : item.tag === 0x18 ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : null
  if (match === null) throw new Asn1Error('bad time')
  let year = Number(match[1])
  if (item.tag === 0x17) year += year < 50 ? 2000 : 1900 // RFC 5280 §4.1.2.5.1
  return new Date(Date.UTC(year, Number(match[2]) - 1, Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6])))
}
