/**
 * What a hit costs under each consistency mode with a shared store: no store (one process), Redis
 * with `consistency: 'strict'` (every hit reads the generations of what it depends on: one round
 * trip to Redis), and Redis with `{ maxStalenessMs: 100 }` (generations reused for 100 ms: most
 * hits need no round trip). findUnique by id, the same read over and over, on a SQLite file; modes
 * interleaved within each round, order rotated, median of rounds, µs per call.
 *
 *   npx tsx bench/consistency.ts [--rounds 7] [--calls 1000] [--json FILE]
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import KeyvRedis from '@keyv/redis'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import Keyv from 'keyv'
import { pushSchema } from '../scripts/schema-engine.ts'
import { PrismaClient } from '../src/generated/prisma/client.ts'
import { prefetch, type PrefetchOptions } from '../src/index.ts'

const { values: flags } = parseArgs({
  options: { rounds: { type: 'string', default: '7' }, calls: { type: 'string', default: '1000' }, json: { type: 'string' } },
})
const ROUNDS = Number(flags.rounds)
const CALLS = Number(flags.calls)
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

const dir = mkdtempSync(join(tmpdir(), 'prisma-prefetch-consistency-'))
const url = `file:${join(dir, 'bench.db')}`
await pushSchema({ provider: 'sqlite', url, schema: readFileSync(new URL('../prisma/schema.prisma', import.meta.url), 'utf8') })
const namespace = `bench-consistency-${process.pid}`
const redis = new KeyvRedis(REDIS_URL)
const cache = new Keyv({ store: redis, namespace, useKeyPrefix: false })

const client = (options: PrefetchOptions) => new PrismaClient({ adapter: new PrismaBetterSqlite3({ url }) }).$extends(prefetch({ learn: false, ...options }))
const clients = {
  'no store (one process)': client({}),
  'Redis, strict': client({ cache, namespace }),
  'Redis, maxStalenessMs 100': client({ cache, namespace, consistency: { maxStalenessMs: 100 } }),
}
type Name = keyof typeof clients
const names = Object.keys(clients) as Name[]
const { id } = await clients[names[0]].user.create({ data: { email: 'bench@example.com', settings: {} }, select: { id: true } })

async function time(name: Name): Promise<number> {
  const prisma = clients[name]
  const start = process.hrtime.bigint()
  for (let i = 0; i < CALLS; i++) await prisma.user.findUnique({ where: { id } })
  return Number(process.hrtime.bigint() - start) / 1000 / CALLS
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]

for (const name of names) await time(name) // warm-up: first read is the miss
const samples = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<Name, number[]>
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + round) % names.length]
    samples[name].push(await time(name))
  }
}
const results = Object.fromEntries(names.map((name) => [name, { hitUs: median(samples[name]), hitRate: clients[name].$prefetch.stats().hitRate }]))
console.log(`hit cost by consistency mode (SQLite file, Redis at ${REDIS_URL}; ${ROUNDS} rounds of ${CALLS} calls; µs per call, median)`)
for (const [name, r] of Object.entries(results)) console.log(`${name.padEnd(28)} ${r.hitUs.toFixed(1).padStart(8)}   hit rate ${r.hitRate.toFixed(3)}`)
if (flags.json) writeFileSync(flags.json, JSON.stringify({ ...results, rounds: ROUNDS, calls: CALLS, node: process.version }, null, 2) + '\n')

for (const prisma of Object.values(clients)) await prisma.$disconnect()
await redis.disconnect()
rmSync(dir, { recursive: true, force: true })
