/**
 * One application process of test/integration/processes.test.ts: its own Prisma client and
 * prisma-prefetch on the shared database and the shared Redis, reading and writing the same rows
 * as its siblings from several concurrent workers. Prints its history (with wall-clock times, so
 * the histories of all processes can be merged) as JSON on stdout.
 */
import { childClient } from './child-client.ts'

const { IDS, OPERATIONS, SEED } = process.env as Record<string, string>
const ids = JSON.parse(IDS) as number[]
const { prisma, close } = await childClient()
const clock = () => performance.timeOrigin + performance.now()

const writes: { id: number; value: string; end: number }[] = []
const reads: { id: number; value: string; start: number }[] = []
let left = Number(OPERATIONS)
let seed = Number(SEED)
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
async function worker() {
  while (left-- > 0) {
    const id = ids[Math.floor(random() * ids.length)]
    const roll = random()
    if (roll < 0.2) {
      const user = await prisma.user.update({ where: { id }, data: { karma: { increment: 1 } }, select: { karma: true } })
      writes.push({ id, value: String(user.karma), end: clock() })
    } else if (roll < 0.6) {
      const start = clock()
      const user = await prisma.user.findUnique({ where: { id }, select: { karma: true } })
      reads.push({ id, value: String(user!.karma), start })
    } else {
      const start = clock()
      const users = await prisma.user.findMany({ where: { id: { in: ids } }, select: { id: true, karma: true }, orderBy: { id: 'asc' } })
      for (const user of users) reads.push({ id: user.id, value: String(user.karma), start })
    }
  }
}
await Promise.all(Array.from({ length: 4 }, worker))
await prisma.$prefetch.idle()
process.stdout.write(JSON.stringify({ writes, reads, stats: prisma.$prefetch.stats() }))
await close()
