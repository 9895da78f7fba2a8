import { test } from 'tap'
import { decodeBase64Der, decodePem, decodeRfc9440, EncodingError } from '../plugin/parse/encodings'
import { TraefikInfoError, traefikInfoCn } from '../plugin/parse/traefik'
import { parseXfcc, single, XfccError } from '../plugin/parse/xfcc'
import { sharedPki } from './helpers/pki'
import { buildApp } from './helpers/app'
import { refusalsOf } from './helpers/refusal'

const entries = (header: string) => parseXfcc(header).map((element) => Object.fromEntries(element))

const refusedXfcc = refusalsOf(XfccError)
const refusedInfo = refusalsOf(TraefikInfoError)

test('XFCC: the Envoy documentation examples', async (t) => {
  t.same(entries('By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com'), [{
    by: ['http://frontend.lyft.com'],
    hash: ['468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688'],
    subject: ['/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client'],
    uri: ['http://testclient.lyft.com']
  }])
  t.same(entries('By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;URI=http://testclient.lyft.com,By=http://backend.lyft.com;Hash=9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e;URI=http://frontend.lyft.com')
    .map((element) => element.by[0]), ['http://frontend.lyft.com', 'http://backend.lyft.com'], 'two hops')
  t.same(entries('By=http://frontend.lyft.com;Hash=468ed33b;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com;DNS=lyft.com;DNS=www.lyft.com')[0].dns,
    ['lyft.com', 'www.lyft.com'], 'repeated DNS keys')
  t.same(entries('Subject="CN=a \\"quoted\\" name;Cert=x,y" ; By=z')[0], { subject: ['CN=a "quoted" name;Cert=x,y'], by: ['z'] },
    'separators and escaped quotes inside quotes, spaces after a separator')
  t.same(entries('Subject="CN=a\\\\,b"')[0].subject, ['CN=a\\\\,b'], 'only \\" is an XFCC escape: DN escapes pass through')
  for (const bad of ['novalue', 'Sub ject=x', 'Subject="open', 'Subject=a"b', 'Subject="a"b', '=x']) {
    t.throws(() => parseXfcc(bad), XfccError, bad)
  }
  t.throws(() => single(parseXfcc('Cert=a;Cert=b')[0], 'cert'), { name: 'XfccError', message: /more than once/ })
  t.equal(single(parseXfcc('By=a')[0], 'cert'), undefined)
})

test('XFCC: boundaries of the grammar, and the reason each malformed header is refused with', async (t) => {
  t.same(entries('By=;URI='), [{ by: [''], uri: [''] }], 'empty unquoted values')
  t.same(entries('Subject=""'), [{ subject: [''] }], 'an empty quoted value')
  t.same(entries('Subject="a\\""'), [{ subject: ['a"'] }], 'an escaped quote just before the closing quote')
  t.same(entries('Subject="\\"a\\"b"'), [{ subject: ['"a"b'] }], 'escaped quotes first and inside')
  t.same(entries('SUBJECT=x;subject=y;SubJect="z"'), [{ subject: ['x', 'y', 'z'] }], 'keys in any case are one key')
  t.same(entries('By=a,By=b;URI=u,By=c'), [{ by: ['a'] }, { by: ['b'], uri: ['u'] }, { by: ['c'] }], 'three elements')
  t.same(entries('Subject="a"  ,By=b'), [{ subject: ['a'] }, { by: ['b'] }], 'spaces between a quoted value and a comma')
  t.same(entries('Subject="a"   '), [{ subject: ['a'] }], 'trailing spaces after the last value')
  t.same(entries('By=a b'), [{ by: ['a b'] }], 'an unquoted value keeps its inner spaces')

  const refusals: Array<[string, string]> = [
    ['', 'expected key=value'],
    ['novalue', 'expected key=value'],
    ['By=a;', 'expected key=value'], // a trailing separator
    ['By=a,', 'expected key=value'],
    ['=x', 'bad key'],
    ['Sub ject=x', 'bad key'],
    ['By1=x', 'bad key'],
    ['By=a,,By=b', 'bad key'], // an empty element
    ['By=a;;URI=b', 'bad key'],
    ['Subject="open', 'unterminated quoted value'],
    ['Subject="', 'unterminated quoted value'],
    ['Subject="a\\"', 'unterminated quoted value'], // the only quote after the opening one is escaped
    ['Subject="a\\";By=b', 'unterminated quoted value'],
    ['Subject=a"b', 'quote inside an unquoted value'],
    ['Subject=a"', 'quote inside an unquoted value'],
    ['Subject="a"b', 'expected ; or , after a value'],
    ['Subject="a" b=c', 'expected ; or , after a value'],
    ['Subject="a"By=b', 'expected ; or , after a value'] // no separator: not read as a second pair
  ]
  for (const [header, message] of refusals) {
    refusedXfcc(t, () => parseXfcc(header), message, JSON.stringify(header))
  }
  refusedXfcc(t, () => single(parseXfcc('By=x;Cert=a;cert=b')[0], 'cert'), 'cert appears more than once', 'a key twice in one element')
  t.same(single(parseXfcc('Cert="";By=x')[0], 'cert'), '', 'an empty single value is a value')
})

test('XFCC through the envoy preset: a quoted Subject cannot substitute the certificate; hops pick the configured element', async (t) => {
  const pki = await sharedPki()
  const cert = (files: { certPem: string }) => encodeURIComponent(files.certPem)
  const alice = `By=spiffe://app;Cert="${cert(pki.alice)}";Subject="CN=alice,O=Example,C=AU"`
  const mallory = `By=spiffe://edge;Cert="${cert(pki.mallory)}";Subject="CN=mallory,O=Evil,C=AU"`
  const { app } = await buildApp({ preset: 'envoy' })
  const who = async (xfcc: string, appToUse = app) =>
    (await appToUse.inject({ url: '/whoami', headers: { 'x-forwarded-client-cert': xfcc } })).json().certUser?.username ?? null

  t.equal(await who(alice), 'alice')
  t.equal(await who(`By=spiffe://app;Subject="CN=admin\\;Cert=${cert(pki.mallory)}"`), 'admin;Cert=' + cert(pki.mallory),
    'the injected Cert= stays inside the Subject')
  t.equal(await who(`By=spiffe://app;Subject="CN=admin;Cert=${cert(pki.mallory)}"`), null, 'and unescaped, the Subject is no DN at all')
  t.equal(await who(`By=spiffe://app;Cert="${cert(pki.alice)}";Subject="CN=alice,O=Example,C=AU;Cert=${cert(pki.mallory)}"`), null,
    'a Subject that does not match the certificate refuses')
  t.equal(await who(`${mallory},${alice}`), 'alice', 'default: the last element, added by the nearest proxy')
  const first = await buildApp({ preset: 'envoy', xfccElement: 'first' })
  t.equal(await who(`${mallory},${alice}`, first.app), 'mallory', 'xfccElement: first')
  t.equal(await who(`By=a;Cert="${cert(pki.alice)}";Cert="${cert(pki.mallory)}"`), null, 'two Cert keys refuse')
  t.equal(await who('By=spiffe://app;URI=spiffe://x'), null, 'no Cert and no Subject: no identity')
  t.equal(await who('By=spiffe://app;Subject="CN=bob"'), 'bob', 'a Subject alone')
  const chain = `By=a;Cert="${cert(pki.alice)}";Chain="${cert(pki.alice)}${cert(pki.intermediateCa)}"`
  t.equal(await who(chain), 'alice', 'Chain, leaf first')
})

test('Traefik: the certificate header in both encodings seen in the wild; Info never yields the issuer\'s CN', async (t) => {
  const pki = await sharedPki()
  const { app } = await buildApp({ preset: 'traefik', headers: { info: 'x-forwarded-tls-client-cert-info' } })
  const who = async (headers: Record<string, string>, appToUse = app) =>
    (await appToUse.inject({ url: '/whoami', headers })).json().certUser?.username ?? null
  t.equal(await who({ 'x-forwarded-tls-client-cert': pki.alice.derBase64 }), 'alice', 'plain base64 DER')
  t.equal(await who({ 'x-forwarded-tls-client-cert': encodeURIComponent(pki.alice.derBase64) }), 'alice', 'URL-escaped, as older releases sent it')

  const info = (text: string) => encodeURIComponent(text).replace(/%20/g, '+')
  t.equal(traefikInfoCn(info('Subject="C=AU,O=Example,CN=alice";Issuer="C=AU,O=Example,CN=Test Intermediate CA";NB="1";NA="2"')), 'alice')
  t.equal(traefikInfoCn(info('Subject="O=Example,CN=Smith, John";Issuer="CN=CA"')), 'Smith, John', 'CN last: its commas are its own')
  const refused = [
    'Subject="O=Example";Issuer="C=AU,CN=Test Intermediate CA"', // no CN in the leaf: never the issuer's
    'Subject="O=x,CN=eve";Issuer="CN=CA";Issuer="CN=admin"',
    'Subject="O=x,CN=admin";SAN="x";Issuer="CN=CA"', // a smuggled quote shows up out of order
    'Subject="O=x\\,CN=admin,CN=eve";Issuer="CN=CA"', // two CN markers
    'Subject="CN=alice"', // no Issuer: a quote could not be told from a field
    'Subject="CN=a";Issuer="CN=b"x',
    'Subject="CN=a";Issuer="CN=b',
    'Subject=CN=a',
    'Unknown="x";Subject="CN=a";Issuer="CN=b"',
    'Subject="CN=leaf";Issuer="CN=CA",Subject="CN=CA";Issuer="CN=Root"', // a chain: the leaf alone is read
    'Subject="O=e,CN=admin";Issuer="x",";Issuer="CN=Real CA";NB="1"' // a CN of `admin";Issuer="x",`
  ]
  for (const text of refused) t.throws(() => traefikInfoCn(info(text)), TraefikInfoError, text)
  t.throws(() => traefikInfoCn('%zz'), /escaping/)
  t.equal(await who({ 'x-forwarded-tls-client-cert-info': info('Subject="O=Example,CN=alice";Issuer="CN=CA"') }), 'alice', 'Info alone')
  t.equal(await who({ 'x-forwarded-tls-client-cert-info': info(refused[0]) }), null)
  const preset = await buildApp({ preset: 'traefik' })
  t.equal(await who({ 'x-forwarded-tls-client-cert-info': info('Subject="O=Example,CN=alice";Issuer="CN=CA"') }, preset.app), null,
    'the traefik preset reads Info only when asked to')
})

test('Traefik Info: every field Traefik writes is read in its order, and each refusal names its reason', async (t) => {
  const info = (text: string) => encodeURIComponent(text).replace(/%20/g, '+')
  t.equal(traefikInfoCn(info('Subject="DC=org,C=AU,ST=NSW,L=Sydney,O=Example,OU=Dev,CN=alice";Issuer="C=AU,O=Example,CN=Test CA";' +
    'SerialNumber="1234567890";NB="1747282352";NA="1778818352";SAN="alice.example.org,alice@example.org,127.0.0.1"')), 'alice',
  'all six fields, as Traefik sends them')
  t.equal(traefikInfoCn(info('Subject="CN=alice";Issuer="CN=CA";SerialNumber="1"')), 'alice', 'a Subject that is only a CN')
  t.equal(traefikInfoCn(info('Subject="CN=";Issuer="CN=CA";SAN=""')), '', 'an empty CN, an empty SAN last')

  const refusals: Array<[string, string]> = [
    ['', 'expected Key="value"'],
    ['Subject=CN=a', 'expected Key="value"'],
    [' Subject="CN=a";Issuer="CN=b"', 'expected Key="value"'], // anything before the first key
    ['1Subject="CN=a";Issuer="CN=b"', 'expected Key="value"'],
    ['Subject="CN=a";;Issuer="CN=b"', 'expected Key="value"'],
    ['Subject="CN=a";Issuer="CN=b";', 'expected Key="value"'], // a trailing separator
    ['Subject="CN=a";Issuer="CN=b";Issuer="CN=c"', 'unexpected field Issuer'],
    ['Issuer="CN=b";Subject="CN=a"', 'unexpected field Subject'],
    ['subject="CN=a";Issuer="CN=b"', 'unexpected field subject'], // Traefik's keys have one spelling
    ['Unknown="x";Subject="CN=a";Issuer="CN=b"', 'unexpected field Unknown'],
    ['Subject="CN=a";Issuer="CN=b', 'unterminated value'],
    ['Subject="CN=a', 'unterminated value'],
    ['Subject="CN=a";Issuer="CN=b"x', 'expected ; after a value, and one certificate only'],
    ['Subject="CN=a"xIssuer="CN=b"', 'expected ; after a value, and one certificate only'],
    ['Subject="CN=leaf";Issuer="CN=CA",Subject="CN=CA";Issuer="CN=Root"', 'expected ; after a value, and one certificate only'],
    ['Subject="CN=a"', 'the Info header needs the Subject and Issuer fields'],
    ['Issuer="CN=CA"', 'the Info header needs the Subject and Issuer fields'],
    ['Issuer="CN=CA";NB="1"', 'the Info header needs the Subject and Issuer fields'],
    ['Subject="O=Example";Issuer="CN=CA"', 'expected one CN in the Subject, found 0'],
    ['Subject="O=xCN=a";Issuer="CN=CA"', 'expected one CN in the Subject, found 0'], // CN= inside a value is no marker
    ['Subject="O=x\\,CN=admin,CN=eve";Issuer="CN=CA"', 'expected one CN in the Subject, found 2'],
    ['Subject="CN=admin,CN=eve";Issuer="CN=CA"', 'expected one CN in the Subject, found 2']
  ]
  for (const [text, message] of refusals) {
    refusedInfo(t, () => traefikInfoCn(info(text)), message, text)
  }
  refusedInfo(t, () => traefikInfoCn('Subject%3D%zz'), 'bad escaping', 'a cut-off escape')
})

test('certificate encodings are strict', async (t) => {
  const pki = await sharedPki()
  const der = pki.alice.x509.raw
  t.same(decodePem(pki.alice.certPem), [der])
  t.same(decodePem(pki.alice.certPem.replace(/\n/g, ' ')), [der], 'spaces for newlines')
  t.same(decodePem(encodeURIComponent(pki.alice.certPem + pki.intermediateCa.certPem)), [der, pki.intermediateCa.x509.raw], 'URL-encoded chain')
  for (const bad of ['', 'junk', pki.alice.certPem + 'trailing', '-----BEGIN CERTIFICATE-----\nQQ=\n-----END CERTIFICATE-----',
    '-----BEGIN CERTIFICATE-----\nQ!==\n-----END CERTIFICATE-----', '%E0%A4%A']) {
    t.throws(() => decodePem(bad), EncodingError, JSON.stringify(bad.slice(0, 40)))
  }
  t.same(decodeBase64Der(`${pki.alice.derBase64}, ${pki.rootCa.derBase64}`), [der, pki.rootCa.x509.raw])
  t.throws(() => decodeBase64Der('abc'), EncodingError)
  t.throws(() => decodeBase64Der('a%2'), EncodingError)
  t.same(decodeRfc9440(`:${pki.alice.derBase64}:`), [der])
  t.throws(() => decodeRfc9440(pki.alice.derBase64), /RFC 9440/)
  t.throws(() => decodeRfc9440('::'), /base64/)
})
