import { Asn1Error, decodeString, isStringTag, readTlv, type Tlv } from './asn1'
import { FST_TLS_CERT_AUTH_BAD_DN } from './errors'

export interface DnAttribute { type: string, value: string }
export type RelativeDistinguishedName = DnAttribute[]
export type DistinguishedName = RelativeDistinguishedName[]
export type DnFormat = 'auto' | 'rfc4514' | 'legacy'

// Every spelling of an attribute type (short name, long name, OID) maps to one name, so that a
// second CN cannot hide as `2.5.4.3=` or `commonName=`.
const TYPE_NAMES: Record<string, string> = {}
for (const [name, ...aliases] of [
  ['CN', 'commonName', '2.5.4.3'],
  ['SN', 'surname', '2.5.4.4'],
  ['serialNumber', '2.5.4.5'],
  ['C', 'countryName', '2.5.4.6'],
  ['L', 'localityName', '2.5.4.7'],
  ['ST', 'S', 'stateOrProvinceName', '2.5.4.8'],
  ['STREET', 'streetAddress', '2.5.4.9'],
  ['O', 'organizationName', '2.5.4.10'],
  ['OU', 'organizationalUnitName', '2.5.4.11'],
  ['title', '2.5.4.12'],
  ['GN', 'givenName', '2.5.4.42'],
  ['initials', '2.5.4.43'],
  ['generationQualifier', '2.5.4.44'],
  ['dnQualifier', '2.5.4.46'],
  ['pseudonym', '2.5.4.65'],
  ['organizationIdentifier', '2.5.4.97'],
  ['DC', 'domainComponent', '0.9.2342.19200300.100.1.25'],
  ['UID', 'userId', '0.9.2342.19200300.100.1.1'],
  ['emailAddress', 'E', 'email', '1.2.840.113549.1.9.1']
]) {
  for (const alias of [name, ...aliases]) TYPE_NAMES[alias.toLowerCase()] = name
}

/** The one name of an attribute type: `commonName`, `cn` and `2.5.4.3` are all `CN`. */
export function canonicalType (type: string): string {
  return TYPE_NAMES[type.toLowerCase()] ?? type
}

const DESCR = /^[A-Za-z][A-Za-z0-9-]*$/
const NUMERIC_OID = /^(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+$/
const utf8 = new TextDecoder('utf-8', { fatal: true })

function fail (input: string, reason: string): never {
  // Never echo a long attacker-chosen string into logs.
  const shown = input.length > 200 ? input.slice(0, 200) + '…' : input
  throw new FST_TLS_CERT_AUTH_BAD_DN(`${reason} in ${JSON.stringify(shown)}`)
}

function checkType (input: string, type: string): string {
  if (!DESCR.test(type) && !NUMERIC_OID.test(type)) fail(input, `bad attribute type ${JSON.stringify(type)}`)
  return canonicalType(type)
}

function decodeUtf8 (input: string, bytes: number[]): string {
  try {
    return utf8.decode(Uint8Array.from(bytes))
  } catch {
    return fail(input, 'escaped bytes are not UTF-8')
  }
}

function hexValue (code: number): number {
  if (code >= 48 && code <= 57) return code - 48
  const lower = code | 0x20
  if (lower >= 97 && lower <= 102) return lower - 87
  return -1
}

// `#` followed by the BER encoding of the value (RFC 4514 §2.4). String types are decoded so
// that the same name compares equal however the proxy chose to write it; other types keep
// their `#hex` form, as certificate names do (see `nameValue`).
function decodeBer (input: string, hex: string): string {
  const der = Buffer.from(hex, 'hex')
  try {
    const item = readTlv(der, 0)
    if (item.end !== der.length) fail(input, 'BER length does not match the value')
    return nameValue(der, item)
  } catch (error) {
    if (error instanceof Asn1Error) fail(input, `bad BER value: ${error.message}`)
    throw error
  }
}

/** An attribute value of a certificate name: the text of a string type, else `#` and the hex of its DER. */
export function nameValue (der: Uint8Array, item: Tlv): string {
  if (isStringTag(item.tag)) return decodeString(item.tag, der.subarray(item.start, item.end))
  return '#' + Buffer.from(der.subarray(item.offset, item.end)).toString('hex')
}

const SPACE = 32
const COMMA = 44
const PLUS = 43
const EQUALS = 61
const BACKSLASH = 92
const HASH = 35
// Characters RFC 4514 lets appear in a value only when escaped.
const MUST_ESCAPE = new Set([34, 59, 60, 62, 0]) // " ; < > NUL
// Characters that may follow a backslash as themselves.
const ESCAPABLE = new Set([34, 43, 44, 59, 60, 62, 92, 32, 35, 61]) // " + , ; < > \ space # =

/**
 * RFC 4514 (and RFC 2253, which OpenSSL, nginx, Apache, Go and AWS emit), tolerant of spaces around
 * `,` `+` `=` as OpenSSL's `C = AU, CN = mp` shows. One left-to-right pass: linear in the input.
 */
function parseRfc4514 (input: string): DistinguishedName {
  const length = input.length
  const dn: DistinguishedName = []
  let pos = 0
  const skipSpaces = (): void => { while (pos < length && input.charCodeAt(pos) === SPACE) pos++ }

  skipSpaces()
  if (pos === length) return dn
  let rdn: RelativeDistinguishedName = []
  for (;;) {
    skipSpaces()
    const typeStart = pos
    while (pos < length && input.charCodeAt(pos) !== EQUALS && input.charCodeAt(pos) !== SPACE) pos++
    const type = checkType(input, input.slice(typeStart, pos))
    skipSpaces()
    if (input.charCodeAt(pos) !== EQUALS) fail(input, `expected = after ${type}`)
    pos++
    skipSpaces()

    let value = ''
    if (input.charCodeAt(pos) === HASH) {
      const hexStart = ++pos
      while (pos < length && hexValue(input.charCodeAt(pos)) >= 0) pos++
      const hex = input.slice(hexStart, pos)
      if (hex.length === 0 || hex.length % 2 !== 0) fail(input, 'bad #hex value')
      value = decodeBer(input, hex)
      skipSpaces()
    } else {
      let bytes: number[] = []
      let kept = 0 // length of value up to its last character that is not an unescaped space
      for (; pos < length; pos++) {
        const code = input.charCodeAt(pos)
        if (code === COMMA || code === PLUS) break
        if (code === BACKSLASH) {
          const next = input.charCodeAt(pos + 1)
          const high = hexValue(next)
          const low = high < 0 ? -1 : hexValue(input.charCodeAt(pos + 2))
          if (low >= 0) {
            bytes.push(high * 16 + low)
            pos += 2
            continue
          }
          if (!ESCAPABLE.has(next)) fail(input, 'bad escape')
          if (bytes.length > 0) { value += decodeUtf8(input, bytes); bytes = [] }
          value += input[pos + 1]
          pos++
          kept = value.length
          continue
        }
        if (MUST_ESCAPE.has(code)) fail(input, `unescaped ${JSON.stringify(input[pos])}`)
        if (bytes.length > 0) { value += decodeUtf8(input, bytes); bytes = []; kept = value.length }
        value += input[pos]
        if (code !== SPACE) kept = value.length
      }
      if (bytes.length > 0) { value += decodeUtf8(input, bytes); kept = value.length }
      value = value.slice(0, kept)
    }
    rdn.push({ type, value })

    if (pos === length) break
    const separator = input.charCodeAt(pos++)
    if (separator === COMMA) {
      dn.push(rdn)
      rdn = []
      skipSpaces()
      if (pos === length) fail(input, 'trailing ,')
    } else if (separator !== PLUS) {
      fail(input, 'expected , or + after a value')
    }
  }
  dn.push(rdn)
  return dn
}

const SLASH = 47

/**
 * OpenSSL's one-line form `/C=AU/O=Example/CN=alice` (X509_NAME_oneline, nginx's
 * `$ssl_client_s_dn_legacy`): `/` between RDNs, `+` inside a multi-valued RDN, and OpenSSL 3's
 * escapes `\/` `\+` `\\` `\=` plus `\xHH` bytes.
 */
function parseLegacy (input: string): DistinguishedName {
  const length = input.length
  const dn: DistinguishedName = []
  let rdn: RelativeDistinguishedName = []
  let pos = 1
  if (pos === length) fail(input, 'empty legacy DN')
  for (;;) {
    const typeStart = pos
    while (pos < length && input.charCodeAt(pos) !== EQUALS) pos++
    if (pos === length) fail(input, 'expected =')
    const type = checkType(input, input.slice(typeStart, pos))
    pos++
    let value = ''
    let bytes: number[] = []
    for (; pos < length; pos++) {
      const code = input.charCodeAt(pos)
      if (code === SLASH || code === PLUS) break
      if (code === BACKSLASH) {
        const next = input.charCodeAt(pos + 1)
        if (next === 120) { // \xHH
          const high = hexValue(input.charCodeAt(pos + 2))
          const low = high < 0 ? -1 : hexValue(input.charCodeAt(pos + 3))
          if (low < 0) fail(input, 'bad \\x escape')
          bytes.push(high * 16 + low)
          pos += 3
          continue
        }
        if (next !== SLASH && next !== PLUS && next !== BACKSLASH && next !== EQUALS) fail(input, 'bad escape')
        if (bytes.length > 0) { value += decodeUtf8(input, bytes); bytes = [] }
        value += input[pos + 1]
        pos++
        continue
      }
      if (code === 0) fail(input, 'NUL in value')
      if (bytes.length > 0) { value += decodeUtf8(input, bytes); bytes = [] }
      value += input[pos]
    }
    if (bytes.length > 0) value += decodeUtf8(input, bytes)
    rdn.push({ type, value })
    if (pos === length) break
    if (input.charCodeAt(pos) === SLASH) {
      dn.push(rdn)
      rdn = []
    }
    pos++
    if (pos === length) fail(input, `trailing ${input[pos - 1]}`)
  }
  dn.push(rdn)
  return dn
}

/**
 * Parse a distinguished name into its RDNs, in the order written. `auto` reads the OpenSSL slash
 * form when the string starts with `/`, RFC 4514 otherwise. Invalid input throws
 * `FST_TLS_CERT_AUTH_BAD_DN`; nothing is guessed.
 */
export function parseDN (input: string, format: DnFormat = 'auto'): DistinguishedName {
  if (typeof input !== 'string') throw new FST_TLS_CERT_AUTH_BAD_DN('not a string')
  if (format === 'legacy' || (format === 'auto' && input.charCodeAt(0) === SLASH)) {
    if (input.charCodeAt(0) !== SLASH) fail(input, 'a legacy DN starts with /')
    return parseLegacy(input)
  }
  if (format !== 'rfc4514' && format !== 'auto') throw new FST_TLS_CERT_AUTH_BAD_DN(`unknown format ${String(format)}`)
  return parseRfc4514(input)
}

/** Every value of one attribute type, wherever it stands in the DN. */
export function attributeValues (dn: DistinguishedName, type: string): string[] {
  const wanted = canonicalType(type)
  const values: string[] = []
  for (const rdn of dn) {
    for (const attribute of rdn) {
      if (attribute.type === wanted) values.push(attribute.value)
    }
  }
  return values
}

/** RFC 4514 text of a DN (RDNs in the order given), escaping what the RFC says to escape. */
export function formatDN (dn: DistinguishedName): string {
  return dn.map((rdn) => rdn.map(({ type, value }) => `${type}=${escapeValue(value)}`).join('+')).join(',')
}

function escapeValue (value: string): string {
  let escaped = value.replace(/[\\"+,;<>=\0]/g, (char) => char === '\0' ? '\\00' : '\\' + char)
  if (escaped.startsWith('#') || escaped.startsWith(' ')) escaped = '\\' + escaped
  if (value.length > 1 && value.endsWith(' ')) escaped = escaped.slice(0, -1) + '\\ '
  return escaped
}

/** Two DNs name the same entity: same RDNs in the same order, attributes compared as sets. */
export function sameDN (a: DistinguishedName, b: DistinguishedName): boolean {
  if (a.length !== b.length) return false
  const key = (rdn: RelativeDistinguishedName): string =>
    rdn.map(({ type, value }) => JSON.stringify([type, value])).sort().join()
  return a.every((rdn, i) => key(rdn) === key(b[i]))
}
