import { describe, expect, it } from 'vitest'
import { CpuPressure, eventLoopUtilization } from '../../src/middleware/cpu-pressure.ts'

/** A CpuPressure on a source and a clock the test moves, sampled by hand (its own timer is a minute away). */
function pressure(maxUtilization = 0.8) {
  const state = { utilization: 0, clock: 0 }
  const events: string[] = []
  let pausedMs = 0
  const cpu = new CpuPressure(
    { maxUtilization, sampleMs: 60_000 },
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
