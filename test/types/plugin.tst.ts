import Fastify from 'fastify'
import session from '@fastify/session'
import { describe, expect, test } from 'tstyche'
import tlsCertAuth, { FST_TLS_CERT_AUTH_NO_IDENTITY, parseDN, type CertIdentity, type TlsCertAuthOptions } from '../../index'

declare module 'fastify' {
  // The README's session typing, as an application writes it.
  interface Session { user?: { id: number, username: string } }
}

describe('request.certUser', () => {
  test('is a CertIdentity or null', () => {
    const app = Fastify()
    app.get('/', async (request) => {
      expect(request.certUser).type.toBe<CertIdentity | null>()
      expect(request.certUser?.username).type.toBe<string | undefined>()
      expect(request.certUser?.issuerSerial).type.toBe<string | null | undefined>()
      return null
    })
  })
})

describe('options', () => {
  test('the usual setups type-check', () => {
    expect<TlsCertAuthOptions>().type.toBeAssignableFrom({ preset: 'nginx' as const, trustedProxies: '127.0.0.1' })
    expect<TlsCertAuthOptions>().type.toBeAssignableFrom({ source: 'tls' as const, loginUrl: false as const })
    expect<TlsCertAuthOptions>().type.toBeAssignableFrom({ autoCreate: true as const, findUser: () => null, createUser: () => ({}) })
    expect<TlsCertAuthOptions>().type.toBeAssignableFrom({ saveUser: async () => {}, headers: { cert: 'x-client-cert' } })
    expect<TlsCertAuthOptions>().type.toBeAssignableFrom({ preset: 'nginx-legacy' as const, headers: { uncheckedSlashForm: true } })
    expect<TlsCertAuthOptions>().type.toBeAssignableFrom({ source: () => ({ dn: '/CN=alice', uncheckedSlashForm: true }) })
  })

  test('impossible mixes do not', () => {
    expect<TlsCertAuthOptions>().type.not.toBeAssignableFrom({ source: 'tls' as const, preset: 'nginx' as const })
    expect<TlsCertAuthOptions>().type.not.toBeAssignableFrom({ source: 'tls' as const, headers: { dn: 'x-dn' } })
    expect<TlsCertAuthOptions>().type.not.toBeAssignableFrom({ source: 'tls' as const, xfccElement: 'first' as const })
    expect<TlsCertAuthOptions>().type.not.toBeAssignableFrom({ source: () => null, preset: 'envoy' as const })
    expect<TlsCertAuthOptions>().type.not.toBeAssignableFrom({ autoCreate: true as const, findUser: () => null })
    expect<TlsCertAuthOptions>().type.not.toBeAssignableFrom({ loginUrl: false as const, findUser: () => null })
    expect<TlsCertAuthOptions>().type.not.toBeAssignableFrom({ preset: 'squid' })
    expect<TlsCertAuthOptions>().type.not.toBeAssignableFrom({ username: 'nickname' })
    expect<TlsCertAuthOptions>().type.not.toBeAssignableFrom({ headers: { uncheckedSlashForm: 'yes' } })
  })
})

describe('the plugin', () => {
  test('registers on HTTP/1 and on HTTP/2, and requireCertificate is a hook of both', () => {
    const app = Fastify()
    expect(app.register(session, { secret: 'a secret with minimum length of 32 characters' }).register(tlsCertAuth, { preset: 'haproxy' })).type.not.toRaiseError()
    expect(app.get('/api', { onRequest: app.requireCertificate }, async () => 'ok')).type.not.toRaiseError()
    const h2 = Fastify({ http2: true, https: { key: '', cert: '' } })
    expect(h2.register(tlsCertAuth, { source: 'tls', loginUrl: false })).type.not.toRaiseError()
    expect(h2.get('/api', { onRequest: [h2.requireCertificate] }, async (request) => request.certUser?.cn)).type.not.toRaiseError()
  })

  test('the session user is typed by the application', () => {
    const app = Fastify()
    app.get('/', async (request) => {
      expect(request.session.get('user')).type.toBe<{ id: number, username: string } | undefined>()
      return null
    })
  })

  test('exports', () => {
    expect(parseDN('CN=a')).type.toBe<tlsCertAuth.DistinguishedName>()
    expect(new FST_TLS_CERT_AUTH_NO_IDENTITY()).type.toBeAssignableTo<Error & { code: string, statusCode?: number }>()
  })
})
