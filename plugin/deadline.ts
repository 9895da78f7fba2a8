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
export async function withDeadline<T> (work: PromiseLike<T>, ms: number, timedOut: () => Error): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    const entry: Pending = { expires: Date.now() + ms, expire: () => reject(timedOut()) }
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
