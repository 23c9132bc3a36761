/**
 * The benchmark: emulated users walk the published TPC-W and RUBiS behaviour models (see
 * bench/workloads) against a seeded database behind an emulated network, once per mode per
 * round, on the same sessions with the same seed:
 *
 *   none         the bare client
 *   cacheOnly    prefetch() as a read-through cache with write invalidation, no prediction
 *   extensionRedis  prisma-extension-redis 5 (a published Prisma 7 caching extension: auto-caching
 *                on Redis, invalidateOnWrite), when Redis answers at REDIS_URL or 127.0.0.1:6379
 *   markovExact  the classic first-order prefetcher over exact queries (bench/baselines.ts)
 *   prefetch     prefetch() with its default options
 *   pageOracle   knows each session's next page, not that page's own random draws, and warms
 *                the reads it makes whatever they are during the think time before it: the
 *                ceiling of what the page sequence alone tells
 *   oracle       knows each session's next page and warms all its reads (those before its first
 *                write) during the think time before it: the ceiling
 * Both oracles warm from a recording made before the run (bench/recording.ts); nothing is
 * replayed while it is measured.
 *
 *   npm run bench -- --preset realistic          the headline: rtt 20 ms, think 200 ms, 96 sessions, 3 rounds
 *   npm run bench -- --quick                     the smoke run CI can afford (one round)
 *   npm run bench -- [--preset custom] [--rtt 5] [--think 10] [--sessions 96] [--concurrency 16]
 *                    [--rounds 3] [--max-pages 1000] [--seed 1] [--workloads tpcw-browsing,tpcw-shopping,rubis-bidding] [--modes none,oracle,...]
 *                    [--scale small|standard] [--json FILE] [--svg FILE] [--options JSON] [--processes N] [--templates]
 *
 * Latency model: every database round trip waits `--rtt` ms (bench/latency.ts). Think time
 * between pages is exponential with mean `--think` ms. In every round each mode runs once, on a
 * fresh copy of the database, the order of the modes rotated from round to round; the table and
 * the JSON give the median of the rounds with their min-max. Beside latency, each mode reports
 * the counts CPU noise cannot move (waits per page, coverage, precision, queries per page) and
 * its CPU time per page and event-loop utilisation, which show a CPU-bound run for what it is.
 *
 * DATABASE_URL=postgresql://... runs on PostgreSQL instead of SQLite files (a seeded template
 * database per schema, copied with CREATE DATABASE ... TEMPLATE for every run); REDIS_URL puts
 * the extension's results and generations in Redis (a namespace per run).
 */
import { spawn } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import KeyvRedis from '@keyv/redis'
import Keyv from 'keyv'
import pg from 'pg'
import { Valkey } from 'iovalkey'
import { PrismaExtensionRedis } from 'prisma-extension-redis'
import cliProgress from 'cli-progress'
import { pushSchema } from '../scripts/schema-engine.ts'
import { createCodec } from '../src/cache/codec.ts'
import { prefetch, type PrefetchOptions } from '../src/index.ts'
import { READ_OPERATIONS } from '../src/shared.ts'
import { EXACT_MARKOV_THRESHOLDS, ExactMarkov } from './baselines.ts'
import { formatTemplateWaits, meanOverRounds, perPage, TemplateWaits, templateOf } from './diagnostic.ts'
import { parseBenchFlags } from './flags.ts'
import { withLatency } from './latency.ts'
import { recordSessions, type SessionRecording } from './recording.ts'
import { combineRounds, formatTable, MODES, oracleShare, renderSvg, SINGLE_ROW_OPERATIONS, summarize, type Mode, type RoundCounts, type RoundResult, type Run } from './report.ts'
import { Rng } from './workloads/random.ts'
import { workloadOf, type Workload, type WorkloadName } from './workloads/catalog.ts'
import { paramRng, planSession, type SessionPlan } from './workloads/sessions.ts'

let settings: ReturnType<typeof parseBenchFlags>
try {
  settings = parseBenchFlags(process.argv.slice(2))
} catch (error) {
  console.error((error as Error).message)
  process.exit(2)
}
/** Extra options of the `prefetch` mode, as JSON (e.g. '{"concurrency":16}'), to measure a setting. */
const PREFETCH_OPTIONS = settings.options as PrefetchOptions
const RTTS = settings.rttMs
const PROCESSES = settings.processes
const SESSIONS = settings.sessions
const CONCURRENCY = settings.concurrency
const THINK_MS = settings.thinkMs
const SEED = settings.seed
const ROUNDS = settings.rounds
const WORKLOADS = settings.workloads
const READS = new Set<string>(READ_OPERATIONS)
const SINGLE_ROW = new Set<string>(SINGLE_ROW_OPERATIONS)

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

const dir = mkdtempSync(join(tmpdir(), 'prisma-prefetch-bench-'))

const workloadNamed = (name: WorkloadName) => workloadOf(name, { scale: settings.scale, seed: SEED, provider, joins: settings.joins })

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
  const schemaFile = workload.schema === 'blog' ? '../prisma/schema.prisma' : `../prisma/bench/${workload.schema}.prisma`
  const schema = readFileSync(new URL(schemaFile, import.meta.url), 'utf8')
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Application operations a page asked for: reads and writes (a transaction's own included). */
interface Asked {
  reads: number
  writes: number
  /** Reads of one row by a unique key (SINGLE_ROW_OPERATIONS), of `reads`. */
  singleRowReads: number
}

/**
 * A view of `db` that counts every read and write the pages ask for, in and out of interactive
 * transactions, and with `waits` which of them waited, by template; everything else
 * (`$prefetch`, ...) passes through untouched.
 */
function counting(db: object, asked: Asked, waits?: TemplateWaits): object {
  return new Proxy(db, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown
      if (typeof property !== 'string' || typeof value === 'undefined' || value === null) return value
      if (property === '$transaction') {
        return (first: unknown, ...rest: unknown[]) => {
          const wrapped = typeof first === 'function' ? (tx: object) => (first as (tx: object) => unknown)(counting(tx, asked, waits)) : first
          return (value as (...a: unknown[]) => unknown).apply(target, [wrapped, ...rest])
        }
      }
      if (property.startsWith('$executeRaw') || property.startsWith('$queryRaw')) {
        return (...args: unknown[]) => {
          asked.writes++
          waits?.waited(property)
          return (value as (...a: unknown[]) => unknown).apply(target, args)
        }
      }
      if (property.startsWith('$') || typeof value !== 'object') return value
      return new Proxy(value, {
        get(methods, operation) {
          const method = Reflect.get(methods, operation, methods) as unknown
          if (typeof operation !== 'string' || typeof method !== 'function') return method
          return (...args: unknown[]) => {
            const send = () => (method as (...a: unknown[]) => PromiseLike<unknown>).apply(methods, args)
            const template = templateOf(property, operation, args[0])
            if (!READS.has(operation)) {
              asked.writes++
              waits?.waited(template)
              return send()
            }
            asked.reads++
            if (SINGLE_ROW.has(operation)) asked.singleRowReads++
            return waits === undefined ? send() : waits.read(template, send)
          }
        },
      })
    },
  })
}

/** What one process measured of one mode in one round: every page's latency and its counts. */
interface Played {
  latencies: number[]
  counts: RoundCounts
  /** Operations that waited, by query template (bench/diagnostic.ts); none for extensionRedis, whose hits are not told per read. */
  waitsByTemplate?: Record<string, number>
}

const ourModes = new Set<Mode>(['cacheOnly', 'markovExact', 'prefetch', 'prefetchPerModel', 'pageOracle', 'oracle'])

/** Runs `plans` in `mode` against the database `runName` (a copy made beforehand), `concurrency` sessions at once. */
async function playMode(
  name: WorkloadName,
  workload: Workload,
  mode: Mode,
  rttMs: number,
  plans: SessionPlan[],
  runName: string,
  concurrency: number,
  recordings: ReadonlyMap<number, SessionRecording>,
  onPage: () => void,
): Promise<Played> {
  const database = databaseOf(runName)
  const slow = withLatency(database.adapter(), rttMs)
  const base = new workload.Client({ adapter: slow.factory }) as { $extends(ext: unknown): any; $disconnect(): Promise<void> }
  const store = storeFor(runName)
  const options: PrefetchOptions = store.cache ? { cache: store.cache } : {}
  // Every mode but prefetch uses the extension as a cache only; their prediction is their own.
  // prefetchPerModel is prefetch with per-model invalidation (row generations off).
  if (mode === 'prefetchPerModel') Object.assign(options, PREFETCH_OPTIONS, { rowGenerations: false })
  else if (mode !== 'prefetch') options.learn = false
  else Object.assign(options, PREFETCH_OPTIONS)
  const waits = mode === 'none' || ourModes.has(mode) ? new TemplateWaits() : undefined
  if (waits !== undefined) options.telemetry = { meter: waits.meter() }
  let client: any = base
  let markov: ExactMarkov | undefined
  let valkey: Valkey | undefined
  let redisHits = 0
  if (mode === 'extensionRedis') {
    // Its own documented setup for automatic caching with write invalidation, on Redis 7
    // without the RedisJSON module; a key prefix per run keeps runs apart.
    valkey = new Valkey(PUBLISHED_EXTENSION_REDIS)
    client = base.$extends(
      PrismaExtensionRedis({
        config: { ttl: 60, stale: 0, type: 'STRING', cacheKey: { prefix: runName }, auto: { invalidateOnWrite: true, ttl: 60 }, onHit: () => void redisHits++ },
        client: valkey,
      }),
    )
  } else if (mode === 'markovExact') {
    markov = new ExactMarkov((query) => client.$prefetch.warm(query))
    client = base.$extends(markov.extension()).$extends(prefetch(options))
  } else if (mode !== 'none') {
    client = base.$extends(prefetch(options))
  }
  const asked: Asked = { reads: 0, writes: 0, singleRowReads: 0 }
  const db = counting(client, asked, waits)
  const latencies: number[] = []
  const warms = mode === 'oracle' ? 'reads' : mode === 'pageOracle' ? 'knowable' : undefined

  async function runSession(plan: SessionPlan) {
    const rng = paramRng(plan)
    const thinkRng = Rng.derive(SEED, name, 'think', plan.index)
    const session = workload.newSession(rng)
    const recording = recordings.get(plan.index)
    const id = `${plan.workload}-${plan.index}`
    const play = async () => {
      for (let i = 0; i < plan.pages.length; i++) {
        const start = performance.now()
        await workload.pages[plan.pages[i]](db as never, session as never, rng)
        latencies.push(performance.now() - start)
        onPage()
        if (i + 1 === plan.pages.length) break
        if (warms !== undefined && recording !== undefined) {
          // Warmed during the think time before the next page, from what was recorded beforehand.
          for (const query of recording[warms][i + 1] ?? []) void client.$prefetch.warm(query)
        }
        await sleep(-Math.log(1 - thinkRng.float()) * THINK_MS)
      }
    }
    const inSession = () => (client.$prefetch === undefined ? play() : client.$prefetch.session(id, play))
    await (markov ? markov.sessions.run(id, inSession) : inSession())
    markov?.endSession(id)
  }

  const cpu = process.cpuUsage()
  const loop = performance.eventLoopUtilization()
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(concurrency, plans.length) }, async () => {
      while (next < plans.length) await runSession(plans[next++])
    }),
  )
  const ours = ourModes.has(mode)
  if (ours) await client.$prefetch.idle()
  const used = process.cpuUsage(cpu)
  const utilization = performance.eventLoopUtilization(loop).utilization
  const stats = ours ? client.$prefetch.stats() : undefined
  await base.$disconnect()
  await store.close()
  valkey?.disconnect()
  const operations = asked.reads + asked.writes
  // A read served from a cache without waiting: an on-time or read-through hit (a late hit waited).
  const served = stats ? stats.hits - stats.lateHits : redisHits
  const singleRow = (name: 'reads' | 'hits') => SINGLE_ROW_OPERATIONS.reduce((n, operation) => n + (stats?.byOperation[operation]?.[name] ?? 0), 0)
  return {
    latencies,
    counts: {
      dbQueries: slow.trips.queries,
      waits: operations - served,
      reads: stats?.reads ?? asked.reads,
      hits: stats?.hits ?? redisHits,
      // The extension's own count where it runs (asked inside transactions is not a read it sees).
      singleRowReads: stats ? singleRow('reads') : asked.singleRowReads,
      singleRowHits: singleRow('hits'),
      onTimeHits: stats?.prefetchHits ?? 0,
      lateHits: stats?.lateHits ?? 0,
      lateSavedMs: stats?.lateSavedMs ?? 0,
      lateWaitMs: stats?.lateWaitMs ?? 0,
      issued: stats?.prefetch.issued ?? 0,
      combined: stats?.byStrategy.combine?.issued ?? 0,
      completed: stats?.prefetch.completed ?? 0,
      used: stats?.prefetch.used ?? 0,
      wasted: stats?.prefetch.wasted ?? 0,
      cpuBusy: stats?.prefetch.skipped.cpuBusy ?? 0,
      cpuBackoffMs: stats?.prefetch.cpuBackoffMs ?? 0,
      cpuMs: (used.user + used.system) / 1000,
      eventLoopUtilization: utilization,
    },
    waitsByTemplate: waits && Object.fromEntries(waits.waits),
  }
}

/** The oracles' recordings of a workload's sessions (bench/recording.ts), made once before its first round. */
const recorded = new Map<WorkloadName, Map<number, SessionRecording>>()
async function recordingsOf(name: WorkloadName, workload: Workload, plans: SessionPlan[]): Promise<Map<number, SessionRecording>> {
  const known = recorded.get(name)
  if (known) return known
  const runName = `bench_${name.replace('-', '_')}_record_${runId}`
  const database = await copyOf(workload, runName)
  const client = new workload.Client({ adapter: database.adapter() }) as { $disconnect(): Promise<void> }
  const recordings = await recordSessions(workload, client, plans, CONCURRENCY)
  await client.$disconnect()
  recorded.set(name, recordings)
  return recordings
}

const codec = createCodec()

/**
 * One mode in one round on a fresh copy of the database: in this process, or with
 * `--processes N` in N processes sharing the database (and Redis, with REDIS_URL), each running
 * a share of the sessions; their figures are merged.
 */
async function runMode(name: WorkloadName, workload: Workload, mode: Mode, rttMs: number, round: number, plans: SessionPlan[], recordings: Map<number, SessionRecording>, bar: cliProgress.SingleBar): Promise<RoundResult> {
  const runName = `bench_${name.replace('-', '_')}_${mode.toLowerCase()}_${rttMs}_${round}_${runId}`
  await copyOf(workload, runName)
  let played: Played[]
  if (PROCESSES === 1) {
    played = [await playMode(name, workload, mode, rttMs, plans, runName, CONCURRENCY, recordings, () => bar.increment())]
  } else {
    const recordingFile = join(dir, `${runName}.recording`)
    writeFileSync(recordingFile, codec.encode([...recordings]))
    const share = (k: number) => plans.filter((_, i) => i % PROCESSES === k).map((plan) => plan.index)
    played = await Promise.all(
      Array.from({ length: PROCESSES }, (_, k) =>
        runChild({ name, mode, rttMs, runName, indices: share(k), concurrency: Math.ceil(CONCURRENCY / PROCESSES), recordingFile }).then((result) => {
          bar.increment(result.latencies.length)
          return result
        }),
      ),
    )
  }
  const sum = (f: (c: RoundCounts) => number) => played.reduce((n, p) => n + f(p.counts), 0)
  const counts = Object.fromEntries(Object.keys(played[0].counts).map((key) => [key, sum((c) => c[key as keyof RoundCounts])])) as unknown as RoundCounts
  // Utilisation is a share of each process's time: their mean, not their sum.
  counts.eventLoopUtilization /= played.length
  const latencies = played.flatMap((p) => p.latencies)
  const result = summarize(latencies, counts)
  if (played.every((p) => p.waitsByTemplate !== undefined)) {
    const waits = new Map<string, number>()
    for (const p of played) for (const [template, n] of Object.entries(p.waitsByTemplate!)) waits.set(template, (waits.get(template) ?? 0) + n)
    result.waitsByTemplate = perPage(waits, latencies.length)
  }
  return result
}

interface ChildTask {
  name: WorkloadName
  mode: Mode
  rttMs: number
  runName: string
  indices: number[]
  concurrency: number
  recordingFile: string
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

if (settings.child) {
  const task = JSON.parse(settings.child) as ChildTask
  const plans = task.indices.map((i) => planSession(task.name, i, { seed: SEED, maxPages: settings.maxPages }))
  const recordings = new Map(codec.decode(readFileSync(task.recordingFile, 'utf8')) as [number, SessionRecording][])
  const result = await playMode(task.name, workloadNamed(task.name), task.mode, task.rttMs, plans, task.runName, task.concurrency, recordings, () => {})
  console.log(JSON.stringify(result))
  rmSync(dir, { recursive: true, force: true })
  process.exit(0)
}
if (PROCESSES > 1 && !POSTGRES_URL) {
  console.error('prisma-prefetch: bench --processes needs a shared database: set DATABASE_URL to a PostgreSQL database')
  process.exit(2)
}

const modes = settings.modes.includes('extensionRedis') && !(await redisAnswers()) ? settings.modes.filter((mode) => mode !== 'extensionRedis') : settings.modes
const runs: Run[] = []
const planned = new Map(WORKLOADS.map((name) => [name, Array.from({ length: SESSIONS }, (_, i) => planSession(name, i, { seed: SEED, maxPages: settings.maxPages }))]))
const totalPages = ROUNDS * RTTS.length * modes.length * [...planned.values()].reduce((sum, plans) => sum + plans.reduce((n, p) => n + p.pages.length, 0), 0)
const started = performance.now()
console.log(
  `prisma-prefetch benchmark on ${provider}${REDIS_URL ? ' + Redis' : ''}, ${settings.preset} preset: ${WORKLOADS.join(', ')}; rtt ${RTTS.join(', ')} ms; ` +
    `${SESSIONS} sessions, ${CONCURRENCY} at once; think ${THINK_MS} ms mean; ${ROUNDS} round${ROUNDS === 1 ? '' : 's'}; seed ${SEED}; ` +
    `markovExact: first order, exact queries, p >= ${EXACT_MARKOV_THRESHOLDS.minProbability}, support >= ${EXACT_MARKOV_THRESHOLDS.minSupport}`,
)
/** A line on stderr for every step, with the time so far (the bar draws nothing without a terminal). */
const progress = (text: string) => {
  if (!process.stderr.isTTY) console.error(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${text}`)
}
// Seeding and the oracles' recordings happen before the clock of the first run starts.
for (const name of WORKLOADS) {
  const workload = workloadNamed(name)
  await template(workload)
  await recordingsOf(name, workload, planned.get(name)!)
  progress(`${name}: seeded and recorded`)
}
const bar = new cliProgress.SingleBar({ format: ' {bar} {percentage}% | {value}/{total} pages | {run}', hideCursor: true }, cliProgress.Presets.shades_classic)
bar.start(totalPages, 0, { run: '' })
for (const rttMs of RTTS) {
  for (const name of WORKLOADS) {
    const workload = workloadNamed(name)
    const plans = planned.get(name)!
    const recordings = await recordingsOf(name, workload, plans)
    const rounds = new Map<Mode, RoundResult[]>(modes.map((mode) => [mode, []]))
    for (let round = 0; round < ROUNDS; round++) {
      // Interleaved: every round runs every mode once, starting one mode further on each time,
      // so a slow spell of the machine falls on different modes in different rounds.
      const order = modes.map((_, i) => modes[(i + round) % modes.length])
      for (const mode of order) {
        const run = `${name} ${mode} rtt ${rttMs} round ${round + 1}/${ROUNDS}`
        bar.update({ run })
        const result = await runMode(name, workload, mode, rttMs, round, plans, recordings, bar)
        rounds.get(mode)!.push(result)
        progress(`${run}: ${result.meanPageMs.toFixed(1)} ms/page, ${result.waitsPerPage.toFixed(2)} waits/page`)
      }
    }
    const run: Run = { workload: name, preset: settings.preset, rttMs, thinkMs: THINK_MS, sessions: SESSIONS, rounds: ROUNDS, modes: {} }
    for (const mode of modes) {
      const result = combineRounds(rounds.get(mode)!)
      if (rounds.get(mode)!.every((r) => r.waitsByTemplate !== undefined)) result.waitsByTemplate = meanOverRounds(rounds.get(mode)!.map((r) => r.waitsByTemplate))
      run.modes[mode] = result
    }
    runs.push(run)
  }
}
bar.stop()
rmSync(dir, { recursive: true, force: true })
for (const name of created.reverse()) await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))

console.log(formatTable(runs))
if (settings.templates) {
  for (const run of runs) console.log(`\n${formatTemplateWaits(`${run.workload} rtt ${run.rttMs}`, Object.fromEntries(Object.entries(run.modes).map(([mode, r]) => [mode, r?.waitsByTemplate])))}`)
}
console.log(
  `\n${((performance.now() - started) / 1000).toFixed(0)} s. waits/page: application reads and writes per page that waited on the database ` +
    `(misses, late hits, writes). Coverage: on-time = served from a speculative result stored before the read, late = joined one in flight. ` +
    `ELU: event-loop utilisation (near 1: the latencies measure CPU). Oracle gain: (none - mode) / (none - oracle) on mean page latency.`,
)
if (settings.svg !== undefined) {
  writeFileSync(settings.svg, renderSvg(runs))
  console.log(`wrote ${settings.svg}`)
}
if (settings.json) {
  const out = {
    runs: runs.map((run) => ({
      ...run,
      modes: Object.fromEntries(
        Object.entries(run.modes).map(([mode, r]) => [
          mode,
          { ...r, oracleGainShare: oracleShare(run, mode as Mode) ?? null, oracleWaitsShare: oracleShare(run, mode as Mode, 'waitsPerPage') ?? null },
        ]),
      ),
    })),
    options: {
      preset: settings.preset,
      sessions: SESSIONS,
      concurrency: CONCURRENCY,
      thinkMs: THINK_MS,
      rounds: ROUNDS,
      maxPages: settings.maxPages,
      seed: SEED,
      scale: settings.scale,
      database: provider,
      store: REDIS_URL ? 'redis' : 'memory',
      markovExact: EXACT_MARKOV_THRESHOLDS,
      node: process.version,
    },
  }
  writeFileSync(settings.json, JSON.stringify(out, null, 2) + '\n')
  console.log(`wrote ${settings.json}`)
}
