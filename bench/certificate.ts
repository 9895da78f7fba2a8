// Certificate extraction per preset: the headers each proxy really sends, read the way a request
// reads them (headerSource, then buildIdentity), against the floor of `new X509Certificate(der)`
// on a DER that is already decoded. Everything we add on top of that floor is what is measured.

import { strict as assert } from 'node:assert'
import { X509Certificate } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { buildIdentity, type Identified } from '../dist/plugin/identity'
import { readOptions } from '../dist/plugin/options'
import type { PresetName } from '../dist/plugin/sources/presets'
import { identityReader, kIdentityResult } from '../dist/plugin/identity-reader'
import { headerSource } from '../dist/plugin/sources/headers'
import type { Result } from '../dist/plugin/result'
import type { CertFiles, Pki } from '../test/helpers/pki'
import type { BenchCase } from './harness'

/** What any browser request carries besides the proxy's headers: rawHeaders is walked in full. */
const ORDINARY_HEADERS: Record<string, string> = {
  host: 'app.example.com',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'accept-language': 'en-AU,en;q=0.5',
  'accept-encoding': 'gzip, deflate, br',
  cookie: 'sessionId=s%3AyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.bench',
  'x-forwarded-for': '203.0.113.7',
  'x-forwarded-proto': 'https'
}

const pemBody = (certificate: CertFiles): string => certificate.certPem.trim()
/** `$ssl_client_escaped_cert`: every reserved character escaped, newlines as %0A. */
const urlEncodedPem = (certificate: CertFiles): string => encodeURIComponent(pemBody(certificate))
/** RFC 8941 byte sequence. */
const byteSequence = (certificate: CertFiles): string => `:${certificate.derBase64}:`

/** The headers each preset's proxy adds for a verified certificate. */
function presetHeaders (pki: Pki, leaf: CertFiles, rfc2253: string): Array<[PresetName, Record<string, string>]> {
  const issuer = 'CN=Test Intermediate CA,O=Example,C=AU'
  return [
    ['nginx', {
      'x-client-cert-valid': 'SUCCESS',
      'x-client-cert-dn': rfc2253,
      'x-client-cert': urlEncodedPem(leaf)
    }],
    ['nginx-legacy', {
      'x-client-cert-valid': 'SUCCESS',
      'x-client-cert-dn': '/' + rfc2253.split(',').reverse().join('/'),
      'x-client-cert': urlEncodedPem(leaf)
    }],
    // mod_headers writes the PEM's newlines as spaces.
    ['apache', {
      'x-client-cert-valid': 'SUCCESS',
      'x-client-cert-dn': rfc2253,
      'x-client-cert': pemBody(leaf).replaceAll('\n', ' ')
    }],
    ['haproxy', {
      'x-ssl-client-verify': '0',
      'x-ssl-client-used': '1',
      'x-ssl-client-dn': rfc2253,
      'x-ssl-client-cert': leaf.derBase64
    }],
    ['traefik', { 'x-forwarded-tls-client-cert': leaf.derBase64 }],
    ['envoy', {
      'x-forwarded-client-cert': `By=spiffe://example.com/ns/default/sa/app;Hash=${leaf.x509.fingerprint256.replaceAll(':', '').toLowerCase()};` +
        `Cert="${urlEncodedPem(leaf)}";Subject="${rfc2253}";URI=`
    }],
    // The ALB escapes what a header cannot hold and leaves + = / raw.
    ['aws-alb', {
      'x-amzn-mtls-clientcert-serial-number': leaf.x509.serialNumber,
      'x-amzn-mtls-clientcert-issuer': issuer,
      'x-amzn-mtls-clientcert-subject': rfc2253,
      'x-amzn-mtls-clientcert-validity': `NotBefore=${leaf.x509.validFrom};NotAfter=${leaf.x509.validTo}`,
      'x-amzn-mtls-clientcert-leaf': urlEncodedPem(leaf).replace(/%2B|%3D|%2F/g, decodeURIComponent)
    }],
    ['caddy', { 'x-client-cert': leaf.derBase64 }],
    ['cloudflare', {
      'cf-cert-verified': 'true',
      'cf-cert-presented': 'true',
      'cf-cert-revoked': 'false',
      'cf-cert-subject-dn-rfc2253': rfc2253,
      'cf-cert-issuer-dn-rfc2253': issuer,
      'client-cert': byteSequence(leaf)
    }],
    ['rfc9440', { 'client-cert': byteSequence(leaf), 'client-cert-chain': byteSequence(pki.intermediateCa) }],
    ['gcp', {
      'x-client-cert-present': 'true',
      'x-client-cert-chain-verified': 'true',
      'x-client-cert-leaf': byteSequence(leaf),
      'x-client-cert-chain': byteSequence(pki.intermediateCa)
    }]
  ]
}

function fail (): never {
  throw new Error('the bench request logged: its headers are not what the preset expects')
}

const FORWARDED_CERT_OPT_IN: Partial<Record<string, string>> = {
  nginx: 'x-client-cert',
  'nginx-legacy': 'x-client-cert',
  apache: 'x-client-cert',
  haproxy: 'x-ssl-client-cert',
  cloudflare: 'client-cert',
  'azure-appgw': 'x-client-cert'
}

/** The little of a Fastify request that the header source reads. */
function fakeRequest (proxyHeaders: Record<string, string>): FastifyRequest {
  const headers = { ...ORDINARY_HEADERS, ...proxyHeaders }
  return {
    headers,
    raw: { rawHeaders: Object.entries(headers).flat() },
    socket: { remoteAddress: '127.0.0.1' },
    log: { warn: fail, info: fail, debug: fail }
  } as unknown as FastifyRequest
}

function expectIdentity (result: Result<Identified>, leaf: CertFiles, preset: string): void {
  if (result.status !== 'ok') assert.fail(`${preset}: ${result.status === 'refused' ? result.reason : 'absent'}`)
  assert.equal(result.value.identity.username, 'alice', preset)
  assert.equal(result.value.identity.fingerprint256, leaf.x509.fingerprint256, preset)
}

export function certificateCases (pki: Pki): BenchCase[] {
  const leaf = pki.alice
  const der = leaf.x509.raw
  return presetHeaders(pki, leaf, 'CN=alice,O=Example,C=AU').map(([preset, proxyHeaders]): BenchCase => {
    // Presets whose minimal proxy config forwards no certificate read one only when asked.
    const cert = FORWARDED_CERT_OPT_IN[preset]
    const config = readOptions(cert === undefined ? { preset } : { preset, headers: { cert } }, undefined)
    const source = headerSource(config)
    const request = fakeRequest(proxyHeaders)
    const extract = (): Result<Identified> => {
      const found = source(request)
      if (found.status !== 'ok') return found
      return buildIdentity(found.value, config.username)
    }
    expectIdentity(extract(), leaf, preset)

    // The other promise: one parse per request, however often certUser is read.
    let parses = 0
    const identities = identityReader((r) => { parses++; return source(r) }, config.username, config.policy)
    const once = Object.assign(fakeRequest(proxyHeaders), { [kIdentityResult]: null })
    assert.equal(identities.current(once), identities.current(once), preset)
    assert.equal(parses, 1, preset)

    return {
      name: preset,
      contenders: [
        { name: 'extraction', run: extract },
        { name: 'X509Certificate', run: () => new X509Certificate(der) }
      ],
      // Within 15%: an operation of ours takes at most 1.15 times the floor's.
      target: { against: 'X509Certificate', minRatio: 1 / 1.15, label: '≤ +15% time' }
    }
  })
}
