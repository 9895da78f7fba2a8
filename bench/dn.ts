// DN parsing: parseDN against @ldapjs/dn's parser, with an unsafe split(',') as the floor (it
// neither unescapes nor validates, so nothing correct can be faster by much).

import { strict as assert } from 'node:assert'
import { attributeValues, parseDN } from '../dist/plugin/parse/dn'
import type { BenchCase } from './harness'

// No type declarations ship with @ldapjs/dn; the bench needs only this much of it.
const { DN } = require('@ldapjs/dn') as { DN: { fromString: (text: string) => { toString: () => string } } }

interface DnSample {
  name: string
  text: string
  /** The CN parseDN must find: the bench times correct work only. */
  cn: string
}

const SAMPLES: DnSample[] = [
  { name: 'nginx RFC 2253, 3 RDNs', text: 'CN=alice,O=Example,C=AU', cn: 'alice' },
  {
    name: 'escapes and a multi-valued RDN',
    text: 'CN=Smith\\, John,OU=Eng+UID=j7,O=Example\\, Inc,L=Melbourne,ST=Victoria,C=AU',
    cn: 'Smith, John'
  },
  {
    name: 'UTF-8 as hex escapes (OpenSSL)',
    text: 'CN=J\\C3\\BCrgen M\\C3\\BCller,O=B\\C3\\A4ckerei GmbH,L=M\\C3\\BCnchen,C=DE',
    cn: 'Jürgen Müller'
  },
  { name: 'raw UTF-8 (Apache, Caddy)', text: 'CN=Jürgen Müller,O=Bäckerei GmbH,L=München,C=DE', cn: 'Jürgen Müller' },
  {
    name: 'emailAddress, 7 RDNs',
    text: 'emailAddress=alice@example.com,CN=Alice Example,OU=Engineering,O=Example Pty Ltd,L=Melbourne,ST=Victoria,C=AU',
    cn: 'Alice Example'
  },
  { name: 'UID and DCs (directory)', text: 'UID=alice,CN=Alice Example,OU=Users,DC=corp,DC=example,DC=com', cn: 'Alice Example' }
]

export function dnCases (): BenchCase[] {
  return SAMPLES.map(({ name, text, cn }) => {
    assert.deepEqual(attributeValues(parseDN(text), 'CN'), [cn], name)
    assert.ok(DN.fromString(text).toString().length > 0, name)
    return {
      name,
      contenders: [
        { name: 'parseDN', run: () => parseDN(text) },
        { name: '@ldapjs/dn', run: () => DN.fromString(text) },
        { name: "split(',')", run: () => text.split(',') }
      ],
      target: { against: '@ldapjs/dn', minRatio: 10, label: '≥ 10x @ldapjs/dn' }
    }
  })
}
