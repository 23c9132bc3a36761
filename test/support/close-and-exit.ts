/**
 * Run as a child process by test/integration/scheduler.test.ts and test/reliability/handles.test.ts:
 * uses every part of the extension that could hold a timer or a handle (sessions, learning,
 * rules, speculative reads, a write inside an interactive transaction, warm), then closes it and
 * disconnects. The process must then exit by itself: nothing here calls process.exit, except a
 * watchdog that, if the process is still alive a while after closing, prints what keeps it open
 * (`process.getActiveResourcesInfo()`) and exits with code 3.
 *
 * With `REDIS` (a Redis URL) every feature is on: results, generations and what was learned in
 * Redis (shared learning published every 20 ms), sessions through `session()` and `forSession()`
 * with users, rules, a bounded-staleness consistency window, and database round trips slowed to
 * `RTT_MS` (default 25) so that speculative reads (learned, rule and warm) are still in flight when
 * `close()` is called. It prints a JSON line `{"atClose": {...}}` with what was running then.
 */
import KeyvRedis from '@keyv/redis'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import Keyv from 'keyv'
import { randomBytes } from 'node:crypto'
import { withLatency } from '../../bench/latency.ts'
import { prefetch, rule, type PrefetchOptions } from '../../src/index.ts'
import { createTestClient } from '../helpers/db.ts'

const WATCHDOG_MS = Number(process.env.WATCHDOG_MS ?? 5000)
const url = process.env.TEST_DATABASE_FILE!
const redisUrl = process.env.REDIS
const postgres = url.startsWith('postgres')
const adapter = () => (postgres ? new PrismaPg({ connectionString: url }) : new PrismaBetterSqlite3({ url }))
const slow = redisUrl ? withLatency(adapter(), Number(process.env.RTT_MS ?? 25)) : undefined
const base = await createTestClient({
  provider: postgres ? 'postgresql' : 'sqlite',
  adapterFactory: () => (slow?.factory ?? adapter()) as never,
})

const rules = [rule('User.findFirst').then('Post.findMany', ({ result }) => (result ? { where: { authorId: result.id } } : null))]
const redis = redisUrl ? new KeyvRedis(redisUrl) : undefined
const namespace = `close-${randomBytes(4).toString('hex')}`
const options: PrefetchOptions = redis
  ? {
      cache: new Keyv({ store: redis, namespace, useKeyPrefix: false }),
      namespace,
      consistency: { maxStalenessMs: 50 },
      storeTimeout: 2000,
      learn: { minSupport: 2, shareIntervalMs: 20 },
      rules,
    }
  : { rules }
const prisma = base.$extends(prefetch(options))
type Db = typeof prisma

/** A user page: the first user, then (as the rule and the learned transitions predict) their posts. */
async function page(db: Db, take: number) {
  const user = await db.user.findFirst({ orderBy: { id: 'asc' } })
  await db.post.findMany({ where: { authorId: user!.id }, take })
}
for (let i = 0; i < 6; i++) {
  if (i % 2 === 0) await prisma.$prefetch.session(`s${i}`, () => page(prisma, 2), { userId: `u${i % 3}` })
  else await page(prisma.$prefetch.forSession<Db>(`s${i}`, { userId: `u${i % 3}` }), 2)
}
await prisma.$transaction(async (tx) => {
  await tx.tag.update({ where: { name: 'orm' }, data: { name: 'orm' } })
})
if (redis) {
  // Long enough for the shared model to be published a few times.
  await new Promise((resolve) => setTimeout(resolve, 100))
  await prisma.$prefetch.invalidate()
  // A read that completes and predicts: its speculative reads start now and run past close().
  await prisma.$prefetch.session('last', () => prisma.user.findFirst({ orderBy: { id: 'asc' } }), { userId: 'u0' })
}
void prisma.$prefetch.warm({ model: 'Tag', operation: 'findMany' })
void prisma.user.findFirst()
if (redis) {
  const { scheduler, prefetch: counters } = prisma.$prefetch.stats()
  console.log(JSON.stringify({ atClose: { inFlight: scheduler.inFlight, queued: scheduler.queued, issued: counters.issued, roundTrips: slow!.trips.queries } }))
}
await prisma.$prefetch.close()
await prisma.$disconnect()
// KEEP_REDIS_OPEN=1 leaves the application's own Redis connection open: the watchdog must see it.
if (process.env.KEEP_REDIS_OPEN !== '1') await redis?.disconnect()
console.log('closed')

// Nothing of ours may keep the process alive from here; if something does, say what.
setTimeout(() => {
  console.error(`still running ${WATCHDOG_MS} ms after close: ${JSON.stringify(process.getActiveResourcesInfo())}`)
  process.exit(3)
}, WATCHDOG_MS).unref()
