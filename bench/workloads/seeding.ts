/** What the workload data generators (tpcw.ts, rubis.ts) share. */

export interface SeedOptions<S> {
  /** How big a database to make. @default the workload's `small` scale */
  scale?: S
  /** Seed of every random choice. @default 1 */
  seed?: number
  /** PostgreSQL needs its id sequences moved past the explicit ids. @default 'sqlite' */
  provider?: 'sqlite' | 'postgresql'
  /** Rows per createMany call. @default 500 */
  batchSize?: number
}

export interface SeedReport {
  /** Rows written, per table. */
  rows: Record<string, number>
  /** Wall time of the whole seeding, in milliseconds. */
  ms: number
}

/** Runs `createMany` over `data` in batches of `batchSize` rows; returns the row count. */
export async function insertInBatches<T>(data: T[], batchSize: number, createMany: (batch: T[]) => Promise<unknown>): Promise<number> {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new TypeError(`batchSize must be a positive integer: ${batchSize}`)
  for (let i = 0; i < data.length; i += batchSize) await createMany(data.slice(i, i + batchSize))
  return data.length
}

/**
 * Moves each table's id sequence past the explicit ids a seeder wrote (PostgreSQL only; SQLite's
 * AUTOINCREMENT continues from the largest id by itself), so that the pages' inserts get new ids.
 */
export async function resetSequences(
  db: { $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number> },
  tables: readonly string[],
): Promise<void> {
  for (const table of tables) {
    await db.$executeRawUnsafe(
      `SELECT setval(pg_get_serial_sequence('"${table}"', 'id'), GREATEST((SELECT MAX("id") FROM "${table}"), 1))`,
    )
  }
}
