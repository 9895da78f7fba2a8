import { FST_TLS_CERT_AUTH_BAD_OPTION } from './errors'

/** Registration fails here, naming the option and what is wrong with it. */
export function invalid (name: string, why: string): never {
  throw new FST_TLS_CERT_AUTH_BAD_OPTION(`${name}: ${why}`)
}

/** The value, checked against its `typeof`, or the fallback when it is not given. */
export function optional<T> (value: T | undefined, fallback: T, name: string, type: string): T {
  if (value === undefined) return fallback
  // eslint-disable-next-line valid-typeof
  if (typeof value !== type) invalid(name, `expected ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`)
  return value
}

/** One of a closed set of values (each set is an `as const` array beside the code that uses it). */
export function oneOf<T extends string> (value: unknown, values: readonly T[], name: string): T {
  if (!(values as readonly unknown[]).includes(value)) invalid(name, `expected one of ${values.join(', ')}`)
  return value as T // just checked to be one of them
}
