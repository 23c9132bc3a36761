/**
 * The benchmark's command line: flags, presets and their validation. A bad value stops the run
 * with an error that names the flag and echoes the value (a benchmark that silently ran with NaN
 * would print figures that mean nothing).
 */
import { parseArgs } from 'node:util'
import { MODES, type Mode } from './report.ts'
import type { WorkloadName } from './workloads/catalog.ts'

export const WORKLOAD_NAMES: readonly WorkloadName[] = ['tpcw-browsing', 'tpcw-shopping', 'rubis-bidding', 'blog-views', 'blog-views-readonly']
/** What the quick and custom presets run when `--workloads` is not given. */
const DEFAULT_WORKLOADS: readonly WorkloadName[] = ['tpcw-browsing', 'tpcw-shopping', 'rubis-bidding']
export const PRESETS = ['quick', 'realistic', 'custom'] as const
export type Preset = (typeof PRESETS)[number]

/** What a run measures, every flag resolved. */
export interface BenchSettings {
  /** `quick` (the CI smoke run), `realistic` (the headline) or `custom` (flags only). */
  preset: Preset
  rttMs: number[]
  /** Mean of the exponential think time between two pages of a session, ms. */
  thinkMs: number
  sessions: number
  /** Sessions played at once. */
  concurrency: number
  /** Times every mode is run, the modes interleaved in each round. */
  rounds: number
  seed: number
  workloads: WorkloadName[]
  /**
   * Longest RUBiS session, in pages (TPC-W sessions end by their own rule). The RUBiS client's
   * cap is 1,000; a round lasts as long as its longest session.
   */
  maxPages: number
  /** The modes run (all by default; `extensionRedis` only when Redis answers). */
  modes: Mode[]
  scale: 'small' | 'standard'
  json: string | undefined
  /** Print each mode's waits per page by query template (bench/diagnostic.ts; the JSON always has them). */
  templates: boolean
  /** PostgreSQL: the workloads' clients generated with `relationJoins`, so reads can be combined (learn.combine). */
  joins: boolean
  /** Where to write the latency chart; none unless asked (a quick run never overwrites a committed chart). */
  svg: string | undefined
  /** Extra options of the `prefetch` mode. */
  options: Record<string, unknown>
  processes: number
  child: string | undefined
}

/**
 * Presets (every flag given explicitly overrides them):
 * - quick: the smoke run CI can afford, rtt 5 ms, think 10 ms, 32 sessions, one round;
 * - realistic: what a user of a networked database sees, rtt 20 ms, think 200 ms mean (much
 *   longer than a round trip, as real think times are), 96 sessions, 32 at once (at 96 at once,
 *   SQLite's single writer, each statement 20 ms away, keeps RUBiS's transactions waiting past
 *   Prisma's 2 s maxWait even on the bare client), 3 rounds, on TPC-W browsing
 *   and RUBiS bidding, RUBiS sessions capped at 100 pages (5 of its 96 sessions are longer, up to
 *   225: uncapped, each round of each mode would take a minute);
 * - custom: the defaults below.
 */
const PRESET_DEFAULTS: Record<Preset, Omit<BenchSettings, 'preset' | 'json' | 'svg' | 'templates' | 'joins' | 'options' | 'processes' | 'child' | 'seed' | 'scale' | 'modes'>> = {
  quick: { rttMs: [5], thinkMs: 10, sessions: 32, concurrency: 16, rounds: 1, workloads: [...DEFAULT_WORKLOADS], maxPages: 1000 },
  realistic: { rttMs: [20], thinkMs: 200, sessions: 96, concurrency: 32, rounds: 3, workloads: ['tpcw-browsing', 'rubis-bidding'], maxPages: 100 },
  custom: { rttMs: [5], thinkMs: 10, sessions: 96, concurrency: 16, rounds: 3, workloads: [...DEFAULT_WORKLOADS], maxPages: 1000 },
}

const fail = (message: string): never => {
  throw new TypeError(`prisma-prefetch: bench ${message}`)
}

/** A number as a flag's value: the whole text must be one (Number('10,') is NaN, Number('') is 0). */
function numberOf(flag: string, text: string, { integer = false, min = 0 }: { integer?: boolean; min?: number } = {}): number {
  const trimmed = text.trim()
  const value = trimmed === '' ? NaN : Number(trimmed)
  if (!Number.isFinite(value)) fail(`--${flag} must be a number: ${JSON.stringify(text)}`)
  if (integer && !Number.isInteger(value)) fail(`--${flag} must be a whole number: ${JSON.stringify(text)}`)
  if (value < min) fail(`--${flag} must be at least ${min}: ${JSON.stringify(text)}`)
  return value
}

function listOf(flag: string, text: string): string[] {
  const items = text.split(',')
  if (items.some((item) => item.trim() === '')) fail(`--${flag} is a comma-separated list without empty items: ${JSON.stringify(text)}`)
  return items.map((item) => item.trim())
}

/** Parses and validates the benchmark's flags (`argv` without node and the script). */
export function parseBenchFlags(argv: readonly string[]): BenchSettings {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    return fail((error as Error).message)
  }
  const flags = parsed.values
  if (flags.quick && flags.preset !== undefined && flags.preset !== 'quick') fail(`--quick and --preset ${flags.preset} contradict each other`)
  const presetText = flags.quick ? 'quick' : (flags.preset ?? 'custom')
  if (!(PRESETS as readonly string[]).includes(presetText)) fail(`--preset must be one of ${PRESETS.join(', ')}: ${JSON.stringify(presetText)}`)
  const preset = presetText as Preset
  const base = PRESET_DEFAULTS[preset]
  const rttMs = flags.rtt === undefined ? base.rttMs : listOf('rtt', flags.rtt).map((item) => numberOf('rtt', item))
  const workloads = flags.workloads === undefined ? base.workloads : listOf('workloads', flags.workloads)
  for (const name of workloads) {
    if (!(WORKLOAD_NAMES as readonly string[]).includes(name)) fail(`--workloads must name workloads among ${WORKLOAD_NAMES.join(', ')}: ${JSON.stringify(name)}`)
  }
  const modes = flags.modes === undefined ? [...MODES] : listOf('modes', flags.modes)
  for (const mode of modes) {
    if (!(MODES as readonly string[]).includes(mode)) fail(`--modes must name modes among ${MODES.join(', ')}: ${JSON.stringify(mode)}`)
  }
  const scale = flags.scale ?? 'small'
  if (scale !== 'small' && scale !== 'standard') fail(`--scale must be small or standard: ${JSON.stringify(scale)}`)
  let options: unknown
  try {
    options = JSON.parse(flags.options ?? '{}')
  } catch {
    fail(`--options must be a JSON object: ${JSON.stringify(flags.options)}`)
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) fail(`--options must be a JSON object: ${JSON.stringify(flags.options)}`)
  const settings: BenchSettings = {
    preset,
    rttMs,
    thinkMs: flags.think === undefined ? base.thinkMs : numberOf('think', flags.think),
    sessions: flags.sessions === undefined ? base.sessions : numberOf('sessions', flags.sessions, { integer: true, min: 1 }),
    concurrency: flags.concurrency === undefined ? base.concurrency : numberOf('concurrency', flags.concurrency, { integer: true, min: 1 }),
    rounds: flags.rounds === undefined ? base.rounds : numberOf('rounds', flags.rounds, { integer: true, min: 1 }),
    maxPages: flags['max-pages'] === undefined ? base.maxPages : numberOf('max-pages', flags['max-pages'], { integer: true, min: 1 }),
    seed: flags.seed === undefined ? 1 : numberOf('seed', flags.seed, { integer: true, min: -(2 ** 31) }),
    workloads: workloads as WorkloadName[],
    modes: modes as Mode[],
    scale: scale as BenchSettings['scale'],
    json: flags.json,
    svg: flags.svg,
    templates: flags.templates,
    joins: flags.joins,
    options: options as Record<string, unknown>,
    processes: flags.processes === undefined ? 1 : numberOf('processes', flags.processes, { integer: true, min: 1 }),
    child: flags.child,
  }
  if (preset === 'realistic') {
    // The headline's conditions are what make it the headline: refuse to print it under others.
    if (settings.rttMs.join() !== '20') fail(`--preset realistic runs at rtt 20 ms (use --preset custom for others): ${settings.rttMs.join()}`)
    if (settings.thinkMs !== 200) fail(`--preset realistic runs at think 200 ms (use --preset custom for others): ${settings.thinkMs}`)
    if (settings.sessions < 96) fail(`--preset realistic needs at least 96 sessions: ${settings.sessions}`)
    if (settings.rounds < 3) fail(`--preset realistic needs at least 3 rounds: ${settings.rounds}`)
  }
  return settings
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean', default: false },
      preset: { type: 'string' },
      rtt: { type: 'string' },
      sessions: { type: 'string' },
      concurrency: { type: 'string' },
      think: { type: 'string' },
      rounds: { type: 'string' },
      'max-pages': { type: 'string' },
      seed: { type: 'string' },
      workloads: { type: 'string' },
      modes: { type: 'string' },
      scale: { type: 'string' },
      json: { type: 'string' },
      svg: { type: 'string' },
      templates: { type: 'boolean', default: false },
      joins: { type: 'boolean', default: false },
      options: { type: 'string' },
      processes: { type: 'string' },
      /** Internal: this process is one of `--processes` children, running the sessions it is given. */
      child: { type: 'string' },
    },
  })
}
