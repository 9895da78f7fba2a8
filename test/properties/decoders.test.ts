// Properties of every certificate header decoder: decodePem (plain, spaces for newlines,
// URL-encoded as nginx, Envoy and AWS write it), decodeBase64Der, decodeRfc9440, parseXfcc and
// traefikInfoCn. Each answers any text with a result or its own error class (EncodingError,
// XfccError, TraefikInfoError), in time linear in the input, and reads back what a proxy writes.

import fc from 'fast-check'
import t from 'tap'
import { decodeBase64Der, decodePem, decodeRfc9440, EncodingError } from '../../plugin/parse/encodings'
import { traefikInfoCn, TraefikInfoError } from '../../plugin/parse/traefik'
import { parseXfcc, XfccError } from '../../plugin/parse/xfcc'
import { holds, linear, text, throwsOnly } from './helpers'

const is = (type: new (...args: never[]) => Error) => (error: unknown): boolean => error instanceof type

/** Buffers, none of them empty: certificates. */
const certificates = fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes)), { minLength: 1, maxLength: 3 })

const same = (a: Buffer[], b: Buffer[]): boolean => a.length === b.length && a.every((buffer, i) => buffer.equals(b[i]))

function pemBlock (der: Buffer, width: number, newline: string): string {
  const body = der.toString('base64').match(new RegExp(`.{1,${width}}`, 'g')) ?? []
  return ['-----BEGIN CERTIFICATE-----', ...body, '-----END CERTIFICATE-----'].join(newline) + newline
}

/** How proxies write PEM into a header. */
const PEM_STYLES: Record<string, (pem: string) => string> = {
  plain: (pem) => pem,
  crlf: (pem) => pem.replace(/\n/g, '\r\n'),
  'spaces for newlines (Apache)': (pem) => pem.replace(/\n/g, ' ').trim(),
  'URL-encoded (nginx, Envoy)': (pem) => encodeURIComponent(pem),
  'URL-encoded, + = / raw (AWS)': (pem) => encodeURIComponent(pem).replace(/%2B/g, '+').replace(/%3D/g, '=').replace(/%2F/g, '/'),
  'white space around': (pem) => `\n  ${pem}\t\n`
}

t.test('total: a result or the decoder\'s own error, never another exception', async (t) => {
  const pemish = fc.tuple(certificates, fc.constantFrom(...Object.values(PEM_STYLES)), fc.nat(), text(8))
    .map(([ders, style, at, piece]) => {
      const written = style(ders.map((der) => pemBlock(der, 64, '\n')).join(''))
      const cut = at % (written.length + 1)
      return written.slice(0, cut) + piece + written.slice(cut + (at % 4))
    })
  const decoded = (decode: (value: string) => Buffer[]) => (input: string): boolean => {
    let result: Buffer[] = []
    if (throwsOnly(() => { result = decode(input) }, is(EncodingError))) return true
    return result.length > 0 && result.every((item) => Buffer.isBuffer(item))
  }
  holds(t, 'decodePem: any text', fc.property(text(300), decoded(decodePem)), 1000)
  holds(t, 'decodePem: PEM with a piece changed', fc.property(pemish, decoded(decodePem)), 1000)
  holds(t, 'decodeBase64Der: any text', fc.property(text(300), decoded(decodeBase64Der)), 1000)
  holds(t, 'decodeBase64Der: base64 with a piece changed', fc.property(certificates, fc.nat(), text(6), (ders, at, piece) => {
    const written = ders.map((der) => der.toString('base64')).join(',')
    const cut = at % (written.length + 1)
    return decoded(decodeBase64Der)(written.slice(0, cut) + piece + written.slice(cut))
  }), 800)
  holds(t, 'decodeRfc9440: any text', fc.property(text(300), decoded(decodeRfc9440)), 1000)
  holds(t, 'decodeRfc9440: byte sequences with a piece changed', fc.property(certificates, fc.nat(), text(6), (ders, at, piece) => {
    const written = ders.map((der) => `:${der.toString('base64')}:`).join(', ')
    const cut = at % (written.length + 1)
    return decoded(decodeRfc9440)(written.slice(0, cut) + piece + written.slice(cut))
  }), 800)
  holds(t, 'parseXfcc: any text', fc.property(text(300), (input) => {
    let elements: unknown
    return throwsOnly(() => { elements = parseXfcc(input) }, is(XfccError)) || (Array.isArray(elements) && elements.length > 0 && elements.every((element) => element instanceof Map))
  }), 1500)
  holds(t, 'traefikInfoCn: any text', fc.property(text(300), (input) => {
    let cn: unknown
    return throwsOnly(() => { cn = traefikInfoCn(input) }, is(TraefikInfoError)) || typeof cn === 'string'
  }), 1500)
  holds(t, 'traefikInfoCn: an Info header with a piece changed', fc.property(fc.nat(), text(6), (at, piece) => {
    const written = encodeURIComponent('Subject="C=AU,O=Example,CN=alice";Issuer="CN=CA";NB="1";NA="2";SAN=""')
    const cut = at % (written.length + 1)
    let cn: unknown
    return throwsOnly(() => { cn = traefikInfoCn(written.slice(0, cut) + piece + written.slice(cut)) }, is(TraefikInfoError)) || typeof cn === 'string'
  }), 800)
})

t.test('round trip: what a proxy writes decodes to the same certificates', async (t) => {
  for (const [style, write] of Object.entries(PEM_STYLES)) {
    holds(t, `decodePem: ${style}`, fc.property(certificates, fc.constantFrom(64, 76), (ders, width) =>
      same(decodePem(write(ders.map((der) => pemBlock(der, width, '\n')).join(''))), ders)), 200)
  }
  holds(t, 'decodeBase64Der: a chain after commas, spaces around, URL-escaped or not', fc.property(certificates, fc.constantFrom(',', ', ', ' ,'), fc.boolean(), (ders, comma, escaped) => {
    const written = ders.map((der) => der.toString('base64')).join(comma)
    return same(decodeBase64Der(escaped ? encodeURIComponent(written) : written), ders)
  }), 400)
  holds(t, 'decodeRfc9440: a list of byte sequences', fc.property(certificates, fc.constantFrom(',', ', ', ' , '), fc.constantFrom('', ' ', '\t'), (ders, comma, around) => {
    const written = around + ders.map((der) => `:${der.toString('base64')}:`).join(comma) + around
    return same(decodeRfc9440(written), ders)
  }), 400)

  // XFCC: elements of key=value pairs; a value is quoted when it holds , ; = " or starts with a
  // quote, with \" for a quote. A quoted value cannot end in a backslash (\" would close nothing).
  const key = fc.oneof(fc.constantFrom('By', 'Hash', 'Cert', 'Chain', 'Subject', 'URI', 'DNS'), fc.stringMatching(/^[a-z]{1,8}$/))
  const value = text(40).filter((value) => !value.endsWith('\\'))
  const element = fc.array(fc.tuple(key, value, fc.boolean()), { minLength: 1, maxLength: 4 })
  holds(t, 'parseXfcc: elements of pairs, quoted where needed', fc.property(fc.array(element, { minLength: 1, maxLength: 3 }), (elements) => {
    const written = elements.map((pairs) => pairs.map(([name, text, quote]) => {
      const quoted = quote || /[,;="]/.test(text) || text === ''
      return `${name}=${quoted ? `"${text.replace(/"/g, '\\"')}"` : text}`
    }).join(';')).join(',')
    const expected = elements.map((pairs) => {
      const map = new Map<string, string[]>()
      for (const [name, text] of pairs) map.set(name.toLowerCase(), [...(map.get(name.toLowerCase()) ?? []), text])
      return [...map]
    })
    return JSON.stringify(parseXfcc(written).map((map) => [...map])) === JSON.stringify(expected)
  }), 600)

  // Traefik: url.QueryEscape of Subject="…";Issuer="…", the CN last in the subject and once.
  // Well-formed text (a lone surrogate has no URL escape), no quote, no CN= of its own.
  const plain = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ unit: fc.constantFrom(...'=,;+%"\\ CN/#é'), maxLength: 20 }))
    .map((value) => value.replace(/"/g, "'").replace(/CN=/g, 'CN-'))
  holds(t, 'traefikInfoCn: the CN of a query-escaped Info header', fc.property(fc.array(fc.tuple(fc.constantFrom('DC', 'C', 'ST', 'L', 'O', 'OU', 'SN'), plain), { maxLength: 4 }), plain, plain, (others, cn, issuer) => {
    const subject = [...others.map(([type, value]) => `${type}=${value}`), `CN=${cn}`].join(',')
    const header = `Subject="${subject}";Issuer="${issuer}";NB="1700000000";NA="1800000000";SAN=""`
    const escaped = encodeURIComponent(header).replace(/%20/g, '+')
    return traefikInfoCn(escaped) === cn
  }), 600)
})

t.test('linear: input x10, time under x20', async (t) => {
  const der = (n: number): Buffer => Buffer.alloc(n, 0x5a)
  const call = (decode: (value: string) => unknown) => (input: string | Buffer): unknown => decode(String(input))
  linear(t, 'decodePem: one big block', (n) => pemBlock(der(n), 64, '\n'), call(decodePem), 2000)
  linear(t, 'decodePem: URL-encoded', (n) => encodeURIComponent(pemBlock(der(n), 64, '\n')), call(decodePem), 1000)
  linear(t, 'decodePem: spaces for newlines', (n) => pemBlock(der(n), 64, ' '), call(decodePem), 2000)
  linear(t, 'decodePem: a long chain', (n) => pemBlock(der(60), 64, '\n').repeat(n), call(decodePem), 20)
  linear(t, 'decodePem: BEGIN lines and no END', (n) => '-----BEGIN CERTIFICATE-----\n'.repeat(n), call(decodePem), 100)
  linear(t, 'decodePem: junk', (n) => 'x'.repeat(n), call(decodePem), 3000)
  linear(t, 'decodeBase64Der: one part', (n) => der(n).toString('base64'), call(decodeBase64Der), 2000)
  linear(t, 'decodeBase64Der: many parts', (n) => Array.from({ length: n }, () => 'QUJD').join(','), call(decodeBase64Der), 600)
  linear(t, 'decodeRfc9440: one item', (n) => `:${der(n).toString('base64')}:`, call(decodeRfc9440), 2000)
  linear(t, 'decodeRfc9440: items with white space', (n) => Array.from({ length: n }, () => ' :QUJD: ').join(','), call(decodeRfc9440), 300)
  linear(t, 'decodeRfc9440: no closing colon', (n) => ':' + 'A'.repeat(n), call(decodeRfc9440), 3000)
  linear(t, 'decodeRfc9440: spaces, no colon', (n) => ' '.repeat(n) + 'x', call(decodeRfc9440), 3000)
  linear(t, 'parseXfcc: many pairs', (n) => Array.from({ length: n }, (_, i) => `By=spiffe://x/${i}`).join(';'), call(parseXfcc), 150)
  linear(t, 'parseXfcc: many elements', (n) => Array.from({ length: n }, (_, i) => `By=${i}`).join(','), call(parseXfcc), 300)
  linear(t, 'parseXfcc: a quoted value of escaped quotes', (n) => 'Subject="' + 'a\\"'.repeat(n) + '"', call(parseXfcc), 1000)
  linear(t, 'parseXfcc: an unterminated quote', (n) => 'Subject="' + 'a'.repeat(n), call(parseXfcc), 3000)
  linear(t, 'parseXfcc: no =', (n) => 'a'.repeat(n), call(parseXfcc), 3000)
  linear(t, 'traefikInfoCn: a long subject', (n) => encodeURIComponent(`Subject="${'O=x,'.repeat(n)}CN=alice";Issuer="CN=ca"`), call(traefikInfoCn), 200)
  linear(t, 'traefikInfoCn: many CN markers', (n) => encodeURIComponent(`Subject="${'CN=x,'.repeat(n)}";Issuer="CN=ca"`), call(traefikInfoCn), 200)
  linear(t, 'traefikInfoCn: bad escaping at the end', (n) => 'Subject%3D%22'.repeat(n) + '%zz', call(traefikInfoCn), 200)
})
