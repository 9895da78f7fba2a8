// A small seeded generator (sfc32): the same seed gives the same certificates on every machine.

export class Random {
  #a: number
  #b: number
  #c: number
  #d: number

  constructor (seed: number) {
    this.#a = 0x9e3779b9
    this.#b = 0x243f6a88
    this.#c = 0xb7e15162
    this.#d = seed >>> 0
    for (let i = 0; i < 15; i++) this.next()
  }

  /** A uniform 32-bit unsigned integer. */
  next (): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0
    this.#d = (this.#d + 1) >>> 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) >>> 0
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0
    this.#c = (this.#c + t) >>> 0
    return t
  }

  /** A float in [0, 1). */
  float (): number {
    return this.next() / 0x100000000
  }

  /** An integer in [min, max]. */
  int (min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1))
  }

  /** True with probability p. */
  chance (p: number): boolean {
    return this.float() < p
  }

  pick<T> (items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]
  }

  /** One of the keys, drawn in proportion to its weight. */
  weighted<K extends string> (weights: Record<K, number>): K {
    const entries = Object.entries(weights) as Array<[K, number]>
    let rest = this.float() * entries.reduce((sum, [, weight]) => sum + weight, 0)
    for (const [key, weight] of entries) {
      rest -= weight
      if (rest < 0) return key
    }
    return entries[entries.length - 1][0]
  }

  shuffle<T> (items: readonly T[]): T[] {
    const copy = [...items]
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      ;[copy[i], copy[j]] = [copy[j], copy[i]]
    }
    return copy
  }
}

/** The seed from `SEED` (a number, or any text hashed to one), else the fallback. */
export function seedFrom (text: string | undefined, fallback: () => number): number {
  if (text === undefined || text.trim() === '') return fallback() >>> 0
  if (/^\d+$/.test(text.trim())) return Number(BigInt(text.trim()) & 0xffffffffn)
  let hash = 0x811c9dc5 // FNV-1a
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0
  return hash
}
