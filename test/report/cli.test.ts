import KeyvRedis, { createKeyv } from '@keyv/redis'
import Keyv from 'keyv'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { redisStores, REDIS_URL } from '../support/stores.ts'
import { describeWith, redis } from '../support/services.ts'
import { setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

/**
 * `prisma-prefetch report`: two clients sharing a Redis store learn and publish (on close());
 * the command, run as a separate process on a module exporting the same Keyv, writes one report
 * of what both learned with their counters summed.
 */
const redisService = await redis()
const env = await setup()
const rows = await seed(env.bare)
const root = join(import.meta.dirname, '..', '..')
const artifacts = join(root, 'test', 'artifacts')
mkdirSync(artifacts, { recursive: true })

const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli.ts'), ...args], { cwd: root, encoding: 'utf8' })

/** One client on `cache` runs a few sessions and publishes (close()); returns its reads. */
async function publish(cache: Keyv, namespace: string): Promise<number> {
  const { prisma } = await env.client({ cache, namespace })
  for (let s = 0; s < 6; s++) {
    await prisma.$prefetch.session(`s${s}`, async () => {
      const user = await prisma.user.findUnique({ where: { id: s % 2 ? rows.alice.id : rows.bob.id }, select: { id: true } })
      await prisma.post.findMany({ where: { authorId: user!.id }, select: { id: true }, orderBy: { id: 'asc' } })
    })
  }
  const reads = prisma.$prefetch.stats().reads
  await prisma.$prefetch.close()
  await cache.disconnect()
  return reads
}

const readsIn = (html: string) => Number(/<span class="muted">reads<\/span><b>(\d+)<\/b>/.exec(html)?.[1])

describeWith(redisService, 'npx prisma-prefetch report --redis, whatever Keyv settings the application has', () => {
  const app = `app-${randomBytes(3).toString('hex')}`
  // Each setting, the prefix Keyv puts before the library's keys in Redis.
  const settings: Array<[string, () => Keyv, string]> = [
    ["the README's new Keyv({ store, useKeyPrefix: false })", () => new Keyv({ store: new KeyvRedis(REDIS_URL), useKeyPrefix: false }), 'keyv::'],
    ["Keyv's defaults", () => new Keyv({ store: new KeyvRedis(REDIS_URL) }), 'keyv::keyv:'],
    ['a Keyv namespace', () => new Keyv({ store: new KeyvRedis(REDIS_URL), namespace: app }), `${app}::${app}:`],
    ['a Keyv namespace and useKeyPrefix: false', () => new Keyv({ store: new KeyvRedis(REDIS_URL), namespace: app, useKeyPrefix: false }), `${app}::`],
    ["@keyv/redis's createKeyv(url)", () => createKeyv(REDIS_URL), ''],
  ]
  it.each(settings)('%s', async (_, make, prefix) => {
    const namespace = `cli-${randomBytes(4).toString('hex')}`
    const reads = await publish(make(), namespace)
    // Where the keys really are: the test does not trust the library's idea of it.
    const probe = new Keyv({ store: new KeyvRedis(REDIS_URL), namespace: undefined, useKeyPrefix: false })
    expect(await probe.get(`${prefix}${namespace}:learned:index`)).toEqual(expect.any(String))
    await probe.disconnect()
    const out = join(artifacts, `cli-${namespace}.html`)
    const done = run(['report', '--redis', REDIS_URL, '--namespace', namespace, '--out', out])
    expect(done.stderr).toBe('')
    expect(done.status).toBe(0)
    const html = readFileSync(out, 'utf8')
    expect(html).toMatch(/prisma-prefetch report \(1 process\)/)
    expect(readsIn(html)).toBe(reads)
  })

  it('one namespace published under two prefixes: says so, and --prefix chooses', async () => {
    const namespace = `cli-${randomBytes(4).toString('hex')}`
    const readme = await publish(new Keyv({ store: new KeyvRedis(REDIS_URL), useKeyPrefix: false }), namespace)
    const defaults = await publish(new Keyv({ store: new KeyvRedis(REDIS_URL) }), namespace)
    const out = join(artifacts, `cli-${namespace}.html`)
    const both = run(['report', '--redis', REDIS_URL, '--namespace', namespace, '--out', out])
    expect(both.status).toBe(1)
    expect(both.stderr).toMatch(/published under several Keyv prefixes in this Redis \("keyv::", "keyv::keyv:"\): choose one with --prefix/)
    for (const [prefix, reads] of [['keyv::', readme], ['keyv::keyv:', defaults]] as const) {
      const done = run(['report', '--redis', REDIS_URL, '--namespace', namespace, '--prefix', prefix, '--out', out])
      expect(done.stderr).toBe('')
      expect(readsIn(readFileSync(out, 'utf8'))).toBe(reads)
    }
  })
})

describeWith(redisService, 'npx prisma-prefetch report', () => {
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
