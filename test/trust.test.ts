import { Agent, get } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'tap'
import { compileTrust } from '../plugin/trust'
import { buildApp, certHeaders, logged } from './helpers/app'
import { httpGet } from './helpers/http'

test('over real TCP: only the trusted proxy address may speak for a client', async (t) => {
  const { app, logs } = await buildApp({ trustedProxies: '127.0.0.1' })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const { port } = app.server.address() as { port: number }
  const forged = certHeaders('CN=admin,O=Example')

  const fromStranger = await httpGet(`http://127.0.0.1:${port}/accounts/login/`, forged, '127.0.0.2')
  t.equal(fromStranger.status, 200, 'the login page, not a login')
  t.equal(JSON.parse(fromStranger.body).certUser, null)
  t.notOk(fromStranger.headers['set-cookie'])
  t.match(logged(logs, 'untrusted peer')[0], { level: 40, peer: '127.0.0.2' })

  const fromProxy = await httpGet(`http://127.0.0.1:${port}/accounts/login/`, forged, '127.0.0.1')
  t.equal(fromProxy.status, 302, 'the trusted proxy logs the user in')
})

test('the default trusts loopback peers only: a LAN host, a container or a pod is no proxy until configured', async (t) => {
  const { app, logs } = await buildApp()
  for (const [remoteAddress, trusted] of [['127.0.0.1', true], ['::1', true], ['::ffff:127.0.0.1', true], ['10.1.2.3', false],
    ['172.17.0.2', false], ['192.168.1.1', false], ['169.254.0.1', false], ['fd00::1', false], ['fe80::1', false],
    ['203.0.113.9', false], ['2001:db8::1', false]] as const) {
    const response = await app.inject({ url: '/whoami', headers: certHeaders('CN=alice'), remoteAddress })
    t.equal(response.json().certUser !== null, trusted, remoteAddress)
  }
  const docker = await app.inject({ url: '/accounts/login/', headers: certHeaders('CN=admin'), remoteAddress: '172.17.0.2' })
  t.equal(docker.statusCode, 200, 'the Docker bridge peer gets the login page, not a login')
  const warning = logged(logs, 'untrusted peer 172.17.0.2').pop()
  t.match(warning, { level: 40, peer: '172.17.0.2', msg: /trustedProxies option/ }, 'one warn line naming the peer and the option')

  const { app: configured } = await buildApp({ trustedProxies: '172.17.0.0/16' })
  const viaBridge = await configured.inject({ url: '/whoami', headers: certHeaders('CN=alice'), remoteAddress: '172.17.0.2' })
  t.equal(viaBridge.json().certUser.username, 'alice', 'the proxy\'s subnet, set explicitly')
})

test('trustedProxies as a list or a function', async (t) => {
  const list = compileTrust(['10.0.0.0/8', '::1'])
  t.ok(list('10.9.9.9'))
  t.ok(list('::1'))
  t.notOk(list('11.0.0.1'))
  t.notOk(list(undefined), 'a socket without an address is never trusted')
  const fn = compileTrust((address) => address === '192.0.2.1')
  t.ok(fn('192.0.2.1'))
  t.notOk(fn('192.0.2.2'))
  t.notOk(fn(undefined))
  const unixSocket = compileTrust((address) => address === undefined)
  t.ok(unixSocket(undefined), 'a function can trust a peer on a Unix socket, which has no address')
  const truthy = compileTrust(() => 'yes' as unknown as boolean)
  t.notOk(truthy('192.0.2.1'), 'only a real true trusts')
})

test('a peer is asked about once per connection: kept-alive requests reuse the answer', async (t) => {
  const asked: Array<string | undefined> = []
  const { app } = await buildApp({ trustedProxies: (address) => { asked.push(address); return address === '127.0.0.1' } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await app.close() })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/whoami`
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => { agent.destroy() })
  const username = async (via: Agent | false): Promise<string> => await new Promise((resolve, reject) => {
    get(url, { agent: via, headers: certHeaders('CN=alice') }, (response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => { body += chunk.toString() })
      response.on('end', () => { resolve(JSON.parse(body).certUser?.username) })
    }).on('error', reject)
  })
  t.equal(await username(agent), 'alice')
  t.equal(await username(agent), 'alice')
  t.same(asked, ['127.0.0.1'], 'two requests on one connection: asked once')
  t.equal(await username(false), 'alice')
  t.same(asked, ['127.0.0.1', '127.0.0.1'], 'a new connection is asked again')
})

test('trustedProxies in the plugin options: a comma-separated string with spaces, or a function', async (t) => {
  const { app } = await buildApp({ trustedProxies: '10.0.0.1, 127.0.0.1' })
  t.equal((await app.inject({ url: '/whoami', headers: certHeaders('CN=alice') })).json().certUser.username, 'alice', 'the second entry counts')
  t.equal((await app.inject({ url: '/whoami', headers: certHeaders('CN=alice'), remoteAddress: '10.0.0.2' })).json().certUser, null)
  const { app: byFunction } = await buildApp({ trustedProxies: (address) => address === '10.0.0.2' })
  t.equal((await byFunction.inject({ url: '/whoami', headers: certHeaders('CN=alice'), remoteAddress: '10.0.0.2' })).json().certUser.username, 'alice')
  t.equal((await byFunction.inject({ url: '/whoami', headers: certHeaders('CN=alice') })).json().certUser, null, 'loopback is no longer trusted')
  await t.rejects(async () => { await buildApp({ trustedProxies: '127.0.0.1, localhost' }) }, { message: /did you mean "loopback"/ }, 'a hint for a later entry too')
  await t.rejects(async () => { await buildApp({ trustedProxies: 'nowhere' }) }, { message: /^fastify-tls-certificate-auth: invalid option trustedProxies: invalid IP address: nowhere$/ }, 'no hint to give: the message alone')
})
