import Database from 'better-sqlite3'
import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'

const root = join(__dirname, '..')

interface Run { code: number | null, stdout: string, stderr: string }

function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, 'localhost', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** `npm start -- --self-test`, with its own PKI folder and port; resolves whatever the exit code. */
async function selfTest (dir: string): Promise<Run> {
  // Only what the demo needs: tap's coverage variables would hook the child too.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, DEMO_DIR: dir, PORT: String(await freePort()) }
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'example/server.ts', '--self-test'], { cwd: root, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (error.code as number | null | undefined) ?? null, stdout, stderr })
    })
  })
}

async function caFingerprint (dir: string): Promise<string> {
  return new X509Certificate(await readFile(join(dir, 'ca.crt'))).fingerprint256
}

test('the demo logs alice in with its generated certificate, and reuses its PKI on the next run', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tls-cert-auth-demo-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))

  const first = await selfTest(dir)
  t.equal(first.code, 0, 'the first self-test passes', { stdout: first.stdout, stderr: first.stderr })
  t.match(first.stdout, /^Dev PKI: made CA, server certificate, alice certificate, alice\.p12 in /m)
  t.match(first.stdout, /^ {2}GET \/accounts\/login\/ -> 302 to \/, session cookie set$/m)
  t.match(first.stdout, /^PASS: the client certificate logged alice in; session user alice \(id 1\)$/m)
  const fingerprint = await caFingerprint(dir)
  t.ok(first.stdout.includes(`SHA-256 ${fingerprint}`), 'prints the CA fingerprint')

  const second = await selfTest(dir)
  t.equal(second.code, 0, 'the second self-test passes', { stdout: second.stdout, stderr: second.stderr })
  t.match(second.stdout, /^Dev PKI: reused /m)
  t.equal(await caFingerprint(dir), fingerprint, 'the CA was not made again')
  t.ok(second.stdout.includes(`SHA-256 ${fingerprint}`), 'prints the same CA fingerprint')
  t.match(second.stdout, /^PASS: .*session user alice \(id 1\)$/m, 'alice is found again in the same database, not created twice')
})

test('a missing piece of the dev PKI is remade alone, under the same CA', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tls-cert-auth-demo-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  t.equal((await selfTest(dir)).code, 0)
  const fingerprint = await caFingerprint(dir)
  await rm(join(dir, 'server.key'))
  await rm(join(dir, 'alice.p12-password.txt'))

  const run = await selfTest(dir)
  t.equal(run.code, 0, 'the self-test passes', { stdout: run.stdout, stderr: run.stderr })
  t.match(run.stdout, /^Dev PKI: made server certificate, alice\.p12 in /m)
  t.equal(await caFingerprint(dir), fingerprint, 'the CA was kept')
})

test('the self-test prints FAIL and exits non-zero when the login does not work', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tls-cert-auth-demo-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  // A users table whose created_at has no default: creating alice fails, so no login happens.
  const db = new Database(join(dir, 'users.db'))
  db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT UNIQUE NOT NULL, created_at TEXT NOT NULL)')
  db.close()

  const run = await selfTest(dir)
  t.equal(run.code, 1, 'exits 1', { stdout: run.stdout, stderr: run.stderr })
  t.match(run.stdout, /^FAIL: expected a 302 redirect from the login URL, got 500/m)
  t.notMatch(run.stdout, /^PASS/m)
})
