import type { Test } from 'tap'

type Refused = (t: Test, fn: () => unknown, message: string, what: string) => void

/**
 * An assertion that a call refuses as the plugin logs it: with this error class and exactly this
 * message (tap's `t.throws` and `t.rejects` match a string message as a substring only).
 */
export function refusalsOf (errorClass: new (...args: never[]) => Error): Refused {
  return (t, fn, message, what) => {
    const error = t.throws(fn, errorClass, `${what}: ${errorClass.name}`)
    t.equal(error instanceof Error ? error.message : error, message, `${what}: ${message}`)
  }
}

/** A pattern that matches `text` whole: for `t.rejects`, where a string would match a part of the message. */
export const exactly = (text: string): RegExp => new RegExp('^' + text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$')
