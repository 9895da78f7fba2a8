import { FST_TLS_CERT_AUTH_NO_IDENTITY } from './errors'

/** A coded error class of errors.ts: what the client is answered when the reason is logged. */
export type ErrorClass = new () => Error

/**
 * The one way every step says "yes, or why not": sources, the identity, username rules and the
 * policy. `absent` is no certificate at all (the request goes on as anonymous); `refused` is a
 * certificate that gives no identity, with the reason for the log and the error for the client.
 */
export type Result<T> =
  | { status: 'absent' }
  | Refused
  | { status: 'ok', value: T }

export interface Refused {
  status: 'refused'
  reason: string
  ErrorType: ErrorClass
}

export const ABSENT: Result<never> = { status: 'absent' }

export function ok<T> (value: T): Result<T> {
  return { status: 'ok', value }
}

export function refuse (reason: string, ErrorType: ErrorClass = FST_TLS_CERT_AUTH_NO_IDENTITY): Refused {
  return { status: 'refused', reason, ErrorType }
}
