import type { Config } from '../options'
import { customSource } from './custom'
import { headerSource } from './headers'
import { tlsSource } from './tls'
import type { CertificateSource } from './types'

/** Where certificates come from: a proxy's headers, Node's own TLS socket, or the application's function. */
export function createSource (config: Config): CertificateSource {
  if (config.source === 'headers') return headerSource(config)
  return config.source === 'tls' ? tlsSource() : customSource(config.source)
}
