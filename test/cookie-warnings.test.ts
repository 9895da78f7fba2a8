// A login whose cookie the browser cannot keep is loud: behind a TLS proxy that speaks plain HTTP to
// the app, Fastify must believe the proxy's X-Forwarded-Proto for the session cookie to work.

import cookie from '@fastify/cookie'
import session from '@fastify/session'
import Fastify, { type FastifyServerOptions } from 'fastify'
import { Agent, get } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { test } from 'tap'
import tlsCertAuth from '../index'
import { certHeaders, logged, SECRET, type LogLine } from './helpers/app'

async function appWith (serverOptions: FastifyServerOptions, secure: boolean | 'auto' | undefined, plugin: tlsCertAuth.TlsCertAuthOptions = {}) {
  const logs: LogLine[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { logs.push(JSON.parse(chunk.toString())); done() } })
  const app = Fastify({ ...serverOptions, logger: { level: 'info', stream } })
  await app.register(cookie)
  await app.register(session, { secret: SECRET, cookie: secure === undefined ? {} : { secure } })
  await app.register(tlsCertAuth, plugin)
  return { app, logs }
}

const warnings = (logs: LogLine[]) => logged(logs, 'over plain HTTP').filter((line) => line.level === 40)
const LOGIN = '/accounts/login/'

test('@fastify/session\'s default Secure cookie over plain HTTP: 302 without a cookie, and a warning', async (t) => {
  const { app, logs } = await appWith({}, undefined)
  const login = await app.inject({ url: LOGIN, headers: certHeaders('CN=alice') })
  t.equal(login.statusCode, 302)
  t.notOk(login.headers['set-cookie'], 'no cookie: the login cannot stick')
  t.match(warnings(logs), [{ secureCookie: true, msg: /the browser gets no cookie.*trustProxy.*secure/ }])
})

test('secure: \'auto\' without trustProxy behind a TLS proxy: a cookie without Secure, and a warning', async (t) => {
  const { app, logs } = await appWith({}, 'auto')
  const login = await app.inject({ url: LOGIN, headers: { ...certHeaders('CN=alice'), 'x-forwarded-proto': 'https' } })
  t.equal(login.statusCode, 302)
  t.notMatch(login.headers['set-cookie'], /Secure/, 'the cookie is not marked Secure')
  t.match(warnings(logs), [{ secureCookie: false, msg: /not marked Secure.*trustProxy.*secure/ }])
})

test('trustProxy set for the proxy: a Secure cookie, and no warning', async (t) => {
  for (const secure of [true, 'auto'] as const) {
    const { app, logs } = await appWith({ trustProxy: '127.0.0.1' }, secure)
    const login = await app.inject({ url: LOGIN, headers: { ...certHeaders('CN=alice'), 'x-forwarded-proto': 'https' } })
    t.match(login.headers['set-cookie'], /; Secure/, `secure: ${secure}`)
    t.same(warnings(logs), [], `secure: ${secure}: no warning`)
  }
})

test('a source that is not a proxy, over plain HTTP with a cookie that is not Secure: nothing to warn about', async (t) => {
  const { app, logs } = await appWith({}, false, { source: () => ({ dn: 'CN=alice' }) })
  const login = await app.inject({ url: LOGIN })
  t.match(login.headers['set-cookie'], /sessionId=/)
  t.same(warnings(logs), [])
})

test('the check runs once per connection: a second login on a kept-alive connection does not warn again, a new connection does', async (t) => {
  const { app, logs } = await appWith({}, undefined)
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await app.close() })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}${LOGIN}`
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => { agent.destroy() })
  const login = async (via: Agent | false): Promise<number> => await new Promise((resolve, reject) => {
    get(url, { agent: via, headers: certHeaders('CN=alice') }, (response) => {
      response.resume()
      response.on('end', () => { resolve(response.statusCode ?? 0) })
    }).on('error', reject)
  })
  t.equal(await login(agent), 302)
  t.equal(await login(agent), 302)
  t.equal(warnings(logs).length, 1, 'two logins on one connection: one warning')
  t.equal(await login(false), 302)
  t.equal(warnings(logs).length, 2, 'a new connection is checked again')
})
