/**
 * CPU pressure: whether the process itself is the bottleneck, from the event loop's utilisation
 * sampled over a window (`cpu.sampleMs`), never per read. After `cpu.busyWindows` windows in a
 * row above `cpu.maxUtilization` the prefetcher pauses speculation (and learning backs off); a
 * single window at or below it resumes it. One busy window among calm ones is a burst, not a
 * process that is the bottleneck, and pauses nothing; a window stretched by synchronous work
 * (the timer ran late) counts as the windows it lasted. While busy, only a fixed share of the
 * sessions is observed at all (`sessionSampled`).
 */

import { performance } from 'node:perf_hooks'
import type { CpuOptions } from '../types.ts'

/** The event loop's utilisation (0 to 1) since the previous call. */
export type UtilizationSource = () => number

/**
 * Node's own measure: the share of wall-clock time since the previous call that the loop spent
 * running callbacks rather than waiting in the poll phase. A loop blocked by synchronous work (or
 * kept busy by a flood of small callbacks) reads near 1; one waiting for I/O reads near 0.
 */
export function eventLoopUtilization(): UtilizationSource {
  let last = performance.eventLoopUtilization()
  return () => {
    const now = performance.eventLoopUtilization()
    const { utilization } = performance.eventLoopUtilization(now, last)
    last = now
    return utilization
  }
}

/**
 * Whether the learner observes session `sessionId` while the loop is busy: 1 session in `every`,
 * the same ones every time (a hash of the id, FNV-1a with murmur3's finaliser, so that ids that
 * differ in one character, `s1`, `s2`..., spread evenly). Whole sessions rather than reads: each
 * observed session's sequence of reads is complete, so the transitions learned from them are
 * counted as without the back-off, only from fewer sessions. `every` 1 observes every session.
 */
export function sessionSampled(sessionId: string, every: number): boolean {
  if (every <= 1) return true
  let h = 0x811c9dc5
  for (let i = 0; i < sessionId.length; i++) h = Math.imul(h ^ sessionId.charCodeAt(i), 0x01000193)
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return ((h ^ (h >>> 16)) >>> 0) % every === 0
}

/** Reads between two looks at the clock in `CpuPressure.tick()`. */
const TICK_READS = 32

/** What the owner does when the state changes, and where the paused time goes. */
export interface CpuPressureHooks {
  /** The loop was busier than the bound over the last `busyWindows` windows. */
  busy(): void
  /** The loop is at or below the bound again. */
  calm(): void
  /** Milliseconds just spent paused. */
  paused(ms: number): void
}

/**
 * Samples `source` every `sampleMs` on an unref'd timer (it keeps neither the process nor the
 * client that made it alive) and tells `hooks` when the loop turns busy (`busyWindows` windows in
 * a row above `maxUtilization`) and when it turns calm again (one window at or below it). A source that throws or returns no number in 0..1 reads as calm: this must never
 * stop speculation for good by itself.
 */
export class CpuPressure {
  /** Whether the last `busyWindows` windows were all busier than the bound. */
  busy = false
  /** Windows in a row, up to the last one, busier than the bound (a long one counts for several). */
  private streak = 0
  private readonly timer: ReturnType<typeof setInterval>
  private lastSample: number
  /** Reads since the clock was last looked at by `tick()`. */
  private ticks = 0

  constructor(
    private readonly settings: Pick<Required<CpuOptions>, 'maxUtilization' | 'sampleMs' | 'busyWindows'>,
    private readonly hooks: CpuPressureHooks,
    private readonly source: UtilizationSource = eventLoopUtilization(),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastSample = now()
    // Through a weak reference: a client dropped without close() is not kept alive by its
    // sampler, whose timer then stops itself.
    const self = new WeakRef(this)
    const timer = setInterval(() => {
      const pressure = self.deref()
      if (pressure === undefined) clearInterval(timer)
      else pressure.sample()
    }, settings.sampleMs)
    timer.unref()
    this.timer = timer
  }

  /** Reads the utilisation of the window that just ended and moves to busy or calm. */
  sample(): void {
    const at = this.now()
    const length = Math.max(0, at - this.lastSample)
    if (this.busy) this.hooks.paused(length)
    this.lastSample = at
    let utilization: number
    try {
      utilization = this.source()
    } catch {
      utilization = 0
    }
    const over = utilization > this.settings.maxUtilization && utilization <= 1
    // A window the loop overran (a timer late behind synchronous work) counts as the windows it lasted.
    this.streak = over ? this.streak + Math.max(1, Math.round(length / this.settings.sampleMs)) : 0
    const busy = this.streak >= this.settings.busyWindows
    if (busy === this.busy) return
    this.busy = busy
    if (busy) this.hooks.busy()
    else this.hooks.calm()
  }

  /**
   * Called on every read: every `TICK_READS` reads, samples if a window is overdue. A loop kept
   * busy by promises alone (a closed loop over a synchronous driver: each read's continuation
   * starts the next) never reaches its timers phase, so the timer would never sample the very
   * pressure it is there to see.
   */
  tick(): void {
    if (++this.ticks < TICK_READS) return
    this.ticks = 0
    if (this.now() - this.lastSample >= this.settings.sampleMs) this.sample()
  }

  /** Stops sampling; a pause still running is counted up to now. */
  close(): void {
    clearInterval(this.timer)
    if (this.busy) this.hooks.paused(Math.max(0, this.now() - this.lastSample))
    this.busy = false
    this.streak = 0
  }
}
