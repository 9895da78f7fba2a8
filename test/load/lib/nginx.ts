// nginx for the load tests: the README's site configuration (nginxSiteConfig, exactly what the
// e2e tests run and users copy) inside a preamble sized for a hundred clients at once.
//
// The e2e harness's preamble (nginxConfig) allows 64 connections to its one worker, and each
// proxied request holds two (client and upstream): with 100 logins in flight nginx logs
// "64 worker_connections are not enough" and drops connections (in a trial, 337 of 400 logins
// ended in ECONNRESET). That is a limit of the test harness, not of nginx or the plugin; here
// the worker gets 4096.

import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getFreePort, requireBinary, startProcess, type Pki } from '../../e2e/lib'
import { nginxSiteConfig } from '../../e2e/lib/proxy-configs'

export interface LoadNginx {
  /** https://localhost:<port> */
  url: string
  config: string
  /** nginx's error log (the access log is left on disk, not read). */
  errors (): string
  stop (): Promise<void>
}

function indent (text: string): string {
  return text.split('\n').map((line) => (line === '' ? line : '    ' + line)).join('\n')
}

export async function startLoadNginx (pki: Pki, upstreams: string[]): Promise<LoadNginx> {
  const bin = requireBinary('nginx')
  let lastError: unknown
  // A free port can be taken between probing and binding: try again with another.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), 'load-nginx-'))
    // Workers drop root privileges and still need their temp files and logs in here.
    await chmod(dir, 0o755)
    const port = await getFreePort()
    // The PKI's files copied from what this test holds in memory, in case another run replaces
    // the shared PKI while this one runs (its certificates would no longer match nginx's CA).
    const files = { certFile: join(dir, 'server-chain.pem'), keyFile: join(dir, 'server.key'), caFile: join(dir, 'ca-bundle.pem') }
    await writeFile(files.certFile, pki.server.chainPem)
    await writeFile(files.keyFile, pki.server.keyPem, { mode: 0o600 })
    await writeFile(files.caFile, pki.caBundlePem)
    const site = nginxSiteConfig({ port, upstreams, ...files, runDir: dir })
    const config = `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;

events {
    worker_connections 4096;
}

http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;

${indent(site)}}
`
    const configFile = join(dir, 'nginx.conf')
    const errorLog = join(dir, 'error.log')
    await writeFile(configFile, config)
    try {
      const proc = await startProcess({
        name: 'nginx',
        command: bin,
        args: ['-e', errorLog, '-p', dir, '-c', configFile, '-g', 'daemon off;'],
        port,
        logFiles: [errorLog]
      })
      return {
        url: `https://localhost:${port}`,
        config,
        errors: proc.logs,
        async stop () {
          await proc.stop()
          await rm(dir, { recursive: true, force: true })
        }
      }
    } catch (error) {
      lastError = error
      await rm(dir, { recursive: true, force: true })
      if (!/in use|bind/i.test(String(error))) break
    }
  }
  throw lastError
}
