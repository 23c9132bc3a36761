import { describe, expect, it } from 'vitest'
import { checkModelNames, DEFAULTS, resolveOptions } from '../src/options.ts'

describe('resolveOptions', () => {
  it('fills in every default', () => {
    const o = resolveOptions(undefined)
    expect(o.cache).toBeUndefined()
    expect(o.l1).toEqual(DEFAULTS.l1)
    expect(o.ttl).toBe(60_000)
    expect(o.readThrough).toBe(true)
    expect(o.rowGenerations).toBe(true)
    expect(o.maxRowGenerations).toBe(100_000)
    expect(o.storeTimeout).toBe(250)
    expect(o.scope({ model: 'User', operation: 'findMany' })).toBe('')
    expect(o.now).toBe(Date.now)
    expect(o).toMatchObject({
      learn: DEFAULTS.learn,
      minProbability: 0.3,
      maxPerTrigger: 3,
      concurrency: { global: 8, perSession: 3, reserve: 1 },
      maxQueue: 1000,
      queueTimeout: 1000,
      targetPrecision: undefined,
      shadow: false,
      rules: [],
    })
  })

  it('reads concurrency as a number or as both limits', () => {
    expect(resolveOptions({ concurrency: 2 }).concurrency).toEqual({ global: 2, perSession: 2, reserve: 1 })
    expect(resolveOptions({ concurrency: 20 }).concurrency).toEqual({ global: 20, perSession: 3, reserve: 1 })
    expect(resolveOptions({ concurrency: { perSession: 5 } }).concurrency).toEqual({ global: 8, perSession: 5, reserve: 1 })
    expect(resolveOptions({ concurrency: { connections: 10, reserve: 3 } }).concurrency).toEqual({ global: 8, perSession: 3, connections: 10, reserve: 3 })
    expect(resolveOptions({ learn: false }).learn).toBeUndefined()
    expect(resolveOptions({}).cpu).toEqual({ maxUtilization: 0.8, sampleMs: 200, busyWindows: 3, learnEvery: 10, settledAfter: 100 })
    expect(resolveOptions({ cpu: true }).cpu).toEqual(DEFAULTS.cpu)
    expect(resolveOptions({ cpu: false }).cpu).toBe(false)
    expect(resolveOptions({ cpu: { maxUtilization: 1 } }).cpu).toEqual({ maxUtilization: 1, sampleMs: 200, busyWindows: 3, learnEvery: 10, settledAfter: 100 })
    expect(resolveOptions({ cpu: { sampleMs: 10 } }).cpu).toEqual({ maxUtilization: 0.8, sampleMs: 10, busyWindows: 3, learnEvery: 10, settledAfter: 100 })
    expect(resolveOptions({ cpu: { learnEvery: 1, settledAfter: 5 } }).cpu).toEqual({ maxUtilization: 0.8, sampleMs: 200, busyWindows: 3, learnEvery: 1, settledAfter: 5 })
    expect(resolveOptions({ learn: { order: 3 } }).learn).toEqual({ ...DEFAULTS.learn, order: 3 })
  })

  it('keeps valid values', () => {
    const store = { get: async () => undefined, set: async () => true, delete: async () => true }
    const o = resolveOptions({
      cache: store,
      l1: false,
      ttl: 5,
      readThrough: false,
      storeTimeout: 10,
      models: { User: false, Post: { ttl: 7, operations: ['findMany'] } },
      scope: (c: { userId?: string }) => `tenant-${c.userId}`,
    })
    expect(o.cache).toBe(store)
    expect(o.l1).toBe(false)
    expect(o.models.get('User')!.cache).toBe(false)
    expect(o.models.get('Post')).toEqual({ cache: true, ttl: 7, operations: new Set(['findMany']), prefetch: true })
    expect(o.scope({ model: 'User', operation: 'findMany', userId: 'u1' })).toBe('tenant-u1')
  })

  // Every option with a wrong type or range: a TypeError that names the option and echoes the value.
  const invalid: Array<[string, unknown, RegExp]> = [
    ['options', 42, /options must be an object: 42/],
    ['unknown option', { tll: 5 }, /tll must be a known option .*: 5/],
    ['cache', { cache: 'redis://x' }, /cache must be a Keyv instance.*: "redis:\/\/x"/],
    ['cache without set', { cache: { get() {} } }, /cache must be a Keyv instance/],
    ['l1', { l1: true }, /l1 must be false or an object .*: true/],
    ['l1 without a store', { l1: false }, /l1 must be enabled when no cache store is given: false/],
    ['l1.maxEntries', { l1: { maxEntries: 0 } }, /l1\.maxEntries must be a positive integer: 0/],
    ['l1.maxBytes', { l1: { maxBytes: 1.5 } }, /l1\.maxBytes must be a positive integer: 1\.5/],
    ['l1 unknown', { l1: { max: 3 } }, /l1\.max must be one of maxEntries, maxBytes/],
    ['ttl', { ttl: -1 }, /ttl must be a positive integer: -1/],
    ['ttl NaN', { ttl: Number.NaN }, /ttl must be a positive integer: NaN/],
    ['ttl string', { ttl: '60s' }, /ttl must be a positive integer: "60s"/],
    ['readThrough', { readThrough: 'yes' }, /readThrough must be a boolean: "yes"/],
    ['rowGenerations', { rowGenerations: 1 }, /rowGenerations must be a boolean: 1/],
    ['maxRowGenerations', { maxRowGenerations: 0 }, /maxRowGenerations must be a positive integer: 0/],
    ['storeTimeout', { storeTimeout: 0 }, /storeTimeout must be a positive integer: 0/],
    ['models', { models: [] }, /models must be an object keyed by model name: \[\]/],
    ['models.X', { models: { User: true } }, /models\.User must be false or an object .*: true/],
    ['models.X.ttl', { models: { User: { ttl: 0 } } }, /models\.User\.ttl must be a positive integer: 0/],
    ['models.X.cache', { models: { User: { cache: 1 } } }, /models\.User\.cache must be a boolean: 1/],
    ['models.X.operations', { models: { User: { operations: ['create'] } } }, /models\.User\.operations must be an array of read operations.*\["create"\]/],
    ['models.X unknown', { models: { User: { prefetsh: false } } }, /models\.User\.prefetsh must be one of ttl, cache, operations, prefetch/],
    ['models.X.prefetch', { models: { User: { prefetch: 'no' } } }, /models\.User\.prefetch must be a boolean: "no"/],
    ['learn', { learn: 'yes' }, /learn must be a boolean or an object/],
    ['learn unknown', { learn: { orders: 2 } }, /learn\.orders must be one of order, /],
    ['learn.order', { learn: { order: 0 } }, /learn\.order must be a positive integer: 0/],
    ['learn.minConfidence', { learn: { minConfidence: 2 } }, /learn\.minConfidence must be a number from 0 to 1: 2/],
    ['learn.userPriorWeight', { learn: { userPriorWeight: -1 } }, /learn\.userPriorWeight must be a number of at least 0: -1/],
    ['learn.maxHistory below order', { learn: { order: 3, maxHistory: 2 } }, /learn\.maxHistory must be at least learn\.order \(3\): 2/],
    ['learn.maxFanOutBytes', { learn: { maxFanOutBytes: 0 } }, /learn\.maxFanOutBytes must be a positive integer: 0/],
    ['learn.maxFanOut above maxRows', { learn: { maxRows: 10, maxFanOut: 11 } }, /learn\.maxFanOut must be at most learn\.maxRows \(10\): 11/],
    ['minProbability', { minProbability: 1.5 }, /minProbability must be a number from 0 to 1: 1\.5/],
    ['maxPerTrigger', { maxPerTrigger: 0 }, /maxPerTrigger must be a positive integer: 0/],
    ['concurrency', { concurrency: 2.5 }, /concurrency must be a positive integer: 2\.5/],
    ['concurrency object', { concurrency: 'many' }, /concurrency must be a positive integer or an object \{ global, perSession, connections, reserve \}: "many"/],
    ['concurrency unknown', { concurrency: { total: 3 } }, /concurrency\.total must be one of global, perSession, connections, reserve/],
    ['concurrency.connections', { concurrency: { connections: '10' } }, /concurrency\.connections must be a positive integer: "10"/],
    ['concurrency.reserve', { concurrency: { reserve: 0 } }, /concurrency\.reserve must be a positive integer: 0/],
    ['concurrency.connections at most reserve', { concurrency: { connections: 2, reserve: 2 } }, /concurrency\.connections must be more than concurrency\.reserve \(2\): 2/],
    ['concurrency.perSession', { concurrency: { perSession: 0 } }, /concurrency\.perSession must be a positive integer: 0/],
    ['cpu', { cpu: 'on' }, /cpu must be a boolean or an object \{ maxUtilization, sampleMs, busyWindows, learnEvery, settledAfter \}: "on"/],
    ['cpu unknown', { cpu: { maxUtilisation: 0.5 } }, /cpu\.maxUtilisation must be one of maxUtilization, sampleMs, busyWindows, learnEvery, settledAfter \(unknown option\): 0\.5/],
    ['cpu.learnEvery', { cpu: { learnEvery: 0 } }, /cpu\.learnEvery must be a positive integer: 0/],
    ['cpu.settledAfter', { cpu: { settledAfter: 2.5 } }, /cpu\.settledAfter must be a positive integer: 2\.5/],
    ['cpu.maxUtilization', { cpu: { maxUtilization: 0 } }, /cpu\.maxUtilization must be a number above 0 and at most 1: 0/],
    ['cpu.sampleMs', { cpu: { sampleMs: 5 } }, /cpu\.sampleMs must be an integer from 10 to 60000: 5/],
    ['cpu.busyWindows', { cpu: { busyWindows: 0 } }, /cpu\.busyWindows must be an integer from 1 to 100: 0/],
    ['maxQueue', { maxQueue: -1 }, /maxQueue must be a positive integer: -1/],
    ['queueTimeout', { queueTimeout: '1s' }, /queueTimeout must be a positive integer: "1s"/],
    ['targetPrecision', { targetPrecision: 2 }, /targetPrecision must be a number from 0 to 1: 2/],
    ['shadow', { shadow: 'yes' }, /shadow must be a boolean: "yes"/],
    ['consistency', { consistency: 'eventual' }, /consistency must be 'strict' or \{ maxStalenessMs \}: "eventual"/],
    ['consistency.maxStalenessMs', { consistency: { maxStalenessMs: 0 }, cache: { get() {}, set() {}, delete() {} } }, /consistency\.maxStalenessMs must be a positive integer: 0/],
    ['consistency without a store', { consistency: { maxStalenessMs: 100 } }, /consistency must be 'strict' when no cache store is given/],
    ['namespace', { namespace: 'has space' }, /namespace must be a string of 1 to 64 letters/],
    ['rules', { rules: {} }, /rules must be an array of rule/],
    ['rules[i]', { rules: [{ from: 'User.findUnique' }] }, /rules\[0\] must be made by rule/],
    ['scope', { scope: 3 }, /scope must be a string or a function returning one: 3/],
    ['onError', { onError: 'log' }, /onError must be a function: "log"/],
    ['now', { now: 123 }, /now must be a function: 123/],
  ]
  it.each(invalid)('rejects a bad %s', (_name, options, message) => {
    expect(() => resolveOptions(options)).toThrow(TypeError)
    expect(() => resolveOptions(options)).toThrow(message)
    expect(() => resolveOptions(options)).toThrow(/^prisma-prefetch: /)
  })

  it('rejects a scope function that returns something other than a string', () => {
    const o = resolveOptions({ scope: () => 7 as unknown as string })
    expect(() => o.scope({ model: 'User', operation: 'findMany' })).toThrow(/scope\(\) must be a string or undefined: 7/)
  })

  it('checks model names against the client', () => {
    const o = resolveOptions({ models: { Usr: false } })
    expect(() => checkModelNames(o, ['User', 'Post'])).toThrow(/models\.Usr must be the name of a model of this client \(User, Post\): "Usr"/)
    expect(() => checkModelNames(resolveOptions({ models: { User: false } }), ['User'])).not.toThrow()
  })

  it('does not change the options it was given', () => {
    const options = { ttl: 10, models: { User: { operations: ['findMany' as const] } } }
    const copy = structuredClone(options)
    resolveOptions(options)
    expect(options).toEqual(copy)
  })
})
