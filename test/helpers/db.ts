// Databases, clients and probes for the integration tests.
//
// Every integration test file gets its own fresh database (createTestDatabase): a new SQLite
// file, or a new PostgreSQL database when DATABASE_URL points at a PostgreSQL server:
//
//   npx vitest run test/integration                                    # SQLite
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test npx vitest run test/integration
//
// Tables are created from prisma/schema.prisma with Prisma's WebAssembly schema engine
// (scripts/schema-engine.ts), because the native engine cannot be downloaded here.
//
// Probes: spyExtension() records the operations that reach it (apply it LAST, after the
// extension under test: Prisma runs the first-applied extension's hook outermost);
// countingAdapter() counts SQL round trips at the driver adapter (what Prisma's batching of
// same-tick findUnique calls saves, and queries that bypass the spy).

import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import { Prisma } from '@prisma/client/extension'
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import { withLatency } from '../../bench/latency.ts'
import pg from 'pg'
import { isSpeculative } from '../../src/middleware/composition.ts'
import { pushSchema } from '../../scripts/schema-engine.ts'
import type { Prisma as SqlitePrisma, PrismaClient } from '../../src/generated/prisma/client.ts'

export type TestProvider = 'sqlite' | 'postgresql'

/** PostgreSQL when DATABASE_URL is a postgres:// or postgresql:// URL, SQLite otherwise. */
export const provider: TestProvider = process.env.DATABASE_URL?.startsWith('postgres') ? 'postgresql' : 'sqlite'

export interface TestDatabase {
  /** SQLite: `file:/abs/path/test.db`. PostgreSQL: a connection string to the new database. */
  url: string
  provider: TestProvider
  /** A fresh driver adapter factory for this database (PrismaBetterSqlite3 or PrismaPg). */
  adapterFactory(): SqlDriverAdapterFactory
  /** Deletes the database (PostgreSQL: terminates its connections first). Idempotent. */
  drop(): Promise<void>
}

const schemaPath = new URL('../../prisma/schema.prisma', import.meta.url)
let schemaText: string | undefined
const schema = () => (schemaText ??= readFileSync(schemaPath, 'utf8'))

/** A new, empty database with every table of prisma/schema.prisma. */
export async function createTestDatabase(): Promise<TestDatabase> {
  return provider === 'postgresql' ? createPostgresDatabase() : createSqliteDatabase()
}

// ---------------------------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------------------------

const SQLITE_DIR_PREFIX = 'prisma-prefetch-test-'
let sweptLeftovers = false

/**
 * Removes SQLite test databases left behind by processes that are gone. A test file whose
 * afterAll never reaches drop() (a crash, a $disconnect that throws) leaves its directory in
 * the temp dir, and vitest ends its workers without an 'exit' event to clean up in. Each
 * directory is named after the pid that created it, so only dead processes' ones go.
 */
function sweepLeftoverSqliteDirs(): void {
  if (sweptLeftovers) return
  sweptLeftovers = true
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(new RegExp(`^${SQLITE_DIR_PREFIX}(\\d+)-`).exec(name)?.[1])
    if (!pid || pid === process.pid) continue
    try {
      process.kill(pid, 0) // throws ESRCH when no such process exists
    } catch (error) {
      if ((error as { code?: string }).code === 'ESRCH') rmSync(join(tmpdir(), name), { recursive: true, force: true })
    }
  }
}

async function createSqliteDatabase(): Promise<TestDatabase> {
  sweepLeftoverSqliteDirs()
  // A directory per database, so that drop() also removes -journal/-wal/-shm files.
  const dir = mkdtempSync(join(tmpdir(), `${SQLITE_DIR_PREFIX}${process.pid}-`))
  const url = `file:${join(dir, 'test.db')}`
  try {
    await pushSchema({ provider: 'sqlite', url, schema: schema() })
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    url,
    provider: 'sqlite',
    adapterFactory: () => new PrismaBetterSqlite3({ url }),
    // Clients must be disconnected first (an open better-sqlite3 handle survives the unlink
    // on Linux but keeps the data alive, and fails the removal on Windows).
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`

/** Runs `fn` with a connection to the DATABASE_URL database (the one new databases come from). */
async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  await ensurePostgresRunning()
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

let postgresChecked: Promise<void> | undefined

/**
 * CI runs on the machine the servers run on, but they are only started before a session:
 * when DATABASE_URL names a local server that refuses connections, start the Debian cluster
 * once (as PRISMA-OFFLINE.md prescribes) and wait for it. Anything else fails as usual.
 */
function ensurePostgresRunning(): Promise<void> {
  postgresChecked ??= (async () => {
    const url = new URL(process.env.DATABASE_URL!)
    const reachable = async () => {
      const probe = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 2000 })
      try {
        await probe.connect()
        return true
      } catch (error) {
        if ((error as { code?: string }).code !== 'ECONNREFUSED') throw error
        return false
      } finally {
        await probe.end().catch(() => {})
      }
    }
    if (await reachable()) return
    if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname)) return
    try {
      for (const version of readdirSync('/etc/postgresql')) {
        execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'ignore' })
      }
    } catch {
      return // not a Debian cluster, or no permission: let the real connection report it
    }
    for (let i = 0; i < 50 && !(await reachable()); i++) await new Promise((r) => setTimeout(r, 200))
  })()
  postgresChecked.catch(() => (postgresChecked = undefined))
  return postgresChecked
}

async function createPostgresDatabase(): Promise<TestDatabase> {
  // Unique across parallel vitest workers and runs; the prefix makes leftovers of crashed
  // runs easy to find: SELECT datname FROM pg_database WHERE datname LIKE 'prisma_prefetch_test_%'.
  const name = `prisma_prefetch_test_${process.pid}_${randomBytes(4).toString('hex')}`
  await withAdmin(async (admin) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${quoteIdent(name)}`)
        return
      } catch (error) {
        // 55006 "source database template1 is being accessed by other users": someone is
        // briefly connected to the template (concurrent CREATE DATABASE on old servers). Retry.
        if ((error as { code?: string }).code !== '55006' || attempt >= 5) throw error
        await new Promise((r) => setTimeout(r, 100 * attempt))
      }
    }
  })
  const target = new URL(process.env.DATABASE_URL!)
  target.pathname = `/${name}`
  const url = target.toString()
  let dropped = false
  const drop = async () => {
    if (dropped) return
    dropped = true
    await withAdmin(async (admin) => {
      // Connections a test forgot to close would make DROP DATABASE fail: end them first.
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
        name,
      ])
      const { rows } = await admin.query<{ v: number }>(`SELECT current_setting('server_version_num')::int AS v`)
      // WITH (FORCE) (PostgreSQL 13+) also covers a connection opened between the two statements.
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}${rows[0]!.v >= 130000 ? ' WITH (FORCE)' : ''}`)
    })
  }
  try {
    await pushSchema({ provider: 'postgresql', url, schema: schema() })
  } catch (error) {
    await drop().catch(() => {})
    throw error
  }
  return { url, provider: 'postgresql', adapterFactory: () => new PrismaPg({ connectionString: url }), drop }
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

/** The test client type: the SQLite client's (the PostgreSQL client has the same API). */
export type TestClient = PrismaClient

/** PrismaClient options other than the adapter (log, transactionOptions, omit, ...). */
export type TestClientOptions = Omit<SqlitePrisma.PrismaClientOptionsWithAdapter, 'adapter'>

/**
 * A PrismaClient of the generated client matching `db.provider` (src/generated/prisma or
 * src/generated/prisma-pg, made by scripts/generate.ts), on `db.adapterFactory()`.
 * `extend`, when given, is applied to it and its result returned, e.g.
 * `createTestClient(db, (c) => c.$extends(prefetch()).$extends(spy.extension))`.
 * The caller disconnects it (`$disconnect()` works on extended clients too).
 */
export async function createTestClient(
  db: Pick<TestDatabase, 'provider' | 'adapterFactory'>,
  extend?: undefined,
  options?: TestClientOptions,
): Promise<TestClient>
export async function createTestClient<T>(
  db: Pick<TestDatabase, 'provider' | 'adapterFactory'>,
  extend: (client: TestClient) => T,
  options?: TestClientOptions,
): Promise<T>
export async function createTestClient<T>(
  db: Pick<TestDatabase, 'provider' | 'adapterFactory'>,
  extend?: (client: TestClient) => T,
  options?: TestClientOptions,
): Promise<TestClient | T> {
  // Imported lazily: each generated client compiles its own query compiler (WebAssembly) on
  // load, and a run only ever needs one of them.
  const { PrismaClient: Client } =
    db.provider === 'postgresql'
      ? ((await import('../../src/generated/prisma-pg/client.ts')) as unknown as { PrismaClient: new (o: object) => TestClient })
      : await import('../../src/generated/prisma/client.ts')
  const client = new Client({ ...options, adapter: db.adapterFactory() }) as TestClient
  return extend ? extend(client) : client
}

// ---------------------------------------------------------------------------------------------
// Probes
// ---------------------------------------------------------------------------------------------

export interface SpyCall {
  /** Capitalised model name ("User"); undefined for raw operations ($queryRaw, ...). */
  model: string | undefined
  /** As query extensions see it: "findUnique", "count", "$queryRaw", ... */
  operation: string
  args: unknown
}

/**
 * A query extension recording, in order, in `calls`, every operation that reaches it.
 *
 * Placement matters: Prisma 7 runs the query hooks of stacked extensions in the order they
 * were applied, the FIRST applied outermost and the LAST applied next to the database
 * (checked in test/integration/db-setup.test.ts). To see what the extension under test lets
 * through to the database, apply the spy after it:
 * `base.$extends(prefetch()).$extends(spy.extension)`. Speculative reads of that extension
 * go through the query hooks beneath its own, the spy's included: they are recorded apart, in
 * `speculative`, so that `calls` are the application's queries that reached the database.
 *
 * One top-level `$allOperations` hook sees model operations and raw operations alike; adding
 * a `$allModels.$allOperations` hook as well would record every model operation twice.
 */
export function spyExtension(): { extension: ReturnType<typeof makeSpy>; calls: SpyCall[]; speculative: SpyCall[] } {
  const calls: SpyCall[] = []
  const speculative: SpyCall[] = []
  return { extension: makeSpy(calls, speculative), calls, speculative }
}

function makeSpy(calls: SpyCall[], speculative: SpyCall[]) {
  return Prisma.defineExtension({
    name: 'test-spy',
    query: {
      $allOperations({ model, operation, args, query }) {
        ;(isSpeculative() ? speculative : calls).push({ model, operation, args })
        // Returned as is, not awaited here: the call stays in the same tick, so Prisma still
        // batches same-tick findUnique calls.
        return query(args)
      },
    },
  })
}

export interface QueryStats {
  /** queryRaw + executeRaw calls on connections and transactions of the factory. */
  queries: number
}

/**
 * Wraps a driver adapter factory so that every `queryRaw`/`executeRaw` of the connections and
 * transactions it produces increments `stats.queries`: one per SQL round trip Prisma makes.
 * BEGIN runs inside the driver's startTransaction and is not counted; COMMIT goes through
 * executeRaw and is (a transaction of 2 queries counts 3, on SQLite and PostgreSQL alike).
 * Everything else is forwarded untouched, with the real object as `this` (the adapters use
 * private class fields).
 */
export function countingAdapter<F extends SqlDriverAdapterFactory>(factory: F): { factory: F; stats: QueryStats } {
  const counted = withLatency(factory, 0)
  return { factory: counted.factory, stats: counted.trips }
}

/**
 * countingAdapter, also keeping the SQL of every statement in `statements`, in order: a spy at
 * the adapter for tests that must not put a query hook beneath the extension under test (a
 * hook there changes what it may do; see src/middleware/hooks-beneath.ts).
 */
export function recordingAdapter<F extends SqlDriverAdapterFactory>(factory: F): { factory: F; stats: QueryStats; statements: string[] } {
  const statements: string[] = []
  const counted = withLatency(factory, 0, (sql) => {
    statements.push(sql)
    return undefined
  })
  return { factory: counted.factory, stats: counted.trips, statements }
}
