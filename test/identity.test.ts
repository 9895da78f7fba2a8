import { test } from 'tap'
import { buildIdentity } from '../plugin/identity'

test('a raw certificate with neither a certificate nor a subject gives no identity', async (t) => {
  t.match(buildIdentity({ source: 'custom' }, 'cn'), { status: 'refused', reason: 'neither a certificate nor a subject DN' })
})

test('every built-in username rule is a rule, and a function is one too', async (t) => {
  const identity = buildIdentity({ source: 'custom', dn: 'CN=alice,O=Example' }, (found) => `${found.cn ?? ''}@example`)
  t.match(identity, { status: 'ok', value: { identity: { username: 'alice@example', cn: 'alice' } } })
  t.match(buildIdentity({ source: 'custom', dn: 'CN=alice' }, 'fingerprint256'), { status: 'refused', reason: /fingerprint256/ })
})
