// The deadlines on user-store and session-store calls: one sweeping timer that exists only while
// a deadline is pending, so that an idle app holds no timer and a settled call leaves none behind.
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'tap'
import { callWithin, isThenable, withDeadline } from '../plugin/deadline'

const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length
const late = (): Error => new Error('too late')
const never = new Promise<never>(() => {})

test('a deadline gives the work\'s value or error, or the timeout\'s error once the time has passed', async (t) => {
  t.equal(await withDeadline(Promise.resolve('value'), 1000, late), 'value')
  await t.rejects(withDeadline(Promise.reject(new Error('store down')), 1000, late), new Error('store down'))
  const started = Date.now()
  await t.rejects(withDeadline(never, 30, late), new Error('too late'))
  const took = Date.now() - started
  t.ok(took >= 30 && took < 30 + 25 + 200, `a 30 ms deadline answered after ${took} ms: not before, and within a sweep`)
  const slow = withDeadline(sleep(60).then(() => 'slow'), 1000, late)
  t.equal(await slow, 'slow', 'work that ends before its deadline is not cut short')
})

test('the sweeping timer runs only while a deadline is pending', async (t) => {
  await sleep(60) // any sweep of an earlier test has ended
  const idle = timers()
  const answered = withDeadline(sleep(10).then(() => 1), 10_000, late)
  const waiting = withDeadline(never, 40, late).catch((error: Error) => error.message)
  t.equal(timers(), idle + 2, 'one sweeper for both deadlines, beside the work\'s own timer')
  await answered
  t.equal(await waiting, 'too late')
  await sleep(60)
  t.equal(timers(), idle, 'a settled deadline leaves no timer, even 10 s before it would have expired')
})

test('callWithin: a plain answer or a throw comes back as it is; a promise gets the deadline', async (t) => {
  t.equal(callWithin(() => 'user', 10, late), 'user', 'no promise made')
  t.throws(() => callWithin(() => { throw new Error('bad lookup') }, 10, late), new Error('bad lookup'), 'thrown where it was called')
  const pending = callWithin(() => never, 20, late)
  t.ok(isThenable(pending))
  await t.rejects(pending as Promise<never>, new Error('too late'))
  t.equal(await callWithin(async () => 'async user', 1000, late), 'async user')
})

test('isThenable: anything with a then method, and nothing else', async (t) => {
  for (const value of [Promise.resolve(1), { then () {} }, Object.assign(() => {}, { then () {} })]) t.ok(isThenable(value))
  for (const value of [null, undefined, 0, 'then', {}, { then: 'not a function' }, [] as unknown]) t.notOk(isThenable(value), String(value))
})
