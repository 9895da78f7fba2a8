// "Did you mean": the closest known name by edit distance with transpositions, case aside.

import { test } from 'tap'
import { didYouMean, distance } from '../plugin/suggest'

test('edit distance counts insertions, deletions, substitutions and swaps of neighbours, case aside', async (t) => {
  const cases: Array<[string, string, number]> = [
    ['', '', 0],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['loginUrl', 'LOGINURL', 0],
    ['kitten', 'sitting', 3],
    ['ab', 'ba', 1],
    ['abcd', 'badc', 2],
    ['abcd', 'acbd', 1],
    ['ca', 'abc', 3], // optimal string alignment: no edit of a swapped pair
    ['trustedProxy', 'trustedProxies', 3],
    ['abcdef', 'abcdfe', 1],
    ['xabcdef', 'abcdef', 1]
  ]
  for (const [a, b, expected] of cases) {
    t.equal(distance(a, b), expected, `${JSON.stringify(a)} → ${JSON.stringify(b)}`)
    t.equal(distance(b, a), expected, `${JSON.stringify(b)} → ${JSON.stringify(a)}`)
  }
})

test('didYouMean names the closest known name within a third of the length (at least 2), or nothing', async (t) => {
  t.equal(didYouMean('ab', ['xx', 'ba']), ' (did you mean "ba"?)', 'a swap is one edit: closer than two substitutions')
  t.equal(didYouMean('ab', ['xx', 'yy']), ' (did you mean "xx"?)', 'a tie keeps the first')
  t.equal(didYouMean('trustedProxy', ['loginUrl', 'trustedProxies']), ' (did you mean "trustedProxies"?)')
  t.equal(didYouMean('foo', ['trustedProxies', 'loginUrl']), '')
  t.equal(didYouMean('abc', ['xyz']), '', 'three edits for three letters: too far')
  t.equal(didYouMean('abc', ['xyc']), ' (did you mean "xyc"?)', 'two edits: close enough')
  t.equal(didYouMean('abcdefghijkl', ['wxyzefghijkl']), ' (did you mean "wxyzefghijkl"?)', 'twelve letters: four edits are close enough')
  t.equal(didYouMean('abcdefghijkl', ['vwxyzfghijkl']), '', 'twelve letters: five edits are not')
  t.equal(didYouMean('x', []), '')
})
