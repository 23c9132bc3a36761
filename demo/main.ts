/**
 * `npm run demo`: the blog of demo/app.ts three times, side by side, on three copies of one
 * embedded SQLite database whose round trips take `--rtt` ms (a database across a network): on
 * the bare Prisma client, on the client extended with prefetch() as a cache only (learning off:
 * repeats are served, nothing is predicted), and with prefetch() predicting. The same number of
 * simulated visitors browse each (home -> post -> author -> their post -> tag -> ...), following
 * links from the pages they get and now and then writing a comment; every post page also counts a
 * view (a write on every page, as view counters and last-seen times are). Every few seconds it prints
 * page times and what the extension did; at the end, what it learned, and the result of checking
 * every post page against the comments its database held when the page was asked for.
 *
 * With `--per-model`, a fourth blog runs prefetch() with per-model invalidation
 * (`rowGenerations: false`): each view then ends every cached post, not only the viewed one.
 *
 *   npm run demo [-- --seconds 40 --visitors 12 --rtt 2 --report prisma-prefetch-report.html --per-model]
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { withLatency } from '../bench/latency.ts'
import { pushSchema } from '../scripts/schema-engine.ts'
import { Prisma, PrismaClient } from '../src/generated/prisma/client.ts'
import { prefetch } from '../src/index.ts'
import { COMMENTS_PER_PAGE, startBlog } from './app.ts'
import { WriteLog, type StalePage } from './staleness.ts'

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '40' },
    visitors: { type: 'string', default: '12' },
    rtt: { type: 'string', default: '2' },
    report: { type: 'string', default: 'prisma-prefetch-report.html' },
    'per-model': { type: 'boolean', default: false },
  },
})
const SECONDS = Number(flags.seconds)
const VISITORS = Number(flags.visitors)
const RTT = Number(flags.rtt)
const setupStarted = performance.now()

const dir = mkdtempSync(join(tmpdir(), 'prisma-prefetch-demo-'))
const schema = readFileSync(new URL('../prisma/schema.prisma', import.meta.url), 'utf8')

type Lane = 'bare' | 'cache' | 'prefetch' | 'perModel'
const LANES: readonly Lane[] = flags['per-model'] ? ['bare', 'cache', 'prefetch', 'perModel'] : ['bare', 'cache', 'prefetch']
const LABEL: Record<Lane, string> = { bare: 'bare', cache: 'cache only', prefetch: 'prefetch', perModel: 'per model' }
/** One value per lane that runs. */
const perLane = <T>(make: (lane: Lane) => T) => Object.fromEntries(LANES.map((lane) => [lane, make(lane)])) as Record<Lane, T>

/**
 * The blog, seeded once (in one transaction: one commit instead of one per row) and copied for
 * each lane, so that every lane starts from the same rows.
 */
async function seededFile(): Promise<string> {
  const file = join(dir, 'seed.db')
  await pushSchema({ provider: 'sqlite', url: `file:${file}`, schema })
  const local = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) })
  await local.$transaction((tx) => seed(tx), { timeout: 120_000, maxWait: 10_000 })
  await local.$disconnect()
  return file
}

/** A client whose round trips to a copy of `seed` take RTT ms. */
function database(seed: string, lane: Lane) {
  const file = join(dir, `${lane}.db`)
  copyFileSync(seed, file)
  const network = withLatency(new PrismaBetterSqlite3({ url: `file:${file}` }), RTT)
  return { client: new PrismaClient({ adapter: network.factory }), trips: network.trips }
}

/** The same blog in each database: 40 authors, 8 tags, 400 posts with 3 comments each. */
async function seed(prisma: Prisma.TransactionClient) {
  const tags = []
  for (const name of ['sql', 'orm', 'cache', 'node', 'typescript', 'postgres', 'sqlite', 'redis']) tags.push(await prisma.tag.create({ data: { name } }))
  const users: { id: number }[] = []
  for (let u = 0; u < 40; u++) {
    users.push(await prisma.user.create({ data: { email: `author${u}@blog.example`, name: `Author ${u}`, profile: { create: { bio: `Writes about ${tags[u % 8].name}` } } } }))
  }
  for (let p = 0; p < 400; p++) {
    await prisma.post.create({
      data: {
        title: `Post ${p}`,
        body: `Text of post ${p}`,
        published: true,
        authorId: users[(p * 7) % 40].id,
        tags: { connect: [{ id: tags[p % 8].id }, { id: tags[(p * 3 + 1) % 8].id }] },
        comments: { create: [0, 1, 2].map((c) => ({ text: `Comment ${c} on post ${p}`, authorId: users[(p + c) % 40].id })) },
      },
    })
  }
}

console.log(`Seeding a blog (40 authors, 400 posts) and copying it ${LANES.length} times in ${dir} ...`)
const seedFile = await seededFile()
const dbs = perLane((lane) => database(seedFile, lane))
const cached = dbs.cache.client.$extends(prefetch({ learn: false }))
// The three lanes share this process: its event loop is busy with the other lanes' visitors too,
// which is not this client's load, so speculation is not paused for it (`cpu: false`).
const prisma = dbs.prefetch.client.$extends(prefetch({ cpu: false }))
const perModel = LANES.includes('perModel') ? dbs.perModel.client.$extends(prefetch({ cpu: false, rowGenerations: false })) : undefined
/** The extended client of each lane but bare. */
const extended: Partial<Record<Lane, typeof prisma | typeof cached>> = { cache: cached, prefetch: prisma, perModel }
const started = await Promise.all(LANES.map((lane) => startBlog((extended[lane] ?? dbs[lane].client) as unknown as PrismaClient)))
const blogs = perLane((lane) => started[LANES.indexOf(lane)])
const setupSeconds = (performance.now() - setupStarted) / 1000

// --- simulated visitors -------------------------------------------------------------------------

type Page = { path: string; body: any }
const times = perLane((): number[] => [])
const writes = perLane(() => new WriteLog())
const checked = perLane(() => 0)
/** Post pages served (each counted a view in its database). */
const viewed = perLane(() => 0)
const stale = perLane((): StalePage[] => [])
let running = true

function pick<T>(list: readonly T[]): T | undefined {
  // Readers favour what is on top of a list.
  return list.length === 0 ? undefined : list[Math.floor(Math.random() ** 2 * list.length)]
}

/** Where a visitor goes from `page`: links taken from what the page showed. */
function next(page: Page): string {
  const roll = Math.random()
  const body = page.body
  if (page.path === '/') return `/posts/${pick(body as { id: number }[])?.id ?? 1}`
  if (page.path.startsWith('/posts/')) {
    if (!body) return '/'
    if (roll < 0.45) return `/users/${body.post.author.id}`
    if (roll < 0.7) return `/tags/${pick(body.post.tags as { id: number }[])?.id ?? 1}`
    if (roll < 0.75) return `${page.path}/comments`
    return '/'
  }
  if (page.path.startsWith('/users/') || page.path.startsWith('/tags/')) {
    if (!body || roll < 0.25) return '/'
    return `/posts/${pick(body.posts as { id: number }[])?.id ?? 1}`
  }
  return '/'
}

async function visitor(blog: Lane, index: number) {
  let visit = 0
  while (running) {
    // A visit lasts about 15 pages; then a new visitor (a new session) arrives.
    const cookie = `sid=${blog}-${index}-${visit++}`
    let page: Page = { path: '/', body: null }
    let path = '/'
    do {
      const started = performance.now()
      const write = path.endsWith('/comments')
      const response = await fetch(blogs[blog].url + path, { method: write ? 'POST' : 'GET', headers: { cookie, 'x-user': String(1 + index) } })
      const body: any = await response.json().catch(() => null)
      if (write) {
        // The comment is in the database from now on: every page of its post asked for later must show it.
        if (body) writes[blog].add({ postId: body.postId, commentId: body.id, completedAt: performance.now() })
      } else {
        times[blog].push(performance.now() - started)
        const post = /^\/posts\/(\d+)$/.exec(path)
        if (post && body) {
          viewed[blog]++
          checked[blog]++
          const found = writes[blog].check({ postId: Number(post[1]), requestedAt: started, commentIds: body.comments.map((c: { id: number }) => c.id), limit: COMMENTS_PER_PAGE })
          if (found) stale[blog].push(found)
        }
      }
      page = write ? page : { path, body }
      path = write ? page.path : next(page)
    } while (running && Math.random() > 1 / 15)
  }
}

// --- live figures -------------------------------------------------------------------------------

const median = (values: number[]) => (values.length === 0 ? NaN : [...values].sort((a, b) => a - b)[values.length >> 1])
const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-')

const dbPerPage = (lane: Lane) => fixed(dbs[lane].trips.queries / Math.max(1, times[lane].length), 2)

function line(elapsed: number) {
  const s = prisma.$prefetch.stats()
  const lanes = LANES.map((lane) => `${LABEL[lane]} ${String(times[lane].length).padStart(5)} (median ${fixed(median(times[lane]))} ms, ${dbPerPage(lane)} db/page)`)
  console.log(`${String(Math.round(elapsed)).padStart(3)} s | pages ${lanes.join(' | ')} | prefetch hit rate ${fixed(s.hitRate, 2)}, prefetched ${s.prefetchHits + s.lateHits}`)
}

console.log(`Set up in ${fixed(setupSeconds)} s. ${VISITORS} visitors on each blog for ${SECONDS} s; every database round trip takes ${RTT} ms.\n`)
const start = performance.now()
const visitors = LANES.flatMap((lane) => Array.from({ length: VISITORS }, (_, i) => visitor(lane, i)))
const ticker = setInterval(() => line((performance.now() - start) / 1000), 4000)
await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000))
running = false
clearInterval(ticker)
await Promise.all(visitors)
line((performance.now() - start) / 1000)

const s = prisma.$prefetch.stats()
/**
 * The hit rate of single-row reads by a unique key (findUnique, findUniqueOrThrow): the reads
 * row generations keep cached while other rows of their model are written (every post page
 * counts a view).
 */
function singleRowHitRate(stats: ReturnType<typeof prisma.$prefetch.stats>): number {
  const ops = ['findUnique', 'findUniqueOrThrow'].map((operation) => stats.byOperation[operation])
  const reads = ops.reduce((n, c) => n + (c?.reads ?? 0), 0)
  return reads === 0 ? NaN : ops.reduce((n, c) => n + (c?.hits ?? 0), 0) / reads
}
console.log(`\n${''.padEnd(12)}${'pages'.padStart(7)}${'median ms'.padStart(11)}${'db/page'.padStart(9)}${'hit rate'.padStart(10)}${'1-row hits'.padStart(12)}   stale pages`)
for (const lane of LANES) {
  const laneStats = extended[lane]?.$prefetch.stats()
  const hitRate = laneStats ? fixed(laneStats.hitRate, 2) : '-'
  const singleRow = laneStats ? fixed(singleRowHitRate(laneStats), 2) : '-'
  console.log(
    `${LABEL[lane].padEnd(12)}${String(times[lane].length).padStart(7)}${fixed(median(times[lane])).padStart(11)}${dbPerPage(lane).padStart(9)}${hitRate.padStart(10)}${singleRow.padStart(12)}   ${stale[lane].length} of ${checked[lane]} post pages`,
  )
}
const ratio = (lane: Lane) => fixed(median(times[lane]) / median(times.bare), 2)
console.log(`\nMedian page time with prefetch: ${ratio('prefetch')}x the bare client's (cache only: ${ratio('cache')}x).`)
console.log(
  `Reads ${s.reads}: ${s.hits} from the cache (${s.prefetchHits} prefetched, ${s.lateHits} joined a prefetch in flight), ${s.misses} from the database.` +
    ` Speculative reads: ${s.prefetch.issued} issued, ${s.prefetch.used} used (precision ${fixed(s.precision, 2)}).`,
)
// The claim, checked: each post page against the comments its database held when it was asked for.
const comments = LANES.reduce((n, lane) => n + writes[lane].size, 0)
const violations = LANES.flatMap((lane) => stale[lane].map((found) => ({ lane, ...found })))
const pages = LANES.reduce((n, lane) => n + checked[lane], 0)
if (violations.length === 0) {
  console.log(`Checked: ${pages} post pages against the comments their database held when each was asked for (${comments} written during the run): none showed data older than a write.`)
} else {
  console.log(`STALE: ${violations.length} of ${pages} post pages lacked a comment written before they were asked for:`)
  for (const { lane, page, missing } of violations.slice(0, 10)) {
    const ids = missing.map((w) => `${w.commentId} (written ${fixed(page.requestedAt - w.completedAt)} ms before)`).join(', ')
    console.log(`  ${LABEL[lane]}: /posts/${page.postId} lacked comment ${ids}`)
  }
  process.exitCode = 1
}

// The view counters, checked: every post page served wrote one view, in every lane.
for (const lane of LANES) {
  const counted = await dbs[lane].client.post.aggregate({ _sum: { views: true } })
  console.log(`Views ${LABEL[lane]}: ${viewed[lane]} post pages served, ${counted._sum.views ?? 0} views in its database.`)
}

console.log('\nWhat it learned, the best supported transitions (query shapes, ? an argument):')
const shown = new Set<string>()
for (const t of prisma.$prefetch.model({ limit: 20 }).transitions) {
  const pair = `${t.after.at(-1)} ${t.next}`
  if (shown.has(pair) || shown.size >= 5) continue
  shown.add(pair)
  console.log(`\n  after  ${t.after.at(-1)}\n  comes  ${t.next}\n         with probability ${fixed(t.probability, 2)} (seen ${fixed(t.support, 0)} times)`)
  for (const a of t.arguments) console.log(`         ${a.slot} = ${a.from}`)
}

const report = resolve(flags.report)
prisma.$prefetch.report({ file: report, title: 'prisma-prefetch demo: the blog' })
console.log(`\nThe report of what it learned, with the graph: ${report}`)

for (const client of Object.values(extended)) await client?.$prefetch.close()
for (const lane of LANES) await blogs[lane].close()
for (const lane of LANES) await dbs[lane].client.$disconnect()
rmSync(dir, { recursive: true, force: true })
