// Which test files count towards coverage. Two run the plugin only in child processes: the demo's
// self-test (under tsx, whose transform maps lines differently from tap's) and the package test
// (the built dist/ and compiled consumers, not the source). Their coverage would only blur the
// report. Every other test file covers everything it loads.
const CHILD_PROCESS_ONLY = new Set(['test/example.test.ts', 'test/package.test.ts'])

export default function coverageMap (testFile) {
  return CHILD_PROCESS_ONLY.has(testFile) ? null : []
}
