/**
 * What `$prefetch.forSession()` allocates per call, against `$prefetch.session()` around the same
 * read's work (none: no query is sent). No database is touched: the client is never connected.
 *
 *   node --import tsx bench/for-session-alloc.ts [CALLS]
 */
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { GCProfiler, getHeapStatistics } from 'node:v8'
import { prefetch } from '../src/index.ts'
import { PrismaClient } from '../src/generated/prisma/client.ts'

const calls = Number(process.argv[2] ?? 20000)
const client = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: ':memory:' }) }).$extends(prefetch()) as any

function allocated(label: string, run: (k: number) => unknown): void {
  for (let k = 0; k < 2000; k++) run(k)
  const profiler = new GCProfiler()
  const before = getHeapStatistics().used_heap_size
  profiler.start()
  let kept: unknown
  for (let k = 0; k < calls; k++) kept = run(k)
  const after = getHeapStatistics().used_heap_size
  const { statistics } = profiler.stop()
  let freed = 0
  for (const gc of statistics) freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize
  console.log(`${label}: bytes/call=${Math.round((after - before + freed) / calls)} collections/call=${(statistics.length / calls).toFixed(4)}`, typeof kept)
}

allocated('forSession(id)', (k) => client.$prefetch.forSession(`s${k % 100}`))
allocated('forSession(id).user (the delegate a read goes through)', (k) => client.$prefetch.forSession(`s${k % 100}`).user)
allocated('session(id, fn) with a fn that returns at once', (k) => client.$prefetch.session(`s${k % 100}`, () => 1))
