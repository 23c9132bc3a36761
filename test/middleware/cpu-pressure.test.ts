import { describe, expect, it } from 'vitest'
import { CpuPressure, eventLoopUtilization, sessionSampled } from '../../src/middleware/cpu-pressure.ts'
import { DEFAULTS } from '../../src/option-defaults.ts'

/** A CpuPressure on a source and a clock the test moves, sampled by hand (its own timer is a minute away). */
function pressure(maxUtilization = 0.8, busyWindows = 1, sampleMs = 60_000) {
  const state = { utilization: 0, clock: 0 }
  const events: string[] = []
  let pausedMs = 0
  const cpu = new CpuPressure(
    { maxUtilization, sampleMs, busyWindows },
    { busy: () => events.push('busy'), calm: () => events.push('calm'), paused: (ms) => (pausedMs += ms) },
    () => state.utilization,
    () => state.clock,
  )
  return { cpu, state, events, pausedMs: () => pausedMs }
}

describe('CpuPressure', () => {
  it('turns busy above maxUtilization and calm at or below it, once per change, counting the windows spent busy', () => {
    const { cpu, state, events, pausedMs } = pressure(0.8)
    state.clock = 100
    state.utilization = 0.8
    cpu.sample()
    expect(events).toEqual([])
    state.clock = 200
    state.utilization = 0.95
    cpu.sample()
    state.clock = 300
    cpu.sample()
    expect(events).toEqual(['busy'])
    expect(cpu.busy).toBe(true)
    state.clock = 450
    state.utilization = 0.3
    cpu.sample()
    expect(events).toEqual(['busy', 'calm'])
    // Busy from the sample at 200 to the one at 450.
    expect(pausedMs()).toBe(250)
    state.clock = 600
    cpu.sample()
    expect(pausedMs()).toBe(250)
    cpu.close()
  })

  it('counts a pause still running at close, and reads a source that throws or returns nonsense as calm', () => {
    const { cpu, state, events, pausedMs } = pressure(0.5)
    state.utilization = 0.9
    state.clock = 10
    cpu.sample()
    state.clock = 40
    cpu.close()
    expect(pausedMs()).toBe(30)

    const broken = pressure(0.5)
    broken.state.utilization = Number.NaN
    broken.cpu.sample()
    broken.state.utilization = 7
    broken.cpu.sample()
    expect(broken.events).toEqual([])
    broken.cpu.close()
    expect(events).toEqual(['busy'])
  })

  /**
   * Samples one window per utilisation, of 200 ms each (sampleMs 200) or of the length given,
   * returning the events and the state after each. Synchronous: the sampler's own timer never runs.
   */
  function run(busyWindows: number, windows: readonly (number | [utilization: number, ms: number])[]) {
    const { cpu, state, events, pausedMs } = pressure(0.8, busyWindows, 200)
    const states = windows.map((window) => {
      const [utilization, ms] = typeof window === 'number' ? [window, 200] : window
      state.clock += ms
      state.utilization = utilization
      cpu.sample()
      return cpu.busy
    })
    cpu.close()
    return { events, states, pausedMs: pausedMs() }
  }

  it('by default (busyWindows 3) pauses nothing for a burst: single busy windows among calm ones, as a bidding workload at 0.44 shows', () => {
    expect(DEFAULTS.cpu.busyWindows).toBe(3)
    // Mean utilisation near 0.44, with a window over 0.8 every few windows, and two in a row once.
    const bursts = [0.3, 0.95, 0.4, 0.35, 1, 0.3, 0.5, 0.9, 0.2, 0.4, 0.85, 0.97, 0.3, 0.99, 0.4]
    const { events, states, pausedMs } = run(DEFAULTS.cpu.busyWindows, bursts)
    expect(events).toEqual([])
    expect(states.every((busy) => !busy)).toBe(true)
    expect(pausedMs).toBe(0)
    // The rule of one window (busyWindows 1) paused on each burst.
    expect(run(1, bursts).events).toEqual(['busy', 'calm', 'busy', 'calm', 'busy', 'calm', 'busy', 'calm', 'busy', 'calm'])
  })

  it('by default pauses a loop saturated for three windows in a row (600 ms of 200 ms windows) and resumes on the first calm one', () => {
    const { events, states, pausedMs } = run(DEFAULTS.cpu.busyWindows, [0.3, 0.99, 1, 1, 1, 0.98, 0.5, 0.9, 0.3])
    expect(states).toEqual([false, false, false, true, true, true, false, false, false])
    expect(events).toEqual(['busy', 'calm'])
    // Paused from the sample that turned it busy (the third busy window's) to the calm one: 3 windows.
    expect(pausedMs).toBe(600)
    // A closed loop (utilisation near 1 all along) is paused within 3 windows, then stays paused.
    const saturated = run(DEFAULTS.cpu.busyWindows, Array.from({ length: 20 }, () => 0.97))
    expect(saturated.states.indexOf(true)).toBe(2)
    expect(saturated.states.slice(2).every(Boolean)).toBe(true)
    expect(saturated.events).toEqual(['busy'])
  })

  it('counts a window the loop overran as the windows it lasted: a 600 ms block pauses at once, a late timer alone does not', () => {
    expect(run(3, [0.3, [1, 600], 0.3]).states).toEqual([false, true, false])
    expect(run(3, [0.3, [0.99, 290], 0.9, 0.3]).states).toEqual([false, false, false, false])
    expect(run(3, [0.3, [0.99, 310], 0.9, 0.3]).states).toEqual([false, false, true, false])
  })

  it('counts busy windows in a row: a calm one, a source that throws, or close() starts the count again', () => {
    const broken = { utilization: 0.95 as number | (() => never) }
    const events: string[] = []
    let clock = 0
    const cpu = new CpuPressure(
      { maxUtilization: 0.8, sampleMs: 60_000, busyWindows: 2 },
      { busy: () => events.push('busy'), calm: () => events.push('calm'), paused: () => {} },
      () => (typeof broken.utilization === 'function' ? broken.utilization() : broken.utilization),
      () => (clock += 200),
    )
    cpu.sample()
    broken.utilization = () => {
      throw new Error('no signal')
    }
    cpu.sample()
    broken.utilization = 0.95
    cpu.sample()
    expect(events).toEqual([])
    cpu.sample()
    expect(events).toEqual(['busy'])
    cpu.close()
    cpu.sample()
    expect(cpu.busy).toBe(false)
    cpu.sample()
    expect(events).toEqual(['busy', 'busy'])
    cpu.close()
  })

  it("Node's source reads a blocked loop as busy and an idle one as calm", async () => {
    const source = eventLoopUtilization()
    const until = performance.now() + 200
    while (performance.now() < until) {
      // Synchronous work: the loop cannot run anything else.
    }
    expect(source()).toBeGreaterThan(0.5)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(source()).toBeLessThan(0.5)
  })
})

describe('sessionSampled', () => {
  it('observes the same sessions every time, about 1 in `every` of ids that differ in one character, and every session for 1', () => {
    for (const every of [2, 4, 10]) {
      const ids = Array.from({ length: 20_000 }, (_, i) => `s${i}`)
      const share = ids.filter((id) => sessionSampled(id, every)).length / ids.length
      expect(Math.abs(share - 1 / every)).toBeLessThan(0.01)
      expect(ids.map((id) => sessionSampled(id, every))).toEqual(ids.map((id) => sessionSampled(id, every)))
    }
    expect(['', 'a', 's1', 'user-42'].every((id) => sessionSampled(id, 1))).toBe(true)
  })
})
