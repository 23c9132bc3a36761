import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils'

/** What crossed the emulated network. */
export interface RoundTrips {
  /** Statements sent (queryRaw + executeRaw), in and out of transactions. */
  queries: number
  /** Transactions opened (each also pays a round trip to begin and one to end). */
  transactions: number
}

/**
 * Wraps a driver adapter factory so that every database round trip first waits `rttMs`,
 * emulating a database across a network, and is counted. Statements pay one round trip each
 * (Prisma sends COMMIT and ROLLBACK as statements too) and so does starting a transaction (BEGIN
 * runs inside the driver); everything else is forwarded untouched, with the real object as `this`
 * (the adapters keep private class fields). With `rttMs` 0 it only counts, adding no await.
 */
export function withLatency<F extends SqlDriverAdapterFactory>(
  factory: F,
  rttMs: number,
  /** Awaited after a statement ran and before its result is returned (tests use it to hold one). */
  beforeResult?: (sql: string) => Promise<void> | undefined,
): { factory: F; trips: RoundTrips } {
  const trips: RoundTrips = { queries: 0, transactions: 0 }
  const delayed = (call: (...args: unknown[]) => unknown, count: () => void) =>
    rttMs > 0
      ? async (...args: unknown[]) => {
          count()
          await new Promise<void>((resolve) => setTimeout(resolve, rttMs))
          return call(...args)
        }
      : (...args: unknown[]) => {
          count()
          return call(...args)
        }

  function wrap<T extends object>(target: T, level: 'factory' | 'adapter' | 'transaction'): T {
    return new Proxy(target, {
      get(object, property) {
        const value = Reflect.get(object, property, object)
        if (typeof value !== 'function') return value
        const call = (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(object, args)
        if (level === 'factory' && (property === 'connect' || property === 'connectToShadowDb')) {
          return async (...args: unknown[]) => wrap((await call(...args)) as object, 'adapter')
        }
        if (level === 'adapter' && property === 'startTransaction') {
          const start = delayed(call, () => trips.transactions++)
          return async (...args: unknown[]) => wrap((await start(...args)) as object, 'transaction')
        }
        if (level !== 'factory' && (property === 'queryRaw' || property === 'executeRaw')) {
          const send = delayed(call, () => trips.queries++)
          if (beforeResult === undefined) return send
          return async (query: { sql: string }) => {
            const result = await send(query)
            await beforeResult(query.sql)
            return result
          }
        }
        return call
      },
    })
  }
  return { factory: wrap(factory, 'factory'), trips }
}
