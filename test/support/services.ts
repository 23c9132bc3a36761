import { createClient } from '@keyv/redis'
import { accessSync, constants } from 'node:fs'
import { describe } from 'vitest'

/**
 * The servers and programs some suites need (Redis, a Redis Cluster, Chromium), probed once per
 * test file. When one is missing, the suites that need it are registered as skipped, each marked
 * with what is missing, and test/support/skipped-services.ts prints one line per service at the
 * end of the run ("Redis not reachable at ...: 23 tests skipped; start it with ..."), so `npm
 * test` passes on a machine with nothing but Node. Under CI every one of them is required: a
 * missing one fails the file that needs it, loudly.
 */

/** CI is set (and not to '', '0' or 'false'): every service is required. */
export const CI = process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI)

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
/** The nodes of a Redis Cluster (`.ci/redis-cluster` starts one on these ports), comma separated. */
export const REDIS_CLUSTER_URLS = (process.env.REDIS_CLUSTER_URLS ?? 'redis://127.0.0.1:7001,redis://127.0.0.1:7002,redis://127.0.0.1:7003')
  .split(',')
  .map((url) => url.trim())
  .filter((url) => url !== '')
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export interface Service {
  name: string
  /** Where it was looked for. */
  at: string
  /** 'not reachable' or 'not found'. */
  missing: string
  /** How to get it running: 'start it with ...'. */
  start: string
  /** Why it is not usable, or undefined when it is. */
  problem: string | undefined
}

/** What a skipped suite carries for the reporter (vitest's task meta). */
export interface MissingService {
  /** 'Redis not reachable at redis://...' */
  what: string
  /** 'start it with ...' */
  start: string
}

declare module 'vitest' {
  interface TaskMeta {
    missingService?: MissingService
  }
}

const probes = new Map<string, Promise<Service>>()

/** Probes `name` once per file; under CI a missing service throws here, naming it. */
function probe(name: string, at: string, missing: string, start: string, problemOf: () => Promise<string | undefined>): Promise<Service> {
  let found = probes.get(name)
  if (found === undefined) {
    found = problemOf().then((problem) => {
      if (problem !== undefined && CI) {
        throw new Error(`prisma-prefetch tests: CI is set and ${name} is ${missing} at ${at} (${problem}); ${start}`)
      }
      return { name, at, missing, start, problem }
    })
    probes.set(name, found)
  }
  return found
}

/** The Redis at REDIS_URL. */
export function redis(): Promise<Service> {
  return probe('Redis', REDIS_URL, 'not reachable', 'start it with redis-server --daemonize yes --port 6379 --save "" --appendonly no (or set REDIS_URL)', () => redisProblem(REDIS_URL, false))
}

/** A healthy Redis Cluster at REDIS_CLUSTER_URLS. */
export function redisCluster(): Promise<Service> {
  return probe('Redis Cluster', REDIS_CLUSTER_URLS.join(','), 'not reachable', 'start one with .ci/redis-cluster (docs/redis-cluster.md; or set REDIS_CLUSTER_URLS)', async () => {
    if (REDIS_CLUSTER_URLS.length === 0) return 'REDIS_CLUSTER_URLS names no node'
    for (const url of REDIS_CLUSTER_URLS) {
      const problem = await redisProblem(url, true)
      if (problem !== undefined) return problem
    }
    return undefined
  })
}

/** Debian's Chromium (or CHROMIUM_PATH), which the report test opens its page in. */
export function chromium(): Promise<Service> {
  return probe('Chromium', CHROMIUM_PATH, 'not found', 'install it with apt-get install chromium (or set CHROMIUM_PATH)', async () => {
    try {
      accessSync(CHROMIUM_PATH, constants.X_OK)
      return undefined
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message
    }
  })
}

/** Why Redis at `url` is not usable (as a cluster node in state ok, when `cluster`), or undefined. */
async function redisProblem(url: string, cluster: boolean): Promise<string | undefined> {
  const client = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } })
  client.on('error', () => {}) // the failed connect below says what went wrong
  try {
    await client.connect()
    if (!cluster) {
      await client.ping()
      return undefined
    }
    const info = String(await client.sendCommand(['CLUSTER', 'INFO']))
    return /^cluster_state:ok\s*$/m.test(info) ? undefined : `${url} says ${/^cluster_state:\w+/m.exec(info)?.[0] ?? 'no cluster_state'}`
  } catch (error) {
    return cluster ? `${url}: ${(error as Error).message}` : (error as Error).message
  } finally {
    if (client.isOpen) await client.close()
  }
}

/**
 * `describe(name, fn)` when `service` is usable; otherwise the same suite, skipped and marked
 * with what is missing (its tests are still collected, so the reporter can count them).
 */
export function describeWith(service: Service, name: string, fn: () => void): void {
  if (service.problem === undefined) describe(name, fn)
  else describe(name, { skip: true, meta: { missingService: { what: `${service.name} ${service.missing} at ${service.at}`, start: service.start } } }, fn)
}
