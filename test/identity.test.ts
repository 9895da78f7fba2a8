import type { FastifyRequest } from 'fastify'
import { test } from 'tap'
import { buildIdentity, type Identified, type UsernameRule } from '../plugin/identity'
import { identityReader, kIdentityResult } from '../plugin/identity-reader'
import { readPolicy } from '../plugin/policy'
import { ok } from '../plugin/result'
import type { RawCertificate } from '../plugin/sources/types'
import * as der from './helpers/der'

test('a raw certificate with neither a certificate nor a subject gives no identity', async (t) => {
  t.match(buildIdentity({ source: 'custom' }, 'cn'), { status: 'refused', reason: 'neither a certificate nor a subject DN' })
})

test('every built-in username rule is a rule, and a function is one too', async (t) => {
  const identity = buildIdentity({ source: 'custom', dn: 'CN=alice,O=Example' }, (found) => `${found.cn ?? ''}@example`)
  t.match(identity, { status: 'ok', value: { identity: { username: 'alice@example', cn: 'alice' } } })
  t.match(buildIdentity({ source: 'custom', dn: 'CN=alice' }, 'fingerprint256'), { status: 'refused', reason: /fingerprint256/ })
})

/** Why buildIdentity refuses, or the username it gives. */
function outcome (raw: RawCertificate, rule: UsernameRule = 'cn'): string {
  const result = buildIdentity(raw, rule)
  return result.status === 'ok' ? `username ${result.value.identity.username}` : result.status === 'refused' ? result.reason : 'absent'
}

test('each username rule says exactly why it finds no name', async (t) => {
  const dn = (text: string): RawCertificate => ({ source: 'custom', dn: text })
  t.equal(outcome(dn('emailAddress=bob@example.com,CN=bob'), 'email'), 'username bob@example.com', 'email: from the subject')
  t.equal(outcome(dn('emailAddress=a@x,emailAddress=b@x,CN=bob'), 'email'), 'expected exactly one emailAddress in the subject, found 2')
  t.equal(outcome(dn('CN=bob'), 'email'), 'expected exactly one email SAN, found 0', 'email: no subject address, so the SAN, and there is none')
  t.equal(outcome(dn('UID=bob,CN=x'), 'uid'), 'username bob')
  t.equal(outcome(dn('CN=x'), 'uid'), 'expected exactly one UID in the subject, found 0')
  t.equal(outcome(dn('CN=x'), 'upn'), 'expected exactly one UPN SAN, found 0')
  t.equal(outcome(dn('CN=a,CN=b')), 'expected exactly one CN in the subject, found 2')
  t.equal(outcome(dn('CN=a\\01b')), 'the CN in the subject holds a control character')
  t.equal(outcome(dn('CN=')), 'the CN in the subject is empty')
  t.equal(outcome(dn('CN=x'), () => { throw new Error('boom') }), 'the username function threw: boom')
  t.equal(outcome(dn('CN=x'), () => null), 'the username function gave no name')
  t.equal(outcome(dn('CN=x'), () => 'a\u0085b'), 'the name from the username function holds a control character')
  t.equal(outcome(dn('CN=x'), () => ''), 'the name from the username function is empty')
  t.equal(outcome(dn('CN=x'), (identity) => `[${identity.username}]`), 'username []', 'while the rule runs, username is empty')
})

test('a DN alone: no certificate fields, and the slash form only where it may be read unchecked', async (t) => {
  const result = buildIdentity({ source: 'headers', dn: 'CN=alice,O=Example' }, 'cn')
  t.match(result, { status: 'ok' })
  const { identity, chain } = (result as { value: Identified }).value
  t.same(chain, [], 'no CA certificates came with it')
  t.same({ ...identity }, {
    dn: 'CN=alice,O=Example',
    subject: [[{ type: 'CN', value: 'alice' }], [{ type: 'O', value: 'Example' }]],
    cn: 'alice',
    username: 'alice',
    source: 'headers',
    issuer: null,
    serialNumber: null,
    issuerSerial: null,
    fingerprint256: null,
    validFrom: null,
    validTo: null,
    subjectAltNames: [],
    extKeyUsage: null,
    certificate: null
  })

  const slash = '/O=Example/CN=alice'
  const unchecked = 'a DN in OpenSSL\'s slash form with no certificate to check it: forward the certificate, or send the DN in ' +
    'RFC 2253 (uncheckedSlashForm: true reads it anyway)'
  t.equal(outcome({ source: 'headers', dn: slash }), unchecked, 'auto')
  t.equal(outcome({ source: 'headers', dn: slash, dnFormat: 'legacy' }), unchecked, 'legacy')
  t.equal(outcome({ source: 'custom', dn: slash, uncheckedSlashForm: false }), unchecked, 'a source function')
  t.equal(outcome({ source: 'headers', dn: slash, uncheckedSlashForm: true }), 'username alice', 'told to read it anyway')
  t.equal(outcome({ source: 'debug', dn: slash }), unchecked, 'whatever the source: it must say uncheckedSlashForm')
  t.equal(outcome({ source: 'headers', dn: 'CN=alice', issuerDn: '/O=Example/CN=CA' }),
    'an issuer DN in OpenSSL\'s slash form with no certificate to check it: forward the certificate, or send the DN in ' +
    'RFC 2253 (uncheckedSlashForm: true reads it anyway)', 'the issuer DN too')
  t.equal(outcome({ source: 'headers', dn: 'CN=alice', issuerDn: '/O=Example/CN=CA', uncheckedSlashForm: true }), 'username alice')
  t.equal(outcome({ source: 'headers', dn: slash, dnFormat: 'rfc4514' }),
    'unreadable certificate or DN: Malformed distinguished name: bad attribute type "/O" in "/O=Example/CN=alice"', 'rfc4514 never reads it')
  t.equal(outcome({ source: 'headers', dn: 'CN=alice', dnFormat: 'legacy', uncheckedSlashForm: true }),
    'unreadable certificate or DN: Malformed distinguished name: a legacy DN starts with / in "CN=alice"')

  const key = der.clientKey()
  const issuer = der.throwawayIssuer()
  const certificate = der.certificate({ subject: der.name([[{ type: '2.5.4.10', value: der.string(der.TAGS.utf8, 'Example') }], [{ type: '2.5.4.3', value: der.string(der.TAGS.utf8, 'alice') }]]), issuer, publicKey: key.publicKey })
  t.equal(outcome({ source: 'headers', dn: slash, der: certificate }), 'username alice', 'checked by the certificate')
  t.equal(outcome({ source: 'headers', dn: '/O=Example/CN=admin', der: certificate }), 'the subject DN header and the forwarded certificate disagree')
  t.equal(outcome({ source: 'headers', dn: slash, der: certificate, issuerDn: 'CN=Throwaway CA' }), 'username alice', 'the issuer agrees')
  t.equal(outcome({ source: 'headers', dn: slash, der: certificate, issuerDn: 'CN=Another CA' }), 'the issuer DN header and the forwarded certificate disagree')
})

test('without isRevoked, accepted() is read(): nothing to wait for, nothing refused for it', async (t) => {
  const reader = identityReader(() => ok({ source: 'custom', dn: 'CN=alice' }), 'cn', readPolicy(undefined))
  const request = { [kIdentityResult]: null } as unknown as FastifyRequest
  t.equal(reader.revocable, false)
  const accepted = await reader.accepted(request)
  t.equal(accepted, reader.read(request))
  t.match(accepted, { status: 'ok', value: { identity: { username: 'alice' } } })
})
