import KeyvRedis from '@keyv/redis'
import Keyv from 'keyv'
import { randomBytes } from 'node:crypto'
import type { KeyvLike } from '../../src/types.ts'

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

export interface StoreUnderTest {
  name: string
  /** A fresh store; stores made by one factory call share data when `shared` is true. */
  make(): { store: Keyv; close(): Promise<void> }
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
