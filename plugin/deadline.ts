// Deadlines for calls that may wait on I/O (user stores, session stores). One sweeping timer
// serves them all, instead of a timer made and cleared per call on the login path.

interface Pending { expires: number, expire: () => void }

const pending = new Set<Pending>()
let sweeper: NodeJS.Timeout | undefined
// How often the sweeper looks: the bound holds to within this much.
const SWEEP_MS = 25

function sweep (): void {
  const now = Date.now()
  for (const entry of pending) {
    if (entry.expires <= now) {
      pending.delete(entry)
      entry.expire()
    }
  }
  if (pending.size === 0) {
    clearInterval(sweeper)
    sweeper = undefined
  }
}

/** The work's outcome, or `timedOut()` thrown once `ms` pass first: a store that never answers is an answer. */
export function withDeadline<T> (work: PromiseLike<T>, ms: number, timedOut: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const entry: Pending = { expires: Date.now() + ms, expire: () => { reject(timedOut()) } }
    pending.add(entry)
    // Kept referenced while anything waits: a pending deadline is work the process still has to do.
    sweeper ??= setInterval(sweep, SWEEP_MS)
    work.then((value) => {
      pending.delete(entry)
      resolve(value)
    }, (error: unknown) => {
      pending.delete(entry)
      reject(error)
    })
  })
}

export const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as { then?: unknown } | null)?.then === 'function'

/**
 * `call()`'s answer; a promise it returns must settle within `ms` (see withDeadline). A plain value,
 * or a throw, is already an answer: it goes back as it is, with no deadline and no promise made.
 */
export function callWithin<T> (call: () => T | PromiseLike<T>, ms: number, timedOut: () => Error): T | Promise<T> {
  const answer = call()
  return isThenable(answer) ? withDeadline(answer as PromiseLike<T>, ms, timedOut) : answer as T
}
