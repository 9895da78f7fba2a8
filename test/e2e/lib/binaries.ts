// Locating the Debian-packaged daemons the e2e tests drive.
//
// Locally a missing binary skips its tests (with the apt package to install);
// on CI (CI=true) it is an error, so a broken CI image cannot silently skip.

import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

export type ProxyName = 'nginx' | 'haproxy' | 'apache' | 'caddy'
export type DaemonName = ProxyName | 'redis'

interface BinarySpec {
  /** Executable name looked up on PATH (plus the sbin dirs, which non-root PATHs lack). */
  executable: string
  /** Debian package that provides it. */
  debianPackage: string
  /** Environment variable that overrides the path. */
  envVar: string
  /** Other files that must exist for the daemon to be usable. */
  requires?: string[]
}

const specs: Record<DaemonName, BinarySpec> = {
  nginx: { executable: 'nginx', debianPackage: 'nginx', envVar: 'E2E_NGINX_BIN' },
  haproxy: { executable: 'haproxy', debianPackage: 'haproxy', envVar: 'E2E_HAPROXY_BIN' },
  apache: {
    executable: 'apache2',
    debianPackage: 'apache2',
    envVar: 'E2E_APACHE_BIN',
    requires: ['/usr/lib/apache2/modules/mod_ssl.so', '/usr/lib/apache2/modules/mod_proxy_http.so']
  },
  caddy: { executable: 'caddy', debianPackage: 'caddy', envVar: 'E2E_CADDY_BIN' },
  redis: { executable: 'redis-server', debianPackage: 'redis-server', envVar: 'E2E_REDIS_BIN' }
}

function isExecutable (file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function isReadable (file: string): boolean {
  try {
    accessSync(file, constants.R_OK)
    return true
  } catch {
    return false
  }
}

export interface BinaryInfo {
  /** Absolute path of the executable, or null when it is not installed. */
  binary: string | null
  /** Debian package to apt-get install. */
  debianPackage: string
}

export function binaryFor (name: DaemonName): BinaryInfo {
  const spec = specs[name]
  const result = (binary: string | null): BinaryInfo => ({ binary, debianPackage: spec.debianPackage })

  if (spec.requires?.some(f => !isReadable(f))) return result(null)

  const override = process.env[spec.envVar]
  if (override) return result(isExecutable(override) ? override : null)

  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin']
  for (const dir of dirs) {
    if (!dir) continue
    const candidate = join(dir, spec.executable)
    if (isExecutable(candidate)) return result(candidate)
  }
  return result(null)
}

/**
 * For tap's `skip` option: false when the daemon is installed, otherwise a
 * message naming the package. Throws instead when CI=true.
 *
 *   t.test('nginx', { skip: skipUnlessInstalled('nginx') }, async t => { ... })
 */
export function skipUnlessInstalled (name: DaemonName): string | false {
  const { binary, debianPackage } = binaryFor(name)
  if (binary !== null) return false
  const message = `${name} is not installed (apt-get install ${debianPackage})`
  if (process.env.CI === 'true') throw new Error(`${message}; required on CI`)
  return message
}

/** Like binaryFor(name).binary but throws a helpful error when missing. */
export function requireBinary (name: DaemonName): string {
  const { binary, debianPackage } = binaryFor(name)
  if (binary === null) throw new Error(`${name} is not installed (apt-get install ${debianPackage})`)
  return binary
}
