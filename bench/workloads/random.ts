/**
 * The benchmark's seeded pseudo-random numbers.
 *
 * A small xoshiro128** generator (Blackman and Vigna), seeded through splitmix32, written here
 * rather than imported: `pure-rand` (which fast-check uses) would do, but it is only a transitive
 * dependency of fast-check, not one this project declares, and the benchmark must not break when
 * fast-check changes what it pulls in. xoshiro128** has a 2^128 - 1 period and passes the usual
 * statistical test batteries, which is more than a workload generator needs; it is 30 lines.
 *
 * Every random choice of the benchmark comes from an `Rng` derived from the run's seed and a
 * name (`Rng.derive(seed, 'tpcw-browsing', 'session', 17)`), so one session's choices never
 * depend on how many numbers another session drew: the same seed gives the same sessions, page
 * parameters and data whatever the order or concurrency they run in.
 */
export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  /** @param seed any integer; the four state words are expanded from it by splitmix32. */
  constructor(seed: number) {
    let s = seed >>> 0
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = next()
    this.b = next()
    this.c = next()
    this.d = next()
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1 // the one state xoshiro cannot leave
  }

  /** A generator for the stream named by `seed` and `path`, independent of every other path. */
  static derive(seed: number, ...path: (string | number)[]): Rng {
    return new Rng(hash32(`${seed}\u0000${path.join('\u0000')}`))
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0
    const t = this.b << 9
    this.c ^= this.a
    this.d ^= this.b
    this.b ^= this.c
    this.a ^= this.d
    this.c ^= t
    this.d = rotl(this.d, 11)
    return result
  }

  /** Uniform in [0, 1), 53 bits of precision. */
  float(): number {
    const high = this.nextUint32() >>> 5 // 27 bits
    const low = this.nextUint32() >>> 6 // 26 bits
    return (high * 67108864 + low) / 9007199254740992
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1) || !Number.isInteger(n)) throw new RangeError(`Rng.int: n must be a positive integer: ${n}`)
    return Math.floor(this.float() * n)
  }

  /** Uniform integer in [min, max], both included. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1)
  }

  /** One element of `items`, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.pick: no items to pick from')
    return items[this.int(items.length)]
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p
  }

  /**
   * TPC-W's non-uniform random integer in [x, y] (specification clause 2.1.13, as the reference
   * emulated browser computes it): `((random(0, A) | random(x, y)) % (y - x + 1)) + x`.
   */
  nurand(a: number, x: number, y: number): number {
    return ((this.range(0, a) | this.range(x, y)) % (y - x + 1)) + x
  }

  /** Exponential with the given mean: the time between two Poisson arrivals. */
  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean
  }

  /** Geometric on {1, 2, ...} with the given mean (>= 1): the number of trials to a success. */
  geometric(mean: number): number {
    if (!(mean >= 1)) throw new RangeError(`Rng.geometric: mean must be at least 1: ${mean}`)
    if (mean === 1) return 1
    const u = 1 - this.float() // (0, 1]
    return Math.max(1, Math.ceil(Math.log(u) / Math.log(1 - 1 / mean)))
  }

  /** A random string of `min`..`max` characters from `alphabet`. */
  string(min: number, max: number, alphabet = ALPHANUMERIC): string {
    const length = this.range(min, max)
    let out = ''
    for (let i = 0; i < length; i++) out += alphabet[this.int(alphabet.length)]
    return out
  }

  /** A random string of `min`..`max` decimal digits. */
  digits(min: number, max: number): string {
    return this.string(min, max, DIGITS)
  }
}

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
const DIGITS = '0123456789'

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}

/** FNV-1a over the UTF-16 code units, then a murmur3 finaliser: a 32-bit seed from a name. */
export function hash32(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}
