/** The work's outcome, or `timedOut()` thrown once `ms` pass first: a store that never answers is an answer. */
export async function withDeadline<T> (work: PromiseLike<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(timedOut()), ms)
  })
  try {
    return await Promise.race([work, deadline])
  } finally {
    clearTimeout(timer)
  }
}
