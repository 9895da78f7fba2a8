// tap's `before` script: one new PKI for the whole run (see sharedPki in ./pki.ts).
import { freshSharedPki } from './pki'

freshSharedPki().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
