import cookie from '@fastify/cookie'
import session from '@fastify/session'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { X509Certificate } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
// In an application of your own: import tlsCertAuth from 'fastify-tls-certificate-auth'
import tlsCertAuth from '../index'
import { homePage, loggedOutPage, loginPage, logoutPage, refusedPage, type ConnectionCertificate, type DemoFiles } from './pages'
import type { UserStore } from './users'

export interface AppOptions {
  tls: { key: string, cert: string, ca: string }
  users: UserStore
  sessionSecret: string
  /** Paths as the terminal shows them, for the login page's advice. */
  files: DemoFiles
  logLevel: string
}

export const SESSION_COOKIE = 'sessionId'

// Inline styles only; no scripts at all.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

function sendPage (reply: FastifyReply, body: string, statusCode = 200): FastifyReply {
  return reply.code(statusCode).header('content-security-policy', CSP).type('text/html; charset=utf-8').send(body)
}

/** What the TLS layer saw, for explaining a login that did not happen. */
function connectionCertificate (request: FastifyRequest): ConnectionCertificate {
  const socket = request.raw.socket as TLSSocket
  const peer = socket.getPeerCertificate()
  // An empty object when the client sent no certificate.
  if (peer.raw === undefined) return { presented: false }
  const certificate = new X509Certificate(peer.raw)
  return {
    presented: true,
    authorized: socket.authorized,
    authorizationError: socket.authorized ? null : String(socket.authorizationError),
    // Node lists the most general attribute first; the plugin's DNs (RFC 4514) start with the CN.
    subject: certificate.subject.split('\n').reverse().join(', '),
    issuer: certificate.issuer.split('\n').reverse().join(', '),
    validTo: new Date(certificate.validTo).toISOString()
  }
}

export async function buildApp (options: AppOptions) {
  const app = Fastify({
    logger: { level: options.logLevel },
    // Ctrl-C should not wait for a browser's idle keep-alive connections.
    forceCloseConnections: true,
    https: {
      ...options.tls,
      // Ask every client for a certificate, but let those without one (or with one the CA did not
      // issue) in: the login page explains what happened. The plugin trusts `socket.authorized` only.
      requestCert: true,
      rejectUnauthorized: false
    }
  })
  app.addHook('onClose', async () => options.users.close())

  await app.register(cookie)
  await app.register(session, {
    secret: options.sessionSecret,
    cookieName: SESSION_COOKIE,
    cookie: { secure: true, httpOnly: true, sameSite: 'lax' },
    saveUninitialized: false
  })
  await app.register(tlsCertAuth, {
    source: 'tls',
    autoCreate: true,
    findUser: (identity) => options.users.findByUsername(identity.username),
    createUser: (identity) => options.users.create(identity.username),
    accept: { checkValidity: true, requireClientAuthEku: true }
  })

  // A refused certificate reaches here as a coded error with its status (403, 401): a page that
  // explains it, instead of the default JSON.
  app.setErrorHandler((error: Error & { code?: string, statusCode?: number }, request, reply) => {
    // Anything else goes on to Fastify's default handler.
    if (error.code?.startsWith('FST_TLS_CERT_AUTH_') !== true) throw error
    const statusCode = error.statusCode ?? 500
    sendPage(reply, refusedPage(statusCode, error.code, error.message, connectionCertificate(request)), statusCode)
  })

  // Reached only when the plugin's login hook did not log the user in and redirect.
  app.get('/accounts/login/', async (request, reply) =>
    sendPage(reply, loginPage(connectionCertificate(request), request.session.get('user'), options.files)))

  app.get('/', async (request, reply) => {
    const user = request.session.get('user')
    if (user === undefined) return reply.redirect('/accounts/login/')
    return sendPage(reply, homePage(user, request.certUser))
  })

  // Logging out changes state, so it takes a POST (which a SameSite=Lax cookie keeps same-site);
  // the GET only shows the button.
  app.get('/logout', async (request, reply) => sendPage(reply, logoutPage(request.session.get('user') !== undefined)))
  app.post('/logout', async (request, reply) => {
    await request.session.destroy()
    reply.clearCookie(SESSION_COOKIE)
    return sendPage(reply, loggedOutPage())
  })

  return app
}
