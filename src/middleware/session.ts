/**
 * The session a query belongs to, carried through async calls (AsyncLocalStorage).
 */

import { AsyncLocalStorage } from 'node:async_hooks'

/** The user session a query belongs to. */
export interface SessionContext {
  sessionId: string
  userId?: string
}

/**
 * Carries the current session through async calls. One instance per extension, so two
 * extended clients never see each other's sessions.
 */
export class Sessions {
  private readonly storage = new AsyncLocalStorage<SessionContext>()

  current(): SessionContext | undefined {
    return this.storage.getStore()
  }

  /** Runs `fn(...args)` in session `context` (arguments rather than a closure, on hot paths). */
  run<T, A extends unknown[]>(context: SessionContext, fn: (...args: A) => T, ...args: A): T {
    return this.storage.run(context, fn, ...args)
  }

  /** Runs `fn(...args)` as in `context`, or outside any session when it is undefined. */
  within<T, A extends unknown[]>(context: SessionContext | undefined, fn: (...args: A) => T, ...args: A): T {
    return context === undefined ? this.storage.exit(fn, ...args) : this.storage.run(context, fn, ...args)
  }
}

/** A session or user id as applications have them: a string, or a number or bigint (an autoincrement id). */
export type SessionId = string | number | bigint

/**
 * The session of `session()` and `forSession()`, with ids in one string form: 7, 7n and '7' are
 * the same session (and the same user), as they are the same row to the database. A bad id (none,
 * an empty string, NaN, an object...) or bad options are reported to `report` and give no session:
 * the request then runs outside any, and never fails because of it.
 */
export function sessionContext(method: string, sessionId: unknown, options: unknown, report: (error: TypeError) => void): SessionContext | undefined {
  const id = idString(sessionId)
  if (id === undefined) {
    report(new TypeError(`prisma-prefetch: ${method}() needs a session id (a non-empty string, a finite number or a bigint): ${describe(sessionId)}; the request runs outside any session`))
    return undefined
  }
  if (options === undefined || options === null) return { sessionId: id }
  const userId = (options as { userId?: unknown }).userId
  if (typeof options !== 'object') {
    report(new TypeError(`prisma-prefetch: ${method}() options must be { userId? }: ${describe(options)}; the request runs outside any session`))
    return undefined
  }
  if (userId === undefined || userId === null) return { sessionId: id }
  const user = idString(userId)
  if (user === undefined) {
    report(new TypeError(`prisma-prefetch: ${method}() userId must be a non-empty string, a finite number or a bigint: ${describe(userId)}; the request runs outside any session`))
    return undefined
  }
  return { sessionId: id, userId: user }
}

function idString(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined
  if (typeof value === 'bigint') return String(value)
  return undefined
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  try {
    return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}
