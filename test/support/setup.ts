import { afterAll } from 'vitest'
import { prefetch } from '../../src/index.ts'
import type { PrefetchOptions } from '../../src/types.ts'
import { countingAdapter, createTestClient, createTestDatabase, spyExtension, type TestClientOptions } from '../helpers/db.ts'

/**
 * A fresh database per test file, and clients on it: `prisma` is the client under test,
 * `prefetch()` with a spy extension beneath it (Prisma runs the hooks of the extension applied
 * first outermost, so the spy is applied after prefetch and sees exactly the queries that go on
 * to the database); `bare` is the same database client without either, the reference.
 * `sql.queries` counts SQL round trips at the driver adapter, for both. `prismaOptions` are
 * PrismaClient options (global `omit`, ...) of both.
 */
export async function setup(options?: PrefetchOptions) {
  const db = await createTestDatabase()
  const made: Array<{ $disconnect(): Promise<void> }> = []
  afterAll(async () => {
    for (const client of made) await client.$disconnect()
    await db.drop()
  })
  async function client(clientOptions?: PrefetchOptions, prismaOptions?: TestClientOptions) {
    const counting = countingAdapter(db.adapterFactory())
    const spy = spyExtension()
    const bare = await createTestClient({ ...db, adapterFactory: () => counting.factory }, undefined, prismaOptions)
    made.push(bare)
    // A test that counts hits through a shared store must not see a slow moment of a busy machine
    // as a store timeout; tests of timeouts set their own.
    const withStore = clientOptions?.cache && clientOptions.storeTimeout === undefined ? { ...clientOptions, storeTimeout: 5000 } : clientOptions
    // Nor may a busy machine pause speculation (the event loop's utilisation, `cpu`) in a test that
    // counts speculative reads; the tests of that back-off set `cpu` themselves.
    const options = withStore?.cpu === undefined ? { ...withStore, cpu: false } : withStore
    const prisma = bare.$extends(prefetch(options)).$extends(spy.extension)
    return { prisma, bare, spy, sql: counting.stats }
  }
  const main = await client(options)
  return { db, client, ...main }
}

/** Counts the spy's records from `since` on, optionally of one operation. */
export function reached(calls: ReadonlyArray<{ operation: string }>, since: number, operation?: string): number {
  return calls.slice(since).filter((call) => operation === undefined || call.operation === operation).length
}
