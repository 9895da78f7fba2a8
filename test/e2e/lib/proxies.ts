// Launchers for real TLS-terminating reverse proxies in front of a test app.
//
// Each proxy runs as a foreground child with its own config, pid and log files
// in a temp dir, listens on 127.0.0.1:<free port> with the PKI's server cert,
// asks for (but does not require) a client certificate, and forwards to the
// given upstream(s) with the certificate headers of its preset.

import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireBinary, type ProxyName } from './binaries'
import { getFreePort } from './ports'
import { startProcess, type ManagedProcess, type SpawnOptions } from './process'
import {
  apacheConfig,
  caddyConfig,
  haproxyConfig,
  nginxConfig,
  type ProxyConfigOptions
} from './proxy-configs'
import type { Pki } from '../../helpers/pki'

export { binaryFor, skipUnlessInstalled, requireBinary } from './binaries'
export type { BinaryInfo, DaemonName, ProxyName } from './binaries'
export { startRedis } from './redis'
export type { RunningRedis, StartRedisOptions } from './redis'

export interface StartProxyOptions {
  pki: Pki
  /** Upstream base URL(s), e.g. 'http://127.0.0.1:3000'. Only nginx, HAProxy and Caddy take several (round robin). */
  upstream: string | string[]
  /** Listen port; default a free one. */
  port?: number
  /**
   * nginx: forward $ssl_client_s_dn_legacy instead of $ssl_client_s_dn.
   * HAProxy: forward %[ssl_c_s_dn] (oneline) instead of %[ssl_c_s_dn(,0,rfc2253)].
   */
  legacyDn?: boolean
  /** nginx: forward $ssl_client_escaped_cert too (default true), or only the DN. */
  forwardCert?: boolean
  /** nginx: set only X-Client-Cert-Valid and X-Client-Cert-Dn, as the Django package's example does. */
  djangoHeadersOnly?: boolean
}

export interface RunningProxy {
  name: ProxyName
  port: number
  /** https://localhost:<port> (the server cert is for localhost and 127.0.0.1). */
  url: string
  /** Temp dir with config, pid and logs; removed by stop(). */
  dir: string
  /** The config text the proxy was started with. */
  config: string
  /** ms from spawn until the port accepted connections. */
  startupMs: number
  stop(): Promise<void>
  /** Captured stdout/stderr plus the proxy's log files. */
  logs(): string
}

interface LaunchPlan {
  configFile: string
  config: string
  spawn: Omit<SpawnOptions, 'name' | 'port'>
}

async function launch (
  name: ProxyName,
  opts: StartProxyOptions,
  plan: (base: ProxyConfigOptions) => Promise<LaunchPlan>
): Promise<RunningProxy> {
  const upstreams = Array.isArray(opts.upstream) ? opts.upstream : [opts.upstream]
  // A free port can be taken between probing and binding: retry a couple of
  // times, unless the caller pinned the port.
  const attempts = opts.port === undefined ? 3 : 1
  let lastError: unknown
  for (let i = 0; i < attempts; i++) {
    const dir = await mkdtemp(join(tmpdir(), `e2e-${name}-`))
    // nginx/Apache workers drop root privileges and still need to reach
    // their temp files and logs in here. Keys live in the PKI dir, not here.
    await chmod(dir, 0o755)
    const port = opts.port ?? await getFreePort()
    try {
      const p = await plan({
        port,
        upstreams,
        certFile: opts.pki.server.chain,
        keyFile: opts.pki.server.key,
        caFile: opts.pki.caBundle,
        runDir: dir
      })
      await writeFile(p.configFile, p.config)
      const started = Date.now()
      const proc: ManagedProcess = await startProcess({ ...p.spawn, name, port })
      const startupMs = Date.now() - started
      return {
        name,
        port,
        url: `https://localhost:${port}`,
        dir,
        config: p.config,
        startupMs,
        logs: proc.logs,
        async stop () {
          await proc.stop()
          await rm(dir, { recursive: true, force: true })
        }
      }
    } catch (err) {
      lastError = err
      await rm(dir, { recursive: true, force: true })
      if (!/in use|Address already in use|bind/i.test(String(err))) break
    }
  }
  throw lastError
}

export async function startNginx (opts: StartProxyOptions): Promise<RunningProxy> {
  const bin = requireBinary('nginx')
  return await launch('nginx', opts, async base => {
    const configFile = join(base.runDir, 'nginx.conf')
    const errorLog = join(base.runDir, 'error.log')
    return {
      configFile,
      config: nginxConfig({ ...base, legacyDn: opts.legacyDn, forwardCert: opts.forwardCert, djangoHeadersOnly: opts.djangoHeadersOnly }),
      spawn: {
        command: bin,
        // -e: startup errors go to our log, not /var/log/nginx; -g: stay in the foreground.
        args: ['-e', errorLog, '-p', base.runDir, '-c', configFile, '-g', 'daemon off;'],
        logFiles: [errorLog, join(base.runDir, 'access.log')],
        // SIGTERM = fast shutdown (SIGQUIT would wait for keep-alive clients).
        stopSignal: 'SIGTERM'
      }
    }
  })
}

export async function startHaproxy (opts: StartProxyOptions): Promise<RunningProxy> {
  const bin = requireBinary('haproxy')
  return await launch('haproxy', opts, async base => {
    // HAProxy's `crt` takes chain + key in one file.
    const pem = join(base.runDir, 'server.pem')
    await writeFile(pem, opts.pki.server.chainPem + opts.pki.server.keyPem, { mode: 0o600 })
    const configFile = join(base.runDir, 'haproxy.cfg')
    return {
      configFile,
      config: haproxyConfig({ ...base, certFile: pem, legacyDn: opts.legacyDn }),
      // -db: foreground, no daemon; logs to stderr (see `log stderr` in the config).
      spawn: { command: bin, args: ['-db', '-f', configFile] }
    }
  })
}

export async function startApache (opts: StartProxyOptions): Promise<RunningProxy> {
  const bin = requireBinary('apache')
  return await launch('apache', opts, async base => {
    const configFile = join(base.runDir, 'apache2.conf')
    // Apache refuses to serve as root: workers need an unprivileged user.
    const asRoot = process.getuid?.() === 0
    return {
      configFile,
      config: apacheConfig({ ...base, ...(asRoot ? { user: 'nobody', group: 'nogroup' } : {}) }),
      spawn: {
        command: bin,
        args: ['-d', base.runDir, '-f', configFile, '-DFOREGROUND'],
        // Debian's apache2 reads nothing else from the environment here, but
        // keep LANG predictable for its messages.
        env: { ...process.env, LANG: 'C' },
        logFiles: [join(base.runDir, 'error.log')]
      }
    }
  })
}

export async function startCaddy (opts: StartProxyOptions): Promise<RunningProxy> {
  const bin = requireBinary('caddy')
  return await launch('caddy', opts, async base => {
    const configFile = join(base.runDir, 'Caddyfile')
    return {
      configFile,
      config: caddyConfig({ ...base, caFiles: [opts.pki.rootCa.cert, opts.pki.intermediateCa.cert] }),
      spawn: {
        command: bin,
        args: ['run', '--config', configFile, '--adapter', 'caddyfile'],
        // Caddy keeps certificates/autosaved config under HOME/XDG dirs:
        // keep them in the temp dir, away from the real home directory.
        env: {
          ...process.env,
          HOME: base.runDir,
          XDG_DATA_HOME: join(base.runDir, 'data'),
          XDG_CONFIG_HOME: join(base.runDir, 'config')
        }
      }
    }
  })
}

export const startProxy: Record<ProxyName, (opts: StartProxyOptions) => Promise<RunningProxy>> = {
  nginx: startNginx,
  haproxy: startHaproxy,
  apache: startApache,
  caddy: startCaddy
}
