/**
 * The pages of the benchmark's workloads: each page is an async function that issues, through a
 * Prisma client of the workload's schema, the queries its reference page makes, reading the ids
 * it needs from what the previous page showed (kept in the session) as the reference clients do.
 *
 *   tpcw-pages.ts   the 14 TPC-W web interactions (prisma/bench/tpcw.prisma)
 *   rubis-pages.ts  the 27 RUBiS pages (prisma/bench/rubis.prisma)
 *
 * A run plays a session plan (sessions.ts) page by page:
 *
 *   const session = createTpcwSession(ctx, rng)          // rng = paramRng(plan)
 *   for (const page of plan.pages) await tpcwPages[page](db, session, rng)
 */
import type { Rng } from './random.ts'

/** One page of a workload: its queries, run against `db` for the user of `session`. */
export type PageFn<Db, S> = (db: Db, session: S, rng: Rng) => Promise<void>

export { createTpcwSession, tpcwPages, type TpcwSession } from './tpcw-pages.ts'
export { createRubisSession, rubisPages, type RubisSession } from './rubis-pages.ts'
