/**
 * Load benchmark: the highest read throughput sustained through the extension against the bare
 * client, and the latency under that load, measured side by side.
 *
 * A closed-loop load generator: C workers, each sending its next read as soon as the previous one
 * answered, for `--seconds` per setting. The read mix is a realistic one over seeded data: user
 * pages (the user by id, drawn from a Zipf distribution over the users, then their 10 latest
 * posts with their comments) and list pages (20 posts with their authors, the page number Zipf
 * distributed too). Modes, each on a client of its own:
 *
 *   bare    the bare client
 *   cache   prefetch({ learn: false }): a read-through cache with write invalidation
 *   learn   prefetch() with its defaults, every worker inside a session (a new one every 10
 *           pages): the learner observes every read and prefetches what it predicts (the posts
 *           of the user just read, started alongside the user's read)
 *
 * Each round measures every concurrency of `--concurrency` with every mode, modes in an order
 * rotated from one setting to the next; the figures reported are the medians over rounds of
 * each setting's reads per second, p50 and p99 latency, and this process's CPU time per read.
 * Caches stay as they are from one setting to the next, as in a server that keeps running (a
 * warm-up fills them first). Read p99 with the closed loop in mind: each mode is measured at its
 * own saturation, so a mode that serves four times the reads queues its misses behind many more
 * hits than the bare client's reads wait behind.
 *
 *   npm run bench:load -- [--seconds 5] [--rounds 3] [--concurrency 1,4,16,64] [--users 10000]
 *                         [--zipf 1] [--warmup 2] [--modes bare,cache,learn] [--seed 1]
 *                         [--mix default|predictable] [--open 0.5,0.9]
 *                         [--db sqlite|postgres] [--json bench/results/load.json]
 *
 * `--mix predictable`: pages whose reads follow from the previous page's results (a list, the
 * detail of its first post, then that post's author and their posts), a chain the learner can
 * prefetch ahead of. `--open 0.5,0.9`: after the closed loop, an open loop per fraction and mode:
 * pages arrive as a Poisson process at that fraction of the bare client's capacity (its reads/s
 * at the highest `--concurrency`), each page timed from its scheduled arrival, so the modes' p50
 * and p99 compare at equal load.
 *
 * `--db sqlite` (default): a SQLite file in the temp directory (its queries run synchronously on
 * this thread, so the CPU per read includes the database's). `--db postgres`: a new database on
 * the server of DATABASE_URL (dropped at the end), through @prisma/adapter-pg with its default
 * pool. Both get indexes on the foreign keys read. Never part of `npm test`.
 */
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { pushSchema } from '../scripts/schema-engine.ts'
import { prefetch, type PrefetchHelpers } from '../src/index.ts'
import { Rng } from './workloads/random.ts'

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1,4,16,64' },
    users: { type: 'string', default: '10000' },
    zipf: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    db: { type: 'string', default: 'sqlite' },
    json: { type: 'string', default: 'bench/results/load.json' },
    modes: { type: 'string', default: 'bare,cache,learn' },
    mix: { type: 'string', default: 'default' },
    open: { type: 'string' },
  },
})
const SECONDS = Number(flags.seconds)
const ROUNDS = Number(flags.rounds)
const CONCURRENCY = flags.concurrency.split(',').map(Number)
const USERS = Number(flags.users)
const POSTS_PER_USER = 3
const COMMENTS_PER_POST = 2
const PAGE_SIZE = 20
const PAGES = Math.floor((USERS * POSTS_PER_USER) / PAGE_SIZE)
const ZIPF = Number(flags.zipf)
const WARMUP_SECONDS = Number(flags.warmup)
const SEED = Number(flags.seed)
const DB = flags.db
/** Share of pages that are user pages (two reads); the others are list pages (one read). */
const USER_PAGES = 0.6
/** Pages per session in the `learn` mode. */
const PAGES_PER_SESSION = 10
if (DB !== 'sqlite' && DB !== 'postgres') throw new Error(`--db must be sqlite or postgres: ${DB}`)
if (DB === 'postgres' && !process.env.DATABASE_URL?.startsWith('postgres')) throw new Error('--db postgres needs DATABASE_URL=postgresql://...')
for (const [name, value] of Object.entries({ SECONDS, ROUNDS, USERS, ZIPF, WARMUP_SECONDS })) {
  if (!(value >= 0) || !Number.isFinite(value)) throw new Error(`bad --${name.toLowerCase()}: ${value}`)
}

const ALL_MODES = ['bare', 'cache', 'learn'] as const
type Mode = (typeof ALL_MODES)[number]
const MODES = flags.modes.split(',') as Mode[]
if (!MODES.includes('bare') || MODES.some((mode) => !ALL_MODES.includes(mode))) throw new Error(`--modes must include bare, among ${ALL_MODES.join(', ')}: ${flags.modes}`)
const MIXES = ['default', 'predictable'] as const
type Mix = (typeof MIXES)[number]
if (!(MIXES as readonly string[]).includes(flags.mix)) throw new Error(`--mix must be one of ${MIXES.join(', ')}: ${JSON.stringify(flags.mix)}`)
const MIX = flags.mix as Mix
/** Fractions of the bare client's capacity offered in the open-loop run (none: no open-loop run). */
const OPEN = (flags.open === undefined ? [] : flags.open.split(',')).map((text) => {
  const value = text.trim() === '' ? NaN : Number(text)
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`--open must be a comma-separated list of fractions of the capacity, each above 0: ${JSON.stringify(flags.open)}`)
  return value
})

// ---------------------------------------------------------------------------------------------
// The database
// ---------------------------------------------------------------------------------------------

const schema = readFileSync(new URL('../prisma/schema.prisma', import.meta.url), 'utf8')
let adapter: () => PrismaBetterSqlite3 | PrismaPg
let cleanUp: () => Promise<void>
if (DB === 'sqlite') {
  const dir = mkdtempSync(join(tmpdir(), 'prisma-prefetch-load-'))
  const file = join(dir, 'load.db')
  await pushSchema({ provider: 'sqlite', url: file, schema })
  adapter = () => new PrismaBetterSqlite3({ url: file })
  cleanUp = async () => rmSync(dir, { recursive: true, force: true })
} else {
  const name = `prisma_prefetch_load_${process.pid}_${Date.now().toString(36)}`
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
  }
  await admin(`CREATE DATABASE "${name}"`)
  const url = new URL(process.env.DATABASE_URL!)
  url.pathname = `/${name}`
  await pushSchema({ provider: 'postgresql', url: url.toString(), schema })
  adapter = () => new PrismaPg({ connectionString: url.toString() })
  cleanUp = () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
}

// The SQLite and PostgreSQL clients have the same API; typed as the SQLite one.
type BaseClient = import('../src/generated/prisma/client.ts').PrismaClient
const { PrismaClient } = (
  DB === 'sqlite' ? await import('../src/generated/prisma/client.ts') : await import('../src/generated/prisma-pg/client.ts')
) as unknown as { PrismaClient: new (options: object) => BaseClient }
const newClient = () => new PrismaClient({ adapter: adapter() })

async function seed(client: BaseClient): Promise<void> {
  const batch = 1000
  for (let start = 0; start < USERS; start += batch) {
    await client.user.createMany({
      data: Array.from({ length: Math.min(batch, USERS - start) }, (_, k) => ({
        email: `u${start + k}@load.test`,
        name: `User ${start + k}`,
        karma: BigInt(start + k),
        settings: { n: start + k },
      })),
    })
  }
  const posts = USERS * POSTS_PER_USER
  for (let start = 0; start < posts; start += batch) {
    await client.post.createMany({
      data: Array.from({ length: Math.min(batch, posts - start) }, (_, k) => ({
        title: `Post ${start + k}`,
        body: 'x'.repeat(200),
        published: (start + k) % 2 === 0,
        authorId: 1 + ((start + k) % USERS),
        price: `${start + k}.5`,
        meta: { k: start + k },
      })),
    })
  }
  const comments = posts * COMMENTS_PER_POST
  for (let start = 0; start < comments; start += batch) {
    await client.comment.createMany({
      data: Array.from({ length: Math.min(batch, comments - start) }, (_, k) => ({
        text: `Comment ${start + k}`,
        postId: 1 + ((start + k) % posts),
        authorId: 1 + ((start + k) % USERS),
      })),
    })
  }
}

process.stderr.write(`seeding ${USERS} users, ${USERS * POSTS_PER_USER} posts, ${USERS * POSTS_PER_USER * COMMENTS_PER_POST} comments (${DB})...\n`)
const seeder = newClient()
await seed(seeder)
// The test schema declares no index on foreign keys (neither database creates one by itself);
// an application serving these pages would have them.
await seeder.$executeRawUnsafe('CREATE INDEX "Post_authorId_idx" ON "Post" ("authorId")')
await seeder.$executeRawUnsafe('CREATE INDEX "Comment_postId_idx" ON "Comment" ("postId")')
if (DB === 'postgres') await seeder.$executeRawUnsafe('ANALYZE')
await seeder.$disconnect()

// Separate clients (and connections), so no mode shares a cache or a query plan cache with another.
const bare = newClient()
const cache = newClient().$extends(prefetch({ learn: false }))
const learn = newClient().$extends(prefetch())
type Client = typeof cache
const extensions: Record<Exclude<Mode, 'bare'>, PrefetchHelpers> = { cache: cache.$prefetch, learn: learn.$prefetch }

// ---------------------------------------------------------------------------------------------
// The load
// ---------------------------------------------------------------------------------------------

/** Zipf-distributed integers in [1, n] (rank 1 the most frequent), by inverse CDF. */
class Zipf {
  private readonly cdf: Float64Array
  constructor(n: number, s: number) {
    this.cdf = new Float64Array(n)
    let sum = 0
    for (let k = 1; k <= n; k++) this.cdf[k - 1] = sum += 1 / Math.pow(k, s)
    for (let k = 0; k < n; k++) this.cdf[k] /= sum
  }
  sample(rng: Rng): number {
    const u = rng.float()
    let lo = 0
    let hi = this.cdf.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.cdf[mid] < u) lo = mid + 1
      else hi = mid
    }
    return lo + 1
  }
}
const userZipf = new Zipf(USERS, ZIPF)
const pageZipf = new Zipf(PAGES, ZIPF)
// Rank r is not user r: popular users are spread over the table (a fixed permutation).
const userOfRank = Array.from({ length: USERS }, (_, i) => i + 1)
{
  const rng = Rng.derive(SEED, 'permutation')
  for (let i = USERS - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    ;[userOfRank[i], userOfRank[j]] = [userOfRank[j], userOfRank[i]]
  }
}

/**
 * One worker of the closed loop, or one visitor of the open loop: its random stream, the pages it
 * has played (its session, in the `learn` mode, changes every PAGES_PER_SESSION pages) and, in
 * the predictable mix, what its next page reads.
 */
interface Visitor {
  rng: Rng
  name: string
  pages: number
  /** The predictable mix's next step and the row it follows from. */
  step: number
  postId: number
  authorId: number
}
const visitor = (rng: Rng, name: string): Visitor => ({ rng, name, pages: 0, step: 0, postId: 0, authorId: 0 })

type Timed = (read: () => Promise<unknown>) => Promise<unknown>

/** The default mix: user pages (the user, then their latest posts) and list pages (posts with authors). */
async function defaultPage(client: Client, v: Visitor, timed: Timed): Promise<void> {
  if (v.rng.chance(USER_PAGES)) {
    const id = userOfRank[userZipf.sample(v.rng) - 1]
    await timed(() => client.user.findUnique({ where: { id } }))
    await timed(() => client.post.findMany({ where: { authorId: id }, orderBy: { id: 'desc' }, take: 10, include: { comments: true } }))
  } else {
    const p = pageZipf.sample(v.rng) - 1
    await timed(() => client.post.findMany({ orderBy: { id: 'asc' }, skip: p * PAGE_SIZE, take: PAGE_SIZE, include: { author: true } }))
  }
}

/**
 * The predictable mix: each page's reads follow from the previous page's results, in a cycle of
 * three pages: a list of posts (the page number Zipf distributed), the detail of its first post
 * with its comments, then that post's author and the author's latest posts.
 */
const PREDICTABLE_PAGES = ['list', 'detail', 'author'] as const
async function predictablePage(client: Client, v: Visitor, timed: Timed): Promise<void> {
  const step = PREDICTABLE_PAGES[v.step]
  v.step = (v.step + 1) % PREDICTABLE_PAGES.length
  if (step === 'list') {
    const p = pageZipf.sample(v.rng) - 1
    const rows = (await timed(() => client.post.findMany({ orderBy: { id: 'asc' }, skip: p * PAGE_SIZE, take: PAGE_SIZE }))) as { id: number }[]
    v.postId = rows[0].id
  } else if (step === 'detail') {
    const post = (await timed(() => client.post.findUnique({ where: { id: v.postId }, include: { comments: true } }))) as { authorId: number }
    v.authorId = post.authorId
  } else {
    const user = (await timed(() => client.user.findUnique({ where: { id: v.authorId } }))) as { id: number }
    await timed(() => client.post.findMany({ where: { authorId: user.id }, orderBy: { id: 'desc' }, take: 10 }))
  }
}

/** Reads per page on average: offered page rates are converted to reads per second with it. */
const READS_PER_PAGE = MIX === 'default' ? USER_PAGES * 2 + (1 - USER_PAGES) : 4 / PREDICTABLE_PAGES.length

const clientOf = (mode: Mode) => (mode === 'bare' ? bare : mode === 'cache' ? cache : learn) as Client

/** Plays one page of the mix for `v`, inside its session in the `learn` mode. */
async function playPage(mode: Mode, v: Visitor, timed: Timed): Promise<void> {
  const client = clientOf(mode)
  const page = MIX === 'default' ? defaultPage : predictablePage
  const n = v.pages++
  if (mode === 'learn') await learn.$prefetch.session(`${v.name}-${Math.floor(n / PAGES_PER_SESSION)}`, () => page(client, v, timed))
  else await page(client, v, timed)
}

/** Latencies in ms, in a buffer that grows. */
class Latencies {
  private values = new Float64Array(1 << 16)
  count = 0
  push(ms: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2)
      grown.set(this.values)
      this.values = grown
    }
    this.values[this.count++] = ms
  }
  sorted(): Float64Array {
    return Float64Array.from(this.values.subarray(0, this.count)).sort()
  }
}

/** One setting's measurement: reads completed and their latencies. */
interface Measured {
  reads: number
  seconds: number
  latencies: Latencies
  /** Microseconds of this process's CPU time (user + system) during the setting. */
  cpuUs: number
}

/** The closed loop: `concurrency` workers, each sending its next read as soon as the last answered. */
async function measure(mode: Mode, concurrency: number, seconds: number, label: string): Promise<Measured> {
  const latencies = new Latencies()
  const timed: Timed = async (read) => {
    const start = performance.now()
    const result = await read()
    latencies.push(performance.now() - start)
    return result
  }
  const cpu = process.cpuUsage()
  const started = performance.now()
  const deadline = started + seconds * 1000
  const worker = async (w: number) => {
    const v = visitor(Rng.derive(SEED, label, mode, concurrency, w), `${label}-${concurrency}-${w}`)
    while (performance.now() < deadline) await playPage(mode, v, timed)
  }
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)))
  const elapsed = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  // Speculative work left over is finished before the next setting starts.
  if (mode !== 'bare') await extensions[mode].idle()
  return { reads: latencies.count, seconds: elapsed, latencies, cpuUs: used.user + used.system }
}

/** One open-loop setting: pages scheduled and completed, reads, and each page's latency from its arrival. */
interface OpenMeasured {
  scheduled: number
  completed: number
  reads: number
  /** From the first arrival to the last page's answer. */
  seconds: number
  latencies: Latencies
}

/**
 * The open loop: pages arrive at `readsPerSecond / READS_PER_PAGE` a second, Poisson arrivals
 * (exponential times between them) for `seconds`, each sent at its arrival whatever is still in
 * flight. A page's latency runs from its scheduled arrival, not from when it started, so a
 * process too busy to start it on time is charged for the wait. A page goes to a visitor whose
 * last page has answered (a new one if none is free), so the predictable mix stays a chain.
 */
async function measureOpen(mode: Mode, readsPerSecond: number, seconds: number, label: string): Promise<OpenMeasured> {
  const rng = Rng.derive(SEED, label, mode, 'arrivals')
  const meanGapMs = (1000 * READS_PER_PAGE) / readsPerSecond
  const latencies = new Latencies()
  let reads = 0
  const timed: Timed = async (read) => {
    const result = await read()
    reads++
    return result
  }
  const free: Visitor[] = []
  let visitors = 0
  const inFlight = new Set<Promise<void>>()
  let completed = 0
  const arrive = (at: number) => {
    const v = free.pop() ?? visitor(Rng.derive(SEED, label, mode, 'visitor', visitors), `${label}-open-${visitors++}`)
    const done = playPage(mode, v, timed).then(() => {
      latencies.push(performance.now() - at)
      completed++
      free.push(v)
      inFlight.delete(done)
    })
    inFlight.add(done)
  }
  const started = performance.now()
  const end = started + seconds * 1000
  let scheduled = 0
  let next = started + rng.exponential(meanGapMs)
  while (next < end) {
    const now = performance.now()
    for (; next <= now && next < end; next += rng.exponential(meanGapMs)) {
      arrive(next)
      scheduled++
    }
    if (next < end) await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())))
  }
  while (inFlight.size > 0) await Promise.all(inFlight)
  const elapsed = (performance.now() - started) / 1000
  if (mode !== 'bare') await extensions[mode].idle()
  return { scheduled, completed, reads, seconds: elapsed, latencies }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export interface Sample {
  opsPerSecond: number
  p50Ms: number
  p99Ms: number
  /** CPU time of the process per read, in microseconds (on SQLite, the database's work included). */
  cpuUsPerRead: number
  hitRate?: number
  coverage?: number
  /** Queries sent to the database per read (demand and speculative). */
  dbQueriesPerRead?: number
  /** Speculative reads: run, serving a read, unused; candidates not run by reason; time and reads backed off (CPU busy: nothing predicted). */
  prefetch?: { issued: number; used: number; wasted: number; skipped: Record<string, number>; cpuBackoffMs: number; cpuBackoffReads: number }
}

/** What the extension's stats say of the last setting (reset before it). */
function extensionFigures(helpers: PrefetchHelpers): Pick<Sample, 'hitRate' | 'coverage' | 'dbQueriesPerRead' | 'prefetch'> {
  const stats = helpers.stats()
  return {
    hitRate: stats.hitRate,
    coverage: stats.coverage,
    dbQueriesPerRead: stats.dbQueries / Math.max(1, stats.reads),
    prefetch: {
      issued: stats.prefetch.issued,
      used: stats.prefetch.used,
      wasted: stats.prefetch.wasted,
      skipped: { ...stats.prefetch.skipped },
      cpuBackoffMs: stats.prefetch.cpuBackoffMs,
      cpuBackoffReads: stats.prefetch.cpuBackoffReads,
    },
  }
}

// Warm-up: compile query plans, JIT every path, fill the caches.
for (const mode of MODES) {
  process.stderr.write(`warm-up: ${mode}\n`)
  await measure(mode, 4, WARMUP_SECONDS, 'warmup')
}

const samples = new Map<string, Sample[]>()
const key = (mode: Mode, concurrency: number) => `${mode}@${concurrency}`
let setting = 0
const totalSettings = ROUNDS * CONCURRENCY.length
const benchStarted = performance.now()
for (let round = 0; round < ROUNDS; round++) {
  for (const concurrency of CONCURRENCY) {
    // Rotate the order of the modes from one setting to the next, so none always runs first.
    const order = MODES.map((_, k) => MODES[(k + setting) % MODES.length])
    setting++
    for (const mode of order) {
      if (mode !== 'bare') extensions[mode].resetStats()
      const m = await measure(mode, concurrency, SECONDS, `r${round}`)
      const sorted = m.latencies.sorted()
      const sample: Sample = {
        opsPerSecond: m.reads / m.seconds,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        cpuUsPerRead: m.cpuUs / Math.max(1, m.reads),
      }
      if (mode !== 'bare') Object.assign(sample, extensionFigures(extensions[mode]))
      const list = samples.get(key(mode, concurrency)) ?? []
      list.push(sample)
      samples.set(key(mode, concurrency), list)
    }
    const elapsed = Math.round((performance.now() - benchStarted) / 1000)
    process.stderr.write(`round ${round + 1}/${ROUNDS}, concurrency ${concurrency}: setting ${setting}/${totalSettings}, ${elapsed} s\n`)
  }
}

// ---------------------------------------------------------------------------------------------
// The open loop (--open): every mode at the same offered rates, fractions of the bare client's
// capacity, which is its median reads/s at the highest concurrency of the closed loop above.
// ---------------------------------------------------------------------------------------------

/** One open-loop setting of one round (the JSON's `open[].rounds[]`). */
export interface OpenSample extends Pick<Sample, 'hitRate' | 'coverage' | 'dbQueriesPerRead' | 'prefetch'> {
  /** Pages whose arrival fell within the setting, and pages answered (all of them: the run waits for each). */
  scheduled: number
  completed: number
  reads: number
  offeredReadsPerSecond: number
  achievedReadsPerSecond: number
  /** Page latency from its scheduled arrival to its last read's answer. */
  p50Ms: number
  p99Ms: number
}
const topConcurrency = Math.max(...CONCURRENCY)
const capacity = OPEN.length === 0 ? NaN : median(samples.get(key('bare', topConcurrency))!.map((s) => s.opsPerSecond))
const openSamples = new Map<string, OpenSample[]>()
for (let round = 0; round < (OPEN.length === 0 ? 0 : ROUNDS); round++) {
  for (const fraction of OPEN) {
    const order = MODES.map((_, k) => MODES[(k + setting) % MODES.length])
    setting++
    const offered = fraction * capacity
    for (const mode of order) {
      if (mode !== 'bare') extensions[mode].resetStats()
      const m = await measureOpen(mode, offered, SECONDS, `open-r${round}-${fraction}`)
      const sorted = m.latencies.sorted()
      const sample: OpenSample = {
        scheduled: m.scheduled,
        completed: m.completed,
        reads: m.reads,
        offeredReadsPerSecond: offered,
        achievedReadsPerSecond: m.reads / m.seconds,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
      }
      if (mode !== 'bare') Object.assign(sample, extensionFigures(extensions[mode]))
      const k = `${mode}@${fraction}`
      openSamples.set(k, [...(openSamples.get(k) ?? []), sample])
    }
    const elapsed = Math.round((performance.now() - benchStarted) / 1000)
    process.stderr.write(`open loop, round ${round + 1}/${ROUNDS}, ${fraction} of ${Math.round(capacity)} reads/s: ${elapsed} s\n`)
  }
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

interface Row {
  concurrency: number
  mode: Mode
  opsPerSecond: number
  p50Ms: number
  p99Ms: number
  /** This mode's figure over the bare client's (medians). */
  throughputVsBare: number
  p99VsBare: number
  cpuUsPerRead: number
  hitRate?: number
  coverage?: number
  rounds: Sample[]
}
const rows: Row[] = []
for (const concurrency of CONCURRENCY) {
  const bareSamples = samples.get(key('bare', concurrency))!
  const bareOps = median(bareSamples.map((s) => s.opsPerSecond))
  const bareP99 = median(bareSamples.map((s) => s.p99Ms))
  for (const mode of MODES) {
    const list = samples.get(key(mode, concurrency))!
    const opsPerSecond = median(list.map((s) => s.opsPerSecond))
    const p99Ms = median(list.map((s) => s.p99Ms))
    rows.push({
      concurrency,
      mode,
      opsPerSecond,
      p50Ms: median(list.map((s) => s.p50Ms)),
      p99Ms,
      throughputVsBare: opsPerSecond / bareOps,
      p99VsBare: p99Ms / bareP99,
      cpuUsPerRead: median(list.map((s) => s.cpuUsPerRead)),
      hitRate: mode === 'bare' ? undefined : median(list.map((s) => s.hitRate!)),
      coverage: mode === 'bare' ? undefined : median(list.map((s) => s.coverage!)),
      rounds: list,
    })
  }
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '')
const lines = [
  `prisma-prefetch load: ${DB}, ${USERS.toLocaleString('en')} users (Zipf s=${ZIPF}), ${SECONDS} s per setting, median of ${ROUNDS} rounds, node ${process.version}`,
  '',
  '| workers | mode | reads/s | p50 ms | p99 ms | reads/s vs bare | p99 vs bare | hit rate | coverage | CPU µs/read |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) =>
    [
      r.concurrency,
      r.mode,
      Math.round(r.opsPerSecond).toLocaleString('en'),
      fixed(r.p50Ms, 3),
      fixed(r.p99Ms, 3),
      `${fixed(r.throughputVsBare, 2)}x`,
      `${fixed(r.p99VsBare, 2)}x`,
      r.hitRate === undefined ? '' : `${fixed(r.hitRate * 100, 1)}%`,
      r.coverage === undefined ? '' : `${fixed(r.coverage * 100, 1)}%`,
      fixed(r.cpuUsPerRead, 0),
    ].join(' | '),
  ).map((line) => `| ${line} |`),
]

/** One fraction and mode of the open loop, medians over rounds. */
interface OpenRow {
  fraction: number
  mode: Mode
  offeredReadsPerSecond: number
  achievedReadsPerSecond: number
  p50Ms: number
  p99Ms: number
  hitRate?: number
  rounds: OpenSample[]
}
const openRows: OpenRow[] = OPEN.flatMap((fraction) =>
  MODES.map((mode) => {
    const list = openSamples.get(`${mode}@${fraction}`)!
    return {
      fraction,
      mode,
      offeredReadsPerSecond: fraction * capacity,
      achievedReadsPerSecond: median(list.map((s) => s.achievedReadsPerSecond)),
      p50Ms: median(list.map((s) => s.p50Ms)),
      p99Ms: median(list.map((s) => s.p99Ms)),
      hitRate: mode === 'bare' ? undefined : median(list.map((s) => s.hitRate!)),
      rounds: list,
    }
  }),
)
if (openRows.length > 0) {
  lines.push(
    '',
    `open loop: Poisson arrivals of pages at fractions of the bare client's capacity (${Math.round(capacity).toLocaleString('en')} reads/s at ${topConcurrency} workers); latency of a page from its scheduled arrival`,
    '',
    '| fraction | mode | offered reads/s | achieved reads/s | p50 ms | p99 ms | hit rate |',
    '|---|---|---|---|---|---|---|',
    ...openRows.map(
      (r) =>
        `| ${[
          r.fraction,
          r.mode,
          Math.round(r.offeredReadsPerSecond).toLocaleString('en'),
          Math.round(r.achievedReadsPerSecond).toLocaleString('en'),
          fixed(r.p50Ms, 3),
          fixed(r.p99Ms, 3),
          r.hitRate === undefined ? '' : `${fixed(r.hitRate * 100, 1)}%`,
        ].join(' | ')} |`,
    ),
  )
}
console.log(lines.join('\n'))

if (flags.json) {
  const meta = {
    db: DB,
    users: USERS,
    posts: USERS * POSTS_PER_USER,
    zipf: ZIPF,
    mix:
      MIX === 'default'
        ? { name: MIX, userPages: USER_PAGES, listPages: 1 - USER_PAGES, pagesPerSession: PAGES_PER_SESSION, readsPerPage: READS_PER_PAGE }
        : { name: MIX, pages: PREDICTABLE_PAGES, pagesPerSession: PAGES_PER_SESSION, readsPerPage: READS_PER_PAGE },
    seconds: SECONDS,
    rounds: ROUNDS,
    warmupSeconds: WARMUP_SECONDS,
    concurrency: CONCURRENCY,
    node: process.version,
    nodeEnv: process.env.NODE_ENV ?? '',
    totalSeconds: Math.round((performance.now() - benchStarted) / 1000),
  }
  const open = OPEN.length === 0 ? undefined : { fractions: OPEN, capacityReadsPerSecond: capacity, capacityConcurrency: topConcurrency, results: openRows }
  writeFileSync(flags.json, JSON.stringify({ ...meta, results: rows, open }, null, 2) + '\n')
  console.log(`\nwrote ${flags.json}`)
}

await Promise.all([bare.$disconnect(), cache.$prefetch.close(), learn.$prefetch.close()])
await Promise.all([cache.$disconnect(), learn.$disconnect()])
await cleanUp()
