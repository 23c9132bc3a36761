import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { redisStores, REDIS_URL } from '../support/stores.ts'
import { setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

/**
 * `prisma-prefetch report`: two clients sharing a Redis store learn and publish (on close());
 * the command, run as a separate process on a module exporting the same Keyv, writes one report
 * of what both learned with their counters summed.
 */
const env = await setup()
const rows = await seed(env.bare)
const root = join(import.meta.dirname, '..', '..')
const artifacts = join(root, 'test', 'artifacts')
mkdirSync(artifacts, { recursive: true })

const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli.ts'), ...args], { cwd: root, encoding: 'utf8' })

describe('npx prisma-prefetch report', () => {
  it('writes the report of every process sharing the store', async () => {
    const stores = redisStores()
    const namespace = `cli${process.pid}`
    const clients = []
    for (let c = 0; c < 2; c++) {
      const { store, close } = stores.make()
      const { prisma } = await env.client({ cache: store, namespace })
      for (let s = 0; s < 12; s++) {
        await prisma.$prefetch.session(`c${c}s${s}`, async () => {
          const user = await prisma.user.findUnique({ where: { id: s % 2 ? rows.alice.id : rows.bob.id }, select: { id: true } })
          await prisma.post.findMany({ where: { authorId: user!.id }, select: { id: true }, orderBy: { id: 'asc' } })
        })
      }
      clients.push({ prisma, close })
    }
    const reads = clients.reduce((sum, { prisma }) => sum + prisma.$prefetch.stats().reads, 0)
    for (const { prisma, close } of clients) {
      await prisma.$prefetch.close()
      await close()
    }
    // The application's Keyv, as a module: the one the command reads from.
    const module = join(artifacts, 'cli-store.mjs')
    writeFileSync(
      module,
      `import Keyv from 'keyv'\nimport KeyvRedis from '@keyv/redis'\nexport default new Keyv({ store: new KeyvRedis(${JSON.stringify(REDIS_URL)}), namespace: ${JSON.stringify(stores.namespace)}, useKeyPrefix: false })\n`,
    )
    const out = join(artifacts, 'cli-report.html')
    const done = run(['report', '--store', module, '--namespace', namespace, '--out', out])
    expect(done.stderr).toBe('')
    expect(done.status).toBe(0)
    expect(done.stdout).toMatch(/report written to .*cli-report\.html/)
    const html = readFileSync(out, 'utf8')
    expect(html).toMatch(/prisma-prefetch report \(2 processes\)/)
    expect(html).toMatch(/class="node"/)
    expect(html).toMatch(/where\.authorId<\/code> = where\.id of the read before/)
    // Both processes' reads, summed.
    expect(html).toMatch(new RegExp(`<span class="muted">reads</span><b>${reads}</b>`))
  })

  it('explains its usage and what is missing', () => {
    const usage = run(['report'])
    expect(usage.status).toBe(2)
    expect(usage.stderr).toMatch(/usage: prisma-prefetch report \(--redis <url> \| --store <module>\)/)
    const empty = run(['report', '--redis', REDIS_URL, '--namespace', `nothing-here-${process.pid}`])
    expect(empty.status).toBe(1)
    expect(empty.stderr).toMatch(/nothing published under namespace "nothing-here-\d+"/)
    const nobody = run(['report', '--redis', 'redis://127.0.0.1:1'])
    expect(nobody.status).toBe(1)
    expect(nobody.stderr).toMatch(/^prisma-prefetch: cannot read Redis at redis:\/\/127\.0\.0\.1:1: /)
    const several = run(['report', '--redis', `${REDIS_URL},${REDIS_URL}`])
    expect(several.status).toBe(1)
    expect(several.stderr).toMatch(/--redis lists 2 URLs, but redis:.* is not a node of a Redis Cluster/)
  })
})
