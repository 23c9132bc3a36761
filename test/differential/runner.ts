// The runner of the differential tester: runs a sequence of steps (model.ts) through extended
// clients ("lanes", each with its reference: a bare client of the same configuration and the same
// other extensions, on the same database) and, after every operation, compares the extended
// client's outcome with the reference's at the same moment: the value with its types and key
// order, or the error's class, code and message. Writes run once, through the extended client
// (the reference would see the same database); a failed write is run on the reference too and
// must fail the same way, and after every write the recent reads are read again by every lane.
//
// A failing sequence is printed, with every ref resolved, as a test to paste into
// test/differential/ (see `printReplay`); `replay()` runs it again on a fresh database.

import { Decimal } from '@prisma/client-runtime-utils'
import { Prisma } from '@prisma/client/extension'
import Keyv from 'keyv'
import fc from 'fast-check'
import { prefetch, rule, type Rule } from '../../src/index.ts'
import type { PrefetchOptions } from '../../src/types.ts'
import { createTestClient, createTestDatabase, provider, type TestDatabase } from '../helpers/db.ts'
import { redisStores } from '../support/stores.ts'
import { readDataModel, type DataModel, type ModelInfo } from './data-model.ts'
import { Generators, Ref, type Query, type Step } from './model.ts'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClient = any

/** How one lane's clients are built: global `omit` on or off, another result-changing extension before or after ours. */
export interface LaneConfig {
  omit: boolean
  other: 'none' | 'before' | 'after'
  /** Clients where Prisma loads relations as joins (PostgreSQL's `relationJoins`), so reads are combined; the reference is a bare one of those too. */
  joins?: boolean
}

export interface RunConfig {
  store: 'memory' | 'redis'
  lanes: LaneConfig[]
}

export const laneConfig: fc.Arbitrary<LaneConfig> = fc.record({ omit: fc.boolean(), other: fc.constantFrom('none' as const, 'before' as const, 'after' as const) })

/**
 * Lanes of clients sharing one store: global `omit` chosen per lane (clients of different
 * configuration must not serve each other's shapes), the other extension the same for all (see
 * docs/testing.md: an extension applied after prefetch() on one client only is not supported).
 */
export function sharedLaneConfigs(lanes: number): fc.Arbitrary<LaneConfig[]> {
  return fc
    .tuple(fc.array(fc.boolean(), { minLength: lanes, maxLength: lanes }), fc.constantFrom('none' as const, 'before' as const, 'after' as const))
    .map(([omits, other]) => omits.map((omit) => ({ omit, other })))
}

/** A result-changing query extension: appends "!" to every string field of returned rows. */
const exclaim = Prisma.defineExtension({
  name: 'differential-exclaim',
  query: {
    $allModels: {
      async $allOperations({ args, query }) {
        const mark = (value: unknown): unknown => {
          if (Array.isArray(value)) return value.map(mark)
          if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value
          return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, typeof v === 'string' ? `${v}!` : v]))
        }
        return mark(await query(args))
      },
    },
  },
})

// ---------------------------------------------------------------------------------------------
// Outcomes
// ---------------------------------------------------------------------------------------------

/**
 * A value as a tree that keeps what equality must see: key order, and the type of every leaf
 * (Date, BigInt, Decimal and its class, Uint8Array, -0, undefined vs absent).
 */
export function describeValue(value: unknown): unknown {
  if (value === null) return null
  switch (typeof value) {
    case 'undefined':
      return { $undefined: true }
    case 'bigint':
      return { $bigint: value.toString() }
    case 'number':
      return Object.is(value, -0) ? { $number: '-0' } : Number.isFinite(value) ? value : { $number: String(value) }
    case 'string':
    case 'boolean':
      return value
    case 'object':
      break
    default:
      return { $other: typeof value }
  }
  if (Array.isArray(value)) return { $array: value.map(describeValue) }
  if (value instanceof Date) return { $date: Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString() }
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('hex'), class: value.constructor.name }
  if (Decimal.isDecimal(value)) return { $decimal: (value as Decimal).toString(), prismaDecimal: value instanceof Decimal }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return { $class: proto?.constructor?.name, value: String(value) }
  return { $object: Object.entries(value).map(([key, v]) => [key, describeValue(v)]) }
}

export type Outcome = { ok: true; value: unknown } | { ok: false; error: { class: string; code?: unknown; message: string } }

async function outcome(run: () => unknown): Promise<Outcome> {
  try {
    return { ok: true, value: describeValue(await run()) }
  } catch (error) {
    const e = error as { constructor?: { name?: string }; code?: unknown; message?: unknown }
    return { ok: false, error: { class: e?.constructor?.name ?? typeof error, code: e?.code, message: String(e?.message ?? error) } }
  }
}

const same = (a: Outcome, b: Outcome) => JSON.stringify(a) === JSON.stringify(b)

export class Mismatch extends Error {}

// ---------------------------------------------------------------------------------------------
// The environment: one database, the clients, resetting and seeding
// ---------------------------------------------------------------------------------------------

export interface Environment {
  db: TestDatabase
  data: DataModel
  generators: Generators
  /** Reference clients without extensions: `plain` also reads the rows refs resolve against. */
  references: { plain: AnyClient; omit: AnyClient }
  /** Bases of the extended clients, one pair per lane (separate connections, as separate processes would have). */
  bases: Array<{ plain: AnyClient; omit: AnyClient }>
  omit: Record<string, Record<string, true>>
  /** Resets and seeds (on SQLite without foreign-key checks, so that tables restore in any order). */
  admin: AnyClient
  /** On PostgreSQL: clients of the schema generated with `relationJoins` (a reference and one base per lane, without global omit). */
  joins?: { reference: AnyClient; bases: AnyClient[] }
  /** The seeded rows, restored before every sequence. */
  snapshot?: Snapshot
  close(): Promise<void>
}

interface Snapshot {
  rows: Map<string, Record<string, unknown>[]>
  joins: Array<{ table: string; rows: Array<{ A: unknown; B: unknown }> }>
}

/** The global `omit` a lane with `omit: true` is configured with: the first optional scalar of every model. */
function globalOmit(data: DataModel): Record<string, Record<string, true>> {
  const omit: Record<string, Record<string, true>> = {}
  for (const model of data.models) {
    const field = model.scalars.find((f) => f.isOptional && !model.foreignKeys.has(f.name))
    if (field) omit[model.delegate] = { [field.name]: true }
  }
  return omit
}

export async function createEnvironment(lanes: number): Promise<Environment> {
  const db = await createTestDatabase()
  const plain = await createTestClient(db)
  const data = readDataModel(plain)
  const omit = globalOmit(data)
  const make = (withOmit: boolean) => createTestClient(db, undefined, withOmit ? { omit } : undefined)
  const references = { plain, omit: await make(true) }
  const bases: Environment['bases'] = []
  for (let i = 0; i < lanes; i++) bases.push({ plain: await make(false), omit: await make(true) })
  const admin = await make(false)
  let joins: Environment['joins']
  if (db.provider === 'postgresql') {
    const { PrismaClient: JoinsClient } = (await import('../../src/generated/prisma-pg-joins/client.ts')) as unknown as { PrismaClient: new (o: object) => AnyClient }
    joins = { reference: new JoinsClient({ adapter: db.adapterFactory() }), bases: Array.from({ length: lanes }, () => new JoinsClient({ adapter: db.adapterFactory() })) }
  }
  const clients = () => [admin, references.plain, references.omit, ...bases.flatMap((b) => [b.plain, b.omit]), ...(joins ? [joins.reference, ...joins.bases] : [])]
  if (db.provider === 'sqlite') await admin.$queryRawUnsafe('PRAGMA foreign_keys = OFF')
  // Every sequence starts from freshly seeded tables: commits without a flush to disk keep that
  // cheap (the tester needs no durability, and it changes no result).
  for (const client of clients()) {
    if (db.provider === 'sqlite') await client.$queryRawUnsafe('PRAGMA synchronous = OFF')
    else await client.$executeRawUnsafe('SET synchronous_commit = off')
  }
  return {
    db,
    data,
    generators: new Generators(data),
    references,
    bases,
    omit,
    admin,
    joins,
    async close() {
      for (const client of clients()) await client.$disconnect()
      await db.drop()
    },
  }
}

const quote = (name: string) => `"${name}"`

/** Tables of implicit many-to-many relations (Prisma's `_RelationName` with columns A and B). */
function joinTables(data: DataModel): string[] {
  const names = new Set<string>()
  for (const model of data.models) {
    for (const field of model.relations) if (field.isList && data.back(model, field).isList) names.add(`_${field.relationName}`)
  }
  return [...names]
}

/** Empties every table and restarts ids, so a printed sequence replays with the same ids on a fresh database. */
async function reset(env: Environment): Promise<void> {
  const tables = [...env.data.models.map((model) => model.table), ...joinTables(env.data)].map(quote)
  if (env.data.provider === 'postgresql') {
    await env.admin.$executeRawUnsafe(`TRUNCATE ${tables.join(', ')} RESTART IDENTITY CASCADE`)
    return
  }
  for (const table of tables) await env.admin.$executeRawUnsafe(`DELETE FROM ${table}`)
  await env.admin.$executeRawUnsafe(`DELETE FROM sqlite_sequence`).catch(() => {})
}

/** Puts the seeded rows back (seeding them the first time), ids included. */
async function restore(env: Environment): Promise<void> {
  await reset(env)
  if (env.snapshot === undefined) {
    await seed(env)
    const joins = []
    for (const table of joinTables(env.data)) joins.push({ table, rows: await env.admin.$queryRawUnsafe(`SELECT "A", "B" FROM ${quote(table)} ORDER BY "A", "B"`) })
    env.snapshot = { rows: await readPool(env, Infinity), joins }
    return
  }
  for (const model of seedOrder(env.data)) {
    const rows = env.snapshot.rows.get(model.name)!
    // Nulls are left out: an optional field is null by default, and a Json null must not be written as a JSON null.
    const data = rows.map((row) => Object.fromEntries(Object.entries(row).filter(([, value]) => value !== null)))
    if (data.length > 0) await env.admin[model.delegate].createMany({ data })
    const [id] = model.primaryKey
    const field = model.fields.find((f) => f.name === id)!
    if (env.data.provider === 'postgresql' && model.primaryKey.length === 1 && field.type === 'Int' && field.hasDefault) {
      await env.admin.$queryRawUnsafe(`SELECT setval(pg_get_serial_sequence('${quote(model.table)}', '${id}'), COALESCE(MAX(${quote(id)}), 0) + 1, false) FROM ${quote(model.table)}`)
    }
  }
  for (const { table, rows } of env.snapshot.joins) {
    if (rows.length === 0) continue
    const placeholders = rows.map((_, i) => (env.data.provider === 'postgresql' ? `($${2 * i + 1}, $${2 * i + 2})` : '(?, ?)')).join(', ')
    await env.admin.$executeRawUnsafe(`INSERT INTO ${quote(table)} ("A", "B") VALUES ${placeholders}`, ...rows.flatMap((row) => [row.A, row.B]))
  }
}

/** Models in an order where every required foreign key points to a model seeded before. */
function seedOrder(data: DataModel): ModelInfo[] {
  const order: ModelInfo[] = []
  const left = new Set(data.models)
  while (left.size > 0) {
    const ready = [...left].filter((model) =>
      model.relations.every((field) => {
        if (!field.fkFields || field.type === model.name) return true
        const required = field.fkFields.every((name) => !model.fields.find((f) => f.name === name)!.isOptional)
        return !required || order.some((m) => m.name === field.type)
      }),
    )
    if (ready.length === 0) throw new Error('differential: cyclic required foreign keys')
    for (const model of ready) {
      order.push(model)
      left.delete(model)
    }
  }
  return order
}

const SEED_ROWS = 4

/** Rows of every model with values of every scalar type, generated from the data model with a fixed seed. */
async function seed(env: Environment): Promise<void> {
  const client = env.references.plain
  let n = 0
  for (const model of seedOrder(env.data)) {
    const rows = fc.sample(env.generators.createData(model, 0), { seed: 4242 + n++, numRuns: SEED_ROWS })
    const pool = await readPool(env)
    for (const data of rows) await client[model.delegate].create({ data: resolve(data, pool, env.data) }).catch(() => {})
  }
  // Join rows of many-to-many relations.
  const pool = await readPool(env)
  for (const model of env.data.models) {
    for (const field of model.relations.filter((f) => f.isList && env.data.back(model, f).isList)) {
      for (const [i, row] of (pool.get(model.name) ?? []).entries()) {
        const targets = (pool.get(field.type) ?? []).filter((_, j) => (i + j) % 2 === 0)
        const target = env.data.byName.get(field.type)!
        await client[model.delegate]
          .update({ where: env.data.uniqueWhere(model, model.primaryKey, row), data: { [field.name]: { connect: targets.map((t) => env.data.uniqueWhere(target, target.primaryKey, t)) } } })
          .catch(() => {})
      }
    }
  }
}

type Pool = Map<string, Record<string, unknown>[]>

async function readPool(env: Environment, take = 40): Promise<Pool> {
  const pool: Pool = new Map()
  const reads = env.data.models.map((model) =>
    env.admin[model.delegate].findMany({ orderBy: model.primaryKey.map((name) => ({ [name]: 'asc' })), ...(take === Infinity ? {} : { take }) }),
  )
  // One batch: one round trip where the driver allows it.
  const results = await env.admin.$transaction(reads)
  env.data.models.forEach((model, i) => pool.set(model.name, results[i]))
  return pool
}

const MISSING: Record<string, unknown> = { Int: 2_000_000_000, String: 'missing@example.com', BigInt: 0n, Float: 0, Boolean: false }

/** Replaces every Ref in `value` with the value or unique `where` of a row present now. */
export function resolve(value: unknown, pool: Pool, data: DataModel): any {
  if (value instanceof Ref) {
    const model = data.byName.get(value.model)!
    const rows = pool.get(value.model) ?? []
    const row =
      value.pick >= 0 && rows.length > 0
        ? rows[value.pick % rows.length]
        : Object.fromEntries(value.fields.map((name) => [name, MISSING[model.fields.find((f) => f.name === name)!.type] ?? null]))
    return value.as === 'value' && value.fields.length === 1 ? row[value.fields[0]] : data.uniqueWhere(model, value.fields, row)
  }
  if (Array.isArray(value)) return value.map((item) => resolve(item, pool, data))
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, resolve(v, pool, data)]))
  }
  return value
}

// ---------------------------------------------------------------------------------------------
// Running a sequence
// ---------------------------------------------------------------------------------------------

interface Lane {
  ext: AnyClient
  reference: AnyClient
  forSession: Map<number, AnyClient>
}

export interface RunStats {
  sequences: number
  operations: number
  comparisons: number
  /** Reads sent combined with the read predicted to follow them (`byStrategy.combine.issued`, summed over lanes and sequences). */
  combined: number
}

/** The options every extended client gets: learning, rules and speculation on, eager. */
function options(data: DataModel, cache: Keyv | undefined, errors: unknown[]): PrefetchOptions {
  return {
    ...(cache ? { cache, storeTimeout: 5000 } : {}),
    learn: { minSupport: 1, shareIntervalMs: 50 },
    minProbability: 0.05,
    rules: rulesFrom(data),
    onError: (error) => errors.push(error),
  }
}

/** One rule per relation: after a read of a row, read its related rows. */
function rulesFrom(data: DataModel): Rule[] {
  const rules: Rule[] = []
  for (const model of data.models) {
    for (const field of model.relations) {
      const back = data.back(model, field)
      if (field.isList && back.fkFields?.length === 1) {
        const [fk, ref] = [back.fkFields[0], back.references![0]]
        rules.push(rule(`${model.name}.findUnique`).then(`${field.type}.findMany`, ({ result }: { result: any }) => (result?.[ref] === undefined ? null : { where: { [fk]: result[ref] } })))
      }
      if (field.fkFields?.length === 1) {
        const [fk, ref] = [field.fkFields[0], field.references![0]]
        rules.push(rule(`${model.name}.findFirst`).then(`${field.type}.findUnique`, ({ result }: { result: any }) => (result?.[fk] == null ? null : { where: { [ref]: result[fk] } })))
      }
    }
  }
  return rules
}

// The two calls every comparison makes go through these single lines, so that the call site
// Prisma puts into error messages is the same for the reference and the extended client.
const call = (client: AnyClient, query: Query) => client[query.model[0].toLowerCase() + query.model.slice(1)][query.operation](query.args)
const fluentCall = (client: AnyClient, step: Extract<Step, { kind: 'fluent' }>) =>
  step.path.reduce((promise, hop) => promise[hop.field](hop.args), call(client, step))

const template = (strings: string[]) => Object.assign([...strings], { raw: [...strings] }) as unknown as TemplateStringsArray

export async function runSequence(env: Environment, config: RunConfig, steps: Step[], stats: RunStats, transcript: Step[]): Promise<void> {
  let t = performance.now()
  await restore(env)
  if (process.env.DIFFERENTIAL_PROFILE) console.log(`restore ${(performance.now() - t).toFixed(0)} ms`)
  const errors: unknown[] = []
  const redis = config.store === 'redis' ? redisStores() : undefined
  const stores = config.lanes.map(() => redis?.make())
  const lanes: Lane[] = config.lanes.map((lane, i) => {
    if (lane.joins && env.joins === undefined) throw new Error('differential: joins lanes need PostgreSQL')
    const base = lane.joins ? env.joins!.bases[i] : lane.omit ? env.bases[i].omit : env.bases[i].plain
    const reference = lane.joins ? env.joins!.reference : lane.omit ? env.references.omit : env.references.plain
    const ext = prefetch(options(env.data, stores[i]?.store, errors))
    const extended = lane.other === 'before' ? base.$extends(exclaim).$extends(ext) : lane.other === 'after' ? base.$extends(ext).$extends(exclaim) : base.$extends(ext)
    return { ext: extended, reference: lane.other === 'none' ? reference : reference.$extends(exclaim), forSession: new Map() }
  })
  stats.sequences++
  const reads: Array<Extract<Step, { kind: 'read' | 'fluent' }>> = []
  try {
    let pool = await readPool(env)
    for (const [index, original] of steps.entries()) {
      const step = resolve(original, pool, env.data) as Step
      if (step.kind === 'repeat' && reads.length === 0) continue
      transcript.push(step)
      stats.operations++
      const changed = await runStep(env, lanes, step, reads, stats, index)
      if (changed) {
        pool = await readPool(env)
        // Everything read lately must now be read as it is, by every lane.
        for (const read of [...new Set(reads.slice(-3))]) {
          for (const lane of lanes.keys()) await compareRead(lanes, { ...read, bind: { ...read.bind, lane } }, stats, `after step ${index + 1}, again`)
        }
      }
    }
  } finally {
    for (const lane of lanes) await lane.ext.$prefetch.close()
    for (const lane of lanes) stats.combined += lane.ext.$prefetch.stats().byStrategy.combine?.issued ?? 0
    for (const store of stores) {
      await store?.store.clear().catch(() => {})
      await store?.close()
    }
  }
}

function bound(lane: Lane, bind: { session: number; forSession: boolean }): (fn: (client: AnyClient) => unknown) => Promise<AnyClient> {
  if (bind.session < 0) return async (fn) => await fn(lane.ext)
  const sessionId = `session-${bind.session}`
  const userId = `user-${bind.session % 2}`
  if (bind.forSession) {
    let client = lane.forSession.get(bind.session)
    if (!client) lane.forSession.set(bind.session, (client = lane.ext.$prefetch.forSession(sessionId, { userId })))
    return async (fn) => await fn(client)
  }
  return (fn) => lane.ext.$prefetch.session(sessionId, async () => await fn(lane.ext), { userId })
}

async function compareRead(lanes: Lane[], step: Extract<Step, { kind: 'read' | 'fluent' }>, stats: RunStats, where: string): Promise<void> {
  const lane = lanes[step.bind.lane]
  const run = (client: AnyClient) => (step.kind === 'fluent' ? fluentCall(client, step) : call(client, step))
  const extended = await outcome(() => bound(lane, step.bind)(run))
  const reference = await outcome(() => run(lane.reference))
  stats.comparisons++
  if (!same(extended, reference)) throw mismatch(where, step, extended, reference)
}

function mismatch(where: string, step: unknown, extended: Outcome, reference: Outcome): Mismatch {
  const text = (o: Outcome) => (o.ok ? render(o.value) : `throws ${JSON.stringify(o.error)}`).slice(0, 3000)
  return new Mismatch(
    `differential: ${where}: ${js(step)}\n  first difference at ${firstDifference(extended, reference)}\n  extended client: ${text(extended)}\n  bare client:     ${text(reference)}`,
  )
}

/** A described value (describeValue) as compact JavaScript-like text, types and key order visible. */
function render(d: unknown): string {
  if (d === null || typeof d !== 'object') return JSON.stringify(d)
  const o = d as Record<string, any>
  if ('$object' in o) return `{ ${(o.$object as Array<[string, unknown]>).map(([k, v]) => `${k}: ${render(v)}`).join(', ')} }`
  if ('$array' in o) return `[${(o.$array as unknown[]).map(render).join(', ')}]`
  if ('$bigint' in o) return `${o.$bigint}n`
  if ('$date' in o) return `Date(${o.$date})`
  if ('$decimal' in o) return `Decimal(${o.$decimal}${o.prismaDecimal ? '' : ', foreign class'})`
  if ('$bytes' in o) return `${o.class}(${o.$bytes})`
  return JSON.stringify(o)
}

/** The path of the first place two outcomes differ. */
function firstDifference(a: unknown, b: unknown, path = '$'): string {
  if (JSON.stringify(a) === JSON.stringify(b)) return '(none)'
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return path
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length && !(a.length === 2 && typeof a[0] === 'string')) return `${path} (length ${a.length} vs ${b.length})`
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) return firstDifference(a[i], b[i], Array.isArray(a[i]) && typeof a[i][0] === 'string' ? `${path}.${a[i][0]}` : `${path}[${i}]`)
    }
    return path
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)])
  for (const key of keys) {
    const [x, y] = [(a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]]
    if (JSON.stringify(x) !== JSON.stringify(y)) return key.startsWith('$') || key === 'value' ? firstDifference(x, y, path) : firstDifference(x, y, `${path}.${key}`)
  }
  return path
}

/** Runs one step; true when it may have changed the database. */
async function runStep(env: Environment, lanes: Lane[], step: Step, reads: Array<Extract<Step, { kind: 'read' | 'fluent' }>>, stats: RunStats, index: number): Promise<boolean> {
  const where = `step ${index + 1}`
  switch (step.kind) {
    case 'idle':
      await lanes[step.lane].ext.$prefetch.idle()
      return false
    case 'read':
    case 'fluent':
      reads.push(step)
      await compareRead(lanes, step, stats, where)
      return false
    case 'page': {
      const lane = lanes[step.bind.lane]
      // The children's where takes the key from the parent row each client returned.
      const page = async (client: AnyClient) => {
        let row: any
        const parent = await outcome(async () => (row = await call(client, step.parent)))
        if (row === null || row === undefined) return { parent }
        const key = step.fks === undefined ? row[step.ref] : { in: step.fks.map((name) => row[name]).filter((value) => value !== null && value !== undefined) }
        // A to-one read by a null foreign key: the page reads no related row.
        if ((key === null || key === undefined) && step.child.operation !== 'findMany') return { parent }
        const where = { ...(step.child.args.where as object | undefined), [step.fk]: key }
        return { parent, child: await outcome(() => call(client, { ...step.child, args: { ...step.child.args, where } })) }
      }
      const extended = await bound(lane, step.bind)(page)
      const reference = await page(lane.reference)
      stats.comparisons++
      if (!same(extended.parent, reference.parent)) throw mismatch(`${where} (the parent read)`, step, extended.parent, reference.parent)
      if (extended.child !== undefined || reference.child !== undefined) {
        stats.comparisons++
        const none: Outcome = { ok: true, value: 'not read' }
        if (!same(extended.child ?? none, reference.child ?? none)) throw mismatch(`${where} (the children read)`, step, extended.child ?? none, reference.child ?? none)
      }
      return false
    }
    case 'repeat': {
      const read = reads[step.index % reads.length]
      await compareRead(lanes, { ...read, bind: step.bind }, stats, `${where} (reading step ${JSON.stringify(read.bind)} again)`)
      return false
    }
    case 'write': {
      const lane = lanes[step.bind.lane]
      const extended = await outcome(() => bound(lane, step.bind)((client) => call(client, step)))
      if (!extended.ok) {
        const reference = await outcome(() => call(lane.reference, step))
        stats.comparisons++
        if (!same(extended, reference)) throw mismatch(where, step, extended, reference)
      }
      return true
    }
    case 'raw': {
      const lane = lanes[step.bind.lane]
      const model = env.data.byName.get(step.model)!
      const [table, column, id] = [quote(model.table), quote(step.field), quote(model.primaryKey[0])]
      if (step.statement === 'update') {
        const strings = template([`UPDATE ${table} SET ${column} = `, ` WHERE ${id} = `, ''])
        const extended = await outcome(() => bound(lane, step.bind)((client) => client.$executeRaw(strings, step.value, step.row)))
        if (!extended.ok) {
          const reference = await outcome(() => lane.reference.$executeRaw(strings, step.value, step.row))
          stats.comparisons++
          if (!same(extended, reference)) throw mismatch(where, step, extended, reference)
        }
        return true
      }
      const sql = `SELECT ${id}, ${column} FROM ${table} ORDER BY ${id}`
      const extended = await outcome(() => bound(lane, step.bind)((client) => client.$queryRawUnsafe(sql)))
      const reference = await outcome(() => lane.reference.$queryRawUnsafe(sql))
      stats.comparisons++
      if (!same(extended, reference)) throw mismatch(where, step, extended, reference)
      return false
    }
    case 'batch': {
      const lane = lanes[step.bind.lane]
      const batch = (client: AnyClient) => client.$transaction(step.queries.map((query) => call(client, query)))
      const extended = await outcome(() => bound(lane, step.bind)(batch))
      const readOnly = step.queries.every((query) => READS.has(query.operation))
      if (readOnly || !extended.ok) {
        const reference = await outcome(() => batch(lane.reference))
        stats.comparisons++
        if (!same(extended, reference)) throw mismatch(where, step, extended, reference)
      }
      return !readOnly
    }
    case 'transaction': {
      const lane = lanes[step.bind.lane]
      // Reads before the first write see the same rows in both runs (ids and defaults of created rows may differ).
      const comparable = step.queries.findIndex((query) => !READS.has(query.operation))
      const interactive = (client: AnyClient) =>
        client.$transaction(async (tx: AnyClient) => {
          const results: unknown[] = []
          for (const query of step.queries) results.push(await call(tx, query))
          if (!step.commit) throw new Rollback(comparable < 0 ? results : results.slice(0, comparable))
          return comparable < 0 ? results : results.slice(0, comparable)
        })
      const unwrap = async (run: () => Promise<unknown>) => {
        try {
          return await run()
        } catch (error) {
          if (error instanceof Rollback) return error.results
          throw error
        }
      }
      const extended = await outcome(() => unwrap(() => bound(lane, step.bind)(interactive)))
      if (!step.commit || !extended.ok) {
        const reference = await outcome(() => unwrap(() => interactive(lane.reference)))
        stats.comparisons++
        if (!same(extended, reference)) throw mismatch(where, step, extended, reference)
      }
      return step.commit && step.queries.some((query) => !READS.has(query.operation))
    }
  }
}

class Rollback extends Error {
  constructor(readonly results: unknown[]) {
    super('differential: rolled back on purpose')
  }
}

const READS = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'count', 'aggregate', 'groupBy'])

// ---------------------------------------------------------------------------------------------
// Printing and replaying
// ---------------------------------------------------------------------------------------------

/** A JavaScript literal of a resolved value (Date, BigInt, Decimal, Uint8Array included). */
export function js(value: unknown): string {
  if (value === undefined) return 'undefined'
  if (value === null) return 'null'
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value)
  if (typeof value === 'boolean') return String(value)
  if (value instanceof Date) return `new Date(${JSON.stringify(value.toISOString())})`
  if (value instanceof Uint8Array) return `new Uint8Array([${[...value].join(', ')}])`
  if (Decimal.isDecimal(value)) return `new Decimal(${JSON.stringify(String(value))})`
  if (value instanceof Ref) return `new Ref(${JSON.stringify(value.model)}, ${JSON.stringify(value.fields)}, ${value.pick}, ${JSON.stringify(value.as)})`
  if (Array.isArray(value)) return `[${value.map(js).join(', ')}]`
  const entries = Object.entries(value as object).filter(([, v]) => v !== undefined)
  return `{ ${entries.map(([key, v]) => `${/^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key)}: ${js(v)}`).join(', ')} }`
}

/** A failing sequence as a test to paste into test/differential/. */
export function printReplay(config: RunConfig, steps: Step[], error: unknown): string {
  const lines = steps.map((step) => `    ${js(step)},`)
  return [
    `// ${String((error as Error)?.message ?? error).split('\n')[0]}`,
    `import { Decimal } from '@prisma/client-runtime-utils'`,
    `import { expect, it } from 'vitest'`,
    `import { replay } from './runner.ts'`,
    ``,
    `it('differential: a shrunk failing sequence', async () => {`,
    `  const failure = await replay(${js(config)}, [`,
    ...lines,
    `  ])`,
    `  expect(failure).toBeUndefined()`,
    `}, 120_000)`,
  ].join('\n')
}

/** Runs `steps` (refs resolved or not) on a fresh database; the error it fails with, or undefined. */
export async function replay(config: RunConfig, steps: Step[]): Promise<unknown> {
  const env = await createEnvironment(config.lanes.length)
  try {
    await runSequence(env, config, steps, { sequences: 0, operations: 0, comparisons: 0, combined: 0 }, [])
    return undefined
  } catch (error) {
    return error
  } finally {
    await env.close()
  }
}

export { provider }
