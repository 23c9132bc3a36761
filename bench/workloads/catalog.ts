/**
 * The benchmark's workloads, by name: the generated client of each schema (SQLite or PostgreSQL),
 * how to seed it, and its sessions and pages. Shared by the runner and the accuracy replay.
 */
import { PrismaClient as BlogPgClient } from '../../src/generated/prisma-pg/client.ts'
import { PrismaClient as BlogClient } from '../../src/generated/prisma/client.ts'
import { PrismaClient as RubisPgJoinsClient } from '../../src/generated/rubis-pg-joins/client.ts'
import { PrismaClient as RubisPgClient } from '../../src/generated/rubis-pg/client.ts'
import { PrismaClient as RubisClient } from '../../src/generated/rubis/client.ts'
import { PrismaClient as TpcwPgJoinsClient } from '../../src/generated/tpcw-pg-joins/client.ts'
import { PrismaClient as TpcwPgClient } from '../../src/generated/tpcw-pg/client.ts'
import { PrismaClient as TpcwClient } from '../../src/generated/tpcw/client.ts'
import { BLOG_SCALES, blogContext, blogPages, createBlogSession, seedBlog, type BlogWorkload } from './blog.ts'
import { createRubisSession, createTpcwSession, rubisPages, tpcwPages } from './pages.ts'
import type { Rng } from './random.ts'
import { rubisContext, RUBIS_SCALES, seedRubis } from './rubis.ts'
import { seedTpcw, tpcwContext, TPCW_SCALES } from './tpcw.ts'

export type WorkloadName = 'tpcw-browsing' | 'tpcw-shopping' | 'rubis-bidding' | BlogWorkload

/** What a runner needs of a workload: its schema, data, sessions and pages. */
export interface Workload {
  /** prisma/bench/<schema>.prisma, or the test schema prisma/schema.prisma for `blog`. */
  schema: 'tpcw' | 'rubis' | 'blog'
  Client: new (options: { adapter: unknown }) => object
  seed(db: object): Promise<unknown>
  newSession(rng: Rng): object
  pages: Record<string, (db: never, session: never, rng: Rng) => Promise<void>>
}

export interface WorkloadSettings {
  scale: string
  seed: number
  provider: 'sqlite' | 'postgresql'
  /** PostgreSQL: the client generated with `relationJoins` (TPC-W and RUBiS). */
  joins?: boolean
}

export function workloadOf(name: WorkloadName, { scale: scaleName, seed, provider, joins = false }: WorkloadSettings): Workload {
  const postgres = provider === 'postgresql'
  if (name === 'blog-views' || name === 'blog-views-readonly') {
    const scale = scaleName === 'standard' ? BLOG_SCALES.standard : BLOG_SCALES.small
    const ctx = blogContext(scale)
    return {
      schema: 'blog',
      Client: (postgres ? BlogPgClient : BlogClient) as never,
      seed: (db) => seedBlog(db as never, { scale, seed, provider }),
      newSession: () => createBlogSession(ctx, name === 'blog-views'),
      pages: blogPages as never,
    }
  }
  if (name === 'rubis-bidding') {
    const scale = scaleName === 'standard' ? RUBIS_SCALES.large : RUBIS_SCALES.small
    const ctx = rubisContext(scale)
    return {
      schema: 'rubis',
      Client: (postgres ? (joins ? RubisPgJoinsClient : RubisPgClient) : RubisClient) as never,
      seed: (db) => seedRubis(db as never, { scale, seed, provider }),
      newSession: (rng) => createRubisSession(ctx, rng),
      pages: rubisPages as never,
    }
  }
  const scale = scaleName === 'standard' ? TPCW_SCALES.standard : TPCW_SCALES.small
  const ctx = tpcwContext(scale)
  return {
    schema: 'tpcw',
    Client: (postgres ? (joins ? TpcwPgJoinsClient : TpcwPgClient) : TpcwClient) as never,
    seed: (db) => seedTpcw(db as never, { scale, seed, provider }),
    newSession: (rng) => createTpcwSession(ctx, rng),
    pages: tpcwPages as never,
  }
}
