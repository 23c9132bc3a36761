import { describe, expect, it } from 'vitest'
import { parseBenchFlags } from '../../bench/flags.ts'

describe('benchmark flags', () => {
  it('rejects a number followed by anything, naming the flag and echoing the value', () => {
    expect(() => parseBenchFlags(['--think', '10,'])).toThrow('prisma-prefetch: bench --think must be a number: "10,"')
    expect(() => parseBenchFlags(['--think', ''])).toThrow(/--think must be a number: ""/)
    expect(() => parseBenchFlags(['--sessions', '3.5'])).toThrow(/--sessions must be a whole number: "3.5"/)
    expect(() => parseBenchFlags(['--concurrency', '0'])).toThrow(/--concurrency must be at least 1: "0"/)
    expect(() => parseBenchFlags(['--rtt', '5,,20'])).toThrow(/--rtt is a comma-separated list without empty items: "5,,20"/)
    expect(() => parseBenchFlags(['--rtt', '5,x'])).toThrow(/--rtt must be a number: "x"/)
    expect(() => parseBenchFlags(['--rounds', '0'])).toThrow(/--rounds must be at least 1: "0"/)
    expect(() => parseBenchFlags(['--max-pages', '0'])).toThrow(/--max-pages must be at least 1: "0"/)
    expect(() => parseBenchFlags(['--workloads', 'tpcw-browsing,tpcc'])).toThrow(/--workloads must name workloads among .*"tpcc"/)
    expect(() => parseBenchFlags(['--options', '[1]'])).toThrow(/--options must be a JSON object/)
    expect(() => parseBenchFlags(['--modes', 'none,oracel'])).toThrow(/--modes must name modes among none, .*"oracel"/)
    expect(() => parseBenchFlags(['--scale', 'huge'])).toThrow(/--scale must be small or standard: "huge"/)
    expect(() => parseBenchFlags(['--preset', 'fast'])).toThrow(/--preset must be one of quick, realistic, custom: "fast"/)
    expect(() => parseBenchFlags(['--thinking', '5'])).toThrow(/prisma-prefetch: bench .*--thinking/)
  })

  it('gives the realistic preset its conditions and refuses to weaken them', () => {
    expect(parseBenchFlags(['--preset', 'realistic'])).toMatchObject({
      preset: 'realistic',
      rttMs: [20],
      thinkMs: 200,
      sessions: 96,
      rounds: 3,
      workloads: ['tpcw-browsing', 'rubis-bidding'],
      maxPages: 100,
    })
    expect(parseBenchFlags(['--preset', 'realistic', '--sessions', '192', '--rounds', '5'])).toMatchObject({ sessions: 192, rounds: 5 })
    expect(() => parseBenchFlags(['--preset', 'realistic', '--sessions', '32'])).toThrow(/at least 96 sessions: 32/)
    expect(() => parseBenchFlags(['--preset', 'realistic', '--rounds', '2'])).toThrow(/at least 3 rounds: 2/)
    expect(() => parseBenchFlags(['--preset', 'realistic', '--think', '10'])).toThrow(/think 200 ms/)
    expect(() => parseBenchFlags(['--preset', 'realistic', '--quick'])).toThrow(/contradict/)
  })

  it('keeps --quick as the one-round smoke run, and takes lists and overrides', () => {
    expect(parseBenchFlags(['--quick'])).toMatchObject({ preset: 'quick', sessions: 32, rounds: 1, rttMs: [5], thinkMs: 10 })
    expect(parseBenchFlags(['--modes', 'none, oracle'])).toMatchObject({ modes: ['none', 'oracle'] })
    expect(parseBenchFlags(['--rtt', '0, 1,5', '--think', '2.5', '--workloads', 'rubis-bidding'])).toMatchObject({
      preset: 'custom',
      rttMs: [0, 1, 5],
      thinkMs: 2.5,
      workloads: ['rubis-bidding'],
    })
  })
})
