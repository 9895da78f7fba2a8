// The demo: Node terminates mutual TLS itself, no proxy needed.
//
//   npm start                      serve https://localhost:8443 and print how to log in
//   npm start -- --self-test       log in once with the generated certificate, print PASS or FAIL, exit
//
// Environment: PORT (default 8443; a free one for the self-test), DEMO_DIR (the dev PKI and the
// SQLite database, default example/.dev-pki), SESSION_SECRET (default: a new one each start),
// LOG_LEVEL (default info; warn for the self-test).
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { buildApp } from './app'
import { CLIENT_USERNAME, ensureDevPki, type DevPki } from './dev-pki'
import { selfTest } from './self-test'
import { openUserStore } from './users'

/** A path as short as it can be from here, quoted when a shell would split or expand it. */
function shown (file: string): string {
  const fromHere = relative(process.cwd(), file)
  const path = fromHere !== '' && !fromHere.startsWith('..') && !isAbsolute(fromHere) ? fromHere : file
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`
}

function readPort (value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT: expected a port number, got ${JSON.stringify(value)}`)
  return port
}

function printHowToLogIn (origin: string, pki: DevPki): void {
  console.log(`
fastify-tls-certificate-auth demo: ${origin}/

Log in from a terminal (curl follows the redirect and shows the home page):

  curl --cacert ${shown(pki.caCert)} --cert ${shown(pki.clientCert)} --key ${shown(pki.clientKey)} -c ${shown(join(pki.dir, 'cookies.txt'))} -L ${origin}/accounts/login/

Log in from a browser:

  1. Import the client certificate ${shown(pki.clientP12)}
     password: ${pki.p12Password} (kept in ${shown(pki.p12PasswordFile)})
     Firefox: Settings > Privacy & Security > Certificates > View Certificates > Your Certificates > Import
     Chrome, Edge: Settings > Privacy and security > Security > Manage certificates
     Safari: double-click the file (Keychain Access)
  2. Trust the dev CA ${shown(pki.caCert)} for websites, or accept the browser's warning:
     Firefox: the same dialog, Authorities > Import, "trust this CA to identify websites"
     Chrome, Edge, Safari: the system's store (macOS: Keychain Access, set "When using this certificate"
     to "Always Trust"; Windows: "Trusted Root Certification Authorities")
     The CA can only vouch for localhost, 127.0.0.1 and ::1 (name constraints).
  3. Open ${origin}/ and choose the alice certificate when the browser asks.

Ctrl-C stops the server.`)
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { 'self-test': { type: 'boolean', default: false } } })
  const selfTesting = values['self-test'] === true
  const dir = resolve(process.env.DEMO_DIR ?? join(__dirname, '.dev-pki'))
  const port = readPort(process.env.PORT, selfTesting ? 0 : 8443)

  const pki = await ensureDevPki(dir)
  console.log(pki.made.length === 0
    ? `Dev PKI: reused ${shown(dir)}`
    : `Dev PKI: made ${pki.made.join(', ')} in ${shown(dir)}`)
  console.log(`  CA ${shown(pki.caCert)}, SHA-256 ${pki.caFingerprint}`)
  const usersFile = join(dir, 'users.db')
  console.log(`Users: SQLite ${shown(usersFile)}`)

  const [ca, cert, key] = await Promise.all([pki.caCert, pki.serverCert, pki.serverKey].map((file) => readFile(file, 'utf8')))
  const app = await buildApp({
    tls: { ca, cert, key },
    users: openUserStore(usersFile),
    // Sessions live in memory and end with the process anyway: a new secret each start loses nothing.
    sessionSecret: process.env.SESSION_SECRET ?? randomBytes(32).toString('base64url'),
    files: { p12: shown(pki.clientP12), caCert: shown(pki.caCert) },
    logLevel: process.env.LOG_LEVEL ?? (selfTesting ? 'warn' : 'info')
  })
  // localhost: both 127.0.0.1 and ::1, the addresses the server certificate names.
  await app.listen({ host: 'localhost', port })
  const origin = `https://localhost:${(app.server.address() as AddressInfo).port}`

  if (selfTesting) {
    const [clientCert, clientKey] = await Promise.all([pki.clientCert, pki.clientKey].map((file) => readFile(file, 'utf8')))
    const passed = await selfTest(origin, { ca, cert: clientCert, key: clientKey }, CLIENT_USERNAME)
    await app.close()
    process.exitCode = passed ? 0 : 1
    return
  }

  printHowToLogIn(origin, pki)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      app.close().catch((error: unknown) => {
        console.error(error)
        process.exitCode = 1
      })
    })
  }
}

main().catch((error: unknown) => {
  console.error(error)
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') console.error('The port is taken: choose another with PORT, e.g. PORT=8444 npm start')
  process.exitCode = 1
})
