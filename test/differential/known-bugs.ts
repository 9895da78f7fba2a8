// Wrong usernames the differential test has found and reported (README.md beside this file,
// "Findings"), each matched by what causes it. Each shows as a tap `todo` (printed, counted, not
// failing) until the plugin refuses these certificates; a wrong username that no entry explains
// fails the test. Delete an entry once the plugin no longer gives such names: the test then holds it.
//
// Both are limits of the slash form that the main README now documents (Presets, "The slash
// form"): the `nginx-legacy` preset with only a DN still logs these users in under a name that is
// not their certificate's CN.

import type { Expected } from './oracle'

export interface KnownBug {
  name: string
  /** Whether this bug explains `username` for this certificate on this path. */
  applies: (path: string, expected: Expected, username: string) => boolean
}

export const KNOWN_BUGS: KnownBug[] = [
  {
    // OpenSSL's X509_NAME_oneline writes the content bytes of any value, string or not: a CN that
    // is a BIT STRING `00 'root'` is `/CN=root`, where RFC 2253 and the DER say `#030500726F6F74`.
    name: 'slash form: a CN that is no string reads as its content bytes',
    applies: (path, expected) => path === 'nginx-legacy' && expected.kind === 'username' && expected.hex
  },
  {
    // The slash form has no escape for a trailing space, and Node trims the header value: a CN
    // `admin ` that ends the DN arrives as `admin`.
    name: 'slash form: Node trims the spaces a CN ending the DN ends in',
    applies: (path, expected, username) => path === 'nginx-legacy' && expected.kind === 'username' &&
      / $/.test(expected.username) && username === expected.username.replace(/ +$/, '')
  }
]
