import type { FastifyRequest } from 'fastify'
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls'
import { ABSENT, ok, type Result } from '../result'
import type { CertificateSource, RawCertificate } from './types'

/** The CA certificates Node links above the leaf, up to the self-signed root. */
function issuerChain (leaf: DetailedPeerCertificate): Buffer[] {
  const chain: Buffer[] = []
  // Node ends a verified chain at a self-signed root, its own issuer; undefined is a guard.
  for (let cert = leaf; cert.issuerCertificate !== undefined && cert.issuerCertificate !== cert;) {
    cert = cert.issuerCertificate
    chain.push(cert.raw)
  }
  return chain
}

/**
 * Node's own mutual TLS (`https.createServer({ requestCert: true, ca })`). A certificate counts only
 * when Node verified it (`socket.authorized`). One answer per connection: keep-alive requests on
 * the same socket reuse it, so the certificate is parsed once per connection.
 */
export function tlsSource (): CertificateSource {
  const perSocket = new WeakMap<object, Result<RawCertificate>>()
  return function readTls (request: FastifyRequest): Result<RawCertificate> {
    const socket = request.raw.socket as TLSSocket
    let result = perSocket.get(socket)
    if (result !== undefined) return result
    const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate(true) : null
    if (peer === null) {
      request.log.warn('source is tls, but this connection is not TLS: no identity')
      result = ABSENT
    } else if (peer.raw === undefined) {
      result = ABSENT
    } else if (!socket.authorized) {
      request.log.info({ reason: String(socket.authorizationError) }, 'client certificate not verified by TLS')
      result = ABSENT
    } else {
      result = ok({ source: 'tls', der: peer.raw, chain: issuerChain(peer) })
    }
    perSocket.set(socket, result)
    return result
  }
}
