import type { FastifyRequest } from 'fastify'
import { X509Certificate } from 'node:crypto'
import { DN_FORMATS, type DnFormat } from '../parse/dn'
import { decodePem } from '../parse/encodings'
import { ABSENT, ok, refuse, type Result } from '../result'
import type { CertificateSource, RawCertificate } from './types'

/** What a source function of the application returns for a certificate it has verified. */
export interface CustomCertificate {
  /** The certificate: an X509Certificate, DER bytes or PEM text. */
  certificate?: X509Certificate | Buffer | string
  /** The subject DN, when there is no certificate (or to cross-check it). */
  dn?: string
  dnFormat?: DnFormat
  /** Read a `dn` in OpenSSL's slash form with no certificate to check it. Default false: refused. */
  uncheckedSlashForm?: boolean
  /** CA certificates above it, for `accept.caFingerprints`. */
  chain?: Array<X509Certificate | Buffer | string>
}

export type CustomSourceFunction = (request: FastifyRequest) => CustomCertificate | null | undefined

function toDer (certificate: X509Certificate | Buffer | string): Buffer {
  if (typeof certificate === 'string') return decodePem(certificate)[0]
  return Buffer.isBuffer(certificate) ? certificate : certificate.raw
}

function isCertificate (value: unknown): value is X509Certificate | Buffer | string {
  return typeof value === 'string' || Buffer.isBuffer(value) || value instanceof X509Certificate
}

/** What is wrong with a source function's answer, or null when it is well-formed. */
function malformed (found: object): string | null {
  if (typeof (found as { then?: unknown }).then === 'function') return 'returned a promise: it must answer synchronously'
  if (Array.isArray(found)) return 'returned an array'
  const { certificate, dn, dnFormat, uncheckedSlashForm, chain } = found as Record<string, unknown>
  if (certificate !== undefined && !isCertificate(certificate)) return 'gave a certificate that is not an X509Certificate, a Buffer or PEM text'
  if (dn !== undefined && typeof dn !== 'string') return 'gave a dn that is not a string'
  if (dnFormat !== undefined && !(DN_FORMATS as readonly unknown[]).includes(dnFormat)) return `gave a dnFormat other than ${DN_FORMATS.join(', ')}`
  if (uncheckedSlashForm !== undefined && typeof uncheckedSlashForm !== 'boolean') return 'gave an uncheckedSlashForm that is not a boolean'
  if (chain !== undefined && !(Array.isArray(chain) && chain.every(isCertificate))) return 'gave a chain that is not an array of certificates'
  if (certificate === undefined && dn === undefined) return 'gave no certificate and no DN'
  return null
}

/** A source of the application's own: it vouches for verification, the plugin does the rest. */
export function customSource (read: CustomSourceFunction): CertificateSource {
  return function readCustom (request: FastifyRequest): Result<RawCertificate> {
    let found: unknown
    try {
      found = read(request)
      if (found == null) return ABSENT
      // Whatever the function returned, a malformed answer is no identity (and a logged reason), never a 500.
      const wrong = typeof found === 'object' ? malformed(found) : `returned a ${typeof found}`
      if (wrong !== null) return refuse(`the source function ${wrong}`)
      const { certificate, dn, dnFormat, uncheckedSlashForm, chain } = found as CustomCertificate
      return ok({
        source: 'custom',
        dn,
        dnFormat,
        uncheckedSlashForm,
        der: certificate === undefined ? undefined : toDer(certificate),
        chain: chain?.map(toDer)
      })
    } catch (error) {
      return refuse(`the source function failed: ${(error as Error).message}`)
    }
  }
}
