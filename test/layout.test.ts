// The README's "How the code is laid out" names real paths, and SECURITY.md names real tests: a file
// moved or a test renamed fails here.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'tap'

const root = join(__dirname, '..')

test('every path the README\'s layout section names exists', async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## How the code is laid out'), readme.indexOf('## Proxy configurations'))
  const paths = new Set<string>()
  for (const [path] of section.matchAll(/\b(?:index\.ts|plugin\/[\w/.-]+\.ts|test\/[\w/.-]+\.ts)\b/g)) paths.add(path)
  // Bare file names listed under a folder (`asn1.ts`, …) are checked in that folder.
  for (const [line, folder] of section.matchAll(/`(plugin\/[\w/]+\/)`: ([^\n]*(?:\n {2}[^\n-][^\n]*)*)/g)) {
    for (const [, name] of line.matchAll(/`([\w-]+\.ts)`/g)) paths.add(folder + name)
  }
  t.ok(paths.size >= 20, `${paths.size} paths named`)
  for (const path of paths) t.ok(existsSync(join(root, path)), path)
})

test('every test SECURITY.md names as its proof exists, under that title', async (t) => {
  const security = readFileSync(join(root, 'SECURITY.md'), 'utf8')
  // `file.test.ts: title`, the title whole or cut short with …, and the span wrapped over lines.
  const named = [...security.matchAll(/`([\w/.-]+\.test\.ts): ([^`]+)`/g)]
  t.ok(named.length >= 35, `${named.length} tests named`)
  for (const [, file, title] of named) {
    const path = join(root, 'test', file)
    if (!existsSync(path)) {
      t.fail(`${file}: no such test file`)
      continue
    }
    const source = readFileSync(path, 'utf8').replaceAll("\\'", "'").replace(/\s+/g, ' ')
    const words = title.replace(/\s+/g, ' ').replace(/…$/, '')
    t.ok(source.includes(`('${words}`) || source.includes(`(\`${words}`), `${file}: ${words}`)
  }
})
