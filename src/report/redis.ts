// The store `prisma-prefetch report --redis` reads: finds where Keyv put the publishers' keys in Redis.
import { learnedKeys } from '../middleware/learning-share.ts'
import type { KeyvLike } from '../types.ts'

/**
 * The store `prisma-prefetch report --redis` reads. Where Keyv puts the library's keys in Redis
 * depends on how the application built its Keyv: `new Keyv({ store: new KeyvRedis(url) })` writes
 * `keyv::keyv:<key>`, the README's `useKeyPrefix: false` writes `keyv::<key>`, a Keyv `namespace`
 * `app` writes `app::app:<key>` (or `app::<key>`), `createKeyv(url)` of @keyv/redis writes `<key>`
 * bare. The command cannot know which, so it finds the publishers' index in Redis itself: first
 * under the usual prefixes (one EXISTS each), then, when none holds it, by a SCAN for keys ending
 * in `<namespace>:learned:index` (on every master of a cluster). It then reads through a Keyv
 * with no prefix of its own, prepending the prefix it found, so values are decoded as Keyv wrote
 * them.
 */
export interface RedisReport {
  store: KeyvLike
  /** The text before `<namespace>:` in the Redis keys that was found (or given). */
  prefix: string
  close(): Promise<void>
}

/** The prefixes of the usual Keyv settings, most common first. */
export const USUAL_PREFIXES = ['keyv::', 'keyv::keyv:', ''] as const

interface RawRedis {
  exists(key: string): Promise<number>
}
interface ScanNode {
  sendCommand(args: string[]): Promise<unknown>
}

export async function openRedisReport(urls: string, namespace: string, prefix?: string): Promise<RedisReport> {
  let modules: [typeof import('keyv'), typeof import('@keyv/redis')]
  try {
    modules = await Promise.all([import('keyv'), import('@keyv/redis')])
  } catch {
    throw new Error('prisma-prefetch: --redis needs the packages keyv and @keyv/redis installed')
  }
  const [{ default: Keyv }, { default: KeyvRedis, createClient, createCluster }] = modules
  const nodes = urls
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '')
  if (nodes.length === 0) throw new Error(`prisma-prefetch: --redis needs a Redis URL: ${JSON.stringify(urls)}`)
  // A node of a Redis Cluster answers only for its own slots (MOVED for the rest), so ask the
  // first node whether it is one; a one-shot command neither waits for nor retries a server.
  const first = createClient({ url: nodes[0], socket: { connectTimeout: 5000, reconnectStrategy: false } })
  let failure: Error | undefined
  first.on('error', (error: Error) => void (failure ??= error))
  let adapter: InstanceType<typeof KeyvRedis>
  let raw: RawRedis
  let scanNodes: () => Promise<ScanNode[]>
  try {
    await first.connect()
    if (/^cluster_enabled:1\s*$/m.test(String(await first.sendCommand(['INFO', 'cluster'])))) {
      await first.close()
      const cluster = createCluster({ rootNodes: nodes.map((url) => ({ url })) })
      // Connected before @keyv/redis gets it: it routes by the slot map, which connect() reads.
      await cluster.connect()
      adapter = new KeyvRedis(cluster)
      raw = cluster as unknown as RawRedis
      scanNodes = () => Promise.all(cluster.masters.map((master) => cluster.nodeClient(master) as Promise<unknown> as Promise<ScanNode>))
    } else {
      if (nodes.length > 1) {
        await first.close()
        throw new Error(`prisma-prefetch: --redis lists ${nodes.length} URLs, but ${nodes[0]} is not a node of a Redis Cluster`)
      }
      adapter = new KeyvRedis(first)
      raw = first as unknown as RawRedis
      scanNodes = async () => [first as unknown as ScanNode]
    }
  } catch (error) {
    if (first.isOpen) await first.close()
    if ((error as Error).message.startsWith('prisma-prefetch:')) throw error
    throw new Error(`prisma-prefetch: cannot read Redis at ${nodes.join(',')}: ${(failure ?? (error as Error)).message}`)
  }
  const close = () => adapter.disconnect()
  try {
    const found = prefix ?? (await findPrefix(raw, scanNodes, namespace))
    // No namespace and no key prefix of Keyv's own: the key in Redis is exactly prefix + key.
    const keyv = new Keyv({ store: adapter, namespace: undefined, useKeyPrefix: false })
    const store: KeyvLike = {
      get: (key) => keyv.get(found + key),
      set: (key, value, ttl) => keyv.set(found + key, value, ttl),
      delete: (key) => keyv.delete(found + key),
    }
    return { store, prefix: found, close }
  } catch (error) {
    await close()
    throw error
  }
}

/** The prefix under which the publishers' index of `namespace` lies. */
async function findPrefix(raw: RawRedis, scanNodes: () => Promise<ScanNode[]>, namespace: string): Promise<string> {
  const index = learnedKeys(namespace).index
  const usual: string[] = []
  for (const prefix of USUAL_PREFIXES) if ((await raw.exists(prefix + index)) > 0) usual.push(prefix)
  const prefixes = usual.length > 0 ? usual : await scanPrefixes(await scanNodes(), index)
  if (prefixes.length === 0) {
    throw new Error(
      `prisma-prefetch: nothing published under namespace "${namespace}" in this Redis (no key ends in "${index}"; processes publish every learn.shareIntervalMs and on close())`,
    )
  }
  if (prefixes.length > 1) {
    const list = prefixes.map((prefix) => JSON.stringify(prefix)).join(', ')
    throw new Error(`prisma-prefetch: namespace "${namespace}" is published under several Keyv prefixes in this Redis (${list}): choose one with --prefix`)
  }
  return prefixes[0]!
}

/** The prefixes of the keys ending in `suffix`, found by SCAN on each node. */
async function scanPrefixes(nodes: ScanNode[], suffix: string): Promise<string[]> {
  const pattern = `*${suffix.replace(/[*?[\]\\]/g, '\\$&')}`
  const prefixes = new Set<string>()
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, keys] = (await node.sendCommand(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000'])) as [string, string[]]
      for (const key of keys) prefixes.add(key.slice(0, key.length - suffix.length))
      cursor = String(next)
    } while (cursor !== '0')
  }
  return [...prefixes].sort()
}
