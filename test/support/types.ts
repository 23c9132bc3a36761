import { expect } from 'vitest'

/** What a value is, as far as a caller of Prisma can tell types apart. */
export function kind(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  if (Array.isArray(value)) return 'array'
  // By tag: the Decimal of Prisma's CJS runtime and of the ESM utils package are two classes.
  if (Object.prototype.toString.call(value) === '[object Decimal]') return 'Decimal'
  const proto = Object.getPrototypeOf(value)
  if (proto === Date.prototype) return 'Date'
  // Exactly Uint8Array: a Buffer is a Uint8Array too, but not what Prisma 7 returns.
  if (proto === Uint8Array.prototype) return 'Uint8Array'
  if (proto === Object.prototype) return 'object'
  return `foreign ${Object.prototype.toString.call(value)}`
}

/** Every place where `actual` differs in type from `expected`, keys present included. */
export function typeDifferences(expected: unknown, actual: unknown, path = '$', out: string[] = []): string[] {
  const a = kind(expected)
  const b = kind(actual)
  if (a !== b) {
    out.push(`${path}: ${a} became ${b}`)
    return out
  }
  if (a === 'number' && !Object.is(expected, actual) && !(Number.isNaN(expected) && Number.isNaN(actual))) {
    out.push(`${path}: ${String(expected)} became ${String(actual)}`) // -0 versus 0 included
  }
  if (a === 'array') {
    const x = expected as unknown[]
    const y = actual as unknown[]
    if (x.length !== y.length) out.push(`${path}: length ${x.length} became ${y.length}`)
    for (let i = 0; i < Math.min(x.length, y.length); i++) typeDifferences(x[i], y[i], `${path}[${i}]`, out)
  } else if (a === 'object') {
    const x = expected as Record<string, unknown>
    const y = actual as Record<string, unknown>
    // null versus absent: the same own keys, and each an own data property (a `__proto__` key
    // read through the prototype accessor would look present but not be own).
    const kx = Object.keys(x)
    const ky = Object.keys(y)
    if (kx.join('\u0000') !== ky.join('\u0000')) out.push(`${path}: keys [${kx}] became [${ky}]`)
    for (const key of kx) {
      if (!Object.hasOwn(y, key)) continue
      typeDifferences(x[key], y[key], `${path}.${key}`, out)
    }
  }
  return out
}

export function sameTypes(expected: unknown, actual: unknown): void {
  expect(typeDifferences(expected, actual)).toEqual([])
}

