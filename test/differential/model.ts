// Generators of the differential tester: random reads and writes over every model of a data
// model (data-model.ts), as fast-check arbitraries. Arguments name existing rows through `Ref`s
// (a model, a unique key and an index into the rows present when the step runs), so a generated
// read finds data and a generated write mostly succeeds whatever ran before it, and a shrunk
// sequence still means something. The runner resolves refs against the database just before
// each step.

import fc from 'fast-check'
import { Decimal } from '@prisma/client-runtime-utils'
import type { DataModel, FieldInfo, ModelInfo } from './data-model.ts'

/** A row of `model` present when the step runs (`pick` modulo their number; -1: a row that does not exist). */
export class Ref {
  constructor(
    readonly model: string,
    /** One field: the value of that field; several (or `where`): a unique `where`. */
    readonly fields: string[],
    readonly pick: number,
    readonly as: 'value' | 'where',
  ) {}
}

export const READ_OPERATIONS = ['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'count', 'aggregate', 'groupBy'] as const
export const WRITE_OPERATIONS = [
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
  'delete',
  'deleteMany',
] as const

/** Which client runs a step: lane (one extended client and its reference), session and how it is bound. */
export interface Bind {
  lane: number
  /** -1: outside any session. */
  session: number
  forSession: boolean
}

export interface Query {
  model: string
  operation: string
  args: Record<string, unknown>
}

export type Step =
  | ({ kind: 'read'; bind: Bind } & Query)
  | ({ kind: 'fluent'; bind: Bind; path: Array<{ field: string; args: Record<string, unknown> | undefined }> } & Query)
  | ({ kind: 'write'; bind: Bind } & Query)
  | { kind: 'raw'; bind: Bind; statement: 'update' | 'select'; model: string; field: string; value: unknown; row: Ref }
  | { kind: 'batch'; bind: Bind; queries: Query[] }
  | { kind: 'transaction'; bind: Bind; queries: Query[]; commit: boolean }
  | { kind: 'idle'; lane: number }
  | { kind: 'repeat'; bind: Bind; index: number }
  /**
   * A page of two reads, the second depending on the first's row: the parent read, then the list
   * of its related rows (`child`, its `where` given `[fk]: row[ref]`), as combining learns them.
   */
  | { kind: 'page'; bind: Bind; parent: Query; child: Query; fk: string; ref: string; fks?: string[] }

const DATES = ['2020-02-29T12:34:56.789Z', '1999-12-31T23:59:59.999Z', '2024-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z'].map((iso) => new Date(iso))

/** Values of every scalar type, the awkward ones included. */
export function scalarValue(field: FieldInfo, data: DataModel): fc.Arbitrary<unknown> {
  switch (field.kind === 'enum' ? 'enum' : field.type) {
    case 'enum':
      return fc.constantFrom(...data.enums.get(field.type)!)
    case 'Int':
      return fc.integer({ min: -3, max: 40 })
    case 'Float':
      return fc.constantFrom(0, -0.25, 1.5, 4.75, 1e10)
    case 'Boolean':
      return fc.boolean()
    case 'String':
      return fc.constantFrom('a', 'Alice', 'Post 1', 'Body of post 2', 'x y', 'é ü ∑', '')
    case 'BigInt':
      return fc.constantFrom(0n, -5n, 9_007_199_254_740_993n, 3_000_000_000_000n)
    case 'Decimal':
      return fc.constantFrom('0', '-0.5', '12.99', '12345678901234.123456789').map((text) => new Decimal(text))
    case 'DateTime':
      return fc.constantFrom(...DATES)
    case 'Bytes':
      return fc.constantFrom(new Uint8Array([0, 1, 2, 254, 255]), new Uint8Array([]), new Uint8Array([7]))
    case 'Json':
      return fc.constantFrom<unknown>({ theme: 'dark', nested: { list: [1, 'two', null, { deep: true }] } }, [1, 2, 3], 'text', 42, { index: 3, tags: ['a', 'b'] })
    default:
      throw new Error(`differential: no values for ${field.type}`)
  }
}

const NUMERIC = new Set(['Int', 'Float', 'BigInt', 'Decimal'])
const ORDERABLE = new Set(['Int', 'Float', 'BigInt', 'Decimal', 'DateTime', 'String', 'Boolean'])
const pickIndex = fc.oneof({ weight: 12, arbitrary: fc.nat({ max: 30 }) }, { weight: 1, arbitrary: fc.constant(-1) })

/** An object with a random subset of `entries`, in random key order (the key order a caller asks for matters). */
function someOf(entries: Array<[string, fc.Arbitrary<unknown>]>, options: { minLength?: number; maxLength?: number } = {}) {
  if (entries.length === 0) return fc.constant({})
  return fc
    .shuffledSubarray(entries, { minLength: Math.min(options.minLength ?? 0, entries.length), maxLength: Math.min(options.maxLength ?? entries.length, entries.length) })
    .chain((chosen) => (chosen.length === 0 ? fc.constant({}) : fc.tuple(...chosen.map(([, arb]) => arb)).map((values) => Object.fromEntries(chosen.map(([key], i) => [key, values[i]])))))
}

export class Generators {
  constructor(readonly data: DataModel) {}

  model(name: string): ModelInfo {
    return this.data.byName.get(name)!
  }

  /** A value of `field` taken from a present row, or a generated one. */
  valueOf(model: ModelInfo, field: FieldInfo): fc.Arbitrary<unknown> {
    const fromRow = pickIndex.map((pick) => new Ref(model.name, [field.name], pick, 'value'))
    if (field.type === 'Json') return scalarValue(field, this.data)
    return fc.oneof({ weight: 2, arbitrary: fromRow }, { weight: 1, arbitrary: scalarValue(field, this.data) })
  }

  uniqueWhere(model: ModelInfo): fc.Arbitrary<unknown> {
    return fc.tuple(fc.constantFrom(...model.uniques), pickIndex).map(([key, pick]) => new Ref(model.name, key, pick, 'where'))
  }

  scalarFilter(model: ModelInfo, field: FieldInfo): fc.Arbitrary<unknown> {
    const value = this.valueOf(model, field)
    if (field.type === 'Json') return value.map((v) => ({ equals: v }))
    const options: fc.Arbitrary<unknown>[] = [value, value.map((v) => ({ equals: v })), value.map((v) => ({ not: v })), fc.array(value, { maxLength: 3 }).map((values) => ({ in: values }))]
    if (ORDERABLE.has(field.type) && field.type !== 'Boolean') options.push(value.map((v) => ({ gt: v })), value.map((v) => ({ lte: v })))
    if (field.type === 'String') options.push(fc.constantFrom('a', 'Post', 'o', '1').map((s) => ({ contains: s })), fc.constantFrom('P', 'A', 'B').map((s) => ({ startsWith: s })))
    if (field.isOptional) options.push(fc.constant(null), fc.constant({ not: null }))
    return fc.oneof(...options)
  }

  /** A `where`: scalar filters, relation filters (some, every, none, is, isNot), AND/OR/NOT. */
  where(model: ModelInfo, depth: number): fc.Arbitrary<Record<string, unknown>> {
    return fc.letrec<{ where: Record<string, unknown> }>((tie) => ({
      where: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constant({}),
        someOf(
          model.scalars.filter((field) => field.type !== 'Bytes' || this.data.provider === 'postgresql').map((field) => [field.name, this.scalarFilter(model, field)]),
          { minLength: 1, maxLength: 2 },
        ),
        ...(depth > 0
          ? [
              someOf(
                model.relations.map((field) => {
                  const inner = this.where(this.model(field.type), depth - 1)
                  const ops = field.isList ? ['some', 'every', 'none'] : ['is', 'isNot']
                  return [field.name, fc.tuple(fc.constantFrom(...ops), inner).map(([op, where]) => ({ [op]: where }))]
                }),
                { minLength: 1, maxLength: 1 },
              ),
              fc.tuple(fc.constantFrom('AND', 'OR', 'NOT'), fc.array(tie('where'), { minLength: 1, maxLength: 2 })).map(([op, list]) => ({ [op]: list })),
            ]
          : []),
      ),
    })).where
  }

  /** An order that is total (the primary key last), so bare and cached results are comparable row by row. */
  orderBy(model: ModelInfo): fc.Arbitrary<unknown> {
    const orderable = model.scalars.filter((field) => ORDERABLE.has(field.type) && !model.primaryKey.includes(field.name))
    const direction = fc.constantFrom('asc', 'desc')
    const first = orderable.length === 0 ? fc.constant([]) : fc.array(fc.tuple(fc.constantFrom(...orderable), direction), { maxLength: 1 })
    return fc.tuple(first, direction).map(([head, pkDirection]) => [
      ...head.map(([field, dir]) => ({ [field.name]: field.isOptional && dir === 'desc' ? { sort: dir, nulls: 'last' } : dir })),
      ...model.primaryKey.map((name) => ({ [name]: pkDirection })),
    ])
  }

  /** findMany-style arguments of a list: where, orderBy, take, skip, cursor, distinct. */
  listArgs(model: ModelInfo, depth: number): fc.Arbitrary<Record<string, unknown>> {
    const distinctable = model.scalars.filter((field) => !['Json', 'Bytes'].includes(field.type))
    return someOf([
      ['where', this.where(model, Math.min(depth, 1))],
      ['orderBy', this.orderBy(model)],
      ['take', fc.integer({ min: -3, max: 6 })],
      ['skip', fc.nat({ max: 3 })],
      ['cursor', fc.tuple(fc.constantFrom(...model.uniques), pickIndex).map(([key, pick]) => new Ref(model.name, key, pick, 'where'))],
      ['distinct', fc.shuffledSubarray(distinctable.map((field) => field.name), { minLength: 1, maxLength: 2 })],
    ]).map((args) => ('orderBy' in args || !('take' in args || 'cursor' in args || 'distinct' in args) ? args : { ...args, orderBy: model.primaryKey.map((name) => ({ [name]: 'asc' })) }))
  }

  /** `_count` in every form: true, or a select of relations, each true or with a where. */
  count(model: ModelInfo): fc.Arbitrary<unknown> {
    const lists = model.relations.filter((field) => field.isList)
    if (lists.length === 0) return fc.constant(undefined)
    return fc.oneof(
      fc.constant(true),
      someOf(
        lists.map((field) => [field.name, fc.oneof(fc.constant(true), this.where(this.model(field.type), 0).map((where) => ({ where })))]),
        { minLength: 1 },
      ).map((select) => ({ select })),
    )
  }

  /** Arguments of a relation read nested `depth` more levels. */
  relationArgs(field: FieldInfo, depth: number): fc.Arbitrary<unknown> {
    const target = this.model(field.type)
    const shape = this.shape(target, depth - 1)
    if (!field.isList) return fc.oneof(fc.constant(true), shape)
    return fc.oneof(fc.constant(true), fc.tuple(this.listArgs(target, 0), shape).map(([list, sel]) => ({ ...list, ...(sel as object) })))
  }

  /** `include`, `select` or `omit` (or nothing), nested `depth` levels. */
  shape(model: ModelInfo, depth: number): fc.Arbitrary<Record<string, unknown>> {
    const relations: Array<[string, fc.Arbitrary<unknown>]> =
      depth <= 0 ? [] : model.relations.map((field) => [field.name, this.relationArgs(field, depth)])
    const count = this.count(model)
    const withCount = depth > 0 && model.relations.some((field) => field.isList) ? [['_count', count] as [string, fc.Arbitrary<unknown>]] : []
    const scalars = model.scalars.map((field): [string, fc.Arbitrary<unknown>] => [field.name, fc.constant(true)])
    return fc.oneof(
      { weight: 2, arbitrary: fc.constant({}) },
      { weight: 3, arbitrary: someOf([...relations, ...withCount], { minLength: 1, maxLength: 3 }).map((include) => ({ include })) },
      { weight: 3, arbitrary: someOf([...scalars, ...relations, ...withCount], { minLength: 1, maxLength: 4 }).map((select) => ({ select })) },
      {
        weight: 1,
        arbitrary: someOf(
          model.scalars.filter((field) => !model.primaryKey.includes(field.name)).map((field) => [field.name, fc.constant(true)]),
          { minLength: 1, maxLength: 2 },
        ).chain((omit) => (depth > 0 ? someOf(relations, { maxLength: 1 }) : fc.constant({})).map((include) => (Object.keys(include).length > 0 ? { omit, include } : { omit }))),
      },
    )
  }

  read(model: ModelInfo): fc.Arbitrary<Query> {
    const numeric = model.scalars.filter((field) => NUMERIC.has(field.type))
    const orderable = model.scalars.filter((field) => ORDERABLE.has(field.type))
    const groupable = model.scalars.filter((field) => !['Json', 'Bytes'].includes(field.type))
    const fieldsOf = (fields: FieldInfo[]) => someOf(fields.map((field) => [field.name, fc.constant(true)]), { minLength: 1, maxLength: 2 })
    const aggregates = someOf([
      ['_count', fc.oneof(fc.constant(true), fieldsOf(model.scalars).map((select) => ({ _all: true, ...select })))],
      ...(numeric.length > 0 ? (['_sum', '_avg'] as const).map((name): [string, fc.Arbitrary<unknown>] => [name, fieldsOf(numeric)]) : []),
      ...(['_min', '_max'] as const).map((name): [string, fc.Arbitrary<unknown>] => [name, fieldsOf(orderable)]),
    ], { minLength: 1, maxLength: 3 })
    const op = (operation: string, args: fc.Arbitrary<Record<string, unknown>>) => args.map((a) => ({ model: model.name, operation, args: a }))
    const unique = fc.tuple(this.uniqueWhere(model), this.shape(model, 2)).map(([where, shape]) => ({ where, ...shape }))
    const first = fc.tuple(this.listArgs(model, 1), this.shape(model, 2)).map(([list, shape]) => ({ ...list, ...shape }))
    // A list of rows named by one unique field and nothing else (it depends on those rows alone).
    const single = model.uniques.filter((key) => key.length === 1).map(([name]) => model.scalars.find((field) => field.name === name)!)
    const named = () =>
      fc.tuple(fc.constantFrom(...single).chain((field) => fc.array(this.valueOf(model, field), { maxLength: 4 }).map((values) => ({ [field.name]: { in: values } }))), this.shape(model, 2)).map(
        ([where, shape]) => ({ where, orderBy: model.primaryKey.map((name) => ({ [name]: 'asc' })), ...shape }),
      )
    return fc.oneof(
      op('findUnique', unique),
      ...(single.length > 0 && model.primaryKey.length > 0 ? [op('findMany', named())] : []),
      op('findUniqueOrThrow', unique),
      op('findFirst', first),
      op('findFirstOrThrow', first),
      { weight: 3, arbitrary: op('findMany', first) },
      op(
        'count',
        fc.tuple(this.listArgs(model, 1), fc.option(fieldsOf(model.scalars).map((select) => ({ _all: true, ...select })), { nil: undefined })).map(([list, select]) => {
          const { distinct: _distinct, ...rest } = list
          return select === undefined ? rest : { ...rest, select }
        }),
      ),
      op(
        'aggregate',
        fc.tuple(this.listArgs(model, 1), aggregates).map(([list, agg]) => {
          const { distinct: _distinct, ...rest } = list
          return { ...rest, ...agg }
        }),
      ),
      op(
        'groupBy',
        fc.tuple(fc.shuffledSubarray(groupable, { minLength: 1, maxLength: 2 }), this.where(model, 1), aggregates, fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined })).map(
          ([by, where, agg, take]) => {
            const names = by.map((field) => field.name)
            // groupBy aggregates may only name fields; _count: true is fine, selects of non-`by` fields too.
            return { by: names, where, ...agg, orderBy: names.map((name) => ({ [name]: 'asc' })), ...(take === undefined ? {} : { take }) }
          },
        ),
      ),
    )
  }

  /** `prisma.user.findUnique(...).posts(...)`: a fluent read one or two relations deep. */
  fluent(model: ModelInfo): fc.Arbitrary<Omit<Extract<Step, { kind: 'fluent' }>, 'bind'>> | undefined {
    if (model.relations.length === 0) return undefined
    const hop = (from: ModelInfo) =>
      fc.constantFrom(...from.relations).chain((field) =>
        (field.isList ? fc.option(fc.tuple(this.listArgs(this.model(field.type), 0), this.shape(this.model(field.type), 1)).map(([l, s]) => ({ ...l, ...s })), { nil: undefined }) : fc.option(this.shape(this.model(field.type), 1), { nil: undefined })).map(
          (args) => ({ field, args: args as Record<string, unknown> | undefined }),
        ),
      )
    return fc
      .tuple(fc.constantFrom('findUnique', 'findUniqueOrThrow', 'findFirst'), this.uniqueWhere(model), hop(model))
      .chain(([operation, where, first]) => {
        const args = operation === 'findFirst' ? { where: { AND: [where] }, orderBy: model.primaryKey.map((name) => ({ [name]: 'asc' })) } : { where }
        // A second hop only after a to-one relation (Prisma's fluent API stops at lists).
        const second = first.field.isList ? fc.constant(undefined) : fc.option(hop(this.model(first.field.type)), { nil: undefined })
        return second.map((next) => ({
          kind: 'fluent' as const,
          model: model.name,
          operation,
          args,
          path: [first, ...(next ? [next] : [])].map(({ field, args: a }) => ({ field: field.name, args: a })),
        }))
      })
  }

  // -------------------------------------------------------------------------------------------
  // Writes
  // -------------------------------------------------------------------------------------------

  /** A value for a new row's field; unique strings are made unique (mostly). */
  newValue(model: ModelInfo, field: FieldInfo): fc.Arbitrary<unknown> {
    if (field.type === 'String' && model.uniques.some((key) => key.includes(field.name))) {
      return fc.nat({ max: 200 }).map((n) => `${model.delegate}-${field.name}-${n}@example.com`)
    }
    return scalarValue(field, this.data)
  }

  /** Scalars of a new row: every required one without default, some of the others. */
  scalarsForCreate(model: ModelInfo, options: { foreignKeys: boolean }): fc.Arbitrary<Record<string, unknown>> {
    const writable = model.scalars.filter((field) => !field.isUpdatedAt && !(field.hasDefault && model.primaryKey.includes(field.name) && field.type === 'Int'))
    const required = writable.filter((field) => !field.isOptional && !field.hasDefault && !model.foreignKeys.has(field.name))
    const optional = writable.filter((field) => (field.isOptional || field.hasDefault) && !model.foreignKeys.has(field.name))
    const keys = options.foreignKeys ? writable.filter((field) => model.foreignKeys.has(field.name)) : []
    return fc
      .tuple(
        fc.tuple(...required.map((field) => this.newValue(model, field))),
        someOf(optional.map((field) => [field.name, this.newValue(model, field)]), { maxLength: 3 }),
        fc.tuple(...keys.map((field) => this.foreignKeyValue(model, field))),
      )
      .map(([req, opt, fks]) => ({
        ...Object.fromEntries(required.map((field, i) => [field.name, req[i]])),
        ...opt,
        ...Object.fromEntries(keys.map((field, i) => [field.name, fks[i]]).filter(([, value]) => value !== undefined)),
      }))
  }

  /** A present value for a foreign key scalar (the referenced field of a row of the related model). */
  foreignKeyValue(model: ModelInfo, scalar: FieldInfo): fc.Arbitrary<unknown> {
    const relation = model.relations.find((field) => field.fkFields?.includes(scalar.name))!
    const referenced = relation.references![relation.fkFields!.indexOf(scalar.name)]
    const value = fc.nat({ max: 30 }).map((pick) => new Ref(relation.type, [referenced], pick, 'value'))
    return scalar.isOptional ? fc.option(value, { nil: null, freq: 4 }) : value
  }

  /** Checked create data: scalars, required relations connected, sometimes nested creates. */
  createData(model: ModelInfo, depth: number, exclude?: FieldInfo): fc.Arbitrary<Record<string, unknown>> {
    const holders = model.relations.filter((field) => field.fkFields !== undefined && field !== exclude)
    const required = holders.filter((field) => field.fkFields!.every((name) => !model.fields.find((f) => f.name === name)!.isOptional))
    const optional = holders.filter((field) => !required.includes(field))
    const connect = (field: FieldInfo) => this.uniqueWhere(this.model(field.type)).map((where) => ({ connect: where }))
    const nested: Array<[string, fc.Arbitrary<unknown>]> =
      depth > 0
        ? model.relations
            .filter((field) => field !== exclude && field.fkFields === undefined)
            .map((field) => {
              const back = this.data.back(model, field)
              const target = this.model(field.type)
              const create = this.createData(target, depth - 1, back)
              return [
                field.name,
                field.isList
                  ? fc.oneof(
                      fc.array(create, { minLength: 1, maxLength: 2 }).map((rows) => ({ create: rows })),
                      fc.tuple(this.uniqueWhere(target), create).map(([where, row]) => ({ connectOrCreate: [{ where, create: row }] })),
                      ...(back.isList || back.fkFields?.some((name) => target.fields.find((f) => f.name === name)!.isOptional)
                        ? [fc.array(this.uniqueWhere(target), { minLength: 1, maxLength: 2 }).map((list) => ({ connect: list }))]
                        : []),
                    )
                  : create.map((row) => ({ create: row })),
              ]
            })
        : []
    return fc
      .tuple(
        this.scalarsForCreate(model, { foreignKeys: false }),
        fc.tuple(...required.map(connect)),
        someOf([...optional.map((field): [string, fc.Arbitrary<unknown>] => [field.name, connect(field)]), ...nested], { maxLength: 2 }),
      )
      .map(([scalars, connects, rest]) => ({ ...scalars, ...Object.fromEntries(required.map((field, i) => [field.name, connects[i]])), ...rest }))
  }

  /** Scalar changes of an update: new values and atomic number operations. */
  scalarUpdates(model: ModelInfo, options: { foreignKeys: boolean }): fc.Arbitrary<Record<string, unknown>> {
    const fields = model.scalars.filter((field) => !model.primaryKey.includes(field.name) && !field.isUpdatedAt && (options.foreignKeys || !model.foreignKeys.has(field.name)))
    return someOf(
      fields.map((field) => {
        if (model.foreignKeys.has(field.name)) return [field.name, this.foreignKeyValue(model, field)]
        const value = this.newValue(model, field)
        const atomic = field.type === 'Int' || field.type === 'BigInt' || field.type === 'Float' || field.type === 'Decimal'
        const step = field.type === 'BigInt' ? 1n : 1
        return [field.name, atomic ? fc.oneof(value, fc.constant({ increment: step }), fc.constant({ decrement: step })) : field.isOptional ? fc.option(value, { nil: null }) : value]
      }),
      { minLength: 1, maxLength: 2 },
    )
  }

  /** Nested writes on a relation of an update: create, connect, connectOrCreate, disconnect, set, update, upsert, delete, ... */
  nestedUpdate(model: ModelInfo, field: FieldInfo): fc.Arbitrary<unknown> {
    const target = this.model(field.type)
    const back = this.data.back(model, field)
    const create = this.createData(target, 0, back)
    const where = this.uniqueWhere(target)
    const data = this.scalarUpdates(target, { foreignKeys: false })
    const backOptional = back.fkFields?.every((name) => target.fields.find((f) => f.name === name)!.isOptional) ?? false
    const ops: fc.Arbitrary<unknown>[] = [create.map((row) => ({ create: row }))]
    if (field.isList) {
      const manyToMany = back.isList
      ops.push(
        fc.array(where, { minLength: 1, maxLength: 2 }).map((list) => ({ connect: list })),
        fc.tuple(where, create).map(([w, row]) => ({ connectOrCreate: { where: w, create: row } })),
        fc.tuple(where, data).map(([w, d]) => ({ update: { where: w, data: d } })),
        fc.tuple(this.where(target, 0), data).map(([w, d]) => ({ updateMany: { where: w, data: d } })),
        fc.tuple(where, create, data).map(([w, c, u]) => ({ upsert: { where: w, create: c, update: u } })),
        where.map((w) => ({ delete: w })),
        this.where(target, 0).map((w) => ({ deleteMany: w })),
      )
      if (manyToMany || backOptional) {
        ops.push(fc.array(where, { minLength: 1, maxLength: 2 }).map((list) => ({ disconnect: list })), fc.array(where, { maxLength: 2 }).map((list) => ({ set: list })))
      }
    } else {
      const optional = field.fkFields ? field.fkFields.every((name) => model.fields.find((f) => f.name === name)!.isOptional) : true
      ops.push(
        data.map((d) => ({ update: d })),
        fc.tuple(create, data).map(([c, u]) => ({ upsert: { create: c, update: u } })),
        fc.tuple(where, create).map(([w, row]) => ({ connectOrCreate: { where: w, create: row } })),
      )
      if (field.fkFields) ops.push(where.map((w) => ({ connect: w })))
      if (optional && (field.fkFields || backOptional)) ops.push(fc.constant({ disconnect: true }))
      if (optional) ops.push(fc.constant({ delete: true }))
    }
    return fc.oneof(...ops)
  }

  updateData(model: ModelInfo): fc.Arbitrary<Record<string, unknown>> {
    const relations = model.relations.map((field): [string, fc.Arbitrary<unknown>] => [field.name, this.nestedUpdate(model, field)])
    return fc.oneof(
      { weight: 2, arbitrary: this.scalarUpdates(model, { foreignKeys: false }) },
      { weight: 3, arbitrary: fc.tuple(this.scalarUpdates(model, { foreignKeys: false }), someOf(relations, { minLength: 1, maxLength: 2 })).map(([s, r]) => ({ ...s, ...r })) },
      // Unchecked: foreign keys moved by value.
      { weight: 1, arbitrary: this.scalarUpdates(model, { foreignKeys: true }) },
    )
  }

  write(model: ModelInfo): fc.Arbitrary<Query> {
    const op = (operation: string, args: fc.Arbitrary<Record<string, unknown>>) => args.map((a) => ({ model: model.name, operation, args: a }))
    const returning = fc.option(this.shape(model, 1), { nil: undefined, freq: 2 })
    const flatShape = this.shape(model, 0)
    const createMany = fc.array(this.scalarsForCreate(model, { foreignKeys: true }), { minLength: 1, maxLength: 3 })
    const updateMany = fc.tuple(this.where(model, 1), this.scalarUpdates(model, { foreignKeys: true }))
    return fc.oneof(
      { weight: 3, arbitrary: op('create', fc.tuple(this.createData(model, 1), returning).map(([data, shape]) => ({ data, ...shape }))) },
      op('createMany', createMany.map((data) => ({ data }))),
      op('createManyAndReturn', fc.tuple(createMany, flatShape).map(([data, shape]) => ({ data, ...shape }))),
      { weight: 4, arbitrary: op('update', fc.tuple(this.uniqueWhere(model), this.updateData(model), returning).map(([where, data, shape]) => ({ where, data, ...shape }))) },
      op('updateMany', updateMany.map(([where, data]) => ({ where, data }))),
      op('updateManyAndReturn', fc.tuple(updateMany, flatShape).map(([[where, data], shape]) => ({ where, data, ...shape }))),
      { weight: 2, arbitrary: op('upsert', fc.tuple(this.uniqueWhere(model), this.createData(model, 1), this.updateData(model), returning).map(([where, create, update, shape]) => ({ where, create, update, ...shape }))) },
      { weight: 2, arbitrary: op('delete', fc.tuple(this.uniqueWhere(model), returning).map(([where, shape]) => ({ where, ...shape }))) },
      op('deleteMany', this.where(model, 1).map((where) => ({ where }))),
    )
  }

  raw(model: ModelInfo): fc.Arbitrary<Omit<Extract<Step, { kind: 'raw' }>, 'bind'>> | undefined {
    const strings = model.scalars.filter((field) => field.type === 'String' && !model.foreignKeys.has(field.name) && !model.uniques.some((key) => key.includes(field.name)))
    if (strings.length === 0 || model.primaryKey.length !== 1) return undefined
    return fc.record({
      kind: fc.constant('raw' as const),
      statement: fc.constantFrom('update' as const, 'select' as const),
      model: fc.constant(model.name),
      field: fc.constantFrom(...strings.map((field) => field.name)),
      value: fc.constantFrom('raw-a', 'raw-b'),
      row: pickIndex.map((pick) => new Ref(model.name, model.primaryKey, pick, 'value')),
    })
  }

  // -------------------------------------------------------------------------------------------
  // Sequences
  // -------------------------------------------------------------------------------------------

  /**
   * Sequences for combining: one parent-to-children relation and one shape of each read for the
   * whole sequence (so the pair is learned), as pages on random parent rows in a few sessions,
   * with random writes and waits between them.
   */
  pages(options: { maxLength: number; sessions: number }): fc.Arbitrary<Step[]> {
    // `fks`: the child read is `where: { [fk]: { in: [row[fks[0]], ...] } }` (nulls dropped).
    type Pair = { parent: ModelInfo; child: ModelInfo; fk: string; ref: string; fks?: string[]; mode: 'list' | 'one' | 'in' }
    const pairs: Pair[] = []
    for (const model of this.data.models) {
      const toOne = new Map<string, string[]>()
      for (const field of model.relations) {
        const back = this.data.back(model, field)
        if (field.isList && back.fkFields?.length === 1) pairs.push({ parent: model, child: this.model(field.type), fk: back.fkFields[0], ref: back.references![0], mode: 'list' })
        // To-one: the related row by the row's foreign key, and the rows its foreign keys to one model name.
        if (!field.isList && field.fkFields?.length === 1) {
          pairs.push({ parent: model, child: this.model(field.type), fk: field.references![0], ref: field.fkFields[0], mode: 'one' })
          const key = `${field.type}.${field.references![0]}`
          toOne.set(key, [...(toOne.get(key) ?? []), field.fkFields[0]])
        }
      }
      for (const [key, fks] of toOne) {
        const [target, fk] = key.split('.')
        const child = this.model(target)
        if (child.scalars.find((field) => field.name === fk)?.type === 'Int') pairs.push({ parent: model, child, fk, ref: fks[0], fks, mode: 'in' })
      }
    }
    const writes = fc.oneof(...this.data.models.map((model) => this.write(model)))
    return fc.constantFrom(...pairs).chain(({ parent, child, fk, ref, fks, mode }) => {
      const carried = fks ?? [ref]
      const parentShape = this.shape(parent, 1).map((shape) => {
        // The row must carry the fields the child read's where takes.
        if ('select' in shape) return { ...shape, select: { ...(shape.select as object), ...Object.fromEntries(carried.map((name) => [name, true])) } }
        if ('omit' in shape) return { ...shape, omit: Object.fromEntries(Object.entries(shape.omit as object).filter(([name]) => !carried.includes(name))) }
        return shape
      })
      // A cursor cannot be loaded as a relation: lists with one are sent as they are.
      const listArgs = fc.tuple(this.listArgs(child, 0), this.shape(child, 1)).map(([{ cursor: _cursor, ...list }, shape]) => ({ ...list, ...shape }))
      // An `in` list ordered by its key either way (combined), or with no orderBy (the plan's order: sent as it is).
      const inArgs = fc.tuple(this.shape(child, 1), fc.constantFrom('asc', 'desc', undefined)).map(([shape, dir]) => (dir === undefined ? shape : { ...shape, orderBy: { [fk]: dir } }))
      const childArgs = mode === 'list' ? listArgs : mode === 'in' ? inArgs : this.shape(child, 1)
      const childOperation = mode === 'one' ? fc.constantFrom('findUnique', 'findFirst') : fc.constant('findMany')
      // findUnique only (a findUniqueOrThrow parent is covered by test/integration/speculative-batching.test.ts).
      return fc.tuple(fc.constantFrom(...parent.uniques), fc.constant('findUnique'), parentShape, childArgs, childOperation).chain(([key, operation, shape, args, childOp]) => {
        const bind: fc.Arbitrary<Bind> = fc.record({ lane: fc.constant(0), session: fc.nat({ max: options.sessions - 1 }), forSession: fc.boolean() })
        const page = fc.tuple(pickIndex, bind).map(
          ([pick, b]): Step => ({
            kind: 'page',
            bind: b,
            parent: { model: parent.name, operation, args: { where: new Ref(parent.name, key, pick, 'where'), ...shape } },
            child: { model: child.name, operation: childOp, args },
            fk,
            ref,
            ...(fks === undefined ? {} : { fks }),
          }),
        )
        // Writes of the parent model most: a parent read that misses is one combining can send combined.
        const step: fc.Arbitrary<Step> = fc.oneof(
          { weight: 8, arbitrary: page },
          { weight: 3, arbitrary: fc.tuple(this.write(parent), bind).map(([query, b]): Step => ({ kind: 'write', bind: b, ...query })) },
          { weight: 1, arbitrary: fc.tuple(writes, bind).map(([query, b]): Step => ({ kind: 'write', bind: b, ...query })) },
          { weight: 1, arbitrary: fc.constant<Step>({ kind: 'idle', lane: 0 }) },
        )
        return fc.array(step, { minLength: Math.min(8, options.maxLength), maxLength: options.maxLength })
      })
    })
  }

  steps(lanes: number, options: { maxLength: number; sessions: number }): fc.Arbitrary<Step[]> {
    const models = this.data.models
    const bind: fc.Arbitrary<Bind> = fc.record({
      lane: fc.nat({ max: lanes - 1 }),
      session: fc.integer({ min: -1, max: options.sessions - 1 }),
      forSession: fc.boolean(),
    })
    const reads = fc.oneof(...models.map((model) => this.read(model)))
    const writes = fc.oneof(...models.map((model) => this.write(model)))
    const fluents = models.map((model) => this.fluent(model)).filter((arb) => arb !== undefined)
    const raws = models.map((model) => this.raw(model)).filter((arb) => arb !== undefined)
    const step: fc.Arbitrary<Step> = fc.oneof(
      { weight: 10, arbitrary: fc.tuple(reads, bind).map(([query, b]): Step => ({ kind: 'read', bind: b, ...query })) },
      { weight: 3, arbitrary: fc.tuple(fc.nat({ max: 20 }), bind).map(([index, b]): Step => ({ kind: 'repeat', bind: b, index })) },
      { weight: 2, arbitrary: fc.tuple(fc.oneof(...fluents), bind).map(([fluent, b]): Step => ({ ...fluent, bind: b })) },
      { weight: 6, arbitrary: fc.tuple(writes, bind).map(([query, b]): Step => ({ kind: 'write', bind: b, ...query })) },
      { weight: 1, arbitrary: fc.tuple(fc.oneof(...raws), bind).map(([raw, b]): Step => ({ ...raw, bind: b })) },
      { weight: 1, arbitrary: fc.tuple(fc.array(fc.oneof(reads, writes), { minLength: 1, maxLength: 3 }), bind).map(([queries, b]): Step => ({ kind: 'batch', bind: b, queries })) },
      {
        weight: 1,
        arbitrary: fc.tuple(fc.array(fc.oneof(reads, writes), { minLength: 1, maxLength: 3 }), fc.boolean(), bind).map(([queries, commit, b]): Step => ({ kind: 'transaction', bind: b, queries, commit })),
      },
      { weight: 2, arbitrary: fc.nat({ max: lanes - 1 }).map((lane): Step => ({ kind: 'idle', lane })) },
    )
    return fc.array(step, { minLength: 1, maxLength: options.maxLength })
  }
}
