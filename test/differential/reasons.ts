// The reasons the plugin logs when it refuses a certificate ('client certificate refused',
// field `reason`), each matched to one documented class. README.md beside this file has the same
// classes in its table, with what each means; the test checks that every class is there.

export interface ReasonClass {
  /** The class's name, as the table in README.md writes it. */
  name: string
  pattern: RegExp
}

export const REASON_CLASSES: ReasonClass[] = [
  { name: 'no CN', pattern: /expected exactly one CN in the subject, found 0$/ },
  { name: 'several CNs', pattern: /expected exactly one CN in the subject, found ([2-9]|\d\d+)$/ },
  { name: 'empty CN', pattern: /^the CN in the subject is empty$/ },
  { name: 'control character', pattern: /^the CN in the subject holds a control character$/ },
  { name: 'slash form: no certificate', pattern: /^a DN in OpenSSL's slash form with no certificate to check it: / },
  { name: 'slash form: backslash', pattern: /a backslash in the slash form/ },
  { name: 'slash form: syntax', pattern: /NUL in value|expected = in |trailing [/+] in |empty legacy DN|a legacy DN starts with \// },
  { name: 'ambiguous attribute type', pattern: /ambiguous attribute type/ },
  { name: 'bad attribute type', pattern: /bad attribute type/ },
  { name: 'DN syntax', pattern: /unescaped|bad escape|expected = after|expected , or \+|trailing ,|bad #hex value/ },
  { name: 'BER value in the DN', pattern: /bad BER value|BER length does not match/ },
  { name: 'escaped bytes not UTF-8', pattern: /escaped bytes are not UTF-8/ },
  { name: 'DN and certificate disagree', pattern: /the subject DN header and the forwarded certificate disagree/ },
  { name: 'certificate unreadable', pattern: /^unreadable certificate or DN: (?!Malformed distinguished name)/ },
  { name: 'certificate header unreadable', pattern: /^unreadable certificate header/ },
  { name: 'no subject', pattern: /neither a certificate nor a subject DN|verified, but no certificate or subject header/ }
]

/** The class of a logged reason, or null for a reason no class documents (a test failure). */
export function classify (reason: string): string | null {
  // The DN parser's own reasons come wrapped: `unreadable certificate or DN: Malformed distinguished name: …`.
  return REASON_CLASSES.find(({ pattern }) => pattern.test(reason))?.name ?? null
}
