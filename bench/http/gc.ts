/** `gc()` of a process started with --expose-gc, collected twice so that weak references clear too. */
export function collectGarbage (): void {
  const { gc } = globalThis as { gc?: () => void }
  if (gc === undefined) throw new Error('start this process with --expose-gc')
  gc()
  gc()
}
