// After the build: names every export of dist/index.js for Node's ESM loader. The package is
// CommonJS (`module.exports = plugin`, the plugin carrying its named exports), and Node finds the
// names an ESM `import { x }` may use only in assignments it can read without running the file
// (cjs-module-lexer). They come from the built module itself, so index.ts lists them once.
import { appendFileSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const file = new URL('../../dist/index.js', import.meta.url)
const names = Object.keys(createRequire(import.meta.url)(file.pathname))
const marker = '// ESM names:'
if (!readFileSync(file, 'utf8').includes(marker)) {
  appendFileSync(file, `${marker} never runs\n0 && (${names.map((name) => `exports.${name}`).join(' = ')} = undefined)\n`)
}
console.log(`dist/index.js: ${names.length} names for ESM imports`)
