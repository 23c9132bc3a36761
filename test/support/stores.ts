import KeyvRedis, { createClient, createCluster } from '@keyv/redis'
import Keyv from 'keyv'
import { randomBytes } from 'node:crypto'
import type { KeyvLike } from '../../src/types.ts'

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
/** The nodes of a Redis Cluster (`.ci/redis-cluster` starts one on these ports), comma separated. */
export const REDIS_CLUSTER_URLS = (process.env.REDIS_CLUSTER_URLS ?? 'redis://127.0.0.1:7001,redis://127.0.0.1:7002,redis://127.0.0.1:7003')
  .split(',')
  .map((url) => url.trim())
  .filter((url) => url !== '')
/** Under CI every server a test needs must be there: a missing one fails the run instead of skipping. */
const CI = process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI)

export interface MadeStore {
  store: Keyv
  close(): Promise<void>
}

/** `Made` is `Promise<MadeStore>` for a store whose client must connect before it is used. */
export interface StoreUnderTest<Made extends MadeStore | Promise<MadeStore> = MadeStore> {
  name: string
  /** A fresh store; stores made by one factory call share data. */
  make(): Made
  /**
   * Copies the value under key `from` to key `to` in the backend itself, below Keyv (as a store
   * that mixes up keys would answer), keeping its expiry.
   */
  copy(from: string, to: string): Promise<void>
}

/** An in-memory Keyv (one Map shared by every store this factory makes, like one server). */
export function memoryStores(): StoreUnderTest {
  const map = new Map()
  return {
    name: 'in-memory Keyv',
    make: () => ({ store: new Keyv({ store: map }), close: async () => {} }),
    copy: async (from, to) => void map.set(`keyv:${to}`, map.get(`keyv:${from}`)),
  }
}

/** Keyv over Redis, in a namespace of its own so parallel test files never meet. */
export function redisStores(): StoreUnderTest & { namespace: string } {
  const namespace = `test-${randomBytes(4).toString('hex')}`
  return {
    name: 'Redis Keyv',
    namespace,
    make: () => {
      const adapter = new KeyvRedis(REDIS_URL)
      const store = new Keyv({ store: adapter, namespace, useKeyPrefix: false })
      return { store, close: () => adapter.disconnect() }
    },
    async copy(from, to) {
      const adapter = new KeyvRedis(REDIS_URL)
      try {
        const redis = (await adapter.getClient()) as unknown as { sendCommand(args: string[]): Promise<unknown> }
        // Redis' own COPY, value and TTL together: Keyv never sees the value move.
        await redis.sendCommand(['COPY', `${namespace}::${from}`, `${namespace}::${to}`, 'REPLACE'])
      } finally {
        await adapter.disconnect()
      }
    },
  }
}

/**
 * Keyv over a Redis Cluster through `@keyv/redis`'s cluster support (each store its own cluster
 * client, as each process would have), in a namespace of its own. When no ok cluster answers at
 * REDIS_CLUSTER_URLS: `undefined` after one line saying so, or, under CI, an error.
 */
export async function redisClusterStores(): Promise<(StoreUnderTest<Promise<MadeStore>> & { namespace: string }) | undefined> {
  const problem = await clusterProblem(REDIS_CLUSTER_URLS)
  if (problem !== undefined) {
    const message = `no ok Redis Cluster at ${REDIS_CLUSTER_URLS.join(',')} (${problem}); start one with .ci/redis-cluster (docs/redis-cluster.md)`
    if (CI) throw new Error(`prisma-prefetch tests: CI is set and there is ${message}`)
    console.warn(`Redis Cluster tests skipped: ${message}`)
    return undefined
  }
  const namespace = `test-${randomBytes(4).toString('hex')}`
  return {
    name: 'Redis Cluster Keyv',
    namespace,
    // The cluster client connects before @keyv/redis gets it: @keyv/redis 5.1 takes a cluster
    // that is connecting for one that is ready and routes by a slot map not read yet, so every
    // call made before it is read fails (the README's Redis Cluster example does the same).
    make: async () => {
      const cluster = createCluster({ rootNodes: REDIS_CLUSTER_URLS.map((url) => ({ url })) })
      await cluster.connect()
      const adapter = new KeyvRedis(cluster)
      const store = new Keyv({ store: adapter, namespace, useKeyPrefix: false })
      return { store, close: () => adapter.disconnect() }
    },
    async copy(from, to) {
      const cluster = createCluster({ rootNodes: REDIS_CLUSTER_URLS.map((url) => ({ url })) })
      await cluster.connect()
      try {
        // Two slots, most likely: COPY cannot span them, so the value and its TTL are moved by hand.
        const [value, ttl] = await Promise.all([cluster.get(`${namespace}::${from}`), cluster.pTTL(`${namespace}::${from}`)])
        if (value === null) throw new Error(`no value under ${from} to copy`)
        await cluster.set(`${namespace}::${to}`, value, ttl > 0 ? { PX: ttl } : {})
      } finally {
        await cluster.close()
      }
    },
  }
}

/** Why the nodes at `urls` are not one healthy cluster, or `undefined` when they are. */
async function clusterProblem(urls: string[]): Promise<string | undefined> {
  if (urls.length === 0) return 'REDIS_CLUSTER_URLS names no node'
  for (const url of urls) {
    const client = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } })
    client.on('error', () => {}) // the failed connect below says what went wrong
    try {
      await client.connect()
      const info = String(await client.sendCommand(['CLUSTER', 'INFO']))
      if (!/^cluster_state:ok\s*$/m.test(info)) return `${url} says ${/^cluster_state:\w+/m.exec(info)?.[0] ?? 'no cluster_state'}`
    } catch (error) {
      return `${url}: ${(error as Error).message}`
    } finally {
      if (client.isOpen) await client.close()
    }
  }
  return undefined
}

/** A store whose every call fails in the given way, to check that nothing reaches the user. */
export function brokenStore(mode: 'throw' | 'reject' | 'hang' | 'garbage'): KeyvLike & { calls: number } {
  const store = {
    calls: 0,
    get(): Promise<unknown> {
      return act()
    },
    set(): Promise<unknown> {
      return act()
    },
    delete(): Promise<unknown> {
      return act()
    },
  }
  function act(): Promise<unknown> {
    store.calls++
    if (mode === 'throw') throw new Error('store exploded')
    if (mode === 'reject') return Promise.reject(new Error('store unavailable'))
    if (mode === 'hang') return new Promise(() => {})
    return Promise.resolve('\u0000garbage{{')
  }
  return store
}
