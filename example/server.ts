// A first look: the plugin behind a pretend proxy. debugFakeHeaders stand in for the headers
// nginx would send, so a login happens without any certificate. Never run this in production.
import cookie from '@fastify/cookie'
import session from '@fastify/session'
import Fastify from 'fastify'
import tlsCertAuth from '../index'

async function main (): Promise<void> {
  const port = Number(process.env.PORT ?? 3000)
  const app = Fastify({ logger: true })
  await app.register(cookie)
  await app.register(session, { secret: 'example secret, at least 32 characters long', cookie: { secure: 'auto' } })
  await app.register(tlsCertAuth, {
    debug: true,
    debugFakeHeaders: { HTTP_X_CLIENT_CERT_VALID: 'SUCCESS', HTTP_X_CLIENT_CERT_DN: 'CN=alice,O=Example,C=AU' }
  })

  app.get('/accounts/login/', async () => 'Login page: shown only when no certificate is seen.')
  app.get('/', async (request) => ({ sessionUser: request.session.get('user' as 'cookie') ?? null, certUser: request.certUser }))

  await app.listen({ host: '127.0.0.1', port })
  console.log(`Open http://127.0.0.1:${port}/accounts/login/ to log in as alice, then http://127.0.0.1:${port}/`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
