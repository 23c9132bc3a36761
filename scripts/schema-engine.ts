// Creates the tables of a Prisma schema in a database (the equivalent of `prisma db push`)
// without Prisma's native schema-engine binary, which cannot be downloaded on the machines
// this project is built and tested on (see /work/shared/PRISMA-OFFLINE.md).
//
// It drives Prisma's own schema engine compiled to WebAssembly over a driver adapter (the CLI
// ships the same engine for adapter-based setups), but none of this is public API,
// so it is pinned to exact versions and checked at load time: an upgrade fails here, loudly,
// instead of producing subtly wrong databases. Verified with:
//
//   @prisma/schema-engine-wasm      8.1.0-2.59be4fda12412a79eeb9c2ae727b6aa723593323  (checked)
//   @prisma/driver-adapter-utils    7.10.1                                            (checked)
//   @prisma/adapter-pg              7.10.1   (workarounds 3 and 5 below)
//   @prisma/adapter-better-sqlite3  7.10.0   (workaround 2 below)
//   pg 8, better-sqlite3 12, PostgreSQL 15, Node 20
//
// To upgrade: bump the pins in package.json, update PINNED below, run
// test/integration/db-setup.test.ts against SQLite and PostgreSQL, and re-check each numbered
// workaround (some may no longer be needed).
//
// Used by test/helpers/db.ts. Only `pushSchema` (and `withProvider`) are meant for outside use.
// Timings here (2 cores, the test schema into an empty database): the first push in a process
// takes ~250 ms (mostly compiling the 37 MB wasm), later ones ~25 ms on SQLite, ~110 ms on PostgreSQL.

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
} from '@prisma/driver-adapter-utils'
import type { SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg'
import pg from 'pg'

/** The exact versions whose internals this file relies on; checked before first use. */
export const PINNED = {
  '@prisma/schema-engine-wasm': '8.1.0-2.59be4fda12412a79eeb9c2ae727b6aa723593323',
  '@prisma/driver-adapter-utils': '7.10.1',
} as const

export type PushProvider = 'sqlite' | 'postgresql'

export interface PushSchemaOptions {
  provider: PushProvider
  /** SQLite: a file path or `file:` URL. PostgreSQL: a `postgresql://` connection string. */
  url: string
  /** The text of a Prisma schema file; its datasource provider is replaced by `provider`. */
  schema: string
}

export interface PushSchemaResult {
  /** Migration steps the engine executed (0 when the database already matched). */
  executedSteps: number
  /** Data loss warnings the engine accepted (pushes are forced). */
  warnings: string[]
}

const require = createRequire(import.meta.url)

// The WebAssembly global exists in Node but is not declared by this project's type setup
// (lib ES2023 without DOM, @types/node 20): declare the two pieces used here.
const Wasm = (
  globalThis as unknown as {
    WebAssembly: {
      instantiate(
        bytes: Uint8Array,
        imports: Record<string, object>,
      ): Promise<{ instance: { exports: Record<string, unknown> } }>
      RuntimeError: new (...args: any[]) => Error
    }
  }
).WebAssembly

// ---------------------------------------------------------------------------------------------
// Loading the WebAssembly engine
// ---------------------------------------------------------------------------------------------

// The package's main entry (`schema_engine.js`) does `import * as wasm from "./schema_engine_bg.wasm"`,
// i.e. relies on the WebAssembly ESM integration that Node 20 does not have (and vitest/tsx
// don't provide). So we do by hand what that entry does: take the wasm-bindgen JS glue
// (`schema_engine_bg.js`, exported as `@prisma/schema-engine-wasm/schema_engine_bg`),
// instantiate the .wasm next to it with the glue as its only import module, hand the instance
// back to the glue and run the wasm start function.
//
// The glue keeps the instance in a module-level variable, so there is exactly one engine
// instance per process (per vitest worker); it is loaded once and shared by every push.
let loading: Promise<typeof import('@prisma/schema-engine-wasm/schema_engine_bg')> | undefined

function packageVersion(entryPath: string, name: string): string {
  // Walk up from a resolved entry file to the package.json of `name` (the wasm package's
  // `exports` map does not expose its package.json).
  let dir = dirname(entryPath)
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string }
      if (manifest.name === name && manifest.version) return manifest.version
    } catch {
      // no package.json here; keep walking
    }
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`schema-engine: cannot find the package.json of ${name}`)
    dir = parent
  }
}

function checkPinnedVersions(): string {
  const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')
  const found = {
    '@prisma/schema-engine-wasm': packageVersion(gluePath, '@prisma/schema-engine-wasm'),
    '@prisma/driver-adapter-utils': packageVersion(
      require.resolve('@prisma/driver-adapter-utils'),
      '@prisma/driver-adapter-utils',
    ),
  }
  for (const [name, version] of Object.entries(found)) {
    const pinned = PINNED[name as keyof typeof PINNED]
    if (version !== pinned) {
      throw new Error(
        `scripts/schema-engine.ts was verified with ${name}@${pinned} but ${version} is installed. ` +
          'It relies on unofficial internals: re-verify the workarounds described at the top of the file, ' +
          'then update PINNED.',
      )
    }
  }
  return gluePath
}

/** The message of the last Rust panic inside the engine (the glue reports it here). */
interface PanicRegistry {
  message: string
  set_message(message: string): void
  get(): string
}

function panicRegistry(): PanicRegistry {
  const g = globalThis as typeof globalThis & { PRISMA_WASM_PANIC_REGISTRY?: PanicRegistry }
  // The glue calls `global.PRISMA_WASM_PANIC_REGISTRY.set_message(...)` from its panic hook; if
  // the object is missing, a panic surfaces as an unrelated TypeError. Prisma's own runtime
  // defines the same object, so reuse one that exists.
  g.PRISMA_WASM_PANIC_REGISTRY ??= {
    message: '',
    set_message(message: string) {
      this.message = message
    },
    get() {
      return this.message
    },
  }
  return g.PRISMA_WASM_PANIC_REGISTRY
}

/**
 * Workaround 6 (not in PRISMA-OFFLINE.md): the engine arms a 60 s `setTimeout` per command
 * (a Rust-side timeout future) and, having no `clearTimeout` import, never cancels it. Those
 * timers keep Node alive for a minute after the last push (a tsx script "hangs", a test
 * worker lingers). `unref()` would be wrong: with SQLite nothing else may keep the loop alive
 * while the engine waits. So the glue's setTimeout import is replaced by one that records its
 * timers, and they are cleared once no push is in flight (the engine has then been freed).
 */
const engineTimers = new Set<ReturnType<typeof setTimeout>>()
let pushesInFlight = 0

function withTrackedTimers(glue: object): Record<string, unknown> {
  const imports: Record<string, unknown> = { ...glue }
  const name = Object.keys(imports).find((key) => key.startsWith('__wbg_setTimeout_'))
  if (!name) throw new Error('schema-engine: the wasm glue no longer imports setTimeout; re-check workaround 6')
  imports[name] = (callback: () => void, ms: number) => {
    const timer = setTimeout(() => {
      engineTimers.delete(timer)
      callback()
    }, ms >>> 0)
    engineTimers.add(timer)
    return timer
  }
  return imports
}

function clearEngineTimersWhenIdle(): void {
  if (pushesInFlight > 0) return
  for (const timer of engineTimers) clearTimeout(timer)
  engineTimers.clear()
}

function loadEngine() {
  loading ??= (async () => {
    const gluePath = checkPinnedVersions()
    panicRegistry()
    const glue = await import('@prisma/schema-engine-wasm/schema_engine_bg')
    const bytes = readFileSync(join(dirname(gluePath), 'schema_engine_bg.wasm'))
    const { instance } = await Wasm.instantiate(bytes, { './schema_engine_bg.js': withTrackedTimers(glue) })
    glue.__wbg_set_wasm(instance.exports)
    ;(instance.exports.__wbindgen_start as () => void)()
    return glue
  })()
  // A failed load should not be cached forever (e.g. a transient import error in watch mode).
  loading.catch(() => (loading = undefined))
  return loading
}

// ---------------------------------------------------------------------------------------------
// Driver adapter factories for the engine, with the workarounds
// ---------------------------------------------------------------------------------------------

/** Everything a push opened, so that it can all be closed afterwards (workaround 1). */
interface Tracked {
  factory: SqlMigrationAwareDriverAdapterFactory
  close(): Promise<void>
}

/**
 * A new adapter object delegating to `adapter`, with some methods replaced. Delegation (not
 * `Object.create` or patching the instance) because the adapters keep state in private class
 * fields (`#mutex` in better-sqlite3's), which only work with the real instance as `this`.
 */
function delegate(adapter: SqlDriverAdapter, overrides: Partial<SqlDriverAdapter> = {}): SqlDriverAdapter {
  const out: SqlDriverAdapter = {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    queryRaw: (query) => adapter.queryRaw(query),
    executeRaw: (query) => adapter.executeRaw(query),
    executeScript: (script) => adapter.executeScript(script),
    startTransaction: (isolationLevel) => adapter.startTransaction(isolationLevel),
    dispose: () => adapter.dispose(),
    ...overrides,
  }
  if (adapter.getConnectionInfo) out.getConnectionInfo = () => adapter.getConnectionInfo!()
  return out
}

/**
 * Workaround 1: `engine.free()` does not dispose the adapter connections the engine opened.
 * On SQLite a leftover better-sqlite3 handle keeps a lock, and the next writer times out;
 * with pg an open pool keeps the process alive. So every connection is recorded here and
 * disposed by `disposeAll()`.
 */
function tracking(
  base: SqlMigrationAwareDriverAdapterFactory,
  overrides: (adapter: SqlDriverAdapter) => Partial<SqlDriverAdapter> = () => ({}),
): { factory: SqlMigrationAwareDriverAdapterFactory; disposeAll(): Promise<void> } {
  const open = new Set<SqlDriverAdapter>()
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: base.provider,
    adapterName: base.adapterName,
    async connect() {
      const adapter = await base.connect()
      open.add(adapter)
      return delegate(adapter, {
        ...overrides(adapter),
        // If the engine does dispose, don't dispose twice later.
        dispose: async () => {
          if (open.delete(adapter)) await adapter.dispose()
        },
      })
    },
    // Workaround 5: never hand out a shadow database. `PrismaPg` 7.10.1 given a connection
    // string returns a connection to the MAIN database as the "shadow" one, and the engine
    // resets shadow databases. `schemaPush` does not need one; anything that does should
    // create and drop its own.
    connectToShadowDb() {
      return Promise.reject(new Error('scripts/schema-engine.ts: shadow databases are deliberately not supported'))
    },
  }
  return {
    factory,
    async disposeAll() {
      const errors: unknown[] = []
      for (const adapter of [...open]) {
        open.delete(adapter)
        await adapter.dispose().catch((error: unknown) => errors.push(error))
      }
      if (errors.length) throw new AggregateError(errors, 'schema-engine: disposing adapter connections failed')
    },
  }
}

/**
 * Workaround 2: the engine runs DDL through `executeRaw`, and when one step holds several
 * statements better-sqlite3's `prepare()` rejects it ("The supplied SQL string contains more
 * than one statement"; the engine reports P3006). A parameterless multi-statement string is
 * exactly what `executeScript` (`Database.exec`) is for, so fall back to it. Seen when replaying
 * migrations; `schemaPush` (even a SQLite table redefinition) has not needed it here, but it
 * is cheap insurance for engine versions that batch differently.
 */
function sqliteScriptFallback(adapter: SqlDriverAdapter): Partial<SqlDriverAdapter> {
  return {
    async executeRaw(query: SqlQuery): Promise<number> {
      try {
        return await adapter.executeRaw(query)
      } catch (error) {
        if (query.args.length === 0 && error instanceof Error && /more than one statement/i.test(error.message)) {
          await adapter.executeScript(query.sql)
          return 0
        }
        throw error
      }
    },
  }
}

function sqliteFactory(url: string): Tracked {
  const { factory, disposeAll } = tracking(new PrismaBetterSqlite3({ url }), sqliteScriptFallback)
  return { factory, close: disposeAll }
}

/**
 * Workaround 3: the engine's catalog queries return PostgreSQL `"char"` columns (oid 18), which
 * `@prisma/adapter-pg` 7.10.1 rejects as UnsupportedNativeDataType. pg hands such values over
 * as strings anyway, so relabelling the field as text (oid 25) before the adapter maps types is
 * all it takes. The adapter takes the types from `fields` of `client.query(...)` results, so the
 * relabelling sits in the pg Client class of the pool we give it (pg's documented `Client`
 * pool option), which covers `pool.query` (callback style inside pg-pool) and the checked-out
 * clients of transactions (promise style) alike.
 */
const PG_CHAR_OID = 18 // the internal one-byte "char" type (pg_class.relkind, pg_attribute.attalign, ...)
const PG_TEXT_OID = 25

function relabelCharFields<R>(result: R): R {
  for (const item of Array.isArray(result) ? result : [result]) {
    const fields = (item as { fields?: Array<{ dataTypeID: number }> } | undefined)?.fields
    if (fields) for (const field of fields) if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID
  }
  return result
}

class CharAsTextClient extends pg.Client {
  // pg's `query` has a dozen overloads; this one handles all of them by shape.
  override query(...args: any[]): any {
    const query = super.query as (...args: any[]) => any
    const last = args.at(-1)
    if (typeof last === 'function') {
      args[args.length - 1] = (error: unknown, result: unknown) => last(error, error ? result : relabelCharFields(result))
      return query.apply(this, args)
    }
    const result = query.apply(this, args)
    // A Submittable (cursor, stream) has no `then`: pass it through untouched.
    return result && typeof result.then === 'function' ? result.then(relabelCharFields) : result
  }
}

function postgresFactory(url: string): Tracked {
  // One pool, owned here, so that `close()` can end it whatever the engine left open.
  const pool = new pg.Pool({ connectionString: url, Client: CharAsTextClient })
  // Not `disposeExternalPool`: the adapter's dispose leaves an external pool open and our
  // close() ends it exactly once.
  const { factory, disposeAll } = tracking(new PrismaPg(pool))
  return {
    factory,
    async close() {
      try {
        await disposeAll()
      } finally {
        await pool.end()
      }
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/**
 * Workaround 4: when a driver call fails with a plain JS error, the adapter binding stores it
 * in its error registry and the engine only sees `{ kind: 'GenericJs', id }`, reporting
 * "External error id#N". Swap the original error back in so the real cause is visible.
 * A Rust panic shows up as a RuntimeError ("unreachable"); its message is in the registry
 * the glue writes to.
 */
function explain(error: unknown, registry: { consumeError(id: number): { error: unknown } | undefined }): Error {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error)
  const external = /External error id#(\d+)/.exec(message)
  if (external) {
    const original = registry.consumeError(Number(external[1]))?.error
    if (original !== undefined) {
      const cause = original instanceof Error ? original : new Error(String(original))
      return new Error(`schema-engine: ${cause.message}`, { cause })
    }
  }
  if (error instanceof Wasm.RuntimeError) {
    const panic = panicRegistry().get()
    return new Error(`schema-engine panicked: ${panic || error.message}`, { cause: error })
  }
  return error instanceof Error ? error : new Error(`schema-engine: ${message}`)
}

// ---------------------------------------------------------------------------------------------
// The push
// ---------------------------------------------------------------------------------------------

/** Returns `schema` with the provider of its `datasource` block replaced. */
export function withProvider(schema: string, provider: PushProvider): string {
  let found = false
  const out = schema.replace(/^(\s*datasource\s+\w+\s*\{)([^}]*)\}/m, (_whole, head: string, body: string) => {
    found = true
    return `${head}${body.replace(/^(\s*provider\s*=\s*)"[^"]*"/m, `$1"${provider}"`)}}`
  })
  if (!found) throw new Error('schema-engine: the schema has no datasource block')
  return out
}

/**
 * Makes the database at `url` match `schema` (creates every table, enum, index and foreign key),
 * like `prisma db push --accept-data-loss`. The database itself must exist (SQLite creates the
 * file). Closes every connection it opened before returning or throwing.
 */
export async function pushSchema(opts: PushSchemaOptions): Promise<PushSchemaResult> {
  pushesInFlight++
  try {
    return await push(opts)
  } finally {
    pushesInFlight--
    clearEngineTimersWhenIdle()
  }
}

async function push(opts: PushSchemaOptions): Promise<PushSchemaResult> {
  const glue = await loadEngine()
  const tracked = opts.provider === 'sqlite' ? sqliteFactory(opts.url) : postgresFactory(opts.url)
  const bound = bindMigrationAwareSqlAdapterFactory(tracked.factory)
  const content = withProvider(opts.schema, opts.provider)
  let engine: SchemaEngine | undefined
  try {
    // The engine sends its log lines to this callback; off unless asked for.
    const log = process.env.DEBUG?.includes('schema-engine') ? (line: string) => console.error('[schema-engine]', line) : () => {}
    engine = await glue.SchemaEngine.new({ datamodels: [['schema.prisma', content]] }, log, bound).catch(
      (error: unknown) => {
        throw explain(error, bound.errorRegistry)
      },
    )
    const result = await engine
      .schemaPush({
        force: true,
        schema: { files: [{ path: 'schema.prisma', content }] },
        filters: { externalTables: [], externalEnums: [] },
      })
      .catch((error: unknown) => {
        throw explain(error, bound.errorRegistry)
      })
    if (result.unexecutable.length > 0) {
      throw new Error(`schema-engine: the push cannot be executed:\n${result.unexecutable.join('\n')}`)
    }
    return { executedSteps: result.executedSteps, warnings: result.warnings }
  } finally {
    engine?.free()
    await tracked.close()
  }
}
