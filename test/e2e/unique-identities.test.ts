// Two issuing CAs in one trust bundle that both number their certificates from 01: through real
// nginx, the serial alone would give bob alice's account. `issuerSerial` tells them apart, and
// `serialNumber` is only allowed with exactly one issuing CA pinned.

import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import type tlsCertAuth from '../../index'
import { sharedPki, skipUnlessInstalled, startProxy, type Pki } from './lib'
import { LOGIN_URL, startApp } from './lib/app'
import { visit, whoami, type Site } from './lib/journey'

const execFileAsync = promisify(execFile)

async function openssl (dir: string, args: string[]): Promise<void> {
  await execFileAsync('openssl', args, { cwd: dir })
}

/** A root CA that issues client certificates directly. */
async function issuingCa (dir: string, name: string, subject: string): Promise<void> {
  await openssl(dir, ['req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', subject, '-days', '2',
    '-addext', 'basicConstraints = critical, CA:TRUE', '-addext', 'keyUsage = critical, keyCertSign'])
}

/** A client certificate with serial 01, whoever issues it. */
async function serialOne (dir: string, name: string, subject: string, ca: string): Promise<{ certPem: string, keyPem: string }> {
  await openssl(dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject])
  await writeFile(join(dir, `${name}.ext`), 'extendedKeyUsage = clientAuth\n')
  await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`,
    '-set_serial', '1', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`])
  return { certPem: await readFile(join(dir, `${name}.crt`), 'utf8'), keyPem: await readFile(join(dir, `${name}.key`), 'utf8') }
}

let pki: Pki
t.before(async () => { pki = await sharedPki() })

t.test('two CAs, one serial: issuerSerial through real nginx', { skip: skipUnlessInstalled('nginx'), timeout: 30000 }, async (t) => {
  await Promise.all([issuingCa(pki.dir, 'ca-one', '/O=Example/CN=Issuing CA One'), issuingCa(pki.dir, 'ca-two', '/O=Example/CN=Issuing CA Two')])
  const [alice, bob] = await Promise.all([
    serialOne(pki.dir, 'alice-one', '/O=Example/CN=alice', 'ca-one'),
    serialOne(pki.dir, 'bob-two', '/O=Example/CN=bob', 'ca-two')
  ])
  const bundle = join(pki.dir, 'two-issuers.pem')
  await writeFile(bundle, (await readFile(join(pki.dir, 'ca-one.crt'), 'utf8')) + await readFile(join(pki.dir, 'ca-two.crt'), 'utf8'))

  const through = async (plugin: tlsCertAuth.CommonOptions) => {
    const app = await startApp({ plugin: { preset: 'nginx', headers: { cert: 'x-client-cert' }, trustedProxies: '127.0.0.1', ...plugin } })
    t.teardown(app.close)
    const proxy = await startProxy.nginx({ pki: { ...pki, caBundle: bundle }, upstream: app.url })
    t.teardown(proxy.stop)
    return { url: proxy.url, ca: pki.rootCa.certPem } satisfies Site
  }

  const site = await through({ username: 'issuerSerial' })
  t.equal((await whoami(site, { identity: alice })).certUser?.username, 'CN=Issuing CA One,O=Example/01')
  t.equal((await whoami(site, { identity: bob })).certUser?.username, 'CN=Issuing CA Two,O=Example/01', 'same serial, another user')

  await t.rejects(async () => { await startApp({ plugin: { username: 'serialNumber' } }) },
    { code: 'FST_TLS_CERT_AUTH_BAD_OPTION', message: /issuerSerial/ }, 'serialNumber alone is refused at registration')
  const pinned = await through({ username: 'serialNumber', accept: { issuers: ['CN=Issuing CA One,O=Example'] } })
  t.equal((await whoami(pinned, { identity: alice })).certUser?.username, '01', 'serialNumber with one pinned issuer')
  const other = await visit(pinned, LOGIN_URL, { identity: bob })
  t.equal(other.status, 403, 'the other CA\'s serial 01 is not alice')
  t.equal(JSON.parse(other.body).code, 'FST_TLS_CERT_AUTH_ISSUER_NOT_ACCEPTED')
})
