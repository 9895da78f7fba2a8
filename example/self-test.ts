// `npm start -- --self-test`: what a browser with alice's certificate does, checked step by step.
import type { IncomingHttpHeaders } from 'node:http'
import { request } from 'node:https'
import { SESSION_COOKIE } from './app'

export interface ClientTls {
  /** PEM of the CA that issued the server certificate. */
  ca: string
  cert: string
  key: string
}

interface Response { status: number, headers: IncomingHttpHeaders, body: string }

function get (url: string, tls: ClientTls, cookie?: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    // No agent: every request is a new connection that presents the certificate, as a new browser tab might.
    const req = request(url, { ...tls, agent: false, headers: cookie === undefined ? {} : { cookie } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode as number, headers: res.headers, body }))
      res.on('error', reject)
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url} within 10 seconds`)))
    req.on('error', reject)
    req.end()
  })
}

/** The text of the element the pages mark `data-field="name"`, or null. */
function field (body: string, name: string): string | null {
  const match = new RegExp(`data-field="${name}">(?:<code>)?([^<]*)<`).exec(body)
  if (match === null) return null
  return match[1].replace(/&(lt|gt|quot|#39|amp);/g, (_, entity: string) =>
    ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[entity] as string)
}

/** Why a page other than the expected one came back, in a few words. */
function explain (response: Response): string {
  const code = field(response.body, 'error-code')
  if (code !== null) return `refused with ${code}: ${field(response.body, 'error-message')}`
  const tlsError = field(response.body, 'tls-error')
  if (tlsError !== null) return `the login page: TLS did not verify the certificate (${tlsError})`
  if (response.body.includes('no client certificate')) return 'the login page: no client certificate seen'
  return response.body.slice(0, 200)
}

class SelfTestFailure extends Error {}

function expect (condition: boolean, message: string): asserts condition {
  if (!condition) throw new SelfTestFailure(message)
}

/** Log in as `username` with its certificate, then load the home page with the session cookie. Prints PASS or FAIL. */
export async function selfTest (origin: string, tls: ClientTls, username: string): Promise<boolean> {
  const loginUrl = `${origin}/accounts/login/`
  console.log(`Self-test: log in at ${loginUrl} with the ${username} certificate`)
  try {
    const login = await get(loginUrl, tls)
    expect(login.status === 302, `expected a 302 redirect from the login URL, got ${login.status}: ${explain(login)}`)
    const location = login.headers.location
    const cookie = login.headers['set-cookie']?.find((header) => header.startsWith(`${SESSION_COOKIE}=`))?.split(';')[0]
    expect(location === '/', `expected a redirect to /, got ${location}`)
    expect(cookie !== undefined, 'the login set no session cookie')
    console.log(`  GET /accounts/login/ -> 302 to ${location}, session cookie set`)

    const home = await get(new URL(location, origin).href, tls, cookie)
    expect(home.status === 200, `expected the home page (200) with the session cookie, got ${home.status}: ${explain(home)}`)
    const sessionUser = field(home.body, 'session-username')
    const certUser = field(home.body, 'cert-username')
    expect(sessionUser === username, `expected session user ${username} on the home page, found ${sessionUser}`)
    const id = field(home.body, 'session-id')
    console.log(`  GET / -> 200, session user ${sessionUser} (id ${id}, created ${field(home.body, 'session-created')}), ` +
      `certificate user ${certUser}`)
    console.log(`PASS: the client certificate logged ${username} in; session user ${sessionUser} (id ${id})`)
    return true
  } catch (error) {
    console.log(`FAIL: ${error instanceof SelfTestFailure ? error.message : String(error)}`)
    return false
  }
}
