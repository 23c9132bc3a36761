import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import KeyvRedis from '@keyv/redis'
import { Decimal } from '@prisma/client/runtime/client'
import Keyv from 'keyv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCodec } from '../../src/cache/codec.ts'
import { queryKey } from '../../src/cache/key.ts'
import { canonicalArgs } from '../../src/canonical.ts'
import { encodeSkeleton, templateOf } from '../../src/strategies/template.ts'
import { hashText } from '../../src/strategies/values.ts'
import { prefetch, rule } from '../../src/index.ts'
import { DEFAULTS, resolveOptions } from '../../src/options.ts'
import type { KeyvLike } from '../../src/types.ts'
import { reached, setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'
import { REDIS_URL } from '../support/stores.ts'
import { describeWith, redis } from '../support/services.ts'

/**
 * Hostile input, against real Prisma clients and real databases: options of every wrong type and
 * range, query arguments that are huge, deep, cyclic or exotic, forged and corrupt entries in a
 * shared store (in-memory Keyv and Redis), and scopes that must never see each other's results.
 * Nothing here may crash the process, change what a query returns compared with the bare client,
 * pollute a prototype, or let one scope read another's cache.
 */
const env = await setup()
const rows = await seed(env.bare)
const quiet = { onError: () => {} }

// ---------------------------------------------------------------------------------------------
// 1. Options
// ---------------------------------------------------------------------------------------------

/**
 * The option paths as declared in src/types.ts (and the option files it takes types from): every member of PrefetchOptions, and the members
 * of the option interfaces (or inline object types) it refers to. `models.X` stands for a model.
 */
function declaredOptionPaths(): string[] {
  const text = ['types.ts', 'learn-options.ts', 'telemetry-options.ts'].map((file) => readFileSync(new URL(`../../src/${file}`, import.meta.url), 'utf8')).join('\n')
  const interfaces = new Map<string, Map<string, string>>()
  for (const match of text.matchAll(/^export interface (\w+)(?:<[^>]*>)?(?: extends [^{]+)? \{\n([\s\S]*?)\n\}/gm)) {
    const members = new Map<string, string>()
    // Members sit at two spaces of indentation; doc comment lines start with '  /**' or '   *'.
    for (const member of match[2].matchAll(/^ {2}(\w+)\??: (.+)$/gm)) members.set(member[1], member[2])
    interfaces.set(match[1], members)
  }
  const paths: string[] = []
  for (const [name, type] of interfaces.get('PrefetchOptions')!) {
    paths.push(name)
    if (type.includes('=>')) continue // a function option: its parameter types are no options
    const prefix = /^(Partial<)?Record<(string|ModelName<Client>),/.test(type) ? `${name}.X` : name
    if (prefix !== name) paths.push(prefix)
    for (const inline of type.matchAll(/\{([^}]*)\}/g)) for (const m of inline[1].matchAll(/(\w+)\??:/g)) paths.push(`${prefix}.${m[1]}`)
    for (const referenced of type.matchAll(/\b([A-Z]\w+)\b/g)) {
      const members = interfaces.get(referenced[1])
      if (members !== undefined) for (const member of members.keys()) paths.push(`${prefix}.${member}`)
    }
  }
  return paths
}

/** Every key of DEFAULTS, nested ones as `parent.key`. */
function defaultPaths(value: object = DEFAULTS, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, item]) => {
    const path = prefix + key
    return item !== null && typeof item === 'object' ? [path, ...defaultPaths(item, `${path}.`)] : [path]
  })
}

const stubStore = { get: async () => undefined, set: async () => true, delete: async () => true }

interface OptionSpec {
  wrongType: unknown[]
  /** Values of the right type outside the allowed range (or, where no range exists, why not). */
  outOfRange: unknown[] | { runtime: string } | { none: string }
  /** Cases checked only when the extension is applied to a client (model names). */
  atExtends?: unknown[]
}

const positiveInteger: OptionSpec = { wrongType: ['10', true, [], {}], outOfRange: [0, -1, 1.5, Number.NaN, Infinity, -Infinity, 2 ** 53] }
const probability: OptionSpec = { wrongType: ['0.5', true, []], outOfRange: [-0.01, 1.01, Number.NaN, Infinity] }
const booleanOption: OptionSpec = { wrongType: ['true', 1, 0, {}, []], outOfRange: { none: 'a boolean has no range' } }
const fakeRule = (to: string, probability = 1) => {
  const [model, operation] = to.split('.')
  return { from: { model: 'User', operation: 'findUnique' }, to: { model, operation }, args: () => ({}), probability }
}

/** One entry per declared option path; the coverage test below fails if one is missing. */
const SPECS: Record<string, OptionSpec> = {
  cache: {
    wrongType: ['redis://127.0.0.1:6379', 42, () => {}, []],
    outOfRange: [{ get() {}, set() {} }, { get: 1, set() {}, delete() {} }, {}],
  },
  consistency: {
    wrongType: [42, true, []],
    outOfRange: ['STRICT', 'strict ', { maxStalenessMs: 5, extra: 1 }, {}, { maxStalenessMs: 100 } /* without a store */],
  },
  'consistency.maxStalenessMs': positiveInteger,
  namespace: { wrongType: [42, true, {}, ['ns']], outOfRange: ['', 'x'.repeat(65), 'has space', 'a/b', 'ns\u0000', 'é', 'a\nb', '*'] },
  l1: { wrongType: [true, 'big', 42, []], outOfRange: [false /* without a store */, { max: 1 }, { maxEntries: 1, extra: 1 }] },
  'l1.maxEntries': positiveInteger,
  'l1.maxBytes': positiveInteger,
  ttl: positiveInteger,
  readThrough: booleanOption,
  rowGenerations: booleanOption,
  maxRowGenerations: positiveInteger,
  storeTimeout: positiveInteger,
  models: { wrongType: [42, 'User', [], true, false], outOfRange: [], atExtends: [{ Nope: false }, { user: false }, { User: false, Usr: {} }] },
  'models.X': { wrongType: [true, 'off', 42, []], outOfRange: [{ tll: 5 }, { ttl: 5, cached: true }] },
  'models.X.ttl': positiveInteger,
  'models.X.cache': booleanOption,
  'models.X.operations': { wrongType: ['findMany', 42, {}], outOfRange: [['create'], ['findMany', 'deleteMany'], ['FINDMANY'], [''], [null], ['$queryRaw']] },
  'models.X.prefetch': booleanOption,
  learn: { wrongType: ['yes', 42, []], outOfRange: [{ orderr: 2 }, { lookback: 5 }, { order: 5 }, { maxFanOut: 51 }] },
  'learn.order': positiveInteger,
  'learn.minSupport': positiveInteger,
  'learn.windowMs': positiveInteger,
  'learn.agingLimit': positiveInteger,
  'learn.maxSessions': positiveInteger,
  'learn.maxHistory': positiveInteger,
  'learn.sessionIdleMs': positiveInteger,
  'learn.maxRows': positiveInteger,
  'learn.maxTemplates': positiveInteger,
  'learn.maxContexts': positiveInteger,
  'learn.maxBranches': positiveInteger,
  'learn.maxUsers': positiveInteger,
  'learn.maxUserContexts': positiveInteger,
  'learn.userPriorWeight': { wrongType: ['1', true, []], outOfRange: [-1, -0.001, Number.NaN, Infinity, -Infinity] },
  'learn.lookback': positiveInteger,
  'learn.maxRecall': positiveInteger,
  'learn.maxSources': positiveInteger,
  'learn.minConfidence': probability,
  'learn.maxFanOut': positiveInteger,
  'learn.maxFanOutBytes': positiveInteger,
  'learn.maxArgumentContexts': positiveInteger,
  'learn.maxValues': positiveInteger,
  'learn.maxExactReads': positiveInteger,
  'learn.maxAlternatives': positiveInteger,
  'learn.chainDepth': positiveInteger,
  'learn.combine': { wrongType: ['0.5', true, [], {}], outOfRange: [-0.01, 1.01, Number.NaN, Infinity] },
  'learn.shareIntervalMs': positiveInteger,
  'learn.maxSharedContexts': positiveInteger,
  minProbability: probability,
  maxPerTrigger: positiveInteger,
  concurrency: { wrongType: ['many', true, []], outOfRange: [0, -1, 2.5, Number.NaN, Infinity] },
  'concurrency.global': positiveInteger,
  'concurrency.perSession': positiveInteger,
  'concurrency.connections': { wrongType: positiveInteger.wrongType, outOfRange: [...(positiveInteger.outOfRange as unknown[]), 1 /* not above reserve */] },
  'concurrency.reserve': positiveInteger,
  cpu: { wrongType: ['on', 1, 0, []], outOfRange: [{ maxUtilisation: 0.5 }, { sampleMs: 100, extra: 1 }] },
  'cpu.maxUtilization': { wrongType: ['0.5', true, [], {}], outOfRange: [0, -0.01, 1.01, Number.NaN, Infinity] },
  'cpu.sampleMs': { wrongType: ['200', true, [], {}], outOfRange: [0, -1, 9, 60_001, 12.5, Number.NaN, Infinity, 2 ** 53] },
  'cpu.busyWindows': { wrongType: ['3', true, [], {}], outOfRange: [0, -1, 101, 2.5, Number.NaN, Infinity] },
  'cpu.learnEvery': positiveInteger,
  'cpu.settledAfter': positiveInteger,
  shadow: booleanOption,
  targetPrecision: probability,
  maxQueue: positiveInteger,
  queueTimeout: positiveInteger,
  rules: {
    wrongType: [{}, 'rule', 42],
    outOfRange: [[{}], [null], [fakeRule('Post.findMany', 2)], [fakeRule('Post.findMany', Number.NaN)], [fakeRule('Post.findMany', 0)]],
    atExtends: [[rule('User.findUnique').then('Nope.findMany', () => ({}))], [fakeRule('Post.deleteMany')], [fakeRule('Post.$queryRaw')]],
  },
  scope: { wrongType: [42, true, {}, []], outOfRange: { runtime: 'a scope function returning a non-string' } },
  onError: { wrongType: ['log', 42, {}], outOfRange: { runtime: 'an onError that throws' } },
  now: { wrongType: [123, 'now', {}], outOfRange: { runtime: 'a clock returning NaN or a string' } },
  telemetry: { wrongType: ['otel', 1, [], () => {}], outOfRange: [{}, { meter: undefined, tracer: undefined }] },
  'telemetry.meter': { wrongType: ['meter', 42, true, [], () => {}], outOfRange: [{}, { createCounter() {}, createHistogram() {} }, { createCounter: 1, createUpDownCounter() {}, createHistogram() {} }] },
  'telemetry.tracer': { wrongType: ['tracer', 42, true, [], () => {}], outOfRange: [{}, { startSpan() {} }, { startActiveSpan: 'yes' }] },
}

/** Values of the wrong type for every option whatever it is: also run for paths SPECS does not know. */
const ALWAYS_WRONG: unknown[] = [null, Symbol('hostile'), 5n, new Date(0)]

/** An options object with `value` at `path` (`models.X` -> the User model). */
function optionsWith(path: string, value: unknown): Record<string, unknown> {
  const parts = path.split('.').map((part) => (part === 'X' ? 'User' : part))
  const options: Record<string, unknown> = {}
  let at = options
  parts.forEach((part, i) => {
    if (i === parts.length - 1) at[part] = value
    else at = at[part] = {}
  })
  // A consistency object needs a store to be valid at all.
  if (path.startsWith('consistency.')) options.cache = stubStore
  return options
}

const nameOf = (path: string) => path.replace('.X', '.User')
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** How src/options.ts echoes a rejected value (the tests check it is echoed). */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`
  if (value === null || typeof value !== 'object') return String(value)
  const text = JSON.stringify(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

/** `fn` throws a TypeError from prisma-prefetch whose message names `name`. */
function expectRejected(fn: () => unknown, name: string, exact: boolean): void {
  let thrown: unknown
  try {
    fn()
  } catch (error) {
    thrown = error
  }
  expect(thrown, `no error for ${name}`).toBeInstanceOf(TypeError)
  const message = (thrown as Error).message
  if (exact) expect(message).toMatch(new RegExp(`^prisma-prefetch: ${escape(name)} must be `))
  else expect(message).toMatch(new RegExp(`^prisma-prefetch: .*${escape(name)}`))
}

describe('hostile options', () => {
  const declared = declaredOptionPaths()
  let checked = 0
  afterAll(() => {
    // Counted so the report can say how many (path, value) pairs were checked.
    console.info(`hostile options: ${declared.length} option paths, ${checked} rejected values checked`)
  })

  it('cover every option declared in src/types.ts and every key of DEFAULTS', () => {
    expect(declared.length).toBeGreaterThan(45)
    expect(new Set(declared).size).toBe(declared.length)
    // Every default is a declared option, and every declared option has cases here.
    for (const path of defaultPaths()) expect(declared).toContain(path)
    for (const key of Object.keys(DEFAULTS.learn)) expect(declared).toContain(`learn.${key}`)
    expect(Object.keys(SPECS).sort()).toEqual([...declared].sort())
  })

  it.each(declaredOptionPaths())('reject %s of a wrong type and out of range, naming it, in resolveOptions and prefetch', (path) => {
    const spec = SPECS[path] ?? { wrongType: [], outOfRange: [] }
    const leaf = !['consistency', 'l1', 'models', 'models.X', 'learn', 'concurrency', 'cpu', 'rules'].includes(path)
    for (const value of [...ALWAYS_WRONG, ...spec.wrongType]) {
      const options = optionsWith(path, value)
      const exact = leaf || path === 'models.X' || !(value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
      expectRejected(() => resolveOptions(options), nameOf(path), exact)
      expectRejected(() => prefetch(options as never), nameOf(path), exact)
      if (exact) expect(() => resolveOptions(options)).toThrow(`: ${show(value)}`) // the value is echoed
      checked++
    }
    if (Array.isArray(spec.outOfRange)) {
      for (const value of spec.outOfRange) {
        const options = optionsWith(path, value)
        // In a container, it may be reported on the member that is off (l1.max, learn.maxHistory vs learn.order, ...).
        expectRejected(() => resolveOptions(options), nameOf(path), leaf)
        expectRejected(() => prefetch(options as never), nameOf(path), leaf)
        checked++
      }
    }
    for (const value of spec.atExtends ?? []) {
      const options = optionsWith(path, value)
      expect(() => resolveOptions(options)).not.toThrow() // names are only known to the client
      expectRejected(() => env.bare.$extends(prefetch(options as never)), nameOf(path), false)
      checked++
    }
  })

  // Keys that every object inherits: an `in` test or a lookup on a plain object would take them
  // for known options. Made with JSON.parse, so `__proto__` is an own key as it is in parsed input.
  const INHERITED = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__']
  const containers: Array<[string, (key: string) => string, string]> = [
    ['top level', (key) => `{"${key}":1}`, ''],
    ['learn', (key) => `{"learn":{"${key}":1}}`, 'learn.'],
    ['l1', (key) => `{"l1":{"${key}":1}}`, 'l1.'],
    ['concurrency', (key) => `{"concurrency":{"${key}":1}}`, 'concurrency.'],
    ['cpu', (key) => `{"cpu":{"${key}":1}}`, 'cpu.'],
    ['models.X', (key) => `{"models":{"User":{"${key}":1}}}`, 'models.User.'],
  ]
  it.each(containers)('reject inherited property names used as option keys (%s)', (_name, json, prefix) => {
    for (const key of INHERITED) {
      const options = JSON.parse(json(key))
      expectRejected(() => resolveOptions(options), `${prefix}${key}`, true)
      expectRejected(() => prefetch(options), `${prefix}${key}`, true)
      checked++
    }
  })

  it('reject inherited property names as consistency keys and as model names', () => {
    for (const key of INHERITED) {
      expectRejected(() => resolveOptions({ cache: stubStore, ...JSON.parse(`{"consistency":{"maxStalenessMs":5,"${key}":1}}`) }), 'consistency', true)
      const models = JSON.parse(`{"models":{"${key}":false}}`)
      expectRejected(() => env.bare.$extends(prefetch(models)), `models.${key}`, true)
      checked += 2
    }
  })

  it('accept deeply frozen options and never change them, through a workload of reads, writes and sessions', async () => {
    const keyv = new Keyv()
    const options = {
      cache: { get: (k: string) => keyv.get(k), set: (k: string, v: string, t?: number) => keyv.set(k, v, t), delete: (k: string) => keyv.delete(k) },
      consistency: { maxStalenessMs: 50 },
      namespace: 'frozen-ns',
      l1: { maxEntries: 100, maxBytes: 1 << 20 },
      ttl: 10_000,
      readThrough: true,
      storeTimeout: 5000,
      models: { Comment: false as const, Tag: { ttl: 5000, cache: true, operations: ['findMany' as const, 'findUnique' as const], prefetch: false } },
      learn: { ...DEFAULTS.learn, minSupport: 2 },
      minProbability: 0.2,
      maxPerTrigger: 2,
      concurrency: { global: 4, perSession: 2, connections: 10, reserve: 2 },
      cpu: { maxUtilization: 1, sampleMs: 50 }, // sampled, never paused (utilisation is at most 1)
      maxQueue: 50,
      queueTimeout: 2000,
      targetPrecision: 0.5,
      shadow: false,
      rules: [rule('User.findUnique').then('Profile.findUnique', ({ result }) => result && { where: { userId: result.id } })],
      scope: (context: { userId?: string }) => context.userId,
      onError: () => {},
      now: () => Date.now(),
    }
    const snapshot = (value: unknown, seen = new Map<unknown, string>()): unknown => {
      if (typeof value === 'function') return seen.get(value) ?? (seen.set(value, `function#${seen.size}`), seen.get(value))
      if (value === null || typeof value !== 'object') return value
      return Object.fromEntries(Reflect.ownKeys(value).map((key) => [String(key), snapshot((value as Record<PropertyKey, unknown>)[key], seen)]))
    }
    const deepFreeze = (value: unknown): void => {
      if (value === null || (typeof value !== 'object' && typeof value !== 'function') || Object.isFrozen(value)) return
      Object.freeze(value)
      for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key])
    }
    const before = JSON.stringify(snapshot(options))
    deepFreeze(options)
    expect(() => resolveOptions(options)).not.toThrow()
    const c = await env.client(options)
    for (let s = 0; s < 4; s++) {
      const db = c.prisma.$prefetch.forSession<typeof c.prisma>(`frozen-${s}`, { userId: `u${s % 2}` })
      const user = await db.user.findUnique({ where: { email: rows.alice.email } })
      await db.post.findMany({ where: { authorId: user!.id }, orderBy: { id: 'asc' }, take: 3 })
      await db.tag.findMany({ orderBy: { id: 'asc' } })
      await db.comment.count()
    }
    await c.prisma.tag.update({ where: { id: rows.tags[0].id }, data: { name: rows.tags[0].name } })
    expect(await c.prisma.tag.findMany({ orderBy: { id: 'asc' } })).toStrictEqual(await c.bare.tag.findMany({ orderBy: { id: 'asc' } }))
    await c.prisma.$prefetch.idle()
    expect(c.prisma.$prefetch.stats().hits).toBeGreaterThan(0)
    await c.prisma.$prefetch.close()
    expect(JSON.stringify(snapshot(options))).toBe(before)
  })
})

describe('hostile function options at run time', () => {
  const tags = (c: any) => c.tag.findMany({ orderBy: { id: 'asc' } })

  it('a scope function returning a non-string: reported as a TypeError naming scope(), the query answered by the database', async () => {
    const errors: unknown[] = []
    const c = await env.client({ scope: () => 7 as never, onError: (error) => errors.push(error) })
    const before = c.spy.calls.length
    for (let i = 0; i < 3; i++) expect(await tags(c.prisma)).toStrictEqual(await tags(c.bare))
    expect(reached(c.spy.calls, before)).toBe(3) // never cached under a scope it could not name
    expect(errors).toHaveLength(3)
    for (const error of errors) expect(String(error)).toMatch(/TypeError: prisma-prefetch: scope\(\) must be a string or undefined: 7/)
  })

  it('an onError that throws, and a clock that throws or returns NaN or a string: every read is still the database’s answer', async () => {
    const throwing = await env.client({
      cache: { get: () => Promise.reject(new Error('down')), set: () => Promise.reject(new Error('down')), delete: async () => true },
      onError: () => {
        throw new Error('onError exploded')
      },
    })
    expect(await tags(throwing.prisma)).toStrictEqual(await tags(throwing.bare))
    expect(throwing.prisma.$prefetch.stats().errors.store).toBeGreaterThan(0)
    const broken = () => {
      throw new Error('the clock broke')
    }
    for (const now of [() => Number.NaN, () => 'soon' as never, () => -Infinity, broken]) {
      const c = await env.client({ now, learn: false })
      const read = (x: any) => x.tag.findUnique({ where: { id: rows.tags[1].id } })
      expect(await read(c.prisma)).toStrictEqual(await read(c.bare))
      await c.prisma.tag.update({ where: { id: rows.tags[1].id }, data: { name: `clock-${Math.random()}` } })
      expect(await read(c.prisma)).toStrictEqual(await read(c.bare)) // never the value from before the write
    }
  })
})

// ---------------------------------------------------------------------------------------------
// 2. Arguments
// ---------------------------------------------------------------------------------------------

/** What a call did: its value, or its error as a caller can tell errors apart (the call site aside). */
async function outcome(run: () => Promise<unknown>): Promise<{ value: unknown } | { error: { name: string; code: unknown; message: string } }> {
  try {
    return { value: await run() }
  } catch (error) {
    const e = error as { constructor?: { name?: string }; code?: unknown; message?: unknown }
    // Prisma's messages start with the invocation and a code frame of the caller's source: keep
    // the last line, which says what was wrong.
    const lines = String(e?.message ?? error).trim().split('\n')
    return { error: { name: e?.constructor?.name ?? typeof error, code: e?.code, message: lines[lines.length - 1].trim() } }
  }
}

/** A Keyv wrapped so that every key written through it is recorded (with its length). */
function recordingStore(keyv: Keyv = new Keyv()) {
  const written = new Set<string>()
  const requested: string[][] = []
  const store: KeyvLike & { getMany(keys: string[]): Promise<unknown[]> } = {
    get: (key) => {
      requested.push([key])
      return keyv.get(key)
    },
    getMany: (keys) => {
      requested.push(keys)
      return keyv.getMany(keys)
    },
    set: (key, value, ttl) => {
      written.add(key)
      return keyv.set(key, value, ttl)
    },
    delete: (key) => keyv.delete(key),
  }
  return { keyv, store, written, requested }
}

/** Own property names of the built-in prototypes, to see that nothing was added to them. */
function prototypeShapes(): string {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype, Number.prototype]
    .map((proto) => Reflect.ownKeys(proto).map(String).sort().join(','))
    .join('|')
}
const PROTOTYPES_BEFORE = prototypeShapes()
function expectNoPollution(): void {
  const probe = {} as Record<string, unknown>
  for (const name of ['polluted', 'isAdmin', 'hostile', 'x']) {
    expect(probe[name]).toBeUndefined()
    expect(([] as unknown as Record<string, unknown>)[name]).toBeUndefined()
  }
  expect(prototypeShapes()).toBe(PROTOTYPES_BEFORE)
}

/** Nested `{ [key]: ... }` `depth` levels deep around `leaf`. */
function nest(depth: number, key: (level: number) => string, leaf: unknown): Record<string, unknown> {
  let value = leaf as Record<string, unknown>
  for (let level = depth - 1; level >= 0; level--) value = { [key(level)]: value }
  return value
}

/**
 * A tree a deep equality can compare without being misled: every object as a list of its own
 * keys and values with its kind (plain, null-prototype, Date, Decimal, bytes, ...), so that a
 * Json value with a `constructor` key or an own `__proto__` compares as data.
 */
function comparable(value: unknown): unknown {
  if (typeof value === 'bigint') return { bigint: String(value) }
  if (typeof value === 'number') return Object.is(value, -0) ? { number: '-0' } : Number.isNaN(value) ? { number: 'NaN' } : value
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return { array: value.map(comparable) }
  const tag = Object.prototype.toString.call(value)
  if (tag === '[object Decimal]') return { decimal: String(value) }
  if (value instanceof Date) return { date: value.getTime() }
  if (value instanceof Uint8Array) return { bytes: [...value], buffer: Buffer.isBuffer(value) }
  const proto = Object.getPrototypeOf(value)
  const kind = proto === Object.prototype ? 'plain' : proto === null ? 'null-prototype' : `instance ${tag}`
  return { [kind]: Reflect.ownKeys(value).map((key) => [String(key), comparable((value as Record<PropertyKey, unknown>)[key])]) }
}

class HostileValue {
  constructor(readonly id = 1) {}
  toJSON() {
    return this.id
  }
}

describe('hostile query arguments', () => {
  const ENTRY = 'prisma-prefetch:entry:'
  const MAX_KEY = 200

  // Any query extension, even one that only calls query(args), changes what Prisma makes of a
  // few arguments (a class instance with toJSON, for one): the reference is the bare client with
  // such an empty extension, and the bare client itself where they agree.
  const PRISMA_DIFFERS = new Set(['a class instance with toJSON'])
  const plain = env.bare.$extends({ query: { $allOperations: ({ args, query }: { args: unknown; query: (a: unknown) => Promise<unknown> }) => query(args) } })
  const many = Array.from({ length: 50_000 }, (_, i) => i + 1)
  const megabyte = 'x'.repeat(1 << 20)
  const cyclic: Record<string, unknown> = { id: rows.posts[0].id }
  cyclic.AND = cyclic
  const deep = (depth: number) => nest(depth, (level) => (level % 2 ? 'NOT' : 'AND'), { id: rows.posts[0].id })
  const withProtoKey = () => {
    const where = { id: rows.posts[3].id }
    Object.defineProperty(where, '__proto__', { value: { polluted: true }, enumerable: true, configurable: true, writable: true })
    return where
  }
  // Prisma's extension pipeline hands a query hook a copy of the arguments in which a Map, a
  // RegExp or a class instance has become a plain object (so they key as what Prisma sends), and
  // an own `__proto__` at the top has become the copy's prototype (so it is refused as a key).
  const cases: Array<[string, 'cacheable' | 'uncacheable', (c: any) => Promise<unknown>]> = [
    ['where: { id: { in: [50,000 ids] } }', 'cacheable', (c) => c.post.findMany({ where: { id: { in: many } }, select: { id: true }, orderBy: { id: 'asc' } })],
    ['where: { id: { in: [900 ids] } }', 'cacheable', (c) => c.post.findMany({ where: { id: { in: many.slice(0, 900) } }, select: { id: true }, orderBy: { id: 'asc' } })],
    ['a 1 MB string in where', 'cacheable', (c) => c.post.findMany({ where: { title: megabyte }, select: { id: true } })],
    ['a 1 MB string in contains', 'cacheable', (c) => c.post.findFirst({ where: { body: { contains: megabyte } } })],
    ['100 levels of AND / NOT (deeper than keys go)', 'uncacheable', (c) => c.post.findMany({ where: deep(100), select: { id: true } })],
    ['3,000 levels of AND / NOT', 'uncacheable', (c) => c.post.count({ where: deep(3000) })],
    ['cyclic where', 'uncacheable', (c) => c.post.findMany({ where: cyclic })],
    ['a getter in where', 'cacheable', (c) => c.post.findMany({ where: { get id() { return rows.posts[1].id } } })],
    ['a symbol key in where', 'cacheable', (c) => c.post.findMany({ where: { id: rows.posts[1].id, [Symbol('hostile')]: 1 } })],
    ['a symbol value', 'uncacheable', (c) => c.post.findMany({ where: { title: Symbol('hostile') } })],
    ['a function value', 'uncacheable', (c) => c.post.findMany({ where: { title: () => 'Post 1' } })],
    ['a class instance with toJSON', 'uncacheable', (c) => c.post.findMany({ where: { id: new HostileValue(rows.posts[1].id) } })],
    ['a Map', 'cacheable', (c) => c.post.findMany({ where: { id: new Map([['equals', 1]]) }, select: { id: true } })],
    ['a RegExp', 'cacheable', (c) => c.post.findMany({ where: { title: /Post/ }, select: { id: true } })],
    ['a null-prototype where', 'cacheable', (c) => c.post.findMany({ where: Object.assign(Object.create(null), { id: rows.posts[2].id }) })],
    ['a Proxy where', 'cacheable', (c) => c.post.findMany({ where: new Proxy({ id: rows.posts[2].id }, {}) })],
    ['an invalid Date', 'cacheable', (c) => c.post.findMany({ where: { createdAt: { lt: new Date(Number.NaN) } } })],
    ['__proto__ key in where (JSON.parse)', 'cacheable', (c) => c.post.findMany(JSON.parse(`{"where":{"__proto__":{"id":${rows.posts[0].id}}}}`))],
    ['__proto__ key at the top (JSON.parse)', 'uncacheable', (c) => c.post.findMany(JSON.parse(`{"where":{"id":${rows.posts[0].id}},"__proto__":{"take":1}}`))],
    ['constructor.prototype key in where (JSON.parse)', 'cacheable', (c) => c.post.findMany(JSON.parse(`{"where":{"id":${rows.posts[0].id},"constructor":{"prototype":{"polluted":true}}}}`))],
    ['__proto__ key through defineProperty', 'cacheable', (c) => c.post.findMany({ where: withProtoKey() })],
    ['__proto__ inside a Json filter', 'cacheable', (c) => c.post.findMany({ where: { meta: { equals: JSON.parse('{"__proto__":{"polluted":true},"index":0}') } }, select: { id: true } })],
    ['__proto__ and constructor in Json data, read back', 'cacheable', (c) => c.post.findMany({ where: { title: 'json-proto' }, select: { meta: true, title: true } })],
  ]

  const store = recordingStore()
  beforeAll(async () => {
    await env.bare.post.create({
      data: { title: 'json-proto', authorId: rows.alice.id, meta: JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}') },
    })
  })
  let client: Awaited<ReturnType<typeof env.client>>
  afterAll(() => {
    const keys = [...store.written]
    console.info(`hostile arguments: ${cases.length} cases, ${keys.length} keys written, longest ${Math.max(...keys.map((k) => k.length))} chars`)
  })

  it.each(cases)('%s: no crash, the same result or error as without the extension, twice', async (name, cacheability, run) => {
    client ??= await env.client({ cache: store.store, ...quiet })
    const expected = comparable(await outcome(() => run(plain)))
    // The bare client agrees with the empty extension, but where Prisma itself does not.
    const bare = comparable(await outcome(() => run(env.bare)))
    if (PRISMA_DIFFERS.has(name)) expect(bare).not.toStrictEqual(expected)
    else expect(bare).toStrictEqual(expected)
    const hits = client.prisma.$prefetch.stats().hits
    const before = client.spy.calls.length
    // In a session, so learning (templates, argument sources) sees the arguments too.
    const inSession = () => outcome(() => client.prisma.$prefetch.session('hostile-args', () => run(client.prisma), { userId: 'mallory' }))
    const first = comparable(await inSession())
    const second = comparable(await inSession())
    await client.prisma.$prefetch.idle()
    expect(first).toStrictEqual(expected)
    expect(second).toStrictEqual(expected)
    expectNoPollution()
    const reads = reached(client.spy.calls, before, 'findMany') + reached(client.spy.calls, before, 'findFirst') + reached(client.spy.calls, before, 'count')
    if ('error' in (await outcome(() => run(plain)))) {
      // A failing query is never served from the cache (Prisma may refuse it before any hook).
      expect(client.prisma.$prefetch.stats().hits).toBe(hits)
      expect(reads).toBeLessThanOrEqual(2)
    } else if (cacheability === 'uncacheable') {
      // Refused as a key: straight to the database both times, never a hit.
      expect(client.prisma.$prefetch.stats().hits).toBe(hits)
      expect(reads).toBe(2)
    } else {
      expect(reads).toBeLessThanOrEqual(1) // the second read, at least, was served from the cache
      expect(client.prisma.$prefetch.stats().hits).toBeGreaterThan(hits)
    }
  })

  it('write only bounded keys to the store, every entry key a hash that shows none of the arguments', () => {
    const entries = [...store.written].filter((key) => key.startsWith(ENTRY))
    expect(entries.length).toBeGreaterThan(5)
    // Every entry key is ENTRY, the client's fingerprint (16 characters), ':' and the query's
    // SHA-256 (43 characters), whatever the size of the arguments: the 50,000 ids, the megabyte.
    for (const key of entries) expect(key.slice(ENTRY.length)).toMatch(/^[\w-]{16}:[\w-]{43}$/)
    for (const key of store.written) expect(key.length).toBeLessThanOrEqual(ENTRY.length + 17 + MAX_KEY)
    for (const key of entries) expect(key).not.toMatch(/Post|json-proto|xxxx/)
  })

  it('build key text in linear proportion to the arguments, and refuse arguments deeper than keys go', () => {
    const lengthFor = (args: unknown) => canonicalArgs(args).length
    const shapes: Array<[string, (n: number) => unknown]> = [
      ['an id list', (n) => ({ where: { id: { in: many.slice(10_000, 10_000 + n) } } })], // ids of one width
      ['a long string', (n) => ({ where: { title: 'y'.repeat(n * 10) } })],
      ['many OR branches', (n) => ({ where: { OR: Array.from({ length: n }, (_, i) => ({ title: { startsWith: `t${i % 10}` }, views: i % 7 })) } })],
      ['many keys', (n) => ({ where: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${String(i).padStart(6, '0')}`, i % 10])) })],
      ['nesting', (n) => ({ where: nest(n / 40, () => 'AND', { id: 1 }) })], // 25 and 50 levels
    ]
    for (const [, shape] of shapes) {
      const small = lengthFor(shape(1000))
      const large = lengthFor(shape(2000))
      // Twice the input, about twice the text: no part of the key grows faster than its input.
      expect(large / small).toBeGreaterThan(1.8)
      expect(large / small).toBeLessThan(2.2)
      // And whatever the text, the key is bounded.
      expect(queryKey('Post', 'findMany', '', shape(2000)).length).toBeLessThanOrEqual(MAX_KEY)
    }
    // Up to 64 levels are keyed; deeper is refused (and such a read goes to the database, above).
    expect(() => canonicalArgs(nest(60, () => 'AND', { id: 1 }))).not.toThrow()
    expect(() => canonicalArgs(nest(100, () => 'AND', { id: 1 }))).toThrow(/nest too deeply/)
    expect(() => canonicalArgs(deep(100_000))).toThrow(/nest too deeply/) // refused at once, no stack overflow
    expect(() => canonicalArgs(cyclic)).toThrow(/cyclic/)
  })

  it('never let a getter that changes its answer poison the key of another query', async () => {
    const c = await env.client({ cache: recordingStore().store, ...quiet })
    let calls = 0
    const shifty = {
      get id() {
        return calls++ === 0 ? rows.posts[4].id : rows.posts[5].id
      },
    }
    const served = await c.prisma.post.findMany({ where: shifty, select: { id: true } })
    expect(served).toStrictEqual(await c.bare.post.findMany({ where: { id: served[0]?.id ?? -1 }, select: { id: true } }))
    await c.prisma.$prefetch.idle()
    for (const post of [rows.posts[4], rows.posts[5]]) {
      const args = { where: { id: post.id }, select: { id: true } }
      expect(await c.prisma.post.findMany(args)).toStrictEqual(await c.bare.post.findMany(args))
    }
  })
})

// ---------------------------------------------------------------------------------------------
// 3. Forged and corrupt entries in the shared store
// ---------------------------------------------------------------------------------------------

/** A Keyv over a real backend, with raw access underneath Keyv's own envelope. */
interface Backend {
  name: string
  make(): Promise<{
    keyv: Keyv
    /** Writes `text` as the backend's raw value of `key`, below Keyv (its JSON envelope and all). */
    raw(key: string, text: string): Promise<void>
    /** Every key in the backend (listed only by this test; the extension never lists). */
    keys(): Promise<string[]>
  }>
}

const closers: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const close of closers) await close().catch(() => {})
})

const memoryBackend: Backend = {
  name: 'in-memory Keyv',
  async make() {
    const map = new Map<string, unknown>()
    const keyv = new Keyv({ store: map })
    return {
      keyv,
      raw: async (key, text) => void map.set(`keyv:${key}`, text),
      keys: async () => [...map.keys()].map((key) => key.slice('keyv:'.length)),
    }
  },
}

const redisBackend: Backend = {
  name: 'Redis Keyv',
  async make() {
    const namespace = `hostile-${process.pid}-${randomBytes(4).toString('hex')}`
    const adapter = new KeyvRedis(REDIS_URL)
    const keyv = new Keyv({ store: adapter, namespace, useKeyPrefix: false })
    const redis = (await adapter.getClient()) as unknown as {
      set(key: string, value: string): Promise<unknown>
      keys(pattern: string): Promise<string[]>
      del(keys: string[]): Promise<unknown>
    }
    closers.push(async () => {
      const keys = await redis.keys(`${namespace}::*`)
      if (keys.length > 0) await redis.del(keys)
      await adapter.disconnect()
    })
    return {
      keyv,
      raw: async (key, text) => void (await redis.set(`${namespace}::${key}`, text)),
      keys: async () => (await redis.keys(`${namespace}::*`)).map((key) => key.slice(namespace.length + 2)),
    }
  },
}

const codec = createCodec({ isDecimal: (v) => Object.prototype.toString.call(v) === '[object Decimal]', fromString: (t) => new Decimal(t) })
const GARBAGE = Buffer.from([0, 255, 254, 1, 128, 34, 92, 123, 91, 0, 0xc3, 0x28, 0xe2, 0x82]).toString('latin1') + '{{[["'

/** An object with an own `__proto__` data property, as JSON.parse makes one. */
const ownProto = (value: unknown, rest: Record<string, unknown> = {}) => {
  const object = { ...rest }
  Object.defineProperty(object, '__proto__', { value, enumerable: true, writable: true, configurable: true })
  return object
}

/** devalue text of an entry (`pp1:` + a flat array whose first item is the root). */
const devalue = (items: unknown[]) => `pp1:${JSON.stringify(items)}`
const billionLaughs = (depth: number) => {
  const items: unknown[] = [{ deps: 1, gens: 2, expiresAt: 3, source: 4, value: 5 }, [], [], 9e15, 'demand']
  for (let i = 0; i < depth; i++) items.push([6 + i, 6 + i])
  items.push('boom')
  return devalue(items)
}

type Counter = 'decode' | 'store' | 'none'
interface Forgery {
  name: string
  /** 'typed': written through Keyv (any JSON value); 'raw': below Keyv's envelope. */
  how: 'typed' | 'raw'
  value: (genuine: string) => unknown
  counts: Counter
}

const ENTRY_FORGERIES: Forgery[] = [
  { name: 'garbage bytes', how: 'typed', value: () => GARBAGE, counts: 'decode' },
  { name: '5 MB of garbage', how: 'typed', value: () => GARBAGE.repeat(300_000), counts: 'decode' },
  { name: 'the entry cut in half', how: 'typed', value: (g) => g.slice(0, g.length / 2), counts: 'decode' },
  { name: 'the entry less its last character', how: 'typed', value: (g) => g.slice(0, -1), counts: 'decode' },
  { name: 'an older format version', how: 'typed', value: (g) => g.replace(/^pp1:/, 'pp0:'), counts: 'decode' },
  { name: 'a newer format version', how: 'typed', value: (g) => g.replace(/^pp1:/, 'pp2:'), counts: 'decode' },
  { name: 'no version marker', how: 'typed', value: (g) => g.slice(4), counts: 'decode' },
  { name: 'an empty string', how: 'typed', value: () => '', counts: 'decode' },
  { name: 'a number', how: 'typed', value: () => 42, counts: 'decode' },
  { name: 'an object of the entry’s shape', how: 'typed', value: () => ({ deps: [], gens: [], expiresAt: 9e15, source: 'demand', value: 'forged' }), counts: 'decode' },
  { name: 'an array', how: 'typed', value: () => ['pp1:', 1], counts: 'decode' },
  { name: 'a raw __proto__ key in the devalue payload', how: 'typed', value: () => 'pp1:[{"__proto__":{"polluted":true}}]', counts: 'decode' },
  { name: 'a devalue object with a __proto__ key', how: 'typed', value: () => 'pp1:[{"__proto__":1,"deps":2},{"polluted":3},[],true]', counts: 'decode' },
  { name: 'devalue types no result holds (Map, RegExp, null-prototype)', how: 'typed', value: () => devalue([['Map', 1], []]), counts: 'decode' },
  { name: 'a null-prototype object', how: 'typed', value: () => devalue([['null', 'polluted', 1], true]), counts: 'decode' },
  { name: 'a cycle', how: 'typed', value: () => devalue([{ deps: 1, gens: 1, expiresAt: 2, source: 3, value: 0 }, [], 9e15, 'demand']), counts: 'decode' },
  { name: 'a billion laughs (50 levels of doubled references)', how: 'typed', value: () => billionLaughs(50), counts: 'decode' },
  {
    name: 'one object referenced 200,000 times',
    how: 'typed',
    value: () => devalue([{ deps: 1, gens: 2, expiresAt: 4, source: 5, value: 6 }, [3], [3], 'Post', 9e15, 'demand', Array(200_000).fill(7), { polluted: 8 }, true]),
    counts: 'decode',
  },
  {
    name: 'a well-formed entry of stale generations carrying __proto__, constructor and prototype keys',
    how: 'typed',
    value: (g) => {
      const real = codec.decode(g) as { key: string; deps: string[]; writtenAt: number; ttl: number }
      return codec.encode(
        ownProto({ polluted: true }, {
          key: real.key,
          deps: real.deps,
          gens: real.deps.map(() => 'forged-token'),
          writtenAt: real.writtenAt,
          ttl: real.ttl,
          source: 'demand',
          value: ownProto({ polluted: true }, { constructor: { prototype: { polluted: true } }, prototype: { polluted: true } }),
        }),
      )
    },
    counts: 'none',
  },
  {
    name: 'a string referenced 200,000 times under stale generations',
    how: 'typed',
    value: (g) => {
      const real = codec.decode(g) as Record<string, unknown> & { deps: string[] }
      return codec.encode({ ...real, gens: real.deps.map(() => 'stale'), value: Array(200_000).fill('x') })
    },
    counts: 'none',
  },
  { name: 'null', how: 'typed', value: () => null, counts: 'none' },
  { name: 'raw garbage below Keyv', how: 'raw', value: () => GARBAGE, counts: 'store' },
  { name: 'Keyv’s envelope cut short', how: 'raw', value: (g) => JSON.stringify({ value: g, expires: null }).slice(0, 40), counts: 'store' },
  { name: 'Keyv’s envelope around a __proto__ object', how: 'raw', value: () => '{"value":{"__proto__":{"polluted":true}},"expires":null}', counts: 'decode' },
]

/** A user page in a session: the user by email, then their posts. */
async function userPage(prisma: any, session: string, email: string) {
  const page = async () => {
    const user = await prisma.user.findUnique({ where: { email } })
    return [user, await prisma.post.findMany({ where: { authorId: user.id }, orderBy: { id: 'asc' } })]
  }
  return prisma.$prefetch ? prisma.$prefetch.session(session, page) : page()
}

function describeForgedStore(backend: Backend) {
  describe(`forged and corrupt entries in ${backend.name}`, () => {
    const read = (c: any) =>
      c.user.findUnique({ where: { id: rows.alice.id }, include: { profile: true, posts: { orderBy: { id: 'asc' }, take: 3 } } })

    /** A client whose every read goes to the store (no L1), its store, and the keys it wrote. */
    async function cached() {
      const backing = await backend.make()
      const recorded = recordingStore(backing.keyv)
      const errors: Array<{ error: unknown; phase: string }> = []
      const c = await env.client({ cache: recorded.store, l1: false, learn: false, onError: (error, context) => errors.push({ error, phase: context.phase }) })
      return { ...backing, ...recorded, c, errors }
    }

    async function put(backing: Awaited<ReturnType<typeof cached>>, key: string, forgery: Forgery, genuine: string) {
      const value = forgery.value(genuine)
      if (forgery.how === 'raw') await backing.raw(key, value as string)
      else await backing.keyv.set(key, value)
    }

    it('entries: every forgery is a counted miss answered by the database, and caching resumes', async () => {
      const s = await cached()
      const expected = comparable(await read(s.c.bare))
      expect(comparable(await read(s.c.prisma))).toStrictEqual(expected)
      await s.c.prisma.$prefetch.idle()
      const entryKeys = [...s.written].filter((key) => key.startsWith('prisma-prefetch:entry:'))
      expect(entryKeys).toHaveLength(1)
      // What the recording saw is what the backend holds: nothing written around it.
      expect((await s.keys()).sort()).toEqual([...s.written].sort())
      const genuine = (await s.keyv.get(entryKeys[0])) as string
      expect(genuine.startsWith('pp1:')).toBe(true)
      for (const forgery of ENTRY_FORGERIES) {
        await put(s, entryKeys[0], forgery, genuine)
        const stats = s.c.prisma.$prefetch.stats()
        const before = s.c.spy.calls.length
        expect(comparable(await read(s.c.prisma)), forgery.name).toStrictEqual(expected)
        expect(reached(s.c.spy.calls, before), forgery.name).toBe(1)
        const after = s.c.prisma.$prefetch.stats()
        expect(after.errors.decode - stats.errors.decode, forgery.name).toBe(forgery.counts === 'decode' ? 1 : 0)
        expect(after.errors.store - stats.errors.store, forgery.name).toBe(forgery.counts === 'store' ? 1 : 0)
        expectNoPollution()
        await s.c.prisma.$prefetch.idle()
        // The miss stored a fresh entry over the forgery: the next read is a hit again.
        const again = s.c.spy.calls.length
        expect(comparable(await read(s.c.prisma)), forgery.name).toStrictEqual(expected)
        expect(reached(s.c.spy.calls, again), forgery.name).toBe(0)
      }
      expect(s.c.prisma.$prefetch.stats().errors.decode).toBe(ENTRY_FORGERIES.filter((f) => f.counts === 'decode').length)
      for (const { phase } of s.errors) expect(['decode', 'get']).toContain(phase)
    })

    it('a well-formed entry under the current generations is trusted as data, never as code or prototypes', async () => {
      // The store is inside the trust boundary: no signature, so whoever can write it can make a
      // well-formed entry under the current tokens. What the codec guarantees is that such an
      // entry is plain data: no prototype is touched, no class is built.
      const s = await cached()
      await read(s.c.prisma)
      await s.c.prisma.$prefetch.idle()
      const key = [...s.written].find((k) => k.startsWith('prisma-prefetch:entry:'))!
      const real = codec.decode((await s.keyv.get(key)) as string) as Record<string, unknown>
      const forged = ownProto({ polluted: true }, { constructor: { prototype: { polluted: true } }, prototype: { isAdmin: true } })
      await s.keyv.set(key, codec.encode({ ...real, value: forged }))
      const served = (await read(s.c.prisma)) as Record<string, unknown>
      expectNoPollution()
      expect(Object.getPrototypeOf(served)).toBe(Object.prototype)
      expect(Object.keys(served)).toEqual(['constructor', 'prototype', '__proto__'])
      expect(Object.getOwnPropertyDescriptor(served, '__proto__')?.value).toStrictEqual({ polluted: true })
    })

    it('generations: forged tokens of any type never serve a stale entry, and caching resumes', async () => {
      const s = await cached()
      const tagRead = (c: any) => c.tag.findUnique({ where: { id: rows.tags[2].id } })
      await tagRead(s.c.prisma)
      await s.c.prisma.$prefetch.idle()
      // A row read: it depends on its row's token (written by the first write below) and on the
      // token of every row of its model (written now). Both are forged.
      const rowKey = `prisma-prefetch:gen:Tag#id=${rows.tags[2].id}`
      const genKeys = [...s.written].filter((key) => key.startsWith('prisma-prefetch:gen:'))
      expect(genKeys).toEqual(['prisma-prefetch:gen:Tag#rows'])
      genKeys.push(rowKey)
      const forgeries: Array<[string, 'typed' | 'raw', unknown]> = [
        ['a number', 'typed', 42],
        ['an object', 'typed', { token: 'x', __proto__: null }],
        ['an array', 'typed', ['token']],
        ['true', 'typed', true],
        ['null', 'typed', null],
        ['an empty string', 'typed', ''],
        ['garbage bytes', 'typed', GARBAGE],
        ['100 KB', 'typed', 'g'.repeat(100_000)],
        ['__proto__', 'typed', '__proto__'],
        ['a JSON __proto__ object', 'typed', JSON.parse('{"__proto__":{"polluted":true}}')],
        ['raw garbage below Keyv', 'raw', GARBAGE],
      ]
      for (const [name, how, value] of forgeries) {
        // A write makes the cached entry stale; then the token is forged.
        await s.c.prisma.tag.update({ where: { id: rows.tags[2].id }, data: { name: `gen-${name}-${Math.random()}` } })
        const expected = await tagRead(s.c.bare)
        for (const key of genKeys) {
          // Raw garbage below Keyv reads as no value on some stores, and a row token that is not
          // there reads as never written: a known limitation (docs/invalidation.md), not forged here.
          if (how === 'raw' && key === rowKey) continue
          if (how === 'raw') await s.raw(key, value as string)
          else await s.keyv.set(key, value)
        }
        const before = s.c.spy.calls.length
        expect(await tagRead(s.c.prisma), name).toStrictEqual(expected)
        expect(reached(s.c.spy.calls, before), name).toBe(1)
        expectNoPollution()
        await s.c.prisma.$prefetch.idle()
        if (how === 'raw') {
          // Redis' Keyv cannot read such a token at all (getMany throws: a store error), so no
          // result of Tag is served or stored until a write gives it a fresh one; the in-memory
          // Keyv reads it as absent, and it is replaced at once. Reads stay correct either way.
          expect(await tagRead(s.c.prisma)).toStrictEqual(expected)
          await s.c.prisma.$prefetch.invalidate('Tag')
          await tagRead(s.c.prisma)
          await s.c.prisma.$prefetch.idle()
        }
        const again = s.c.spy.calls.length
        expect(await tagRead(s.c.prisma), name).toStrictEqual(expected)
        expect(reached(s.c.spy.calls, again), `${name}: cached again`).toBe(0)
      }
    })

    it('shared learning: forged models and indexes are refused or ignored, and a process starting on them works', async () => {
      const backing = await backend.make()
      const teacherStore = recordingStore(backing.keyv)
      const teacher = await env.client({ cache: teacherStore.store, learn: { minSupport: 2, shareIntervalMs: 600_000 }, ...quiet })
      for (let i = 0; i < 4; i++) await userPage(teacher.prisma, `teach-${i}`, i % 2 ? rows.alice.email : rows.bob.email)
      // A second read after the user read: a context with two next reads (its model must still be readable).
      for (let i = 0; i < 3; i++) {
        await teacher.prisma.$prefetch.session(`teach-profile-${i}`, async () => {
          const user = await teacher.prisma.user.findUnique({ where: { email: rows.alice.email } })
          await teacher.prisma.profile.findUnique({ where: { userId: user!.id } })
        })
      }
      await teacher.prisma.$prefetch.close() // publishes what it learned
      const INDEX = 'prisma-prefetch:learned:index'
      const modelKey = [...teacherStore.written].find((key) => key.startsWith('prisma-prefetch:learned:') && key !== INDEX)!
      expect(modelKey).toBeDefined()
      expect([...teacherStore.written]).toContain(INDEX)
      const genuine = { index: (await backing.keyv.get(INDEX)) as string, model: (await backing.keyv.get(modelKey)) as string }
      const tag = modelKey.slice('prisma-prefetch:learned:'.length)
      // Unforged, the model is read whole, arguments and the context with two next reads included.
      const baseline = await env.client({ cache: backing.keyv, learn: { shareIntervalMs: 600_000 }, ...quiet })
      await baseline.prisma.$prefetch.idle()
      expect(baseline.prisma.$prefetch.stats().errors.store).toBe(0)
      const learned = baseline.prisma.$prefetch.model().transitions.filter((t) => t.after[0]?.startsWith('User.findUnique'))
      expect(learned.map((t) => t.next.split('{')[0]).sort()).toEqual(['Post.findMany', 'Profile.findUnique'])
      for (const t of learned) expect(t.arguments.length).toBeGreaterThan(0)

      const forgeries: Array<[string, 'index' | 'model', 'typed' | 'raw', unknown, 'counted' | 'ignored' | 'either']> = [
        ['garbage bytes', 'model', 'typed', GARBAGE, 'counted'],
        ['the model cut in half', 'model', 'typed', genuine.model.slice(0, genuine.model.length / 2), 'counted'],
        ['an older format version', 'model', 'typed', genuine.model.replace(/^pp1:/, 'pp0:'), 'counted'],
        ['a cycle', 'model', 'typed', devalue([{ version: 1, templates: 0, transitions: 0, mappings: 0 }]), 'counted'],
        ['a billion laughs', 'model', 'typed', billionLaughs(50), 'counted'],
        ['a raw __proto__ key', 'model', 'typed', 'pp1:[{"__proto__":1},{"polluted":true}]', 'counted'],
        ['another format of model', 'model', 'typed', codec.encode({ version: 2, templates: [], transitions: [], mappings: [] }), 'counted'],
        ['a number', 'model', 'typed', 42, 'ignored'],
        ['an object', 'model', 'typed', { version: 1, templates: [], transitions: [], mappings: [] }, 'ignored'],
        ['raw garbage below Keyv', 'model', 'raw', GARBAGE, 'either'],
        [
          'a well-formed model made of __proto__, constructor and prototype names',
          'model',
          'typed',
          codec.encode({
            version: 1,
            templates: [
              { model: '__proto__', operation: 'findMany', shape: '__proto__', paths: ['__proto__'], skeleton: ownProto({ polluted: true }, { constructor: { prototype: { polluted: true } } }) },
              { model: 'constructor', operation: 'findMany', shape: 'constructor', paths: [], skeleton: { prototype: { isAdmin: true } } },
            ],
            transitions: [{ after: [hashText('__proto__')], next: hashText('constructor'), count: 50 }],
            mappings: [{ template: hashText('__proto__'), slots: 1, slot: 0, source: { kind: 'constant', value: ownProto({ polluted: true }) }, held: 9, seen: 9 }],
          }),
          'ignored',
        ],
        ['garbage', 'index', 'typed', GARBAGE, 'ignored'],
        ['a JSON __proto__ object', 'index', 'typed', '{"__proto__":{"polluted":true}}', 'ignored'],
        ['tags that are no tags', 'index', 'typed', JSON.stringify(['../../etc/passwd', 'a b', 5, null, {}, 'x'.repeat(33), tag]), 'ignored'],
        ['a number', 'index', 'typed', 42, 'ignored'],
        ['10,000 well-formed tags', 'index', 'typed', JSON.stringify(Array.from({ length: 10_000 }, (_, i) => `forged-${i}`)), 'ignored'],
        ['raw garbage below Keyv', 'index', 'raw', GARBAGE, 'either'],
      ]
      for (const [name, which, how, value, counts] of forgeries) {
        await backing.keyv.set(INDEX, genuine.index)
        await backing.keyv.set(modelKey, genuine.model)
        const key = which === 'index' ? INDEX : modelKey
        if (how === 'raw') await backing.raw(key, value as string)
        else await backing.keyv.set(key, value)
        const starter = recordingStore(backing.keyv)
        const b = await env.client({ cache: starter.store, learn: { shareIntervalMs: 600_000 }, ...quiet })
        await b.prisma.$prefetch.idle() // the shared models are read
        const store = b.prisma.$prefetch.stats().errors.store
        if (counts === 'counted') expect(store, name).toBe(1)
        if (counts === 'ignored') expect(store, name).toBe(0)
        if (counts === 'either') expect(store, name).toBeLessThanOrEqual(1)
        // Only keys the index names with a valid tag are read, and at most the 16 an index holds.
        const read = starter.requested.flat().filter((k) => k.startsWith('prisma-prefetch:learned:') && k !== INDEX)
        expect(read.length, name).toBeLessThanOrEqual(name.startsWith('10,000') ? 16 : 1)
        expectNoPollution()
        expect(comparable(await userPage(b.prisma, `after-${name}`, rows.alice.email)), name).toStrictEqual(comparable(await userPage(b.bare, 'bare', rows.alice.email)))
        await b.prisma.$prefetch.idle()
        const calls = b.spy.calls.length
        await userPage(b.prisma, `again-${name}`, rows.alice.email)
        expect(reached(b.spy.calls, calls), `${name}: served from the cache`).toBe(0)
        expectNoPollution()
      }
    })

    it('shared learning: a forged model can make a process read, never write, and never exhaust its memory', async () => {
      const backing = await backend.make()
      const canary = await env.bare.tag.create({ data: { name: `canary-${backend.name}` } })
      const trigger = templateOf({ model: 'User', operation: 'findUnique', args: { where: { email: 'x' } } })!
      const posts = templateOf({ model: 'Post', operation: 'findMany', args: { where: { authorId: 1 }, orderBy: { id: 'asc' } } })!
      const forged = (model: string, operation: string, args: object) => ({
        model,
        operation,
        shape: `${model}.${operation}${JSON.stringify(args)}`,
        paths: [],
        skeleton: args,
      })
      const writes = [
        forged('Tag', 'deleteMany', { where: { id: canary.id } }),
        forged('Tag', 'updateMany', { where: { id: canary.id }, data: { name: 'pwned' } }),
        forged('Tag', 'create', { data: { name: 'pwned-create' } }),
        forged('Tag', 'upsert', { where: { id: canary.id }, create: { name: 'pwned-upsert' }, update: { name: 'pwned' } }),
        forged('Tag', 'delete', { where: { id: canary.id } }),
        forged('Nope', 'findMany', {}),
      ]
      const templates = [
        { model: 'User', operation: 'findUnique', shape: trigger.shape, paths: trigger.paths, skeleton: encodeSkeleton(trigger.skeleton) },
        { model: 'Post', operation: 'findMany', shape: posts.shape, paths: posts.paths, skeleton: encodeSkeleton(posts.skeleton) },
      ]
      const after = () => [hashText(trigger.shape)] // a fresh array each time: entries are trees
      // One publisher proposes writes after the user read, with all the support it could have.
      const writer = {
        version: 1,
        templates: [...templates, ...writes],
        transitions: writes.map((t) => ({ after: after(), next: hashText(t.shape), count: 500 })),
        mappings: [],
      }
      // Another brings numbers no process writes: a mapping of 2^31 - 1 slots for a template of
      // one (60 bytes that made a process allocate two billion arrays when it read them, and run
      // out of memory), fractional slots, infinite and enormous counts.
      const numbers = {
        version: 1,
        templates,
        transitions: [
          { after: [hashText(posts.shape)], next: hashText(trigger.shape), count: Infinity },
          { after: [hashText(posts.shape), ...after()], next: hashText(posts.shape), count: Number.MAX_VALUE },
        ],
        mappings: [
          { template: hashText(posts.shape), slots: 2 ** 31 - 1, slot: 0, source: { kind: 'constant', value: 1 }, held: 9, seen: 9 },
          { template: hashText(posts.shape), slots: 1, slot: 0.5, source: { kind: 'constant', value: 1 }, held: 9, seen: 9 },
          { template: hashText(posts.shape), slots: 1, slot: 0, source: { kind: 'constant', value: rows.alice.id }, held: Infinity, seen: Infinity },
          { template: hashText(posts.shape), slots: 1, slot: 0, source: { kind: 'row', lag: 1, template: after()[0], row: 0, field: 'id' }, held: 9, seen: 9 },
        ],
      }
      await backing.keyv.set('prisma-prefetch:learned:index', JSON.stringify(['writer', 'numbers']))
      await backing.keyv.set('prisma-prefetch:learned:writer', codec.encode(writer))
      await backing.keyv.set('prisma-prefetch:learned:numbers', codec.encode(numbers))
      const b = await env.client({ cache: backing.keyv, maxPerTrigger: 10, minProbability: 0.1, learn: { shareIntervalMs: 600_000 }, ...quiet })
      await b.prisma.$prefetch.idle()
      // The reads were adopted, the writes refused: the forged model holds no write to propose.
      expect(b.prisma.$prefetch.model().transitions.filter((t) => /^\w+\.(create|update|upsert|delete)/.test(t.next))).toEqual([])
      const tagsBefore = await env.bare.tag.findMany({ orderBy: { id: 'asc' } })
      for (let i = 0; i < 3; i++) {
        const page = await userPage(b.prisma, `victim-${i}`, i % 2 ? rows.alice.email : rows.bob.email)
        expect(comparable(page)).toStrictEqual(comparable(await userPage(b.bare, 'bare', i % 2 ? rows.alice.email : rows.bob.email)))
        await b.prisma.$prefetch.idle()
      }
      // Nothing was written: the canary is there, unchanged, and no tag was added.
      expect(await env.bare.tag.findMany({ orderBy: { id: 'asc' } })).toStrictEqual(tagsBefore)
      expect(await env.bare.tag.findUnique({ where: { id: canary.id } })).toStrictEqual(canary)
      expectNoPollution()
    })

    // KNOWN LIMITATION, kept as a failing expectation (it.fails passes while the limitation holds):
    // tokens are opaque strings, and a token that comes back is taken as current. Writing the old
    // token back (a forger, or a store restored from a snapshot or failed over to a lagging
    // replica) makes the entry cached under it valid again, and it is served although a write
    // through the extension completed after it was cached.
    it.fails('generations: the token from before a write, written back, never makes the stale entry valid again', async () => {
      const s = await cached()
      const tagRead = (c: any) => c.tag.findUnique({ where: { id: rows.tags[2].id } })
      await tagRead(s.c.prisma)
      await s.c.prisma.$prefetch.idle()
      // Every token the read depends on; a row's token before its first write is no token at
      // all, and writing it back is deleting it.
      const keys = ['prisma-prefetch:gen:Tag#rows', `prisma-prefetch:gen:Tag#id=${rows.tags[2].id}`]
      const old = await Promise.all(keys.map((key) => s.keyv.get(key)))
      await s.c.prisma.tag.update({ where: { id: rows.tags[2].id }, data: { name: `rollback-${Math.random()}` } })
      for (const [i, key] of keys.entries()) {
        if (old[i] === undefined) await s.keyv.delete(key)
        else await s.keyv.set(key, old[i])
      }
      expect(await tagRead(s.c.prisma)).toStrictEqual(await tagRead(s.c.bare))
    })
  })
}

describeForgedStore(memoryBackend)
const redisService = await redis()
describeWith(redisService, 'Redis', () => describeForgedStore(redisBackend))

// ---------------------------------------------------------------------------------------------
// 4. Scope isolation
// ---------------------------------------------------------------------------------------------

describe('scopes never see each other’s cache', () => {
  /** Trainees: users outside the seed with two posts each, for training sessions. */
  const trainees: { id: number; email: string }[] = []
  beforeAll(async () => {
    for (let i = 0; i < 6; i++) {
      trainees.push(
        await env.bare.user.create({
          data: { email: `scope-trainee${i}@example.com`, posts: { create: [{ title: `s${i} a` }, { title: `s${i} b` }] } },
          select: { id: true, email: true },
        }),
      )
    }
  })

  const reads: Array<[string, (c: any) => Promise<unknown>]> = [
    ['findUnique', (c) => c.user.findUnique({ where: { id: rows.bob.id }, include: { profile: true } })],
    ['findMany', (c) => c.post.findMany({ where: { authorId: rows.bob.id }, orderBy: { id: 'asc' }, include: { tags: true } })],
    ['count', (c) => c.comment.count({ where: { authorId: rows.alice.id } })],
    ['aggregate', (c) => c.post.aggregate({ _sum: { views: true }, _max: { price: true } })],
    ['groupBy', (c) => c.post.groupBy({ by: ['authorId'], _count: { _all: true }, orderBy: { authorId: 'asc' } })],
  ]

  it('with a scope function over sessions: a result cached for one user is never served to another, whatever the user ids look like', async () => {
    const c = await env.client({ scope: (context) => (context.userId === undefined ? undefined : `user:${context.userId}`), learn: false })
    // Ids chosen to collide under a naive concatenation of scope and key. (An empty id is no user:
    // the request runs outside any session, test/integration/sessions.test.ts.)
    const users = ['ann', 'Ann', 'ann ', ' ', '|', '0:', 'a|1:b', 'ann|findMany', '\u0000', 'user:ann', '💥'.repeat(100)]
    let n = 0
    const as = (user: string | undefined, read: (x: any) => Promise<unknown>) =>
      user === undefined ? read(c.prisma) : c.prisma.$prefetch.session(`scoped-${n++}`, () => read(c.prisma), { userId: user })
    for (const [name, read] of reads) {
      const expected = comparable(await read(c.bare))
      for (const pass of ['first', 'second']) {
        for (const user of [...users, undefined]) {
          const before = c.spy.calls.length
          expect(comparable(await as(user, read)), `${name} for ${JSON.stringify(user)}`).toStrictEqual(expected)
          // Each user's first read goes to the database, the second is their own hit.
          expect(reached(c.spy.calls, before), `${name}, ${pass} read for ${JSON.stringify(user)}`).toBe(pass === 'first' ? 1 : 0)
        }
      }
    }
  })

  describeWith(redisService, 'Redis', () => it('with string scopes on clients sharing one Redis: one tenant never reads another’s entries; the same tenant does', async () => {
    const made = () => redisBackend.make()
    const backing = await made()
    const clients = await Promise.all(
      ['tenant-1', 'tenant-2', 'tenant-1', 'tenant-1 ', '8:tenant-1', ''].map((scope) => env.client({ cache: backing.keyv, scope, learn: false })),
    )
    for (const [name, read] of reads) {
      const expected = comparable(await read(env.bare))
      const counts: number[] = []
      for (const c of clients) {
        const before = c.spy.calls.length
        expect(comparable(await read(c.prisma)), name).toStrictEqual(expected)
        await c.prisma.$prefetch.idle() // its entry is in Redis now
        counts.push(reached(c.spy.calls, before))
      }
      // Only the second 'tenant-1' client was served from the store, by the first one's entry.
      expect(counts, name).toEqual([1, 1, 0, 1, 1, 1])
    }
    const entries = (await backing.keys()).filter((key) => key.startsWith('prisma-prefetch:entry:'))
    expect(entries).toHaveLength(reads.length * 5)
  }))

  it('rows answered from a cached list stay in the list’s scope', async () => {
    const c = await env.client({ scope: (context) => context.userId, learn: false })
    let n = 0
    const as = (user: string, read: () => Promise<unknown>) => c.prisma.$prefetch.session(`rows-${n++}`, read, { userId: user })
    await as('ann', () => c.prisma.user.findMany({ orderBy: { id: 'asc' } }))
    for (const user of [rows.alice, rows.bob]) {
      const before = c.spy.calls.length
      const expected = comparable(await c.bare.user.findUnique({ where: { id: user.id } }))
      expect(comparable(await as('bob', () => c.prisma.user.findUnique({ where: { id: user.id } })))).toStrictEqual(expected)
      expect(comparable(await as('ann-x', () => c.prisma.user.findUnique({ where: { email: user.email } })))).toStrictEqual(
        comparable(await c.bare.user.findUnique({ where: { email: user.email } })),
      )
      expect(reached(c.spy.calls, before)).toBe(2) // neither bob nor 'ann-x' got ann's list
      const own = c.spy.calls.length
      expect(comparable(await as('ann', () => c.prisma.user.findUnique({ where: { id: user.id } })))).toStrictEqual(expected)
      expect(reached(c.spy.calls, own)).toBe(0) // ann's own read is answered from her list
    }
  })

  /** Trains a client on user pages (user by email, then their posts) and on list-then-detail browsing. */
  async function trained(options: Parameters<typeof env.client>[0]) {
    const c = await env.client(options)
    for (const [i, trainee] of trainees.entries()) {
      await c.prisma.$prefetch.session(`train-${i}`, () => userPage(c.prisma, `train-page-${i}`, trainee.email), { userId: 'trainer' })
    }
    await c.prisma.$prefetch.idle()
    await c.prisma.$prefetch.invalidate() // nothing cached: what follows is prediction at work
    c.prisma.$prefetch.resetStats()
    return c
  }
  const postsOf = (prisma: any, authorId: number) => prisma.post.findMany({ where: { authorId }, orderBy: { id: 'asc' } })

  it('a speculative result fetched for one user’s session is never served to another user', async () => {
    const c = await trained({ scope: (context) => context.userId })
    let n = 0
    const as = <T>(user: string, read: () => Promise<T>) => c.prisma.$prefetch.session(`spec-${n++}`, read, { userId: user })
    await as('ann', async () => {
      await c.prisma.user.findUnique({ where: { email: rows.alice.email } })
      await c.prisma.$prefetch.idle() // alice's posts are prefetched, for ann
    })
    expect(c.prisma.$prefetch.stats().prefetch.completed).toBeGreaterThan(0)
    const expected = comparable(await postsOf(c.bare, rows.alice.id))
    const before = c.spy.calls.length
    expect(comparable(await as('bob', () => postsOf(c.prisma, rows.alice.id)))).toStrictEqual(expected)
    expect(reached(c.spy.calls, before)).toBe(1)
    expect(c.prisma.$prefetch.stats().prefetchHits).toBe(0)
    const own = c.spy.calls.length
    expect(comparable(await as('ann', () => postsOf(c.prisma, rows.alice.id)))).toStrictEqual(expected)
    expect(reached(c.spy.calls, own)).toBe(0) // the prefetch was there, for ann
    expect(c.prisma.$prefetch.stats().prefetchHits).toBe(1)
  })

  it('a speculative read queued for one session and started when another’s finishes is kept in its own session’s scope', async () => {
    // One speculative read at a time: bob's waits in the queue while ann's runs, and starts when
    // ann's finishes, from the code that finished it.
    const c = await trained({ scope: (context) => context.userId, concurrency: { global: 1, perSession: 1 } })
    let n = 0
    const as = <T>(user: string, read: () => Promise<T>) => c.prisma.$prefetch.session(`queued-${n++}`, read, { userId: user })
    // Both users' own rows are cached (warm() runs in the caller's session), so both reads below
    // are hits: they complete together, and both predict their posts at once.
    await as('ann', () => c.prisma.$prefetch.warm({ model: 'User', operation: 'findUnique', args: { where: { email: rows.alice.email } } }))
    await as('bob', () => c.prisma.$prefetch.warm({ model: 'User', operation: 'findUnique', args: { where: { email: rows.bob.email } } }))
    await Promise.all([
      as('ann', () => c.prisma.user.findUnique({ where: { email: rows.alice.email } })),
      as('bob', () => c.prisma.user.findUnique({ where: { email: rows.bob.email } })),
    ])
    await c.prisma.$prefetch.idle()
    expect(c.prisma.$prefetch.stats().byStrategy.transitions).toMatchObject({ completed: 2 })
    for (const [user, author, other] of [['bob', rows.bob, 'ann'], ['ann', rows.alice, 'bob']] as const) {
      const expected = comparable(await postsOf(c.bare, author.id))
      const before = c.spy.calls.length
      expect(comparable(await as(other, () => postsOf(c.prisma, author.id)))).toStrictEqual(expected)
      expect(reached(c.spy.calls, before), `${other} must not get what was fetched for ${user}`).toBe(1)
      const own = c.spy.calls.length
      expect(comparable(await as(user, () => postsOf(c.prisma, author.id)))).toStrictEqual(expected)
      expect(reached(c.spy.calls, own), `${user} gets what was fetched for them`).toBe(0)
    }
  })

  it('rows fanned out from a list for one user are never served to another', async () => {
    const c = await env.client({ scope: (context) => context.userId, learn: { maxFanOut: 6 } })
    const list = { where: { published: true }, select: { id: true, title: true }, orderBy: { id: 'asc' as const }, take: 10 }
    const detail = (id: number) => ({ where: { id }, include: { author: true, tags: true } })
    for (let s = 0; s < 8; s++) {
      await c.prisma.$prefetch.session(`browse-${s}`, async () => {
        const posts = await c.prisma.post.findMany(list)
        await c.prisma.post.findUnique(detail(posts[(s * 3) % posts.length].id))
      }, { userId: 'trainer' })
    }
    await c.prisma.$prefetch.idle()
    await c.prisma.$prefetch.invalidate()
    c.prisma.$prefetch.resetStats()
    const listed = await c.prisma.$prefetch.session('browse-ann', async () => {
      const posts = await c.prisma.post.findMany(list)
      await c.prisma.$prefetch.idle() // the details of the first six are fetched in one batch, for ann
      return posts
    }, { userId: 'ann' })
    expect(c.prisma.$prefetch.stats().byStrategy.fanOut).toMatchObject({ completed: 1 })
    const before = c.spy.calls.length
    for (const post of listed.slice(0, 6)) {
      await c.prisma.$prefetch.session('browse-bob', async () => {
        expect(comparable(await c.prisma.post.findUnique(detail(post.id)))).toStrictEqual(comparable(await c.bare.post.findUnique(detail(post.id))))
      }, { userId: 'bob' })
    }
    expect(reached(c.spy.calls, before, 'findUnique')).toBe(6)
    const own = c.spy.calls.length
    await c.prisma.$prefetch.session('browse-ann-2', async () => {
      for (const post of listed.slice(0, 6)) await c.prisma.post.findUnique(detail(post.id))
    }, { userId: 'ann' })
    expect(reached(c.spy.calls, own, 'findUnique')).toBe(0)
  })
})
