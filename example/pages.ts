// The demo's HTML. Every value goes through the `html` tag, which escapes it unless it is itself
// `html`: a subject DN, a SAN or an error message can hold `<`, and none of them is ours.
import type tlsCertAuth from '../index'
import type { User } from './users'

const kMarkup = Symbol('markup')
export interface Markup { [kMarkup]: string }

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char])
}

function render (value: unknown): string {
  if (typeof value === 'object' && value !== null && kMarkup in value) return (value as Markup)[kMarkup]
  if (Array.isArray(value)) return value.map(render).join('')
  if (value === null || value === undefined || value === false) return ''
  return escapeHtml(String(value))
}

/** A template literal tag: the literal parts are markup, the interpolated values are escaped. */
export function html (strings: TemplateStringsArray, ...values: unknown[]): Markup {
  let text = strings[0]
  values.forEach((value, index) => { text += render(value) + strings[index + 1] })
  return { [kMarkup]: text }
}

/** What the TLS layer saw on this connection, whatever the plugin made of it. */
export type ConnectionCertificate =
  | { presented: false }
  | {
    presented: true
    /** Node verified it against the demo CA. */
    authorized: boolean
    /** Node's verification error code, when not authorized. */
    authorizationError: string | null
    subject: string
    issuer: string
    validTo: string
  }

/** Where the browser files are, as the terminal printed them. */
export interface DemoFiles {
  p12: string
  caCert: string
}

function page (title: string, body: Markup): string {
  return render(html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · fastify-tls-certificate-auth demo</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #222 }
  header { color: #666; border-bottom: 1px solid #ddd; padding-bottom: .5rem }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem }
  dt { font-weight: 600 }
  dd { margin: 0; overflow-wrap: anywhere }
  code { background: #f3f3f3; padding: 0 .2rem; overflow-wrap: anywhere }
  .ok { border-left: 4px solid #2a7; padding-left: .75rem }
  .problem { border-left: 4px solid #c33; padding-left: .75rem }
</style>
</head>
<body>
<header>fastify-tls-certificate-auth demo · <a href="/">Home</a> · <a href="/accounts/login/">Login page</a></header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`)
}

/** One `<dt>`/`<dd>` pair; `field` names the value for scripts such as the self-test. */
function row (label: string, value: unknown, field?: string): Markup {
  return html`<dt>${label}</dt><dd${field === undefined ? '' : html` data-field="${field}"`}>${value}</dd>`
}

function formatName (name: tlsCertAuth.DistinguishedName): string {
  return name.map((rdn) => rdn.map((attribute) => `${attribute.type}=${attribute.value}`).join(' + ')).join(', ')
}

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.4': 'emailProtection'
}

const logoutButton = html`<form method="post" action="/logout"><button type="submit">Log out</button></form>`

// Node's codes for the certificates TLS refuses, in words.
const TLS_ERRORS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'it was issued by a CA this server does not trust',
  UNABLE_TO_GET_ISSUER_CERT: 'it was issued by a CA this server does not trust',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'it was issued by a CA this server does not trust',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a root CA this server does not trust',
  CERT_HAS_EXPIRED: 'it has expired',
  CERT_NOT_YET_VALID: 'it is not valid yet',
  CERT_SIGNATURE_FAILURE: 'its signature does not verify',
  INVALID_PURPOSE: 'its extended key usage does not allow client authentication',
  CERT_REVOKED: 'it is revoked'
}

function presentedDetails (tls: ConnectionCertificate & { presented: true }): Markup {
  return html`<dl>
${row('Subject', tls.subject)}
${row('Issuer', tls.issuer)}
${row('Valid until', tls.validTo)}
${tls.authorizationError === null ? '' : row('TLS verification error', html`<code>${tls.authorizationError}</code>`, 'tls-error')}
</dl>`
}

function howToPresent (files: DemoFiles): Markup {
  return html`<p>To log in from this browser:</p>
<ol>
<li>Import <code>${files.p12}</code> into the browser's own certificates ("Your Certificates" in Firefox,
  "Manage certificates" in Chrome and Edge, Keychain Access on macOS). Its password is printed in the terminal
  running <code>npm start</code>, and saved next to it.</li>
<li>Trust <code>${files.caCert}</code> as a certificate authority for websites, or accept the browser's warning about
  this server's certificate.</li>
<li>Browsers remember their choice of certificate (and a refusal to choose one) for a while: after importing,
  restart the browser or use a private window, then come back to this page and pick the alice certificate.</li>
</ol>`
}

export function loginPage (tls: ConnectionCertificate, sessionUser: User | undefined, files: DemoFiles): string {
  let what: Markup
  if (!tls.presented) {
    what = html`<div class="problem">
<p>Your browser presented <b>no client certificate</b> on this connection. Without one the plugin does nothing,
and this route answers instead: a real application could show a password form here.</p>
</div>
${howToPresent(files)}`
  } else if (!tls.authorized) {
    const why = tls.authorizationError === null ? undefined : TLS_ERRORS[tls.authorizationError]
    what = html`<div class="problem">
<p>Your browser presented a certificate, but <b>TLS did not verify it</b>${why === undefined ? '' : html`: ${why}`}.
With <code>source: 'tls'</code> the plugin only believes certificates Node verified, so it ignored this one.</p>
</div>
${presentedDetails(tls)}
<p>Only certificates issued by the demo CA are trusted. If the dev PKI was made again, import the new
<code>${files.p12}</code>.</p>`
  } else {
    // The plugin's login hook runs before this route: a verified certificate either logs in and
    // redirects, or is refused with an error page. Reaching here with one means neither happened.
    what = html`<p>Your browser presented a certificate that TLS verified, yet no login happened.</p>
${presentedDetails(tls)}`
  }

  return page('Log in', html`${sessionUser === undefined
    ? ''
    : html`<div class="ok"><p>You are already logged in as <b>${sessionUser.username}</b>, by your session cookie.
<a href="/">Go to the home page</a></p>
${logoutButton}</div>`}
<h2>What happened</h2>
${what}
<h2>How the login works</h2>
<p>This page is the plugin's login URL. When the browser presents a certificate the dev CA issued, the plugin
reads the user name from it (its CN), finds that user in the SQLite database or creates it, stores it in a fresh
session and redirects to the home page: you never see this page.</p>`)
}

export function homePage (user: User, identity: tlsCertAuth.CertIdentity | null): string {
  const certificate = identity === null
    ? html`<p>This connection presented no trusted certificate. You stay logged in by the session cookie alone.</p>`
    : html`<dl>
${row('User name', identity.username, 'cert-username')}
${row('Subject', identity.dn, 'cert-subject')}
${row('Issuer', identity.issuer === null ? 'unknown' : formatName(identity.issuer))}
${row('Serial number', identity.serialNumber)}
${row('SHA-256 fingerprint', identity.fingerprint256)}
${row('Valid from', identity.validFrom?.toISOString())}
${row('Valid to', identity.validTo?.toISOString())}
${row('Subject alternative names', identity.subjectAltNames.map((name) => `${name.type}:${name.value}`).join(', ') || 'none')}
${row('Extended key usage', identity.extKeyUsage?.map((oid) => EKU_NAMES[oid] ?? oid).join(', ') ?? 'none')}
${row('Read from', identity.source)}
</dl>`

  return page(`Hello, ${user.username}`, html`<h2>Session user</h2>
<p>Read from the session, where the certificate login put the row from the users table.</p>
<dl id="session-user">
${row('Id', user.id, 'session-id')}
${row('User name', user.username, 'session-username')}
${row('Created', user.createdAt, 'session-created')}
</dl>
<h2>Certificate on this connection</h2>
<p><code>request.certUser</code>, worked out from the TLS connection on every request.</p>
${certificate}
<p>Logging out ends the session. The browser keeps presenting the certificate, so the login page logs you straight
back in.</p>
${logoutButton}`)
}

// What each refusal means in this demo, beyond the error's own message.
const REFUSAL_HINTS: Record<string, string> = {
  FST_TLS_CERT_AUTH_EKU_NOT_ACCEPTED: 'The demo sets accept.requireClientAuthEku: a certificate must carry the ' +
    'clientAuth extended key usage (1.3.6.1.5.5.7.3.2) to log in.',
  FST_TLS_CERT_AUTH_NOT_VALID_NOW: 'The demo sets accept.checkValidity: the certificate must be within its validity period.',
  FST_TLS_CERT_AUTH_NO_IDENTITY: 'The certificate verified, but no user name could be read from it: the demo uses its ' +
    'single CN.',
  FST_TLS_CERT_AUTH_USER_NOT_FOUND: 'No user matches the certificate, and none could be created.'
}

export function refusedPage (statusCode: number, code: string, message: string, tls: ConnectionCertificate): string {
  return page('Certificate refused', html`<div class="problem">
<p>The plugin refused the login with <b>${statusCode}</b>:</p>
<dl>
${row('Code', html`<code>${code}</code>`, 'error-code')}
${row('Message', message, 'error-message')}
</dl>
<p>${REFUSAL_HINTS[code] ?? 'The server log says why.'}</p>
</div>
${tls.presented ? html`<h2>The certificate presented</h2>${presentedDetails(tls)}` : ''}`)
}

export function logoutPage (loggedIn: boolean): string {
  return page('Log out', loggedIn
    ? logoutButton
    : html`<p>You are not logged in. <a href="/accounts/login/">Log in</a></p>`)
}

export function loggedOutPage (): string {
  return page('Logged out', html`<p class="ok">Your session has ended.</p>
<p>Your browser still presents its certificate, so the <a href="/accounts/login/">login page</a> logs you in again.</p>`)
}
