// Spawning daemons (nginx, haproxy, ...) as foreground children of the test
// process, waiting for their port, and stopping them again.
//
// Every live child is tracked so that it is also signalled when the test
// process exits or is interrupted: a crashed test must not leave proxies behind.

import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'

export interface SpawnOptions {
  /** Short name used in error messages, e.g. 'nginx'. */
  name: string
  command: string
  args: string[]
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** TCP port the daemon listens on; startProcess resolves once it accepts connections. */
  port: number
  host?: string
  /** Log files written by the daemon itself, appended to logs(). */
  logFiles?: string[]
  /** How long to wait for the port (ms). Default 15000. */
  timeoutMs?: number
  /** Signal for a graceful stop. Default SIGTERM. */
  stopSignal?: NodeJS.Signals
}

export interface ManagedProcess {
  readonly pid: number | undefined
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>
  isRunning(): boolean
  /** Captured stdout/stderr followed by the daemon's own log files. */
  logs(): string
  /** Sends stopSignal, escalates to SIGKILL after killAfterMs. Idempotent. */
  stop(killAfterMs?: number): Promise<void>
  /** Sends a raw signal (SIGSTOP/SIGCONT to freeze/thaw, SIGKILL to crash). */
  signal(sig: NodeJS.Signals): void
}

const MAX_OUTPUT = 1024 * 1024
const live = new Set<ChildProcess>()

function killAllSync (): void {
  for (const child of live) {
    // A SIGSTOPped daemon would not act on SIGTERM until continued.
    try { child.kill('SIGCONT') } catch {}
    try { child.kill('SIGTERM') } catch {}
  }
}

let hooksInstalled = false
function installExitHooks (): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', killAllSync)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllSync()
      // If nobody else (e.g. the test runner) handles this signal, behave
      // like the default handler and terminate.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal)
        process.kill(process.pid, sig)
      }
    }
    process.on(sig, onSignal)
  }
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Resolves true once a TCP connection to host:port succeeds. */
export async function canConnect (port: number, host = '127.0.0.1'): Promise<boolean> {
  return await new Promise(resolve => {
    const sock = connect({ port, host })
    sock.once('connect', () => { sock.destroy(); resolve(true) })
    sock.once('error', () => { sock.destroy(); resolve(false) })
  })
}

/**
 * Polls until host:port accepts TCP connections. `alive` lets the caller abort
 * early when the daemon has already died (e.g. a config error).
 */
export async function waitForPort (
  port: number,
  { host = '127.0.0.1', timeoutMs = 15000, alive = () => true }: { host?: string, timeoutMs?: number, alive?: () => boolean } = {}
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await canConnect(port, host)) return
    if (!alive()) throw new Error(`process exited before ${host}:${port} accepted connections`)
    await sleep(20)
  }
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${host}:${port}`)
}

/** Polls until nothing accepts connections on host:port any more. */
export async function waitForPortClosed (port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!await canConnect(port, host)) return
    await sleep(20)
  }
  throw new Error(`${host}:${port} still accepts connections after ${timeoutMs}ms`)
}

function readLogFile (file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}

export async function startProcess (opts: SpawnOptions): Promise<ManagedProcess> {
  installExitHooks()
  const host = opts.host ?? '127.0.0.1'
  const stopSignal = opts.stopSignal ?? 'SIGTERM'

  // Fail fast if something already listens there: we would otherwise
  // "succeed" against the wrong server.
  if (await canConnect(opts.port, host)) {
    throw new Error(`${opts.name}: ${host}:${opts.port} is already in use`)
  }

  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  live.add(child)

  let output = ''
  const collect = (chunk: Buffer): void => {
    if (output.length < MAX_OUTPUT) output += chunk.toString('utf8')
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)

  let running = true
  const exited = new Promise<number | string>(resolve => {
    child.once('exit', (code, signal) => {
      running = false
      live.delete(child)
      resolve(code ?? signal ?? 'unknown')
    })
    child.once('error', err => {
      running = false
      live.delete(child)
      output += `\nspawn error: ${err.message}\n`
      resolve('spawn-error')
    })
  })

  const logs = (): string => {
    let text = output
    for (const f of opts.logFiles ?? []) {
      const content = readLogFile(f)
      if (content) text += `\n--- ${f} ---\n${content}`
    }
    return text
  }

  const stop = async (killAfterMs = 5000): Promise<void> => {
    if (!running) return
    try { child.kill('SIGCONT') } catch {}
    child.kill(stopSignal)
    const timer = setTimeout(() => { if (running) child.kill('SIGKILL') }, killAfterMs)
    await exited
    clearTimeout(timer)
  }

  try {
    await waitForPort(opts.port, { host, timeoutMs: opts.timeoutMs, alive: () => running })
  } catch (err) {
    await stop(1000)
    throw new Error(`${opts.name} did not start: ${(err as Error).message}\n${logs()}`)
  }

  return {
    pid: child.pid,
    exited,
    isRunning: () => running,
    logs,
    stop,
    signal (sig) {
      if (running) child.kill(sig)
    }
  }
}
