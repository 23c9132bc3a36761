import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import type { OpenSample } from '../../bench/load.ts'
import { provider } from '../helpers/db.ts'

// The load benchmark as a user runs it, tiny: a hundred users, fractions of a second per setting.
// (Half a second per setting: at half of even a slow capacity, pages enough that none arrive is
// out of reach.) Its figures are timings and are not checked; what is checked is the run's bookkeeping: every
// setting reported, every scheduled page answered and counted, the reads its pages are made of.
const run = promisify(execFile)
const script = new URL('../../bench/load.ts', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'prisma-prefetch-load-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const MODES = ['bare', 'cache', 'learn']

async function load(name: string, ...flags: string[]) {
  const json = join(dir, `${name}.json`)
  const args = ['--users', '100', '--seconds', '0.5', '--warmup', '0.2', '--rounds', '1', '--db', provider === 'postgresql' ? 'postgres' : 'sqlite', '--json', json]
  const { stdout } = await run(process.execPath, ['--import', 'tsx', script, ...args, ...flags], { env: process.env, timeout: 120_000 })
  return { stdout, report: JSON.parse(readFileSync(json, 'utf8')) }
}

describe('the load benchmark', () => {
  it('runs the open loop at each fraction of the bare capacity for every mode and answers every page it scheduled', { timeout: 180_000 }, async () => {
    const { stdout, report } = await load('open', '--concurrency', '1,2', '--open', '0.5,0.9')
    expect(report.mix.name).toBe('default')
    expect(report.results.map((r: { mode: string; concurrency: number }) => `${r.mode}@${r.concurrency}`)).toEqual(['bare@1', 'cache@1', 'learn@1', 'bare@2', 'cache@2', 'learn@2'])
    // The capacity is the bare client's reads/s at the highest concurrency of the closed loop.
    const bareTop = report.results.find((r: { mode: string; concurrency: number }) => r.mode === 'bare' && r.concurrency === 2)
    expect(report.open.capacityConcurrency).toBe(2)
    expect(report.open.capacityReadsPerSecond).toBe(bareTop.opsPerSecond)
    expect(report.open.capacityReadsPerSecond).toBeGreaterThan(0)
    expect(report.open.fractions).toEqual([0.5, 0.9])
    expect(report.open.results.map((r: { mode: string; fraction: number }) => `${r.mode}@${r.fraction}`)).toEqual(['bare@0.5', 'cache@0.5', 'learn@0.5', 'bare@0.9', 'cache@0.9', 'learn@0.9'])
    for (const row of report.open.results) {
      // Every mode is offered the same rate: the fraction of the one capacity.
      expect(row.offeredReadsPerSecond).toBeCloseTo(row.fraction * report.open.capacityReadsPerSecond, 6)
      expect(row.rounds).toHaveLength(1)
      const sample: OpenSample = row.rounds[0]
      expect(sample.scheduled).toBeGreaterThan(0)
      expect(sample.completed).toBe(sample.scheduled)
      // A default page is one read (a list) or two (a user and their posts).
      expect(sample.reads).toBeGreaterThanOrEqual(sample.completed)
      expect(sample.reads).toBeLessThanOrEqual(2 * sample.completed)
      expect(sample.achievedReadsPerSecond).toBeGreaterThan(0)
      expect(sample.p50Ms).toBeGreaterThan(0)
      expect(sample.p99Ms).toBeGreaterThanOrEqual(sample.p50Ms)
      expect(row.achievedReadsPerSecond).toBe(sample.achievedReadsPerSecond)
      expect(row.p99Ms).toBe(sample.p99Ms)
    }
    expect(stdout).toContain('| fraction | mode | offered reads/s | achieved reads/s | p50 ms | p99 ms | hit rate |')
    expect(stdout.match(/^\| 0\.(5|9) \| (bare|cache|learn) \|/gm)).toHaveLength(6)
  })

  it('plays the predictable mix as chains the learner follows, in the closed and the open loop', { timeout: 180_000 }, async () => {
    // Uniform over a thousand users' posts: a run this short keeps meeting rows not cached yet.
    const { report } = await load('predictable', '--concurrency', '1', '--open', '0.5', '--mix', 'predictable', '--users', '1000', '--zipf', '0')
    expect(report.mix).toMatchObject({ name: 'predictable', pages: ['list', 'detail', 'author'], readsPerPage: 4 / 3 })
    expect(report.results.map((r: { mode: string }) => r.mode)).toEqual(MODES)
    for (const row of report.results) expect(row.rounds[0].opsPerSecond).toBeGreaterThan(0)
    // Each page's reads follow from the last page's results: the learner proposes successors,
    // run or skipped for a reason it counts, or, while the closed loop saturates the event loop,
    // predicts nothing at all (the reads seen backed off are counted, and the time).
    const proposed = (prefetch: { issued: number; skipped: Record<string, number> }) => prefetch.issued + Object.values(prefetch.skipped).reduce((a, b) => a + b, 0)
    const learn = report.results.find((r: { mode: string }) => r.mode === 'learn').rounds[0].prefetch
    expect(proposed(learn) + learn.cpuBackoffReads).toBeGreaterThan(0)
    expect(learn.cpuBackoffMs).toBeGreaterThanOrEqual(0)
    const cache = report.results.find((r: { mode: string }) => r.mode === 'cache').rounds[0].prefetch
    expect(proposed(cache)).toBe(0)
    for (const row of report.open.results) {
      const sample: OpenSample = row.rounds[0]
      expect(sample.completed).toBe(sample.scheduled)
      // A predictable page is one read (list, detail) or two (the author and their posts).
      expect(sample.reads).toBeGreaterThanOrEqual(sample.completed)
      expect(sample.reads).toBeLessThanOrEqual(2 * sample.completed)
    }
  })

  it('refuses a bad --open or --mix, naming the flag and echoing the value', async () => {
    await expect(load('bad-open', '--open', '0.5,,0.9')).rejects.toThrow(/--open must be a comma-separated list of fractions of the capacity, each above 0: "0.5,,0.9"/)
    await expect(load('bad-open-zero', '--open', '0')).rejects.toThrow(/--open must be .*: "0"/)
    await expect(load('bad-mix', '--mix', 'random')).rejects.toThrow(/--mix must be one of default, predictable: "random"/)
  })
})
