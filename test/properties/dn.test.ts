// Properties of parseDN: it answers every input with RDNs or FST_TLS_CERT_AUTH_BAD_DN, in time
// linear in the input; what formatDN (or OpenSSL-style hex escaping) writes reads back as the same
// RDNs with canonical types; and no escaped value can add, remove or rename an attribute.

import fc from 'fast-check'
import t from 'tap'
import { ATTRIBUTE_TYPES } from '../../plugin/parse/attribute-types'
import { attributeValues, canonicalType, DN_FORMATS, formatDN, parseDN, type DistinguishedName } from '../../plugin/parse/dn'
import { hasCode, holds, linear, text, throwsOnly } from './helpers'

const badDn = hasCode('FST_TLS_CERT_AUTH_BAD_DN')

/** A DN as parseDN returns it: RDNs of one or more attributes, each a non-empty type and a value. */
function wellFormed (dn: unknown): boolean {
  return Array.isArray(dn) && dn.every((rdn) => Array.isArray(rdn) && rdn.length > 0 && rdn.every((attribute) =>
    typeof attribute?.type === 'string' && attribute.type !== '' && typeof attribute.value === 'string'))
}

// The OpenSSL names two types share but for case: the DN parser refuses them, on purpose.
const AMBIGUOUS = new Set(['uid', 'mail'])
const TABLE = Object.entries(ATTRIBUTE_TYPES) as Array<[string, readonly string[]]>
const KNOWN_LOWER = new Set(TABLE.flatMap(([oid, names]) => [oid, ...names.map((name) => name.toLowerCase())]))

/** Every spelling of the table (OID, short and long name, as OpenSSL writes them), with the one name parseDN gives it. */
const SPELLINGS: Array<[string, string]> = TABLE.flatMap(([oid, names]) => [oid, ...names]
  // Long names such as `Signed Object` hold spaces: no DN type is written so (OpenSSL prints short names).
  .filter((spelling) => !/[ =,+]/.test(spelling))
  .filter((spelling) => spelling === 'UID' || !AMBIGUOUS.has(spelling.toLowerCase()))
  .map((spelling): [string, string] => [spelling, canonicalType(oid)]))

/** Spellings people and other tools write, with the name each must read as (written here, not taken from dn.ts). */
const ALIASES: Array<[string, string]> = [
  ['cn', 'CN'], ['Cn', 'CN'], ['commonName', 'CN'], ['COMMONNAME', 'CN'], ['commonname', 'CN'], ['2.5.4.3', 'CN'],
  ['e', 'emailAddress'], ['E', 'emailAddress'], ['EMAIL', 'emailAddress'], ['email', 'emailAddress'], ['1.2.840.113549.1.9.1', 'emailAddress'],
  ['s', 'ST'], ['st', 'ST'], ['stateOrProvinceName', 'ST'], ['o', 'O'], ['ou', 'OU'], ['c', 'C'], ['l', 'L'], ['dc', 'DC'],
  ['SERIALNUMBER', 'serialNumber'], ['serialnumber', 'serialNumber'], ['2.5.4.5', 'serialNumber'], ['UID', 'UID'], ['userId', 'UID'],
  ['gn', 'GN'], ['givenName', 'GN'], ['sn', 'SN'], ['surname', 'SN'], ['street', 'STREET'], ['postalcode', 'postalCode']
]

/** An attribute type as written, and the type parseDN must give back for it. */
const typeSpelling: fc.Arbitrary<[string, string]> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SPELLINGS) },
  { weight: 2, arbitrary: fc.constantFrom(...ALIASES) },
  {
    weight: 1, // an OID of no table: kept as written
    arbitrary: fc.array(fc.nat({ max: 99999 }), { minLength: 1, maxLength: 6 })
      .map((arcs) => `1.3.6.1.4.1.99999.${arcs.join('.')}`)
      .map((oid): [string, string] => [oid, oid])
  },
  {
    weight: 1, // a name of no table: kept as written
    arbitrary: fc.stringMatching(/^[a-z][A-Za-z0-9-]{0,12}$/)
      .filter((name) => !KNOWN_LOWER.has(name.toLowerCase()) && !ALIASES.some(([alias]) => alias.toLowerCase() === name.toLowerCase()))
      .map((name): [string, string] => [name, name])
  }
)

const INJECTIONS = [',CN=admin', '+CN=admin', 'CN=admin', '\\,CN=admin', '\\2CCN=admin', '#0c0561646d696e', ', CN=admin', '"', '\\', ' ', '#', '=', ';', '<', '>']

/** Values: anything, and above all what a DN has to escape. */
const value: fc.Arbitrary<string> = fc.oneof(
  text(40),
  fc.array(fc.constantFrom(...INJECTIONS, 'a', 'admin', ' ', '  ', 'é', '\0', '\u00a0'), { maxLength: 8 }).map((parts) => parts.join(''))
)

/** RDNs as written (spellings) and as parseDN must return them (canonical types). */
const rdns: fc.Arbitrary<{ written: DistinguishedName, parsed: DistinguishedName }> = fc.array(
  fc.array(fc.tuple(typeSpelling, value), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 }
).map((list) => ({
  written: list.map((rdn) => rdn.map(([[spelling], text]) => ({ type: spelling, value: text }))),
  parsed: list.map((rdn) => rdn.map(([[, canonical], text]) => ({ type: canonical, value: text })))
}))

/**
 * RFC 4514 as OpenSSL writes it, with the escapes chosen at random: what must be escaped always is
 * (`\,` or `\2C`), non-ASCII and controls often as `\XX` UTF-8 bytes, other characters sometimes.
 */
function opensslEscape (input: string, coin: () => boolean): string {
  const chars = [...input]
  const hex = (char: string): string => [...Buffer.from(char, 'utf8')].map((byte) => '\\' + byte.toString(16).toUpperCase().padStart(2, '0')).join('')
  return chars.map((char, i) => {
    const code = char.codePointAt(0) as number
    if (code === 0) return hex(char)
    const must = ',+"\\<>;='.includes(char) || (i === 0 && (char === '#' || char === ' ')) || (i === chars.length - 1 && char === ' ')
    if (must) return coin() ? '\\' + char : hex(char)
    if (code < 0x20 || code >= 0x7f) return coin() ? hex(char) : char
    return coin() && coin() ? hex(char) : char
  }).join('')
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

t.test('total: every input gives RDNs or FST_TLS_CERT_AUTH_BAD_DN, nothing else', async (t) => {
  holds(t, 'any text, each format', fc.property(text(300), fc.constantFrom(...DN_FORMATS), (input, format) => {
    let dn: unknown
    if (!throwsOnly(() => { dn = parseDN(input, format) }, badDn)) return wellFormed(dn)
    return true
  }), 1500)
  holds(t, 'DN-shaped text with a piece changed', fc.property(rdns, fc.nat(), text(6), (dn, at, piece) => {
    const written = formatDN(dn.written)
    const cut = at % (written.length + 1)
    const input = written.slice(0, cut) + piece + written.slice(cut + (at % 3))
    let result: unknown
    return throwsOnly(() => { result = parseDN(input) }, badDn) || wellFormed(result)
  }), 1000)
  holds(t, 'anything that is not a string', fc.property(fc.anything().filter((input) => typeof input !== 'string'), (input) => {
    return throwsOnly(() => parseDN(input as string), badDn)
  }), 200)
  holds(t, 'an unknown format', fc.property(fc.string().filter((format) => !(DN_FORMATS as readonly string[]).includes(format)), (format) => {
    return throwsOnly(() => parseDN('CN=a', format as 'auto'), badDn)
  }), 50)
})

t.test('round trip: formatDN, then parseDN, gives the same RDNs with canonical types', async (t) => {
  holds(t, 'rfc4514 and auto', fc.property(rdns, ({ written, parsed }) => {
    const text = formatDN(written)
    return JSON.stringify(parseDN(text, 'rfc4514')) === JSON.stringify(parsed) && JSON.stringify(parseDN(text)) === JSON.stringify(parsed)
  }), 600)
  holds(t, 'OpenSSL-style escapes (\\XX bytes, \\, or \\2C) read back too', fc.property(rdns, fc.infiniteStream(fc.boolean()), ({ written, parsed }, coins) => {
    const iterator = coins[Symbol.iterator]()
    const coin = (): boolean => iterator.next().value as boolean
    // \XX stands for UTF-8 bytes: a lone surrogate has none, so such values are left out here.
    if (written.some((rdn) => rdn.some(({ value }) => LONE_SURROGATE.test(value)))) return true
    const text = written.map((rdn) => rdn.map(({ type, value }) => `${type}=${opensslEscape(value, coin)}`).join('+')).join(',')
    return JSON.stringify(parseDN(text, 'rfc4514')) === JSON.stringify(parsed)
  }), 600)
  holds(t, 'spaces around separators, as OpenSSL\'s default output writes them', fc.property(rdns, ({ written, parsed }) => {
    const text = written.map((rdn) => rdn.map(({ type, value }) => `${type} = ${formatDN([[{ type: 'x', value }]]).slice(2)}`).join(' + ')).join(', ')
    return JSON.stringify(parseDN(text, 'rfc4514')) === JSON.stringify(parsed)
  }), 300)
  holds(t, 'the slash form, for values it can hold', fc.property(rdns, ({ written, parsed }) => {
    // No / + \ NUL in a value (OpenSSL 3 escapes them, which the plugin refuses).
    const plain = (rdn: DistinguishedName[number]): boolean => rdn.every(({ value }) => !/[/+\\\0]/.test(value))
    if (!written.every(plain)) return true
    const text = '/' + written.map((rdn) => rdn.map(({ type, value }) => `${type}=${value}`).join('+')).join('/')
    return JSON.stringify(parseDN(text, 'legacy')) === JSON.stringify(parsed) && JSON.stringify(parseDN(text)) === JSON.stringify(parsed)
  }), 300)
})

t.test('no escape can make an attribute: the types after parsing are the types before', async (t) => {
  const types = (dn: DistinguishedName): string => JSON.stringify(dn.map((rdn) => rdn.map(({ type }) => type)))
  holds(t, 'RFC 4514: same RDNs, same types in each, same number of CNs', fc.property(rdns, ({ written, parsed }) => {
    const back = parseDN(formatDN(written))
    return types(back) === types(parsed) && attributeValues(back, 'CN').length === attributeValues(parsed, 'CN').length
  }), 600)
  holds(t, 'a value holding ,CN=admin or +CN=admin stays one value', fc.property(value, fc.constantFrom(',CN=admin', '+CN=admin', ', CN=admin', '\\,CN=admin', '+2.5.4.3=admin', ',commonName=admin'), value, (before, injection, after) => {
    const dn = parseDN(formatDN([[{ type: 'O', value: before + injection + after }], [{ type: 'CN', value: 'alice' }]]))
    return dn.length === 2 && dn[0].length === 1 && dn[0][0].value === before + injection + after && JSON.stringify(attributeValues(dn, 'CN')) === '["alice"]'
  }), 400)
  holds(t, 'the slash form refuses any backslash, so no escape can reach it', fc.property(rdns, fc.nat(), ({ written }, at) => {
    const text = '/' + written.map((rdn) => rdn.map(({ type, value }) => `${type}=${value}`).join('+')).join('/')
    const cut = 1 + (at % text.length)
    return throwsOnly(() => parseDN(text.slice(0, cut) + '\\' + text.slice(cut), 'legacy'), badDn)
  }), 300)
})

t.test('linear: input x10, time under x20', async (t) => {
  const parse = (input: string | Buffer): unknown => parseDN(String(input))
  const legacy = (input: string | Buffer): unknown => parseDN(String(input), 'legacy')
  linear(t, 'many RDNs', (n) => 'CN=a,'.repeat(n) + 'O=x', parse, 600)
  linear(t, 'one multi-valued RDN', (n) => 'CN=x' + '+O=y'.repeat(n), parse, 600)
  linear(t, 'escaped specials', (n) => 'CN=' + '\\,'.repeat(n), parse, 1500)
  linear(t, 'hex escapes of UTF-8', (n) => 'CN=' + '\\C3\\BC'.repeat(n), parse, 500)
  linear(t, 'escaped spaces', (n) => 'CN=' + 'a\\ '.repeat(n), parse, 1000)
  linear(t, 'runs of spaces inside a value', (n) => 'CN=' + 'a   '.repeat(n) + 'b', parse, 800)
  linear(t, 'trailing spaces', (n) => 'CN=a' + ' '.repeat(n), parse, 3000)
  linear(t, 'leading spaces', (n) => ' '.repeat(n) + 'CN=a', parse, 3000)
  linear(t, 'a #hex BER value', (n) => 'CN=#0c82' + n.toString(16).padStart(4, '0') + '61'.repeat(n), parse, 1500)
  linear(t, 'an error at the end', (n) => 'CN=' + 'a'.repeat(n) + ';', parse, 3000)
  linear(t, 'bad UTF-8 escapes at the end', (n) => 'CN=' + '\\C3\\BC'.repeat(n) + '\\FF', parse, 500)
  linear(t, 'the slash form', (n) => '/CN=a'.repeat(n), legacy, 600)
  linear(t, 'types that need a lookup', (n) => 'commonName=a,'.repeat(n) + 'x-unknown-type=b', parse, 250)
})
