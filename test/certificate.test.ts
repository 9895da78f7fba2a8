import { test } from 'tap'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { children, decodeOid, decodeString, decodeTime, expectTag, readTlv } from '../plugin/asn1'
import { readCertificate, readName } from '../plugin/certificate'
import { formatDN, parseDN, sameDN } from '../plugin/dn'
import { createPki } from './e2e/lib/pki'

test('certificates are read from their DER: names, SANs of every kind, EKU, dates', async (t) => {
  const pki = await createPki()
  t.teardown(() => pki.cleanup())
  const rich = readCertificate(pki.rich.x509.raw)
  t.same(rich.subject, [[{ type: 'CN', value: 'dora' }], [{ type: 'UID', value: 'dora7' }], [{ type: 'O', value: 'Example' }]])
  t.same(rich.subjectAltNames, [
    { type: 'email', value: 'dora@example.com' },
    { type: 'dns', value: 'dora.example.com' },
    { type: 'uri', value: 'spiffe://example.com/dora' },
    { type: 'ip', value: '10.0.0.1' },
    { type: 'ip', value: '2001:db8:0:0:0:0:0:1' },
    { type: 'upn', value: 'dora@corp.example' }
  ], 'an otherName that is not a UPN is left out')
  t.same(rich.extKeyUsage, ['1.3.6.1.5.5.7.3.2'])
  t.equal(rich.serialNumber, pki.rich.x509.serialNumber)
  t.equal(rich.fingerprint256, pki.rich.x509.fingerprint256)
  t.equal(rich.validTo.getTime(), new Date(pki.rich.x509.validTo).getTime())
  t.equal(rich.certificate.subject, pki.rich.x509.subject)

  const future = readCertificate(pki.future.x509.raw)
  t.equal(future.validFrom.toISOString(), '2049-01-01T00:00:00.000Z', 'UTCTime')
  t.equal(future.validTo.toISOString(), '2051-01-01T00:00:00.000Z', 'GeneralizedTime')
  t.equal(readCertificate(pki.noEku.x509.raw).extKeyUsage, null, 'no EKU extension')
  t.same(readCertificate(pki.smith.x509.raw).subject[0], [{ type: 'CN', value: 'Smith, John' }])
  t.throws(() => readCertificate(Buffer.from('3003020100', 'hex')), 'not a certificate')

  // A version 1 certificate: no version field, no extensions.
  const run = promisify(execFile)
  await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'v1.key', '-out', 'v1.csr', '-subj', '/CN=old'], { cwd: pki.dir })
  await run('openssl', ['x509', '-req', '-in', 'v1.csr', '-signkey', 'v1.key', '-days', '1', '-outform', 'DER', '-out', 'v1.der'], { cwd: pki.dir })
  const v1 = readCertificate(await readFile(join(pki.dir, 'v1.der')))
  t.same(v1.subject, [[{ type: 'CN', value: 'old' }]])
  t.same([v1.subjectAltNames, v1.extKeyUsage], [[], null])
})

test('malformed names are refused even where OpenSSL would not let them through', async (t) => {
  const name = (hex: string) => () => { const der = Buffer.from(hex, 'hex'); return readName(der, readTlv(der, 0)) }
  t.throws(name('3100'), /expected a Name/)
  t.throws(name('30023000'), /expected an RDN/)
  t.throws(name('30023100'), /empty RDN/)
  t.throws(name('3009310730050603550403'), /bad attribute/, 'no value')
  t.throws(name('300f310d300b06035504030c01610c0162'), /bad attribute/, 'two values')
  t.same(name('300c310a300806035504030c0161')(), [[{ type: 'CN', value: 'a' }]])
  t.throws(() => expectTag(undefined, 0x30, 'a thing'), /expected a thing/)
})

test('DER reading is strict', async (t) => {
  const bad = (hex: string) => () => readTlv(Buffer.from(hex, 'hex'), 0)
  t.throws(bad('30'), { name: 'Asn1Error' }, 'truncated')
  t.throws(bad('1f0100'), { name: 'Asn1Error' }, 'multi-byte tag')
  t.throws(bad('3080'), { name: 'Asn1Error' }, 'indefinite length')
  t.throws(bad('3085'), { name: 'Asn1Error' }, 'five length bytes')
  t.throws(bad('3082'), { name: 'Asn1Error' }, 'length bytes past the end')
  t.throws(bad('3003'), { name: 'Asn1Error' }, 'content past the end')
  t.same(readTlv(Buffer.from('30820003010203', 'hex'), 0), { tag: 0x30, start: 4, end: 7, offset: 0 })
  const der = Buffer.from('0603550403', 'hex')
  t.equal(decodeOid(der, readTlv(der, 0)), '2.5.4.3')
  const big = Buffer.from('06028837', 'hex') // 2.999
  t.equal(decodeOid(big, readTlv(big, 0)), '2.999')
  const truncated = Buffer.from('060155', 'hex')
  t.equal(decodeOid(truncated, readTlv(truncated, 0)), '2.5')
  t.throws(() => decodeOid(Buffer.from('060188', 'hex'), readTlv(Buffer.from('060188', 'hex'), 0)), { name: 'Asn1Error' })
  t.throws(() => decodeOid(Buffer.from('0600', 'hex'), readTlv(Buffer.from('0600', 'hex'), 0)), { name: 'Asn1Error' })
  t.throws(() => decodeString(0x02, Buffer.from('01', 'hex')), { name: 'Asn1Error' }, 'INTEGER is not a string')
  t.throws(() => decodeString(0x0c, Buffer.from('ff', 'hex')), { name: 'Asn1Error' })
  const time = (hex: string) => { const item = Buffer.from(hex, 'hex'); return decodeTime(item, readTlv(item, 0)) }
  t.equal(time('170d3439313233313233353935395a').toISOString(), '2049-12-31T23:59:59.000Z')
  t.equal(time('170d3530303130313030303030305a').toISOString(), '1950-01-01T00:00:00.000Z')
  t.throws(() => time('170d3439313233313233353935392b'), { name: 'Asn1Error' }, 'not Z')
  t.throws(() => time('0203010203'), { name: 'Asn1Error' }, 'not a time')
  const utc = (text: string) => time('170d' + Buffer.from(text).toString('hex'))
  for (const bad of ['491301000000Z', '490230000000Z', '490101240000Z', '490101006000Z', '490101000060Z', '490100000000Z']) {
    t.throws(() => utc(bad), { name: 'Asn1Error' }, `${bad} is no time`)
  }
  const sequence = Buffer.from('3006020101020102', 'hex')
  t.equal(children(sequence, readTlv(sequence, 0)).length, 2)
})

test('formatDN writes RFC 4514 that parseDN reads back, and sameDN compares RDNs as sets', async (t) => {
  for (const value of ['a,b', 'x+y', '"q"', 'back\\slash', '<>;=', '#lead', ' lead', 'trail ', ' ', '  ', 'nul\0']) {
    const dn = [[{ type: 'CN', value }], [{ type: 'O', value: 'x' }]]
    t.same(parseDN(formatDN(dn)), dn, JSON.stringify(value))
  }
  t.equal(formatDN([[{ type: 'CN', value: 'a' }, { type: 'UID', value: 'b' }]]), 'CN=a+UID=b')
  t.ok(sameDN(parseDN('CN=a+UID=b,O=x'), parseDN('UID=b+CN=a,O=x')))
  t.notOk(sameDN(parseDN('CN=a,O=x'), parseDN('O=x,CN=a')), 'order of RDNs matters')
  t.notOk(sameDN(parseDN('CN=a'), parseDN('CN=a,O=x')))
})
