import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalArgs } from '../../src/canonical.ts'
import { READ_OPERATIONS } from '../../src/shared.ts'
import { recordSession } from '../../bench/recording.ts'
import { createTpcwSession, tpcwPages } from '../../bench/workloads/pages.ts'
import { paramRng, planSession } from '../../bench/workloads/sessions.ts'
import { seedTpcw, tpcwContext, type TpcwDb, type TpcwScale } from '../../bench/workloads/tpcw.ts'
import type { Workload } from '../../bench/workloads/catalog.ts'
import type { Rng } from '../../bench/workloads/random.ts'
import { createBenchDatabase, type TpcwBenchDatabase } from './bench-db.ts'

const scale: TpcwScale = { items: 200, ebs: 1, customers: 100 }
const ctx = tpcwContext(scale)
const workload = { pages: tpcwPages, newSession: (rng: Rng) => createTpcwSession(ctx, rng) } as unknown as Workload

let a: TpcwBenchDatabase
let b: TpcwBenchDatabase
beforeAll(async () => {
  ;[a, b] = await Promise.all([createBenchDatabase('tpcw'), createBenchDatabase('tpcw')])
  await seedTpcw(a.client, { scale, seed: 5 })
  await seedTpcw(b.client, { scale, seed: 5 })
})
afterAll(async () => {
  await a?.drop()
  await b?.drop()
})

const rowsOf = async (db: TpcwDb) => ({
  customer: await db.customer.findMany({ orderBy: { id: 'asc' } }),
  order: await db.order.findMany({ orderBy: { id: 'asc' } }),
  orderLine: await db.orderLine.findMany({ orderBy: { id: 'asc' } }),
  address: await db.address.findMany({ orderBy: { id: 'asc' } }),
})
const key = (q: { model: string; operation: string; args: object }) => `${q.model}.${q.operation}|${canonicalArgs(q.args)}`

describe("the oracles' recording", () => {
  it('plays each session once (its replays write nothing) and records, per page, reads only', async () => {
    const plans = [0, 1, 2, 3].map((index) => planSession('tpcw-shopping', index, { seed: 9 }))
    const recordings = []
    for (const plan of plans) recordings.push(await recordSession(workload, a.client, plan))
    // The same sessions played plainly on an identical database leave the same rows.
    let statements = 0
    for (const plan of plans) {
      const rng = paramRng(plan)
      const session = createTpcwSession(ctx, rng)
      for (const page of plan.pages) await tpcwPages[page](b.client as never, session, rng)
      statements += plan.pages.length
    }
    expect(statements).toBeGreaterThan(0)
    expect(await rowsOf(a.client)).toEqual(await rowsOf(b.client))
    const operations = new Set<string>(READ_OPERATIONS)
    for (const [i, recording] of recordings.entries()) {
      expect(recording.reads).toHaveLength(plans[i].pages.length)
      expect(recording.knowable).toHaveLength(plans[i].pages.length)
      for (const page of [...recording.reads, ...recording.knowable]) for (const query of page) expect(operations.has(query.operation)).toBe(true)
    }
    const all = recordings.flatMap((r) => r.reads.flat())
    expect(all.length).toBeGreaterThan(plans.length)
    // What pageOracle knows is what the page reads whatever its draws, so what it read too
    // (but for a pick among two or three items that agreed in every replay by chance).
    let knownRead = 0
    let knownAll = 0
    for (const recording of recordings) {
      recording.knowable.forEach((known, i) => {
        const read = new Set(recording.reads[i].map(key))
        knownAll += known.length
        knownRead += known.filter((query) => read.has(key(query))).length
      })
    }
    expect(knownAll).toBeGreaterThan(0)
    expect(knownRead / knownAll).toBeGreaterThan(0.9)
    // And it knows less than the oracle, which saw the draws.
    const known = recordings.reduce((n, r) => n + r.knowable.flat().length, 0)
    expect(known).toBeLessThan(all.length)
  })
})
