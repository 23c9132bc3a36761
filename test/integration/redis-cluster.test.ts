import KeyvRedis, { createClient, createCluster } from '@keyv/redis'
import Keyv from 'keyv'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { REDIS_CLUSTER_URLS, redisClusterStores } from '../support/stores.ts'
import { describeWith, redisCluster } from '../support/services.ts'
import { setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

/**
 * What is particular to a Redis Cluster (the shared-store and consistency suites run on one too):
 * keys spread over the cluster's slots, and the report command reads a cluster. Skipped with one
 * line when no cluster answers at REDIS_CLUSTER_URLS (an error under CI).
 */
const env = await setup()
const rows = await seed(env.bare)
const cluster = redisClusterStores()
const root = join(import.meta.dirname, '..', '..')

describeWith(await redisCluster(), 'on a Redis Cluster', () => {
  const closers: Array<() => Promise<void>> = []
  afterAll(async () => {
    for (const close of closers) await close()
  })

  it('cached entries spread over the slots and every master, whatever the arguments have in common', async () => {
    const { store, close } = await cluster!.make()
    closers.push(close)
    const entryKeys = new Set<string>()
    const recording = {
      get: (key: string) => store.get(key),
      getMany: (keys: string[]) => store.getMany(keys),
      delete: (key: string) => store.delete(key),
      set: (key: string, value: string, ttl?: number) => {
        if (key.startsWith('prisma-prefetch:entry:')) entryKeys.add(key)
        return store.set(key, value, ttl)
      },
    }
    const c = await env.client({ cache: recording, learn: false })
    // Arguments of one shape: the keys differ only in the id, after the same `{"include":{...` part.
    for (const post of rows.posts) await c.prisma.post.findUnique({ where: { id: post.id }, include: { comments: true } })
    for (const comment of await env.bare.comment.findMany({ select: { id: true } })) {
      await c.prisma.comment.findUnique({ where: { id: comment.id }, include: { post: true } })
    }
    await c.prisma.$prefetch.idle()
    expect(entryKeys.size).toBeGreaterThanOrEqual(60)

    // Where Redis put them: the slot of each key as stored (with the Keyv namespace), and how many
    // of this test's keys each master holds.
    const node = createClient({ url: REDIS_CLUSTER_URLS[0] })
    await node.connect()
    const slots = new Set<number>()
    for (const key of entryKeys) slots.add(Number(await node.sendCommand(['CLUSTER', 'KEYSLOT', `${cluster!.namespace}::${key}`])))
    await node.close()
    expect(slots.size).toBeGreaterThan(entryKeys.size / 2)
    const perMaster = await keysPerMaster(`${cluster!.namespace}::prisma-prefetch:entry:*`)
    expect(perMaster).toHaveLength(3)
    expect(perMaster.every((count) => count > 0)).toBe(true)
  })

  it('a cluster client handed over before it has connected: every query still gets the bare result', async () => {
    // @keyv/redis 5.1 takes a connecting cluster for a ready one (calls made meanwhile fail and
    // are reported); whatever the store does, no user query may fail or change because of it.
    const adapter = new KeyvRedis({ rootNodes: REDIS_CLUSTER_URLS.map((url) => ({ url })) })
    closers.push(() => adapter.disconnect())
    const c = await env.client({ cache: new Keyv({ store: adapter, namespace: cluster!.namespace, useKeyPrefix: false }) })
    const reads = (x: any) =>
      Promise.all(rows.posts.slice(0, 8).map((post: { id: number }) => x.post.findUnique({ where: { id: post.id }, include: { tags: true } })))
    const expected = await reads(c.bare)
    expect(await reads(c.prisma)).toStrictEqual(expected)
    await c.prisma.$prefetch.idle()
    expect(await reads(c.prisma)).toStrictEqual(expected)
  })

  it('prisma-prefetch report --redis <a node of the cluster> reads what processes published to the cluster', async () => {
    const namespace = `cluster-cli-${process.pid}`
    // A Keyv namespace of the application's own: the command finds its keys by a SCAN of every master.
    const client = createCluster({ rootNodes: REDIS_CLUSTER_URLS.map((url) => ({ url })) })
    await client.connect()
    const adapter = new KeyvRedis(client)
    closers.push(() => adapter.disconnect())
    const { prisma } = await env.client({ cache: new Keyv({ store: adapter, namespace: cluster!.namespace }), namespace })
    for (let s = 0; s < 8; s++) {
      await prisma.$prefetch.session(`s${s}`, async () => {
        const user = await prisma.user.findUnique({ where: { id: s % 2 ? rows.alice.id : rows.bob.id }, select: { id: true } })
        await prisma.post.findMany({ where: { authorId: user!.id }, select: { id: true }, orderBy: { id: 'asc' } })
      })
    }
    const reads = prisma.$prefetch.stats().reads
    await prisma.$prefetch.close() // publishes

    const artifacts = join(root, 'test', 'artifacts')
    mkdirSync(artifacts, { recursive: true })
    const out = join(artifacts, 'cluster-report.html')
    for (const url of [REDIS_CLUSTER_URLS[1], REDIS_CLUSTER_URLS.join(',')]) {
      const done = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli.ts'), 'report', '--redis', url, '--namespace', namespace, '--out', out], {
        cwd: root,
        encoding: 'utf8',
      })
      expect(done.stderr).toBe('')
      expect(done.status).toBe(0)
      const html = readFileSync(out, 'utf8')
      expect(html).toMatch(/prisma-prefetch report \(1 process\)/)
      expect(html).toMatch(new RegExp(`<span class="muted">reads</span><b>${reads}</b>`))
    }
  })
})

/** For each master of the cluster, how many keys match `pattern` on it. */
async function keysPerMaster(pattern: string): Promise<number[]> {
  const counts: number[] = []
  for (const url of REDIS_CLUSTER_URLS) {
    const node = createClient({ url })
    await node.connect()
    const role = String(await node.sendCommand(['ROLE'])).split(',')[0]
    if (role === 'master') {
      let count = 0
      for await (const keys of node.scanIterator({ MATCH: pattern, COUNT: 1000 })) count += keys.length
      counts.push(count)
    }
    await node.close()
  }
  return counts
}
