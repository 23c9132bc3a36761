import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { REDIS_URL } from '../support/stores.ts'
import { describeWith, redis } from '../support/services.ts'
import { setup } from '../support/setup.ts'
import { violations } from '../support/history.ts'

/**
 * Several application processes on one database and one Redis (strict consistency, the
 * default): each reads and writes the same rows from concurrent workers and records when each
 * operation started and ended (wall clock, shared by every process on the machine). Merged, the
 * histories must show no read returning a value older than a write that completed, in any
 * process, before the read began. Writes increment a counter, so "older" is "smaller".
 */
const env = await setup()
const ids: number[] = []
for (let i = 0; i < 4; i++) ids.push((await env.bare.user.create({ data: { email: `p${i}@example.com`, karma: 0n, posts: { create: [{ title: `p${i} first` }, { title: `p${i} second` }] } } })).id)

interface History {
  writes: { id: number; value: string; end: number }[]
  reads: { id: number; value: string; start: number }[]
  stats: { hits: number; reads: number }
}

/** Runs `script` (in test/support) as a process of its own with `env`; resolves with what it printed. */
function runProcess(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', new URL(`../support/${script}`, import.meta.url).pathname], { env: { ...process.env, ...env } })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.stderr.on('data', (chunk) => (err += chunk))
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${script} exited with ${code}: ${err}`))))
  })
}

const historyOf = (index: number, namespace: string, operations: number) =>
  runProcess('history-process.ts', {
    DATABASE: env.db.url,
    REDIS: REDIS_URL,
    NAMESPACE: namespace,
    IDS: JSON.stringify(ids),
    OPERATIONS: String(operations),
    SEED: String(1000 + index),
  }).then((out) => JSON.parse(out) as History)

describeWith(await redis(), 'several processes sharing the database and Redis', () => {
  it('never serve a value older than a write any of them completed before the read began', async () => {
    const namespace = `test-processes-${randomBytes(4).toString('hex')}`
    const histories = await Promise.all([0, 1, 2].map((i) => historyOf(i, namespace, 600)))
    const writes = histories.flatMap((h) => h.writes.map((w) => ({ register: `${w.id}`, value: BigInt(w.value), end: w.end })))
    const reads = histories.flatMap((h) => h.reads.map((r) => ({ register: `${r.id}`, value: BigInt(r.value), start: r.start })))
    expect(writes.length).toBeGreaterThan(200)
    expect(reads.length).toBeGreaterThan(1000)
    // The cache was really in play: each process served reads from it.
    for (const h of histories) expect(h.stats.hits).toBeGreaterThan(0)
    // A millisecond of slack for comparing the clocks of two processes.
    expect(violations({ writes, reads }, 1)).toEqual([])
  }, 120_000)

  it('let a process started later predict from what an earlier one learned', async () => {
    const emails = await env.bare.user.findMany({ where: { posts: { some: {} } }, select: { email: true }, orderBy: { id: 'asc' } })
    const shared = { DATABASE: env.db.url, REDIS: REDIS_URL, NAMESPACE: `test-learning-${randomBytes(4).toString('hex')}`, EMAILS: JSON.stringify(emails.map((u) => u.email)) }
    await runProcess('learn-process.ts', { ...shared, MODE: 'train' })
    const used = JSON.parse(await runProcess('learn-process.ts', { ...shared, MODE: 'use' })) as { prefetchHits: number; transitions: number }
    expect(used.transitions).toBeGreaterThan(0)
    expect(used.prefetchHits).toBe(1)
  }, 120_000)
})
