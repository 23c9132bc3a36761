/**
 * `npm run demo`: the blog of demo/app.ts twice, side by side, on two copies of one embedded
 * SQLite database whose round trips take `--rtt` ms (a database across a network): once on the
 * bare Prisma client, once on the same client extended with prefetch(). The same number of
 * simulated visitors browse each (home -> post -> author -> their post -> tag -> ...), following
 * links from the pages they get and now and then writing a comment. Every few seconds it prints
 * page times and what the extension did; at the end, what it learned.
 *
 *   npm run demo [-- --seconds 40 --visitors 12 --rtt 2 --report prisma-prefetch-report.html]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { withLatency } from '../bench/latency.ts'
import { pushSchema } from '../scripts/schema-engine.ts'
import { PrismaClient } from '../src/generated/prisma/client.ts'
import { prefetch } from '../src/index.ts'
import { startBlog } from './app.ts'

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '40' },
    visitors: { type: 'string', default: '12' },
    rtt: { type: 'string', default: '2' },
    report: { type: 'string', default: 'prisma-prefetch-report.html' },
  },
})
const SECONDS = Number(flags.seconds)
const VISITORS = Number(flags.visitors)
const RTT = Number(flags.rtt)

const dir = mkdtempSync(join(tmpdir(), 'prisma-prefetch-demo-'))
const schema = readFileSync(new URL('../prisma/schema.prisma', import.meta.url), 'utf8')

/** A database with the blog in it, and a client whose round trips to it take RTT ms. */
async function database(name: string) {
  const url = `file:${join(dir, `${name}.db`)}`
  await pushSchema({ provider: 'sqlite', url, schema })
  const local = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url }) })
  await seed(local)
  await local.$disconnect()
  const network = withLatency(new PrismaBetterSqlite3({ url }), RTT)
  return { client: new PrismaClient({ adapter: network.factory }), trips: network.trips }
}

/** The same blog in each database: 40 authors, 8 tags, 400 posts with 3 comments each. */
async function seed(prisma: PrismaClient) {
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

console.log(`Seeding two copies of a blog (40 authors, 400 posts) in ${dir} ...`)
const bare = await database('bare')
const extended = await database('prefetch')
const prisma = extended.client.$extends(prefetch())
const blogs = { bare: await startBlog(bare.client), prefetch: await startBlog(prisma as unknown as PrismaClient) }

// --- simulated visitors -------------------------------------------------------------------------

type Page = { path: string; body: any }
const times = { bare: [] as number[], prefetch: [] as number[] }
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

async function visitor(blog: keyof typeof blogs, index: number) {
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
      const body = await response.json().catch(() => null)
      if (!write) times[blog].push(performance.now() - started)
      page = write ? page : { path, body }
      path = write ? page.path : next(page)
    } while (running && Math.random() > 1 / 15)
  }
}

// --- live figures -------------------------------------------------------------------------------

const median = (values: number[]) => (values.length === 0 ? NaN : [...values].sort((a, b) => a - b)[values.length >> 1])
const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-')

function line(elapsed: number) {
  const s = prisma.$prefetch.stats()
  const b = median(times.bare)
  const p = median(times.prefetch)
  console.log(
    `${String(Math.round(elapsed)).padStart(3)} s | pages bare ${String(times.bare.length).padStart(5)} (median ${fixed(b)} ms, ${fixed(bare.trips.queries / Math.max(1, times.bare.length), 2)} db/page)` +
      ` | prefetch ${String(times.prefetch.length).padStart(5)} (median ${fixed(p)} ms, ${fixed(extended.trips.queries / Math.max(1, times.prefetch.length), 2)} db/page)` +
      ` | hit rate ${fixed(s.hitRate, 2)}, prefetched ${s.prefetchHits + s.lateHits}, precision ${fixed(s.precision, 2)}`,
  )
}

console.log(`${VISITORS} visitors on each blog for ${SECONDS} s; every database round trip takes ${RTT} ms.\n`)
const start = performance.now()
const visitors = [...Array.from({ length: VISITORS }, (_, i) => visitor('bare', i)), ...Array.from({ length: VISITORS }, (_, i) => visitor('prefetch', i))]
const ticker = setInterval(() => line((performance.now() - start) / 1000), 4000)
await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000))
running = false
clearInterval(ticker)
await Promise.all(visitors)
line((performance.now() - start) / 1000)

const s = prisma.$prefetch.stats()
const ratio = median(times.prefetch) / median(times.bare)
console.log(`\nMedian page time with prefetch: ${fixed(ratio, 2)}x the bare client's.`)
console.log(
  `Reads ${s.reads}: ${s.hits} from the cache (${s.prefetchHits} prefetched, ${s.lateHits} joined a prefetch in flight), ${s.misses} from the database.` +
    ` Speculative reads: ${s.prefetch.issued} issued, ${s.prefetch.used} used (precision ${fixed(s.precision, 2)}). Writes ${s.writes}, and no page ever showed data older than them.`,
)
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

await prisma.$prefetch.close()
await blogs.bare.close()
await blogs.prefetch.close()
await bare.client.$disconnect()
await extended.client.$disconnect()
rmSync(dir, { recursive: true, force: true })
