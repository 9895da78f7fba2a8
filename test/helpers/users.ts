import Database from 'better-sqlite3'
import { setImmediate as tick } from 'node:timers/promises'
import type tlsCertAuth from '../../index'

export interface User { id: number, username: string }

/**
 * A real SQLite user table with a unique username, behind async functions that yield between
 * statements the way a networked database driver would, so that concurrent logins interleave.
 */
export function userStore (db = new Database(':memory:')) {
  db.exec('CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE)')
  const select = db.prepare<[string], User>('SELECT id, username FROM users WHERE username = ?')
  const insert = db.prepare<[string], User>('INSERT INTO users (username) VALUES (?) RETURNING id, username')
  const counts = { find: 0, create: 0, createFailed: 0 }
  return {
    db,
    counts,
    count: () => (db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n,
    findUser: async (identity: tlsCertAuth.CertIdentity): Promise<User | null> => {
      counts.find++
      await tick()
      return select.get(identity.username) ?? null
    },
    createUser: async (identity: tlsCertAuth.CertIdentity): Promise<User> => {
      counts.create++
      await tick()
      try {
        return insert.get(identity.username) as User
      } catch (error) {
        counts.createFailed++
        throw error
      }
    }
  }
}
