/**
 * One mode of bench/micro.ts in a process of its own, for callgrind: seeds its own SQLite file,
 * warms the mode up (default 600 calls, enough for the JIT to settle), then makes `CALLS` calls
 * between two calls to os.getPriority(), which callgrind dumps before. The main thread's dump 2
 * (`*.2-01` with `--separate-threads=yes`) holds those calls and nothing else. Run node with
 * `--single-threaded`: V8 then compiles and collects on the main thread, when it must, instead of
 * on background threads that valgrind schedules at its own pace (with them, the same code gave
 * counts 20% apart from run to run, as the main thread waited for optimised code or not). An
 * AsyncLocalStorage is in use in every mode, as it is in bench/micro.ts, where all modes share one
 * process (its promise hook then runs for every promise).
 *
 *   valgrind --tool=callgrind --separate-threads=yes --dump-before=uv_os_getpriority \
 *     --callgrind-out-file=cg/hit node --single-threaded --import tsx bench/micro-count.ts hit 300 findUnique 600
 *   callgrind_annotate cg/hit.2-01 | grep 'PROGRAM TOTALS'     # Ir of the 300 calls
 *
 * Modes: bare, empty (a query extension that only calls `query(args)`: what any extension costs),
 * miss, hit, sessionHit; queries: findUnique (by id), findMany (20 posts with their
 * comments). scripts/count-instructions.sh runs it and prints instructions per call.
 *
 * `learnMix` and `cacheMix` (the query argument is ignored) play one page of bench/load.ts's
 * default mix per call, sequentially, from a seeded stream (the same pages in every run):
 * `learnMix` with prefetch() inside a session changed every 10 pages, `cacheMix` with
 * prefetch({ learn: false }) outside sessions. Their difference per call is what learning and
 * speculation cost a page of the load benchmark (1.6 reads), and waits for speculation are
 * counted in (each page awaits `idle()`). Both with a TTL of a day and `cpu: false`, so that
 * nothing in the count depends on the speed of the process.
 *
 * `learnMixBusy` is `learnMix` with the CPU back-off forced on (a utilisation source that reads
 * 1, through the extension's test seam, sampled every second with `cpu.busyWindows` 1: the first
 * sample falls early in the warm-up, and the back-off stays on): speculation paused, learning backed off as
 * `cpu.learnEvery` (env LEARN_EVERY, default 10) and `cpu.settledAfter` (env SETTLED_AFTER,
 * default 100) say. Against `cacheMix`, what learning still costs a page at saturation.
 *
 * With env ALLOC=1 (no callgrind: `ALLOC=1 node --import tsx bench/micro-count.ts miss 5000
 * findUnique 5000`) it prints the bytes allocated on the JS heap and the scavenges per call.
 */
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { getPriority, tmpdir } from 'node:os'
import { AsyncLocalStorage } from 'node:async_hooks'
import { join } from 'node:path'
import { GCProfiler, getHeapStatistics } from 'node:v8'
import { prefetch } from '../src/index.ts'
import { prefetchWith } from '../src/middleware/extension.ts'
import { PrismaClient } from '../src/generated/prisma/client.ts'
import { pushSchema } from '../scripts/schema-engine.ts'
const mode = process.argv[2] ?? 'sessionHit'
const calls = Number(process.argv[3] ?? 300)
const query = process.argv[4] ?? 'findUnique'
const warm = Number(process.argv[5] ?? 600)
if (!['bare', 'empty', 'miss', 'hit', 'sessionHit', 'learnMix', 'learnMixBusy', 'cacheMix'].includes(mode) || !['findUnique', 'findMany'].includes(query)) {
  throw new TypeError(`usage: micro-count.ts bare|empty|miss|hit|sessionHit|learnMix|learnMixBusy|cacheMix CALLS findUnique|findMany WARMUP: ${process.argv.slice(2).join(' ')}`)
}
const USERS = warm + calls + 200
const dir = join(tmpdir(), `prisma-prefetch-micro-count-${process.pid}`)
mkdirSync(dir, { recursive: true })
const file = join(dir, 'micro.db')
await pushSchema({ provider: 'sqlite', url: file, schema: readFileSync(new URL('../prisma/schema.prisma', import.meta.url), 'utf8') })
const bare = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file }) })
for (let s = 0; s < USERS; s += 500) {
  const n = Math.min(500, USERS - s)
  await bare.user.createMany({ data: Array.from({ length: n }, (_, k) => ({ email: `u${s + k}@b.t`, name: `User ${s + k}`, karma: BigInt(s + k), settings: { n: s + k } })) })
  await bare.post.createMany({ data: Array.from({ length: n }, (_, k) => ({ title: `Post ${s + k}`, body: 'x'.repeat(200), authorId: 1 + s + k, price: `${s + k}.5`, meta: { k } })) })
  const comments = []
  for (let k = 0; k < n; k++) for (let c = 0; c < 3; c++) comments.push({ text: `c${c}`, postId: 1 + s + k, authorId: 1 + s + k })
  await bare.comment.createMany({ data: comments })
}
// The mix's counts must not depend on how fast the process runs (valgrind slows it 50-fold): no
// entry expires during a run, and speculation never pauses for a busy event loop.
const MIX_OPTIONS = { ttl: 24 * 3_600_000, cpu: false } as const
const fresh = () => new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file }) })
const empty = { query: { $allOperations: ({ args, query }: { args: unknown; query: (args: unknown) => Promise<unknown> }) => query(args) } }
const client =
  mode === 'bare'
    ? bare
    : mode === 'empty'
      ? fresh().$extends(empty)
      : mode === 'learnMixBusy'
        ? fresh().$extends(prefetchWith({ ...MIX_OPTIONS, cpu: { sampleMs: 1000, busyWindows: 1, learnEvery: Number(process.env.LEARN_EVERY ?? 10), settledAfter: Number(process.env.SETTLED_AFTER ?? 100) } }, { utilization: () => 1 }))
        : fresh().$extends(prefetch(mode.endsWith('Mix') ? { ...MIX_OPTIONS, ...(mode === 'cacheMix' ? { learn: false } : {}) } : {}))
const many = (offset: number) => ({ where: { id: { gt: offset } }, take: 20, orderBy: { id: 'asc' as const }, include: { comments: true } })
let i = 0
const read = (): Promise<unknown> => {
  i++
  const c = client as any
  if (query === 'findUnique') return c.user.findUnique({ where: { id: mode === 'miss' || mode === 'bare' || mode === 'empty' ? 1 + (i % USERS) : 7 } })
  return c.post.findMany(many(mode === 'miss' ? 100 + i : mode === 'bare' || mode === 'empty' ? i % 100 : 3))
}
// bench/load.ts's default mix: 60% user pages (a user by a skewed id, then their latest posts
// with comments), else a page of posts with their authors; a seeded LCG picks.
let seed = 1
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32
const skewed = (n: number) => 1 + Math.floor(n * random() ** 3)
const page = async (): Promise<unknown> => {
  const c = client as any
  if (random() < 0.6) {
    const id = skewed(USERS)
    await c.user.findUnique({ where: { id } })
    await c.post.findMany({ where: { authorId: id }, orderBy: { id: 'desc' }, take: 10, include: { comments: true } })
  } else await c.post.findMany({ orderBy: { id: 'asc' }, skip: (skewed(USERS / 20) - 1) * 20, take: 20, include: { author: true } })
  return c.$prefetch.idle()
}
let pages = 0
const mixPage = () => (mode.startsWith('learnMix') ? (client as any).$prefetch.session(`s${Math.floor(pages++ / 10)}`, page) : page())
const run = mode === 'sessionHit' ? () => (client as any).$prefetch.session('bench', read) : mode.includes('Mix') ? mixPage : read
// As in bench/micro.ts, where every mode runs in one process: an AsyncLocalStorage in use (its
// promise hook runs for every promise from then on).
new AsyncLocalStorage().run(1, () => {})
for (let k = 0; k < warm; k++) await run()
// ALLOC=1: bytes allocated on the JS heap and collections, per call, over the measured calls (no
// callgrind needed): the heap in use after them, less before, plus what each collection freed.
const profiler = process.env.ALLOC === '1' ? new GCProfiler() : undefined
// HEAP_PROFILE=FILE: a sampling heap profile of the measured calls, collected objects included
// (what each function allocates, not what survives), for scripts/cpu-profile.ts-like reading.
const inspector = process.env.HEAP_PROFILE === undefined ? undefined : new Session()
if (inspector !== undefined) {
  inspector.connect()
  await inspector.post('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
}
const usedBefore = getHeapStatistics().used_heap_size
profiler?.start()
getPriority()
for (let k = 0; k < calls; k++) await run()
getPriority()
if (inspector !== undefined) {
  const { profile } = await inspector.post('HeapProfiler.stopSampling')
  writeFileSync(process.env.HEAP_PROFILE!, JSON.stringify(profile))
}
if (profiler !== undefined) {
  const usedAfter = getHeapStatistics().used_heap_size
  const { statistics } = profiler.stop()
  let freed = 0
  for (const gc of statistics) freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize
  const scavenges = statistics.filter((gc) => gc.gcType === 'Scavenge').length
  console.log(`${query} ${mode} calls=${calls} bytes/call=${Math.round((usedAfter - usedBefore + freed) / calls)} scavenges/call=${(scavenges / calls).toFixed(4)} collections=${statistics.length}`)
}
if (mode !== 'bare' && mode !== 'empty') {
  const { prefetch: counters, hits } = (client as any).$prefetch.stats()
  console.log(mode, query, calls, JSON.stringify(counters?.skipped ?? {}), hits, `cpuBackoffReads=${counters?.cpuBackoffReads} cpuBackoffSampledOut=${counters?.cpuBackoffSampledOut}`)
}
await client.$disconnect(); await bare.$disconnect()
rmSync(dir, { recursive: true, force: true })
