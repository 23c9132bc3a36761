/**
 * After `$prefetch.close()` and `$disconnect()`, no timer or handle of the extension keeps the
 * process alive, with every feature on: a Redis keyv store (results, generations, shared
 * learning on a 20 ms interval), bounded-staleness consistency, learning, sessions through
 * `session()` and `forSession()` with users, rules, an interactive transaction's write, and
 * speculative reads (learned, rule and warm) still in flight at close. The child process
 * (test/support/close-and-exit.ts) must exit by itself, soon; if it does not, its watchdog prints
 * `process.getActiveResourcesInfo()` and exits with code 3, which this test reports.
 */
import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { REDIS_URL } from '../support/stores.ts'
import { describeWith, redis } from '../support/services.ts'
import { seed } from '../support/seed.ts'
import { setup } from '../support/setup.ts'

const env = await setup()
await seed(env.bare)

interface Run {
  code: number | null
  stdout: string
  stderr: string
  /** Milliseconds from the child printing "closed" to its exit. */
  exitAfterCloseMs: number | undefined
}

function runChild(extraEnv: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('../support/close-and-exit.ts', import.meta.url).pathname], {
      env: { ...process.env, TEST_DATABASE_FILE: env.db.url, REDIS: REDIS_URL, ...extraEnv },
    })
    let stdout = ''
    let stderr = ''
    let closedAt: number | undefined
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.stdout.on('data', (chunk) => {
      stdout += chunk
      if (closedAt === undefined && /^closed$/m.test(stdout)) closedAt = performance.now()
    })
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(killer)
      resolve({ code, stdout, stderr, exitAfterCloseMs: closedAt === undefined ? undefined : performance.now() - closedAt })
    })
  })
}

describeWith(await redis(), 'handles after close()', () => {
  it('with every feature on and speculative reads in flight at close, the process exits by itself within 2 seconds', async () => {
    const run = await runChild({ WATCHDOG_MS: '5000' })
    // What keeps the process open, if anything, is in stderr (from the child's watchdog).
    expect(run.stderr).not.toMatch(/still running|Error/)
    expect(run.code).toBe(0)
    const atClose = JSON.parse(/^\{"atClose".*$/m.exec(run.stdout)?.[0] ?? 'null')?.atClose
    // The close really did interrupt speculative work: some was running or queued.
    expect(atClose).toMatchObject({ issued: expect.any(Number) })
    expect(atClose.inFlight + atClose.queued).toBeGreaterThan(0)
    console.log(JSON.stringify({ atClose, exitAfterCloseMs: Math.round(run.exitAfterCloseMs ?? -1) }))
    expect(run.exitAfterCloseMs).toBeDefined()
    expect(run.exitAfterCloseMs!).toBeLessThan(2000)
  })

  it('the watchdog sees a handle left open (here the application forgets its own Redis connection)', async () => {
    const run = await runChild({ WATCHDOG_MS: '1500', KEEP_REDIS_OPEN: '1' })
    expect(run.code).toBe(3)
    expect(run.stderr).toMatch(/still running 1500 ms after close: \[.*"TCP(Socket)?Wrap"/)
  })
})
