/**
 * The serving core's hit, session hit, miss and bare findUnique (and findMany's hit and session
 * hit) for two checkouts of this project in one process: the same loops as bench/micro.ts, the
 * checkouts interleaved within each round (order rotated), so both see the same machine load.
 * For comparing a change with what it changes on a busy machine (CPU time per call, printed beside
 * wall-clock time, moves less with the load of other processes); with `node --cpu-prof`, read the
 * profile with `scripts/cpu-profile.ts --dirs`, which tells the two copies apart by directory.
 *
 *   node --import tsx bench/micro-ab.ts DIR_A DIR_B [--rounds 9]
 *
 * Each DIR is a checkout with its clients generated (`npm run generate`) and node_modules.
 */
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

interface Client {
  user: { findUnique(args: object): Promise<unknown>; createMany(args: object): Promise<unknown> }
  post: { findMany(args: object): Promise<unknown>; createMany(args: object): Promise<unknown> }
  comment: { createMany(args: object): Promise<unknown> }
  $disconnect(): Promise<void>
}
interface Extended extends Client {
  $prefetch: { session<T>(id: string, fn: () => T): T }
}

const { values: flags, positionals: dirs } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '9' } } })
if (dirs.length !== 2) throw new TypeError('usage: node --import tsx bench/micro-ab.ts DIR_A DIR_B [--rounds 9]')
const ROUNDS = Number(flags.rounds)
const USERS = 20_000

const dir = join(tmpdir(), `prisma-prefetch-micro-ab-${process.pid}`)
mkdirSync(dir, { recursive: true })
const file = join(dir, 'micro.db')
const roots = dirs.map((d) => resolve(d))
const { pushSchema } = await import(join(roots[0], 'scripts/schema-engine.ts'))
await pushSchema({ provider: 'sqlite', url: file, schema: readFileSync(join(roots[0], 'prisma/schema.prisma'), 'utf8') })

const sides: { root: string; bare: Client; miss: Extended; hit: Extended; session: Extended }[] = []
for (const root of roots) {
  const { prefetch } = await import(join(root, 'src/index.ts'))
  const { PrismaClient } = await import(join(root, 'src/generated/prisma/client.ts'))
  const plain = () => new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file }) }) as Client
  const extended = () => new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file }) }).$extends(prefetch()) as Extended
  sides.push({ root, bare: plain(), miss: extended(), hit: extended(), session: extended() })
}
const seeder = sides[0].bare
await seeder.user.createMany({ data: Array.from({ length: USERS }, (_, k) => ({ email: `u${k}@bench.test`, name: `User ${k}`, karma: BigInt(k), settings: { n: k } })) })
await seeder.post.createMany({ data: Array.from({ length: 200 }, (_, k) => ({ title: `Post ${k}`, body: 'x'.repeat(200), authorId: 1 + k, price: `${k}.5`, meta: { k } })) })
await seeder.comment.createMany({ data: Array.from({ length: 600 }, (_, k) => ({ text: `c${k % 3}`, postId: 1 + Math.floor(k / 3), authorId: 1 + (k % USERS) })) })

const findManyArgs = { where: { id: { gt: 3 } }, take: 20, orderBy: { id: 'asc' as const }, include: { comments: true } }
let missId = 0
type Run = (i: number) => Promise<unknown>
const cases = (s: (typeof sides)[number]): Record<'findUnique' | 'findMany', Record<string, Run>> => ({
  findUnique: {
    bare: (i) => s.bare.user.findUnique({ where: { id: 1 + (i % USERS) } }),
    miss: () => s.miss.user.findUnique({ where: { id: 1 + (missId++ % USERS) } }),
    hit: () => s.hit.user.findUnique({ where: { id: 7 } }),
    sessionHit: () => s.session.$prefetch.session('bench', () => s.session.user.findUnique({ where: { id: 7 } })),
  },
  findMany: {
    hit: () => s.hit.post.findMany(findManyArgs),
    sessionHit: () => s.session.$prefetch.session('bench', () => s.session.post.findMany(findManyArgs)),
  },
})

/** Wall-clock and CPU (user + system, the whole process) µs per call. */
async function time(run: Run, calls: number): Promise<{ wall: number; cpu: number }> {
  const start = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  for (let i = 0; i < calls; i++) await run(i)
  const used = process.cpuUsage(cpu)
  return { wall: Number(process.hrtime.bigint() - start) / 1000 / calls, cpu: (used.user + used.system) / calls }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]

console.log(`µs per call (wall clock, and CPU time of the process), median of ${ROUNDS} rounds, the two checkouts interleaved`)
for (const name of ['findUnique', 'findMany'] as const) {
  const runs = sides.map((s) => cases(s)[name])
  const modes = Object.keys(runs[0])
  for (const r of runs) for (const mode of modes) await time(r[mode], 50)
  const samples = runs.map(() => Object.fromEntries(modes.map((mode) => [mode, [] as { wall: number; cpu: number }[]])))
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of modes.map((_, k) => modes[(k + round) % modes.length])) {
      for (let j = 0; j < sides.length; j++) {
        const side = (j + round) % sides.length
        samples[side][mode].push(await time(runs[side][mode], name === 'findMany' ? 100 : 400))
      }
    }
  }
  for (const measure of ['wall', 'cpu'] as const) {
    sides.forEach((s, j) => {
      const m = Object.fromEntries(modes.map((mode) => [mode, median(samples[j][mode].map((sample) => sample[measure]))]))
      const ratios = [`session hit / hit ${(m.sessionHit / m.hit).toFixed(2)}x`, ...(m.bare ? [`miss / bare ${(m.miss / m.bare).toFixed(2)}x`] : [])]
      console.log(`${measure.padEnd(4)} ${s.root}  ${name.padEnd(10)} ${modes.map((mode) => `${mode} ${m[mode].toFixed(1)}`).join('  ')}  ${ratios.join('  ')}`)
    })
  }
}
for (const s of sides) await Promise.all([s.bare, s.miss, s.hit, s.session].map((client) => client.$disconnect()))
rmSync(dir, { recursive: true, force: true })
