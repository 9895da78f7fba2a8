// Reverse-proxy configurations as pure functions of paths and ports.
//
// The e2e tests run exactly this text, and the README prints it (the docs
// generator calls these with placeholder paths), so what users copy is what
// was tested. Each proxy has two functions:
//   - xxxSiteConfig(): the part a user copies (server / vhost / frontend / site);
//   - xxxConfig():     a complete config file = harness preamble (pid, logs,
//                      temp dirs, modules, everything under runDir) + the site part.
//
// Every header the app trusts is *set* by the proxy (never appended or passed
// through), so a client-sent copy never reaches the app, with or without a
// client certificate. The e2e tests check this for every proxy.

export interface ProxyConfigOptions {
  /** TCP port to listen on with TLS. */
  port: number
  /** Address to bind, or '*' for every address (the README's form). Default '127.0.0.1'. */
  listenHost?: string
  /** The site's host name. Default 'localhost', the name on the test server certificate. */
  serverName?: string
  /** Upstream base URLs, e.g. ['http://127.0.0.1:3000']. */
  upstreams: string[]
  /** Server certificate chain PEM (leaf + intermediate). */
  certFile: string
  /** Server private key PEM. */
  keyFile: string
  /** CA bundle PEM (root + intermediate) client certificates are verified against. */
  caFile: string
  /** Directory for pid, log and temp files (only used by xxxConfig). */
  runDir: string
}

export interface NginxConfigOptions extends ProxyConfigOptions {
  /** Forward `$ssl_client_s_dn_legacy` (`/C=AU/O=Example/CN=alice`) instead of the RFC 2253 `$ssl_client_s_dn`. */
  legacyDn?: boolean
  /**
   * Forward the certificate itself (`$ssl_client_escaped_cert`). Default true. When false only
   * the DN goes to the app, and X-Client-Cert is still cleared.
   */
  forwardCert?: boolean
  /**
   * Only the two headers of the Django package's example config: X-Client-Cert is neither set nor
   * cleared, so a client's own copy reaches the app.
   */
  djangoHeadersOnly?: boolean
}

export interface ApacheConfigOptions extends ProxyConfigOptions {
  /** Directory holding mod_*.so. Default '/usr/lib/apache2/modules' (Debian). */
  modulesDir?: string
  /** Unprivileged User/Group for the worker processes; needed when started as root. */
  user?: string
  group?: string
}

/** HAProxy wants the certificate chain and the key in one PEM file: pass it as certFile. */
export interface HaproxyConfigOptions extends Omit<ProxyConfigOptions, 'keyFile'> {
  /**
   * Forward the DN in HAProxy's default OpenSSL "oneline" form
   * (`/C=AU/O=Example/CN=alice`) instead of RFC 2253 (`CN=alice,O=Example,C=AU`).
   */
  legacyDn?: boolean
}

/**
 * Caddy 2.6 reads only the first certificate of a trusted_ca_cert_file, so
 * each CA certificate (root, intermediate) is listed in its own file.
 */
export interface CaddyConfigOptions extends Omit<ProxyConfigOptions, 'caFile'> {
  caFiles: string[]
}

// Configs are not quoted consistently across proxies: refuse values that
// would need quoting rather than emit a subtly broken file.
function safe (value: string): string {
  if (!/^[\w./:@+,=~-]+$/.test(value)) {
    throw new Error(`unsupported character in config value: ${JSON.stringify(value)}`)
  }
  return value
}

/** 'http://127.0.0.1:3000/' -> '127.0.0.1:3000' */
function hostPort (upstream: string): string {
  const u = new URL(upstream)
  if (u.protocol !== 'http:') throw new Error(`upstream must be http://host:port, got ${upstream}`)
  return safe(u.host)
}

function indent (text: string, spaces: number): string {
  const pad = ' '.repeat(spaces)
  return text.split('\n').map(line => (line === '' ? line : pad + line)).join('\n')
}

// Caddyfiles are conventionally tab-indented (`caddy fmt`); the templates use
// 4 spaces (lint forbids tabs in source) and are converted here.
function tabify (text: string): string {
  return text.replace(/^(?: {4})+/gm, m => '\t'.repeat(m.length / 4))
}

function listen (o: { listenHost?: string, port: number }): string {
  return `${safe(o.listenHost ?? '127.0.0.1')}:${o.port}`
}

function everyAddress (o: { listenHost?: string }): boolean {
  return o.listenHost === '*'
}

function serverName (o: { serverName?: string }): string {
  return safe(o.serverName ?? 'localhost')
}

// ---------------------------------------------------------------- nginx

export function nginxSiteConfig (o: NginxConfigOptions): string {
  const servers = o.upstreams.map(u => `    server ${hostPort(u)};`).join('\n')
  const dn = o.legacyDn ? '$ssl_client_s_dn_legacy' : '$ssl_client_s_dn'
  const cert = o.forwardCert === false
    ? '""; # DN only, but never pass on a client\'s own copy'
    : '$ssl_client_escaped_cert; # read with headers: { cert: \'x-client-cert\' }'
  const certLine = o.djangoHeadersOnly === true ? '' : `\n        proxy_set_header X-Client-Cert       ${cert}`
  return `upstream app {
${servers}
}

server {
    listen ${everyAddress(o) ? o.port : listen(o)} ssl;
    server_name ${serverName(o)};

    ssl_certificate     ${safe(o.certFile)};
    ssl_certificate_key ${safe(o.keyFile)};

    # Ask for a client certificate but do not require one, so requests
    # without a certificate still reach the app (and its login page).
    # A certificate that fails verification gets nginx's own 400 page.
    ssl_client_certificate ${safe(o.caFile)};
    ssl_verify_client      optional;
    ssl_verify_depth       2;

    location / {
        proxy_pass http://app;
        proxy_set_header Host              $host;
        proxy_set_header X-Forwarded-For   $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;

        # proxy_set_header replaces any client-sent header of the same name.
        # Without a certificate: X-Client-Cert-Valid is NONE and the other two
        # are empty, so nginx omits them; the client's copies are dropped anyway.
        proxy_set_header X-Client-Cert-Valid $ssl_client_verify;
        proxy_set_header X-Client-Cert-Dn    ${dn};${certLine}
    }
}
`
}

export function nginxConfig (o: NginxConfigOptions): string {
  const run = safe(o.runDir)
  // `daemon off;` is passed with -g by the launcher, so this file also works as a daemon.
  return `worker_processes 1;
pid ${run}/nginx.pid;
error_log ${run}/error.log info;

events {
    worker_connections 4096; # load tests hold a hundred clients at once, two connections each
}

http {
    access_log ${run}/access.log;
    client_body_temp_path ${run}/client_body;
    proxy_temp_path ${run}/proxy;
    fastcgi_temp_path ${run}/fastcgi;
    uwsgi_temp_path ${run}/uwsgi;
    scgi_temp_path ${run}/scgi;

${indent(nginxSiteConfig(o), 4)}}
`
}

// ---------------------------------------------------------------- HAProxy

export function haproxySiteConfig (o: HaproxyConfigOptions): string {
  const servers = o.upstreams.map((u, i) => `    server app${i + 1} ${hostPort(u)}`).join('\n')
  // rfc2253 escapes separators inside values ("CN=Smith\, John"); the default
  // oneline form ("/O=Example/CN=Smith, John") cannot, so a "/" in a value is ambiguous.
  const dn = o.legacyDn ? '%[ssl_c_s_dn]' : '%[ssl_c_s_dn(,0,rfc2253)]'
  return `frontend https_in
    # verify optional: ask for a client certificate but let requests without
    # one through. Certificates that fail verification abort the handshake.
    bind ${everyAddress(o) ? `:${o.port}` : listen(o)} ssl crt ${safe(o.certFile)} ca-file ${safe(o.caFile)} verify optional
    option forwardfor
    http-request set-header X-Forwarded-Proto https

    # set-header first deletes every client-sent copy, then adds ours; it
    # runs (with an empty value) even when there is no client certificate.
    # ssl_c_verify is 0 both for "verified" and "no certificate": check ssl_c_used.
    http-request set-header X-SSL-Client-Used   %[ssl_c_used]
    http-request set-header X-SSL-Client-Verify %[ssl_c_verify]
    http-request set-header X-SSL-Client-DN     ${dn}
    # Read with headers: { cert: 'x-ssl-client-cert' }
    http-request set-header X-SSL-Client-Cert   %[ssl_c_der,base64]
    default_backend app

backend app
    balance roundrobin
${servers}
`
}

export function haproxyConfig (o: HaproxyConfigOptions): string {
  // Run in the foreground with -db; logs go to stderr, which the harness captures.
  return `global
    log stderr format raw local0 info

defaults
    mode http
    log global
    option httplog
    timeout connect 5s
    timeout client 30s
    timeout server 30s

${haproxySiteConfig(o)}`
}

// ---------------------------------------------------------------- Apache

export function apacheSiteConfig (o: ApacheConfigOptions): string {
  if (o.upstreams.length !== 1) throw new Error('the Apache config supports exactly one upstream')
  const up = new URL(o.upstreams[0])
  const target = `http://${hostPort(up.href)}/`
  return `Listen ${everyAddress(o) ? o.port : listen(o)}

<VirtualHost ${everyAddress(o) ? `*:${o.port}` : listen(o)}>
    ServerName ${serverName(o)}

    SSLEngine on
    SSLCertificateFile    ${safe(o.certFile)}
    SSLCertificateKeyFile ${safe(o.keyFile)}

    # Ask for a client certificate but do not require one, so requests
    # without a certificate still reach the app (and its login page).
    # A certificate that fails verification aborts the TLS handshake.
    # Depth 2 (leaf <- intermediate <- root); Apache's default of 1 rejects it.
    SSLCACertificateFile ${safe(o.caFile)}
    SSLVerifyClient optional
    SSLVerifyDepth  2

    ProxyPass / ${target}
    RequestHeader set X-Forwarded-Proto https

    # "set" replaces every client-sent copy. Without a certificate the
    # verify value is NONE and the other two are the literal text "(null)".
    RequestHeader set X-Client-Cert-Valid "%{SSL_CLIENT_VERIFY}s"
    RequestHeader set X-Client-Cert-Dn    "%{SSL_CLIENT_S_DN}s"
    # Read with headers: { cert: 'x-client-cert' }
    RequestHeader set X-Client-Cert       "%{SSL_CLIENT_CERT}s"
</VirtualHost>
`
}

export function apacheConfig (o: ApacheConfigOptions): string {
  const run = safe(o.runDir)
  const mods = safe(o.modulesDir ?? '/usr/lib/apache2/modules')
  const load = (name: string): string => `LoadModule ${name}_module ${mods}/mod_${name}.so`
  const user = o.user ? `User ${safe(o.user)}\nGroup ${safe(o.group ?? o.user)}\n` : ''
  // Self-contained: no /etc/apache2, everything runtime under runDir.
  return `ServerRoot ${run}
ServerName localhost
PidFile ${run}/apache2.pid
DefaultRuntimeDir ${run}
ErrorLog ${run}/error.log
LogLevel warn ssl:info
${user}
${load('mpm_event')}
${load('authz_core')}
${load('socache_shmcb')}
${load('ssl')}
${load('proxy')}
${load('proxy_http')}
${load('headers')}

SSLSessionCache shmcb:${run}/ssl_scache(512000)

${apacheSiteConfig(o)}`
}

// ---------------------------------------------------------------- Caddy

export function caddySiteConfig (o: CaddyConfigOptions): string {
  const upstreams = o.upstreams.map(hostPort).join(' ')
  const cas = o.caFiles.map(f => `            trusted_ca_cert_file ${safe(f)}`).join('\n')
  const bind = everyAddress(o) ? '' : `\n    bind ${safe(o.listenHost ?? '127.0.0.1')}\n`
  return tabify(`https://${serverName(o)}:${o.port} {${bind}
    # verify_if_given: ask for a client certificate but do not require one.
    # Certificates that fail verification abort the handshake.
    # One CA certificate per trusted_ca_cert_file (only the first PEM is read).
    tls ${safe(o.certFile)} ${safe(o.keyFile)} {
        client_auth {
            mode verify_if_given
${cas}
        }
    }

    # Without a client certificate the tls.client placeholders are unknown and
    # header_up would forward them literally ("{http.request.tls.client.subject}");
    # vars resolves unknown placeholders to "", so the headers arrive empty.
    vars {
        client_dn {http.request.tls.client.subject}
        client_cert {http.request.tls.client.certificate_der_base64}
    }

    reverse_proxy ${upstreams} {
        # header_up replaces any client-sent copy of these headers.
        header_up X-Client-Cert-Dn {vars.client_dn}
        header_up X-Client-Cert {vars.client_cert}
    }
}
`)
}

export function caddyConfig (o: CaddyConfigOptions): string {
  // admin off + auto_https off: nothing binds besides the site's own port.
  // Storage goes to $XDG_DATA_HOME, which the launcher points into runDir.
  return tabify(`{
    admin off
    auto_https off
    servers {
        protocols h1 h2
    }
}

`) + caddySiteConfig(o)
}
