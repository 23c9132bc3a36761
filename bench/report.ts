/** What one mode measured on one workload. */
export interface ModeResult {
  meanPageMs: number
  p50PageMs: number
  p95PageMs: number
  dbQueriesPerPage: number
  /** Speculative queries whose result served a read / speculative queries completed. */
  precision: number
  /** Reads served by a speculative result (or joining one in flight) / reads. */
  coverage: number
  pages: number
}

export const MODES = ['none', 'cacheOnly', 'extensionRedis', 'markovExact', 'prefetch', 'oracle'] as const
export type Mode = (typeof MODES)[number]

export interface Run {
  workload: 'tpcw-browsing' | 'tpcw-shopping' | 'rubis-bidding'
  rttMs: number
  sessions: number
  modes: Partial<Record<Mode, ModeResult>>
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]
}

/** Page latencies (ms) and counters of one mode into its result. */
export function summarize(latencies: number[], dbQueries: number, precision: number, coverage: number): ModeResult {
  const sorted = [...latencies].sort((a, b) => a - b)
  const mean = sorted.reduce((sum, x) => sum + x, 0) / Math.max(1, sorted.length)
  return {
    meanPageMs: mean,
    p50PageMs: percentile(sorted, 50),
    p95PageMs: percentile(sorted, 95),
    dbQueriesPerPage: dbQueries / Math.max(1, sorted.length),
    precision,
    coverage,
    pages: sorted.length,
  }
}

/** Share of the oracle's latency gain over `none` that `mode` achieves (1 = as good as the oracle). */
export function oracleShare(run: Run, mode: Mode): number | undefined {
  const none = run.modes.none?.meanPageMs
  const oracle = run.modes.oracle?.meanPageMs
  const mine = run.modes[mode]?.meanPageMs
  // Undefined where the oracle itself gains under 5%: a share of almost nothing means nothing.
  if (none === undefined || oracle === undefined || mine === undefined || none - oracle < 0.05 * none) return undefined
  return (none - mine) / (none - oracle)
}

/** A table a person can read: one block per workload and rtt, one row per mode. */
export function formatTable(runs: readonly Run[]): string {
  const lines: string[] = []
  const header = ['mode', 'mean ms', 'p50 ms', 'p95 ms', 'vs none', 'db q/page', 'precision', 'coverage', 'oracle gain']
  for (const run of runs) {
    lines.push(`\n${run.workload}, rtt ${run.rttMs} ms, ${run.sessions} sessions`)
    const rows = [header]
    for (const mode of MODES) {
      const r = run.modes[mode]
      if (r === undefined) continue
      const share = oracleShare(run, mode)
      rows.push([
        mode,
        r.meanPageMs.toFixed(2),
        r.p50PageMs.toFixed(2),
        r.p95PageMs.toFixed(2),
        run.modes.none ? `${(r.meanPageMs / run.modes.none.meanPageMs).toFixed(2)}x` : '',
        r.dbQueriesPerPage.toFixed(2),
        r.precision.toFixed(2),
        r.coverage.toFixed(2),
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
