import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'tap'

const run = promisify(execFile)
// Children load the built dist/, which is not the source under coverage: no tap hooks in them.
const env = { PATH: process.env.PATH, HOME: process.env.HOME }
const root = join(__dirname, '..')

test('the built package serves ESM, CommonJS and their types alike', async (t) => {
  await run('npx', ['tsc', '-p', 'test/fixtures/consumers/tsconfig.json'], { cwd: root, env })
  const esm = JSON.parse((await run('node', ['.tap/consumers/esm.mjs'], { cwd: root, env })).stdout)
  t.same(esm, { plugin: 'function', same: true, dn: 'alice', code: 'FST_TLS_CERT_AUTH_BAD_DN' })
  const cjs = JSON.parse((await run('node', ['.tap/consumers/cjs.cjs'], { cwd: root, env })).stdout)
  t.same(cjs, { plugin: 'function', same: true, dn: 'bob', identity: null })
})

test('are-the-types-wrong finds no problem in the packed package', async (t) => {
  const { stdout } = await run('npx', ['attw', '--pack', '.', '--format', 'json'], { cwd: root, env })
  const report = JSON.parse(stdout)
  t.same(report.problems, {}, 'no problems')
})
