import { withLatency } from '../../bench/latency.ts'
import { prefetch } from '../../src/index.ts'
import type { PrefetchOptions } from '../../src/types.ts'
import { createTestClient, spyExtension, type TestDatabase } from '../helpers/db.ts'

/**
 * A client on `db` whose SELECTs on `table` can be held before their result is returned:
 * `hold()` makes the next ones wait until `release()`; `gate.reached` says whether one is being
 * held. CPU-aware pausing is off, as on the shared test client.
 */
export async function gatedClient(db: TestDatabase, table: string, options: PrefetchOptions = {}) {
  const gate = { hold: undefined as Promise<void> | undefined, release: () => {}, reached: false }
  const gated = withLatency(db.adapterFactory(), 0, (sql) => {
    if (gate.hold === undefined || !/select/i.test(sql) || !new RegExp(`[\`"]${table}[\`"]`).test(sql)) return undefined
    gate.reached = true
    return gate.hold
  })
  const spy = spyExtension()
  const base = await createTestClient({ ...db, adapterFactory: () => gated.factory })
  const prisma = base.$extends(prefetch({ cpu: false, ...options })).$extends(spy.extension)
  const hold = () => {
    gate.reached = false
    gate.hold = new Promise<void>((resolve) => (gate.release = resolve))
  }
  const release = () => {
    gate.hold = undefined
    gate.release()
  }
  return { prisma, base, spy, trips: gated.trips, gate, hold, release }
}

/** Resolves once `condition()` holds, checking every millisecond. */
export const until = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1))
}
