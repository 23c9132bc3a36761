import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import pg from 'pg'

/**
 * Why the PostgreSQL server at `url` cannot be used, or undefined when it can. A local server that
 * refuses connections is started first, as test/helpers/db.ts does (the Debian cluster, once).
 * Used by vitest.config.ts, which skips the projects that need a database when this says no.
 */
export async function postgresProblem(url: string): Promise<string | undefined> {
  const probe = async (): Promise<string | undefined> => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
    try {
      await client.connect()
      return undefined
    } catch (error) {
      return (error as Error).message || String((error as { code?: string }).code)
    } finally {
      await client.end().catch(() => {})
    }
  }
  const first = await probe()
  if (first === undefined) return undefined
  const host = new URL(url).hostname
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) return first
  try {
    for (const version of readdirSync('/etc/postgresql')) {
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'ignore' })
    }
  } catch {
    return first // not a Debian cluster, or no permission
  }
  for (let i = 0; i < 25; i++) {
    if ((await probe()) === undefined) return undefined
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return probe()
}

/** `url` without its password, for messages. */
export function shown(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return url
  }
}
