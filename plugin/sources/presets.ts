import type { DnFormat } from '../parse/dn'
import { CERT_ENCODINGS } from '../parse/encodings'

/** A certificate header's encoding: one of the decoders, or Envoy's XFCC, which has its own grammar. */
export const HEADER_CERT_ENCODINGS = [...CERT_ENCODINGS, 'xfcc'] as const
export type HeaderCertEncoding = typeof HEADER_CERT_ENCODINGS[number]

/** Where a proxy puts what it saw of the client certificate. Header names are lower case. */
export interface HeaderSet {
  /** The verification result header, or null when the proxy forwards only verified certificates. */
  verify: string | null
  /** The exact value of `verify` that means verified; anything else is no certificate. */
  verifySuccess: string
  /** More headers that must carry exactly these values (HAProxy's `ssl_c_used`, Cloudflare's revocation flag). */
  require: Record<string, string>
  /** The subject DN header. */
  dn: string | null
  dnFormat: DnFormat
  /**
   * Read a DN in OpenSSL's slash form even with no certificate forwarded to check it. Off: such a
   * DN is refused, because some names read wrong in it (a CN ending in spaces, which Node trims
   * from the header; a CN that is no string, which OpenSSL prints as text; a `/` inside a value,
   * which an OpenSSL before 3.0 writes raw).
   */
  uncheckedSlashForm: boolean
  /** The issuer DN header, for `accept.issuers` when no certificate is forwarded. */
  issuerDn: string | null
  /** The header carrying the whole client certificate. */
  cert: string | null
  certEncoding: HeaderCertEncoding
  /** The header carrying the CA certificates above it (RFC 9440 `Client-Cert-Chain`). */
  chain: string | null
  /** Traefik's X-Forwarded-Tls-Client-Cert-Info, read only when no certificate is forwarded. */
  info: string | null
}

const NONE: HeaderSet = {
  verify: null,
  verifySuccess: 'SUCCESS',
  require: {},
  dn: null,
  dnFormat: 'auto',
  uncheckedSlashForm: false,
  issuerDn: null,
  cert: null,
  certEncoding: 'pem',
  chain: null,
  info: null
}

// A preset reads by default only the headers its proxy's minimal configuration always sets: a
// header the proxy does not overwrite is the client's to choose. Anything more is opt-in through
// `headers` (e.g. `headers: { cert: 'x-client-cert' }`), once the proxy sets it too.
const nginx: HeaderSet = {
  ...NONE,
  verify: 'x-client-cert-valid', // $ssl_client_verify: SUCCESS, FAILED:reason, NONE
  // $ssl_client_s_dn, RFC 2253 since nginx 1.11.6. `auto` also reads the slash form of older
  // setups (the Django package's example), with the certificate to check it: an RFC 4514 DN never
  // starts with `/`, so nothing is guessed.
  dn: 'x-client-cert-dn',
  dnFormat: 'auto'
  // Opt-in: `cert: 'x-client-cert'` ($ssl_client_escaped_cert, URL-encoded PEM). The Django
  // package's config sets only the two headers above.
}

/** One entry per proxy; the README shows each proxy's config that sends exactly these headers. */
export const PRESETS = {
  nginx,
  // $ssl_client_s_dn_legacy (/C=AU/O=Example/CN=alice): with `cert`, or `uncheckedSlashForm`, only.
  'nginx-legacy': { ...nginx, dnFormat: 'legacy' },
  // mod_ssl + mod_headers: SSL_CLIENT_VERIFY, SSL_CLIENT_S_DN (RFC 2253); opt-in as nginx:
  // `cert: 'x-client-cert'` (SSL_CLIENT_CERT, PEM with spaces for newlines)
  apache: nginx,
  haproxy: {
    ...NONE,
    verify: 'x-ssl-client-verify', // %[ssl_c_verify]: 0 is OK, but also 0 when no certificate was sent...
    verifySuccess: '0',
    require: { 'x-ssl-client-used': '1' }, // ...so %[ssl_c_used] must say one was
    dn: 'x-ssl-client-dn', // %[ssl_c_s_dn(,0,rfc2253)]
    dnFormat: 'rfc4514',
    certEncoding: 'base64-der' // opt-in: `cert: 'x-ssl-client-cert'` (%[ssl_c_der,base64])
  },
  traefik: {
    ...NONE,
    cert: 'x-forwarded-tls-client-cert', // base64 DER, leaf first, `,` between; URL-escaped by older releases
    certEncoding: 'base64-der'
    // The Info header is opt-in (`headers.info`): Traefik escapes nothing in it.
  },
  envoy: { ...NONE, cert: 'x-forwarded-client-cert', certEncoding: 'xfcc' }, // present only when verified
  'aws-alb': {
    ...NONE, // mutual TLS verify mode: an unverified client never reaches the target
    dn: 'x-amzn-mtls-clientcert-subject',
    dnFormat: 'rfc4514',
    issuerDn: 'x-amzn-mtls-clientcert-issuer',
    cert: 'x-amzn-mtls-clientcert-leaf' // URL-encoded PEM with + = / left raw
  },
  caddy: {
    ...NONE, // client_auth verify_if_given: only verified certificates fill the placeholder
    cert: 'x-client-cert', // {http.request.tls.client.certificate_der_base64}
    certEncoding: 'base64-der'
  },
  cloudflare: {
    ...NONE, // Managed Transform "Add TLS client auth headers"
    verify: 'cf-cert-verified',
    verifySuccess: 'true',
    require: { 'cf-cert-presented': 'true', 'cf-cert-revoked': 'false' },
    dn: 'cf-cert-subject-dn-rfc2253',
    dnFormat: 'rfc4514',
    issuerDn: 'cf-cert-issuer-dn-rfc2253',
    // Opt-in (`headers.cert: 'client-cert'`) with a transform rule that sets it from
    // cf.tls_client_auth.cert_rfc9440: without that rule a client's own Client-Cert would pass.
    certEncoding: 'rfc9440'
  },
  rfc9440: { ...NONE, cert: 'client-cert', certEncoding: 'rfc9440', chain: 'client-cert-chain' },
  gcp: {
    ...NONE, // custom request headers of a Google Cloud load balancer with mTLS
    verify: 'x-client-cert-present', // {client_cert_present}
    verifySuccess: 'true',
    require: { 'x-client-cert-chain-verified': 'true' }, // {client_cert_chain_verified}
    cert: 'x-client-cert-leaf', // {client_cert_leaf}, RFC 9440 form
    certEncoding: 'rfc9440',
    chain: 'x-client-cert-chain' // {client_cert_chain}
  },
  'azure-appgw': {
    ...NONE, // rewrite rules setting server variables into headers, each one a rule of the user's
    verify: 'x-client-cert-verification', // {var_client_certificate_verification}
    dn: 'x-client-cert-subject' // {var_client_certificate_subject}
    // Opt-in: `issuerDn: 'x-client-cert-issuer'` ({var_client_certificate_issuer}),
    // `cert: 'x-client-cert'` ({var_client_certificate})
  }
} satisfies Record<string, HeaderSet>

export type PresetName = keyof typeof PRESETS
