/**
 * The benchmark's per-template waits: of the reads and writes a page asked for, which ones still
 * waited on the database, by query template (model, operation and the shape of the arguments,
 * their values erased). It shows where a mode loses to the oracles: the reads prefetching did not
 * have ready. A read waited unless the extension served it from a cache without joining a query
 * in flight; the extension says so through its telemetry counters (`telemetry.meter`), which are
 * counted in the read's own async context, so each is told to the read that caused it.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { MeterLike } from '../src/types.ts'

/** Of one read: whether the extension served it from a cache, and whether that hit joined a flight. */
interface Served {
  hit: boolean
  late: boolean
}

/** The shape of a query's arguments: keys kept, values erased, a list of any length as one `[?]`. */
export function shapeOf(value: unknown): string {
  if (Array.isArray(value)) return '[?]'
  if (value === null || typeof value !== 'object' || value instanceof Date) return '?'
  return `{${Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}:${shapeOf(v)}`)
    .join(',')}}`
}

/** A query's template: `model.operation shape`. */
export function templateOf(model: string, operation: string, args: unknown): string {
  return `${model}.${operation} ${args === undefined ? '{}' : shapeOf(args)}`
}

/** Counts the waits of one mode's run by template. */
export class TemplateWaits {
  private readonly current = new AsyncLocalStorage<Served>()
  readonly waits = new Map<string, number>()

  /** A meter for the extension's `telemetry` option that marks the read being served. */
  meter(): MeterLike {
    const mark = (name: string) => {
      const field = name === 'prisma_prefetch.hits' ? 'hit' : name === 'prisma_prefetch.hits.late' ? 'late' : undefined
      return {
        add: () => {
          const served = this.current.getStore()
          if (served !== undefined && field !== undefined) served[field] = true
        },
      }
    }
    return { createCounter: mark, createUpDownCounter: mark, createHistogram: () => ({ record: () => {} }) }
  }

  /** Runs one application read (a Prisma query, sent when awaited here) and counts it if it waited. */
  async read<T>(template: string, send: () => PromiseLike<T>): Promise<T> {
    const served: Served = { hit: false, late: false }
    try {
      return await this.current.run(served, async () => await send())
    } finally {
      if (!served.hit || served.late) this.waited(template)
    }
  }

  /** Counts one operation that waited whatever the cache held (a write). */
  waited(template: string): void {
    this.waits.set(template, (this.waits.get(template) ?? 0) + 1)
  }
}

/** Waits per page by template, largest first. */
export function perPage(waits: ReadonlyMap<string, number> | Record<string, number>, pages: number): Record<string, number> {
  const entries = waits instanceof Map ? [...waits] : Object.entries(waits)
  return Object.fromEntries(entries.sort((a, b) => b[1] - a[1]).map(([template, n]) => [template, n / Math.max(1, pages)]))
}

/** The mean over rounds of each template's waits per page. */
export function meanOverRounds(rounds: readonly (Record<string, number> | undefined)[]): Record<string, number> {
  const sums = new Map<string, number>()
  for (const round of rounds) for (const [template, n] of Object.entries(round ?? {})) sums.set(template, (sums.get(template) ?? 0) + n / rounds.length)
  return perPage(sums, 1)
}

/**
 * A table a person can read: per template, each mode's waits per page (templates that cost at
 * least `min` waits per page in some mode, largest in the first mode first).
 */
export function formatTemplateWaits(workload: string, byMode: Record<string, Record<string, number> | undefined>, min = 0.02): string {
  const modes = Object.keys(byMode).filter((mode) => byMode[mode] !== undefined)
  const templates = new Set<string>()
  for (const mode of modes) for (const [template, n] of Object.entries(byMode[mode]!)) if (n >= min) templates.add(template)
  const first = byMode[modes[0]] ?? {}
  const rows = [...templates].sort((a, b) => (first[b] ?? 0) - (first[a] ?? 0))
  const lines = [`${workload}: waits/page by query template`, ['', ...modes].join('\t')]
  for (const template of rows) lines.push([...modes.map((mode) => (byMode[mode]![template] ?? 0).toFixed(2)), template].join('\t'))
  return lines.join('\n')
}
