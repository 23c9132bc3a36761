/**
 * The fingerprint of a client's result-shaping configuration (schema, global omit, provider,
 * adapter, Prisma version) that partitions cached entries.
 */

import { randomBytes } from 'node:crypto'
import { digest } from '../cache/key.ts'
import { canonicalArgs } from '../canonical.ts'

/**
 * Everything of a Prisma 7 client, beyond a query's own arguments, that decides what the query
 * returns. Read from the client's private fields (as `describeSchema` does); a field missing
 * simply adds nothing.
 */
interface ClientInternals {
  _runtimeDataModel?: unknown
  _globalOmit?: unknown
  _activeProvider?: unknown
  _clientVersion?: unknown
  _previewFeatures?: unknown
  _engineConfig?: {
    inlineSchema?: unknown
    activeProvider?: unknown
    accelerateUrl?: unknown
    adapter?: { provider?: unknown; adapterName?: unknown }
  }
}

/**
 * Bump when the layout of a shared-store entry changes (what `ResultStore` encodes), or the
 * canonical text of its key, so that processes of different releases sharing a store never read
 * each other's entries. Entries of a release before this one carry no format in their key and are
 * never read either (their keys sorted the members of select and include: under the very text a
 * key has now, they may hold a result whose fields come in another order).
 */
const ENTRY_FORMAT = 'e2'

/**
 * A short hash of the client's result-shaping configuration and of its schema, put into the key
 * of every entry in the shared store: clients that would return different results for the same
 * arguments never read each other's entries, and a deployment with a new schema never reads the
 * entries of the old one. What goes in, and why:
 * - the schema: the runtime data model (models, fields, their kinds and types, relations, the
 *   database names of models) and the schema text without comments and generator blocks (it
 *   also has what the runtime data model leaves out: enum values, optionality, native types,
 *   composite types, `@map`). A change of comments or of the generator's output does not split
 *   the cache; every other schema change does, even one that shapes no result (harmless: the
 *   new deployment starts with a cold shared cache);
 * - the client's global `omit` (PrismaClient option): fields left out of every result;
 * - the provider and the driver adapter (`adapter.provider`, `adapter.adapterName`), or
 *   Accelerate: SQLite, PostgreSQL, MySQL... differ in values (Decimal and DateTime precision,
 *   ordering, case sensitivity);
 * - the Prisma client version and its preview features, which can change results between
 *   releases.
 * The other PrismaClient options (`log`, `errorFormat`, `transactionOptions`, `comments`,
 * `queryPlanCacheMaxSize`) shape no cached result: errors are never cached.
 * Which database a client reads is not part of it (the adapter keeps it private): clients of
 * different databases sharing a store need different `namespace`s (or `scope`s).
 */
export function resultFingerprint(client: unknown): string {
  const internals = (client ?? {}) as ClientInternals
  const engine = internals._engineConfig ?? {}
  const parts = {
    format: ENTRY_FORMAT,
    schema: schemaText(engine.inlineSchema),
    dataModel: internals._runtimeDataModel ?? null,
    omit: internals._globalOmit ?? null,
    provider: internals._activeProvider ?? engine.activeProvider ?? null,
    adapter: engine.adapter ? [engine.adapter.provider ?? null, engine.adapter.adapterName ?? null] : null,
    // Only whether: the URL holds an API key, and the data behind it is the provider's.
    accelerate: typeof engine.accelerateUrl === 'string' && engine.accelerateUrl !== '',
    version: internals._clientVersion ?? null,
    preview: Array.isArray(internals._previewFeatures) ? [...internals._previewFeatures].map(String).sort() : null,
  }
  let text: string
  try {
    text = canonicalArgs(parts)
  } catch {
    // Values with no canonical text (never in a real client): their JSON, and if even that
    // fails, a fingerprint of this process alone, which shares no entry rather than a wrong one.
    text = safeJson(parts) ?? `process:${randomBytes(16).toString('hex')}`
  }
  return digest(text, 16)
}

/** The schema text with comments, blank space and generator blocks taken out. */
function schemaText(schema: unknown): string | null {
  if (typeof schema !== 'string') return null
  return (
    schema
      // A comment starts the line or follows blank space; `//` inside a string ("http://") stays.
      .replace(/(^|\s)\/\/[^\n]*/g, '$1')
      .replace(/\bgenerator\s+\w+\s*\{[^}]*\}/g, '')
      .replace(/\s+/g, ' ')
      .trim()
  )
}

function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value)
  } catch {
    return undefined
  }
}
