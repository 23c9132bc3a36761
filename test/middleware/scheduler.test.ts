import { describe, expect, it } from 'vitest'
import { Scheduler } from '../../src/middleware/scheduler.ts'
import { Stats } from '../../src/stats.ts'

/** A job whose completion the test decides. */
function controlled() {
  let finish!: () => void
  const done = new Promise<void>((resolve) => (finish = resolve))
  return { done, finish }
}

describe('Scheduler', () => {
  it('runs the highest priority first once a slot frees, and waits for nothing after idle()', async () => {
    const stats = new Stats()
    let clock = 0
    const scheduler = new Scheduler({ global: 1, perSession: 5, maxQueue: 10, queueTimeout: 1000 }, stats, () => clock)
    const order: string[] = []
    const blocker = controlled()
    scheduler.submit({ key: 'blocker', session: undefined, priority: 1, run: () => blocker.done })
    for (const [key, priority] of [['low', 0.1], ['high', 5], ['mid', 1]] as const) {
      scheduler.submit({ key, session: undefined, priority, run: async () => void order.push(key) })
    }
    expect(scheduler.queued).toBe(3)
    blocker.finish()
    await scheduler.idle()
    expect(order).toEqual(['high', 'mid', 'low'])
    expect(scheduler.inFlight).toBe(0)
    clock += 5
  })

  it('queues a key once, counts expired jobs, and drops the queue on close', async () => {
    const stats = new Stats()
    let clock = 0
    const scheduler = new Scheduler({ global: 1, perSession: 5, maxQueue: 10, queueTimeout: 100 }, stats, () => clock)
    const blocker = controlled()
    scheduler.submit({ key: 'blocker', session: 's', priority: 1, run: () => blocker.done })
    scheduler.submit({ key: 'a', session: 's', priority: 1, run: async () => {} })
    scheduler.submit({ key: 'a', session: 's', priority: 2, run: async () => {} })
    clock = 500
    blocker.finish()
    await scheduler.idle()
    expect(stats.snapshot().prefetch).toMatchObject({ expired: 1, skipped: { queued: 1 } })

    const stuck = controlled()
    scheduler.submit({ key: 'stuck', session: undefined, priority: 1, run: () => stuck.done })
    scheduler.submit({ key: 'never', session: undefined, priority: 1, run: async () => {} })
    const closing = scheduler.close()
    scheduler.submit({ key: 'late', session: undefined, priority: 1, run: async () => {} })
    stuck.finish()
    await closing
    expect(stats.snapshot().prefetch.skipped).toMatchObject({ closed: 2 })
  })

  it('moves on when a job throws or rejects', async () => {
    const scheduler = new Scheduler({ global: 1, perSession: 5, maxQueue: 10, queueTimeout: 1000 }, new Stats(), () => 0)
    const ran: string[] = []
    scheduler.submit({ key: 'throws', session: undefined, priority: 3, run: () => { throw new Error('x') } })
    scheduler.submit({ key: 'rejects', session: undefined, priority: 2, run: async () => { throw new Error('y') } })
    scheduler.submit({ key: 'fine', session: undefined, priority: 1, run: async () => void ran.push('fine') })
    await scheduler.idle()
    expect(ran).toEqual(['fine'])
  })

  it('while paused starts nothing and queues nothing (cpuBusy), lets what runs finish, and starts again on resume', async () => {
    const stats = new Stats()
    const scheduler = new Scheduler({ global: 1, perSession: 5, maxQueue: 10, queueTimeout: 1000 }, stats, () => 0)
    const ran: string[] = []
    const running = controlled()
    scheduler.submit({ key: 'running', session: 's', priority: 1, run: () => running.done.then(() => void ran.push('running')) })
    scheduler.submit({ key: 'queued', session: 's', priority: 1, run: async () => void ran.push('queued') })
    scheduler.pause()
    // The queue was dropped: idle() waits only for the job already running.
    expect(scheduler.queued).toBe(0)
    scheduler.submit({ key: 'late', session: 's', priority: 1, run: async () => void ran.push('late') })
    const idle = scheduler.idle()
    running.finish()
    await idle
    expect(ran).toEqual(['running'])
    expect(stats.snapshot().prefetch.skipped).toEqual({ cpuBusy: 2 })

    scheduler.resume()
    scheduler.submit({ key: 'after', session: 's', priority: 1, run: async () => void ran.push('after') })
    await scheduler.idle()
    expect(ran).toEqual(['running', 'after'])
  })
})
