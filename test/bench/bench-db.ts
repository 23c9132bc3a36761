// Fresh SQLite databases of the benchmark's schemas (prisma/bench/*.prisma) for the tests in
// test/bench: tables pushed with Prisma's WebAssembly schema engine, clients from the generated
// src/generated/tpcw and src/generated/rubis. Always SQLite, whatever DATABASE_URL says: these
// tests check the workloads, not the database.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { pushSchema } from '../../scripts/schema-engine.ts'
import { PrismaClient as RubisClient } from '../../src/generated/rubis/client.ts'
import { PrismaClient as TpcwClient } from '../../src/generated/tpcw/client.ts'

/** One logged statement: SQL text and its parameters (Prisma's query event). */
export interface LoggedQuery {
  query: string
  params: string
}

export interface BenchDatabase<C> {
  client: C
  /** Every statement the client sent, in order. */
  log: LoggedQuery[]
  /** Disconnects and deletes the database. */
  drop(): Promise<void>
}

export type TpcwBenchDatabase = BenchDatabase<InstanceType<typeof TpcwClient>>
export type RubisBenchDatabase = BenchDatabase<InstanceType<typeof RubisClient>>

/** A new, empty database of `schema` and a client on it that logs its statements. */
export async function createBenchDatabase(schema: 'tpcw'): Promise<TpcwBenchDatabase>
export async function createBenchDatabase(schema: 'rubis'): Promise<RubisBenchDatabase>
export async function createBenchDatabase(schema: 'tpcw' | 'rubis'): Promise<TpcwBenchDatabase | RubisBenchDatabase> {
  const dir = mkdtempSync(join(tmpdir(), `prisma-prefetch-bench-${schema}-`))
  const url = `file:${join(dir, `${schema}.db`)}`
  try {
    await pushSchema({ provider: 'sqlite', url, schema: readFileSync(new URL(`../../prisma/bench/${schema}.prisma`, import.meta.url), 'utf8') })
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  const options = { adapter: new PrismaBetterSqlite3({ url }), log: [{ emit: 'event' as const, level: 'query' as const }] }
  return schema === 'tpcw' ? logging(new TpcwClient(options), dir) : logging(new RubisClient(options), dir)
}

function logging<C extends { $on(event: 'query', listener: (event: LoggedQuery) => void): void; $disconnect(): Promise<void> }>(
  client: C,
  dir: string,
): BenchDatabase<C> {
  const log: LoggedQuery[] = []
  client.$on('query', (event) => log.push({ query: event.query, params: event.params }))
  return {
    client,
    log,
    drop: async () => {
      await client.$disconnect()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
