/**
 * Cache keys: the key of one query (the SHA-256 of model, operation, scope and the canonical text
 * of its arguments, src/canonical.ts), and the digest used for entry hashes.
 */

import { hash } from 'node:crypto'
import { canonicalArgs } from '../canonical.ts'

/**
 * The cache key of one query: the SHA-256 of model, operation, scope and canonical arguments, in
 * base64url (43 characters). Always hashed, however short: the arguments (emails, names, ids a
 * user typed) never show in the store's key list, every key has the same size, and no key holds a
 * brace. A brace matters on a Redis Cluster: a key holding `{...}` is placed by that part alone
 * (a hash tag), so keys that shared one (every `findUnique` with the same `include`, while objects
 * were written in braces) would all land in one slot of one node.
 *
 * This runs on every read, hits included: the one-shot `crypto.hash` costs about 1.5 us on a
 * short key here, less than half of `createHash().update().digest()`, and SHA-1 or MD5 are no
 * faster, so the key keeps a collision-resistant hash.
 */
export function queryKey(model: string, operation: string, scope: string, args: unknown, canonical?: string): string {
  // `canonical`: `canonicalArgs(args)`, when the caller has it already (it is not written twice).
  return digest(`${model}.${operation}|${scope.length}:${scope}|${canonical ?? canonicalArgs(args)}`)
}

/** The SHA-256 of `text`, in base64url (43 characters), or its first `length` characters. */
export function digest(text: string, length?: number): string {
  const sha = hash('sha256', text, 'base64url')
  return length === undefined ? sha : sha.slice(0, length)
}
