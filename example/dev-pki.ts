// A throwaway PKI for the demo: a CA, a server certificate for localhost and a client certificate
// for alice (also as a .p12 for browsers). Made once with the openssl CLI, reused on later runs,
// and remade piece by piece when a file is missing, broken or about to expire.
//
// openssl runs through execFile with argument arrays: nothing is ever parsed by a shell.
import { execFile } from 'node:child_process'
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

export interface DevPki {
  dir: string
  caCert: string
  /** SHA-256 of the CA certificate: the same value on every run that reused it. */
  caFingerprint: string
  serverCert: string
  serverKey: string
  clientCert: string
  clientKey: string
  /** alice's key, certificate and the CA, for importing into a browser. */
  clientP12: string
  p12Password: string
  p12PasswordFile: string
  /** What this run had to make: empty when everything was reused. */
  made: string[]
}

/** The user the client certificate logs in: its CN, the plugin's default `username` rule. */
export const CLIENT_USERNAME = 'alice'

const DAY = 24 * 60 * 60 * 1000
const CA_DAYS = 3650
// Apple refuses server certificates valid for longer than 825 days, even from a private CA.
const LEAF_DAYS = 397
// Reissue a little before expiry, so that a demo started today still works tomorrow.
const RENEW_WITHIN = 7 * DAY
const P12_PASSWORD_ENV = 'DEV_PKI_P12_PASSWORD'

// The CA may only vouch for this machine: were ca.key ever copied, a browser that trusts the CA
// would still refuse it for any other site.
const CA_EXTENSIONS = [
  'basicConstraints = critical, CA:TRUE, pathlen:0',
  'keyUsage = critical, keyCertSign, cRLSign',
  'nameConstraints = critical, permitted;DNS:localhost, permitted;IP:127.0.0.0/255.0.0.0, ' +
    'permitted;IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF',
  'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid:always'
]

function leafExtensions (extendedKeyUsage: string, subjectAltName: string): string[] {
  return [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    `extendedKeyUsage = ${extendedKeyUsage}`,
    `subjectAltName = ${subjectAltName}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid, issuer'
  ]
}

interface Leaf {
  name: 'server' | 'alice'
  subject: string
  extensions: string[]
}

const SERVER: Leaf = {
  name: 'server',
  subject: '/O=fastify-tls-certificate-auth demo/CN=localhost',
  extensions: leafExtensions('serverAuth', 'DNS:localhost, IP:127.0.0.1, IP:0:0:0:0:0:0:0:1')
}
const ALICE: Leaf = {
  name: 'alice',
  subject: `/O=fastify-tls-certificate-auth demo/CN=${CLIENT_USERNAME}`,
  extensions: leafExtensions('clientAuth', `email:${CLIENT_USERNAME}@example.com`)
}

async function openssl (cwd: string, args: string[], env?: Record<string, string>): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd, env: env === undefined ? process.env : { ...process.env, ...env } })
  } catch (error) {
    const failure = error as Error & { code?: string, stderr?: string }
    if (failure.code === 'ENOENT') throw new Error('the demo needs the openssl command line tool on the PATH')
    throw new Error(`openssl ${args[0]} failed: ${failure.stderr?.trim() || failure.message}`)
  }
}

/** A decimal serial from 63 random bits: decimal, because LibreSSL's openssl reads no 0x prefix. */
function randomSerial (): string {
  const bytes = randomBytes(8)
  bytes[0] &= 0x7f
  return BigInt(`0x${bytes.toString('hex')}`).toString()
}

/** The config file openssl reads instead of the system's, so the host's defaults cannot interfere. */
async function writeConfig (work: string, extensions: string[]): Promise<string> {
  const file = join(work, 'openssl.cnf')
  await writeFile(file, ['[req]', 'distinguished_name = dn', '[dn]', '[ext]', ...extensions, ''].join('\n'))
  return file
}

async function newKey (work: string, file: string): Promise<void> {
  await openssl(work, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file])
  await chmod(join(work, file), 0o600)
}

async function loadCertificate (file: string): Promise<X509Certificate | null> {
  try {
    return new X509Certificate(await readFile(file))
  } catch {
    return null
  }
}

/** A certificate worth keeping: readable, matching its key, issued by `ca`, and not about to expire. */
async function usable (cert: string, key: string, ca: X509Certificate | null): Promise<X509Certificate | null> {
  const certificate = await loadCertificate(cert)
  if (certificate === null || new Date(certificate.validTo).getTime() - Date.now() < RENEW_WITHIN) return null
  try {
    if (!certificate.checkPrivateKey(createPrivateKey(await readFile(key)))) return null
  } catch {
    return null
  }
  const issuer = ca ?? certificate
  return certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey) ? certificate : null
}

/** Files are made in a scratch folder and moved in at the end, key first, so a crash leaves no half-written file. */
async function moveIn (work: string, dir: string, name: string): Promise<void> {
  await rename(join(work, `${name}.key`), join(dir, `${name}.key`))
  await rename(join(work, `${name}.crt`), join(dir, `${name}.crt`))
}

async function makeCa (work: string, dir: string): Promise<void> {
  const config = await writeConfig(work, CA_EXTENSIONS)
  await newKey(work, 'ca.key')
  // The date tells apart the CAs of earlier runs in a browser's certificate list.
  const subject = `/O=fastify-tls-certificate-auth demo/CN=Dev CA ${new Date().toISOString().slice(0, 10)}`
  await openssl(work, [
    'req', '-x509', '-new', '-key', 'ca.key', '-subj', subject, '-days', String(CA_DAYS), '-sha256',
    '-set_serial', randomSerial(), '-config', config, '-extensions', 'ext', '-out', 'ca.crt'
  ])
  await moveIn(work, dir, 'ca')
}

async function issue (work: string, dir: string, leaf: Leaf): Promise<void> {
  const config = await writeConfig(work, leaf.extensions)
  await newKey(work, `${leaf.name}.key`)
  await openssl(work, ['req', '-new', '-key', `${leaf.name}.key`, '-subj', leaf.subject, '-config', config, '-out', `${leaf.name}.csr`])
  await openssl(work, [
    'x509', '-req', '-in', `${leaf.name}.csr`, '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'),
    '-set_serial', randomSerial(), '-days', String(LEAF_DAYS), '-sha256',
    '-extfile', config, '-extensions', 'ext', '-out', `${leaf.name}.crt`
  ])
  await moveIn(work, dir, leaf.name)
}

/** alice.p12, with a random password kept next to it, so the browser import stays valid across runs. */
async function exportP12 (work: string, dir: string): Promise<string> {
  const password = randomBytes(12).toString('base64url')
  // The password travels in the environment: command lines are visible to every local user.
  await openssl(work, [
    'pkcs12', '-export', '-inkey', join(dir, 'alice.key'), '-in', join(dir, 'alice.crt'), '-certfile', join(dir, 'ca.crt'),
    '-name', 'alice (fastify-tls-certificate-auth demo)', '-passout', `env:${P12_PASSWORD_ENV}`, '-out', 'alice.p12'
  ], { [P12_PASSWORD_ENV]: password })
  await rename(join(work, 'alice.p12'), join(dir, 'alice.p12'))
  // Written last: its presence says the .p12 beside it is complete.
  await writeFile(join(dir, 'alice.p12-password.txt'), `${password}\n`, { mode: 0o600 })
  return password
}

async function readP12Password (dir: string): Promise<string | null> {
  try {
    await readFile(join(dir, 'alice.p12'))
    return (await readFile(join(dir, 'alice.p12-password.txt'), 'utf8')).trim() || null
  } catch {
    return null
  }
}

/** The dev PKI in `dir`: reused when it is all there and valid, otherwise (re)made where needed. */
export async function ensureDevPki (dir: string): Promise<DevPki> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const work = await mkdtemp(join(dir, '.work-'))
  const made: string[] = []
  try {
    let ca = await usable(join(dir, 'ca.crt'), join(dir, 'ca.key'), null)
    if (ca === null) {
      await makeCa(work, dir)
      ca = await loadCertificate(join(dir, 'ca.crt')) as X509Certificate
      made.push('CA')
    }
    for (const leaf of [SERVER, ALICE]) {
      if (await usable(join(dir, `${leaf.name}.crt`), join(dir, `${leaf.name}.key`), ca) === null) {
        await issue(work, dir, leaf)
        made.push(`${leaf.name} certificate`)
      }
    }
    let p12Password = await readP12Password(dir)
    if (p12Password === null || made.includes('alice certificate')) {
      p12Password = await exportP12(work, dir)
      made.push('alice.p12')
    }
    return {
      dir,
      caCert: join(dir, 'ca.crt'),
      caFingerprint: ca.fingerprint256,
      serverCert: join(dir, 'server.crt'),
      serverKey: join(dir, 'server.key'),
      clientCert: join(dir, 'alice.crt'),
      clientKey: join(dir, 'alice.key'),
      clientP12: join(dir, 'alice.p12'),
      p12Password,
      p12PasswordFile: join(dir, 'alice.p12-password.txt'),
      made
    }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
