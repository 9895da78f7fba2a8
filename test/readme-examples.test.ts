// Every TypeScript block of the README compiles under `strict`, against the built package as an
// application imports it (`fastify-tls-certificate-auth`, resolved through package.json "exports").
// A block that is a fragment of an app (no `const app = Fastify(…)`) gets declarations of the
// names it uses but does not define: `app`, `users`, `secret`…, and the imports it leaves out.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'tap'
import ts from 'typescript'

const ROOT = join(__dirname, '..')

/** What a fragment may use without defining it, by name; the plugin's and a session's types always. */
const PRELUDE: Array<[string, string]> = [
  ['Fastify', "import Fastify from 'fastify'"],
  ['cookie', "import cookie from '@fastify/cookie'"],
  ['session', "import session from '@fastify/session'"],
  ['tlsCertAuth', "import tlsCertAuth from 'fastify-tls-certificate-auth'"],
  ['app', "declare const app: import('fastify').FastifyInstance"],
  ['secret', 'declare const secret: string'],
  ['users', 'declare const users: { find (username: string): Promise<{ id: number, username: string } | null> }'],
  ['orders', 'declare const orders: { forUser (username: string): Promise<unknown[]> }'],
  ['revoked', 'declare const revoked: Set<string>']
]
const ALWAYS = new Set(['tlsCertAuth', 'session'])

export function typescriptBlocks (markdown: string): Array<{ line: number, code: string }> {
  const blocks: Array<{ line: number, code: string }> = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```ts') continue
    const start = i + 1
    while (lines[++i] !== '```');
    blocks.push({ line: start + 1, code: lines.slice(start, i).join('\n') })
  }
  return blocks
}

/** Which session plugin's types a block needs: two of them type `request.session` differently. */
function sessionKind (code: string): string {
  return code.includes("'@fastify/secure-session'") ? 'secure-session' : code.includes("'@fastify/jwt'") ? 'jwt' : 'session'
}

/** The block, with the prelude lines for the names it uses (or always needs) and does not define. */
export function withPrelude (code: string): string {
  const uses = (name: string) => ALWAYS.has(name) || new RegExp(`(?<![.\\w'"-])${name}\\b`).test(code)
  const defines = (name: string) => new RegExp(`\\b(?:import|const|let|var|function|class|interface)\\s+${name}\\b|\\bimport\\s*\\{[^}]*\\b${name}\\b`).test(code)
  const applies = (name: string) => name !== 'session' || sessionKind(code) === 'session'
  const prelude = PRELUDE.filter(([name]) => uses(name) && !defines(name) && applies(name)).map(([, line]) => line)
  return [...prelude, code, 'export {}'].join('\n')
}

test('every TypeScript block of the README compiles under strict', async (t) => {
  const blocks = typescriptBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'))
  t.ok(blocks.length >= 10, `${blocks.length} blocks`)
  const dir = join(ROOT, 'test', `.readme-blocks-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const options: ts.CompilerOptions = {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    skipLibCheck: true,
    types: ['node']
  }
  // One program per session plugin: each types `request.session` (and `request.user`) its own way.
  const groups = new Map<string, Array<{ file: string, line: number, first: string }>>()
  for (const [index, block] of blocks.entries()) {
    const file = join(dir, `block-${index + 1}.mts`)
    writeFileSync(file, withPrelude(block.code))
    const kind = sessionKind(block.code)
    groups.set(kind, [...(groups.get(kind) ?? []), { file, line: block.line, first: block.code.split('\n')[0] }])
  }
  for (const files of groups.values()) {
    const program = ts.createProgram({ rootNames: files.map(({ file }) => file), options })
    for (const { file, line, first } of files) {
      const diagnostics = ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((diagnostic) =>
        ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
      t.same(diagnostics, [], `README line ${line}: ${first}`)
    }
  }
})

test('the prelude adds only what a fragment uses and does not define', async (t) => {
  t.equal(withPrelude('app.get(\'/\', async () => 1)'), [
    "import session from '@fastify/session'",
    "import tlsCertAuth from 'fastify-tls-certificate-auth'",
    "declare const app: import('fastify').FastifyInstance",
    "app.get('/', async () => 1)",
    'export {}'
  ].join('\n'))
  t.notMatch(withPrelude("import Fastify from 'fastify'\nconst app = Fastify()"), /declare const app|import Fastify from 'fastify'\nimport Fastify/)
  t.notMatch(withPrelude('request.orders.get(1)'), /declare const orders/, 'a property named like a prelude name is not a use')
  t.notMatch(withPrelude("import secureSession from '@fastify/secure-session'"), /'@fastify\/session'/, 'one session plugin at a time')
})
