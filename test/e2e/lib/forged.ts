// What an attacker sends: every preset's certificate headers, filled in so that an app that
// believed them would log the attacker in as `admin`. A certificate is no secret, and the plugin
// does not verify certificates that arrive in headers (the proxy did), so the forged certificate
// is simply self-signed.

import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { PRESETS, type PresetName } from '../../../plugin/sources/presets'

const execFileAsync = promisify(execFile)

export const FORGED_USERNAME = 'admin'

export interface ForgedCertificate {
  certPem: string
  derBase64: string
  x509: X509Certificate
}

/** A self-signed client certificate of the attacker's making, written into `dir`. */
export async function createSelfSigned (dir: string, name: string, subject: string, subjectAltName?: string): Promise<ForgedCertificate> {
  const cert = join(dir, `${name}.crt`)
  await execFileAsync('openssl', [
    'req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', join(dir, `${name}.key`), '-out', cert, '-subj', subject, '-days', '2',
    '-addext', 'extendedKeyUsage = clientAuth',
    ...(subjectAltName === undefined ? [] : ['-addext', `subjectAltName = ${subjectAltName}`])
  ])
  const certPem = await readFile(cert, 'utf8')
  const x509 = new X509Certificate(certPem)
  return { certPem, derBase64: x509.raw.toString('base64'), x509 }
}

/** A self-signed `O=Example, CN=admin` certificate, written into `dir`. */
export async function createForgedAdmin (dir: string): Promise<ForgedCertificate> {
  return await createSelfSigned(dir, 'forged-admin', '/O=Example/CN=admin')
}

function encodeCertificate (encoding: string, forged: ForgedCertificate): string {
  switch (encoding) {
    case 'base64-der': return forged.derBase64
    case 'rfc9440': return `:${forged.derBase64}:`
    case 'xfcc': return `Hash=${forged.x509.fingerprint256.replaceAll(':', '').toLowerCase()};` +
      `Cert="${encodeURIComponent(forged.certPem)}";Subject="CN=admin,O=Example"`
    default: return encodeURIComponent(forged.certPem) // PEM, URL-encoded as nginx does
  }
}

/** One preset's headers, each once, claiming a verified `admin` certificate. */
export function forgedHeaders (preset: PresetName, forged: ForgedCertificate): Record<string, string> {
  const set = PRESETS[preset]
  const headers: Record<string, string> = { ...set.require }
  if (set.verify !== null) headers[set.verify] = set.verifySuccess
  if (set.dn !== null) headers[set.dn] = set.dnFormat === 'legacy' ? '/O=Example/CN=admin' : 'CN=admin,O=Example'
  if (set.issuerDn !== null) headers[set.issuerDn] = 'CN=admin,O=Example'
  if (set.cert !== null) headers[set.cert] = encodeCertificate(set.certEncoding, forged)
  if (set.chain !== null) headers[set.chain] = `:${forged.derBase64}:`
  if (set.info !== null) headers[set.info] = encodeURIComponent('Subject="O=Example,CN=admin";Issuer="O=Example,CN=admin"')
  return headers
}

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[]

/**
 * Every preset's forged headers at once; where presets share a header name, `preset`'s own
 * value wins, so the headers the app reads are the ones that would work against it.
 */
export function allForgedHeaders (preset: PresetName, forged: ForgedCertificate): Record<string, string> {
  const all: Record<string, string> = {}
  for (const name of PRESET_NAMES) Object.assign(all, forgedHeaders(name, forged))
  return { ...all, ...forgedHeaders(preset, forged) }
}

/** The same, with `preset`'s own headers sent twice: a proxy must replace every copy. */
export function duplicatedForgedHeaders (preset: PresetName, forged: ForgedCertificate): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = allForgedHeaders(preset, forged)
  for (const [name, value] of Object.entries(forgedHeaders(preset, forged))) headers[name] = [value, value]
  return headers
}
