import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * `npm test` on a machine without Redis or Chromium: the suites that need them are skipped with one
 * line per service, and the run passes; with CI set, the same run fails and names what is missing.
 * Two suites are run in a vitest of their own, Redis pointed at a closed port and Chromium at a
 * file that does not exist.
 */
const root = join(import.meta.dirname, '..')
const files = ['test/report/cli.test.ts', 'test/report/report.test.ts']

/** The child vitest's environment: this run's, without what marks a vitest worker, and the services gone. */
function environment(ci: boolean): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'CI' && name !== 'TEST' && name !== 'NODE_ENV'))
  return { ...env, REDIS_URL: 'redis://127.0.0.1:9', CHROMIUM_PATH: '/nonexistent/chromium', ...(ci ? { CI: 'true' } : {}) }
}
const vitest = (ci: boolean) =>
  spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--project', 'integration', ...files], { cwd: root, env: environment(ci), encoding: 'utf8' })

describe('a missing service', () => {
  it('without CI: its suites are skipped, one line says so with how to start it, and the run passes', { timeout: 180_000 }, () => {
    const run = vitest(false)
    const output = run.stdout + run.stderr
    expect(run.status, output).toBe(0)
    expect(output.match(/^Redis not reachable at redis:\/\/127\.0\.0\.1:9: \d+ tests? skipped; start it with redis-server .*$/gm)).toHaveLength(1)
    expect(output.match(/^Chromium not found at \/nonexistent\/chromium: \d+ tests? skipped; install it with apt-get install chromium.*$/gm)).toHaveLength(1)
  })

  it('with CI=true: the run fails, naming the service', { timeout: 180_000 }, () => {
    const run = vitest(true)
    const output = run.stdout + run.stderr
    expect(run.status).not.toBe(0)
    expect(output).toContain('CI is set and Redis is not reachable at redis://127.0.0.1:9')
    expect(output).toContain('CI is set and Chromium is not found at /nonexistent/chromium')
  })
})
