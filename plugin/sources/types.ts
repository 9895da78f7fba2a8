import type { FastifyRequest } from 'fastify'
import type { DnFormat } from '../dn'

/** What a source saw of the client certificate, before any parsing or policy. */
export interface RawCertificate {
  /** Where it came from: the proxy's headers, debug fake headers, or the TLS socket. */
  source: 'headers' | 'debug'
  /** The subject DN exactly as received. */
  dn: string
  dnFormat: DnFormat
}

/**
 * A source answers one of three ways: no certificate (the request goes on as anonymous),
 * a certificate, or a certificate it must refuse (verified, but unusable).
 */
export type SourceResult =
  | { status: 'absent' }
  | { status: 'present', raw: RawCertificate }
  | { status: 'refused', reason: string }

export type CertificateSource = (request: FastifyRequest) => SourceResult
