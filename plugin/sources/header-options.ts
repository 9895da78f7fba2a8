import { invalid, oneOf } from '../option-values'
import { DN_FORMATS, type DnFormat } from '../parse/dn'
import { didYouMean } from '../suggest'
import { HEADER_CERT_ENCODINGS, PRESETS, type HeaderCertEncoding, type HeaderSet, type PresetName } from './presets'

/** The `headers` option: any field overrides the preset's. */
export interface HeaderOptions {
  verify?: string | null
  verifySuccess?: string
  /** Headers that must carry exactly these values, added to the preset's; `null` removes one of the preset's. */
  require?: Record<string, string | null>
  dn?: string | null
  dnFormat?: DnFormat
  /** Read a slash-form DN that comes without a certificate to check it. Default false: refused. */
  uncheckedSlashForm?: boolean
  issuerDn?: string | null
  cert?: string | null
  certEncoding?: HeaderCertEncoding
  chain?: string | null
  info?: string | null
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** A header name as Node spells it (lower case), or a registration error. */
function headerName (value: string, name: string): string {
  if (!HEADER_NAME.test(value)) invalid(name, `${JSON.stringify(value)} is not a header name`)
  return value.toLowerCase()
}

export const SLASH_FORM_NEEDS_CERTIFICATE = "the slash form ('legacy') is read only with the certificate to check " +
  "it: forward it (headers.cert: 'x-client-cert', with the proxy setting that header on every request: nginx's " +
  "proxy_set_header X-Client-Cert $ssl_client_escaped_cert), send RFC 2253 (nginx's $ssl_client_s_dn, preset " +
  "'nginx'), or accept the slash form's blind spots with headers.uncheckedSlashForm: true"

/** The preset's header set with the `headers` option laid over it, field by field. */
export function readHeaderOptions (preset: PresetName | undefined, headers: HeaderOptions | undefined): HeaderSet {
  if (preset !== undefined && !Object.hasOwn(PRESETS, preset)) {
    invalid('preset', `${JSON.stringify(preset)} is not one of ${Object.keys(PRESETS).join(', ')}`)
  }
  const result: HeaderSet = { ...PRESETS[preset ?? 'nginx'] }
  if (headers !== undefined && (typeof headers !== 'object' || headers === null)) invalid('headers', 'expected an object')
  for (const [key, value] of Object.entries(headers ?? {}) as Array<[keyof HeaderSet, unknown]>) {
    const name = `headers.${key}`
    if (!Object.hasOwn(result, key)) invalid(name, 'unknown header option' + didYouMean(key, Object.keys(result)))
    if (key === 'require') {
      if (typeof value !== 'object' || value === null) invalid(name, 'expected an object of header: value')
      // Added to the preset's own: dropping one (Cloudflare's revocation flag) takes an explicit null.
      result.require = { ...result.require }
      for (const [header, expected] of Object.entries(value)) {
        if (expected !== null && typeof expected !== 'string') invalid(`${name}.${header}`, 'expected a string, or null')
        if (expected === null) delete result.require[headerName(header, name)]
        else result.require[headerName(header, name)] = expected
      }
    } else if (key === 'verifySuccess') {
      if (typeof value !== 'string' || value === '') invalid(name, 'expected a non-empty string')
      result.verifySuccess = value
    } else if (key === 'dnFormat') {
      result.dnFormat = oneOf(value, DN_FORMATS, name)
    } else if (key === 'uncheckedSlashForm') {
      if (typeof value !== 'boolean') invalid(name, 'expected a boolean')
      result.uncheckedSlashForm = value
    } else if (key === 'certEncoding') {
      result.certEncoding = oneOf(value, HEADER_CERT_ENCODINGS, name)
    } else if (value === null) {
      result[key] = null
    } else {
      if (typeof value !== 'string' || value === '') invalid(name, 'expected a header name, or null')
      result[key] = headerName(value, name)
    }
  }
  if (result.chain !== null && result.certEncoding === 'xfcc') invalid('headers.chain', 'XFCC carries its own Chain')
  if (result.dn === null && result.cert === null && result.info === null) invalid('headers', 'name at least one of dn, cert or info')
  if (result.uncheckedSlashForm && (result.dn === null || result.dnFormat === 'rfc4514')) {
    invalid('headers.uncheckedSlashForm', 'reads a DN header in the slash form, and no DN header here can be in it')
  }
  // A configuration that could never log anyone in fails here rather than at every request.
  if (result.dnFormat === 'legacy' && result.dn !== null && result.cert === null && !result.uncheckedSlashForm) {
    // Legacy without headers.dnFormat: only the nginx-legacy preset is.
    invalid(headers?.dnFormat === undefined ? 'preset' : 'headers.dnFormat', SLASH_FORM_NEEDS_CERTIFICATE)
  }
  return result
}

/** `debugFakeHeaders` by Node's header name: `HTTP_X_CLIENT_CERT_DN` (Django's spelling) or `X-Client-Cert-Dn`. */
export function readFakeHeaders (fakes: Record<string, unknown>, debug: boolean): Map<string, string> {
  const byName = new Map<string, string>()
  for (const [name, value] of Object.entries(fakes)) {
    if (typeof value !== 'string') invalid(`debugFakeHeaders.${name}`, 'expected a string')
    const plain = name.startsWith('HTTP_') ? name.slice(5).replaceAll('_', '-') : name
    // Without debug the fake headers are ignored, as Django ignores DEBUG_FAKE_HEADERS.
    if (debug) byName.set(headerName(plain, `debugFakeHeaders.${name}`), value)
  }
  return byName
}
