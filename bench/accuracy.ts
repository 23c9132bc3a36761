/**
 * Next-read accuracy: how often the learner's prediction made after one read of a session is the
 * session's very next read (model, operation and arguments, compared by canonical key), against
 * the classic first-order model over exact queries (bench/baselines.ts, ExactMarkov).
 *
 *   npx tsx bench/accuracy.ts [--sessions 800] [--seed 1] [--workloads tpcw-browsing,rubis-bidding,news,blog]
 *                             [--scale small|standard] [--json bench/results/accuracy.json]
 *                             [--traces dir]
 *
 * 1. Record: the benchmark's sessions (the same plans, page functions and parameter streams as
 *    bench/run.ts) run one after another, in plan order, on a freshly seeded SQLite database of
 *    the workload, through a client whose only extension records every read made outside a
 *    transaction (findUnique, findMany, count, aggregate, ...), with its arguments and result.
 *    No latency, no cache: only what each session reads, in order.
 * 2. Replay, learning while predicting: the sessions' reads go through each predictor in plan
 *    order. For every read after a session's first, the prediction is what the predictor gave
 *    after the read before it in the same session.
 *    - learned: `new LearnedPredictor(DEFAULTS.learn)`, its candidates ranked as the extension
 *      ranks them but with no probability floor (`rank(..., { minProbability: 0, maxPerTrigger: 3 })`).
 *      A fan-out candidate stands for the single-row read of each of its values: it hits when the
 *      next read is one of them (counted apart as fan-out hits).
 *    - exact: counts of the exact query that followed each exact query in a session, the most
 *      frequent first (no support or probability floor either).
 *    Top-1: the next read is the first prediction; top-3: one of the first three.
 *
 * `news` and `blog` are generated in memory (bench/workloads/synthetic.ts: a news site, an N+1
 * blog), with no database: their reads are replayed as those recorded are.
 *
 * --traces keeps the recorded reads in `dir` (one file per workload, sessions, seed and scale) and
 * replays them from there next time, so the predictors can be compared without recording again.
 *
 * The learner's clock: reads of one page 5 ms apart, pages 1 s apart (well within its 30 s
 * window, as in the benchmark, whose think time averages 10 ms). Sessions carry no user id, as
 * in bench/run.ts, so the per-user models stay empty.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { Prisma } from '@prisma/client/extension'
import { Decimal } from '@prisma/client/runtime/client'
import { createCodec } from '../src/cache/codec.ts'
import { pushSchema } from '../scripts/schema-engine.ts'
import { cloneResult } from '../src/cache/clone.ts'
import { canonicalArgs } from '../src/canonical.ts'
import { transactionOf } from '../src/middleware/transaction.ts'
import { DEFAULTS } from '../src/options.ts'
import { READ_OPERATIONS } from '../src/shared.ts'
import { rank } from '../src/strategies/combine.ts'
import { LearnedPredictor } from '../src/strategies/learner.ts'
import { templateOf } from '../src/strategies/template.ts'
import type { Candidate } from '../src/strategies/types.ts'
import type { Rng } from './workloads/random.ts'
import { workloadOf, type Workload, type WorkloadName } from './workloads/catalog.ts'
import { paramRng, planSession, type SessionPlan } from './workloads/sessions.ts'
import { SYNTHETIC_WORKLOADS, syntheticSession, type SyntheticName } from './workloads/synthetic.ts'

const { values: flags } = parseArgs({
  options: {
    sessions: { type: 'string', default: '800' },
    seed: { type: 'string', default: '1' },
    workloads: { type: 'string', default: 'tpcw-browsing,rubis-bidding,news,blog' },
    scale: { type: 'string', default: 'small' },
    json: { type: 'string' },
    traces: { type: 'string' },
  },
})
const SESSIONS = Number(flags.sessions)
const SEED = Number(flags.seed)
const WORKLOADS = flags.workloads.split(',') as (WorkloadName | SyntheticName)[]
for (const name of WORKLOADS) {
  if (!['tpcw-browsing', 'tpcw-shopping', 'rubis-bidding', ...SYNTHETIC_WORKLOADS].includes(name)) throw new Error(`unknown workload: ${name}`)
}
const isSynthetic = (name: string): name is SyntheticName => (SYNTHETIC_WORKLOADS as readonly string[]).includes(name)
if (!(Number.isSafeInteger(SESSIONS) && SESSIONS > 0)) throw new Error(`--sessions must be a positive integer: ${flags.sessions}`)

const TOP = 3
const READ_MS = 5
const PAGE_MS = 1000
const READS = new Set<string>(READ_OPERATIONS)

/** One read of a session, as recorded. */
interface Read {
  model: string
  operation: string
  args: Record<string, unknown>
  result: unknown
  /** Index of the page (in the session's plan) that made it. */
  page: number
  key: string
  /** Its template's shape (`Item.findUnique{where:{id:?}}`), what the per-template report groups by. */
  shape: string
}

interface Trace {
  plan: SessionPlan
  reads: Read[]
}

const keyOf = (model: string, operation: string, args: unknown) => `${model}.${operation}|${canonicalArgs(args ?? {})}`
const shapeOf = (model: string, operation: string, args: Record<string, unknown>) =>
  templateOf({ model, operation, args })?.shape ?? `${model}.${operation}(too complex)`

// ---------------------------------------------------------------------------------------------
// Recording
// ---------------------------------------------------------------------------------------------

const workloadNamed = (name: WorkloadName) => workloadOf(name, { scale: flags.scale, seed: SEED, provider: 'sqlite' })

/** Where the current session's reads go; sessions run one at a time, so one slot is enough. */
const recording: { reads: Read[] | undefined; page: number } = { reads: undefined, page: 0 }

/** Records every read outside transactions: its arguments and result, copied as they completed. */
const recorder = Prisma.defineExtension({
  name: 'bench-accuracy-recorder',
  query: {
    async $allOperations(params) {
      const { model, operation, args, query } = params
      const result = await query(args)
      const internal = (params as { __internalParams?: unknown }).__internalParams
      if (recording.reads !== undefined && model !== undefined && READS.has(operation) && transactionOf(internal) === undefined) {
        const copy = cloneResult((args ?? {}) as Record<string, unknown>)
        recording.reads.push({
          model,
          operation,
          args: copy,
          // Pages may reorder what they got (BESS sorts its list): keep it as it came back.
          result: cloneResult(result),
          page: recording.page,
          key: keyOf(model, operation, copy),
          shape: shapeOf(model, operation, copy),
        })
      }
      return result
    },
  },
})

/** Seeds a fresh database of the workload and plays `plans` on it in order, recording the reads. */
async function record(name: WorkloadName, plans: SessionPlan[], dir: string): Promise<Trace[]> {
  const workload = workloadNamed(name)
  const url = join(dir, `accuracy_${workload.schema}.db`)
  const schema = readFileSync(new URL(`../prisma/bench/${workload.schema}.prisma`, import.meta.url), 'utf8')
  await pushSchema({ provider: 'sqlite', url, schema })
  const base = new workload.Client({ adapter: new PrismaBetterSqlite3({ url }) }) as { $extends(ext: unknown): object; $disconnect(): Promise<void> }
  const started = performance.now()
  await workload.seed(base)
  const seeded = performance.now()
  const db = base.$extends(recorder)
  const traces: Trace[] = []
  for (const plan of plans) {
    const rng = paramRng(plan)
    const session = workload.newSession(rng)
    const reads: Read[] = []
    recording.reads = reads
    for (let i = 0; i < plan.pages.length; i++) {
      recording.page = i
      await workload.pages[plan.pages[i]](db as never, session as never, rng)
    }
    recording.reads = undefined
    traces.push({ plan, reads })
  }
  await base.$disconnect()
  const pages = plans.reduce((n, plan) => n + plan.pages.length, 0)
  const reads = traces.reduce((n, trace) => n + trace.reads.length, 0)
  console.log(
    `${name}: seeded in ${((seeded - started) / 1000).toFixed(1)} s; ${plans.length} sessions, ${pages} pages, ${reads} reads recorded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`,
  )
  return traces
}

// ---------------------------------------------------------------------------------------------
// Replaying
// ---------------------------------------------------------------------------------------------

/** A ranked prediction: the keys each entry stands for (a fan-out stands for several), best first. */
interface Prediction {
  keys: Set<string>
  shapes: Set<string>
  fanOut: boolean
}

/** The position (0-based) of the first prediction the read matches, or -1; and whether by fan-out. */
function match(predictions: readonly Prediction[], read: Read): { at: number; fanOut: boolean; shapeAt: number } {
  const at = predictions.findIndex((p) => p.keys.has(read.key))
  const shapeAt = predictions.findIndex((p) => p.shapes.has(read.shape))
  return { at, fanOut: at >= 0 && predictions[at].fanOut, shapeAt }
}

function fromCandidate(candidate: Candidate): Prediction {
  const { model, operation, args } = candidate.query
  if (candidate.fanOut === undefined) {
    return { keys: new Set([keyOf(model, operation, args)]), shapes: new Set([shapeOf(model, operation, args)]), fanOut: false }
  }
  const { operation: rowOperation, argsFor, values } = candidate.fanOut
  const keys = new Set<string>()
  const shapes = new Set<string>()
  for (const value of values) {
    const rowArgs = argsFor(value)
    keys.add(keyOf(model, rowOperation, rowArgs))
    shapes.add(shapeOf(model, rowOperation, rowArgs))
  }
  return { keys, shapes, fanOut: true }
}

/** Counts for one predictor over a set of reads. */
interface Score {
  reads: number
  top1: number
  top3: number
  /** Hits made by a fan-out candidate (learned only). */
  top1FanOut: number
  top3FanOut: number
  /** The next read's template among the first three predictions, whatever its arguments. */
  shapeTop3: number
  /** Reads after which the predictor proposed nothing. */
  silent: number
}

const emptyScore = (): Score => ({ reads: 0, top1: 0, top3: 0, top1FanOut: 0, top3FanOut: 0, shapeTop3: 0, silent: 0 })

function score(into: Score, predictions: readonly Prediction[], read: Read): void {
  const { at, fanOut, shapeAt } = match(predictions, read)
  into.reads++
  if (predictions.length === 0) into.silent++
  if (at === 0) {
    into.top1++
    if (fanOut) into.top1FanOut++
  }
  if (at >= 0 && at < TOP) {
    into.top3++
    if (fanOut) into.top3FanOut++
  }
  if (shapeAt >= 0 && shapeAt < TOP) into.shapeTop3++
}

/** The first-order model over exact queries, learned offline on the traces. */
class ExactFirstOrder {
  private readonly next = new Map<string, Map<string, number>>()

  predict(previous: string): Prediction[] {
    const counts = this.next.get(previous)
    if (counts === undefined) return []
    // Most frequent first; ties in the order first seen (Array.prototype.sort is stable).
    return [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)
      .map(([key]) => ({ keys: new Set([key]), shapes: new Set([shapeFromKey(key)]), fanOut: false }))
  }

  learn(previous: string, key: string): void {
    let counts = this.next.get(previous)
    if (counts === undefined) this.next.set(previous, (counts = new Map()))
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
}

/** The template shape of each exact key seen, for the baseline's shape score. */
const shapesByKey = new Map<string, string>()
const shapeFromKey = (key: string) => shapesByKey.get(key) ?? key

interface TemplateRow {
  shape: string
  pages: string[]
  learned: Score
  exact: Score
}

interface WorkloadResult {
  workload: WorkloadName | SyntheticName
  sessions: number
  pages: number
  /** Reads recorded, and those predicted (every read after a session's first). */
  recordedReads: number
  learned: Score
  exact: Score
  /** The same scores over the second half of the sessions only (after learning the first half). */
  secondHalf: { learned: Score; exact: Score }
  learnedModel: { templates: number; contexts: number }
  templates: TemplateRow[]
}

function evaluate(name: WorkloadName | SyntheticName, traces: readonly Trace[]): WorkloadResult {
  const learner = new LearnedPredictor({ ...DEFAULTS.learn })
  const exact = new ExactFirstOrder()
  const total = { learned: emptyScore(), exact: emptyScore() }
  const late = { learned: emptyScore(), exact: emptyScore() }
  const templates = new Map<string, TemplateRow>()
  let at = 0
  traces.forEach((trace, index) => {
    const sessionId = `${name}-${trace.plan.index}`
    let previous: Read | undefined
    let learnedNext: Prediction[] = []
    for (const read of trace.reads) {
      shapesByKey.set(read.key, read.shape)
      if (previous !== undefined) {
        const exactNext = exact.predict(previous.key)
        score(total.learned, learnedNext, read)
        score(total.exact, exactNext, read)
        if (index >= traces.length / 2) {
          score(late.learned, learnedNext, read)
          score(late.exact, exactNext, read)
        }
        let row = templates.get(read.shape)
        if (row === undefined) templates.set(read.shape, (row = { shape: read.shape, pages: [], learned: emptyScore(), exact: emptyScore() }))
        const page = trace.plan.pages[read.page]
        if (!row.pages.includes(page)) row.pages.push(page)
        score(row.learned, learnedNext, read)
        score(row.exact, exactNext, read)
        exact.learn(previous.key, read.key)
      }
      at += previous === undefined || read.page !== previous.page ? PAGE_MS : READ_MS
      const candidates = learner.observe({
        session: { sessionId },
        query: { model: read.model, operation: read.operation, args: read.args, result: read.result },
        at,
      })
      learnedNext = rank(candidates, { minProbability: 0, maxPerTrigger: TOP }).map(fromCandidate)
      previous = read
    }
  })
  const model = learner.describe(1)
  return {
    workload: name,
    sessions: traces.length,
    pages: traces.reduce((n, trace) => n + trace.plan.pages.length, 0),
    recordedReads: traces.reduce((n, trace) => n + trace.reads.length, 0),
    learned: total.learned,
    exact: total.exact,
    secondHalf: late,
    learnedModel: { templates: model.templates, contexts: model.contexts },
    templates: [...templates.values()].sort((a, b) => b.learned.reads - a.learned.reads),
  }
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const pct = (n: number, of: number) => (of === 0 ? '-' : `${((100 * n) / of).toFixed(1)}%`)
const times = (a: number, b: number) => (b === 0 ? (a === 0 ? '-' : 'inf') : `${(a / b).toFixed(2)}x`)

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

function summaryTable(results: readonly WorkloadResult[]): string {
  const rows = results.flatMap((r) => {
    const row = (label: string, learned: Score, exact: Score) => [
      label,
      String(learned.reads),
      pct(learned.top1, learned.reads),
      pct(learned.top3, learned.reads),
      pct(exact.top1, exact.reads),
      pct(exact.top3, exact.reads),
      `${times(learned.top1, exact.top1)} / ${times(learned.top3, exact.top3)}`,
      `${pct(learned.top1FanOut, learned.reads)} / ${pct(learned.top3FanOut, learned.reads)}`,
    ]
    return [row(r.workload, r.learned, r.exact), row('  second half', r.secondHalf.learned, r.secondHalf.exact)]
  })
  return table(['workload', 'reads', 'learned top-1', 'top-3', 'exact top-1', 'top-3', 'ratio top-1 / top-3', 'learned via fan-out top-1 / top-3'], rows)
}

function detailTable(r: WorkloadResult): string {
  const fanOut = `fan-out hits: ${r.learned.top1FanOut} of ${r.learned.top1} top-1, ${r.learned.top3FanOut} of ${r.learned.top3} top-3`
  const silent = `no prediction at all after: learned ${pct(r.learned.silent, r.learned.reads)}, exact ${pct(r.exact.silent, r.exact.reads)} of reads`
  const shape = `right template in the top 3 (any arguments): learned ${pct(r.learned.shapeTop3, r.learned.reads)}, exact ${pct(r.exact.shapeTop3, r.exact.reads)}`
  const rows = r.templates.map((t) => [
    t.shape.length > 90 ? `${t.shape.slice(0, 87)}...` : t.shape,
    t.pages.length > 3 ? `${t.pages.slice(0, 3).join(',')},+${t.pages.length - 3}` : t.pages.join(','),
    String(t.learned.reads),
    pct(t.learned.top1, t.learned.reads),
    pct(t.learned.top3, t.learned.reads),
    pct(t.learned.top3FanOut, t.learned.reads),
    pct(t.learned.shapeTop3, t.learned.reads),
    pct(t.exact.top1, t.exact.reads),
    pct(t.exact.top3, t.exact.reads),
  ])
  // The targets: at least the exact model's top-1 and top-3, overall and on every template with 1% of the reads.
  const short = [{ shape: 'overall', learned: r.learned, exact: r.exact }, ...r.templates.filter((t) => t.learned.reads >= r.learned.reads / 100)]
    .flatMap((t) => [
      ...(t.learned.top1 < t.exact.top1 ? [`  below exact, top-1: ${t.shape.slice(0, 90)} ${pct(t.learned.top1, t.learned.reads)} < ${pct(t.exact.top1, t.exact.reads)} (${t.learned.top1} < ${t.exact.top1} of ${t.learned.reads} reads)`] : []),
      ...(t.learned.top3 < t.exact.top3 ? [`  below exact, top-3: ${t.shape.slice(0, 90)} ${pct(t.learned.top3, t.learned.reads)} < ${pct(t.exact.top3, t.exact.reads)} (${t.learned.top3} < ${t.exact.top3} of ${t.learned.reads} reads)`] : []),
    ])
  return [
    `${r.workload}: ${r.sessions} sessions, ${r.pages} pages, ${r.recordedReads} reads; learned ${r.learnedModel.templates} templates, ${r.learnedModel.contexts} contexts`,
    `  ${fanOut}`,
    `  ${silent}`,
    `  ${shape}`,
    table(['template', 'pages', 'reads', 'learned top-1', 'top-3', 'by fan-out', 'template top-3', 'exact top-1', 'top-3'], rows),
    short.length === 0 ? '  at least the exact model everywhere (top-1 and top-3, overall and on every template with 1% of the reads)' : short.join('\n'),
  ].join('\n')
}

// ---------------------------------------------------------------------------------------------

const traceCodec = createCodec({ isDecimal: (value) => Object.prototype.toString.call(value) === '[object Decimal]', fromString: (text) => new Decimal(text) })
const started = performance.now()
console.log(`next-read accuracy on SQLite: ${WORKLOADS.join(', ')}; ${SESSIONS} sessions each; seed ${SEED}; scale ${flags.scale}`)
const dir = mkdtempSync(join(tmpdir(), 'prisma-prefetch-accuracy-'))
const results: WorkloadResult[] = []
try {
  for (const name of WORKLOADS) {
    if (isSynthetic(name)) {
      const traces: Trace[] = Array.from({ length: SESSIONS }, (_, i) => {
        const session = syntheticSession(name, i, SEED)
        const plan = { index: i, pages: session.pages } as SessionPlan
        const reads = session.reads.map((read) => ({ ...read, key: keyOf(read.model, read.operation, read.args), shape: shapeOf(read.model, read.operation, read.args) }))
        return { plan, reads }
      })
      console.log(`${name}: ${SESSIONS} sessions, ${traces.reduce((n, t) => n + t.reads.length, 0)} reads generated`)
      const evaluated = performance.now()
      results.push(evaluate(name, traces))
      console.log(`${name}: replayed in ${((performance.now() - evaluated) / 1000).toFixed(1)} s`)
      continue
    }
    const plans = Array.from({ length: SESSIONS }, (_, i) => planSession(name, i, { seed: SEED }))
    const saved = flags.traces === undefined ? undefined : join(flags.traces, `${name}-${SESSIONS}-${SEED}-${flags.scale}.traces`)
    let traces: Trace[]
    if (saved !== undefined && existsSync(saved)) {
      traces = traceCodec.decode(readFileSync(saved, 'utf8')) as Trace[]
      // Keys and shapes as this version makes them, whichever wrote the file.
      for (const read of traces.flatMap((trace) => trace.reads)) Object.assign(read, { key: keyOf(read.model, read.operation, read.args), shape: shapeOf(read.model, read.operation, read.args) })
      console.log(`${name}: ${traces.length} sessions read from ${saved}`)
    } else {
      traces = await record(name, plans, dir)
      if (saved !== undefined) {
        mkdirSync(flags.traces!, { recursive: true })
        writeFileSync(saved, traceCodec.encode(traces))
      }
    }
    const evaluated = performance.now()
    results.push(evaluate(name, traces))
    console.log(`${name}: replayed in ${((performance.now() - evaluated) / 1000).toFixed(1)} s`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}

for (const r of results) console.log(`\n${detailTable(r)}`)
console.log(`\n${summaryTable(results)}`)
console.log(`\n${((performance.now() - started) / 1000).toFixed(0)} s. Top-k: the next read of the session (exact arguments) is among the first k predictions; ratio: learned / exact.`)
if (flags.json) {
  const out = {
    results,
    options: { sessions: SESSIONS, seed: SEED, scale: flags.scale, learn: DEFAULTS.learn, ranking: { minProbability: 0, maxPerTrigger: TOP }, readMs: READ_MS, pageMs: PAGE_MS, node: process.version },
  }
  writeFileSync(flags.json, JSON.stringify(out, null, 2) + '\n')
  console.log(`wrote ${flags.json}`)
}
