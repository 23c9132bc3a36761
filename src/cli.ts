#!/usr/bin/env node
/**
 * `npx prisma-prefetch report`: the HTML report of what every process sharing a keyv store has
 * learned, with their counters summed, read from the store (processes publish both every
 * `learn.shareIntervalMs`, and on close()).
 *
 *   npx prisma-prefetch report --redis redis://127.0.0.1:6379 [--namespace prisma-prefetch] [--out report.html]
 *   npx prisma-prefetch report --redis redis://10.0.0.1:7001   (any node of a Redis Cluster)
 *   (whatever the application's Keyv namespace and useKeyPrefix: the keys are found in Redis)
 *   npx prisma-prefetch report --store ./cache.js   (a module whose default export is your Keyv)
 */
import { realpathSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { createCodec } from './cache/codec.ts'
import { learnedKeys, parseIndex, type PublishedStats } from './middleware/learning-share.ts'
import { DEFAULTS } from './options.ts'
import { renderReport } from './report/html.ts'
import { openRedisReport } from './report/redis.ts'
import { emptyCounters, emptyOperation, emptyPrefetch, emptyStrategy, modelStats, operationStats, strategyStats, totalRatios } from './stats.ts'
import { LearnedPredictor, type SharedModel } from './strategies/learner.ts'
import type { KeyvLike } from './types.ts'
import type { Counters, OperationCounters, PrefetchStats, StrategyCounters, TimelinePoint } from './stats-types.ts'

const USAGE = `usage: prisma-prefetch report (--redis <url> | --store <module>) [--namespace <ns>] [--prefix <text>] [--out <file>] [--title <text>]

  --redis      a Redis URL, or the URLs of Redis Cluster nodes separated by commas (a cluster is
               recognised from any one node); whatever namespace and useKeyPrefix the application's
               Keyv has, the keys it wrote are found in Redis (needs keyv and @keyv/redis)
  --prefix     with --redis, the text Keyv puts before every key in Redis, when several are found:
               "keyv::" for new Keyv({ store, useKeyPrefix: false }), "keyv::keyv:" for Keyv's
               defaults, "<ns>::<ns>:" for a Keyv namespace <ns>, "" for createKeyv() of @keyv/redis
  --store      a module whose default export is the Keyv your application gives prefetch({ cache })
  --namespace  the namespace option your application uses (default prisma-prefetch)
  --out        where to write the page (default prisma-prefetch-report.html)
  --title      the page's title`

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      redis: { type: 'string' },
      store: { type: 'string' },
      namespace: { type: 'string', default: 'prisma-prefetch' },
      prefix: { type: 'string' },
      out: { type: 'string', default: 'prisma-prefetch-report.html' },
      title: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help || positionals[0] !== 'report' || positionals.length !== 1 || (values.redis === undefined) === (values.store === undefined)) {
    console.error(USAGE)
    return values.help ? 0 : 2
  }
  if (values.prefix !== undefined && values.redis === undefined) {
    console.error('prisma-prefetch: --prefix goes with --redis (a --store module is read as it is)')
    return 2
  }
  const { store, close } = values.redis !== undefined ? await openRedisReport(values.redis, values.namespace, values.prefix) : await moduleStore(values.store!)
  try {
    const html = await reportFromStore(store, values.namespace, values.title)
    writeFileSync(values.out, html)
    console.log(`prisma-prefetch: report written to ${resolve(values.out)}`)
    return 0
  } finally {
    await close()
  }
}

/** Reads what the processes sharing `store` published and renders it. */
export async function reportFromStore(store: KeyvLike, namespace: string, title?: string): Promise<string> {
  const keys = learnedKeys(namespace)
  const tags = parseIndex(await store.get(keys.index))
  if (tags.length === 0) {
    throw new Error(`prisma-prefetch: nothing published under namespace "${namespace}" in this store (processes publish every learn.shareIntervalMs and on close())`)
  }
  const codec = createCodec()
  const learner = new LearnedPredictor(DEFAULTS.learn)
  const published: PublishedStats[] = []
  for (const tag of tags) {
    const model = await store.get(keys.model(tag))
    if (typeof model === 'string') {
      try {
        learner.merge(codec.decode(model) as SharedModel)
      } catch (error) {
        console.error(`prisma-prefetch: skipped the model of process ${tag}: ${(error as Error).message}`)
      }
    }
    const stats = await store.get(keys.stats(tag))
    if (typeof stats === 'string') {
      try {
        published.push(JSON.parse(stats) as PublishedStats)
      } catch {
        console.error(`prisma-prefetch: skipped the statistics of process ${tag}: not JSON`)
      }
    }
  }
  const { stats, timeline } = combine(published)
  return renderReport({
    title: title ?? `prisma-prefetch report (${tags.length} process${tags.length === 1 ? '' : 'es'})`,
    generatedAt: new Date().toISOString(),
    model: { ...learner.describe(200), rules: [] },
    stats,
    timeline,
  })
}

/** The counters of several processes, summed; their timelines summed on the union of their times. */
function combine(all: PublishedStats[]): { stats: PrefetchStats; timeline: TimelinePoint[] } {
  const totals = emptyCounters()
  const byModel: Record<string, Counters> = {}
  const byStrategy: Record<string, StrategyCounters> = {}
  const byOperation: Record<string, OperationCounters> = {}
  const prefetch = emptyPrefetch()
  const add = <C extends object>(into: C, from: Partial<C> | undefined) => {
    for (const key of Object.keys(into) as (keyof C)[]) (into[key] as number) += Number(from?.[key]) || 0
  }
  for (const { stats } of all) {
    add(totals, stats)
    for (const [model, counters] of Object.entries(stats.byModel ?? {})) add((byModel[model] ??= emptyCounters()), counters)
    for (const [strategy, counters] of Object.entries(stats.byStrategy ?? {})) add((byStrategy[strategy] ??= emptyStrategy()), counters)
    for (const [operation, counters] of Object.entries(stats.byOperation ?? {})) add((byOperation[operation] ??= emptyOperation()), counters)
    for (const key of ['issued', 'completed', 'failed', 'used', 'wasted', 'expired'] as const) prefetch[key] += Number(stats.prefetch?.[key]) || 0
  }
  const stats: PrefetchStats = {
    ...totals,
    ...totalRatios(totals, prefetch),
    prefetch,
    errors: { store: 0, timeouts: 0, decode: 0, predict: 0 },
    l1: { entries: 0, bytes: 0 },
    scheduler: { queued: 0, inFlight: 0, limit: 0, threshold: 0 },
    byModel: Object.fromEntries(Object.entries(byModel).map(([model, counters]) => [model, modelStats(counters)])),
    byStrategy: Object.fromEntries(Object.entries(byStrategy).map(([strategy, counters]) => [strategy, strategyStats(counters, totals.reads)])),
    byOperation: Object.fromEntries(Object.entries(byOperation).map(([operation, counters]) => [operation, operationStats(counters)])),
  }
  const lines = all.map((p) => (Array.isArray(p.timeline) ? p.timeline : []))
  const times = [...new Set(lines.flat().map((p) => p.at))].sort((a, b) => a - b)
  const timeline = times.map((at) => {
    const sum: TimelinePoint = { at, reads: 0, hits: 0, misses: 0, prefetched: 0, late: 0, completed: 0, used: 0 }
    for (const line of lines) {
      // Each process's counters as they stood at `at` (its last point before it).
      const last = line.filter((p) => p.at <= at).at(-1)
      if (last === undefined) continue
      for (const key of ['reads', 'hits', 'misses', 'prefetched', 'late', 'completed', 'used'] as const) sum[key] += Number(last[key]) || 0
    }
    return sum
  })
  return { stats, timeline }
}

async function moduleStore(path: string): Promise<{ store: KeyvLike; close(): Promise<void> }> {
  const loaded = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown }
  const store = loaded.default as KeyvLike & { disconnect?: () => Promise<void> }
  if (store === null || typeof store !== 'object' || typeof store.get !== 'function') {
    throw new Error(`prisma-prefetch: ${path} must export a Keyv as its default export`)
  }
  return { store, close: async () => void (await store.disconnect?.()) }
}

// Run as a command (through npm's bin link, too), not when imported.
const invoked = process.argv[1] === undefined ? '' : pathToFileURL(realpathSync(process.argv[1])).href
if (import.meta.url === invoked) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error((error as Error).message)
      process.exit(1)
    },
  )
}
