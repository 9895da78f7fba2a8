import type { FastifyRequest } from 'fastify'
import { X509Certificate } from 'node:crypto'
import type { DnFormat } from '../dn'
import { decodePem } from './encodings'
import type { CertificateSource, SourceResult } from './types'

/** What a source function of the application returns for a certificate it has verified. */
export interface CustomCertificate {
  /** The certificate: an X509Certificate, DER bytes or PEM text. */
  certificate?: X509Certificate | Buffer | string
  /** The subject DN, when there is no certificate (or to cross-check it). */
  dn?: string
  dnFormat?: DnFormat
  /** CA certificates above it, for `accept.caFingerprints`. */
  chain?: Array<X509Certificate | Buffer | string>
}

export type CustomSourceFunction = (request: FastifyRequest) => CustomCertificate | null | undefined

function toDer (certificate: X509Certificate | Buffer | string): Buffer {
  if (typeof certificate === 'string') return decodePem(certificate)[0]
  return Buffer.isBuffer(certificate) ? certificate : certificate.raw
}

/** A source of the application's own: it vouches for verification, the plugin does the rest. */
export function customSource (read: CustomSourceFunction): CertificateSource {
  return function readCustom (request: FastifyRequest): SourceResult {
    let found: CustomCertificate | null | undefined
    try {
      found = read(request)
      if (found == null) return { status: 'absent' }
      if (typeof (found as { then?: unknown }).then === 'function') {
        return { status: 'refused', reason: 'the source function returned a promise: it must answer synchronously' }
      }
      const { certificate, dn, dnFormat, chain } = found
      if (certificate === undefined && dn === undefined) return { status: 'refused', reason: 'the source gave no certificate and no DN' }
      return {
        status: 'present',
        raw: {
          source: 'custom',
          dn,
          dnFormat,
          der: certificate === undefined ? undefined : toDer(certificate),
          chain: chain?.map(toDer)
        }
      }
    } catch (error) {
      return { status: 'refused', reason: `the source function failed: ${(error as Error).message}` }
    }
  }
}
