import type { WorkloadName } from './workloads/catalog.ts'

/** What one mode measured on one workload in one round. */
export interface RoundResult {
  meanPageMs: number
  p50PageMs: number
  p95PageMs: number
  /**
   * Application reads and writes per page that waited on the database: reads that missed the
   * cache, reads that joined a speculative query in flight (late hits), and writes. Round trips
   * the user paid for, counted, so CPU noise cannot move it.
   */
  waitsPerPage: number
  /** Reads served from a speculative result stored before they were asked / reads. */
  onTimeCoverage: number
  /** Reads that joined a speculative query in flight / reads. */
  lateCoverage: number
  /** Of the time late hits would have waited, the share they did not (their query had run). */
  lateSavedShare: number
  /** Speculative queries whose result served a read / speculative queries completed. */
  precision: number
  /** Reads served from a cache (any) / reads. */
  hitRate: number
  /**
   * The same for single-row reads by a unique key only (`SINGLE_ROW_OPERATIONS`: findUnique and
   * findUniqueOrThrow), the reads row generations keep valid across writes to other rows; 0 for
   * modes that do not tell their hits per operation (none, extensionRedis).
   */
  singleRowHitRate: number
  /** Single-row reads (`SINGLE_ROW_OPERATIONS`) / reads: how much of `hitRate` they weigh. */
  singleRowShare: number
  /** Statements that reached the database (demand and speculative) per page. */
  dbQueriesPerPage: number
  /** Speculative queries issued per page (what a predictor tried). */
  issuedPerPage: number
  /** Reads sent combined with their follower (one statement for both) per page. */
  combinedPerPage: number
  /** Speculative results invalidated or evicted before any read used them, per page. */
  wastedPerPage: number
  /**
   * Predicted reads not run because the event loop was busier than `cpu.maxUtilization`
   * (`prefetch.skipped.cpuBusy`), per page: on a loaded machine, the CPU-aware back-off.
   */
  cpuBusyPerPage: number
  /** Milliseconds speculation stayed paused by the CPU-aware back-off (`prefetch.cpuBackoffMs`), over the run. */
  cpuBackoffMs: number
  /** Process CPU time (user + system) per page, ms: the cost of the mode on the client. */
  cpuMsPerPage: number
  /** Share of the run the event loop was busy (0-1): near 1, latencies measure CPU, not round trips. */
  eventLoopUtilization: number
  pages: number
  /** Operations per page that waited, by query template (bench/diagnostic.ts), where the mode tells it. */
  waitsByTemplate?: Record<string, number>
}

export const ROUND_FIELDS = [
  'meanPageMs',
  'p50PageMs',
  'p95PageMs',
  'waitsPerPage',
  'onTimeCoverage',
  'lateCoverage',
  'lateSavedShare',
  'precision',
  'hitRate',
  'singleRowHitRate',
  'singleRowShare',
  'dbQueriesPerPage',
  'issuedPerPage',
  'combinedPerPage',
  'wastedPerPage',
  'cpuBusyPerPage',
  'cpuBackoffMs',
  'cpuMsPerPage',
  'eventLoopUtilization',
  'pages',
] as const satisfies readonly (keyof RoundResult)[]

/** A mode over every round: each figure the median of the rounds, with their min and max. */
export interface ModeResult extends RoundResult {
  range: Record<(typeof ROUND_FIELDS)[number], { min: number; max: number }>
  rounds: RoundResult[]
}

/**
 * Reads of one row by a unique key: what `singleRowHitRate` counts. `findFirst` is not one of
 * them: it filters and orders like a list, and depends on the model's list generation.
 */
export const SINGLE_ROW_OPERATIONS = ['findUnique', 'findUniqueOrThrow'] as const

/** `prefetchPerModel`: prefetch with row generations off, so every write invalidates its whole model. */
export const MODES = ['none', 'cacheOnly', 'extensionRedis', 'markovExact', 'prefetch', 'prefetchPerModel', 'pageOracle', 'oracle'] as const
export type Mode = (typeof MODES)[number]

export interface Run {
  workload: WorkloadName
  preset: string
  rttMs: number
  thinkMs: number
  sessions: number
  rounds: number
  modes: Partial<Record<Mode, ModeResult>>
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** What a round counted, besides page latencies. */
export interface RoundCounts {
  /** Statements that reached the database. */
  dbQueries: number
  /** Application reads and writes that waited on the database. */
  waits: number
  reads: number
  hits: number
  /** Reads of `SINGLE_ROW_OPERATIONS`, and those of them served from a cache. */
  singleRowReads: number
  singleRowHits: number
  onTimeHits: number
  lateHits: number
  lateSavedMs: number
  lateWaitMs: number
  issued: number
  /** Reads sent combined with the read predicted to follow them (`byStrategy.combine.issued`). */
  combined: number
  completed: number
  used: number
  /** Speculative results dropped unread (invalidated by a write, expired or evicted). */
  wasted: number
  /** Predicted reads skipped as `cpuBusy`, and milliseconds speculation was paused for the CPU. */
  cpuBusy: number
  cpuBackoffMs: number
  cpuMs: number
  eventLoopUtilization: number
}

const ratio = (part: number, whole: number) => (whole === 0 ? 0 : part / whole)

/** Page latencies (ms) and counters of one round of one mode into its result. */
export function summarize(latencies: readonly number[], counts: RoundCounts): RoundResult {
  const sorted = [...latencies].sort((a, b) => a - b)
  const pages = Math.max(1, sorted.length)
  return {
    meanPageMs: sorted.reduce((sum, x) => sum + x, 0) / pages,
    p50PageMs: percentile(sorted, 50),
    p95PageMs: percentile(sorted, 95),
    waitsPerPage: counts.waits / pages,
    onTimeCoverage: ratio(counts.onTimeHits, counts.reads),
    lateCoverage: ratio(counts.lateHits, counts.reads),
    lateSavedShare: ratio(counts.lateSavedMs, counts.lateSavedMs + counts.lateWaitMs),
    precision: ratio(counts.used, counts.completed),
    hitRate: ratio(counts.hits, counts.reads),
    singleRowHitRate: ratio(counts.singleRowHits, counts.singleRowReads),
    singleRowShare: ratio(counts.singleRowReads, counts.reads),
    dbQueriesPerPage: counts.dbQueries / pages,
    issuedPerPage: counts.issued / pages,
    combinedPerPage: counts.combined / pages,
    wastedPerPage: counts.wasted / pages,
    cpuBusyPerPage: counts.cpuBusy / pages,
    cpuBackoffMs: counts.cpuBackoffMs,
    cpuMsPerPage: counts.cpuMs / pages,
    eventLoopUtilization: counts.eventLoopUtilization,
    pages: sorted.length,
  }
}

/** The rounds of one mode into medians with their spread. */
export function combineRounds(rounds: readonly RoundResult[]): ModeResult {
  const result = { range: {}, rounds: [...rounds] } as ModeResult
  for (const field of ROUND_FIELDS) {
    const values = rounds.map((r) => r[field])
    result[field] = median(values)
    result.range[field] = { min: Math.min(...values), max: Math.max(...values) }
  }
  return result
}

/** Share of the oracle's latency gain over `none` that `mode` achieves (1 = as good as the oracle). */
export function oracleShare(run: Run, mode: Mode, field: 'meanPageMs' | 'waitsPerPage' = 'meanPageMs'): number | undefined {
  const none = run.modes.none?.[field]
  const oracle = run.modes.oracle?.[field]
  const mine = run.modes[mode]?.[field]
  // Undefined where the oracle itself gains under 5%: a share of almost nothing means nothing.
  if (none === undefined || oracle === undefined || mine === undefined || none - oracle < 0.05 * none) return undefined
  return (none - mine) / (none - oracle)
}

/** A median, with the min-max of the rounds when there are several. */
function spread(r: ModeResult, field: (typeof ROUND_FIELDS)[number], digits: number): string {
  const text = r[field].toFixed(digits)
  if (r.rounds.length < 2) return text
  return `${text} (${r.range[field].min.toFixed(digits)}-${r.range[field].max.toFixed(digits)})`
}

/** A table a person can read: one block per workload and rtt, one row per mode. */
export function formatTable(runs: readonly Run[]): string {
  const lines: string[] = []
  const header = ['mode', 'waits/page', 'mean ms', 'p95 ms', 'vs none', 'hit rate', '1-row hits', 'on-time cov', 'late cov', 'precision', 'spec q/page', 'combined/page', 'wasted/page', 'cpuBusy/page', 'db q/page', 'CPU ms/page', 'ELU', 'oracle gain']
  for (const run of runs) {
    const rounds = run.rounds > 1 ? `, medians of ${run.rounds} interleaved rounds (min-max)` : ', one round'
    lines.push(`\n${run.workload}, ${run.preset} preset: rtt ${run.rttMs} ms, think ${run.thinkMs} ms, ${run.sessions} sessions${rounds}`)
    const rows = [header]
    for (const mode of MODES) {
      const r = run.modes[mode]
      if (r === undefined) continue
      const share = oracleShare(run, mode)
      rows.push([
        mode,
        spread(r, 'waitsPerPage', 2),
        spread(r, 'meanPageMs', 1),
        r.p95PageMs.toFixed(1),
        run.modes.none ? `${(r.meanPageMs / run.modes.none.meanPageMs).toFixed(2)}x` : '',
        r.hitRate.toFixed(2),
        r.singleRowHitRate.toFixed(2),
        r.onTimeCoverage.toFixed(2),
        r.lateCoverage.toFixed(2),
        r.precision.toFixed(2),
        r.issuedPerPage.toFixed(2),
        (r.combinedPerPage ?? 0).toFixed(2),
        r.wastedPerPage.toFixed(2),
        r.cpuBusyPerPage.toFixed(2),
        r.dbQueriesPerPage.toFixed(2),
        spread(r, 'cpuMsPerPage', 1),
        r.eventLoopUtilization.toFixed(2),
        share === undefined ? '' : `${Math.round(share * 100)}%`,
      ])
    }
    const widths = header.map((_, c) => Math.max(...rows.map((row) => row[c].length)))
    for (const row of rows) lines.push(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '))
  }
  return lines.join('\n')
}

const COLOURS: Record<Mode, string> = {
  none: '#9e9e9e',
  cacheOnly: '#64b5f6',
  extensionRedis: '#e57373',
  markovExact: '#ffb74d',
  prefetch: '#43a047',
  prefetchPerModel: '#a5d6a7',
  pageOracle: '#b39ddb',
  oracle: '#7e57c2',
}

/** A grouped bar chart of mean page latency (bars) and p95 (ticks), one group per run. */
export function renderSvg(runs: readonly Run[]): string {
  const barWidth = 18
  const groupGap = 36
  const height = 260
  const top = 30
  const left = 50
  const groups = runs.map((run) => MODES.filter((mode) => run.modes[mode] !== undefined))
  const width = left + groups.reduce((sum, modes) => sum + modes.length * barWidth + groupGap, 0) + 140
  const max = Math.max(1e-9, ...runs.flatMap((run) => Object.values(run.modes).map((r) => r!.p95PageMs)))
  const y = (ms: number) => top + height - (ms / max) * height
  const parts: string[] = []
  let x = left + groupGap / 2
  runs.forEach((run, g) => {
    const start = x
    for (const mode of groups[g]) {
      const r = run.modes[mode]!
      parts.push(
        `<rect x="${x}" y="${y(r.meanPageMs).toFixed(1)}" width="${barWidth - 3}" height="${(top + height - y(r.meanPageMs)).toFixed(1)}" fill="${COLOURS[mode]}"><title>${mode}: mean ${r.meanPageMs.toFixed(2)} ms, p95 ${r.p95PageMs.toFixed(2)} ms</title></rect>`,
        `<line x1="${x}" x2="${x + barWidth - 3}" y1="${y(r.p95PageMs).toFixed(1)}" y2="${y(r.p95PageMs).toFixed(1)}" stroke="#333" stroke-width="2"/>`,
      )
      x += barWidth
    }
    parts.push(
      `<text x="${(start + x) / 2}" y="${top + height + 16}" font-size="11" text-anchor="middle">${run.workload}</text>`,
      `<text x="${(start + x) / 2}" y="${top + height + 30}" font-size="10" text-anchor="middle" fill="#555">rtt ${run.rttMs} ms</text>`,
    )
    x += groupGap
  })
  MODES.forEach((mode, i) => {
    parts.push(
      `<rect x="${x}" y="${top + i * 18}" width="12" height="12" fill="${COLOURS[mode]}"/>`,
      `<text x="${x + 18}" y="${top + i * 18 + 10}" font-size="11">${mode}</text>`,
    )
  })
  const grid: string[] = []
  for (let k = 0; k <= 4; k++) {
    const ms = (max * k) / 4
    grid.push(
      `<line x1="${left}" x2="${x - 10}" y1="${y(ms)}" y2="${y(ms)}" stroke="#eee"/>`,
      `<text x="${left - 6}" y="${y(ms) + 4}" font-size="10" text-anchor="end">${ms.toFixed(ms < 10 ? 1 : 0)}</text>`,
    )
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + height + 50}" font-family="sans-serif">`,
    `<text x="${left}" y="18" font-size="13">Page latency per mode: mean (bar) and p95 (tick), ms</text>`,
    ...grid,
    ...parts,
    '</svg>',
  ].join('\n')
}
