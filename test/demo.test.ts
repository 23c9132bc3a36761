import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

/** `npm run demo`, shortened: it runs, prefetches, prints its figures and writes its report. */
const dir = mkdtempSync(join(tmpdir(), 'prisma-prefetch-demo-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the demo', () => {
  it('shows prefetching at work and writes the report', { timeout: 120_000 }, () => {
    const report = join(dir, 'report.html')
    const root = join(import.meta.dirname, '..')
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'demo', 'main.ts'), '--seconds', '6', '--visitors', '3', '--rtt', '1', '--report', report], {
      cwd: root,
      encoding: 'utf8',
    })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(run.stdout).toMatch(/pages bare +\d+ .* prefetch +\d+ /)
    expect(run.stdout).toMatch(/Median page time with prefetch: \d+\.\d\dx the bare client's/)
    const served = /Reads (\d+): (\d+) from the cache \((\d+) prefetched, (\d+) joined/.exec(run.stdout)
    expect(served).not.toBeNull()
    expect(Number(served![3]) + Number(served![4])).toBeGreaterThan(0)
    expect(run.stdout).toMatch(/after {2}\S+\n {2}comes {2}\S+/)
    expect(readFileSync(report, 'utf8')).toMatch(/<g class="node"/)
  })
})
