// Client certificates for many users at once, written in-process by the test DER writer and
// signed with the shared PKI's intermediate CA key: one openssl call per user would take seconds.

import { X509Certificate } from 'node:crypto'
import { certificate, clientKey, issuerFromPem, name, pem, string, TAGS, type CertificateSpec } from '../../helpers/der'
import type { ClientIdentity } from '../../helpers/tls-client'
import type { Pki } from '../../helpers/pki'

export interface UserCertificate {
  username: string
  /** C=AU, O=Example, CN=<username>: the plugin's default username rule reads the CN. */
  identity: ClientIdentity & { certPem: string, keyPem: string }
}

/**
 * A certificate OpenSSL accepts. der.ts writes the random 16-byte serial as it comes: when its
 * first byte is 0 and the second below 0x80 (1 in 512) the INTEGER is not minimal DER, and
 * OpenSSL refuses the whole certificate (ERR_OSSL_ASN1_ILLEGAL_PADDING), in nginx's client
 * and in Node's. Such a certificate is made again, with another serial.
 */
function wellFormed (spec: CertificateSpec): Buffer {
  let lastError: unknown
  for (let attempt = 0; attempt < 10; attempt++) {
    const der = certificate(spec)
    try {
      // OpenSSL's parse, as nginx and the TLS client will parse it.
      if (new X509Certificate(der).raw.equals(der)) return der
    } catch (error) {
      lastError = error
    }
  }
  throw lastError
}

/**
 * One certificate, with its own P-256 key, per username: issued by the PKI's intermediate CA,
 * so that nginx verifies it against the PKI's CA bundle like the openssl-made ones.
 */
export function userCertificates (pki: Pki, names: string[]): UserCertificate[] {
  const issuer = issuerFromPem(pki.intermediateCa.certPem, pki.intermediateCa.keyPem)
  return names.map((username) => {
    const key = clientKey()
    const subject = name([
      [{ type: '2.5.4.6', value: string(TAGS.printable, 'AU') }],
      [{ type: '2.5.4.10', value: string(TAGS.utf8, 'Example') }],
      [{ type: '2.5.4.3', value: string(TAGS.utf8, username) }]
    ])
    const der = wellFormed({ subject, issuer, publicKey: key.publicKey })
    return { username, identity: { certPem: pem(der), keyPem: key.keyPem } }
  })
}
