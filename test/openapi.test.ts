import swagger from '@fastify/swagger'
import Fastify from 'fastify'
import { test } from 'tap'
import tlsCertAuth from '../index'
import { certHeaders } from './helpers/app'

interface Document {
  paths: Record<string, Record<string, { security?: unknown, responses: Record<string, { description: string }> } & Record<string, unknown>>>
}

async function documented (components: object, pluginOptions: tlsCertAuth.TlsCertAuthOptions = { loginUrl: false }, security?: Array<Record<string, string[]>>) {
  const app = Fastify()
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'orders', version: '1' }, components, security } })
  await app.register(tlsCertAuth, pluginOptions)
  const shared = { response: { 200: { type: 'object', properties: { id: { type: 'string' } } } } }
  app.get('/orders/:id', { onRequest: app.requireCertificate, schema: shared }, async (request) => ({ id: request.certUser?.username }))
  app.post('/orders', { preHandler: [app.requireCertificate], schema: { security: [{ apiKey: [] }] } }, async () => ({}))
  app.get('/public', { schema: shared }, async () => ({ id: 'x' }))
  await app.ready()
  return { app, document: app.swagger() as unknown as Document }
}

const mutualTls = { securitySchemes: { clientCertificate: { type: 'mutualTLS' }, apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } } }

test('routes guarded by requireCertificate carry the mutualTLS requirement and their 401/403 answers', async (t) => {
  const { app, document } = await documented(mutualTls)
  const guarded = document.paths['/orders/{id}'].get
  t.same(guarded.security, [{ clientCertificate: [] }])
  t.match(guarded.responses, { 200: {}, 401: { description: /FST_TLS_CERT_AUTH_NO_CERTIFICATE/ }, 403: { description: /FST_TLS_CERT_AUTH/ } })
  t.notOk('x-fastify-tls-certificate-auth' in guarded, 'no trace of the marker')
  t.same(document.paths['/orders'].post.security, [{ apiKey: [], clientCertificate: [] }], 'on top of the route\'s own requirement')
  const open = document.paths['/public'].get
  t.equal(open.security, undefined, 'an unguarded route is left alone')
  t.same(Object.keys(open.responses), ['200'], 'even when it shares its schema object with a guarded one')
  t.match(app.swagger({ yaml: true }), /clientCertificate: \[\]/, 'the YAML document too')
  t.notMatch(app.swagger({ yaml: true }), /x-fastify-tls-certificate-auth/)
  t.equal(app.swagger(), document, 'the same document on later calls')

  // The documented 401 is the answer Fastify gives anyway.
  const refused = await app.inject({ url: '/orders/1' })
  t.same(refused.json(), { statusCode: 401, code: 'FST_TLS_CERT_AUTH_NO_CERTIFICATE', error: 'Unauthorized', message: 'A trusted client certificate is required' })
  t.same((await app.inject({ url: '/orders/1', headers: certHeaders('CN=alice') })).json(), { id: 'alice' })
})

test('the documented answers are the error shape Fastify sends, 503 only with isRevoked; a route marked public is guarded', async (t) => {
  const { app, document } = await documented(mutualTls)
  const responses = document.paths['/orders/{id}'].get.responses as Record<string, { description: string, content: unknown }>
  const description = 'No trusted client certificate (FST_TLS_CERT_AUTH_NO_CERTIFICATE)'
  const string = { type: 'string' }
  t.same(responses['401'], {
    description,
    content: { 'application/json': { schema: { description, type: 'object', properties: { statusCode: { type: 'integer' }, code: string, error: string, message: string } } } }
  })
  t.notOk('503' in responses, 'no revocation check, no 503')
  t.match(app.swagger({ yaml: true }), /\/orders:\n {4}post:\n {6}security:\n {8}- apiKey: \[\]\n {10}clientCertificate: \[\]/,
    'the route\'s own requirement is kept in the YAML document too')

  const marked = Fastify()
  await marked.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'orders', version: '1' }, components: mutualTls as object } })
  // Registered in an encapsulated context of its own, away from the instance that decorates swagger.
  await marked.register(async (child) => {
    await child.register(tlsCertAuth, { loginUrl: false })
    child.get('/orders', { onRequest: child.requireCertificate, schema: { security: [] } }, async () => [])
  })
  await marked.ready()
  t.same((marked.swagger() as unknown as Document).paths['/orders'].get.security, [{ clientCertificate: [] }],
    'security: [] (no requirement) becomes the certificate\'s requirement')
})

test('a swagger transform that copies each route\'s schema keeps the requirement', async (t) => {
  const app = Fastify()
  await app.register(swagger, {
    openapi: { openapi: '3.1.0', info: { title: 'orders', version: '1' }, components: mutualTls as object },
    transform: ({ schema, url }) => ({ schema: { ...schema }, url })
  })
  await app.register(tlsCertAuth, { loginUrl: false })
  app.get('/orders', { onRequest: app.requireCertificate }, async () => [])
  await app.ready()
  t.same((app.swagger() as unknown as Document).paths['/orders'].get.security, [{ clientCertificate: [] }])
  t.match(app.swagger({ yaml: true }), /\/orders:\n {4}get:\n {6}security:\n {8}- clientCertificate: \[\]/, 'in every later document too')
})

test('a document-wide requirement is kept beside the certificate', async (t) => {
  const { document } = await documented(mutualTls, { loginUrl: false }, [{ apiKey: [] }])
  t.same(document.paths['/orders/{id}'].get.security, [{ apiKey: [], clientCertificate: [] }])
})

test('without a mutualTLS scheme no requirement is invented; with isRevoked, 503 is documented', async (t) => {
  const { document } = await documented({ securitySchemes: { apiKey: mutualTls.securitySchemes.apiKey } }, { loginUrl: false, accept: { isRevoked: () => false } })
  const guarded = document.paths['/orders/{id}'].get
  t.equal(guarded.security, undefined)
  t.match(guarded.responses, { 401: {}, 403: {}, 503: { description: /REVOCATION_UNKNOWN/ } })
  t.notOk('x-fastify-tls-certificate-auth' in guarded)
})

test('a document that declares no security scheme at all gets no requirement', async (t) => {
  const app = Fastify()
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'orders', version: '1' } } })
  await app.register(tlsCertAuth, { loginUrl: false })
  app.get('/orders', { onRequest: app.requireCertificate }, async () => [])
  await app.ready()
  const operation = (app.swagger() as unknown as Document).paths['/orders'].get
  t.equal(operation.security, undefined)
  t.match(operation.responses, { 401: {}, 403: {} })
})

test('without @fastify/swagger nothing changes', async (t) => {
  const app = Fastify()
  await app.register(tlsCertAuth, { loginUrl: false })
  app.get('/api', { onRequest: app.requireCertificate }, async () => 'ok')
  await app.ready()
  t.equal((await app.inject({ url: '/api', headers: certHeaders('CN=alice') })).body, 'ok')
})
