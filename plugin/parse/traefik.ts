// Traefik's X-Forwarded-Tls-Client-Cert-Info: query-escaped `Subject="…";Issuer="…";…` per
// certificate, leaf first, certificates separated by `,`. Traefik escapes nothing inside the
// quotes, so the structure itself is the only defence: one certificate only, fields in Traefik's
// order, once each, and the Issuer after the Subject. A quote smuggled into a Subject then shows up
// as a duplicate, out-of-order or trailing field. Inside the Subject Traefik writes DC, C, ST, L,
// O, OU, SN, CN in that order, unescaped: only a CN that appears once, last, can be read. Even so
// a CA that signs an O of `x,CN=admin` without a CN defeats it: the header is opt-in.

export class TraefikInfoError extends Error {
  override name = 'TraefikInfoError'
}

const FIELD_ORDER = ['Subject', 'Issuer', 'SerialNumber', 'NB', 'NA', 'SAN']

/** The fields of the header's only certificate. */
function leafFields (text: string): Map<string, string> {
  const fields = new Map<string, string>()
  let pos = 0
  let last = -1
  for (;;) {
    const match = /^([A-Za-z]+)="/.exec(text.slice(pos, pos + 20))
    if (match === null) throw new TraefikInfoError('expected Key="value"')
    const order = FIELD_ORDER.indexOf(match[1])
    if (order <= last) throw new TraefikInfoError(`unexpected field ${match[1]}`)
    last = order
    const start = pos + match[0].length
    const end = text.indexOf('"', start)
    if (end === -1) throw new TraefikInfoError('unterminated value')
    fields.set(match[1], text.slice(start, end))
    pos = end + 1
    if (pos === text.length) return fields
    // A second certificate would follow a `,`; a CN of `admin";Issuer="x",` makes one up. Only a
    // header that describes the leaf alone is read.
    if (text[pos] !== ';') throw new TraefikInfoError('expected ; after a value, and one certificate only')
    pos++
  }
}

/** The CN of the leaf certificate, from the Info header. */
export function traefikInfoCn (header: string): string {
  let text: string
  try {
    text = decodeURIComponent(header.replaceAll('+', ' '))
  } catch {
    throw new TraefikInfoError('bad escaping')
  }
  const fields = leafFields(text)
  const subject = fields.get('Subject')
  if (subject === undefined || !fields.has('Issuer')) {
    throw new TraefikInfoError('the Info header needs the Subject and Issuer fields')
  }
  const markers = [...subject.matchAll(/(?:^|,)CN=/g)]
  if (markers.length !== 1) throw new TraefikInfoError(`expected one CN in the Subject, found ${markers.length}`)
  const marker = markers[0]
  return subject.slice(marker.index + marker[0].length)
}
