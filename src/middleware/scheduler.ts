/**
 * The speculative scheduler: a bounded priority queue of jobs, run within the global and
 * per-session limits, deduplicated by key, expired after `queueTimeout`.
 */

import TinyQueue from 'tinyqueue'
import type { Stats } from '../stats.ts'

/** One speculative read waiting to run. */
export interface Job {
  /** Identifies the read: a second job with the same key is not queued twice. */
  key: string
  /** The session it was predicted for (per-session limit); undefined outside sessions. */
  session: string | undefined
  /** Probability x expected saving: the highest runs first. */
  priority: number
  run(): Promise<void>
}

export interface SchedulerLimits {
  /** Speculative reads in flight at once, over every session. */
  global: number
  /** Speculative reads queued or in flight for one session. */
  perSession: number
  /** Jobs waiting at most; beyond it new ones are skipped (`queueFull`). */
  maxQueue: number
  /** Milliseconds a job may wait; older ones are dropped unrun (`prefetch.expired`). */
  queueTimeout: number
}

interface Queued extends Job {
  queuedAt: number
}

/**
 * Runs speculative reads by priority within limits: a bounded queue, at most `limit` in flight
 * (at most `limits.global`; lowered under pressure by the caller), and at most `perSession` per
 * session queued or running. Jobs that waited longer than `queueTimeout` are dropped when they
 * come up; while paused (the process busy, see `pause()`) nothing is queued or started. No timers: the queue moves when a job is added or one finishes, so nothing keeps the
 * process alive.
 */
export class Scheduler {
  private readonly queue = new TinyQueue<Queued>([], (a, b) => b.priority - a.priority)
  private readonly queuedKeys = new Set<string>()
  private readonly perSession = new Map<string, number>()
  private running = 0
  private isClosed = false
  private waiters: Array<() => void> = []
  /** The global limit in force now (AIMD moves it between 1 and `limits.global`). */
  limit: number
  /** While true (the process is busy, see CpuPressure) nothing starts and nothing is queued. */
  paused = false

  constructor(
    private readonly limits: SchedulerLimits,
    private readonly stats: Stats,
    private readonly now: () => number,
    /** Whether one more may start beside `running` ones (the connection check); asked before each start. */
    private readonly room: (running: number) => boolean = () => true,
  ) {
    this.limit = limits.global
  }

  /** Queues `job` unless it is queued already or a bound says no; starts what the limits allow. */
  submit(job: Job): void {
    if (this.isClosed) return this.stats.skip('closed')
    if (this.paused) return this.stats.skip('cpuBusy')
    if (this.queuedKeys.has(job.key)) return this.stats.skip('queued')
    if (this.queue.length >= this.limits.maxQueue) return this.stats.skip('queueFull')
    if (job.session !== undefined) {
      const count = this.perSession.get(job.session) ?? 0
      if (count >= this.limits.perSession) return this.stats.skip('sessionBusy')
      this.perSession.set(job.session, count + 1)
    }
    this.queue.push({ ...job, queuedAt: this.now() })
    this.queuedKeys.add(job.key)
    this.pump()
  }

  /** Whether close() was called: no job is taken any more. */
  get closed(): boolean {
    return this.isClosed
  }

  /** Jobs in flight now. */
  get inFlight(): number {
    return this.running
  }

  get queued(): number {
    return this.queue.length
  }

  /** Starts what the limits allow now; called when something outside changed them. */
  poke(): void {
    if (this.queue.length > 0) this.pump()
  }

  private pump(): void {
    while (!this.paused && this.running < this.limit && this.queue.length > 0 && this.room(this.running)) {
      const job = this.queue.pop()!
      this.queuedKeys.delete(job.key)
      if (this.now() - job.queuedAt > this.limits.queueTimeout) {
        this.stats.expire()
        this.release(job)
        continue
      }
      this.running++
      let running: Promise<void>
      try {
        running = job.run()
      } catch {
        running = Promise.resolve()
      }
      void running
        .catch(() => {})
        .finally(() => {
          this.running--
          this.release(job)
          this.pump()
        })
    }
    if (this.running === 0 && this.queue.length === 0) {
      const waiters = this.waiters
      this.waiters = []
      for (const resolve of waiters) resolve()
    }
  }

  private release(job: Job): void {
    if (job.session === undefined) return
    const count = (this.perSession.get(job.session) ?? 1) - 1
    if (count <= 0) this.perSession.delete(job.session)
    else this.perSession.set(job.session, count)
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /**
   * Starts nothing more until `resume()`, and drops what is queued (`cpuBusy`): by the time the
   * process has room again those candidates are likely stale, and a paused queue would hold
   * `idle()` open. What runs finishes.
   */
  pause(): void {
    this.paused = true
    this.drop('cpuBusy')
    this.pump()
  }

  resume(): void {
    this.paused = false
    this.pump()
  }

  private drop(reason: string): void {
    while (this.queue.length > 0) {
      const job = this.queue.pop()!
      this.queuedKeys.delete(job.key)
      this.release(job)
      this.stats.skip(reason)
    }
  }

  /** Takes no more jobs, drops the queued ones, and resolves when the running ones are done. */
  close(): Promise<void> {
    this.isClosed = true
    this.drop('closed')
    return this.idle()
  }
}
