// One contender of the HTTP benchmark, in a process of its own (forked by load.ts with
// --expose-gc). It listens on a free port of 127.0.0.1 and answers the parent over IPC only.

import { Session as InspectorSession } from 'node:inspector'
import type { AddressInfo } from 'node:net'
import { contenders } from './apps'
import { collectGarbage } from './gc'
import type { CpuProfile, FromServer, ServerArgs, ToServer } from './protocol'

function send (message: FromServer): void {
  if (process.send === undefined) throw new Error('server.ts runs forked, with an IPC channel')
  process.send(message)
}

/** V8's sampling profiler, in-process, so that a profile covers the load and not the start-up. */
const inspector = new InspectorSession()
async function profiler (method: string, params: object = {}): Promise<{ profile?: CpuProfile }> {
  return await new Promise((resolve, reject) => {
    inspector.post(method, params, (error, result) => { if (error === null) resolve(result as { profile?: CpuProfile }); else reject(error) })
  })
}

async function startProfile (): Promise<void> {
  inspector.connect()
  await profiler('Profiler.enable')
  await profiler('Profiler.setSamplingInterval', { interval: 100 })
  await profiler('Profiler.start')
  send({ type: 'profile-start' })
}

async function stopProfile (): Promise<void> {
  const { profile } = await profiler('Profiler.stop')
  inspector.disconnect()
  if (profile === undefined) throw new Error('Profiler.stop gave no profile')
  send({ type: 'profile-stop', profile })
}

async function main (): Promise<void> {
  const args = JSON.parse(process.argv[2]) as ServerArgs
  const { app, sessions } = await contenders[args.contender](args.tls)
  if (sessions !== undefined) {
    // Every login stores a session: emptied often, so that memory stays flat over a run. Both
    // contenders of a login scenario keep their sessions in the same store, emptied alike.
    setInterval(() => { sessions.clear() }, 250).unref()
  }
  await app.listen({ host: '127.0.0.1', port: 0 })
  process.on('message', (message: ToServer) => {
    if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage()
      send({ type: 'cpu', micros: user + system })
    } else if (message.type === 'profile-start') {
      startProfile().catch(fail)
    } else if (message.type === 'profile-stop') {
      stopProfile().catch(fail)
    } else {
      sessions?.clear()
      collectGarbage()
      send({ type: 'heap', bytes: process.memoryUsage().heapUsed })
    }
  })
  // The parent going away, for whatever reason, ends the server.
  process.on('disconnect', () => { process.exit(0) })
  send({ type: 'listening', port: (app.server.address() as AddressInfo).port })
}

function fail (error: unknown): void {
  console.error(error)
  process.exit(1)
}

main().catch(fail)
