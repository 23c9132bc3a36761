import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { instantiate, shapeOf, templateOf, TemplateTable } from '../../src/strategies/template.ts'
import type { Query } from '../../src/strategies/types.ts'
import { keyOrder, shuffleFreeKeys, shuffleKeys } from '../support/key-order.ts'

const query = (model: string, operation: string, args: Record<string, unknown>): Query => ({ model, operation, args })

function plain(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

const SLOT_AREAS = new Set(['where', 'cursor', 'having', 'data'])

/**
 * The slot values of `args` as the documented rule has them, written independently of the code
 * under test: under where/cursor/having/data every scalar (or array of scalars) is one slot, and
 * so is the number of a take or skip anywhere. Keys in sorted order, but the members of select
 * and include in their own order (the order of the result's fields); undefined skipped.
 */
function expectedSlots(args: unknown): { path: string; value: unknown }[] {
  const out: { path: string; value: unknown }[] = []
  const isLeaf = (value: unknown) => (Array.isArray(value) ? value.every((item) => !plain(item) && !Array.isArray(item)) : !plain(value))
  const walk = (value: unknown, path: string, key: string, inArea: boolean, ordered: boolean) => {
    if (isLeaf(value)) {
      if (inArea || ((key === 'take' || key === 'skip') && typeof value === 'number')) out.push({ path, value })
      return
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, `${path}.${i}`, key, inArea, false))
      return
    }
    const object = value as Record<string, unknown>
    const names = ordered ? Object.keys(object) : Object.keys(object).sort()
    for (const name of names) {
      if (object[name] === undefined) continue
      const opensFields = !ordered && !inArea && (name === 'select' || name === 'include')
      walk(object[name], path === '' ? name : `${path}.${name}`, name, inArea || (!ordered && SLOT_AREAS.has(name)), opensFields)
    }
  }
  walk(args, '', '', false, false)
  return out
}

/** `args` with every slot value (per `expectedSlots`) replaced by the next of `values`, cycling. */
function replaceSlots(args: unknown, values: readonly unknown[]): unknown {
  let next = 0
  const isLeaf = (value: unknown) => (Array.isArray(value) ? value.every((item) => !plain(item) && !Array.isArray(item)) : !plain(value))
  const walk = (value: unknown, key: string, inArea: boolean): unknown => {
    if (isLeaf(value)) {
      if (inArea || ((key === 'take' || key === 'skip') && typeof value === 'number')) {
        const replacement = values[next++ % values.length]
        // A take or skip stays a number, or it would no longer be a slot.
        return key === 'take' || key === 'skip' ? (typeof replacement === 'number' ? replacement : next) : replacement
      }
      return value
    }
    if (Array.isArray(value)) return value.map((item) => walk(item, key, inArea))
    const object = value as Record<string, unknown>
    const out: Record<string, unknown> = {}
    for (const name of Object.keys(object)) {
      if (object[name] === undefined) continue
      out[name] = walk(object[name], name, inArea || SLOT_AREAS.has(name))
    }
    return out
  }
  return walk(args, '', false)
}

// Prisma-like arguments: nested where with AND/OR/NOT, relation filters, `in` lists, Dates and
// BigInts; select/include/orderBy/distinct shape; take/skip/cursor.
const scalar = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true }),
  fc.string({ maxLength: 8 }),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.boolean(),
  fc.constant(null),
  fc.date({ noInvalidDate: true }),
)
const field = fc.constantFrom('id', 'email', 'name', 'authorId', 'createdAt', 'score', 'published')
const relation = fc.constantFrom('author', 'posts', 'comments')
/** How many objects and arrays deep `value` goes (a scalar is 0). */
const depthOf = (value: unknown): number =>
  value !== null && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)
    ? 1 + Math.max(0, ...Object.values(value).map(depthOf))
    : 0
const dict = <T>(keys: fc.Arbitrary<string>, values: fc.Arbitrary<T>, maxKeys = 3) => fc.dictionary(keys, values, { noNullPrototype: true, maxKeys })
const filter = fc.oneof(
  scalar,
  fc.record({ in: fc.array(scalar, { maxLength: 5 }) }),
  fc.record({ notIn: fc.array(fc.integer(), { maxLength: 3 }) }),
  fc.record({ gte: scalar, lt: scalar }, { requiredKeys: [] }),
  fc.record({ contains: fc.string({ maxLength: 5 }), mode: fc.constant('insensitive') }),
)
const { where } = fc.letrec<{ where: Record<string, unknown> }>((tie) => ({
  where: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    dict(field, filter),
    fc.record({ AND: fc.array(tie('where'), { maxLength: 3 }) }),
    fc.record({ OR: fc.array(tie('where'), { maxLength: 3 }), id: filter }, { requiredKeys: ['OR'] }),
    fc.record({ NOT: tie('where') }),
    fc.record({ author: fc.record({ is: tie('where') }) }),
    fc.record({ posts: fc.record({ some: tie('where') }) }),
  ),
}))
const direction = fc.constantFrom('asc', 'desc')
const orderBy = fc.oneof(dict(field, direction, 2), fc.array(dict(field, direction, 1), { maxLength: 3 }))
const nested = fc.record(
  { where, take: fc.integer({ min: -50, max: 50 }), skip: fc.nat(100), orderBy, select: dict(field, fc.boolean()) },
  { requiredKeys: [] },
)
const argsArb: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    where,
    select: dict(field, fc.boolean()),
    include: dict(relation, fc.oneof(fc.boolean(), nested)),
    orderBy,
    take: fc.integer({ min: -100, max: 100 }),
    skip: fc.nat(1000),
    cursor: fc.record({ id: fc.oneof(fc.integer(), fc.string({ maxLength: 6 })) }),
    distinct: fc.array(field, { maxLength: 3 }),
  },
  { requiredKeys: [] },
  // Arguments past the bounds have no template by design (tested on their own below); the
  // properties are about the arguments that have one. Rarely, a deep where draws more than 64 slots.
).filter((args) => expectedSlots(args).length <= 64 && depthOf(args) <= 24)
const operation = fc.constantFrom('findUnique', 'findFirst', 'findMany', 'count', 'groupBy')

describe('templateOf: slots and shape', () => {
  it('makes every value under where, cursor, having and data a slot, at any depth', () => {
    const t = templateOf(
      query('Post', 'findMany', {
        where: { AND: [{ authorId: 3 }, { OR: [{ title: { contains: 'x' } }, { createdAt: { gte: new Date(5) } }] }], author: { is: { email: 'a@b' } } },
        cursor: { id: 17 },
      }),
    )!
    expect(t.paths).toEqual([
      'cursor.id',
      'where.AND.0.authorId',
      'where.AND.1.OR.0.title.contains',
      'where.AND.1.OR.1.createdAt.gte',
      'where.author.is.email',
    ])
    expect(t.values).toEqual([17, 3, 'x', new Date(5), 'a@b'])
    expect(t.shape.split('?').length - 1).toBe(5)
    for (const text of ['17', '"x"', 'a@b']) expect(t.shape).not.toContain(text)

    const grouped = templateOf(query('Post', 'groupBy', { by: ['authorId'], having: { score: { _avg: { gt: 2.5 } } }, _count: { _all: true } }))!
    expect(grouped.paths).toEqual(['having.score._avg.gt'])
    expect(grouped.values).toEqual([2.5])
    expect(grouped.shape).toContain('"authorId"')

    const data = templateOf(query('Post', 'findMany', { data: { title: 'x', tags: { set: ['a', 'b'] } } }))!
    expect(data.paths).toEqual(['data.tags.set', 'data.title'])
    expect(data.values).toEqual([['a', 'b'], 'x'])
  })

  it('makes an `in` list one slot, and the numbers of take and skip slots (nested ones too)', () => {
    const t = templateOf(
      query('User', 'findMany', {
        where: { id: { in: [1, 2, 3] } },
        take: 10,
        skip: 20,
        include: { posts: { take: 5, orderBy: { id: 'desc' } } },
      }),
    )!
    expect(t.paths).toEqual(['include.posts.take', 'skip', 'take', 'where.id.in'])
    expect(t.values).toEqual([5, 20, 10, [1, 2, 3]])
    // A take that is not a number is shape, not a slot.
    expect(templateOf(query('User', 'findMany', { take: 'ten' }))!.paths).toEqual([])
  })

  it('keeps select, include, orderBy and distinct values as shape', () => {
    const a = templateOf(query('Post', 'findMany', { select: { id: true, title: true }, orderBy: { id: 'desc' }, distinct: ['authorId'] }))!
    expect(a.paths).toEqual([])
    expect(a.values).toEqual([])
    const b = templateOf(query('Post', 'findMany', { select: { id: true, title: false }, orderBy: { id: 'desc' }, distinct: ['authorId'] }))!
    const c = templateOf(query('Post', 'findMany', { select: { id: true, title: true }, orderBy: { id: 'asc' }, distinct: ['authorId'] }))!
    const d = templateOf(query('Post', 'findMany', { select: { id: true, title: true }, orderBy: { id: 'desc' }, distinct: ['title'] }))!
    const e = templateOf(query('Post', 'findMany', { include: { author: true } }))!
    const f = templateOf(query('Post', 'findMany', { include: { author: false } }))!
    expect(new Set([a.shape, b.shape, c.shape, d.shape, e.shape, f.shape]).size).toBe(6)
    expect(a.shape).toContain('"desc"')
  })

  it('tells apart models and operations', () => {
    const args = { where: { id: 1 } }
    const shapes = ['User.findUnique', 'User.findFirst', 'Post.findUnique'].map((name) => {
      const [model, op] = name.split('.')
      return templateOf(query(model, op, args))!.shape
    })
    expect(new Set(shapes).size).toBe(3)
  })

  it('takes missing, undefined and null arguments in its stride', () => {
    expect(templateOf({ model: 'User', operation: 'findMany', args: undefined as unknown as Record<string, unknown> })).toMatchObject({ paths: [], values: [] })
    expect(templateOf(query('User', 'findMany', { where: undefined, take: undefined }))!.shape).toBe(templateOf(query('User', 'findMany', {}))!.shape)
    const nulls = templateOf(query('User', 'findMany', { where: { deletedAt: null }, select: null, take: null }))!
    expect(nulls.paths).toEqual(['where.deletedAt'])
    expect(nulls.values).toEqual([null])
  })

  it('gives no template for arguments deeper than 24 levels, or with more than 64 slots', () => {
    const nest = (levels: number, leaf: unknown): Record<string, unknown> => (levels === 1 ? { a: leaf } : { a: nest(levels - 1, leaf) })
    expect(templateOf(query('M', 'findMany', { where: nest(23, 1) }))).toBeDefined() // leaf 24 levels down
    expect(templateOf(query('M', 'findMany', { where: nest(24, 1) }))).toBeUndefined()
    expect(templateOf(query('M', 'findMany', { select: nest(24, true) }))).toBeUndefined()
    // Arrays count as levels too.
    let and: unknown = { id: 1 }
    for (let i = 0; i < 12; i++) and = { AND: [and] }
    expect(templateOf(query('M', 'findMany', { where: and }))).toBeUndefined()
    // A cycle is as deep as it gets.
    const cyclic: Record<string, unknown> = { id: 1 }
    cyclic.self = cyclic
    expect(templateOf(query('M', 'findMany', { where: cyclic }))).toBeUndefined()
    expect(new TemplateTable(10).resolve(query('M', 'findMany', { where: cyclic }))).toBeUndefined()

    const wide = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i]))
    expect(templateOf(query('M', 'findMany', { where: wide(64) }))!.paths).toHaveLength(64)
    expect(templateOf(query('M', 'findMany', { where: wide(65) }))).toBeUndefined()
  })

  it('finds the slots the documented rule names (property)', () => {
    fc.assert(
      fc.property(operation, argsArb, (op, args) => {
        const t = templateOf(query('Post', op, args))!
        const expected = expectedSlots(args)
        expect(t.paths).toEqual(expected.map((slot) => slot.path))
        expect(t.values).toEqual(expected.map((slot) => slot.value))
        expect(t.shape.split('?').length - 1).toBe(expected.length)
      }),
    )
  })

  it('finds a known template by the shape alone: the same shape, values and template as a full split (property)', () => {
    fc.assert(
      fc.property(operation, argsArb, (op, args) => {
        const full = templateOf(query('Post', op, args))!
        expect(shapeOf(query('Post', op, args))).toEqual({ shape: full.shape, values: full.values })
        const table = new TemplateTable(100)
        const first = table.resolve(query('Post', op, args))!
        // The second read of the shape is found by it: the same template, and values of its own.
        const second = table.resolve(query('Post', op, structuredClone(args)))!
        expect(second.template).toBe(first.template)
        expect(second.values).toEqual(full.values)
        expect(second.values).not.toBe(first.values)
        expect(table.find(query('Post', op, args))).toEqual({ template: first.template, values: full.values })
        expect(instantiate(second.template, second.values)).toEqual(instantiate(first.template, full.values))
      }),
    )
    expect(shapeOf(query('M', 'findMany', { where: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}`, i])) }))).toBeUndefined()
  })

  it('does not depend on key order where it does not shape the result (property)', () => {
    fc.assert(
      fc.property(operation, argsArb, fc.nat(1000), (op, args, seed) => {
        const table = new TemplateTable(100)
        const a = table.resolve(query('Post', op, args))!
        const b = table.resolve(query('Post', op, shuffleFreeKeys(args, seed) as Record<string, unknown>))!
        expect(b.template).toBe(a.template)
        expect(b.values).toEqual(a.values)
        expect(new TemplateTable(100).resolve(query('Post', op, shuffleFreeKeys(args, seed + 1) as Record<string, unknown>))!.template.id).toBe(a.template.id)
      }),
    )
  })

  it('keeps the order of select and include members: another order is another template, rebuilt in its own order (property)', () => {
    fc.assert(
      fc.property(operation, argsArb, fc.nat(1000), (op, args, seed) => {
        const shuffled = shuffleKeys(args, seed) as Record<string, unknown>
        const table = new TemplateTable(100)
        const a = table.resolve(query('Post', op, args))!
        const b = table.resolve(query('Post', op, shuffled))!
        const text = (orders: Record<string, string[]>) => JSON.stringify(Object.entries(orders).sort())
        const sameFieldOrder = text(fieldOrders(args)) === text(fieldOrders(shuffled))
        expect(b.template === a.template).toBe(sameFieldOrder)
        // Each template rebuilds arguments whose select and include are in the order they came in.
        expect(fieldOrders(instantiate(a.template, a.values))).toEqual(fieldOrders(args))
        expect(fieldOrders(instantiate(b.template, b.values))).toEqual(fieldOrders(shuffled))
      }),
    )
  })

  it('rebuilds nested select and include in the order the query gave them', () => {
    // Arguments are sorted (include before where), the members of select and include are not.
    const args = {
      include: { posts: { select: { title: true, id: true, comments: { select: { text: true, author: true }, take: 2 } } }, comments: true, _count: true },
      where: { id: 1 },
    }
    const t = new TemplateTable(10).resolve(query('User', 'findUnique', args))!
    expect(keyOrder(instantiate(t.template, [2, 1]))).toEqual(keyOrder(args))
    expect(instantiate(t.template, [2, 1])).toEqual(args)
    expect(t.template.shape).toBe('User.findUnique{include:{posts:{select:{title:true,id:true,comments:{select:{text:true,author:true},take:?}}},comments:true,_count:true},where:{id:?}}')
    const reordered = new TemplateTable(10).resolve(query('User', 'findUnique', { where: { id: 1 }, include: { comments: true, posts: true } }))!
    expect(reordered.template.shape).not.toBe(new TemplateTable(10).resolve(query('User', 'findUnique', { include: { posts: true, comments: true }, where: { id: 1 } }))!.template.shape)
    // An aggregate's selectors keep their order among the arguments, and their fields theirs.
    const grouped = new TemplateTable(10).resolve(query('Post', 'groupBy', { by: ['authorId'], where: { published: true }, _sum: { views: true, score: true }, _count: true }))!
    expect(Object.keys(instantiate(grouped.template, grouped.values))).toEqual(['by', 'where', '_sum', '_count'])
    expect(Object.keys(instantiate(grouped.template, grouped.values)._sum as object)).toEqual(['views', 'score'])
  })

  it('gives queries that differ only in slot values one template id (property)', () => {
    fc.assert(
      fc.property(operation, argsArb, fc.array(scalar, { minLength: 1, maxLength: 8 }), (op, args, values) => {
        const other = replaceSlots(args, values) as Record<string, unknown>
        const a = new TemplateTable(10).resolve(query('Post', op, args))!
        const b = new TemplateTable(10).resolve(query('Post', op, other))!
        expect(b.template.id).toBe(a.template.id)
        expect(b.template.shape).toBe(a.template.shape)
        expect(b.template.paths).toEqual(a.template.paths)
        // And the first's template rebuilds the second from its values.
        expect(instantiate(a.template, b.values)).toEqual(other)
      }),
    )
  })
})

/** The member order of every select and include in `args`, by path (the order of a result's fields). */
function fieldOrders(args: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  const walk = (value: unknown, path: string, ordered: boolean) => {
    if (Array.isArray(value)) return value.forEach((item, i) => walk(item, `${path}.${i}`, false))
    if (!plain(value)) return
    const keys = Object.keys(value).filter((key) => value[key] !== undefined)
    if (ordered) out[path] = keys
    for (const key of keys) walk(value[key], `${path}.${key}`, !ordered && (key === 'select' || key === 'include') && !/\.(where|cursor|having|data|orderBy)(\.|$)/.test(path))
  }
  walk(args, '', false)
  return out
}

describe('instantiate', () => {
  it('rebuilds the original arguments from a template and its values (property)', () => {
    fc.assert(
      fc.property(operation, argsArb, (op, args) => {
        const resolved = new TemplateTable(10).resolve(query('Post', op, args))!
        expect(instantiate(resolved.template, resolved.values)).toEqual(args)
      }),
    )
  })

  it('returns fresh objects: changing one result does not change the next (property)', () => {
    // Adds to every object and array and resets every Date that is a slot value of its own.
    const mutate = (value: unknown): void => {
      if (Array.isArray(value)) {
        // The items of a list of scalars (an `in` list) are left be; nested objects are changed.
        for (const item of value) if (plain(item) || Array.isArray(item)) mutate(item)
        value.push('extra')
      } else if (plain(value)) {
        for (const key of Object.keys(value)) {
          const inner = value[key]
          if (inner instanceof Date) inner.setTime(0)
          else mutate(inner)
        }
        value.extra = 1
      }
    }
    fc.assert(
      fc.property(operation, argsArb, (op, args) => {
        const resolved = new TemplateTable(10).resolve(query('Post', op, args))!
        const first = instantiate(resolved.template, resolved.values)
        mutate(first)
        expect(instantiate(resolved.template, resolved.values)).toEqual(args)
      }),
    )
    const at = new Date(1_700_000_000_000)
    const resolved = new TemplateTable(10).resolve(query('Post', 'findMany', { where: { createdAt: { gte: at }, id: { in: [1, 2] } }, orderBy: [{ id: 'asc' }] }))!
    const out = instantiate(resolved.template, resolved.values) as { where: { createdAt: { gte: Date }; id: { in: unknown[] } } }
    expect(out.where.createdAt.gte).not.toBe(at)
    mutate(out)
    expect(at.getTime()).toBe(1_700_000_000_000)
    expect(instantiate(resolved.template, resolved.values)).toEqual({ where: { createdAt: { gte: new Date(1_700_000_000_000) }, id: { in: [1, 2] } }, orderBy: [{ id: 'asc' }] })
  })

  it('puts other values in the slots, leaving the shape as it was', () => {
    const t = new TemplateTable(10).resolve(query('Post', 'findMany', { where: { authorId: 1 }, take: 10, orderBy: { id: 'desc' } }))!
    expect(t.template.paths).toEqual(['take', 'where.authorId'])
    expect(instantiate(t.template, [20, 7])).toEqual({ where: { authorId: 7 }, take: 20, orderBy: { id: 'desc' } })
    expect(instantiate(t.template, [20, [7, 8]])).toEqual({ where: { authorId: [7, 8] }, take: 20, orderBy: { id: 'desc' } })
  })
})

describe('TemplateTable', () => {
  it('resolves the same shape to the same template, and finds it by id', () => {
    const table = new TemplateTable(10)
    const a = table.resolve(query('User', 'findUnique', { where: { id: 1 } }))!
    const b = table.resolve(query('User', 'findUnique', { where: { id: 2 } }))!
    expect(b.template).toBe(a.template)
    expect(a.values).toEqual([1])
    expect(b.values).toEqual([2])
    expect(table.get(a.template.id)).toBe(a.template)
    expect(table.size).toBe(1)
    expect(a.template).toMatchObject({ model: 'User', operation: 'findUnique', paths: ['where.id'] })
    // Ids are hashes of the shape: another table gives the same id.
    expect(new TemplateTable(1).resolve(query('User', 'findUnique', { where: { id: 9 } }))!.template.id).toBe(a.template.id)
    expect(table.get('no-such-id')).toBeUndefined()
  })

  it('holds at most maxTemplates and forgets the least recently seen first (property)', () => {
    const shapes = Array.from({ length: 12 }, (_, i) => ({ model: 'M', operation: 'findMany', args: { select: { [`f${i}`]: true }, where: { id: i } } }))
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.nat(shapes.length - 1), { maxLength: 80 }), (max, picks) => {
        const table = new TemplateTable(max)
        const ids = shapes.map((shape) => new TemplateTable(1).resolve(shape)!.template.id)
        const recent: number[] = [] // most recent last, distinct
        for (const pick of picks) {
          table.resolve(shapes[pick])
          const seen = recent.indexOf(pick)
          if (seen >= 0) recent.splice(seen, 1)
          recent.push(pick)
          if (recent.length > max) recent.shift()
          expect(table.size).toBeLessThanOrEqual(max)
          expect(table.size).toBe(recent.length)
          for (let i = 0; i < shapes.length; i++) expect(table.get(ids[i]) !== undefined).toBe(recent.includes(i))
        }
      }),
    )
  })

  it('reaches its bound and evicts the least recently seen, not the first registered', () => {
    const table = new TemplateTable(3)
    const q = (i: number) => query('M', 'findMany', { select: { [`f${i}`]: true } })
    const id = (i: number) => table.resolve(q(i))!.template.id
    const [a, b, c] = [id(0), id(1), id(2)]
    expect(table.size).toBe(3)
    id(0) // 0 seen again: 1 is now the least recent
    const d = id(3)
    expect(table.size).toBe(3)
    expect(table.get(b)).toBeUndefined()
    for (const kept of [a, c, d]) expect(table.get(kept)).toBeDefined()
  })

  it('gives a fan-out field only to a findUnique(OrThrow) whose where is exactly one slot field', () => {
    const fanOut = (operation: string, args: Record<string, unknown>) => new TemplateTable(10).resolve(query('Post', operation, args))!.template.fanOutField
    expect(fanOut('findUnique', { where: { id: 1 } })).toBe('id')
    expect(fanOut('findUniqueOrThrow', { where: { email: 'a@b' }, select: { id: true, title: true } })).toBe('email')
    expect(fanOut('findUnique', { where: { id: 1 }, include: { author: true } })).toBe('id')
    // Not one plain slot field.
    expect(fanOut('findUnique', { where: { id: { equals: 1 } } })).toBeUndefined()
    expect(fanOut('findUnique', { where: { id: 1, authorId: 2 } })).toBeUndefined()
    expect(fanOut('findUnique', { where: { authorId_title: { authorId: 1, title: 'x' } } })).toBeUndefined()
    expect(fanOut('findUnique', { where: {} })).toBeUndefined()
    expect(fanOut('findUnique', {})).toBeUndefined()
    // Not a unique read.
    for (const operation of ['findFirst', 'findFirstOrThrow', 'findMany', 'count']) expect(fanOut(operation, { where: { id: 1 } })).toBeUndefined()
  })

  it('gives a fan-out field exactly when the rule says so (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom('findUnique', 'findUniqueOrThrow', 'findFirst', 'findMany'), argsArb, (op, args) => {
        const t = new TemplateTable(10).resolve(query('Post', op, args))!.template
        const where = plain(args.where) ? args.where : {}
        const keys = Object.keys(where).filter((key) => where[key] !== undefined)
        const only = where[keys[0]]
        const single = keys.length === 1 && !plain(only) && !(Array.isArray(only) && only.some((item) => plain(item) || Array.isArray(item)))
        const expected = (op === 'findUnique' || op === 'findUniqueOrThrow') && single ? keys[0] : undefined
        expect(t.fanOutField).toBe(expected)
      }),
    )
  })
})

describe('templates of awkward arguments', () => {
  it('quotes keys that are not plain names, so different arguments never share a shape', () => {
    const a = templateOf(query('Post', 'findMany', { where: { meta: { equals: { 'a:?,b': 1 } } } }))!
    const b = templateOf(query('Post', 'findMany', { where: { meta: { equals: { a: 1, b: 2 } } } }))!
    expect(a.shape).not.toBe(b.shape)
    expect(a.shape).toBe('Post.findMany{where:{meta:{equals:{"a:?,b":?}}}}')
  })

  it('prints each key and shape string as it always did, past the bound of remembered key texts too (property)', () => {
    // The rule, written independently: a plain identifier as it is, any other key as JSON; a
    // string outside the slot areas (orderBy, mode) as JSON.
    const printed = (key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key))
    // 5000 distinct keys go past the 4096 texts remembered: those after are printed anew, the same.
    for (let i = 0; i < 5000; i += 7) {
      const key = i % 2 === 0 ? `f${i}` : `f ${i}"`
      expect(shapeOf(query('Post', 'findMany', { orderBy: { [key]: 'desc' }, select: { [key]: true } }))!.shape).toBe(
        `Post.findMany{orderBy:{${printed(key)}:"desc"},select:{${printed(key)}:true}}`,
      )
    }
    fc.assert(
      fc.property(fc.string(), fc.string(), (key, direction) => {
        const args = { orderBy: { [key]: direction }, where: { [key]: 1 } }
        const { shape } = shapeOf(query('Post', 'findMany', args))!
        expect(shape).toBe(`Post.findMany{orderBy:{${printed(key)}:${JSON.stringify(direction)}},where:{${printed(key)}:?}}`)
        expect(templateOf(query('Post', 'findMany', args))!.shape).toBe(shape)
      }),
    )
  })

  it('treats a field named like an argument (data, where) inside select, include and orderBy as shape', () => {
    const t = templateOf(query('Post', 'findMany', { select: { data: true, where: true }, orderBy: { data: 'desc' }, include: { cursor: { where: { id: 1 } } } }))!
    expect(t.paths).toEqual(['include.cursor.where.id'])
    expect(t.shape).toBe('Post.findMany{include:{cursor:{where:{id:?}}},orderBy:{data:"desc"},select:{data:true,where:true}}')
  })

  it('gives a fan-out field to no template whose where has a field literally named "undefined"', () => {
    const table = new TemplateTable(10)
    expect(table.resolve(query('Post', 'findMany', { where: { undefined: 1 } }))!.template.fanOutField).toBeUndefined()
  })

  it('shares no Date, byte array or shape array with the caller or between rebuilds', () => {
    const distinct = ['title']
    const args = { where: { createdAt: { in: [new Date(1000)] }, cover: new Uint8Array([1]) }, distinct }
    const table = new TemplateTable(10)
    const { template, values } = table.resolve(query('Post', 'findMany', args))!
    distinct.push('body')
    args.where.createdAt.in[0].setTime(5)
    const first = instantiate(template, values) as typeof args
    expect(first).toEqual({ where: { createdAt: { in: [new Date(1000)] }, cover: new Uint8Array([1]) }, distinct: ['title'] })
    first.where.createdAt.in[0].setTime(9)
    first.where.cover[0] = 7
    expect(instantiate(template, values)).toEqual({ where: { createdAt: { in: [new Date(1000)] }, cover: new Uint8Array([1]) }, distinct: ['title'] })
  })
})
