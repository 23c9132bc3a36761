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
  return { models, relations, referencedBy, uniqueFields: parseUniqueFields(internals._engineConfig?.inlineSchema) }
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
