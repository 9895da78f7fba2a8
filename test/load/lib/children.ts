// The app instances of the load tests, each a child process (./server.ts under tsx, with
// --expose-gc), so that each one's heap is measured alone and not mixed with the test's own.

import { fork, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { FromServer, HeapSample, ServerArgs, ServerStats, ToServer } from './protocol'

const ROOT = join(__dirname, '..', '..', '..')
const START_TIMEOUT_MS = 30_000
const ANSWER_TIMEOUT_MS = 10_000

export interface AppProcess {
  instance: string
  port: number
  /** http://127.0.0.1:<port>, for nginx's upstream and for direct requests. */
  url: string
  /** Heap in use: after a full GC, or as it stands (for the peak during a run). */
  heap (gc: boolean): Promise<HeapSample>
  stats (): Promise<ServerStats>
  /** What the process printed (its startup errors). */
  output (): string
  stop (): Promise<void>
}

type Distributive<T> = T extends unknown ? Omit<T, 'id'> : never

export async function startAppProcess (args: ServerArgs): Promise<AppProcess> {
  // Only what the app needs, and no coverage: tap's processinfo hooks every child process it
  // spawns (it adds its NODE_OPTIONS and its _TAPJS_PROCESSINFO_* variables to any env, unless
  // the env sets them), and the plugin's coverage recorded under tsx, which maps lines
  // differently from tap's loader, would blur the report (it fell below 100% with it on).
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: process.env.LANG, _TAPJS_PROCESSINFO_COVERAGE_: '0' }
  const child: ChildProcess = fork(join(__dirname, 'server.ts'), [JSON.stringify(args)], {
    cwd: ROOT,
    env,
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc']
  })
  let output = ''
  const collect = (chunk: Buffer): void => { if (output.length < 65536) output += chunk.toString() }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })

  let nextId = 1
  const waiting = new Map<number, (message: FromServer) => void>()
  child.on('message', (message: FromServer) => {
    if (message.type === 'listening') return
    waiting.get(message.id)?.(message)
    waiting.delete(message.id)
  })

  async function ask (message: Distributive<ToServer>): Promise<FromServer> {
    const id = nextId++
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id)
        reject(new Error(`instance ${args.instance} did not answer ${message.type} within ${ANSWER_TIMEOUT_MS} ms\n${output}`))
      }, ANSWER_TIMEOUT_MS)
      waiting.set(id, (answer) => { clearTimeout(timer); resolve(answer) })
      child.send({ ...message, id } as ToServer)
    })
  }

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`instance ${args.instance} did not start within ${START_TIMEOUT_MS} ms\n${output}`)) }, START_TIMEOUT_MS)
    child.on('message', (message: FromServer) => {
      if (message.type === 'listening') { clearTimeout(timer); resolve(message.port) }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`instance ${args.instance} exited (${String(code ?? signal)}) before listening\n${output}`))
    })
  })

  return {
    instance: args.instance,
    port,
    url: `http://127.0.0.1:${port}`,
    async heap (gc) {
      const { heapUsed, rss, spaces } = await ask({ type: 'heap', gc }) as HeapSample
      return { heapUsed, rss, spaces }
    },
    async stats () {
      const { warnings, errors, lastLines, cpuMicros, users } = await ask({ type: 'stats' }) as ServerStats
      return { warnings, errors, lastLines, cpuMicros, users }
    },
    output: () => output,
    async stop () {
      if (child.exitCode !== null || child.signalCode !== null) return
      // Disconnecting makes the server close and exit; SIGKILL if it does not within 5 s.
      if (child.connected) child.disconnect()
      else child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 5000)
      await exited
      clearTimeout(timer)
    }
  }
}
