// Per-run test PKI built with the openssl CLI.
//
// Layout: Test Root CA -> Test Intermediate CA -> { server (localhost), clients },
// plus an unrelated Foreign Root CA -> mallory. Proxies verify client
// certificates against `caBundle` (root + intermediate), so every client chain
// is root -> intermediate -> leaf and needs verify depth >= 2.
//
// openssl is always run through execFile with an argument array: nothing is
// ever interpolated into a shell command line.

import { execFile } from 'node:child_process'
import { randomBytes, X509Certificate } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

export interface CertFiles {
  /** Path of the certificate PEM file (leaf only). */
  cert: string
  /** Path of the unencrypted private key PEM file. */
  key: string
  certPem: string
  keyPem: string
  /** Node's view of the certificate, e.g. for `.subject`, `.fingerprint256`, `.raw`. */
  x509: X509Certificate
  /** One-line base64 of the DER, the form HAProxy (`ssl_c_der,base64`) and Caddy forward. */
  derBase64: string
}

export interface ServerCertFiles extends CertFiles {
  /** Path of server cert + intermediate, the file proxies serve as their certificate. */
  chain: string
  chainPem: string
}

export interface P12CertFiles extends CertFiles {
  /** Path of a PKCS#12 bundle (key, cert, intermediate). */
  p12: string
  p12Password: string
}

export type ClientName = 'alice' | 'smith' | 'emailOnly' | 'expired' | 'noClientAuth' | 'mallory'

export interface Pki {
  dir: string
  rootCa: CertFiles
  intermediateCa: CertFiles
  /** Root + intermediate PEM file: what proxies verify client certificates against. */
  caBundle: string
  caBundlePem: string
  server: ServerCertFiles
  /** C=AU, O=Example, CN=alice; SAN email:alice@example.com. */
  alice: P12CertFiles
  /** O=Example, CN=Smith\, John (a literal comma in the CN). */
  smith: CertFiles
  /** O=Example, emailAddress=carol@example.com, no CN; SAN email:carol@example.com. */
  emailOnly: CertFiles
  /** CN=expired, O=Example; validity entirely in the past. */
  expired: CertFiles
  /** O=Example, UID=dora7, CN=dora; SANs of every kind: email, DNS, URI, IPv4, IPv6, UPN and another otherName. */
  rich: CertFiles
  /** O=Example, CN=eve, CN=admin: two CNs. */
  twoCns: CertFiles
  /** CN=future, valid 2049 to 2051. */
  future: CertFiles
  /** CN=noeku: no extended key usage extension. */
  noEku: CertFiles
  /** CN=bob, O=Example; extendedKeyUsage serverAuth only (no clientAuth). */
  noClientAuth: CertFiles
  /** Unrelated root CA: not in caBundle. */
  foreignCa: CertFiles
  /** CN=mallory, O=Evil, issued by foreignCa. */
  mallory: CertFiles
  /** All client certificates by name. */
  clients: Record<ClientName, CertFiles>
  /** Removes the directory if createPki created it. */
  cleanup(): Promise<void>
}

async function openssl (cwd: string, args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd })
  } catch (err) {
    const e = err as Error & { stderr?: string }
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`)
  }
}

// Random positive 64-bit serial, so certs from different runs never collide.
function serial (): string {
  const b = randomBytes(8)
  b[0] = (b[0] & 0x7f) | 0x01
  return '0x' + b.toString('hex')
}

interface Spec {
  name: string
  /** openssl -subj string; '/'-separated RDNs, most significant first. */
  subj: string
  ext: string
}

const caExt = (pathlen: number): string => [
  'basicConstraints = critical, CA:TRUE, pathlen:' + pathlen,
  'keyUsage = critical, keyCertSign, cRLSign',
  'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid:always'
].join('\n')

const leafExt = (eku: string, san?: string): string => [
  'basicConstraints = critical, CA:FALSE',
  'keyUsage = critical, digitalSignature',
  'extendedKeyUsage = ' + eku,
  'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid, issuer',
  ...(san ? ['subjectAltName = ' + san] : [])
].join('\n')

async function load (dir: string, name: string): Promise<CertFiles> {
  const cert = join(dir, name + '.crt')
  const key = join(dir, name + '.key')
  const certPem = await readFile(cert, 'utf8')
  const keyPem = await readFile(key, 'utf8')
  const x509 = new X509Certificate(certPem)
  return { cert, key, certPem, keyPem, x509, derBase64: x509.raw.toString('base64') }
}

// EC P-256 key + CSR in one openssl call.
async function keyAndCsr (dir: string, s: Spec): Promise<void> {
  await openssl(dir, [
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', s.name + '.key', '-out', s.name + '.csr', '-subj', s.subj, '-utf8'
  ])
}

async function selfSigned (dir: string, s: Spec): Promise<CertFiles> {
  await writeFile(join(dir, s.name + '.ext'), `[ext]\n${s.ext}\n`)
  await openssl(dir, [
    'req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', s.name + '.key', '-out', s.name + '.crt', '-subj', s.subj, '-utf8',
    '-days', '3650', '-set_serial', serial(), '-sha256',
    // -config replaces the default openssl.cnf so the host config cannot interfere.
    '-config', s.name + '.ext', '-extensions', 'ext'
  ])
  return load(dir, s.name)
}

async function signed (dir: string, s: Spec, issuer: string): Promise<CertFiles> {
  await keyAndCsr(dir, s)
  await writeFile(join(dir, s.name + '.ext'), `[ext]\n${s.ext}\n`)
  await openssl(dir, [
    'x509', '-req', '-in', s.name + '.csr', '-CA', issuer + '.crt', '-CAkey', issuer + '.key',
    '-set_serial', serial(), '-days', '825', '-sha256',
    '-extfile', s.name + '.ext', '-extensions', 'ext', '-out', s.name + '.crt'
  ])
  return load(dir, s.name)
}

// openssl 3.0's `x509` has no -not_before/-not_after, so a certificate with chosen dates (already
// expired, not yet valid) is issued with `openssl ca`, which accepts -startdate/-enddate.
async function signedDated (dir: string, s: Spec, issuer: string, startDate: string, endDate: string): Promise<CertFiles> {
  await keyAndCsr(dir, s)
  // openssl runs with cwd = dir, so the CA database path can stay relative
  // (no temp path gets pasted into the config file).
  const caDirName = 'ca-' + s.name
  const caDir = join(dir, caDirName)
  await mkdir(caDir, { recursive: true })
  await writeFile(join(caDir, 'index.txt'), '')
  await writeFile(join(caDir, 'serial'), serial().slice(2).toUpperCase() + '\n')
  await writeFile(join(dir, s.name + '.cnf'), [
    '[ca]',
    'default_ca = tmp_ca',
    '[tmp_ca]',
    'dir = ./' + caDirName,
    'database = $dir/index.txt',
    'serial = $dir/serial',
    'new_certs_dir = $dir',
    'default_md = sha256',
    'policy = any',
    'unique_subject = no',
    'copy_extensions = none',
    'email_in_dn = yes',
    '[any]',
    'commonName = optional',
    'organizationName = optional',
    'countryName = optional',
    'emailAddress = optional',
    'userId = optional',
    '[ext]',
    s.ext,
    ''
  ].join('\n'))
  // -preserveDN keeps the CSR's RDN order (otherwise the policy order wins)
  await openssl(dir, [
    'ca', '-batch', '-notext', '-preserveDN', '-config', s.name + '.cnf', '-extensions', 'ext',
    '-cert', issuer + '.crt', '-keyfile', issuer + '.key',
    '-startdate', startDate, '-enddate', endDate,
    '-in', s.name + '.csr', '-out', s.name + '.crt'
  ])
  return load(dir, s.name)
}

/** Writes a whole PKI into `root`, openssl run as few times as the dependencies between certificates allow. */
async function generate (root: string): Promise<void> {
  // The two roots are independent: build them in parallel.
  await Promise.all([
    selfSigned(root, { name: 'root-ca', subj: '/C=AU/O=Example/CN=Test Root CA', ext: caExt(1) }),
    selfSigned(root, { name: 'foreign-ca', subj: '/C=AU/O=Evil/CN=Foreign Root CA', ext: caExt(0) })
  ])
  await Promise.all([
    signed(root, { name: 'intermediate-ca', subj: '/C=AU/O=Example/CN=Test Intermediate CA', ext: caExt(0) }, 'root-ca'),
    signed(root, { name: 'mallory', subj: '/C=AU/O=Evil/CN=mallory', ext: leafExt('clientAuth') }, 'foreign-ca')
  ])
  const int = 'intermediate-ca'
  await Promise.all([
    signed(root, { name: 'server', subj: '/CN=localhost', ext: leafExt('serverAuth', 'DNS:localhost, IP:127.0.0.1') }, int),
    signed(root, { name: 'alice', subj: '/C=AU/O=Example/CN=alice', ext: leafExt('clientAuth', 'email:alice@example.com') }, int),
    signed(root, { name: 'smith', subj: '/O=Example/CN=Smith, John', ext: leafExt('clientAuth') }, int),
    signed(root, { name: 'email-only', subj: '/O=Example/emailAddress=carol@example.com', ext: leafExt('clientAuth', 'email:carol@example.com') }, int),
    signedDated(root, { name: 'expired', subj: '/O=Example/CN=expired', ext: leafExt('clientAuth') }, int, '20200101000000Z', '20210101000000Z'),
    signed(root, { name: 'no-client-auth', subj: '/O=Example/CN=bob', ext: leafExt('serverAuth') }, int),
    // Certificates for the identity and policy unit tests.
    signed(root, {
      name: 'rich',
      subj: '/O=Example/UID=dora7/CN=dora',
      ext: leafExt('clientAuth', 'email:dora@example.com, DNS:dora.example.com, URI:spiffe://example.com/dora, ' +
        'IP:10.0.0.1, IP:2001:db8::1, otherName:1.3.6.1.4.1.311.20.2.3;UTF8:dora@corp.example, otherName:1.2.3.4;UTF8:other')
    }, int),
    signed(root, { name: 'two-cns', subj: '/O=Example/CN=eve/CN=admin', ext: leafExt('clientAuth') }, int),
    // Starts in 2049 (UTCTime) and ends in 2051 (GeneralizedTime, RFC 5280 from 2050 on).
    signedDated(root, { name: 'future', subj: '/O=Example/CN=future', ext: leafExt('clientAuth') }, int, '20490101000000Z', '20510101000000Z'),
    signed(root, { name: 'no-eku', subj: '/O=Example/CN=noeku', ext: 'basicConstraints = critical, CA:FALSE' }, int)
  ])
  const [rootPem, intermediatePem, serverPem] = await Promise.all(['root-ca', 'intermediate-ca', 'server'].map(async (name) => await readFile(join(root, name + '.crt'), 'utf8')))
  await writeFile(join(root, 'ca-bundle.pem'), rootPem + intermediatePem)
  await writeFile(join(root, 'server-chain.pem'), serverPem + intermediatePem)
  const p12Password = 'alice-p12-' + randomBytes(4).toString('hex')
  await writeFile(join(root, 'alice.p12-password'), p12Password)
  await openssl(root, [
    'pkcs12', '-export', '-in', 'alice.crt', '-inkey', 'alice.key', '-certfile', 'intermediate-ca.crt',
    '-name', 'alice', '-out', 'alice.p12', '-passout', 'pass:' + p12Password
  ])
}

/** The PKI that `generate` wrote into `root`. */
async function readPki (root: string, cleanup: () => Promise<void>): Promise<Pki> {
  const names = ['root-ca', 'foreign-ca', 'intermediate-ca', 'mallory', 'server', 'alice', 'smith', 'email-only', 'expired',
    'no-client-auth', 'rich', 'two-cns', 'future', 'no-eku'] as const
  const loaded = await Promise.all(names.map(async (name) => await load(root, name)))
  const files = Object.fromEntries(names.map((name, i) => [name, loaded[i]])) as Record<typeof names[number], CertFiles>
  const caBundle = join(root, 'ca-bundle.pem')
  const chain = join(root, 'server-chain.pem')
  const alice: P12CertFiles = { ...files.alice, p12: join(root, 'alice.p12'), p12Password: await readFile(join(root, 'alice.p12-password'), 'utf8') }
  const { smith, expired, mallory, rich, future } = files
  const emailOnly = files['email-only']
  const noClientAuth = files['no-client-auth']
  return {
    dir: root,
    rootCa: files['root-ca'],
    intermediateCa: files['intermediate-ca'],
    caBundle,
    caBundlePem: await readFile(caBundle, 'utf8'),
    server: { ...files.server, chain, chainPem: await readFile(chain, 'utf8') },
    alice,
    smith,
    emailOnly,
    expired,
    noClientAuth,
    foreignCa: files['foreign-ca'],
    mallory,
    rich,
    twoCns: files['two-cns'],
    future,
    noEku: files['no-eku'],
    clients: { alice, smith, emailOnly, expired, noClientAuth, mallory },
    cleanup
  }
}

/** A PKI of its own in a new temp dir, removed by cleanup(). */
export async function createPki (): Promise<Pki> {
  const root = await mkdtemp(join(tmpdir(), 'tls-cert-auth-pki-'))
  const cleanup = async (): Promise<void> => { await rm(root, { recursive: true, force: true }) }
  try {
    await generate(root)
    return await readPki(root, cleanup)
  } catch (err) {
    await cleanup()
    throw err
  }
}

// One PKI for every test file of a run: `.tap/pki`, made afresh by the run's `before` script
// (test/helpers/fresh-pki.ts), or by whichever test file gets here first when a file runs alone.
const SHARED = join(__dirname, '..', '..', '.tap', 'pki')

/** The run's PKI. Tests may add files of their own to its dir; none of them removes it. */
export async function sharedPki (): Promise<Pki> {
  try {
    return await readPki(SHARED, async () => {})
  } catch {
    // Made elsewhere and moved into place whole, so a reader never sees half a PKI.
    const made = await createPki()
    await mkdir(dirname(SHARED), { recursive: true })
    await rename(made.dir, SHARED).catch(async () => { await made.cleanup() }) // another file was quicker
    return await readPki(SHARED, async () => {})
  }
}

/** Replaces the shared PKI with a new one. */
export async function freshSharedPki (): Promise<void> {
  await rm(SHARED, { recursive: true, force: true })
  await sharedPki()
}
