/**
 * Micro-benchmark of the serving core on embedded SQLite: the bare client, the extension on a
 * miss (a query it has not seen: it goes to the database and stores the result) and the
 * extension on a hit, for findUnique by id and for findMany of 20 rows with an include. An
 * empty query extension is measured beside them: it is what any query extension costs in
 * Prisma, before this one does anything. "session hit" is a hit inside `session()`, where the
 * learner observes the read and predicts the next one: what learning adds to a read.
 *
 * The modes are measured side by side, interleaved within each round, over several rounds;
 * the figure reported is the median of the rounds' means, in microseconds per call.
 *
 *   npm run bench:micro -- [--rounds 7] [--calls 400] [--json FILE] [--modes hit,sessionHit]
 *
 * `--modes` measures only the modes named (for a CPU profile of one path:
 * `node --cpu-prof --import tsx bench/micro.ts --modes sessionHit`, read with scripts/cpu-profile.ts).
 *
 * `--count` measures counts instead of times, which a busy machine cannot move (docs/performance.md):
 * each mode runs a warm-up, then `--calls` calls between two markers (a call to os.getPriority, which
 * callgrind dumps before with `--dump-before=uv_os_getpriority`), so each second dump holds one mode's
 * instructions; and promises created per call, counted with an async_hooks init hook.
 *
 *   valgrind --tool=callgrind --dump-before=uv_os_getpriority --callgrind-out-file=/tmp/cg.%p \
 *     node --import tsx bench/micro.ts --count --rounds 1 --calls 200
 */
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { Prisma } from '@prisma/client/extension'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { getPriority, tmpdir } from 'node:os'
import { createHook } from 'node:async_hooks'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { prefetch } from '../src/index.ts'
import { PrismaClient } from '../src/generated/prisma/client.ts'
import { pushSchema } from '../scripts/schema-engine.ts'

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    calls: { type: 'string', default: '400' },
    json: { type: 'string' },
    modes: { type: 'string' },
    count: { type: 'boolean', default: false },
  },
})
const ROUNDS = Number(flags.rounds)
const CALLS = Number(flags.calls)
// Enough distinct ids that every miss call is a new query (and every findMany miss finds 20 posts).
const USERS = (flags.count ? 2 * (50 + 2 * CALLS) : ROUNDS * CALLS * 2) + 200

const dir = join(tmpdir(), `prisma-prefetch-micro-${process.pid}`)
mkdirSync(dir, { recursive: true })
const file = join(dir, 'micro.db')
await pushSchema({ provider: 'sqlite', url: file, schema: readFileSync(new URL('../prisma/schema.prisma', import.meta.url), 'utf8') })

const bare = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file }) })
await seed()
// Separate clients, so the extension's cache and Prisma's own query-plan cache never favour one side.
const missClient = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file }) }).$extends(prefetch())
const hitClient = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file }) }).$extends(prefetch())
// A hit inside a session: the learner observes every read and predicts the next.
const sessionClient = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file }) }).$extends(prefetch())
const emptyClient = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file }) }).$extends(
  Prisma.defineExtension({ query: { $allOperations: ({ args, query }) => query(args) } }),
)

type Run = (i: number) => Promise<unknown>
const ALL_MODES = ['bare', 'empty', 'miss', 'hit', 'sessionHit'] as const
type Mode = (typeof ALL_MODES)[number]
type Case = Record<Mode, Run>
const MODES: readonly Mode[] = flags.modes === undefined ? ALL_MODES : flags.modes.split(',').map((mode) => {
  if (!(ALL_MODES as readonly string[]).includes(mode)) throw new TypeError(`--modes takes some of ${ALL_MODES.join(',')}: ${mode}`)
  return mode as Mode
})

const findManyArgs = (offset: number) => ({
  where: { id: { gt: offset } },
  take: 20,
  orderBy: { id: 'asc' as const },
  include: { comments: true },
})

let missOffset = 0
const cases: Record<'findUnique' | 'findMany', Case> = {
  findUnique: {
    bare: (i) => bare.user.findUnique({ where: { id: 1 + (i % USERS) } }),
    empty: (i) => emptyClient.user.findUnique({ where: { id: 1 + (i % USERS) } }),
    miss: () => missClient.user.findUnique({ where: { id: 1 + (missOffset++ % USERS) } }),
    hit: () => hitClient.user.findUnique({ where: { id: 7 } }),
    sessionHit: () => sessionClient.$prefetch.session('bench', () => sessionClient.user.findUnique({ where: { id: 7 } })),
  },
  findMany: {
    bare: (i) => bare.post.findMany(findManyArgs(i % 100)),
    empty: (i) => emptyClient.post.findMany(findManyArgs(i % 100)),
    miss: () => missClient.post.findMany(findManyArgs(100 + missOffset++)),
    hit: () => hitClient.post.findMany(findManyArgs(3)),
    sessionHit: () => sessionClient.$prefetch.session('bench', () => sessionClient.post.findMany(findManyArgs(3))),
  },
}

async function time(run: Run, calls: number): Promise<number> {
  const start = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) await run(i)
  return Number(process.hrtime.bigint() - start) / 1000 / calls
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

if (flags.count) {
  await count()
  if (missClient.$prefetch.stats().hits !== 0) throw new Error('benchmark setup is wrong: the miss client must miss')
  await Promise.all([bare, missClient, hitClient, sessionClient, emptyClient].map((client) => client.$disconnect()))
  rmSync(dir, { recursive: true, force: true })
  process.exit(0)
}

/** Counts per call, mode by mode in a fixed order: promises here, instructions in callgrind's dumps. */
async function count(): Promise<void> {
  let promises = 0
  const hook = createHook({ init: (_id, type) => { if (type === 'PROMISE') promises++ } })
  console.log('dump  query        mode        promises/call')
  let dump = 0
  for (const [name, c] of Object.entries(cases)) {
    for (const mode of MODES) {
      await time(c[mode], 50) // warm-up, outside the markers
      getPriority() // marker: callgrind dumps everything before this mode's calls
      await time(c[mode], CALLS)
      getPriority() // marker: the dump holding this mode's calls, and nothing else
      dump += 2
      hook.enable()
      promises = 0
      await time(c[mode], CALLS)
      hook.disable()
      console.log(`${String(dump).padStart(4)}  ${name.padEnd(12)} ${mode.padEnd(11)} ${(promises / CALLS).toFixed(1).padStart(8)}`)
    }
  }
}

const results: Record<string, { bareUs: number; emptyExtensionUs: number; missUs: number; hitUs: number; sessionHitUs: number }> = {}
for (const [name, c] of Object.entries(cases)) {
  // Warm-up: compile query plans and JIT every path once.
  for (const mode of MODES) await time(c[mode], 50)
  const samples = { bare: [] as number[], empty: [] as number[], miss: [] as number[], hit: [] as number[], sessionHit: [] as number[] }
  const calls = name === 'findMany' ? Math.max(20, CALLS >> 2) : CALLS
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so no mode always runs first.
    const order = MODES.map((_, k) => MODES[(k + round) % MODES.length])
    for (const mode of order) samples[mode].push(await time(c[mode], calls))
    process.stderr.write(`\r${name}: round ${round + 1}/${ROUNDS}`)
  }
  process.stderr.write('\n')
  results[name] = {
    bareUs: median(samples.bare),
    emptyExtensionUs: median(samples.empty),
    missUs: median(samples.miss),
    hitUs: median(samples.hit),
    sessionHitUs: median(samples.sessionHit),
  }
}

const hitStats = hitClient.$prefetch.stats()
const missStats = missClient.$prefetch.stats()
if ((MODES.includes('hit') && hitStats.hits === 0) || missStats.hits !== 0) throw new Error('benchmark setup is wrong: the hit client must hit and the miss client must miss')

console.log('\nprisma-prefetch micro-benchmark (SQLite file, µs per call, median of rounds)')
console.log(`rounds ${ROUNDS}, ${CALLS} findUnique / ${Math.max(20, CALLS >> 2)} findMany calls per mode per round, node ${process.version}\n`)
console.log('query          bare   empty ext      miss      hit  session hit   empty/bare  miss/bare  bare/hit')
for (const [name, r] of Object.entries(results)) {
  const cells = [r.bareUs, r.emptyExtensionUs, r.missUs, r.hitUs, r.sessionHitUs].map((us) => us.toFixed(1).padStart(9))
  const ratios = [r.emptyExtensionUs / r.bareUs, r.missUs / r.bareUs].map((x) => `${x.toFixed(2)}x`.padStart(10))
  console.log(`${name.padEnd(12)}${cells.join('')} ${ratios.join(' ')} ${`${(r.bareUs / r.hitUs).toFixed(1)}x`.padStart(9)}`)
}
if (flags.json) {
  const meta = { rounds: ROUNDS, calls: CALLS, node: process.version, nodeEnv: process.env.NODE_ENV ?? '' }
  writeFileSync(flags.json, JSON.stringify({ ...results, ...meta }, null, 2) + '\n')
  console.log(`\nwrote ${flags.json}`)
}

await Promise.all([bare, missClient, hitClient, sessionClient, emptyClient].map((client) => client.$disconnect()))
rmSync(dir, { recursive: true, force: true })

async function seed() {
  const batch = 500
  for (let start = 0; start < USERS; start += batch) {
    await bare.user.createMany({
      data: Array.from({ length: Math.min(batch, USERS - start) }, (_, k) => ({
        email: `u${start + k}@bench.test`,
        name: `User ${start + k}`,
        karma: BigInt(start + k),
        settings: { n: start + k },
      })),
    })
  }
  const posts = USERS // one post per user, each with 3 comments
  for (let start = 0; start < posts; start += batch) {
    await bare.post.createMany({
      data: Array.from({ length: Math.min(batch, posts - start) }, (_, k) => ({
        title: `Post ${start + k}`,
        body: 'x'.repeat(200),
        authorId: 1 + ((start + k) % USERS),
        price: `${start + k}.5`,
        meta: { k },
      })),
    })
  }
  const comments = []
  for (let p = 1; p <= posts; p++) for (let c = 0; c < 3; c++) comments.push({ text: `c${c}`, postId: p, authorId: 1 + (p % USERS) })
  for (let start = 0; start < comments.length; start += batch) await bare.comment.createMany({ data: comments.slice(start, start + batch) })
}
