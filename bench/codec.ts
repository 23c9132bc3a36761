/**
 * Which serializer should carry Prisma results into a keyv store (strings), and how fast is the
 * in-process deep copy? Run with `npx tsx bench/codec.ts`.
 *
 * Every candidate is configured as well as its own extension points allow (superjson
 * registerCustom, msgpackr addExtension, devalue reducers/revivers); msgpackr, the fastest, is
 * also shown made correct by hand with a pre/post pass, to price what the rule gives up. Then each:
 *  - round-trips a set of single-feature cases and is checked strictly (types, prototypes, -0,
 *    own `__proto__` keys, Uint8Array not Buffer, null versus absent);
 *  - is asked to decode a forged payload that would revive a foreign type (Map, RegExp...);
 *  - is timed on three realistic payloads, all candidates side by side in each repetition,
 *    reporting medians.
 */
import { Decimal } from '@prisma/client-runtime-utils'
import * as devalue from 'devalue'
import { addExtension, Packr } from 'msgpackr'
import SuperJSON from 'superjson'
import { cloneResult } from '../src/cache/clone.ts'
import { createCodec, type Codec, type DecimalSupport } from '../src/cache/codec.ts'

const decimalSupport: DecimalSupport = {
  isDecimal: (value) => value instanceof Decimal,
  fromString: (text) => new Decimal(text),
}

// ---------------------------------------------------------------- candidates

interface Candidate {
  name: string
  codec: Codec
  /** A payload in this library's own format that revives something no Prisma result holds. */
  forged: () => string
}

function superjsonCandidate(): Candidate {
  const sj = new SuperJSON()
  sj.registerCustom<Decimal, string>(
    { isApplicable: (v): v is Decimal => v instanceof Decimal, serialize: (v) => v.toString(), deserialize: (v) => new Decimal(v) },
    'Decimal',
  )
  // Custom rules run before superjson's typed-array rule (which writes a JSON array of numbers
  // and, for a Buffer, the type name "Buffer").
  sj.registerCustom<Uint8Array, string>(
    {
      isApplicable: (v): v is Uint8Array => v instanceof Uint8Array,
      serialize: (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'),
      deserialize: (v) => new Uint8Array(Buffer.from(v, 'base64')),
    },
    'Bytes',
  )
  return {
    name: 'superjson 2.2 + registerCustom',
    codec: {
      encode: (value) => 'pp1:' + sj.stringify(value),
      decode: (text) => sj.parse(text.slice(4)),
    },
    forged: () => 'pp1:' + sj.stringify({ map: new Map([['a', 1]]), re: /x/ }),
  }
}

function msgpackrCandidate(): Candidate {
  // Records (shared key lists) make repeated row shapes compact and fast to read.
  const packr = new Packr({ useRecords: true, moreTypes: true })
  // addExtension is process-wide and matches by class, so the Decimal class itself is needed
  // here; src/cache only gets an isDecimal predicate, which msgpackr has no hook for.
  addExtension({
    Class: Decimal,
    type: 0x44,
    write: (value: Decimal) => value.toString(),
    read: (text: string) => new Decimal(text),
  })
  return {
    name: 'msgpackr 1.12 + addExtension, base64',
    codec: {
      encode: (value) => 'pp1:' + packr.pack(value).toString('base64'),
      decode: (text) => packr.unpack(Buffer.from(text.slice(4), 'base64')),
    },
    forged: () => 'pp1:' + new Packr({ moreTypes: true }).pack({ set: new Set([1]), re: /x/ }).toString('base64'),
  }
}

/**
 * Not a candidate by the rule (its extension points cannot make it correct), but the fastest
 * library here, so: what would msgpackr cost made correct by hand? An encode pre-pass copies the
 * tree, boxing what msgpackr cannot carry (-0, own `__proto__` keys, a Decimal known only by a
 * predicate) into private classes that addExtension handles; a decode post-pass walks the result
 * to refuse foreign types and shared references, since msgpackr's built-in Set/RegExp/Error/typed
 * array/reference extensions can only be turned off process-wide.
 */
class NegativeZero {}
class DecimalBox {
  constructor(readonly text: string) {}
}
class KeyedBox {
  constructor(readonly entries: unknown[]) {}
}
function boxed(value: unknown): unknown {
  if (typeof value === 'number') return Object.is(value, -0) ? new NegativeZero() : value
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map(boxed)
  if (Object.getPrototypeOf(value) === Object.prototype) {
    if (Object.hasOwn(value, '__proto__')) {
      return new KeyedBox(Object.keys(value).flatMap((key) => [key, boxed((value as Record<string, unknown>)[key])]))
    }
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) out[key] = boxed((value as Record<string, unknown>)[key])
    return out
  }
  if (decimalSupport.isDecimal(value)) return new DecimalBox(String((value as Decimal).valueOf()))
  return value
}
function resultShaped(value: unknown, seen: Set<object>): void {
  if (typeof value !== 'object' || value === null) return
  const proto = Object.getPrototypeOf(value)
  if (proto === Date.prototype || proto === Uint8Array.prototype || value instanceof Decimal) return
  if (proto !== Object.prototype && proto !== Array.prototype) throw new Error('foreign type')
  if (seen.has(value)) throw new Error('not a tree')
  seen.add(value)
  for (const key of Object.keys(value)) resultShaped((value as Record<string, unknown>)[key], seen)
}
function msgpackrPrepassCandidate(): Candidate {
  const packr = new Packr({ useRecords: true, moreTypes: true, structuredClone: false })
  addExtension({ Class: NegativeZero, type: 0x50, write: () => 0, read: () => -0 })
  addExtension({ Class: DecimalBox, type: 0x51, write: (box: DecimalBox) => box.text, read: (text: string) => new Decimal(text) })
  addExtension({
    Class: KeyedBox,
    type: 0x52,
    write: (box: KeyedBox) => box.entries,
    read: (entries: unknown[]) => {
      const object = {}
      for (let i = 0; i < entries.length; i += 2) {
        Object.defineProperty(object, entries[i] as string, { value: entries[i + 1], writable: true, enumerable: true, configurable: true })
      }
      return object
    },
  })
  return {
    name: 'msgpackr + pre/post pass, base64 (by hand, not chosen)',
    codec: {
      encode: (value) => 'pp1:' + packr.pack(boxed(value)).toString('base64'),
      decode: (text) => {
        const value = packr.unpack(Buffer.from(text.slice(4), 'base64'))
        resultShaped(value, new Set())
        return value
      },
    },
    forged: () => 'pp1:' + new Packr({ moreTypes: true }).pack({ set: new Set([1]), re: /x/ }).toString('base64'),
  }
}

function devalueCandidate(): Candidate {
  return {
    name: 'devalue 5.9 + reducers/revivers (src/cache/codec.ts)',
    codec: createCodec(decimalSupport),
    forged: () => 'pp1:' + devalue.stringify({ map: new Map([['a', 1]]), re: /x/ }),
  }
}

function jsonCandidate(): Candidate {
  return {
    name: 'JSON.stringify/parse (reference only, loses types)',
    codec: {
      encode: (value) => 'pp1:' + JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v)),
      decode: (text) => JSON.parse(text.slice(4)),
    },
    forged: () => 'pp1:{}',
  }
}

const candidates = [superjsonCandidate(), msgpackrCandidate(), msgpackrPrepassCandidate(), devalueCandidate(), jsonCandidate()]

// ---------------------------------------------------------------- strict comparison

/** The first difference between `a` (sent) and `b` (received), or undefined if none. */
function difference(a: unknown, b: unknown, path = '$'): string | undefined {
  if (typeof a !== typeof b) return `${path}: ${typeof a} became ${typeof b}`
  if (typeof a !== 'object' || a === null || b === null) {
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} became ${String(b)}`
  }
  const pa = Object.getPrototypeOf(a)
  const pb = Object.getPrototypeOf(b)
  if (pa !== pb) return `${path}: ${pa?.constructor?.name ?? 'null-prototype'} became ${pb?.constructor?.name ?? 'null-prototype'}`
  // valueOf, unlike toString, keeps the sign of a zero.
  if (a instanceof Decimal) return a.valueOf() === (b as Decimal).valueOf() ? undefined : `${path}: Decimal ${a.valueOf()} became ${(b as Decimal).valueOf()}`
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime()) ? undefined : `${path}: Date changed`
  if (a instanceof Uint8Array) return Buffer.compare(a, b as Uint8Array) === 0 ? undefined : `${path}: bytes changed`
  const ka = Object.keys(a)
  const kb = Object.keys(b as object)
  if (ka.length !== kb.length || ka.some((key) => !Object.hasOwn(b as object, key))) {
    return `${path}: keys [${ka.join(',')}] became [${kb.join(',')}]`
  }
  for (const key of ka) {
    const found = difference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`)
    if (found) return found
  }
  return undefined
}

// ---------------------------------------------------------------- feature cases

const cases: Record<string, () => unknown> = {
  Date: () => ({ epoch: new Date(0), far: new Date('9999-12-31T23:59:59.999Z'), old: new Date(-62_135_596_800_000) }),
  BigInt: () => ({ max: 9_223_372_036_854_775_807n, min: -9_223_372_036_854_775_808n, small: 1n }),
  Decimal: () => ({ big: new Decimal('12345678901234567890.123456789'), neg: new Decimal('-0.000000001'), zero: new Decimal(0), nan: new Decimal(NaN) }),
  'Uint8Array (not Buffer)': () => ({ bytes: new Uint8Array([0, 1, 254, 255]), empty: new Uint8Array(0) }),
  'Float -0': () => ({ f: -0 }),
  'NaN/±Infinity': () => ({ nan: NaN, inf: Infinity, ninf: -Infinity }),
  'Json own __proto__': () => ({ json: JSON.parse('{"__proto__":{"polluted":1},"a":[1,{"__proto__":null}]}') }),
  'Json constructor/prototype': () => ({ json: JSON.parse('{"constructor":{"prototype":{"x":1}},"prototype":2}') }),
  'Json strings/arrays/empties': () => ({
    json: JSON.parse('{"d":"2024-01-01T00:00:00.000Z","n":"12","b":"true","nested":[[1,[2,[]]],{}],"nul":null}'),
  }),
  'null vs absent, relations': () => ({ a: null, rel: { b: null, list: [{ c: 1 }, {}] }, empty: [] }),
}

function check(candidate: Candidate): { failures: string[]; forgedRefused: boolean } {
  const failures: string[] = []
  for (const [name, make] of Object.entries(cases)) {
    const value = make()
    let problem: string | undefined
    try {
      problem = difference(value, candidate.codec.decode(candidate.codec.encode(value)))
    } catch (error) {
      problem = `throws: ${(error as Error).message.slice(0, 70)}`
    }
    if (problem) failures.push(`${name} (${problem})`)
  }
  let forgedRefused: boolean
  try {
    const decoded = candidate.codec.decode(candidate.forged()) as Record<string, unknown>
    forgedRefused = !Object.values(decoded).some((v) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype)
  } catch {
    forgedRefused = true
  }
  if (({} as Record<string, unknown>).polluted !== undefined) failures.push('POLLUTED Object.prototype')
  return { failures, forgedRefused }
}

// ---------------------------------------------------------------- realistic payloads

let seed = 42
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
  return seed / 2_147_483_648
}
function word(length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += String.fromCharCode(97 + Math.floor(random() * 26))
  return out
}
function bytes(length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256)
  return out
}

/** A row of 12 columns of mixed types, as Prisma 7 returns it. */
function userRow(id: number): Record<string, unknown> {
  return {
    id,
    publicId: `${word(8)}-${word(4)}-${word(4)}-${word(4)}-${word(12)}`,
    email: `${word(8)}@${word(6)}.com`,
    name: `${word(6)} ${word(9)}`,
    active: random() > 0.3,
    rating: Math.round(random() * 5000) / 1000,
    balance: new Decimal((random() * 100_000).toFixed(2)),
    visits: BigInt(Math.floor(random() * 1e12)),
    createdAt: new Date(1_600_000_000_000 + Math.floor(random() * 1e11)),
    deletedAt: random() > 0.8 ? new Date(1_700_000_000_000) : null,
    avatarHash: bytes(16),
    settings: { theme: random() > 0.5 ? 'dark' : 'light', notifications: { email: true, sms: false }, tags: [word(5), word(7)] },
  }
}

function postRow(id: number, authorId: number): Record<string, unknown> {
  return {
    id,
    authorId,
    title: `${word(7)} ${word(5)} ${word(9)}`,
    body: Array.from({ length: 16 }, () => word(6)).join(' '),
    published: random() > 0.5,
    score: random() * 100,
    createdAt: new Date(1_650_000_000_000 + Math.floor(random() * 1e10)),
  }
}

const payloads: Array<{ name: string; value: unknown; iterations: number }> = [
  { name: '1 row × 12 cols', value: userRow(1), iterations: 2_000 },
  {
    name: '20 rows + 3 related each',
    value: Array.from({ length: 20 }, (_, i) => ({ ...userRow(i), posts: [0, 1, 2].map((j) => postRow(i * 3 + j, i)) })),
    iterations: 100,
  },
  { name: '200 rows × 12 cols', value: Array.from({ length: 200 }, (_, i) => userRow(i)), iterations: 30 },
]

// ---------------------------------------------------------------- timing

const REPETITIONS = 15

function perOpMicros(iterations: number, run: () => void): number {
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) run()
  return Number(process.hrtime.bigint() - start) / 1000 / iterations
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function format(micros: number): string {
  return micros >= 100 ? micros.toFixed(0) : micros >= 10 ? micros.toFixed(1) : micros.toFixed(2)
}

let sink = 0

function withoutDecimals(value: unknown): unknown {
  if (value instanceof Decimal) return value.toString()
  if (Array.isArray(value)) return value.map(withoutDecimals)
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutDecimals(v)]))
  }
  return value
}

function main(): void {
  console.log(`Node ${process.version}, ${REPETITIONS} repetitions, medians; times in µs per operation\n`)

  console.log('## Correctness (each candidate configured through its own extension points)\n')
  console.log('| candidate | round-trips | fails | forged foreign type refused |')
  console.log('| --- | --- | --- | --- |')
  for (const candidate of candidates) {
    const { failures, forgedRefused } = check(candidate)
    const total = Object.keys(cases).length
    console.log(
      `| ${candidate.name} | ${total - failures.length}/${total} | ${failures.length ? failures.join('; ') : '—'} | ${forgedRefused ? 'yes' : 'NO'} |`,
    )
  }

  console.log('\n## Speed and size\n')
  console.log('| payload | candidate | encode µs | decode µs | encoded bytes |')
  console.log('| --- | --- | ---: | ---: | ---: |')
  for (const payload of payloads) {
    const encodeTimes = candidates.map(() => [] as number[])
    const decodeTimes = candidates.map(() => [] as number[])
    const encoded = candidates.map((c) => c.codec.encode(payload.value))
    // Warm-up, so that the JIT has settled for every candidate before anything is measured.
    for (const [i, c] of candidates.entries()) perOpMicros(payload.iterations, () => (sink += c.codec.decode(c.codec.encode(payload.value)) ? 1 : 0) && i)
    for (let rep = 0; rep < REPETITIONS; rep++) {
      // Side by side: every candidate runs in every repetition, in a rotating order.
      for (let k = 0; k < candidates.length; k++) {
        const i = (k + rep) % candidates.length
        const c = candidates[i]
        encodeTimes[i].push(perOpMicros(payload.iterations, () => (sink += c.codec.encode(payload.value).length)))
        decodeTimes[i].push(perOpMicros(payload.iterations, () => (sink += c.codec.decode(encoded[i]) ? 1 : 0)))
      }
    }
    for (const [i, c] of candidates.entries()) {
      console.log(
        `| ${payload.name} | ${c.name} | ${format(median(encodeTimes[i]))} | ${format(median(decodeTimes[i]))} | ${Buffer.byteLength(encoded[i])} |`,
      )
    }
  }

  console.log('\n## In-process copy (serving from L1)\n')
  console.log('structuredClone cannot copy a Decimal (DataCloneError), so both copiers are also timed on the')
  console.log('same payloads with every Decimal replaced by its string.\n')
  const copiers: Array<{ name: string; run: (value: unknown) => unknown }> = [
    { name: 'cloneResult', run: (v) => cloneResult(v, decimalSupport) },
    { name: 'structuredClone', run: (v) => structuredClone(v) },
  ]
  console.log('| payload | copier | µs | µs, Decimals as strings | same types |')
  console.log('| --- | --- | ---: | ---: | --- |')
  for (const payload of payloads) {
    const variants = [payload.value, withoutDecimals(payload.value)]
    const times = copiers.map(() => variants.map(() => [] as number[]))
    const usable = copiers.map((c) => variants.map((v) => {
      try {
        c.run(v)
        return true
      } catch {
        return false
      }
    }))
    for (let rep = 0; rep < REPETITIONS + 1; rep++) {
      for (let k = 0; k < copiers.length; k++) {
        const i = (k + rep) % copiers.length
        for (const [j, v] of variants.entries()) {
          if (!usable[i][j]) continue
          const micros = perOpMicros(payload.iterations, () => (sink += copiers[i].run(v) ? 1 : 0))
          if (rep > 0) times[i][j].push(micros) // repetition 0 is the warm-up
        }
      }
    }
    for (const [i, c] of copiers.entries()) {
      let problem: string | undefined
      try {
        problem = difference(payload.value, c.run(payload.value))
      } catch (error) {
        problem = `throws ${(error as Error).name}`
      }
      const cell = (j: number) => (usable[i][j] ? format(median(times[i][j])) : 'throws')
      console.log(`| ${payload.name} | ${c.name} | ${cell(0)} | ${cell(1)} | ${problem ? `no: ${problem}` : 'yes'} |`)
    }
  }
  if (sink === -1) console.log(sink)
}

main()
