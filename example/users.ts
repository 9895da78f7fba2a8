import Database from 'better-sqlite3'

export interface User {
  id: number
  username: string
  /** ISO 8601, UTC. */
  createdAt: string
}

// What the session keeps after a certificate login: the row createUser or findUser returned.
declare module 'fastify' {
  interface Session {
    user?: User
  }
}

export interface UserStore {
  findByUsername: (username: string) => User | null
  create: (username: string) => User
  close: () => void
}

const COLUMNS = 'id, username, created_at AS createdAt'

/** The demo's users, in an SQLite file: created on first open, kept across runs. */
export function openUserStore (file: string): UserStore {
  const db = new Database(file)
  // WAL lets a second demo process (npm start -- --self-test) use the file while the first runs.
  db.pragma('journal_mode = WAL')
  db.exec(`CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT UNIQUE NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
  )`)
  const byUsername = db.prepare<[string], User>(`SELECT ${COLUMNS} FROM users WHERE username = ?`)
  // A plain INSERT, not INSERT OR IGNORE: when two first logins race, the loser's UNIQUE error
  // makes the plugin look the user up once more and find the winner's row.
  const insert = db.prepare<[string], User>(`INSERT INTO users (username) VALUES (?) RETURNING ${COLUMNS}`)
  return {
    findByUsername: (username) => byUsername.get(username) ?? null,
    create: (username) => insert.get(username) as User,
    close: () => db.close()
  }
}
