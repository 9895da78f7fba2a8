// The PKI of one run, made with the openssl CLI in a temporary directory that is removed once the
// PEMs are read: a root CA, a server certificate for localhost and 127.0.0.1, and alice's client
// certificate (CN=alice,O=Example,C=AU, clientAuth). Nothing is kept on disk between runs.
// openssl runs through execFile with argument arrays: no shell, nothing interpolated.

import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

export interface BenchPki {
  caPem: string
  server: { certPem: string, keyPem: string }
  alice: { certPem: string, keyPem: string }
}

async function openssl (dir: string, args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd: dir })
  } catch (error) {
    throw new Error(`openssl ${args[0]} failed: ${(error as { stderr?: string }).stderr ?? String(error)}`)
  }
}

const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']

async function leaf (dir: string, name: string, subject: string, extensions: string): Promise<{ certPem: string, keyPem: string }> {
  await writeFile(join(dir, `${name}.ext`), `[ext]\n${extensions}\n`)
  await openssl(dir, ['req', '-new', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject])
  await openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-days', '2', '-sha256',
    '-set_serial', '0x' + randomBytes(8).toString('hex'), '-extfile', `${name}.ext`, '-extensions', 'ext', '-out', `${name}.crt`
  ])
  return { certPem: await readFile(join(dir, `${name}.crt`), 'utf8'), keyPem: await readFile(join(dir, `${name}.key`), 'utf8') }
}

export async function createBenchPki (): Promise<BenchPki> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-http-pki-'))
  try {
    await writeFile(join(dir, 'ca.ext'), '[ext]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign\n' +
      'subjectKeyIdentifier = hash\n')
    // -config replaces the host's openssl.cnf, so that its defaults cannot change the CA.
    await openssl(dir, ['req', '-x509', '-new', ...newKey, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/C=AU/O=Example/CN=Bench Root CA',
      '-days', '2', '-sha256', '-config', 'ca.ext', '-extensions', 'ext'])
    const leafExtensions = (usage: string, altNames?: string): string => [
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      `extendedKeyUsage = ${usage}`,
      ...(altNames === undefined ? [] : [`subjectAltName = ${altNames}`])
    ].join('\n')
    const [server, alice] = await Promise.all([
      leaf(dir, 'server', '/CN=localhost', leafExtensions('serverAuth', 'DNS:localhost, IP:127.0.0.1')),
      leaf(dir, 'alice', '/C=AU/O=Example/CN=alice', leafExtensions('clientAuth'))
    ])
    return { caPem: await readFile(join(dir, 'ca.crt'), 'utf8'), server, alice }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
