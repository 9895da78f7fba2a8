import Fastify from 'fastify'
import { connect } from 'node:http2'
import { request } from 'node:https'
import { test } from 'tap'
import tlsCertAuth from '../index'
import { sharedPki } from './helpers/pki'
import { tlsRequest } from './helpers/tls-client'
import { buildApp, logged, sessionCookie } from './helpers/app'

test('source tls over a real handshake: only a certificate Node verified gives an identity', async (t) => {
  const pki = await sharedPki()
  const { app, logs } = await buildApp({ source: 'tls', accept: { caFingerprints: [pki.rootCa.x509.fingerprint256] } }, {
    https: { key: pki.server.keyPem, cert: pki.server.chainPem, ca: pki.caBundlePem, requestCert: true, rejectUnauthorized: false }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const { port } = app.server.address() as { port: number }
  const url = (path: string) => `https://localhost:${port}${path}`
  const ca = pki.caBundlePem

  const anonymous = await tlsRequest(url('/accounts/login/'), { ca })
  t.equal(anonymous.status, 200, 'no certificate: the login page')
  t.equal(JSON.parse(anonymous.body).certUser, null)

  const login = await tlsRequest(url('/accounts/login/'), { ca, identity: pki.alice })
  t.equal(login.status, 302)
  const whoami = await tlsRequest(url('/whoami'), { ca, identity: pki.alice, headers: { cookie: sessionCookie(login.headers['set-cookie']) } })
  const body = JSON.parse(whoami.body)
  t.same(body.user, { username: 'alice', dn: 'CN=alice,O=Example,C=AU' })
  t.match(body.certUser, { username: 'alice', source: 'tls', fingerprint256: pki.alice.x509.fingerprint256 })

  for (const name of ['mallory', 'expired'] as const) {
    const response = await tlsRequest(url('/accounts/login/'), { ca, identity: pki[name] })
    t.equal(response.status, 200, `${name}: the login page, not a login`)
    t.equal(JSON.parse(response.body).certUser, null)
  }
  t.match(logged(logs, 'not verified by TLS').map((line) => line.reason), ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED'])

  const smith = await tlsRequest(url('/whoami'), { ca, identity: pki.smith })
  t.equal(JSON.parse(smith.body).certUser.username, 'Smith, John')
  const twoCns = await tlsRequest(url('/accounts/login/'), { ca, identity: pki.twoCns })
  t.equal(twoCns.status, 403, 'a repeated subject attribute falls to the one-CN rule')
})

test('source tls: one connection, one parse; a plain-http request gets no identity', async (t) => {
  const pki = await sharedPki()
  const { app } = await buildApp({ source: 'tls' }, {
    https: { key: pki.server.keyPem, cert: pki.server.chainPem, ca: pki.caBundlePem, requestCert: true, rejectUnauthorized: false }
  })
  // The identity object of the previous request: the same object means it was not built again.
  let previous: unknown = null
  app.get('/same', async (request) => {
    const same = request.certUser === previous
    previous = request.certUser
    return { username: request.certUser?.username, same }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const { port } = app.server.address() as { port: number }
  // Two requests on one keep-alive socket: the identity object is built once for the connection.
  const { Agent } = await import('node:https')
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: pki.caBundlePem, cert: pki.alice.certPem, key: pki.alice.keyPem })
  t.teardown(() => agent.destroy())
  const get = () => new Promise<string>((resolve, reject) => {
    request(`https://localhost:${port}/same`, { agent }, (res) => {
      let body = ''
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve(body))
    }).on('error', reject).end()
  })
  const [first, second] = [JSON.parse(await get()), JSON.parse(await get())]
  t.same(first, { username: 'alice', same: false })
  t.same(second, { username: 'alice', same: true }, 'the second request on the connection reuses the identity')

  const plain = await buildApp({ source: 'tls' })
  const response = await plain.app.inject({ url: '/whoami' })
  t.equal(response.json().certUser, null)
  t.equal(logged(plain.logs, 'not TLS').length, 1)
})

test('source tls over HTTP/2: requireCertificate guards the route, and certUser is the certificate', async (t) => {
  const pki = await sharedPki()
  const app = Fastify({
    http2: true,
    https: { allowHTTP1: false, key: pki.server.keyPem, cert: pki.server.chainPem, ca: pki.caBundlePem, requestCert: true, rejectUnauthorized: false }
  })
  await app.register(tlsCertAuth, { source: 'tls', loginUrl: false })
  app.get('/api/me', { onRequest: app.requireCertificate }, async (request) => ({ me: request.certUser?.username }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const { port } = app.server.address() as { port: number }

  const get = async (identity?: { certPem: string, keyPem: string }) => {
    const session = connect(`https://localhost:${port}`, { ca: pki.caBundlePem, ...(identity && { cert: identity.certPem, key: identity.keyPem }) })
    try {
      return await new Promise<{ status: number, body: string }>((resolve, reject) => {
        const stream = session.request({ ':path': '/api/me' })
        let status = 0
        let body = ''
        stream.on('response', (headers) => { status = Number(headers[':status']) })
        stream.setEncoding('utf8')
        stream.on('data', (chunk: string) => { body += chunk })
        stream.on('end', () => resolve({ status, body }))
        stream.on('error', reject)
      })
    } finally {
      session.close()
    }
  }
  t.same(JSON.parse((await get(pki.alice)).body), { me: 'alice' })
  t.equal((await get()).status, 401, 'no certificate: 401')
})
