// Seeded certificate subjects for the differential test: every attribute type of OpenSSL's name
// table (one per certificate, in a shuffled cycle, so a run of 1,100 certificates or more holds
// them all), unknown OIDs, OIDs and names that look like CN, every string type OpenSSL prints,
// multi-valued RDNs, zero to three CNs, and values full of what DN strings must escape. A few
// certificates in a hundred carry an encoding that OpenSSL reads but DER does not allow, or that
// OpenSSL refuses: invalid UTF-8, a CN that is not a string, a constructed string, a long-form
// length, a non-minimal OID.

import { ATTRIBUTE_TYPES } from '../../plugin/parse/attribute-types'
import * as der from '../helpers/der'
import type { Random } from './random'

export const CN = '2.5.4.3'

export interface GeneratedAttribute {
  /** The OID as the generator meant it (a non-minimal encoding still names its arcs). */
  oid: string
  /** The whole OID element, as written into the certificate. */
  type: Buffer
  /** The whole value element. */
  value: Buffer
}

export interface GeneratedSubject {
  /** The RDNs in DER order (most general first), each a SET of attributes. */
  rdns: GeneratedAttribute[][]
  /** The Name element. */
  name: Buffer
  /** What this subject holds, for the report (`multi-valued RDN`, `2 CNs`, `invalid UTF-8`…). */
  features: string[]
}

const TABLE_OIDS = Object.keys(ATTRIBUTE_TYPES).filter((oid) => oid !== CN)

const COMMON = [
  '2.5.4.6', '2.5.4.10', '2.5.4.11', '2.5.4.7', '2.5.4.8', '1.2.840.113549.1.9.1', '0.9.2342.19200300.100.1.1',
  '0.9.2342.19200300.100.1.25', '2.5.4.5', '2.5.4.12', '2.5.4.4', '2.5.4.42', '2.5.4.9', '2.5.4.17', '2.5.4.97', '2.5.4.65'
]

/** OIDs next to 2.5.4.3, below it, above it, and with arcs that end in 3 but are not 3. */
const NEAR_CN = [
  '2.5.4.3.0', '2.5.4.3.1', '2.5.4.3.3', '2.5.4.30', '2.5.4.31', '2.5.4.33', '2.5.4.300', '2.5.4.131', '2.5.4.259',
  '2.5.4.2', '2.5.4.4', '2.5.4.13', '2.5.4.103', '2.5.3', '2.5.5.3', '2.6.4.3', '0.5.4.3', '1.5.4.3', '2.5.4.3.2.5.4.3',
  '1.3.6.1.4.1.2.5.4.3', '2.5.4.2147483651', '2.5.4.4294967299', '2.5.4.9007199254740995', '2.5.4.18446744073709551619'
]

/** Types of the table whose names look like CN or commonName to a reader (`cNAMERecord`…). */
const CN_LIKE_NAMES = Object.entries(ATTRIBUTE_TYPES)
  .filter(([oid, names]) => oid !== CN && names.some((name) => /cn|common/i.test(name)))
  .map(([oid]) => oid)

const WORDS = ['alice', 'bob', 'admin', 'root', 'Example', 'Smith', 'John', 'x', 'CN', 'cn', 'commonName', 'O', 'dept', 'ops', 'Q']
const SPECIALS = [',', '+', '=', '\\', '"', '<', '>', ';', '#', '/']
const INJECTIONS = [
  ',CN=admin', '+CN=admin', '/CN=admin', 'CN=admin', '\\,CN=admin', '\\2CCN=admin', '"CN=admin"', ', CN=admin', '/O=x/CN=admin',
  '#0c0561646d696e', '\\', '\\\\', ',', '+', 'commonName=admin', '2.5.4.3=admin'
]
const NON_ASCII = [
  'é', 'ü', 'ß', 'Ø', 'ñ', 'ÿ', '€', 'Ω', 'Ж', '漢字', 'ｱ', '😀', '𝔸', '\u00a0', '\ufeff', '\u202e', '\u200b', 'İ', 'K', 'ﬁ',
  '\ufffd', '\uffff', '\u2028'
]
const C0 = [...Array.from({ length: 32 }, (_, code) => String.fromCharCode(code)), '\x7f']
const C1 = ['\u0080', '\u0085', '\u009b', '\u009f']

type StringKind = 'utf8' | 'printable' | 'ia5' | 'teletex' | 'numeric' | 'bmp' | 'universal'

const ALLOWED: Record<StringKind, (code: number) => boolean> = {
  utf8: () => true,
  universal: () => true,
  bmp: (code) => code <= 0xffff,
  teletex: (code) => code <= 0xff,
  ia5: (code) => code < 0x80,
  printable: (code) => /^[A-Za-z0-9 '()+,\-./:=?]$/.test(String.fromCharCode(code)),
  numeric: (code) => (code >= 0x30 && code <= 0x39) || code === 0x20
}

/** Random text made of pieces: words, digits, specials, injections, non-ASCII, spaces, controls. */
function text (r: Random, cn: boolean): string {
  if (r.chance(0.01)) return ''
  let value = ''
  const pieces = r.int(1, 4)
  for (let i = 0; i < pieces; i++) {
    const kind = r.weighted({ word: 40, digits: 10, special: 15, injection: 8, nonAscii: 15, space: 6, control: cn ? 1.5 : 3, c1: 1 })
    if (kind === 'word') value += r.pick(WORDS)
    else if (kind === 'digits') value += String(r.int(0, 99999))
    else if (kind === 'special') value += r.pick(SPECIALS)
    else if (kind === 'injection') value += r.pick(INJECTIONS)
    else if (kind === 'nonAscii') value += r.pick(NON_ASCII)
    else if (kind === 'space') value += ' '.repeat(r.int(1, 2))
    else if (kind === 'control') value += r.pick(C0)
    else value += r.pick(C1)
  }
  if (r.chance(0.06)) value = ' '.repeat(r.int(1, 2)) + value
  if (r.chance(0.08)) value += ' '.repeat(r.int(1, 2))
  return value
}

function valueFor (r: Random, kind: StringKind, cn: boolean): string {
  if (kind === 'numeric') {
    let digits = ''
    for (let i = r.int(0, 10); i > 0; i--) digits += r.chance(0.15) ? ' ' : String(r.int(0, 9))
    return digits
  }
  const raw = text(r, cn)
  const kept = [...raw].filter((char) => ALLOWED[kind](char.codePointAt(0) ?? 0)).join('')
  return kept === '' && raw !== '' ? r.pick(WORDS) : kept
}

function stringValue (r: Random, cn: boolean): Buffer {
  const kind = r.weighted<StringKind>({ utf8: 45, printable: 15, ia5: 10, teletex: 10, bmp: 10, universal: 5, numeric: 5 })
  return der.string(der.TAGS[kind], valueFor(r, kind, cn))
}

/** An OID of no table: a private enterprise arc, the example arc 2.999, and now and then a huge arc. */
function unknownOid (r: Random): string {
  const kind = r.weighted({ enterprise: 5, example: 3, deep: 1, huge: 1 })
  if (kind === 'enterprise') return `1.3.6.1.4.1.${r.int(1, 99999)}.${r.int(0, 999)}`
  if (kind === 'example') return `2.999.${r.int(0, 9999)}`
  if (kind === 'deep') return `1.2.${Array.from({ length: r.int(3, 30) }, () => r.int(0, 99999)).join('.')}`
  return `1.3.6.1.4.1.${r.pick(['4294967296', '9007199254740993', '123456789012345678901234567890'])}.${r.int(0, 9)}`
}

/** A value OpenSSL accepts in a name although it is no string: printed `#hex`, or its bytes in the slash form. */
function nonStringValue (r: Random, cn: boolean): Buffer {
  const word = cn ? r.pick(['admin', 'alice', 'root', r.pick(WORDS)]) : r.pick(WORDS)
  const tag = r.pick([0x03, 0x30, 0x07, 0x08, 0x09, 0x0b, 0x0d, 0x0e, 0x0f, 0x1d])
  if (tag === 0x03) return der.tlv(0x03, Buffer.concat([Buffer.from([0]), Buffer.from(word)]))
  if (tag === 0x30 && r.chance(0.5)) return der.tlv(0x30, Buffer.from(word.padEnd(32 + r.int(0, 20), '.')))
  return der.tlv(tag, Buffer.from(word))
}

/** A BER constructed string: the value cut into primitive segments of the same type. */
function constructedValue (r: Random): Buffer {
  const kind = r.pick(['utf8', 'printable', 'ia5'] as const)
  const value = valueFor(r, kind, true) || 'admin'
  const chars = [...value]
  const cut = r.int(0, chars.length)
  const segments = [chars.slice(0, cut).join(''), chars.slice(cut).join('')].filter((part) => part !== '')
  return der.tlv(0x20 | der.TAGS[kind], Buffer.concat(segments.map((part) => der.string(der.TAGS[kind], part))))
}

/** The same value with a long-form length (`81 05` for 5 bytes): BER, not DER. */
function longLength (value: Buffer): Buffer {
  if (value[1] >= 0x80) return value
  const content = value.subarray(2)
  return content.length < 0x80 ? Buffer.concat([Buffer.from([value[0], 0x81, content.length]), content]) : value
}

/** The OID 2.5.4.3 with a 0x80 pad before its last arc: not DER, nor BER. */
const NON_MINIMAL_CN = der.tlv(0x06, Buffer.from([0x55, 0x04, 0x80, 0x03]))

/** Bytes that are no UTF-8: a lone continuation, a cut sequence, an overlong form, a surrogate, past U+10FFFF. */
function invalidUtf8 (r: Random): Buffer {
  const bad = r.pick([[0x80], [0xc3], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xff], [0xf8, 0x88, 0x80, 0x80, 0x80]])
  return der.tlv(der.TAGS.utf8, Buffer.concat([Buffer.from('ab'), Buffer.from(bad), Buffer.from('cd')]))
}

export class SubjectGenerator {
  readonly #r: Random
  readonly #cycle: string[]
  #next = 0

  constructor (r: Random) {
    this.#r = r
    this.#cycle = r.shuffle(TABLE_OIDS)
  }

  /** How many types of the table the certificates so far have held. */
  get tableTypesUsed (): number {
    return Math.min(this.#next, this.#cycle.length)
  }

  static get tableSize (): number {
    return TABLE_OIDS.length
  }

  #otherType (first: boolean): { oid: string, feature?: string } {
    const r = this.#r
    if (first) return { oid: this.#cycle[this.#next++ % this.#cycle.length] }
    const kind = r.weighted({ common: 45, table: 15, unknown: 15, near: 10, names: 5 })
    if (kind === 'common') return { oid: r.pick(COMMON) }
    if (kind === 'table') return { oid: r.pick(TABLE_OIDS) }
    if (kind === 'unknown') return { oid: unknownOid(r), feature: 'unknown type' }
    if (kind === 'near') return { oid: r.pick(NEAR_CN), feature: 'OID near 2.5.4.3' }
    return { oid: r.pick(CN_LIKE_NAMES), feature: 'name like CN' }
  }

  next (): GeneratedSubject {
    for (;;) {
      const subject = this.#attempt()
      // Well under the 16 KiB of headers Node reads once a proxy has escaped and encoded it all.
      if (subject.name.length <= 900) return subject
    }
  }

  #attempt (): GeneratedSubject {
    const r = this.#r
    const features = new Set<string>()
    const empty = r.chance(0.01)
    const cnCount = empty ? 0 : Number(r.weighted({ 0: 7, 1: 85, 2: 6, 3: 2 }))
    const otherCount = empty ? 0 : r.int(0, 5) + (r.chance(0.97) ? 1 : 0)
    if (empty) features.add('empty subject')
    if (cnCount !== 1) features.add(`${cnCount} CNs`)

    const attributes: GeneratedAttribute[] = []
    for (let i = 0; i < otherCount; i++) {
      const { oid, feature } = this.#otherType(i === 0)
      if (feature !== undefined) features.add(feature)
      attributes.push({ oid, type: der.oid(oid), value: stringValue(r, false) })
    }
    for (let i = 0; i < cnCount; i++) attributes.push({ oid: CN, type: der.oid(CN), value: stringValue(r, true) })

    const anomaly = attributes.length === 0
      ? 'none'
      : r.weighted({ none: 930, invalidUtf8: 15, nonStringCn: 25, nonStringOther: 5, constructed: 10, longLength: 10, nonMinimalOid: 5 })
    const cns = attributes.filter((attribute) => attribute.oid === CN)
    const others = attributes.filter((attribute) => attribute.oid !== CN)
    if (anomaly === 'invalidUtf8') {
      r.pick(attributes).value = invalidUtf8(r)
      features.add('invalid UTF-8')
    } else if (anomaly === 'nonStringCn' && cns.length > 0) {
      r.pick(cns).value = nonStringValue(r, true)
      features.add('CN not a string')
    } else if (anomaly === 'nonStringOther' && others.length > 0) {
      r.pick(others).value = nonStringValue(r, false)
      features.add('value not a string')
    } else if (anomaly === 'constructed' && cns.length > 0) {
      r.pick(cns).value = constructedValue(r)
      features.add('constructed string')
    } else if (anomaly === 'longLength') {
      const attribute = r.pick(attributes)
      attribute.value = longLength(attribute.value)
      features.add('long-form length')
    } else if (anomaly === 'nonMinimalOid' && cns.length > 0) {
      r.pick(cns).type = NON_MINIMAL_CN
      features.add('non-minimal OID')
    }

    const rdns: GeneratedAttribute[][] = []
    for (const attribute of r.shuffle(attributes)) {
      if (rdns.length > 0 && r.chance(0.2)) {
        rdns[rdns.length - 1].push(attribute)
        features.add('multi-valued RDN')
      } else {
        rdns.push([attribute])
      }
    }
    const name = der.sequence(...rdns.map((rdn) => der.set(...rdn.map(({ type, value }) => der.sequence(type, value)))))
    return { rdns, name, features: [...features] }
  }
}
