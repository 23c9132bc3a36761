import { describe, expect, it } from 'vitest'
import { Latencies } from '../../src/middleware/latency.ts'

describe('latencies', () => {
  it('are kept per model and operation, each kind apart, its first read cold', () => {
    const latency = new Latencies()
    latency.record('User', 'findUnique', 50)
    for (let i = 0; i < 30; i++) latency.record('User', 'findUnique', 2)
    latency.record('User', 'findMany', 9)
    latency.record('Post', 'findUnique', 7)
    latency.record('Post', 'findUnique', 5)
    expect(latency.typical('User', 'findUnique')).toBe(2)
    expect(latency.typical('User', 'findMany')).toBeUndefined()
    expect(latency.typical('Post', 'findUnique')).toBe(5)
    expect(latency.expected('User', 'findMany')).toBe(9)
    expect(latency.expected('Post', 'findMany')).toBe(1)
    expect(latency.expected('User', 'findFirst')).toBe(1)
    expect(latency.underPressure('User', 'findUnique')).toBe(false)
    for (let i = 0; i < 20; i++) latency.record('User', 'findUnique', 400)
    expect(latency.underPressure('User', 'findUnique')).toBe(true)
    expect(latency.underPressure('User', 'findMany')).toBe(false)
  })
})
