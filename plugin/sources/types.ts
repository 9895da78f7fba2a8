import type { FastifyRequest } from 'fastify'
import type { DistinguishedName, DnFormat } from '../parse/dn'
import type { Result } from '../result'

/** What a source saw of the client certificate, before any parsing or policy. */
export interface RawCertificate {
  /** Where it came from. */
  source: 'headers' | 'debug' | 'tls' | 'custom'
  /** The subject DN as text, as received. */
  dn?: string
  dnFormat?: DnFormat
  /** Read a slash-form `dn` although no certificate came to check it (the source was told to). */
  uncheckedSlashForm?: boolean
  /** A subject the source read itself (Traefik's Info header yields only a CN). */
  subject?: DistinguishedName
  /** The issuer DN as text, from a proxy header. */
  issuerDn?: string
  /** The leaf certificate, DER. */
  der?: Buffer
  /** CA certificates forwarded with it, DER. */
  chain?: Buffer[]
}

/** No certificate, a certificate, or a certificate it must refuse (verified, but unusable). */
export type CertificateSource = (request: FastifyRequest) => Result<RawCertificate>
