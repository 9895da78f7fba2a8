// Mutation testing of plugin/ with Stryker's tap runner over the unit tests (`npm run mutation`).
// Not part of `npm test`: every mutant runs the test files that cover it, each in its own tsx
// process, so a run takes tens of minutes on two cores. See test/mutation/README.md.
//
//   npm run mutation                          all of plugin/ against every in-process unit test
//   MUTATION_GROUP=parse npm run mutation     plugin/parse/* against the parser tests (faster)
//   MUTATION_GROUP=core npm run mutation      trust, policy, login against their tests (faster)
//   MUTATION_GROUP=parse-formats|parse-certificate|parse-dn   the parsers in slices
//
// A group run reports a lower bound for its files: a mutant that only another test file kills
// survives there. Each group keeps its own incremental file and reports, so reruns are quick.
import { existsSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// The one test that times the DN parser (dn.test.ts "linear time on hostile input") measures the
// machine more than the code once the code is instrumented and mutants run side by side: it is
// left out of mutation runs by name (tap's TAP_GREP/TAP_INVERT, inherited by every test process).
process.env.TAP_GREP = 'linear time on hostile input'
process.env.TAP_INVERT = '1'

const tests = (...names) => names.map((name) => `test/${name}.test.ts`)

// Test files written to kill surviving mutants join every group.
const KILLS = existsSync('test/mutation-kills')
  ? readdirSync('test/mutation-kills').filter((file) => file.endsWith('.test.ts')).sort().map((file) => `test/mutation-kills/${file}`)
  : []

// Unit tests that run the source in-process, fast ones first. Left out: package.test.ts (the built
// dist/), example.test.ts (the demo in a child process), readme-examples.test.ts (README blocks
// type-checked against dist/) and layout.test.ts (README paths): none of them runs plugin/ here.
const UNIT_TESTS = tests(
  'identity', 'certificate', 'certificate-fields', 'xfcc-traefik', 'attribute-types', 'dn', 'parsing-fast-paths', 'trust',
  'header-source', 'policy', 'login', 'tls', 'openapi', 'resolver', 'cookie-warnings', 'session-plugins', 'presets',
  'options', 'suggest', 'deadline', 'faults'
)

const GROUPS = {
  all: {
    mutate: ['plugin/**/*.ts', '!plugin/parse/attribute-types.ts'],
    testFiles: UNIT_TESTS
  },
  parse: {
    mutate: ['plugin/parse/*.ts', '!plugin/parse/attribute-types.ts'],
    testFiles: tests('certificate', 'certificate-fields', 'xfcc-traefik', 'attribute-types', 'dn', 'parsing-fast-paths', 'presets', 'faults')
  },
  // The parsers in three slices against the parser tests alone, for runs that must fit a time
  // budget: a survivor runs every test file that covers it, and the slow files dominate.
  'parse-formats': {
    mutate: ['plugin/parse/xfcc.ts', 'plugin/parse/traefik.ts', 'plugin/parse/encodings.ts', 'plugin/parse/asn1.ts'],
    testFiles: tests('certificate', 'xfcc-traefik', 'parsing-fast-paths')
  },
  'parse-certificate': {
    mutate: ['plugin/parse/certificate.ts'],
    testFiles: tests('certificate', 'certificate-fields', 'parsing-fast-paths', 'dn')
  },
  'parse-dn': {
    mutate: ['plugin/parse/dn.ts'],
    testFiles: tests('dn', 'parsing-fast-paths', 'attribute-types', 'certificate')
  },
  // The core checks one at a time, each against the tests written for it: a survivor of `core`
  // runs eight test files, the slowest cost of a run.
  trust: {
    mutate: ['plugin/trust.ts'],
    testFiles: tests('trust', 'options')
  },
  policy: {
    mutate: ['plugin/policy.ts'],
    testFiles: tests('policy', 'options')
  },
  login: {
    mutate: ['plugin/login.ts'],
    testFiles: tests('login', 'session-plugins', 'cookie-warnings', 'resolver', 'faults')
  },
  // Everything the groups above leave out: with them it covers plugin/ once, file by file, for the
  // overall score. Against the tests that run these modules (not the parser tests), those that
  // kill the most first: a mutant stops at the first test file that fails.
  rest: {
    mutate: ['plugin/**/*.ts', '!plugin/parse/**', '!plugin/trust.ts', '!plugin/policy.ts', '!plugin/login.ts'],
    testFiles: tests('options', 'presets', 'identity', 'policy', 'login', 'trust', 'resolver', 'xfcc-traefik', 'tls',
      'cookie-warnings', 'openapi', 'session-plugins', 'faults')
  },
  // `rest` in four slices, each against the one or two test files written for it: a survivor runs
  // only those, so the four fit in half an hour on two cores. Each score is a lower bound (a mutant
  // only another test file kills survives there), and the four cover what `rest` covers.
  'rest-options': {
    mutate: ['plugin/options.ts', 'plugin/option-values.ts', 'plugin/suggest.ts', 'plugin/sources/header-options.ts', 'plugin/sources/presets.ts'],
    // The login's and the policy's options are tested beside what they do.
    testFiles: tests('suggest', 'options', 'presets', 'header-source', 'policy', 'login', 'resolver', 'faults')
  },
  'rest-identity': {
    mutate: ['plugin/identity.ts', 'plugin/identity-reader.ts', 'plugin/result.ts', 'plugin/guard.ts'],
    testFiles: tests('identity', 'policy', 'presets', 'login')
  },
  'rest-sources': {
    mutate: ['plugin/sources/headers.ts', 'plugin/sources/custom.ts', 'plugin/sources/tls.ts', 'plugin/sources/index.ts', 'plugin/sources/types.ts'],
    testFiles: tests('header-source', 'presets', 'login', 'policy', 'options', 'trust', 'tls', 'xfcc-traefik')
  },
  'rest-wiring': {
    mutate: ['plugin/register.ts', 'plugin/openapi.ts', 'plugin/resolver.ts', 'plugin/deadline.ts', 'plugin/errors.ts'],
    testFiles: tests('deadline', 'openapi', 'resolver', 'login', 'policy', 'options', 'presets', 'faults')
  },
  core: {
    mutate: ['plugin/trust.ts', 'plugin/policy.ts', 'plugin/login.ts'],
    testFiles: tests('trust', 'policy', 'login', 'resolver', 'cookie-warnings', 'session-plugins', 'options', 'faults')
  }
}

const group = process.env.MUTATION_GROUP ?? 'all'
if (!(group in GROUPS)) throw new Error(`MUTATION_GROUP: expected one of ${Object.keys(GROUPS).join(', ')}, got ${group}`)
const { mutate, testFiles } = GROUPS[group]

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'tap',
  tap: {
    testFiles: [...KILLS, ...testFiles],
    // tap 21 compiles TypeScript through its own loader; each test file runs under tsx instead.
    nodeArgs: ['--import', 'tsx', '-r', '{{hookFile}}', '{{testFile}}'],
    forceBail: true
  },
  coverageAnalysis: 'perTest',
  // Mutants in code that runs at import time would need every test file each: skipped.
  ignoreStatic: true,
  // tsx does not type-check, so no `// @ts-nocheck` headers (they would also change the generated
  // attribute-type table, which attribute-types.test.ts compares byte for byte).
  disableTypeChecks: false,
  mutate,
  ignorePatterns: ['dist', '.tap', 'coverage', 'bench', 'example/.dev-pki', 'test/e2e', 'test/load', 'test/differential', 'test/mutation', '.mutation', '*.tgz'],
  // Sandboxes outside the work tree: tsc, eslint and tap must never see instrumented copies.
  tempDirName: join(tmpdir(), `stryker-tls-certificate-auth-${group}`),
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
  timeoutMS: 10000,
  incremental: true,
  // Results outside test/: tap lists every file under its coverage-exclude folders (test/**) in
  // one environment variable, and a thousand event files made it too long to start any test.
  incrementalFile: `.mutation/stryker-incremental-${group}.json`,
  // event-recorder writes each mutant's result as it is tested: a run stopped early still tells.
  reporters: ['clear-text', 'progress-append-only', 'html', 'json', 'event-recorder'],
  eventReporter: { baseDir: `.mutation/reports/events-${group}` },
  htmlReporter: { fileName: `.mutation/reports/${group}.html` },
  jsonReporter: { fileName: `.mutation/reports/${group}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
  thresholds: { high: 95, low: 90, break: null }
}
