// The pairs measured side by side: the plugin, and what an application would do without it.

import { LOGIN_URL, PROXY_HEADERS, type ContenderName } from './apps'
import type { Load } from './load'
import type { BenchPki } from './pki'

export interface Scenario {
  id: string
  title: string
  plugin: ContenderName
  reference: ContenderName
  /** What the reference is, for the legend. */
  referenceLabel: string
  load: Load
  /** The plugin's requests/s ÷ the reference's, median over rounds, must be at least this. */
  minRatio?: number
}

const identity: Load['expect'] = { status: 200, body: 'alice' }
const loggedIn: Load['expect'] = { status: 302, location: '/' }

/** Headers of a login behind nginx: the proxy also says the browser spoke HTTPS (trustProxy believes it). */
export const LOGIN_HEADERS: Record<string, string> = { ...PROXY_HEADERS, 'x-forwarded-proto': 'https' }
export const loginLoad: Load = { path: LOGIN_URL, headers: LOGIN_HEADERS, expect: loggedIn }

export function scenarios (pki: BenchPki): Scenario[] {
  const clientCertificate = { cert: pki.alice.certPem, key: pki.alice.keyPem }
  const mutualTls = (path: string, expect: Load['expect']): Load => ({ path, headers: {}, clientCertificate, expect })
  const passport = '@fastify/passport + passport-client-cert'
  return [
    {
      // The same server twice: how far apart two identical contenders land in this run, on this
      // machine under its current load. Read every other ratio against it.
      id: '0',
      title: 'control: the bare app against itself',
      plugin: 'bare',
      reference: 'bare',
      referenceLabel: 'a second, identical server',
      load: { path: '/hello', headers: PROXY_HEADERS, expect: { status: 200, body: 'hello' } }
    },
    {
      id: '1',
      title: 'route never reads the identity',
      plugin: 'plugin-unread',
      reference: 'bare',
      referenceLabel: 'the same app without the plugin',
      load: { path: '/hello', headers: PROXY_HEADERS, expect: { status: 200, body: 'hello' } },
      minRatio: 0.99
    },
    {
      id: '2',
      title: 'certUser.username, DN header',
      plugin: 'plugin-identity',
      reference: 'hook-identity',
      referenceLabel: "global onRequest hook: SUCCESS check, DN split on ','",
      load: { path: '/me', headers: PROXY_HEADERS, expect: identity },
      minRatio: 0.95
    },
    {
      id: '3',
      title: 'requireCertificate route',
      plugin: 'plugin-guard',
      reference: 'hook-guard',
      referenceLabel: "route onRequest hook: SUCCESS check, DN split on ',', else 401",
      load: { path: '/api/me', headers: PROXY_HEADERS, expect: identity },
      minRatio: 0.95
    },
    {
      id: '4',
      title: 'login, @fastify/session',
      plugin: 'plugin-login',
      reference: 'hook-login',
      referenceLabel: 'hand-written login hook: split, Map lookup, regenerate, set, 302',
      load: loginLoad,
      minRatio: 0.95
    },
    {
      id: '5',
      title: 'certUser.username, DN + PEM headers',
      plugin: 'plugin-pem',
      reference: 'hook-pem',
      referenceLabel: 'global onRequest hook: new X509Certificate(pem) per request, subject split',
      load: {
        path: '/me',
        headers: { ...PROXY_HEADERS, 'x-client-cert': encodeURIComponent(pki.alice.certPem) },
        expect: identity
      },
      minRatio: 1.5
    },
    {
      id: '6a',
      title: 'mutual TLS, identity, @fastify/session',
      plugin: 'tls-plugin-session',
      reference: 'tls-passport-session',
      referenceLabel: `${passport}, @fastify/session`,
      load: mutualTls('/api/me', identity),
      minRatio: 2
    },
    {
      id: '6b',
      title: 'mutual TLS, identity, secure-session',
      plugin: 'tls-plugin-secure-session',
      reference: 'tls-passport-secure-session',
      referenceLabel: `${passport}, @fastify/secure-session`,
      load: mutualTls('/api/me', identity),
      minRatio: 2
    },
    {
      id: '6c',
      title: 'mutual TLS, login, @fastify/session',
      plugin: 'tls-plugin-session',
      reference: 'tls-passport-session',
      referenceLabel: `${passport}, @fastify/session`,
      load: mutualTls(LOGIN_URL, loggedIn),
      minRatio: 2
    },
    {
      id: '6d',
      title: 'mutual TLS, login, secure-session',
      plugin: 'tls-plugin-secure-session',
      reference: 'tls-passport-secure-session',
      referenceLabel: `${passport}, @fastify/secure-session`,
      load: mutualTls(LOGIN_URL, loggedIn),
      minRatio: 2
    }
  ]
}
