// The test schema's client classes for combining tests: on PostgreSQL, one generated with
// `relationJoins` (reads can be combined) and one without (the reference); elsewhere both are the
// plain client, where Prisma runs relations as separate statements and nothing is combined. And
// how a combined read is told at the driver adapter (recordingAdapter in db.ts): no spy as a query
// hook beneath the extension there, since one beneath keeps reads from being combined.
import type { TestClient } from './db.ts'

export type Constructor = new (options: object) => TestClient

export async function joinsClients(provider: string): Promise<{ joins: boolean; JoinsClient: Constructor; PlainClient: Constructor }> {
  const joins = provider === 'postgresql'
  const load = async (path: Promise<unknown>) => ((await path) as { PrismaClient: Constructor }).PrismaClient
  return joins
    ? { joins, JoinsClient: await load(import('../../src/generated/prisma-pg-joins/client.ts')), PlainClient: await load(import('../../src/generated/prisma-pg/client.ts')) }
    : { joins, JoinsClient: await load(import('../../src/generated/prisma/client.ts')), PlainClient: await load(import('../../src/generated/prisma/client.ts')) }
}

/** The combined statements among `statements`: reads that load a relation in the same statement (a lateral join). */
export const combined = (statements: string[]) => statements.filter((sql) => /\bLATERAL\b/i.test(sql))

/** The table a statement reads, then the tables its lateral joins read, in order. */
export const tablesOf = (sql: string | undefined) => [...(sql ?? '').matchAll(/FROM "[^"]+"\."(\w+)"/g)].map((m) => m[1])
