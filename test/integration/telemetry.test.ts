import { metrics, trace } from '@opentelemetry/api'
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { pushSchema } from '../../scripts/schema-engine.ts'
import { rule } from '../../src/index.ts'
import type { PrefetchStats } from '../../src/stats-types.ts'
import { brokenStore } from '../support/stores.ts'
import { setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

/**
 * The OpenTelemetry integration against a real client, read back through the SDK's in-memory
 * metric exporter and span exporter: every counter agrees with stats(), attributes name the
 * model and the strategy, and each speculative query (as the spy beneath sees them) has its span.
 */
const env = await setup()
const rows = await seed(env.bare)
const root = join(import.meta.dirname, '..', '..')

function sdk() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  const meterProvider = new MeterProvider({ readers: [reader] })
  const spans = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  afterAll(async () => {
    await meterProvider.shutdown()
    await tracerProvider.shutdown()
  })
  /** Each metric's data points: name -> [attributes, value (a sum, or a histogram's count and sum)]. */
  const read = async () => {
    await reader.forceFlush()
    const last: ResourceMetrics | undefined = exporter.getMetrics().at(-1)
    const out = new Map<string, Array<{ attributes: Record<string, unknown>; value: number; sum?: number }>>()
    for (const scope of last?.scopeMetrics ?? []) {
      for (const metric of scope.metrics) {
        out.set(
          metric.descriptor.name,
          metric.dataPoints.map((point) =>
            typeof point.value === 'number'
              ? { attributes: point.attributes, value: point.value }
              : { attributes: point.attributes, value: (point.value as { count: number }).count, sum: (point.value as { sum: number }).sum },
          ),
        )
      }
    }
    return out
  }
  return { meterProvider, tracerProvider, spans, read }
}

type Points = Awaited<ReturnType<ReturnType<typeof sdk>['read']>>
/** The sum of a metric's points whose attributes include `where`. */
const total = (points: Points, name: string, where: Record<string, string> = {}) =>
  (points.get(name) ?? []).filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v)).reduce((sum, p) => sum + p.value, 0)

const postsOfUser = rule('User.findUnique').then('Post.findMany', ({ result }) => (result ? { where: { authorId: result.id }, orderBy: { id: 'asc' } } : null))

/** Sessions of a user page then their posts: on-time hits (the page waits), and late ones or misses (it does not). */
async function browse(prisma: Awaited<ReturnType<typeof env.client>>['prisma'], sessions: number) {
  for (let s = 0; s < sessions; s++) {
    await prisma.$prefetch.session(`t${s}`, async () => {
      const id = s % 2 ? rows.alice.id : rows.bob.id
      const user = await prisma.user.findUnique({ where: { id } })
      if (s % 3 !== 0) await prisma.$prefetch.idle()
      await prisma.post.findMany({ where: { authorId: user!.id }, orderBy: { id: 'asc' } })
      // A write now and then: generations, invalidations, wasted prefetches.
      if (s % 5 === 4) await prisma.post.update({ where: { id: rows.posts[s].id }, data: { views: { increment: 1n } } })
    })
  }
  await prisma.$prefetch.idle()
}

describe('telemetry', () => {
  it('counts what stats() counts, by model and strategy, and gives each speculative read a span', async () => {
    const otel = sdk()
    const c = await env.client({
      rules: [postsOfUser],
      telemetry: { meter: otel.meterProvider.getMeter('test'), tracer: otel.tracerProvider.getTracer('test') },
    })
    await browse(c.prisma, 24)
    const stats: PrefetchStats = c.prisma.$prefetch.stats()
    const points = await otel.read()

    expect(stats.prefetchHits).toBeGreaterThan(0)
    for (const model of ['User', 'Post']) {
      const counted = stats.byModel[model]!
      expect(total(points, 'prisma_prefetch.reads', { model }), model).toBe(counted.reads)
      expect(total(points, 'prisma_prefetch.hits', { model }), model).toBe(counted.hits)
      expect(total(points, 'prisma_prefetch.misses', { model }), model).toBe(counted.misses)
      expect(total(points, 'prisma_prefetch.hits.on_time', { model }), model).toBe(counted.prefetchHits)
      expect(total(points, 'prisma_prefetch.hits.late', { model }), model).toBe(counted.lateHits)
      expect(total(points, 'prisma_prefetch.writes', { model }), model).toBe(counted.writes)
      expect(total(points, 'prisma_prefetch.db_queries', { model }), model).toBe(counted.dbQueries)
    }
    for (const [strategy, counted] of Object.entries(stats.byStrategy)) {
      for (const name of ['issued', 'completed', 'failed', 'used', 'wasted'] as const) {
        expect(total(points, `prisma_prefetch.prefetch.${name}`, { strategy }), `${strategy} ${name}`).toBe(counted[name])
      }
      expect(total(points, 'prisma_prefetch.hits.on_time', { strategy })).toBe(counted.prefetchHits)
    }
    expect(Object.keys(stats.byStrategy)).toContain('rule')
    // Hits on the rule's results name both.
    expect(total(points, 'prisma_prefetch.hits.on_time', { model: 'Post', strategy: 'rule' })).toBe(stats.byStrategy.rule!.prefetchHits)
    // One saved-time sample per hit on a speculative result; their sum is stats().savedMs.
    expect(total(points, 'prisma_prefetch.saved_time')).toBe(stats.prefetchHits + stats.lateHits)
    const savedSum = (points.get('prisma_prefetch.saved_time') ?? []).reduce((sum, p) => sum + (p.sum ?? 0), 0)
    expect(savedSum).toBeCloseTo(stats.savedMs, 6)
    expect(total(points, 'prisma_prefetch.late_wait')).toBe(stats.lateHits)
    for (const [reason, count] of Object.entries(stats.prefetch.skipped)) expect(total(points, 'prisma_prefetch.prefetch.skipped', { reason }), reason).toBe(count)

    // A span per speculative query the database saw, none for the application's.
    const spans = otel.spans.getFinishedSpans()
    expect(spans.length).toBeGreaterThan(0)
    expect(spans).toHaveLength(c.spy.speculative.length)
    for (const span of spans) {
      expect(span.name).toBe('prisma-prefetch speculative read')
      expect(span.attributes['prisma_prefetch.speculative']).toBe(true)
    }
    const described = (list: Array<{ model?: string; operation: string }>) => list.map((q) => `${q.model}.${q.operation}`).sort()
    expect(described(spans.map((s) => ({ model: s.attributes['prisma_prefetch.model'] as string, operation: s.attributes['prisma_prefetch.operation'] as string })))).toEqual(
      described(c.spy.speculative),
    )
    await c.prisma.$prefetch.close()
  })

  it('counts absorbed store failures by kind, and stops recording after close()', async () => {
    const otel = sdk()
    const c = await env.client({ cache: brokenStore('reject'), telemetry: { meter: otel.meterProvider.getMeter('test') }, onError: () => {} })
    for (let i = 0; i < 3; i++) await c.prisma.user.findUnique({ where: { id: rows.alice.id } })
    await c.prisma.$prefetch.idle()
    const stats = c.prisma.$prefetch.stats()
    expect(stats.errors.store).toBeGreaterThan(0)
    expect(total(await otel.read(), 'prisma_prefetch.errors', { kind: 'store' })).toBe(stats.errors.store)
    await c.prisma.$prefetch.close()
    const reads = total(await otel.read(), 'prisma_prefetch.reads')
    await c.prisma.user.findUnique({ where: { id: rows.alice.id } })
    expect(total(await otel.read(), 'prisma_prefetch.reads')).toBe(reads)
  })

  it('telemetry: true records to the global meter and tracer', async () => {
    const otel = sdk()
    metrics.setGlobalMeterProvider(otel.meterProvider)
    trace.setGlobalTracerProvider(otel.tracerProvider)
    try {
      const c = await env.client({ rules: [postsOfUser], telemetry: true })
      await browse(c.prisma, 4)
      expect(total(await otel.read(), 'prisma_prefetch.reads')).toBe(c.prisma.$prefetch.stats().reads)
      expect(otel.spans.getFinishedSpans()).toHaveLength(c.spy.speculative.length)
      await c.prisma.$prefetch.close()
    } finally {
      metrics.disable()
      trace.disable()
    }
  })

  // The example is written for SQLite (a file of its own, whatever DATABASE_URL selects).
  it.skipIf(env.db.provider !== 'sqlite')("docs/telemetry.md's example runs as written and prints its metrics and span", { timeout: 60_000 }, async () => {
    const doc = readFileSync(join(root, 'docs', 'telemetry.md'), 'utf8')
    const example = /```ts\n([\s\S]*?)```/.exec(doc)![1]!
    // Inside the project (.tmp/ is git-ignored), so the example's packages resolve from its node_modules.
    mkdirSync(join(root, '.tmp'), { recursive: true })
    const work = mkdtempSync(join(root, '.tmp', 'telemetry-'))
    try {
      const url = `file:${join(work, 'dev.db')}`
      await pushSchema({ provider: 'sqlite', url, schema: readFileSync(join(root, 'prisma', 'schema.prisma'), 'utf8') })
      const file = join(work, 'example.ts')
      writeFileSync(
        file,
        example
          .replace("from 'prisma-prefetch'", `from ${JSON.stringify(pathToFileURL(join(root, 'src', 'index.ts')).href)}`)
          .replace("from './generated/prisma/client'", `from ${JSON.stringify(pathToFileURL(join(root, 'src', 'generated', 'prisma', 'client.ts')).href)}`)
          .replace("'file:./dev.db'", JSON.stringify(url)),
      )
      const run = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8' })
      expect(run.stderr).toBe('')
      expect(run.status).toBe(0)
      expect(run.stdout).toMatch(/^prisma_prefetch\.reads \{"model":"User"\} 1$/m)
      expect(run.stdout).toMatch(/^prisma_prefetch\.hits\.on_time \{"model":"Post","strategy":"rule"\} 1$/m)
      expect(run.stdout).toMatch(/^prisma_prefetch\.prefetch\.used \{"strategy":"rule"\} 1$/m)
      expect(run.stdout).toMatch(/^span prisma-prefetch speculative read \{"prisma_prefetch\.speculative":true,"prisma_prefetch\.model":"Post","prisma_prefetch\.operation":"findMany"\}$/m)
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  })
})
