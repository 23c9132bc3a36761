/**
 * The benchmark: emulated users walk the published TPC-W and RUBiS behaviour models (see
 * bench/workloads) against a seeded SQLite database behind an emulated network, once per mode,
 * on the same sessions with the same seed:
 *
 *   none         the bare client
 *   cacheOnly    prefetch() as a read-through cache with write invalidation, no prediction
 *   extensionRedis  prisma-extension-redis 5 (a published Prisma 7 caching extension: auto-caching
 *                on Redis, invalidateOnWrite), when Redis answers at REDIS_URL or 127.0.0.1:6379
 *   markovExact  the classic first-order prefetcher over exact queries (bench/baselines.ts)
 *   prefetch     prefetch() with its default options
 *   oracle       knows each session's next page and warms all its reads (those before its first
 *                write) at the start of the think time: the ceiling
 *
 *   npm run bench -- [--quick] [--rtt 5] [--sessions 48] [--concurrency 16] [--think 10]
 *                    [--seed 1] [--workloads tpcw-browsing,tpcw-shopping,rubis-bidding]
 *                    [--scale small|standard] [--json FILE] [--svg FILE] [--options JSON] [--processes N]
 *
 * Latency model: every database round trip waits `--rtt` ms (bench/latency.ts). Think time
 * between pages is exponential with mean `--think` ms: TPC-W's 7 s mean, scaled down 700 times
 * so a run takes a minute rather than hours.
 *
 * DATABASE_URL=postgresql://... runs on PostgreSQL instead of SQLite files (a seeded template
 * database per schema, copied with CREATE DATABASE ... TEMPLATE for every run); REDIS_URL puts
 * the extension's results and generations in Redis (a namespace per run).
 */
import { spawn } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import KeyvRedis from '@keyv/redis'
import Keyv from 'keyv'
import pg from 'pg'
import { Valkey } from 'iovalkey'
import { PrismaExtensionRedis } from 'prisma-extension-redis'
import cliProgress from 'cli-progress'
import { pushSchema } from '../scripts/schema-engine.ts'
import { prefetch, type PrefetchOptions } from '../src/index.ts'
import { READ_OPERATIONS } from '../src/options.ts'
import { ExactMarkov, type Query } from './baselines.ts'
import { withLatency } from './latency.ts'
import { formatTable, MODES, oracleShare, renderSvg, summarize, type Mode, type Run } from './report.ts'
import { Rng } from './workloads/random.ts'
import { workloadOf, type Workload, type WorkloadName } from './workloads/catalog.ts'
import { paramRng, planSession, type SessionPlan } from './workloads/sessions.ts'

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rtt: { type: 'string', default: '5' },
    sessions: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    think: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    workloads: { type: 'string', default: 'tpcw-browsing,tpcw-shopping,rubis-bidding' },
    scale: { type: 'string', default: 'small' },
    json: { type: 'string' },
    svg: { type: 'string', default: 'bench/results/bench.svg' },
    options: { type: 'string', default: '{}' },
    processes: { type: 'string', default: '1' },
    /** Internal: this process is one of `--processes` children, running the sessions it is given. */
    child: { type: 'string' },
  },
})
/** Extra options of the `prefetch` mode, as JSON (e.g. '{"concurrency":16}'), to measure a setting. */
const PREFETCH_OPTIONS = JSON.parse(flags.options) as PrefetchOptions
const RTTS = flags.rtt.split(',').map(Number)
const PROCESSES = Number(flags.processes)
const SESSIONS = Number(flags.sessions ?? (flags.quick ? 32 : 96))
const CONCURRENCY = Number(flags.concurrency)
const THINK_MS = Number(flags.think)
const SEED = Number(flags.seed)
const WORKLOADS = flags.workloads.split(',') as WorkloadName[]

const POSTGRES_URL = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : undefined
const REDIS_URL = process.env.REDIS_URL
const provider = POSTGRES_URL ? 'postgresql' : 'sqlite'
const PUBLISHED_EXTENSION_REDIS = REDIS_URL ?? 'redis://127.0.0.1:6379'

/** Whether Redis answers, for the published extension's mode (skipped otherwise). */
async function redisAnswers(): Promise<boolean> {
  const probe = new Valkey(PUBLISHED_EXTENSION_REDIS, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  try {
    await probe.connect()
    return (await probe.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}

const READS = new Set<string>(READ_OPERATIONS)
const dir = mkdtempSync(join(tmpdir(), 'prisma-prefetch-bench-'))

const workloadNamed = (name: WorkloadName) => workloadOf(name, { scale: flags.scale, seed: SEED, provider })

/** Where one database lives: a SQLite file or a PostgreSQL database, and adapters onto it. */
interface Database {
  adapter(): PrismaBetterSqlite3 | PrismaPg
}

const runId = `${process.pid}_${Date.now().toString(36)}`
const created: string[] = []
async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}
function databaseUrl(name: string): string {
  const url = new URL(POSTGRES_URL!)
  url.pathname = `/${name}`
  return url.toString()
}
function databaseOf(name: string): Database {
  if (!POSTGRES_URL) {
    const url = join(dir, `${name}.db`)
    return { adapter: () => new PrismaBetterSqlite3({ url }) }
  }
  const url = databaseUrl(name)
  return { adapter: () => new PrismaPg({ connectionString: url }) }
}

/** One seeded database per schema; every (workload, mode) run starts from a copy of it. */
const templates = new Map<string, string>()
async function template(workload: Workload): Promise<string> {
  const existing = templates.get(workload.schema)
  if (existing) return existing
  const name = `bench_${workload.schema}_${runId}`
  const schema = readFileSync(new URL(`../prisma/bench/${workload.schema}.prisma`, import.meta.url), 'utf8')
  if (POSTGRES_URL) {
    await admin((c) => c.query(`CREATE DATABASE "${name}"`))
    created.push(name)
    await pushSchema({ provider, url: databaseUrl(name), schema })
  } else {
    await pushSchema({ provider, url: join(dir, `${name}.db`), schema })
  }
  const client = new workload.Client({ adapter: databaseOf(name).adapter() }) as { $disconnect(): Promise<void> }
  await workload.seed(client)
  await client.$disconnect()
  templates.set(workload.schema, name)
  return name
}

/** A fresh copy of the workload's seeded database. */
async function copyOf(workload: Workload, name: string): Promise<Database> {
  const source = await template(workload)
  if (POSTGRES_URL) {
    await admin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${source}"`))
    created.push(name)
  } else {
    copyFileSync(join(dir, `${source}.db`), join(dir, `${name}.db`))
  }
  return databaseOf(name)
}

/** The extension's shared store for a run: Redis when REDIS_URL is set, else process memory only. */
function storeFor(run: string): { cache?: Keyv; close(): Promise<void> } {
  if (!REDIS_URL) return { close: async () => {} }
  const adapter = new KeyvRedis(REDIS_URL)
  return { cache: new Keyv({ store: adapter, namespace: `bench-${run}`, useKeyPrefix: false }), close: () => adapter.disconnect() }
}

class StopShadow extends Error {}
/** Rejects only when awaited: a page may build a write it never awaits (a batch transaction). */
const stop = () => ({ then: (_: unknown, reject: (error: unknown) => void) => reject(new StopShadow()) })

/**
 * The oracle's view of a page before it runs: replays it on a copy of the session and of its
 * random stream against an uncounted client, recording each read until the first write (which
 * it does not perform: what follows a write would be invalidated by it anyway).
 */
async function recordReads(workload: Workload, shadow: object, page: string, session: object, rng: Rng): Promise<Query[]> {
  const reads: Query[] = []
  const recording = new Proxy(shadow, {
    get(target, property) {
      if (typeof property !== 'string' || property.startsWith('$')) return stop
      const delegate = (target as Record<string, Record<string, (args: object) => Promise<unknown>>>)[property]
      const model = property[0].toUpperCase() + property.slice(1)
      return new Proxy(delegate, {
        get(methods, operation) {
          if (typeof operation !== 'string' || !READS.has(operation)) return stop
          return (args: object = {}) => {
            reads.push({ model, operation, args })
            return methods[operation](args)
          }
        },
      })
    },
  })
  const { ctx, ...state } = session as { ctx: unknown }
  const sessionCopy = { ctx, ...structuredClone(state) }
  const rngCopy = Object.assign(Object.create(Rng.prototype), rng) as Rng
  try {
    await workload.pages[page](recording as never, sessionCopy as never, rngCopy)
  } catch {
    // StopShadow at the first write, or a page that needs state the replay lacks: keep what was recorded.
  }
  return reads
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** What one process measured of one mode: every page's latency, statements sent, and counters. */
interface Played {
  latencies: number[]
  queries: number
  stats?: { reads: number; prefetchHits: number; lateHits: number; completed: number; used: number }
}

/** Runs `plans` in `mode` against the database `runName` (a copy made beforehand), `concurrency` sessions at once. */
async function playMode(name: WorkloadName, workload: Workload, mode: Mode, rttMs: number, plans: SessionPlan[], runName: string, concurrency: number, onPage: () => void): Promise<Played> {
  const database = databaseOf(runName)
  const slow = withLatency(database.adapter(), rttMs)
  const base = new workload.Client({ adapter: slow.factory }) as { $extends(ext: unknown): any; $disconnect(): Promise<void> }
  const shadowBase = new workload.Client({ adapter: database.adapter() }) as { $disconnect(): Promise<void> }
  const store = storeFor(runName)
  const options: PrefetchOptions = store.cache ? { cache: store.cache } : {}
  // Every mode but prefetch uses the extension as a cache only; their prediction is their own.
  if (mode !== 'prefetch') options.learn = false
  else Object.assign(options, PREFETCH_OPTIONS)
  let db: any = base
  let markov: ExactMarkov | undefined
  let valkey: Valkey | undefined
  if (mode === 'extensionRedis') {
    // Its own documented setup for automatic caching with write invalidation, on Redis 7
    // without the RedisJSON module; a key prefix per run keeps runs apart.
    valkey = new Valkey(PUBLISHED_EXTENSION_REDIS)
    db = base.$extends(
      PrismaExtensionRedis({
        config: { ttl: 60, stale: 0, type: 'STRING', cacheKey: { prefix: runName }, auto: { invalidateOnWrite: true, ttl: 60 } },
        client: valkey,
      }),
    )
  } else if (mode === 'markovExact') {
    let client: any
    markov = new ExactMarkov((query) => client.$prefetch.warm(query))
    client = base.$extends(markov.extension()).$extends(prefetch(options))
    db = client
  } else if (mode !== 'none') {
    db = base.$extends(prefetch(options))
  }
  const latencies: number[] = []
  const thinkRng = Rng.derive(SEED, name, 'think')

  async function runSession(plan: SessionPlan) {
    const rng = paramRng(plan)
    const session = workload.newSession(rng)
    const id = `${plan.workload}-${plan.index}`
    const play = async () => {
      for (let i = 0; i < plan.pages.length; i++) {
        const start = performance.now()
        await workload.pages[plan.pages[i]](db as never, session as never, rng)
        latencies.push(performance.now() - start)
        onPage()
        const next = plan.pages[i + 1]
        if (next === undefined) break
        if (mode === 'oracle') {
          void recordReads(workload, shadowBase, next, session, rng).then((reads) =>
            Promise.all(reads.map((query) => db.$prefetch.warm(query))),
          )
        }
        await sleep(-Math.log(1 - thinkRng.float()) * THINK_MS)
      }
    }
    const inSession = () => (db.$prefetch === undefined ? play() : db.$prefetch.session(id, play))
    await (markov ? markov.sessions.run(id, inSession) : inSession())
    markov?.endSession(id)
  }

  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(concurrency, plans.length) }, async () => {
      while (next < plans.length) await runSession(plans[next++])
    }),
  )
  const ours = mode !== 'none' && mode !== 'extensionRedis'
  if (ours) await db.$prefetch.idle()
  const stats = ours ? db.$prefetch.stats() : undefined
  if (process.env.BENCH_DEBUG && stats) console.log(mode, JSON.stringify({ prefetch: stats.prefetch, byStrategy: stats.byStrategy }))
  if (process.env.BENCH_DEBUG && mode === 'prefetch') console.log(JSON.stringify(db.$prefetch.model({ limit: 40 }), null, 1))
  await base.$disconnect()
  await shadowBase.$disconnect()
  await store.close()
  valkey?.disconnect()
  return {
    latencies,
    queries: slow.trips.queries,
    stats: stats && { reads: stats.reads, prefetchHits: stats.prefetchHits, lateHits: stats.lateHits, completed: stats.prefetch.completed, used: stats.prefetch.used },
  }
}

/**
 * One mode on a fresh copy of the database: in this process, or with `--processes N` in N
 * processes sharing the database (and Redis, with REDIS_URL), each running a share of the
 * sessions; their figures are merged.
 */
async function runMode(name: WorkloadName, workload: Workload, mode: Mode, rttMs: number, plans: SessionPlan[], bar: cliProgress.SingleBar) {
  const runName = `bench_${name.replace('-', '_')}_${mode.toLowerCase()}_${rttMs}_${runId}`
  await copyOf(workload, runName)
  let played: Played[]
  if (PROCESSES === 1) {
    played = [await playMode(name, workload, mode, rttMs, plans, runName, CONCURRENCY, () => bar.increment())]
  } else {
    const share = (k: number) => plans.filter((_, i) => i % PROCESSES === k).map((plan) => plan.index)
    played = await Promise.all(
      Array.from({ length: PROCESSES }, (_, k) =>
        runChild({ name, mode, rttMs, runName, indices: share(k), concurrency: Math.ceil(CONCURRENCY / PROCESSES) }).then((result) => {
          bar.increment(result.latencies.length)
          return result
        }),
      ),
    )
  }
  const sum = (f: (s: NonNullable<Played['stats']>) => number) => played.reduce((n, p) => n + (p.stats ? f(p.stats) : 0), 0)
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b)
  return summarize(
    played.flatMap((p) => p.latencies),
    played.reduce((n, p) => n + p.queries, 0),
    ratio(sum((s) => s.used), sum((s) => s.completed)),
    ratio(sum((s) => s.prefetchHits + s.lateHits), sum((s) => s.reads)),
  )
}

interface ChildTask {
  name: WorkloadName
  mode: Mode
  rttMs: number
  runName: string
  indices: number[]
  concurrency: number
}

function runChild(task: ChildTask): Promise<Played> {
  const args = [...process.execArgv, ...process.argv.slice(1), '--child', JSON.stringify(task)]
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: process.env })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.stderr.on('data', (chunk) => (err += chunk))
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"latencies"'))
      if (code === 0 && line) resolve(JSON.parse(line) as Played)
      else reject(new Error(`benchmark process for ${task.name} ${task.mode} exited with ${code}: ${err.slice(-2000)}`))
    })
  })
}

if (flags.child) {
  const task = JSON.parse(flags.child) as ChildTask
  const plans = task.indices.map((i) => planSession(task.name, i, { seed: SEED }))
  const result = await playMode(task.name, workloadNamed(task.name), task.mode, task.rttMs, plans, task.runName, task.concurrency, () => {})
  console.log(JSON.stringify(result))
  rmSync(dir, { recursive: true, force: true })
  process.exit(0)
}
if (PROCESSES > 1 && !POSTGRES_URL) throw new Error('--processes needs a shared database: set DATABASE_URL to a PostgreSQL database')

const modes = (await redisAnswers()) ? MODES : MODES.filter((mode) => mode !== 'extensionRedis')
const runs: Run[] = []
const planned = new Map(WORKLOADS.map((name) => [name, Array.from({ length: SESSIONS }, (_, i) => planSession(name, i, { seed: SEED }))]))
const totalPages = RTTS.length * modes.length * [...planned.values()].reduce((sum, plans) => sum + plans.reduce((n, p) => n + p.pages.length, 0), 0)
const started = performance.now()
console.log(`prisma-prefetch benchmark on ${provider}${REDIS_URL ? ' + Redis' : ''}: ${WORKLOADS.join(', ')}; rtt ${RTTS.join(', ')} ms; ${SESSIONS} sessions, ${CONCURRENCY} at once; think ${THINK_MS} ms mean; seed ${SEED}`)
for (const name of WORKLOADS) await template(workloadNamed(name)) // seed before the clock of the first run starts
const bar = new cliProgress.SingleBar({ format: ' {bar} {percentage}% | {value}/{total} pages | {run}', hideCursor: true }, cliProgress.Presets.shades_classic)
bar.start(totalPages, 0, { run: '' })
for (const rttMs of RTTS) {
  for (const name of WORKLOADS) {
    const workload = workloadNamed(name)
    const run: Run = { workload: name, rttMs, sessions: SESSIONS, modes: {} }
    for (const mode of modes) {
      bar.update({ run: `${name} ${mode} rtt ${rttMs}` })
      run.modes[mode] = await runMode(name, workload, mode, rttMs, planned.get(name)!, bar)
    }
    runs.push(run)
  }
}
bar.stop()
rmSync(dir, { recursive: true, force: true })
for (const name of created.reverse()) await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))

console.log(formatTable(runs))
console.log(`\n${((performance.now() - started) / 1000).toFixed(0)} s. Share of the oracle's gain: (none - mode) / (none - oracle), on mean page latency.`)
writeFileSync(flags.svg, renderSvg(runs))
console.log(`wrote ${flags.svg}`)
if (flags.json) {
  const out = {
    runs: runs.map((run) => ({
      ...run,
      modes: Object.fromEntries(Object.entries(run.modes).map(([mode, r]) => [mode, { ...r, oracleGainShare: oracleShare(run, mode as Mode) ?? null }])),
    })),
    options: {
      sessions: SESSIONS,
      concurrency: CONCURRENCY,
      thinkMs: THINK_MS,
      seed: SEED,
      scale: flags.scale,
      database: provider,
      store: REDIS_URL ? 'redis' : 'memory',
      node: process.version,
    },
  }
  writeFileSync(flags.json, JSON.stringify(out, null, 2) + '\n')
  console.log(`wrote ${flags.json}`)
}
