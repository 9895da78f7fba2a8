/** Edit distance with transpositions (optimal string alignment), case-insensitive. */
export function distance (a: string, b: string): number {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  // Stryker disable next-line ArrayDeclaration: read only from the second row on, once it holds the first
  let before: number[] = []
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j)
  for (let i = 1; i <= x.length; i++) {
    const current = [i]
    for (let j = 1; j <= y.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1))
      // A transposition; at the first character x[-1] or y[-1] is undefined, equal to no character.
      if (x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) current[j] = Math.min(current[j], before[j - 2] + 1)
    }
    before = previous
    previous = current
  }
  return previous[y.length]
}

/** ` (did you mean "x"?)` for the closest of `known` to a misspelt `name`, or nothing when none is close. */
export function didYouMean (name: string, known: Iterable<string>): string {
  let best: string | null = null
  // A third of the length: `trustedProxy` finds `trustedProxies`, `foo` finds nothing.
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1
  for (const candidate of known) {
    const d = distance(name, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best === null ? '' : ` (did you mean ${JSON.stringify(best)}?)`
}
