import proxyAddr from 'proxy-addr'

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
  return (address) => address !== undefined && matches(address, 0)
}
