import fp from 'fastify-plugin'
import * as errors from './plugin/errors'
import type * as identity from './plugin/identity'
import type * as options from './plugin/options'
import type * as certificate from './plugin/parse/certificate'
import * as dn from './plugin/parse/dn'
import type * as policy from './plugin/policy'
import { register } from './plugin/register'
import type * as custom from './plugin/sources/custom'
import type * as headerOptions from './plugin/sources/header-options'
import type * as presets from './plugin/sources/presets'
import type * as trust from './plugin/trust'

// The one list of what the package exports at run time: the plugin function carries them, so that
// `require()`, `import x from` and `import { x } from` all see the same values; their types follow
// from this object's, and the build names them for Node's ESM loader (test/tools/esm-names.mjs).
const plugin = Object.assign(fp(register, { fastify: '5.x', name: 'fastify-tls-certificate-auth' }), errors, { parseDN: dn.parseDN })
type TlsCertAuth = typeof plugin & { default: TlsCertAuth, tlsCertAuth: TlsCertAuth }
// Sound: both point to the very object this assignment turns into a TlsCertAuth.
const tlsCertAuth: TlsCertAuth = Object.assign(plugin, { default: plugin as TlsCertAuth, tlsCertAuth: plugin as TlsCertAuth })

// Types only: a namespace without values merges with the constant above, and `export =` serves both.
// eslint-disable-next-line @typescript-eslint/no-redeclare -- a types-only namespace merges with the constant
declare namespace tlsCertAuth {
  export type TlsCertAuthOptions = options.TlsCertAuthOptions
  export type CommonOptions = options.CommonOptions
  export type LoginOptions = options.LoginOptions
  export type NoLoginOptions = options.NoLoginOptions
  export type AutoCreateOptions = options.AutoCreateOptions
  export type HeaderSourceOptions = options.HeaderSourceOptions
  export type OtherSourceOptions = options.OtherSourceOptions
  export type FindUser = options.FindUser
  export type CreateUser = options.CreateUser
  export type SaveUser = options.SaveUser
  export type HeaderOptions = headerOptions.HeaderOptions
  export type AcceptOptions = policy.AcceptOptions
  export type PresetName = presets.PresetName
  export type TrustedProxies = trust.TrustedProxies
  export type CertIdentity = identity.CertIdentity
  export type UsernameRule = identity.UsernameRule
  export type SubjectAltName = certificate.SubjectAltName
  export type CustomCertificate = custom.CustomCertificate
  export type CustomSourceFunction = custom.CustomSourceFunction
  export type DnAttribute = dn.DnAttribute
  export type RelativeDistinguishedName = dn.RelativeDistinguishedName
  export type DistinguishedName = dn.DistinguishedName
  export type DnFormat = dn.DnFormat
}
export = tlsCertAuth
