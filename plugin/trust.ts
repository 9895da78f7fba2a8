import proxyAddr from 'proxy-addr'
import { invalid } from './option-values'

/**
 * Which peers may speak for a client: proxy-addr's syntax, a list, or a function of the address
 * (undefined for a peer on a Unix socket, which only a function can trust).
 */
export type TrustedProxies = string | string[] | ((address: string | undefined) => boolean)

export type TrustCheck = (address: string | undefined) => boolean

/** Compile the option once, at registration; throws on an address or range proxy-addr cannot read. */
export function compileTrust (trusted: TrustedProxies): TrustCheck {
  if (typeof trusted === 'function') {
    return (address) => trusted(address) === true
  }
  // As Fastify's trustProxy: a string is a comma-separated list of addresses, ranges and names.
  const list = typeof trusted === 'string' ? trusted.split(',').map((part) => part.trim()) : trusted
  const matches = proxyAddr.compile(list)
  // The second argument is the hop index; 0 is the peer on the socket, the one we ask about.
  // A socket that has already closed has no address: not trusted (proxy-addr answers false too).
  return (address) => address !== undefined && matches(address, 0)
}

/** What the user probably meant by a trustedProxies entry that proxy-addr cannot read. */
function trustHint (value: string | string[]): string {
  for (const entry of (typeof value === 'string' ? value.split(',') : value).map((part) => String(part).trim())) {
    if (entry.toLowerCase() === 'localhost') return ' (did you mean "loopback"?)'
    // Stryker disable next-line Regex: a URL's hostname has brackets only around an IPv6 address, at both ends
    const host = URL.canParse(entry) ? new URL(entry).hostname.replace(/^\[|\]$/g, '') : ''
    if (host !== '') return ` (did you mean ${JSON.stringify(host)}? trustedProxies takes addresses and ranges, not URLs)`
  }
  return ''
}

/**
 * The `trustedProxies` option: loopback unless named (a LAN host, a container or a pod is no proxy
 * of ours until the application says so). An empty list, which no certificate could ever pass, is
 * refused; an entry proxy-addr cannot read gets a hint.
 */
export function readTrust (value: TrustedProxies | undefined): TrustCheck {
  if (value === undefined || typeof value === 'function') return compileTrust(value ?? 'loopback')
  if (typeof value !== 'string' && !Array.isArray(value)) invalid('trustedProxies', 'expected addresses and ranges, a list of them, or a function')
  if (value.length === 0) invalid('trustedProxies', 'an empty list trusts no peer, so no certificate could ever arrive; leave it out to trust loopback')
  try {
    return compileTrust(value)
  } catch (error) {
    return invalid('trustedProxies', (error as Error).message + trustHint(value))
  }
}
