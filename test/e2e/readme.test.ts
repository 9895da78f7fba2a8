// The README's proxy configurations are the ones the e2e tests run.

import { readFileSync } from 'node:fs'
import { test } from 'tap'
import { README, readmeSection, renderProxyConfigs, withSection } from './lib/readme-configs'

test('the README shows the proxy configurations the e2e tests run', async (t) => {
  const section = readmeSection(readFileSync(README, 'utf8'))
  t.not(section, null, 'README.md has the <!-- proxy-configs:start --> and <!-- proxy-configs:end --> markers; run `npm run docs`')
  t.equal(section, renderProxyConfigs(), 'README.md is out of date with test/e2e/lib/proxy-configs.ts: run `npm run docs`')
})

test('the docs generator touches only the text between its markers', async (t) => {
  const rendered = renderProxyConfigs()
  const appended = withSection('# Title\n\nText.\n', rendered)
  t.equal(readmeSection(appended), rendered, 'markers appended at the end when missing')
  t.ok(appended.startsWith('# Title\n\nText.\n\n<!-- proxy-configs:start -->'), 'the text before is kept')

  const around = appended.replace('# Title', '# Renamed') + '\n## After\n'
  const rewritten = withSection(around.replace(rendered, '\nstale\n'), rendered)
  t.equal(rewritten, around, 'a stale section is replaced, the rest kept byte for byte')
  t.equal(withSection(rewritten, rendered), rewritten, 'writing twice changes nothing')
})
