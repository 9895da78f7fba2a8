// What the load tests and their app processes (./server.ts) say to each other over IPC.

export interface ServerArgs {
  /** Reported by /whoami and an `x-instance` header. */
  instance: string
  /** Sessions in this Redis (connect-redis), shared by every instance; else in-process memory. */
  redisUrl?: string
  /**
   * Users: either `count` fixed users `user000`... in memory (findUser only), or a SQLite file
   * (test/helpers/users.ts: findUser, createUser and autoCreate) shared by every instance.
   */
  users: { kind: 'fixed', count: number } | { kind: 'sqlite', file: string, latencyMs: number }
}

export interface User { id: number, username: string }

/** What /whoami answers: the user the session holds, and the certificate of this very request. */
export interface Whoami {
  instance: string
  user: User | null
  certUser: string | null
}

export type ToServer =
  | { id: number, type: 'heap', gc: boolean }
  | { id: number, type: 'stats' }

export interface HeapSample {
  heapUsed: number
  rss: number
  /** Bytes used in each V8 heap space (old_space, code_space, ...). */
  spaces: Record<string, number>
}

export interface ServerStats {
  /** Log lines at warn level or above, by level name, and the last few of them. */
  warnings: number
  errors: number
  lastLines: string[]
  /** CPU time the process has used so far, user and system, in microseconds. */
  cpuMicros: number
  /** The SQLite store's calls (zero for fixed users) and its rows. */
  users: { rows: number, find: number, create: number, createFailed: number }
}

export type FromServer =
  | { type: 'listening', port: number }
  | ({ id: number, type: 'heap' } & HeapSample)
  | ({ id: number, type: 'stats' } & ServerStats)
