import type { FastifyRequest } from 'fastify'
import { callWithin } from './deadline'
import { FST_TLS_CERT_AUTH_BAD_USER, FST_TLS_CERT_AUTH_USER_TIMEOUT } from './errors'
import type { CertIdentity } from './identity'
import type { CreateUser, FindUser } from './options'

export interface ResolverOptions {
  findUser?: FindUser
  createUser?: CreateUser
  autoCreate: boolean
  /** Milliseconds a findUser or createUser call may take. */
  userTimeout: number
}

export type ResolveUser = (identity: CertIdentity, request: FastifyRequest) => Promise<unknown>

/**
 * The application user for an identity, or null. Without `findUser` the user is the identity's
 * plain `{ username, dn }`. With `autoCreate`, a missing user is created; concurrent first logins
 * of one user in this process share one creation, and when creation fails (another process won a
 * unique-constraint race) the user is looked up once more before the error stands. Each call is
 * bounded by `userTimeout`, and what it returns must be an object or nothing.
 */
export function createResolver ({ findUser, createUser, autoCreate, userTimeout }: ResolverOptions): ResolveUser {
  if (findUser === undefined) {
    return async (identity) => ({ username: identity.username, dn: identity.dn })
  }
  const find = findUser
  // The options guarantee createUser with autoCreate.
  const make = autoCreate ? createUser : undefined
  const creating = new Map<string, Promise<unknown>>()

  async function ask (name: 'findUser' | 'createUser', fn: FindUser, identity: CertIdentity, request: FastifyRequest): Promise<unknown> {
    const user = await callWithin(() => fn(identity, request), userTimeout, () => {
      request.log.error({ username: identity.username }, `client certificate login: ${name} did not answer within ${userTimeout} ms`)
      return new FST_TLS_CERT_AUTH_USER_TIMEOUT()
    })
    if (user != null && (typeof user !== 'object' || Array.isArray(user))) {
      request.log.error({ username: identity.username },
        `client certificate login: ${name} returned ${Array.isArray(user) ? 'an array' : `a ${typeof user}`}, not a user object or null`)
      throw new FST_TLS_CERT_AUTH_BAD_USER()
    }
    return user
  }

  async function create (make: CreateUser, identity: CertIdentity, request: FastifyRequest): Promise<unknown> {
    try {
      return await ask('createUser', make, identity, request)
    } catch (error) {
      const existing = await ask('findUser', find, identity, request)
      if (existing != null) return existing
      throw error
    }
  }

  return async function resolveUser (identity, request) {
    const user = await ask('findUser', find, identity, request)
    if (user != null || make === undefined) return user ?? null
    let pending = creating.get(identity.username)
    if (pending === undefined) {
      pending = create(make, identity, request).finally(() => creating.delete(identity.username))
      creating.set(identity.username, pending)
    }
    return (await pending) ?? null
  }
}
