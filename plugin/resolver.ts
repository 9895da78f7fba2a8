import type { FastifyRequest } from 'fastify'
import type { CertIdentity } from './identity'

export type FindUser = (identity: CertIdentity, request: FastifyRequest) => unknown
export type CreateUser = (identity: CertIdentity, request: FastifyRequest) => unknown

export interface ResolverOptions {
  findUser?: FindUser
  createUser?: CreateUser
  autoCreate: boolean
}

export type ResolveUser = (identity: CertIdentity, request: FastifyRequest) => Promise<unknown>

/**
 * The application user for an identity, or null. Without `findUser` the user is the identity's
 * plain `{ username, dn }`. With `autoCreate`, a missing user is created; concurrent first logins
 * of one user in this process share one creation, and when creation fails (another process won a
 * unique-constraint race) the user is looked up once more before the error stands.
 */
export function createResolver ({ findUser, createUser, autoCreate }: ResolverOptions): ResolveUser {
  if (findUser === undefined) {
    return async (identity) => ({ username: identity.username, dn: identity.dn })
  }
  const creating = new Map<string, Promise<unknown>>()

  async function create (identity: CertIdentity, request: FastifyRequest): Promise<unknown> {
    try {
      return await (createUser as CreateUser)(identity, request)
    } catch (error) {
      const existing = await (findUser as FindUser)(identity, request)
      if (existing != null) return existing
      throw error
    }
  }

  return async function resolveUser (identity, request) {
    const user = await findUser(identity, request)
    if (user != null || !autoCreate) return user ?? null
    let pending = creating.get(identity.username)
    if (pending === undefined) {
      pending = create(identity, request).finally(() => creating.delete(identity.username))
      creating.set(identity.username, pending)
    }
    return (await pending) ?? null
  }
}
