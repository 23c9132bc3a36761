/**
 * Cache keys: the key of one query (model, operation, scope and the canonical text of its
 * arguments, src/canonical.ts), kept short and free of Redis Cluster hash tags; and the digest
 * used for long keys and entry hashes.
 */

import { createHash } from 'node:crypto'
import { canonicalArgs } from '../canonical.ts'

/** Keys longer than this are replaced by their SHA-256, so key size is bounded. */
const MAX_PLAIN_KEY = 200

/**
 * The cache key of one query: model, operation, scope and canonical arguments. Long keys are
 * hashed, so keys stay short whatever the arguments.
 *
 * So are keys with a brace in them (from a string value or the scope): in a Redis Cluster, a key
 * holding `{...}` is placed by that part alone (a hash tag), and keys that shared one, such as
 * every `findUnique` with the same `include` had while objects were written in braces, would all
 * land in one slot of one node. Hashing the whole key is the only cure that holds for every
 * client: `{}` first should make Redis hash the whole key, but the slot function of node-redis,
 * ioredis and iovalkey (cluster-key-slot) then takes the next `{...}` as the tag, and routes
 * wrongly.
 */
export function queryKey(model: string, operation: string, scope: string, args: unknown): string {
  const text = `${model}.${operation}|${scope.length}:${scope}|${canonicalArgs(args)}`
  if (text.length <= MAX_PLAIN_KEY && !text.includes('{') && !text.includes('}')) return text
  return `#${digest(text)}`
}

/** The SHA-256 of `text`, in base64url (43 characters), or its first `length` characters. */
export function digest(text: string, length?: number): string {
  const hash = createHash('sha256').update(text).digest('base64url')
  return length === undefined ? hash : hash.slice(0, length)
}
