import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Speculation } from '../../src/cache/store.ts'
import { Flights } from '../../src/middleware/flights.ts'
import { Latencies } from '../../src/middleware/latency.ts'
import { SpeculationUsage } from '../../src/middleware/usage.ts'
import { Stats } from '../../src/stats.ts'

const scheduler = { queued: 0, inFlight: 0, limit: 0, threshold: 0 }

function flights() {
  const stats = new Stats()
  const usage = new SpeculationUsage(stats, new Latencies())
  return { stats, flights: new Flights(stats, usage), snapshot: () => stats.snapshot({ entries: 0, bytes: 0 }, scheduler) }
}

/** A promise and the functions that settle it. */
function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

describe('flights', () => {
  it('are found only under the generations they were sent with, until settled', () => {
    const { flights: f } = flights()
    const flight = f.start('k', deferred().promise, ['1', '7'])
    expect(f.running('k', ['1', '7'])).toBe(flight)
    expect(f.running('k', ['1', '8'])).toBeUndefined()
    expect(f.running('other', ['1', '7'])).toBeUndefined()
    const newer = f.start('k', deferred().promise, ['1', '8'])
    f.settle('k', flight) // an older flight settling leaves the newer one in place
    expect(f.running('k', ['1', '8'])).toBe(newer)
    f.settle('k', newer)
    expect(f.running('k', ['1', '8'])).toBeUndefined()
  })

  it('hold one flight per key whichever of their two places it is in, as one map would (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('start' as const), key: fc.constantFrom('a', 'b', 'c'), gen: fc.constantFrom('1', '2') }),
      fc.record({ kind: fc.constant('settle' as const), key: fc.constantFrom('a', 'b', 'c'), back: fc.nat(4) }),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const { flights: f } = flights()
        const model = new Map<string, ReturnType<typeof f.start>>()
        const started: { key: string; flight: ReturnType<typeof f.start> }[] = []
        for (const step of ops) {
          if (step.kind === 'start') {
            const flight = f.start(step.key, deferred().promise, [step.gen])
            model.set(step.key, flight)
            started.push({ key: step.key, flight })
          } else {
            // Settles one of the latest flights of the key (an older one leaves a newer in place).
            const ofKey = started.filter((s) => s.key === step.key)
            const chosen = ofKey[ofKey.length - 1 - Math.min(step.back, ofKey.length - 1)]
            if (chosen === undefined) continue
            f.settle(step.key, chosen.flight)
            if (model.get(step.key) === chosen.flight) model.delete(step.key)
          }
          for (const key of ['a', 'b', 'c']) {
            expect(f.has(key)).toBe(model.has(key))
            for (const gen of ['1', '2']) expect(f.running(key, [gen])).toBe(model.get(key)?.gens[0] === gen ? model.get(key) : undefined)
          }
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('give each reader that joins its own copy, counted as a hit, and as a late hit that uses a speculative flight', async () => {
    const { flights: f, snapshot } = flights()
    const speculation: Speculation = { strategy: 'rule', used: false, live: 0 }
    const sent = deferred<{ id: number; at: Date }>()
    const flight = f.start('k', sent.promise, ['1'], speculation)
    const joins = [f.join(flight, 'User', 'findUnique'), f.join(flight, 'User', 'findUnique')]
    sent.resolve({ id: 1, at: new Date(5) })
    const [a, b] = await Promise.all(joins)
    expect(a).toEqual({ value: { id: 1, at: new Date(5) } })
    expect(a!.value).not.toBe(b!.value)
    expect(speculation.used).toBe(true)
    const stats = snapshot()
    expect(stats).toMatchObject({ hits: 2, lateHits: 2 })
    expect(stats.byOperation.findUnique).toMatchObject({ hits: 2, lateHits: 2 })
    expect(stats.prefetch.used).toBe(1) // one speculative result, used once however many joined
  })

  it('count a joined demand flight as a hit and no late hit, and a failed one as nothing', async () => {
    const { flights: f, snapshot } = flights()
    const ok = deferred<number>()
    const joined = f.join(f.start('a', ok.promise, []), 'Post', 'findMany')
    ok.resolve(3)
    expect(await joined).toEqual({ value: 3 })
    const failing = deferred<number>()
    const failed = f.join(f.start('b', failing.promise, []), 'Post', 'findMany')
    failing.reject(new Error('database down'))
    expect(await failed).toBeUndefined()
    expect(snapshot()).toMatchObject({ hits: 1, lateHits: 0 })
  })
})
