// The benchmark's report on a tiny real run (bench/run.ts as a user runs it): per-model invalidation
// (prefetchPerModel) beside row generations (prefetch), with the speculative results wasted per page.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { MODES, type Run } from '../../bench/report.ts'

const run = promisify(execFile)
const dir = mkdtempSync(join(tmpdir(), 'prisma-prefetch-bench-report-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('benchmark report', () => {
  it('runs prefetchPerModel by default and reports wastedPerPage and singleRowHitRate for every mode, consistent with its other counts', async () => {
    expect(MODES).toContain('prefetch')
    expect(MODES).toContain('prefetchPerModel')
    const json = join(dir, 'tiny.json')
    // A busy machine must not pause speculation (`cpu`) in a run that counts it.
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--quick', '--workloads', 'blog-views', '--sessions', '16', '--concurrency', '4', '--max-pages', '20', '--think', '1', '--rtt', '1', '--modes', 'none,prefetch,prefetchPerModel', '--options', '{"cpu":false}', '--json', json],
      { env: { ...process.env, REDIS_URL: '' }, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
    )
    const { runs } = JSON.parse(readFileSync(json, 'utf8')) as { runs: Run[] }
    expect(runs).toHaveLength(1)
    const modes = runs[0].modes
    expect(Object.keys(modes).sort()).toEqual(['none', 'prefetch', 'prefetchPerModel'])
    for (const [mode, r] of Object.entries(modes)) {
      expect(typeof r!.wastedPerPage, mode).toBe('number')
      expect(r!.range.wastedPerPage, mode).toBeDefined()
      // Whole results per page over whole pages; never more wasted than issued.
      const wasted = r!.wastedPerPage * r!.pages
      expect(Math.abs(wasted - Math.round(wasted)), mode).toBeLessThan(1e-6)
      expect(r!.wastedPerPage, mode).toBeGreaterThanOrEqual(0)
      expect(r!.wastedPerPage, mode).toBeLessThanOrEqual(r!.issuedPerPage + 1e-9)
      expect(r!.hitRate, mode).toBeGreaterThanOrEqual(0)
      expect(r!.hitRate, mode).toBeLessThanOrEqual(1)
      expect(r!.singleRowHitRate, mode).toBeGreaterThanOrEqual(0)
      expect(r!.singleRowHitRate, mode).toBeLessThanOrEqual(1)
      expect(r!.range.singleRowHitRate, mode).toBeDefined()
      // Post and author pages read rows by id: a share of the reads, the same in every mode.
      expect(r!.singleRowShare, mode).toBeGreaterThan(0)
      expect(r!.singleRowShare, mode).toBeLessThan(1)
      expect(r!.singleRowShare, mode).toBeCloseTo(modes.none!.singleRowShare, 9)
    }
    // The bare client serves nothing; the extension serves some single-row reads from its cache.
    expect(modes.none!.singleRowHitRate).toBe(0)
    expect(modes.prefetch!.singleRowHitRate).toBeGreaterThan(0)
    // No speculation without the extension; both prefetch modes learn and speculate.
    expect(modes.none!.wastedPerPage).toBe(0)
    expect(modes.none!.issuedPerPage).toBe(0)
    expect(modes.prefetch!.issuedPerPage).toBeGreaterThan(0)
    expect(modes.prefetchPerModel!.issuedPerPage).toBeGreaterThan(0)
    expect(modes.prefetch!.pages).toBe(modes.prefetchPerModel!.pages)
    // The table shows the column and a row for each mode.
    expect(stdout).toMatch(/wasted\/page/)
    expect(stdout).toMatch(/1-row hits/)
    expect(stdout).toMatch(/^prefetchPerModel\s/m)
  }, 180_000)
})
