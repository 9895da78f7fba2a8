import proxyAddr from 'proxy-addr'

/** Which peers may speak for a client: proxy-addr's syntax, a list, or a function of the address. */
export type TrustedProxies = string | string[] | ((address: string) => boolean)

export type TrustCheck = (address: string | undefined) => boolean

/** Compile the option once, at registration; throws on an address or range proxy-addr cannot read. */
export function compileTrust (trusted: TrustedProxies): TrustCheck {
  if (typeof trusted === 'function') {
    return (address) => address !== undefined && trusted(address) === true
  }
  // As Fastify's trustProxy: a string is a comma-separated list of addresses, ranges and names.
  const list = typeof trusted === 'string' ? trusted.split(',').map((part) => part.trim()) : trusted
  const matches = proxyAddr.compile(list)
  // The second argument is the hop index; 0 is the peer on the socket, the one we ask about.
  return (address) => address !== undefined && matches(address, 0)
}
