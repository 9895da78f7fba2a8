// Scenario 7 in a fresh process (forked with --expose-gc): N logins over real HTTP into one
// contender's MemoryStore, then the heap it holds per stored session. A real request, not
// `inject`: @fastify/session's MemoryStore keeps the live session, which points to its request,
// so whatever a request carries is part of the footprint.

import { Agent, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { contenders, type ContenderName } from './apps'
import { collectGarbage } from './gc'
import { LOGIN_HEADERS } from './scenarios'
import { CONNECTIONS } from './load'

export interface FootprintArgs {
  contender: ContenderName
  logins: number
}

export interface FootprintResult {
  sessions: number
  bytesPerSession: number
  /** Heap grown over the logins that emptying the store did not free: not per session. */
  residualBytes: number
}

async function loginOnce (agent: Agent, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path: '/accounts/login/', headers: LOGIN_HEADERS, agent }, (response) => {
      if (response.statusCode !== 302) reject(new Error(`login answered ${String(response.statusCode)}`))
      response.resume()
      response.on('end', resolve)
    })
    outgoing.on('error', reject)
    outgoing.end()
  })
}

/** `count` logins over as many keep-alive connections as the HTTP benchmark uses. */
async function logins (port: number, count: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  let started = 0
  const connection = async (): Promise<void> => {
    while (started < count) {
      started++
      await loginOnce(agent, port)
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS }, connection))
  agent.destroy()
  // Let the server see the connections close before the heap is read.
  await new Promise((resolve) => setTimeout(resolve, 100))
}

async function main (): Promise<void> {
  const args = JSON.parse(process.argv[2]) as FootprintArgs
  const { app, sessions } = await contenders[args.contender]()
  if (sessions === undefined) throw new Error(`${args.contender} keeps no sessions in a MemoryStore`)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo

  await logins(port, 500) // warm-up: compiled code and lazily built state are not per session
  sessions.clear()
  collectGarbage()
  const baseline = process.memoryUsage().heapUsed
  await logins(port, args.logins)
  collectGarbage()
  const stored = process.memoryUsage().heapUsed
  const count = sessions.size
  sessions.clear()
  collectGarbage()
  const cleared = process.memoryUsage().heapUsed
  await app.close()

  // What emptying the store frees is what the sessions held; the rest (code, caches) stays.
  const result: FootprintResult = { sessions: count, bytesPerSession: (stored - cleared) / count, residualBytes: cleared - baseline }
  process.send?.(result)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
