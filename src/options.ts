import type { ErrorContext, KeyvLike, ModelOptions, PrefetchOptions, ReadOperation, ScopeContext } from './types.ts'

export const READ_OPERATIONS: readonly ReadOperation[] = [
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'findMany',
  'count',
  'aggregate',
  'groupBy',
]

/** Options with every default filled in; what the rest of the code reads. */
export interface ResolvedOptions {
  cache: KeyvLike | undefined
  l1: { maxEntries: number; maxBytes: number } | false
  ttl: number
  readThrough: boolean
  storeTimeout: number
  models: Map<string, ResolvedModelOptions>
  scope: (context: ScopeContext) => string
  onError: (error: unknown, context: ErrorContext) => void
  now: () => number
}

export interface ResolvedModelOptions {
  cache: boolean
  ttl: number
  operations: ReadonlySet<string>
}

export const DEFAULTS = {
  l1: { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 },
  ttl: 60_000,
  readThrough: true,
  storeTimeout: 250,
} as const

const KNOWN_OPTIONS = new Set(['cache', 'l1', 'ttl', 'readThrough', 'storeTimeout', 'models', 'scope', 'onError', 'now'])

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`
  if (value === null || typeof value !== 'object') return String(value)
  try {
    const text = JSON.stringify(value)
    return text.length > 80 ? `${text.slice(0, 77)}...` : text
  } catch {
    return Object.prototype.toString.call(value)
  }
}

function fail(name: string, expectation: string, value: unknown): never {
  throw new TypeError(`prisma-prefetch: ${name} must be ${expectation}: ${show(value)}`)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    fail(name, 'a positive integer', value)
  }
  return value
}

function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(name, 'a boolean', value)
  return value
}

function getValidCache(value: unknown): KeyvLike | undefined {
  if (value === undefined) return undefined
  const store = value as Record<string, unknown>
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof store.get !== 'function' ||
    typeof store.set !== 'function' ||
    typeof store.delete !== 'function'
  ) {
    fail('cache', 'a Keyv instance (an object with get, set and delete methods)', value)
  }
  return value as KeyvLike
}

function getValidL1(value: unknown): ResolvedOptions['l1'] {
  if (value === undefined) return { ...DEFAULTS.l1 }
  if (value === false) return false
  if (!isPlainObject(value)) fail('l1', 'false or an object { maxEntries, maxBytes }', value)
  for (const key of Object.keys(value)) {
    if (key !== 'maxEntries' && key !== 'maxBytes') fail(`l1.${key}`, 'one of maxEntries, maxBytes (unknown option)', value[key])
  }
  return {
    maxEntries: value.maxEntries === undefined ? DEFAULTS.l1.maxEntries : positiveInteger('l1.maxEntries', value.maxEntries),
    maxBytes: value.maxBytes === undefined ? DEFAULTS.l1.maxBytes : positiveInteger('l1.maxBytes', value.maxBytes),
  }
}

function getValidModels(value: unknown, ttl: number): Map<string, ResolvedModelOptions> {
  const models = new Map<string, ResolvedModelOptions>()
  if (value === undefined) return models
  if (!isPlainObject(value)) fail('models', 'an object keyed by model name', value)
  for (const [model, setting] of Object.entries(value)) {
    const name = `models.${model}`
    if (setting === false) {
      models.set(model, { cache: false, ttl, operations: new Set() })
      continue
    }
    if (!isPlainObject(setting)) fail(name, 'false or an object { ttl, cache, operations }', setting)
    const options = setting as ModelOptions
    for (const key of Object.keys(options)) {
      if (key !== 'ttl' && key !== 'cache' && key !== 'operations') {
        fail(`${name}.${key}`, 'one of ttl, cache, operations (unknown option)', (options as Record<string, unknown>)[key])
      }
    }
    let operations: ReadonlySet<string> = new Set(READ_OPERATIONS)
    if (options.operations !== undefined) {
      if (!Array.isArray(options.operations) || options.operations.some((op) => !READ_OPERATIONS.includes(op))) {
        fail(`${name}.operations`, `an array of read operations (${READ_OPERATIONS.join(', ')})`, options.operations)
      }
      operations = new Set(options.operations)
    }
    models.set(model, {
      cache: options.cache === undefined ? true : boolean(`${name}.cache`, options.cache),
      ttl: options.ttl === undefined ? ttl : positiveInteger(`${name}.ttl`, options.ttl),
      operations,
    })
  }
  return models
}

function getValidScope(value: unknown): ResolvedOptions['scope'] {
  if (value === undefined) return () => ''
  if (typeof value === 'string') return () => value
  if (typeof value !== 'function') fail('scope', 'a string or a function returning one', value)
  const scopeOf = value as (context: ScopeContext) => string | undefined
  return (context) => {
    const scope = scopeOf(context)
    if (scope === undefined) return ''
    if (typeof scope !== 'string') fail('scope()', 'a string or undefined', scope)
    return scope
  }
}

function getValidFunction<T>(name: string, value: unknown, fallback: T): T {
  if (value === undefined) return fallback
  if (typeof value !== 'function') fail(name, 'a function', value)
  return value as T
}

/** Validates `options` once and fills in every default. Throws a TypeError naming a bad option. */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined) options = {}
  if (!isPlainObject(options)) fail('options', 'an object', options)
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) fail(key, `a known option (${[...KNOWN_OPTIONS].join(', ')})`, options[key])
  }
  const o = options as PrefetchOptions
  const cache = getValidCache(o.cache)
  const l1 = getValidL1(o.l1)
  if (l1 === false && cache === undefined) fail('l1', 'enabled when no cache store is given', o.l1)
  const ttl = o.ttl === undefined ? DEFAULTS.ttl : positiveInteger('ttl', o.ttl)
  return {
    cache,
    l1,
    ttl,
    readThrough: o.readThrough === undefined ? DEFAULTS.readThrough : boolean('readThrough', o.readThrough),
    storeTimeout: o.storeTimeout === undefined ? DEFAULTS.storeTimeout : positiveInteger('storeTimeout', o.storeTimeout),
    models: getValidModels(o.models, ttl),
    scope: getValidScope(o.scope),
    onError: getValidFunction('onError', o.onError, () => {}),
    now: getValidFunction('now', o.now, Date.now),
  }
}

/** Checks model names in `models` against the client's models (when the extension is applied). */
export function checkModelNames(resolved: ResolvedOptions, clientModels: readonly string[]): void {
  for (const model of resolved.models.keys()) {
    if (!clientModels.includes(model)) {
      fail(`models.${model}`, `the name of a model of this client (${clientModels.join(', ')})`, model)
    }
  }
}
