import { Asn1Error, isStringTag, readTlv, stringAt, type Tlv } from './asn1'
import { ATTRIBUTE_TYPES } from './attribute-types'
import { FST_TLS_CERT_AUTH_BAD_DN } from '../errors'
import { decodeUtf8 } from './encodings'

export interface DnAttribute { type: string, value: string }
export type RelativeDistinguishedName = DnAttribute[]
export type DistinguishedName = RelativeDistinguishedName[]
/** How a DN string is written: `auto` reads the slash form for a string that starts with `/`. */
export const DN_FORMATS = ['auto', 'rfc4514', 'legacy'] as const
export type DnFormat = typeof DN_FORMATS[number]

// The names `identity.subject` has always given these types (OID, name, other spellings met in
// practice). Every other type of OpenSSL's table is named by OpenSSL's short name.
const KEPT_NAMES = [
  ['2.5.4.3', 'CN', 'commonName'],
  ['2.5.4.4', 'SN', 'surname'],
  ['2.5.4.5', 'serialNumber'],
  ['2.5.4.6', 'C', 'countryName'],
  ['2.5.4.7', 'L', 'localityName'],
  ['2.5.4.8', 'ST', 'S', 'stateOrProvinceName'],
  ['2.5.4.9', 'STREET', 'streetAddress'],
  ['2.5.4.10', 'O', 'organizationName'],
  ['2.5.4.11', 'OU', 'organizationalUnitName'],
  ['2.5.4.12', 'title'],
  ['2.5.4.42', 'GN', 'givenName'],
  ['2.5.4.43', 'initials'],
  ['2.5.4.44', 'generationQualifier'],
  ['2.5.4.46', 'dnQualifier'],
  ['2.5.4.65', 'pseudonym'],
  ['2.5.4.97', 'organizationIdentifier'],
  ['0.9.2342.19200300.100.1.25', 'DC', 'domainComponent'],
  ['0.9.2342.19200300.100.1.1', 'UID', 'userId'],
  ['1.2.840.113549.1.9.1', 'emailAddress', 'E', 'email']
]

// What a spelling that two types share ignoring case maps to (OpenSSL's `uid` and `UID`, `mail`
// and `Mail`): RFC 4514 compares type names without case, so it names neither, and is refused.
// Stryker disable next-line StringLiteral: a marker no spelling maps to; any such string does the same
const AMBIGUOUS = ''
// Every spelling of every type (OID, short name, long name) to the type's one name, lower-cased
// and as written: a second CN cannot hide as `2.5.4.3=`, `commonName=` or `cn=`. A spelling found
// as given needs no lower-casing, nor a syntax check: each is known to be a valid type.
const SPELLINGS = new Map<string, string>()
{
  const table = Object.entries(ATTRIBUTE_TYPES)
  // The OID each lower-cased spelling names, or AMBIGUOUS when it names more than one.
  const owner = new Map<string, string>()
  const claim = (spelling: string, oid: string): void => {
    const key = spelling.toLowerCase()
    const found = owner.get(key)
    owner.set(key, found === undefined || found === oid ? oid : AMBIGUOUS)
  }
  for (const [oid, [shortName, longName]] of table) {
    claim(shortName, oid)
    claim(longName, oid)
  }
  const kept = new Map<string, string>()
  for (const [oid, name, ...aliases] of KEPT_NAMES) {
    kept.set(oid, name)
    // Stryker disable next-line ArrayDeclaration: no kept spelling shares a lower case with another type of the table
    for (const spelling of [name, ...aliases]) claim(spelling, oid)
  }
  const index = (spelling: string, name: string, upperCase = false): void => {
    const key = spelling.toLowerCase()
    const value = owner.get(key) === AMBIGUOUS ? AMBIGUOUS : name
    SPELLINGS.set(key, value)
    SPELLINGS.set(spelling, value)
    // Stryker disable next-line ConditionalExpression,MethodExpression: an upper-case spelling is found by its lower case anyway
    if (upperCase) SPELLINGS.set(spelling.toUpperCase(), value)
  }
  for (const [oid, [shortName, longName]] of table) {
    // OpenSSL's short name, unless it is ambiguous: then the OID, which always reads back.
    const name = kept.get(oid) ?? (owner.get(shortName.toLowerCase()) === AMBIGUOUS ? oid : shortName)
    SPELLINGS.set(oid, name) // digits and dots: no case, and no name is spelled so
    index(shortName, name)
    index(longName, name)
  }
  for (const [oid, name, ...aliases] of KEPT_NAMES) {
    SPELLINGS.set(oid, name)
    // These in upper case too, as Go writes some (SERIALNUMBER) and people write others (EMAIL).
    // Stryker disable next-line BooleanLiteral: an upper-case spelling is found by its lower case anyway
    for (const spelling of [name, ...aliases]) index(spelling, name, true)
  }
  // OpenSSL writes `UID` for userId alone (uniqueIdentifier is `uid`): a kept name, exactly so
  // written, stays its type's, as `identity.subject` has always shown it.
  for (const name of kept.values()) SPELLINGS.set(name, name)
}

const DESCR = /^[A-Za-z][A-Za-z0-9-]*$/
const NUMERIC_OID = /^(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+$/

// Stryker disable next-line BlockStatement: a shortcut; a type not starting with a letter fails DESCR anyway
function isDigit (code: number): boolean {
  // Stryker disable next-line EqualityOperator,ConditionalExpression: a shortcut; a type not starting with a letter fails DESCR anyway
  return code >= 48 && code <= 57
}

/** The name a spelling maps to, AMBIGUOUS, or undefined for a type the table does not have. */
function typeName (type: string): string | undefined {
  const name = SPELLINGS.get(type)
  // An OID has no case: SPELLINGS has every OID of the table.
  if (name !== undefined || isDigit(type.charCodeAt(0))) return name
  // Only a name RFC 4514 allows is looked up without case: `\u212A` (Kelvin) lower-cases to `k`.
  return DESCR.test(type) ? SPELLINGS.get(type.toLowerCase()) : undefined
}

/**
 * The one name of an attribute type: `commonName`, `cn` and `2.5.4.3` are all `CN`. A type not
 * in the table, or a spelling two types share, stays as written (no attribute is named so).
 */
export function canonicalType (type: string): string {
  const name = typeName(type)
  return name === undefined || name === AMBIGUOUS ? type : name
}

function fail (input: string, reason: string): never {
  // Never echo a long attacker-chosen string into logs.
  const shown = input.length > 200 ? input.slice(0, 200) + '…' : input
  throw new FST_TLS_CERT_AUTH_BAD_DN(`${reason} in ${JSON.stringify(shown)}`)
}

function checkType (input: string, type: string): string {
  const name = typeName(type)
  if (name === AMBIGUOUS) fail(input, `ambiguous attribute type ${JSON.stringify(type)} (two types are spelled so but for case)`)
  if (name !== undefined) return name
  if (!DESCR.test(type) && !NUMERIC_OID.test(type)) fail(input, `bad attribute type ${JSON.stringify(type)}`)
  return type
}

/** Escaped bytes (`\C3\BC`) as UTF-8; anything ill-formed is refused. */
function escapedText (input: string, bytes: number[]): string {
  try {
    return decodeUtf8(Uint8Array.from(bytes))
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

/** An attribute value of a certificate name as OpenSSL prints it: the text of a string type, else `#` and the hex of its DER. */
export function nameValue (der: Uint8Array, item: Tlv): string {
  if (isStringTag(item.tag)) return stringAt(der, item.tag, item.start, item.end)
  // A string in segments (BER's constructed form, never DER): OpenSSL reads their concatenation,
  // and a `#hex` of it would be a name of its own. Refused, not guessed.
  // Stryker disable next-line ConditionalExpression: with 0x20 clear, tag & ~0x20 is the tag, whose isStringTag failed above
  if ((item.tag & 0x20) !== 0 && isStringTag(item.tag & ~0x20)) throw new Asn1Error('a string in constructed form is not DER')
  return '#' + Buffer.from(der.subarray(item.offset, item.end)).toString('hex')
}

const SPACE = 32
const COMMA = 44
const PLUS = 43
const EQUALS = 61
const BACKSLASH = 92
const HASH = 35
const QUOTE = 34
const SEMICOLON = 59
const LESS = 60
const GREATER = 62

/** Characters RFC 4514 lets appear in a value only when escaped: `"` `;` `<` `>` NUL. */
function mustEscape (code: number): boolean {
  return code === QUOTE || code === SEMICOLON || code === LESS || code === GREATER || code === 0
}

/** Characters that may follow a backslash as themselves: `"` `+` `,` `;` `<` `>` `\` space `#` `=`. */
function escapable (code: number): boolean {
  return code === QUOTE || code === PLUS || code === COMMA || code === SEMICOLON || code === LESS ||
    code === GREATER || code === BACKSLASH || code === SPACE || code === HASH || code === EQUALS
}

/** `kept` after `input[from, to)` was added to a value `length` long: trailing spaces are not kept. */
function keptAfter (input: string, from: number, to: number, length: number, kept: number): number {
  let end = to
  // Stryker disable next-line EqualityOperator,ConditionalExpression: only end > from is read after the loop
  while (end > from && input.charCodeAt(end - 1) === SPACE) end--
  // Stryker disable next-line EqualityOperator,ConditionalExpression: a run of spaces alone: kept is already the length before it
  return end > from ? length - (to - end) : kept
}

/**
 * RFC 4514 (and RFC 2253, which OpenSSL, nginx, Apache, Go and AWS emit), tolerant of spaces around
 * `,` `+` `=` as OpenSSL's `C = AU, CN = mp` shows. One left-to-right pass: linear in the input.
 * Plain runs of a value are sliced, not copied a character at a time: most values have no escape.
 */
function parseRfc4514 (input: string): DistinguishedName {
  const length = input.length
  const dn: DistinguishedName = []
  let pos = 0
  // Stryker disable next-line EqualityOperator,ConditionalExpression: past the end charCodeAt is NaN, never a space
  while (pos < length && input.charCodeAt(pos) === SPACE) pos++
  if (pos === length) return dn
  let rdn: RelativeDistinguishedName = []
  for (;;) {
    // Stryker disable next-line EqualityOperator,ConditionalExpression: past the end charCodeAt is NaN, never a space
    while (pos < length && input.charCodeAt(pos) === SPACE) pos++
    const typeStart = pos
    // Stryker disable next-line EqualityOperator: past the end charCodeAt is NaN; slice and the = check read the same
    while (pos < length && input.charCodeAt(pos) !== EQUALS && input.charCodeAt(pos) !== SPACE) pos++
    const type = checkType(input, input.slice(typeStart, pos))
    // Stryker disable next-line EqualityOperator,ConditionalExpression: past the end charCodeAt is NaN, never a space
    while (pos < length && input.charCodeAt(pos) === SPACE) pos++
    if (input.charCodeAt(pos) !== EQUALS) fail(input, `expected = after ${type}`)
    pos++
    // Stryker disable next-line EqualityOperator,ConditionalExpression: past the end charCodeAt is NaN, never a space
    while (pos < length && input.charCodeAt(pos) === SPACE) pos++

    let value = ''
    if (input.charCodeAt(pos) === HASH) {
      const hexStart = ++pos
      // Stryker disable next-line EqualityOperator,ConditionalExpression: past the end hexValue(NaN) is -1
      while (pos < length && hexValue(input.charCodeAt(pos)) >= 0) pos++
      const hex = input.slice(hexStart, pos)
      // Stryker disable next-line EqualityOperator,ConditionalExpression: past the end charCodeAt is NaN, never a space
      while (pos < length && input.charCodeAt(pos) === SPACE) pos++
      const next = input.charCodeAt(pos)
      if (hex.length === 0 && (pos === length || next === COMMA || next === PLUS)) {
        // OpenSSL escapes a leading `#`, but not when it is the whole value (and so the last
        // character too). `#` and no hex is no BER value in RFC 4514: nothing else can be meant.
        value = '#'
      } else {
        if (hex.length === 0 || hex.length % 2 !== 0) fail(input, 'bad #hex value')
        value = decodeBer(input, hex)
      }
    } else {
      let bytes: number[] | null = null // hex escapes not yet decoded
      let run = pos // start of the plain characters not yet added to value
      let kept = 0 // length of value up to its last character that is not an unescaped space
      for (; pos < length; pos++) {
        const code = input.charCodeAt(pos)
        if (code === COMMA || code === PLUS) break
        if (code === BACKSLASH) {
          // Stryker disable next-line EqualityOperator,ConditionalExpression: an empty run adds nothing and keeps kept
          if (run < pos) {
            value += input.slice(run, pos)
            kept = keptAfter(input, run, pos, value.length, kept)
          }
          const next = input.charCodeAt(pos + 1)
          const high = hexValue(next)
          const low = high < 0 ? -1 : hexValue(input.charCodeAt(pos + 2))
          if (low >= 0) {
            if (bytes === null) bytes = []
            bytes.push(high * 16 + low)
            pos += 2
          } else {
            if (!escapable(next)) fail(input, 'bad escape')
            if (bytes !== null) { value += escapedText(input, bytes); bytes = null }
            value += input[pos + 1]
            pos++
            kept = value.length
          }
          run = pos + 1
          continue
        }
        if (mustEscape(code)) fail(input, `unescaped ${JSON.stringify(input[pos])}`)
        if (bytes !== null) { value += escapedText(input, bytes); bytes = null; kept = value.length }
      }
      // Stryker disable next-line EqualityOperator,ConditionalExpression: an empty run adds nothing and keeps kept
      if (run < pos) {
        value += input.slice(run, pos)
        kept = keptAfter(input, run, pos, value.length, kept)
      }
      if (bytes !== null) { value += escapedText(input, bytes); kept = value.length }
      value = value.slice(0, kept)
    }
    rdn.push({ type, value })

    if (pos === length) break
    const separator = input.charCodeAt(pos++)
    if (separator === COMMA) {
      dn.push(rdn)
      rdn = []
      // Stryker disable next-line EqualityOperator,ConditionalExpression: past the end charCodeAt is NaN, never a space
      while (pos < length && input.charCodeAt(pos) === SPACE) pos++
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
 * `$ssl_client_s_dn_legacy`): `/` between RDNs, `+` inside a multi-valued RDN. Any backslash is
 * refused: OpenSSL 3.0 writes `\/` and `\+` for those in data, but OpenSSL 1.1.1, LibreSSL and
 * BoringSSL write `/`, `+` and `\` raw, so an OU ending in `\` makes the next `/` look escaped
 * (`/OU=x/CN=admin/OU=y\/CN=eve`); and non-ASCII bytes as `\xHH`, which a CN of the letters
 * `\x61dmin` imitates. Names with any of these characters need the RFC 2253 form.
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
    const valueStart = ++pos
    for (; pos < length; pos++) {
      const code = input.charCodeAt(pos)
      if (code === SLASH || code === PLUS) break
      if (code === BACKSLASH) {
        fail(input, 'a backslash in the slash form: it cannot tell an escape from data (OpenSSL before 3.0, ' +
          'LibreSSL and BoringSSL write \\ / + raw); use the RFC 2253 form')
      }
      if (code === 0) fail(input, 'NUL in value')
    }
    rdn.push({ type, value: input.slice(valueStart, pos) })
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

/** Whether `parseDN` reads this text in OpenSSL's slash form: `legacy`, or `auto` meeting a leading `/`. */
export const isSlashForm = (input: string, format: DnFormat): boolean =>
  format === 'legacy' || (format === 'auto' && input.charCodeAt(0) === SLASH)

/**
 * Parse a distinguished name into its RDNs, in the order written. `auto` reads the OpenSSL slash
 * form when the string starts with `/`, RFC 4514 otherwise. Invalid input throws
 * `FST_TLS_CERT_AUTH_BAD_DN`; nothing is guessed.
 */
export function parseDN (input: string, format: DnFormat = 'auto'): DistinguishedName {
  if (typeof input !== 'string') throw new FST_TLS_CERT_AUTH_BAD_DN('not a string')
  if (isSlashForm(input, format)) {
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
  let text = ''
  for (let i = 0; i < dn.length; i++) {
    if (i > 0) text += ','
    const rdn = dn[i]
    for (let j = 0; j < rdn.length; j++) text += `${j > 0 ? '+' : ''}${rdn[j].type}=${escapeValue(rdn[j].value)}`
  }
  return text
}

function escapeValue (value: string): string {
  // Stryker disable next-line ConditionalExpression: a shortcut; escaping a value that needs no escape leaves it as it is
  if (!needsEscape(value)) return value
  let escaped = value.replace(/[\\"+,;<>=\0]/g, (char) => char === '\0' ? '\\00' : '\\' + char)
  if (escaped.startsWith('#') || escaped.startsWith(' ')) escaped = '\\' + escaped
  if (value.length > 1 && value.endsWith(' ')) escaped = escaped.slice(0, -1) + '\\ '
  return escaped
}

/** Whether escapeValue would change anything: most values are plain words. */
function needsEscape (value: string): boolean {
  const last = value.length - 1
  const first = value.charCodeAt(0)
  // Stryker disable next-line ConditionalExpression: a shortcut; escaping a value that needs no escape leaves it as it is
  if (first === HASH || first === SPACE || value.charCodeAt(last) === SPACE) return true
  for (let i = 0; i <= last; i++) {
    const code = value.charCodeAt(i)
    if (code === BACKSLASH || code === PLUS || code === COMMA || code === EQUALS || mustEscape(code)) return true
  }
  return false
}

/** One RDN as a string that does not depend on the order of its attributes. */
function rdnKey (rdn: RelativeDistinguishedName): string {
  return rdn.map(({ type, value }) => JSON.stringify([type, value])).sort().join()
}

/** Two DNs name the same entity: same RDNs in the same order, attributes compared as sets. */
export function sameDN (a: DistinguishedName, b: DistinguishedName): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i]
    const y = b[i]
    // Single-valued RDNs, by far the usual: their keys are equal exactly when types and values are.
    if (x.length === 1 && y.length === 1) {
      if (x[0].type !== y[0].type || x[0].value !== y[0].value) return false
    } else if (rdnKey(x) !== rdnKey(y)) {
      return false
    }
  }
  return true
}
