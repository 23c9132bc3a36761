import { channel } from 'node:diagnostics_channel'
import { describe, expect, it } from 'vitest'
import { createCodec } from '../../src/cache/codec.ts'
import { ResultStore } from '../../src/cache/store.ts'

function store() {
  return new ResultStore({
    l1: { maxEntries: 10, maxBytes: 1_000_000 },
    store: undefined,
    codec: createCodec(),
    timeoutMs: 100,
    now: Date.now,
    monotonic: () => performance.now(),
    reportError: (error) => {
      throw error
    },
  })
}

describe('the result store in process memory', () => {
  it('answers each lookup, of a present or an absent key, as lru-cache does a call of its own, its diagnostics included', () => {
    const results = store()
    results.set('a', { value: { id: 1 }, deps: ['User'], gens: ['0'], ttl: 60_000, source: 'demand', size: 10 })
    const published: { op?: string; key?: string; get?: string }[] = []
    const metrics = channel('lru-cache:metrics')
    const listen = (status: unknown) => published.push({ ...(status as object) })
    const statuses: unknown[] = []
    const keep = (status: unknown) => statuses.push(status)
    metrics.subscribe(listen)
    metrics.subscribe(keep)
    try {
      expect((results.get('a') as { value: unknown }).value).toEqual({ id: 1 })
      expect(results.get('missing')).toBeUndefined()
      expect(results.peekLocal('a')?.value).toEqual({ id: 1 })
      expect(results.peekLocal('gone')).toBeUndefined()
    } finally {
      metrics.unsubscribe(listen)
      metrics.unsubscribe(keep)
    }
    const gets = published.filter((status) => status.op === 'get')
    expect(gets.map((status) => [status.key, status.get])).toEqual([
      ['a', 'hit'],
      ['missing', 'miss'],
      ['a', 'hit'],
      ['gone', 'miss'],
    ])
    // Each call had a status object of its own.
    expect(new Set(statuses).size).toBe(statuses.length)
    // And without listeners, lookups answer as before.
    expect(results.peekLocal('a')?.value).toEqual({ id: 1 })
    expect(results.get('missing')).toBeUndefined()
  })
})
