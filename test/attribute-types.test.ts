// Attribute types are compared by OID, under every name OpenSSL's table gives them.

import { existsSync, readFileSync } from 'node:fs'
import { test } from 'tap'
import { ATTRIBUTE_TYPES } from '../plugin/parse/attribute-types'
import { canonicalType, parseDN } from '../plugin/parse/dn'
import { generateTable, OBJ_MAC_H, readObjMac, renderTable, TABLE_FILE } from './tools/attribute-types'

// What identity.subject has always called these types, and their other spellings.
const KEPT: Record<string, string[]> = {
  '2.5.4.3': ['CN', 'commonName'],
  '2.5.4.4': ['SN', 'surname'],
  '2.5.4.5': ['serialNumber'],
  '2.5.4.6': ['C', 'countryName'],
  '2.5.4.7': ['L', 'localityName'],
  '2.5.4.8': ['ST', 'S', 'stateOrProvinceName'],
  '2.5.4.9': ['STREET', 'streetAddress'],
  '2.5.4.10': ['O', 'organizationName'],
  '2.5.4.11': ['OU', 'organizationalUnitName'],
  '2.5.4.12': ['title'],
  '2.5.4.42': ['GN', 'givenName'],
  '2.5.4.43': ['initials'],
  '2.5.4.44': ['generationQualifier'],
  '2.5.4.46': ['dnQualifier'],
  '2.5.4.65': ['pseudonym'],
  '2.5.4.97': ['organizationIdentifier'],
  '0.9.2342.19200300.100.1.25': ['DC', 'domainComponent'],
  '0.9.2342.19200300.100.1.1': ['UID', 'userId'],
  '1.2.840.113549.1.9.1': ['emailAddress', 'E', 'email']
}

const TABLE: Array<[string, readonly string[]]> = Object.entries(ATTRIBUTE_TYPES)

/** Every spelling of every type: OID, OpenSSL's short and long name, the kept names. */
function spellings (): Map<string, string[]> {
  const all = new Map<string, string[]>()
  for (const [oid, names] of TABLE) all.set(oid, [oid, ...names])
  for (const [oid, names] of Object.entries(KEPT)) all.set(oid, [...(all.get(oid) ?? [oid]), ...names])
  return all
}

/** The OIDs each spelling names, ignoring case. */
function owners (): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>()
  for (const [oid, list] of spellings()) {
    for (const spelling of list) found.set(spelling.toLowerCase(), (found.get(spelling.toLowerCase()) ?? new Set()).add(oid))
  }
  return found
}

/** The spelling in several cases: as written, lower, upper, and alternating both ways. */
function caseVariants (spelling: string): string[] {
  const alternate = (odd: boolean) => [...spelling].map((char, i) => (i % 2 === 1) === odd ? char.toUpperCase() : char.toLowerCase()).join('')
  return [...new Set([spelling, spelling.toLowerCase(), spelling.toUpperCase(), alternate(true), alternate(false)])]
}

test('the committed table is what the generator makes of OpenSSL\'s obj_mac.h', {
  skip: existsSync(OBJ_MAC_H) || process.env.CI === 'true' ? false : `${OBJ_MAC_H} not found (apt-get install libssl-dev): the table cannot be checked`
}, async (t) => {
  t.equal(readFileSync(TABLE_FILE, 'utf8'), generateTable(), 'plugin/parse/attribute-types.ts is out of date: run `npm run attribute-types`')
})

test('the generator: nested OBJ_ macros, one name for both, aliases, single arcs, OIDs named twice', async (t) => {
  const header = [
    '#define SN_iso "ISO"', '#define LN_iso "iso"', '#define NID_iso 181', '#define OBJ_iso 1L',
    '#define SN_org "ORG"', '#define LN_org "org"', '#define NID_org 379', '#define OBJ_org OBJ_iso,3L',
    '#define SN_identified_organization "identified-organization"', '#define NID_identified_organization 676',
    '#define OBJ_identified_organization OBJ_iso,3L',
    '#define OBJ_dod OBJ_org,6L',
    '#define LN_internet "internet"', '#define NID_internet 9', '#define OBJ_internet OBJ_dod,1L',
    '#define SN_big "big"', '#define NID_big 10', '#define OBJ_big OBJ_internet,4294967296L,2L',
    '#define SN_noOid "noOid"', '#define NID_noOid 11',
    '#define SN_alias SN_big', '#define NID_alias NID_big', '#define OBJ_alias OBJ_big'
  ].join('\n')
  const objects = readObjMac(header)
  t.same(objects, [
    { oid: '1.3', shortName: 'ORG', longName: 'org' },
    { oid: '1.3.6.1', shortName: 'internet', longName: 'internet' },
    { oid: '1.3.6.1.4294967296.2', shortName: 'big', longName: 'big' }
  ], 'sorted arc by arc; the lower NID names a shared OID; no single arc, no OID-less object, no alias')
  t.match(renderTable(objects), /^ {2}'1\.3': \['ORG', 'org'\],$/m)
  t.equal(renderTable([{ oid: '1.2', shortName: "it's", longName: 'a\\b' }]).includes("'1.2': ['it\\'s', 'a\\\\b']"), true, 'quotes escaped')
  t.throws(() => readObjMac('#define SN_x "x"\n#define NID_x 1\n#define OBJ_x OBJ_missing,1L'), /cannot resolve OBJ_missing/)
  t.throws(() => readObjMac('#define SN_x "x"\n#define NID_x 1\n#define OBJ_x 1L,two'), /unexpected "two"/)
  t.throws(() => readObjMac('#define SN_x SN_y\n#define NID_x 1\n#define OBJ_x 1L,2L'), /not a plain string/)
  t.equal(generateTable('/nonexistent/obj_mac.h'), null)
})

test('each type of the table is named by OpenSSL\'s short name, the kept types by their old names', async (t) => {
  const shared = owners()
  let checked = 0
  for (const [oid, [shortName]] of TABLE) {
    const kept = KEPT[oid]?.[0]
    const expected = kept ?? ((shared.get(shortName.toLowerCase())?.size ?? 0) > 1 ? oid : shortName)
    if (canonicalType(oid) !== expected) t.fail(`${oid}: ${canonicalType(oid)}, expected ${expected}`)
    // The name reads back as the same type, whatever OpenSSL's name looks like.
    if (parseDN(`${expected}=x`)[0][0].type !== expected) t.fail(`${expected} does not read back`)
    checked++
  }
  t.equal(checked, TABLE.length, `${checked} types`)
  t.ok(checked > 1000, 'the whole table, not a list of favourites')
  for (const [oid, [name, ...aliases]] of Object.entries(KEPT)) {
    for (const spelling of [oid, name, ...aliases]) {
      if (spelling === 'UID') continue // the one kept name another type shares but for case: see below
      for (const variant of caseVariants(spelling)) t.equal(canonicalType(variant), name, `${variant} is ${name}`)
    }
  }
  t.equal(canonicalType('1.3.6.1.4.1.1466.0'), '1.3.6.1.4.1.1466.0', 'an OID not in the table stays as it is')
  t.equal(canonicalType('SomethingElse'), 'SomethingElse')
  t.equal(canonicalType('\u212Aey'), '\u212Aey', 'no Unicode case folding (the Kelvin sign lower-cases to k)')
})

test('OpenSSL\'s names of nginx\'s DNs: postalCode, businessCategory, unstructuredName, jurisdictionC, and Go\'s upper case', async (t) => {
  for (const [spellings, name] of [
    [['postalCode', 'POSTALCODE', '2.5.4.17'], 'postalCode'],
    [['serialNumber', 'SERIALNUMBER', '2.5.4.5'], 'serialNumber'],
    [['street', 'STREET', 'streetAddress', '2.5.4.9'], 'STREET'],
    [['businessCategory', '2.5.4.15'], 'businessCategory'],
    [['unstructuredName', '1.2.840.113549.1.9.2'], 'unstructuredName'],
    [['jurisdictionC', 'jurisdictionCountryName', '1.3.6.1.4.1.311.60.2.1.3'], 'jurisdictionC'],
    [['dnsName', '2.5.4.100'], 'dnsName'],
    [['RSA-SHA512/224', 'sha512-224WithRSAEncryption'], 'RSA-SHA512/224'],
    [['ad_timestamping'], 'ad_timestamping']
  ] as const) {
    for (const spelling of spellings) t.same(parseDN(`${spelling}=x`), [[{ type: name, value: 'x' }]], `${spelling} is ${name}`)
  }
  for (const spelling of ['Ad_Timestamping', 'AD_TIMESTAMPING', 'RSA-sha512/224']) {
    t.throws(() => parseDN(`${spelling}=x`), { code: 'FST_TLS_CERT_AUTH_BAD_DN' },
      `${spelling}: a name RFC 4514 does not allow is known only as OpenSSL writes it, or in lower case`)
  }
})

test('a spelling two types share but for case names neither: a DN with it is refused', async (t) => {
  const shared = [...owners()].filter(([, oids]) => oids.size > 1)
  t.same(shared.map(([spelling]) => spelling).sort(), ['mail', 'uid'], 'OpenSSL 3.0: uid/UID and mail/Mail')
  for (const [spelling] of shared) {
    for (const variant of caseVariants(spelling)) {
      if (variant === 'UID') continue
      t.throws(() => parseDN(`${variant}=admin`), { code: 'FST_TLS_CERT_AUTH_BAD_DN', message: /ambiguous attribute type/ }, variant)
      t.equal(canonicalType(variant), variant, `${variant} names no type`)
    }
  }
  // userId is UID, as identity.subject has always shown it and as OpenSSL writes it: only
  // uniqueIdentifier is written `uid`, which names neither.
  t.same(parseDN('UID=alice'), [[{ type: 'UID', value: 'alice' }]])
  t.same(parseDN('userid=alice'), [[{ type: 'UID', value: 'alice' }]])
  t.same(parseDN('uniqueIdentifier=x,rfc822Mailbox=y,1.3.6.1.7=z'), [
    [{ type: '0.9.2342.19200300.100.1.44', value: 'x' }],
    [{ type: '0.9.2342.19200300.100.1.3', value: 'y' }],
    [{ type: '1.3.6.1.7', value: 'z' }]
  ], 'types whose short name is ambiguous are named by their OID')
})

test('no spelling but CN, commonName and 2.5.4.3, in any case, is CN', async (t) => {
  const cn = new Set(['cn', 'commonname', '2.5.4.3'])
  let checked = 0
  for (const list of spellings().values()) {
    for (const spelling of list) {
      for (const variant of caseVariants(spelling)) {
        const isCn = cn.has(variant.toLowerCase())
        if ((canonicalType(variant) === 'CN') !== isCn) t.fail(`canonicalType(${JSON.stringify(variant)}) is ${canonicalType(variant)}`)
        let type: string | null
        try {
          type = parseDN(`${variant}=x`)[0][0].type
        } catch {
          type = null
        }
        if ((type === 'CN') !== isCn) t.fail(`${variant}=x reads as ${String(type)}`)
        checked++
      }
    }
  }
  // Every case of the three, all 2 ** 10 of commonName.
  for (let bits = 0; bits < 1 << 10; bits++) {
    const variant = [...'commonname'].map((char, i) => bits & (1 << i) ? char.toUpperCase() : char).join('')
    if (canonicalType(variant) !== 'CN' || parseDN(`${variant}=x`)[0][0].type !== 'CN') t.fail(variant)
    checked++
  }
  for (const variant of ['cn', 'cN', 'Cn', 'CN', '2.5.4.3']) t.equal(parseDN(`${variant}=x`)[0][0].type, 'CN', variant)
  for (const near of ['2.5.4.03', '2.5.4.3.0', 'OID.2.5.4.3', 'C N', 'cn ', 'ＣＮ', 'commonName;binary']) {
    t.not(canonicalType(near), 'CN', `${near} is not CN`)
  }
  t.ok(checked > 5000, `${checked} spellings checked`)
})
