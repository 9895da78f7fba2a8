import { execFile } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'tap'
import * as errors from '../plugin/errors'

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

test('every error is exported by name, to ESM and to CommonJS, with its type', async (t) => {
  // Written from errors.ts itself: an error added there is imported here by its name.
  const names = Object.keys(errors)
  t.ok(names.length >= 18, `${names.length} errors`)
  const dir = join(root, 'test', `.consumers-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const report = 'console.log(JSON.stringify([' + names.map((name) => `new ${name}().code`).join(', ') + ']))\n'
  writeFileSync(join(dir, 'esm.mts'), `import { ${names.join(', ')} } from 'fastify-tls-certificate-auth'\n${report}`)
  writeFileSync(join(dir, 'cjs.cts'), `import { ${names.join(', ')} } from 'fastify-tls-certificate-auth'\n${report}`)
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'ES2022', strict: true, outDir: 'out', skipLibCheck: true, types: ['node'] },
    files: ['esm.mts', 'cjs.cts']
  }))
  await run('npx', ['tsc', '-p', join(dir, 'tsconfig.json')], { cwd: root, env })
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    const codes = JSON.parse((await run('node', [join(dir, 'out', file)], { cwd: root, env })).stdout)
    t.same(codes, names, `${file}: every error, by name`)
  }
})

test('are-the-types-wrong finds no problem in the packed package', async (t) => {
  const { stdout } = await run('npx', ['attw', '--pack', '.', '--format', 'json'], { cwd: root, env })
  const report = JSON.parse(stdout)
  t.same(report.problems, {}, 'no problems')
})
