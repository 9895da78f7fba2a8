// A throwaway redis-server for session-store tests: no persistence, bound to
// 127.0.0.1, and controllable mid-test (freeze, crash, bring back on the same port).

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireBinary } from './binaries'
import { getFreePort } from './ports'
import { startProcess, waitForPortClosed, type ManagedProcess } from './process'

export interface StartRedisOptions {
  /** Default: a free port. */
  port?: number
}

export interface RunningRedis {
  port: number
  /** redis://127.0.0.1:<port> */
  url: string
  logs(): string
  isRunning(): boolean
  /** SIGSTOP: the port stays open but nothing is answered (commands hang / time out). */
  pause(): void
  /** SIGCONT after pause(). */
  resume(): void
  /** SIGKILL, like a crash: connections reset, then the port refuses. Data is gone. */
  kill(): Promise<void>
  /** Starts a fresh, empty redis-server on the same port (after kill() or stop()). */
  restart(): Promise<void>
  /** Stops the server and removes its temp dir. Idempotent. */
  stop(): Promise<void>
}

export async function startRedis (opts: StartRedisOptions = {}): Promise<RunningRedis> {
  const bin = requireBinary('redis')
  const dir = await mkdtemp(join(tmpdir(), 'e2e-redis-'))
  const port = opts.port ?? await getFreePort()
  // Earlier incarnations, so logs() still shows what happened before a restart.
  const previous: ManagedProcess[] = []

  const spawnRedis = async (): Promise<ManagedProcess> => await startProcess({
    name: 'redis',
    command: bin,
    args: [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
      '--daemonize', 'no',
      '--logfile', ''
    ],
    cwd: dir,
    port
  })

  let proc: ManagedProcess
  try {
    proc = await spawnRedis()
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    logs: () => [...previous, proc].map(p => p.logs()).join('\n--- restarted ---\n'),
    isRunning: () => proc.isRunning(),
    pause: () => proc.signal('SIGSTOP'),
    resume: () => proc.signal('SIGCONT'),
    async kill () {
      if (!proc.isRunning()) return
      proc.signal('SIGKILL')
      await proc.exited
      await waitForPortClosed(port)
    },
    async restart () {
      await proc.stop()
      previous.push(proc)
      proc = await spawnRedis()
    },
    async stop () {
      await proc.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
