// The data model the differential tester generates queries from, read from a Prisma client:
// models, fields, kinds and types from the client's runtime data model, and what that leaves out
// (list and optional modifiers, ids, uniques, defaults, foreign keys, referential actions, enum
// values) from the schema text the client was generated with (`_engineConfig.inlineSchema`).
// Nothing here names a model of prisma/schema.prisma: a new model or field is generated for as
// soon as the client is regenerated.

export interface FieldInfo {
  name: string
  kind: 'scalar' | 'enum' | 'object'
  /** Scalar type (Int, String, ...), enum name or related model. */
  type: string
  isList: boolean
  isOptional: boolean
  isId: boolean
  isUnique: boolean
  hasDefault: boolean
  isUpdatedAt: boolean
  relationName?: string
  /** On the side that holds the foreign key: its fields and the fields they reference. */
  fkFields?: string[]
  references?: string[]
}

export interface ModelInfo {
  name: string
  /** The client's delegate property: `user` for User. */
  delegate: string
  /** Table name. */
  table: string
  fields: FieldInfo[]
  scalars: FieldInfo[]
  relations: FieldInfo[]
  /** Primary key fields (one, or several for `@@id`). */
  primaryKey: string[]
  /** Every unique key: the id, each `@unique` field, each `@@unique`, as field lists. */
  uniques: string[][]
  /** Scalars that are foreign keys of a relation of this model. */
  foreignKeys: Set<string>
}

export interface DataModel {
  provider: 'sqlite' | 'postgresql'
  models: ModelInfo[]
  byName: Map<string, ModelInfo>
  enums: Map<string, string[]>
  /** The field on the other side of a relation field. */
  back(model: ModelInfo, field: FieldInfo): FieldInfo
  /** `{ a_b: { a, b } }` or `{ a }`: the `where` of a unique key with values from `row`. */
  uniqueWhere(model: ModelInfo, key: string[], row: Record<string, unknown>): Record<string, unknown>
}

interface RuntimeField {
  name: string
  kind: string
  type: string
  relationName?: string
}

interface ClientInternals {
  _runtimeDataModel?: { models: Record<string, { fields: RuntimeField[]; dbName: string | null }> }
  _engineConfig?: { inlineSchema?: string; activeProvider?: string }
  _activeProvider?: string
}

const blocks = (schema: string, keyword: string) =>
  [...schema.replace(/\/\/[^\n]*/g, '').matchAll(new RegExp(`\\b${keyword}\\s+(\\w+)\\s*\\{([^}]*)\\}`, 'g'))].map(
    ([, name, body]) => ({ name, lines: body.split('\n').map((line) => line.trim()).filter(Boolean) }),
  )

const list = (text: string | undefined) => (text ?? '').split(',').map((name) => name.trim()).filter(Boolean)

export function readDataModel(client: unknown): DataModel {
  const internals = client as ClientInternals
  const runtime = internals._runtimeDataModel?.models
  const schema = internals._engineConfig?.inlineSchema
  if (runtime === undefined || typeof schema !== 'string') throw new Error('differential: the client has no runtime data model or schema text')
  const provider = /provider\s*=\s*"postgresql"/.test(schema) ? 'postgresql' : 'sqlite'
  const enums = new Map(blocks(schema, 'enum').map(({ name, lines }) => [name, lines.map((line) => line.split(/\s/)[0])]))
  const texts = new Map(blocks(schema, 'model').map(({ name, lines }) => [name, lines]))

  const models: ModelInfo[] = Object.entries(runtime).map(([name, { fields: runtimeFields, dbName }]) => {
    const lines = texts.get(name) ?? []
    const fieldLine = new Map(lines.filter((line) => !line.startsWith('@@')).map((line) => [line.split(/\s+/)[0], line]))
    const fields: FieldInfo[] = runtimeFields.map((field) => {
      const line = fieldLine.get(field.name) ?? ''
      const type = line.split(/\s+/)[1] ?? ''
      const relation = /@relation\(([^)]*)\)/.exec(line)?.[1]
      const fkFields = relation && /fields\s*:/.test(relation) ? list(/fields\s*:\s*\[([^\]]*)\]/.exec(relation)?.[1]) : undefined
      return {
        name: field.name,
        kind: field.kind as FieldInfo['kind'],
        type: field.type,
        isList: type.endsWith('[]'),
        isOptional: type.endsWith('?'),
        isId: /@id\b/.test(line),
        isUnique: /@unique\b/.test(line),
        hasDefault: /@default\(/.test(line),
        isUpdatedAt: /@updatedAt\b/.test(line),
        relationName: field.relationName,
        fkFields,
        references: fkFields && list(/references\s*:\s*\[([^\]]*)\]/.exec(relation!)?.[1]),
      }
    })
    const compound = (attribute: string) =>
      lines.filter((line) => line.startsWith(`@@${attribute}(`)).map((line) => list(/\[([^\]]*)\]/.exec(line)?.[1]))
    const primaryKey = fields.filter((field) => field.isId).map((field) => field.name)
    const pk = primaryKey.length > 0 ? primaryKey : compound('id')[0]
    return {
      name,
      delegate: name[0].toLowerCase() + name.slice(1),
      table: dbName ?? name,
      fields,
      scalars: fields.filter((field) => field.kind !== 'object'),
      relations: fields.filter((field) => field.kind === 'object'),
      primaryKey: pk,
      uniques: [pk, ...fields.filter((field) => field.isUnique).map((field) => [field.name]), ...compound('unique')],
      foreignKeys: new Set(fields.flatMap((field) => field.fkFields ?? [])),
    }
  })
  const byName = new Map(models.map((model) => [model.name, model]))
  return {
    provider,
    models,
    byName,
    enums,
    back(model, field) {
      const target = byName.get(field.type)!
      const other = target.relations.find(
        (candidate) => candidate.relationName === field.relationName && (candidate !== field || model !== target) && (target !== model || candidate.name !== field.name),
      )
      if (other === undefined) throw new Error(`differential: no other side of ${model.name}.${field.name}`)
      return other
    },
    uniqueWhere(_model, key, row) {
      if (key.length === 1) return { [key[0]]: row[key[0]] }
      return { [key.join('_')]: Object.fromEntries(key.map((name) => [name, row[name]])) }
    },
  }
}
