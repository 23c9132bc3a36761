import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { WriteLog } from '../demo/staleness.ts'

/** `npm run demo`, shortened: it runs, prefetches, checks its pages, prints its figures and writes its report. */
const dir = mkdtempSync(join(tmpdir(), 'prisma-prefetch-demo-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the demo', () => {
  it('shows bare, cache only, prefetch and (--per-model) per-model invalidation side by side, checks every post page, and writes the report', { timeout: 120_000 }, () => {
    const report = join(dir, 'report.html')
    const root = join(import.meta.dirname, '..')
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'demo', 'main.ts'), '--seconds', '6', '--visitors', '3', '--rtt', '1', '--per-model', '--report', report], {
      cwd: root,
      encoding: 'utf8',
    })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(run.stdout).toMatch(/pages bare +\d+ .* cache only +\d+ .* prefetch +\d+ /)
    expect(run.stdout).toMatch(/Median page time with prefetch: \d+\.\d\dx the bare client's \(cache only: \d+\.\d\dx\)/)
    const served = /Reads (\d+): (\d+) from the cache \((\d+) prefetched, (\d+) joined/.exec(run.stdout)
    expect(served).not.toBeNull()
    expect(Number(served![3]) + Number(served![4])).toBeGreaterThan(0)
    // Every lane's post pages were checked, and none was stale.
    for (const lane of ['bare', 'cache only', 'prefetch', 'per model']) {
      const row = new RegExp(`^${lane} +\\d+ .* (\\d+) of (\\d+) post pages$`, 'm').exec(run.stdout)
      expect(row, lane).not.toBeNull()
      expect(Number(row![1]), lane).toBe(0)
      expect(Number(row![2]), lane).toBeGreaterThan(0)
    }
    // The hit rate of single-row reads per lane: none for the bare client, a share for the others.
    expect(run.stdout).toMatch(/^ +pages +median ms +db\/page +hit rate +1-row hits +stale pages$/m)
    for (const lane of ['bare', 'cache only', 'prefetch', 'per model']) {
      const row = new RegExp(`^${lane} +\\d+ +\\S+ +\\S+ +(\\S+) +(\\S+) +\\d+ of \\d+ post pages$`, 'm').exec(run.stdout)
      expect(row, lane).not.toBeNull()
      if (lane === 'bare') expect(row![2], lane).toBe('-')
      else {
        expect(Number(row![2]), lane).toBeGreaterThanOrEqual(0)
        expect(Number(row![2]), lane).toBeLessThanOrEqual(1)
      }
    }
    // Every post page counted a view: what each lane's database holds is what its visitors were served.
    for (const lane of ['bare', 'cache only', 'prefetch', 'per model']) {
      const views = new RegExp(`^Views ${lane}: (\\d+) post pages served, (\\d+) views in its database\\.$`, 'm').exec(run.stdout)
      expect(views, lane).not.toBeNull()
      expect(Number(views![1]), lane).toBeGreaterThan(0)
      expect(Number(views![2]), lane).toBe(Number(views![1]))
    }
    expect(run.stdout).toMatch(/Checked: \d+ post pages against the comments their database held when each was asked for \(\d+ written during the run\): none showed data older than a write\./)
    expect(run.stdout).toMatch(/after {2}\S+\n {2}comes {2}\S+/)
    expect(readFileSync(report, 'utf8')).toMatch(/<g class="node"/)
  })

  it("the demo's check finds a page that lacks a comment written before it was asked for, and only that", () => {
    const log = new WriteLog()
    log.add({ postId: 7, commentId: 100, completedAt: 10 })
    log.add({ postId: 7, commentId: 101, completedAt: 30 })
    const page = (requestedAt: number, commentIds: number[], limit = 50) => ({ postId: 7, requestedAt, commentIds, limit })
    expect(log.check(page(20, [1, 2, 3, 100]))).toBeUndefined()
    expect(log.check(page(20, [1, 2, 3]))?.missing.map((w) => w.commentId)).toEqual([100])
    // Written after the page was asked for: not required yet.
    expect(log.check(page(25, [1, 2, 3, 100]))).toBeUndefined()
    expect(log.check(page(40, [1, 2, 3, 100]))?.missing.map((w) => w.commentId)).toEqual([101])
    // Another post's page, and a full page that lists only older comments, owe nothing.
    expect(log.check({ ...page(40, [1]), postId: 8 })).toBeUndefined()
    expect(log.check(page(40, [1, 2, 3], 3))).toBeUndefined()
  })
})
