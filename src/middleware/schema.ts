/**
 * What the extension needs to know about the client's schema: its models, the relation fields
 * of each, and which models hold a foreign key to which (for cascading deletes and updates).
 * Read once, when the extension is applied, from the client's runtime data model and, for the
 * foreign-key sides, from the schema text the client was generated with.
 */
export interface SchemaInfo {
  models: readonly string[]
  /** model -> relation field -> related model */
  relations: ReadonlyMap<string, ReadonlyMap<string, string>>
  /**
   * model -> the models whose rows a delete or a key update of it may change through referential
   * actions, with the fields of `model` they reference (`undefined`: unknown, assume any).
   */
  referencedBy: ReadonlyMap<string, ReadonlyArray<{ model: string; fields: readonly string[] | undefined }>>
  /** model -> its single-field unique keys (`@id`, `@unique`); empty when the schema text is unknown. */
  uniqueFields: ReadonlyMap<string, ReadonlySet<string>>
  /** model -> field -> its kind, type and modifiers (every field, scalar and relation). */
  fields: ReadonlyMap<string, ReadonlyMap<string, FieldInfo>>
  /**
   * model -> every way a `findUnique` where (or a cursor) can name one row: each `@id` and
   * `@unique` field, and each `@@id`/`@@unique` under its key name (`a_b`, or its `name:`).
   * A model is absent when the schema text is unknown.
   */
  uniqueSelectors: ReadonlyMap<string, readonly UniqueSelector[]>
  /**
   * model -> the related models `_count: true` counts: those of its list relations (of every
   * relation when the schema text is unknown, so a count never misses a dependency).
   */
  counted: ReadonlyMap<string, readonly string[]>
  /**
   * model -> the single-field unique keys whose values name a row exactly, so that a read by one
   * and a write that returned it agree on the text of its value (see row-generations.ts): `int`
   * for Int and BigInt, `string` for String where the database compares strings byte for byte
   * (SQLite, PostgreSQL and CockroachDB, but not a `@db.Citext` column). Empty when unknown.
   */
  rowFields: ReadonlyMap<string, ReadonlyMap<string, 'int' | 'string'>>
  /**
   * model -> field -> the list relations of other models that a read filtered on that field (a
   * single-field foreign key) can be loaded through: `Post.authorId` -> `User.posts` referencing
   * `User.id`. Empty when the schema text is unknown.
   */
  loadedThrough: ReadonlyMap<string, ReadonlyMap<string, { model: string; relation: string; references: string }>>
  /**
   * model -> field -> the to-one relation whose single-field foreign key it is: `Item.sellerId` ->
   * `Item.seller`, to `User`, referencing `User.id`. Empty when the schema text is unknown.
   */
  toOne: ReadonlyMap<string, ReadonlyMap<string, { model: string; relation: string; references: string }>>
}

export interface FieldInfo {
  /** `scalar`, `enum` or `object` (a relation), as the runtime data model says. */
  kind: string
  /** `Int`, `String`, `Json`, an enum's or a model's name, ... */
  type: string
  /** `Type[]`; undefined when the schema text is unknown. */
  list: boolean | undefined
  /** `Type?`; undefined when the schema text is unknown. */
  optional: boolean | undefined
}

export interface UniqueSelector {
  /** The key a where uses: the field's name, or a compound key's name. */
  name: string
  /** The fields it is made of (one for `@id`/`@unique`). */
  fields: readonly string[]
}

interface RuntimeField {
  name: string
  kind: string
  type: string
  relationName?: string
}

interface ClientInternals {
  _runtimeDataModel?: { models?: Record<string, { fields?: RuntimeField[] }> }
  _engineConfig?: { inlineSchema?: string }
}

/** Reads the schema of a Prisma client. Throws if the client does not look like a Prisma 7 client. */
export function describeSchema(client: unknown): SchemaInfo {
  const internals = client as ClientInternals
  const runtimeModels = internals._runtimeDataModel?.models
  if (runtimeModels === undefined || typeof runtimeModels !== 'object') {
    throw new TypeError('prisma-prefetch: the client has no runtime data model; is it a Prisma 7 client?')
  }
  const models = Object.keys(runtimeModels)
  const relations = new Map<string, Map<string, string>>()
  for (const model of models) {
    const fields = new Map<string, string>()
    for (const field of runtimeModels[model].fields ?? []) {
      if (field.kind === 'object' && field.relationName !== undefined && runtimeModels[field.type] !== undefined) {
        fields.set(field.name, field.type)
      }
    }
    relations.set(model, fields)
  }
  const foreignKeys = parseForeignKeys(internals._engineConfig?.inlineSchema)
  const referencedBy = new Map<string, Array<{ model: string; fields: readonly string[] | undefined }>>()
  for (const model of models) referencedBy.set(model, [])
  for (const [holder, fields] of relations) {
    for (const [field, target] of fields) {
      const key = foreignKeys?.get(`${holder}.${field}`)
      if (foreignKeys !== undefined && key === undefined) continue // the key is on the other side
      referencedBy.get(target)!.push({ model: holder, fields: key })
    }
  }
  const text = internals._engineConfig?.inlineSchema
  const declared = parseFieldDeclarations(text)
  const fields = new Map<string, Map<string, FieldInfo>>()
  const counted = new Map<string, string[]>()
  for (const model of models) {
    const infos = new Map<string, FieldInfo>()
    for (const field of runtimeModels[model].fields ?? []) {
      const modifiers = declared?.get(model)?.get(field.name)
      infos.set(field.name, { kind: field.kind, type: field.type, list: modifiers?.list, optional: modifiers?.optional })
    }
    fields.set(model, infos)
    const targets = [...relations.get(model)!].filter(([field]) => infos.get(field)?.list !== false).map(([, target]) => target)
    counted.set(model, [...new Set(targets)])
  }
  const uniqueFields = parseUniqueFields(text)
  const loadedThrough = new Map<string, Map<string, { model: string; relation: string; references: string }>>()
  const keyFields = parseKeyFields(text)
  const toOne = new Map<string, Map<string, { model: string; relation: string; references: string }>>()
  for (const model of models) {
    for (const field of runtimeModels[model].fields ?? []) {
      const key = keyFields?.get(`${model}.${field.name}`)
      if (field.kind !== 'object' || key === undefined || key.fields.length !== 1 || key.references.length !== 1) continue
      let own = toOne.get(model)
      if (own === undefined) toOne.set(model, (own = new Map()))
      own.set(key.fields[0], { model: field.type, relation: field.name, references: key.references[0] })
      // The other side: the list field of the target model in the same relation.
      const back = (runtimeModels[field.type]?.fields ?? []).find(
        (other) => other.kind === 'object' && other.type === model && other.relationName === field.relationName && !(field.type === model && other.name === field.name),
      )
      if (back === undefined || fields.get(field.type)?.get(back.name)?.list !== true) continue
      let byField = loadedThrough.get(model)
      if (byField === undefined) loadedThrough.set(model, (byField = new Map()))
      byField.set(key.fields[0], { model: field.type, relation: back.name, references: key.references[0] })
    }
  }
  return { models, relations, referencedBy, uniqueFields, fields, uniqueSelectors: parseUniqueSelectors(text), counted, rowFields: rowFieldsOf(text, uniqueFields, fields), loadedThrough, toOne }
}

/** Providers whose default string comparison is exact, so one row has one text per unique string. */
const EXACT_STRINGS = new Set(['sqlite', 'postgresql', 'postgres', 'cockroachdb'])

function rowFieldsOf(
  schema: string | undefined,
  unique: ReadonlyMap<string, ReadonlySet<string>>,
  fields: ReadonlyMap<string, ReadonlyMap<string, FieldInfo>>,
): Map<string, Map<string, 'int' | 'string'>> {
  const out = new Map<string, Map<string, 'int' | 'string'>>()
  if (typeof schema !== 'string') return out
  const provider = /\bdatasource\s+\w+\s*\{[^}]*?\bprovider\s*=\s*"([^"]+)"/.exec(schema.replace(/\/\/[^\n]*/g, ''))?.[1]
  const exactStrings = provider !== undefined && EXACT_STRINGS.has(provider)
  const citext = new Set<string>()
  for (const [, model, body] of modelBlocks(schema)) {
    for (const line of body.split('\n')) {
      const match = /^\s*(\w+)\s.*@db\.Citext\b/i.exec(line)
      if (match !== null) citext.add(`${model}.${match[1]}`)
    }
  }
  for (const [model, names] of unique) {
    const kinds = new Map<string, 'int' | 'string'>()
    for (const name of names) {
      const field = fields.get(model)?.get(name)
      if (field === undefined || field.kind !== 'scalar' || field.list === true) continue
      if (field.type === 'Int' || field.type === 'BigInt') kinds.set(name, 'int')
      else if (field.type === 'String' && exactStrings && !citext.has(`${model}.${name}`)) kinds.set(name, 'string')
    }
    out.set(model, kinds)
  }
  return out
}

/** `Model` -> `field` -> whether its type is a list (`[]`) and whether it is optional (`?`). */
function parseFieldDeclarations(schema: string | undefined): Map<string, Map<string, { list: boolean; optional: boolean }>> | undefined {
  if (typeof schema !== 'string' || schema.length === 0) return undefined
  const out = new Map<string, Map<string, { list: boolean; optional: boolean }>>()
  for (const [, model, body] of modelBlocks(schema)) {
    const fields = new Map<string, { list: boolean; optional: boolean }>()
    for (const line of body.split('\n')) {
      const match = /^\s*(\w+)\s+(?:\w+|Unsupported\("[^"]*"\))(\[\])?(\?)?/.exec(line)
      if (match !== null) fields.set(match[1], { list: match[2] !== undefined, optional: match[3] !== undefined })
    }
    out.set(model, fields)
  }
  return out
}

/** Every unique selector of every model: `@id`/`@unique` fields, then `@@id`/`@@unique` compounds. */
function parseUniqueSelectors(schema: string | undefined): Map<string, UniqueSelector[]> {
  const out = new Map<string, UniqueSelector[]>()
  if (typeof schema !== 'string') return out
  for (const [model, fields] of parseUniqueFields(schema)) out.set(model, [...fields].map((name) => ({ name, fields: [name] })))
  for (const [, model, body] of modelBlocks(schema)) {
    for (const line of body.split('\n')) {
      const attribute = /^\s*@@(?:id|unique)\s*\((.*)\)/.exec(line)?.[1]
      const list = attribute === undefined ? undefined : /\[([^\]]*)\]/.exec(attribute)?.[1]
      if (list === undefined) continue
      // `[title(sort: Desc), slug(length: 10)]`: the field names without their arguments.
      const names = list.replace(/\([^)]*\)/g, '').split(',').map((name) => name.trim()).filter(Boolean)
      const name = /\bname\s*:\s*"([^"]*)"/.exec(attribute!)?.[1] ?? names.join('_')
      out.get(model)?.push({ name, fields: names })
    }
  }
  return out
}

/** Fields marked `@id` or `@unique` on their own line of a model block, per model. */
function parseUniqueFields(schema: string | undefined): Map<string, Set<string>> {
  const unique = new Map<string, Set<string>>()
  if (typeof schema !== 'string') return unique
  for (const [, model, body] of modelBlocks(schema)) {
    const fields = new Set<string>()
    for (const line of body.split('\n')) {
      const match = /^\s*(\w+)\s+\w+[?[\]]*\s.*@(id|unique)\b/.exec(line)
      if (match !== null) fields.add(match[1])
    }
    unique.set(model, fields)
  }
  return unique
}

function modelBlocks(schema: string) {
  return schema.replace(/\/\/[^\n]*/g, '').matchAll(/\bmodel\s+(\w+)\s*\{([^}]*)\}/g)
}

/**
 * `Model.field` -> referenced fields, for every relation field that holds the foreign key
 * (`@relation(fields: [...], references: [...])`). `undefined` when the schema text is not
 * available, in which case every related model is assumed to be affected.
 */
function parseForeignKeys(schema: string | undefined): Map<string, string[]> | undefined {
  if (typeof schema !== 'string' || schema.length === 0) return undefined
  const keys = new Map<string, string[]>()
  for (const [, model, body] of modelBlocks(schema)) {
    for (const line of body.split('\n')) {
      const field = /^\s*(\w+)\s/.exec(line)?.[1]
      const relation = /@relation\(([^)]*)\)/.exec(line)?.[1]
      if (field === undefined || relation === undefined) continue
      const references = /references\s*:\s*\[([^\]]*)\]/.exec(relation)?.[1]
      if (!/fields\s*:/.test(relation) || references === undefined) continue
      keys.set(
        `${model}.${field}`,
        references.split(',').map((name) => name.trim()).filter(Boolean),
      )
    }
  }
  return keys
}

/** `Model.relationField` -> the fields holding its foreign key and the fields they reference. */
function parseKeyFields(schema: string | undefined): Map<string, { fields: string[]; references: string[] }> | undefined {
  if (typeof schema !== 'string' || schema.length === 0) return undefined
  const names = (list: string) => list.split(',').map((name) => name.trim()).filter(Boolean)
  const keys = new Map<string, { fields: string[]; references: string[] }>()
  for (const [, model, body] of modelBlocks(schema)) {
    for (const line of body.split('\n')) {
      const field = /^\s*(\w+)\s/.exec(line)?.[1]
      const relation = /@relation\(([^)]*)\)/.exec(line)?.[1]
      if (field === undefined || relation === undefined) continue
      const fields = /fields\s*:\s*\[([^\]]*)\]/.exec(relation)?.[1]
      const references = /references\s*:\s*\[([^\]]*)\]/.exec(relation)?.[1]
      if (fields !== undefined && references !== undefined) keys.set(`${model}.${field}`, { fields: names(fields), references: names(references) })
    }
  }
  return keys
}
