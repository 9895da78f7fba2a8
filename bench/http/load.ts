// Server processes and the load sent to them. autocannon runs here, in the parent: 10 keep-alive
// connections, a fresh set per round. The server's CPU time is read over IPC before and after each
// round, so CPU per response counts everything the server did for the round and nothing else.

import autocannon from 'autocannon'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import type { ContenderName } from './apps'
import type { CpuProfile, FromServer, ServerArgs, ToServer } from './protocol'

export const CONNECTIONS = 10

/** What the client presents to a mutual TLS server. */
export interface ClientCertificate { cert: string, key: string }

/** One kind of request, repeated by autocannon for the length of a round. */
export interface Load {
  path: string
  headers: Record<string, string>
  clientCertificate?: ClientCertificate
  /** Rewrites each request before it is sent (e.g. another user's DN); costs the client alike for every use. */
  setupRequest?: (request: autocannon.Request) => autocannon.Request
  /** What the server must answer; a 302 must also set a cookie. Every response of a round must be of the status's class. */
  expect: { status: 200, body: string } | { status: 302, location: string }
}

export interface RoundSample {
  requestsPerSecond: number
  /** autocannon's 99th percentile of latency, ms. */
  p99Ms: number
  cpuMicrosPerResponse: number
  responses: number
}

/** The next message from `child`, or a failure if it exits or stays silent. */
async function nextMessage (child: ChildProcess, name: string, timeoutMs: number): Promise<FromServer> {
  return await new Promise((resolve, reject) => {
    const settle = (): void => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
    }
    const onMessage = (message: FromServer): void => { settle(); resolve(message) }
    const onExit = (code: number | null): void => { settle(); reject(new Error(`server ${name} exited (${String(code)})`)) }
    const timer = setTimeout(() => { settle(); reject(new Error(`server ${name} did not answer in ${timeoutMs} ms`)) }, timeoutMs)
    child.on('message', onMessage)
    child.on('exit', onExit)
  })
}

/**
 * On a machine of two or more CPUs (with taskset): this process, the load generator, on CPU 0 and
 * every server on CPU 1, so that both contenders run on the same core and never beside the client.
 * Left to the scheduler, the same one of two identical servers was the cheaper in CPU per response
 * in 11 runs out of 11 on a busy machine (medians 1–35% apart); pinned, 3 runs within 2%. The price: a
 * server's GC threads share its core, so absolute numbers are lower. Returns the servers' CPU, or
 * undefined when not pinned.
 */
export function pinCpus (cpus: number): number | undefined {
  if (cpus < 2) return undefined
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })
  } catch {
    return undefined
  }
  ServerProcess.cpu = 1
  return 1
}

export class ServerProcess {
  /** The CPU servers are started on, if pinned. */
  static cpu: number | undefined

  private constructor (readonly name: ContenderName, private readonly child: ChildProcess, readonly port: number, readonly secure: boolean) {}

  static async start (args: ServerArgs): Promise<ServerProcess> {
    // --expose-gc only gives the server gc() for the heap readings; it changes nothing else.
    const command = [process.execPath, '--import', 'tsx', '--expose-gc', join(__dirname, 'server.ts'), JSON.stringify(args)]
    const argv = ServerProcess.cpu === undefined ? command : ['taskset', '-c', String(ServerProcess.cpu), ...command]
    // spawn rather than fork, so that taskset can stand in front; the IPC channel passes through it.
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const message = await nextMessage(child, args.contender, 30_000).catch((error: unknown) => {
      child.kill()
      throw error
    })
    if (message.type !== 'listening') throw new Error(`server ${args.contender} said ${message.type} before listening`)
    return new ServerProcess(args.contender, child, message.port, args.tls !== undefined)
  }

  private async ask<T extends FromServer['type']> (message: ToServer & { type: T }): Promise<Extract<FromServer, { type: T }>> {
    this.child.send(message)
    const answer = await nextMessage(this.child, this.name, 60_000)
    if (answer.type !== message.type) throw new Error(`server ${this.name} answered ${answer.type} to ${message.type}`)
    return answer as Extract<FromServer, { type: T }>
  }

  async cpuMicros (): Promise<number> {
    return (await this.ask({ type: 'cpu' })).micros
  }

  /** Runs `work` under V8's sampling profiler in the server; the profile of that time. */
  async profile (work: () => Promise<void>): Promise<CpuProfile> {
    await this.ask({ type: 'profile-start' })
    await work()
    return (await this.ask({ type: 'profile-stop' })).profile
  }

  /** Heap used after the session store is emptied and garbage collected. */
  async heapBytes (): Promise<number> {
    return (await this.ask({ type: 'heap' })).bytes
  }

  async stop (): Promise<void> {
    if (this.child.exitCode !== null) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.child.disconnect()
    await exited
  }

  url (path: string): string {
    return `${this.secure ? 'https' : 'http'}://127.0.0.1:${this.port}${path}`
  }
}

function options (server: ServerProcess, load: Load): autocannon.Options {
  return {
    url: server.url(load.path),
    connections: CONNECTIONS,
    headers: load.headers,
    // The server certificate names localhost; an IP address is no SNI name.
    servername: 'localhost',
    tlsOptions: load.clientCertificate,
    requests: load.setupRequest === undefined ? undefined : [{ setupRequest: load.setupRequest }]
  }
}

function checkResult (server: ServerProcess, load: Load, result: autocannon.Result): void {
  const statusClass = load.expect.status === 200 ? '2xx' : '3xx'
  if (result.errors > 0 || result.timeouts > 0 || result[statusClass] !== result.requests.total || result.requests.total === 0) {
    throw new Error(`${server.name} ${load.path}: ${result.requests.total} responses, ${result[statusClass]} ${statusClass}, ` +
      `${result.errors} errors, ${result.timeouts} timeouts`)
  }
}

/** Load for `seconds`, with the server's CPU time read before and after. */
export async function runRound (server: ServerProcess, load: Load, seconds: number): Promise<RoundSample> {
  const before = await server.cpuMicros()
  const result = await autocannon({ ...options(server, load), duration: seconds })
  const after = await server.cpuMicros()
  checkResult(server, load, result)
  const responses = result.requests.total
  return {
    requestsPerSecond: responses / result.duration,
    p99Ms: result.latency.p99,
    cpuMicrosPerResponse: (after - before) / responses,
    responses
  }
}

/** Untimed load: a warm-up for `seconds`, or exactly `amount` requests. */
export async function runUntimed (server: ServerProcess, load: Load, length: { seconds: number } | { amount: number }): Promise<number> {
  const result = await autocannon({
    ...options(server, load),
    ...('amount' in length ? { amount: length.amount } : { duration: length.seconds })
  })
  checkResult(server, load, result)
  return result.requests.total
}

interface Answer { status: number, headers: IncomingHttpHeaders, body: string }

async function requestOnce (server: ServerProcess, load: Load): Promise<Answer> {
  const request = server.secure ? httpsRequest : httpRequest
  return await new Promise((resolve, reject) => {
    const outgoing = request(server.url(load.path), {
      headers: load.headers,
      ...load.clientCertificate,
      servername: 'localhost',
      rejectUnauthorized: false
    }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { body += chunk })
      response.on('end', () => { resolve({ status: response.statusCode ?? 0, headers: response.headers, body }) })
    })
    outgoing.on('error', reject)
    outgoing.end()
  })
}

/** One request before any timing: a contender that answers wrongly is not measured at all. */
export async function checkAnswer (server: ServerProcess, load: Load): Promise<void> {
  const answer = await requestOnce(server, load)
  const { expect } = load
  const wrong = answer.status !== expect.status ||
    (expect.status === 200 ? answer.body !== expect.body : answer.headers.location !== expect.location || answer.headers['set-cookie'] === undefined)
  if (wrong) {
    throw new Error(`${server.name} ${load.path}: expected ${JSON.stringify(expect)}, got ${answer.status} ` +
      `${JSON.stringify(answer.body.slice(0, 200))} location=${String(answer.headers.location)} cookie=${answer.headers['set-cookie'] !== undefined}`)
  }
}
