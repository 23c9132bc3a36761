/**
 * Cache keys: the key of one query (the SHA-256 of model, operation, scope and the canonical text
 * of its arguments, src/canonical.ts), and the digest used for entry hashes.
 */

import { hash } from 'node:crypto'
import { BoundedMap } from '../bounded-map.ts'
import { prefixedArgs } from '../canonical.ts'

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
  return digest(keyText(model, operation, scope, args, canonical))
}

/** What `queryKey` hashes. `canonical`: `canonicalArgs(args)`, when the caller has it already (it is not written twice). */
function keyText(model: string, operation: string, scope: string, args: unknown, canonical: string | undefined): string {
  const prefix = scope === '' ? unscopedPrefix(model, operation) : `${model}.${operation}|${scope.length}:${scope}|`
  // The arguments are written straight after the prefix: one pass, no separate text joined to it.
  return canonical === undefined ? prefixedArgs(prefix, args) : prefix + canonical
}

/** `keyText`'s prefix for the empty scope, by model and operation (a read's own are few). */
const unscopedPrefixes = new Map<string, Map<string, string>>()
/** Prefixes `unscopedPrefixes` holds at most, in all. */
const MAX_PREFIXES = 1024
let prefixCount = 0

function unscopedPrefix(model: string, operation: string): string {
  let byOperation = unscopedPrefixes.get(model)
  let prefix = byOperation?.get(operation)
  if (prefix !== undefined) return prefix
  prefix = `${model}.${operation}|0:|`
  if (prefixCount < MAX_PREFIXES) {
    if (byOperation === undefined) unscopedPrefixes.set(model, (byOperation = new Map()))
    byOperation.set(operation, prefix)
    prefixCount++
  }
  return prefix
}

/** Texts whose keys a `QueryKeys` remembers at most, and the longest text it remembers. */
const REMEMBERED_KEYS = 512
const MAX_REMEMBERED_TEXT = 512

/**
 * `queryKey`, remembering the keys of the last texts it hashed, for texts that recur (the
 * predicted reads checked against the cache before they are queued): a map lookup of a text
 * remembered costs a fraction of the hash, though one of a new text costs about as much as the
 * hash. Bounded: at most 512 texts of at most 512 characters, the first remembered forgotten
 * first; a longer text is hashed every time.
 */
export class QueryKeys {
  /** Insertion order: `set` of a new text past the bound forgets the first remembered. */
  private readonly known = new BoundedMap<string, string>(REMEMBERED_KEYS)

  key(model: string, operation: string, scope: string, args: unknown, canonical?: string): string {
    const text = keyText(model, operation, scope, args, canonical)
    if (text.length > MAX_REMEMBERED_TEXT) return digest(text)
    let key = this.known.get(text)
    if (key === undefined) {
      key = digest(text)
      this.known.set(text, key)
    }
    return key
  }

  /** Texts remembered now (for tests of the bound). */
  get size(): number {
    return this.known.size
  }
}

/** The SHA-256 of `text`, in base64url (43 characters), or its first `length` characters. */
export function digest(text: string, length?: number): string {
  const sha = hash('sha256', text, 'base64url')
  return length === undefined ? sha : sha.slice(0, length)
}
