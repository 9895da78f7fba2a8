// The IPC messages between the benchmark and a server process. The side channel carries the
// server's CPU time and heap, so that reading them adds no route and no request to what is measured.

import type { ContenderName, TlsServerFiles } from './apps'

export interface ServerArgs {
  contender: ContenderName
  tls?: TlsServerFiles
}

export type ToServer =
  | { type: 'cpu' }
  /** Empty the session store, collect garbage, report the heap. */
  | { type: 'heap' }
  /** Start V8's sampling profiler (bench:profile), or stop it and send the profile. */
  | { type: 'profile-start' }
  | { type: 'profile-stop' }

export type FromServer =
  | { type: 'listening', port: number }
  /** process.cpuUsage(), user + system, every thread of the process. */
  | { type: 'cpu', micros: number }
  | { type: 'heap', bytes: number }
  | { type: 'profile-start' }
  /** A V8 CPU profile (`.cpuprofile` JSON). */
  | { type: 'profile-stop', profile: CpuProfile }

export interface CpuProfile {
  nodes: Array<{ id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }>
  samples: number[]
  timeDeltas: number[]
}
