/**
 * The speculation runner's two adaptive settings: the speculative limit in force (halved when the
 * database shows pressure, grown back by one while it does not) and the probability threshold
 * (moved to keep measured precision near `targetPrecision`).
 */

import type { Stats } from '../stats.ts'
import type { Latencies } from './latency.ts'
import type { CompletedRead } from './read-path.ts'
import type { Scheduler } from './scheduler.ts'

/** Demand reads without pressure after which the speculative limit goes up by one. */
const RECOVERY_READS = 20
/** Milliseconds after a cut during which further signs of pressure do not cut again. */
const CUT_COOLDOWN_MS = 100
/** Speculative reads completed between two moves of the threshold toward `targetPrecision`. */
const PRECISION_WINDOW = 10
const THRESHOLD_STEP = 0.05

/** The options the settings adapt within. */
export interface AdaptationSettings {
  /** `minProbability`: the threshold to start from, and its floor. */
  minProbability: number
  targetPrecision: number | undefined
  /** `concurrency.global`: the ceiling of the speculative limit. */
  global: number
}

/**
 * Moves the scheduler's limit by database pressure (AIMD: halved on a sign of pressure, at most
 * once per cooldown; up by one after enough calm demand reads) and the threshold by the precision
 * of the latest speculative reads.
 */
export class Adaptation {
  /** The probability below which candidates are not run now. */
  threshold: number
  private calmReads = 0
  private lastCut = -Infinity
  private window = { completed: 0, used: 0 }

  constructor(
    private readonly settings: AdaptationSettings,
    private readonly scheduler: Scheduler,
    private readonly latency: Latencies,
    private readonly stats: Stats,
  ) {
    this.threshold = settings.minProbability
  }

  /** The database strained (a failed read): halve the speculative limit. */
  pressure(): void {
    const now = performance.now()
    if (now - this.lastCut < CUT_COOLDOWN_MS) return
    this.lastCut = now
    this.calmReads = 0
    this.scheduler.limit = Math.max(1, Math.floor(this.scheduler.limit / 2))
  }

  /** After every completed read: its latency may show pressure, and precision may have moved. */
  observe(read: CompletedRead): void {
    if (read.dbMs !== undefined) {
      if (this.latency.underPressure(read.model, read.operation)) this.pressure()
      else if (++this.calmReads >= RECOVERY_READS && this.scheduler.limit < this.settings.global && !this.scheduler.paused) {
        this.calmReads = 0
        this.scheduler.limit++
      }
    }
    const target = this.settings.targetPrecision
    if (target === undefined) return
    const { completed, used } = this.stats.snapshotPrefetch()
    if (completed - this.window.completed < PRECISION_WINDOW) return
    const precision = (used - this.window.used) / (completed - this.window.completed)
    this.window = { completed, used }
    if (precision < target) this.threshold = Math.min(0.95, this.threshold + THRESHOLD_STEP)
    else if (precision > target + THRESHOLD_STEP) this.threshold = Math.max(this.settings.minProbability, this.threshold - THRESHOLD_STEP)
  }
}
