import KeyvRedis, { createCluster } from '@keyv/redis'
import Keyv from 'keyv'
import { randomBytes } from 'node:crypto'
import type { KeyvLike } from '../../src/types.ts'
import { REDIS_CLUSTER_URLS, REDIS_URL } from './services.ts'

export { REDIS_CLUSTER_URLS, REDIS_URL }

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
 * client, as each process would have), in a namespace of its own. Whether a cluster answers at
 * REDIS_CLUSTER_URLS is `redisCluster()` of ./services.ts (use it with describeWith).
 */
export function redisClusterStores(): StoreUnderTest<Promise<MadeStore>> & { namespace: string } {
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
