/**
 * Calls to the keyv store, guarded: a call that throws, rejects or takes longer than
 * `storeTimeout` is reported and reads as a miss, never as a failed query.
 */

/** Raised when a store call takes longer than allowed. */
export class StoreTimeoutError extends Error {
  constructor(ms: number) {
    super(`prisma-prefetch: the cache store did not answer within ${ms} ms`)
  }
}

/**
 * Runs a store call that must never hold a user's query: it resolves with the call's value, or
 * with `undefined` after `reportError` has been told why (a throw, a rejection, or no answer
 * within `ms`). The timer is unref'd so a hanging store cannot keep the process alive.
 */
export function guarded<T>(
  call: () => Promise<T>,
  ms: number,
  reportError: (error: unknown) => void,
): Promise<T | undefined> {
  let promise: Promise<T>
  try {
    promise = Promise.resolve(call())
  } catch (error) {
    reportError(error)
    return Promise.resolve(undefined)
  }
  return new Promise<T | undefined>((resolve) => {
    const timer = setTimeout(() => {
      reportError(new StoreTimeoutError(ms))
      resolve(undefined)
    }, ms)
    timer.unref?.()
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error) => {
        clearTimeout(timer)
        reportError(error)
        resolve(undefined)
      },
    )
  })
}

/** Raised when a store says it did not keep a value. */
export class StoreWriteError extends Error {
  constructor() {
    super('prisma-prefetch: the cache store did not keep a value (its set() resolved false)')
  }
}

/**
 * A store write that fails when the store says so: Keyv reports a failed write by resolving
 * `set()` with false (and an 'error' event) instead of rejecting, which would otherwise pass for
 * success, e.g. a generation bump that never reached Redis.
 */
export async function stored(write: Promise<unknown>): Promise<void> {
  if ((await write) === false) throw new StoreWriteError()
}
