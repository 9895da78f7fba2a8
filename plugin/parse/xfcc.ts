// Envoy's x-forwarded-client-cert: elements separated by `,` (one per proxy, each appended by the
// proxy it names), pairs by `;`, `key=value`, values double-quoted when they hold `,;=`, and `\"`
// for a quote inside quotes. Parsed by that grammar, so a quoted Subject cannot smuggle a `Cert=`.

export class XfccError extends Error {
  override name = 'XfccError'
}

/** Which element of a multi-hop XFCC header to read: the one the nearest proxy added, or the first. */
export const XFCC_ELEMENTS = ['last', 'first'] as const
export type XfccElementChoice = typeof XFCC_ELEMENTS[number]

export type XfccElement = Map<string, string[]>

export function parseXfcc (header: string): XfccElement[] {
  const elements: XfccElement[] = []
  let element: XfccElement = new Map()
  let pos = 0
  const length = header.length
  for (;;) {
    const equals = header.indexOf('=', pos)
    if (equals === -1) throw new XfccError('expected key=value')
    const key = header.slice(pos, equals).trim().toLowerCase()
    if (!/^[a-z]+$/.test(key)) throw new XfccError('bad key')
    pos = equals + 1
    let value = ''
    if (header[pos] === '"') {
      // Copy the runs between escaped quotes whole: a Cert value is a kilobyte or more.
      let start = ++pos
      for (;;) {
        const quote = header.indexOf('"', pos)
        if (quote === -1) throw new XfccError('unterminated quoted value')
        if (header[quote - 1] === '\\') {
          value += header.slice(start, quote - 1) + '"'
          start = pos = quote + 1
          continue
        }
        value += header.slice(start, quote)
        pos = quote + 1
        break
      }
    } else {
      const start = pos
      while (pos < length && header[pos] !== ';' && header[pos] !== ',') pos++
      value = header.slice(start, pos)
      if (value.includes('"')) throw new XfccError('quote inside an unquoted value')
    }
    const values = element.get(key)
    if (values === undefined) element.set(key, [value])
    else values.push(value)

    // Stryker disable next-line ConditionalExpression,EqualityOperator: header[length] is undefined, never a space
    while (pos < length && header[pos] === ' ') pos++
    if (pos === length) break
    const separator = header[pos++]
    if (separator === ',') {
      elements.push(element)
      element = new Map()
    } else if (separator !== ';') {
      throw new XfccError('expected ; or , after a value')
    }
  }
  elements.push(element)
  return elements
}

/** The single value of a key that may appear at most once, or undefined. */
export function single (element: XfccElement, key: string): string | undefined {
  const values = element.get(key)
  if (values !== undefined && values.length > 1) throw new XfccError(`${key} appears more than once`)
  return values?.[0]
}
