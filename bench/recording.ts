/**
 * What the oracles know, recorded before the measured run so that the run itself replays
 * nothing (a replay during the run costs CPU on the machine being measured, and on a slow
 * database it finishes after the page it was meant to warm).
 *
 * Every session of the run is played once beforehand, without latency, on its own copy of the
 * seeded database, with the session's own random stream. For each page the recording keeps:
 * - `reads`: the reads the page made, up to its first write (what follows a write would be
 *   invalidated by it): what `oracle` warms during the think time before the page;
 * - `knowable`: the reads the page makes whatever its own random draws: before the page is
 *   played, it is replayed three times with other random streams on a copy of the session
 *   (stopping at its first write, performing none), and only the reads every replay made, with
 *   the same arguments, are kept. That is what `pageOracle` warms: it knows which page comes
 *   next, and what the session has shown so far, but not which item, subject or search term the
 *   page will draw. (A pick among two or three items can agree in every replay by chance; such a
 *   read is warmed and, mostly, wasted.)
 * The run's database moves on differently (sessions interleave, other sessions write), so a
 * recorded read can differ from the one the run makes; the oracles then miss it, as they should.
 */
import { canonicalArgs } from '../src/canonical.ts'
import { READ_OPERATIONS } from '../src/shared.ts'
import type { Query } from './baselines.ts'
import type { Workload } from './workloads/catalog.ts'
import { Rng } from './workloads/random.ts'
import { paramRng, type SessionPlan } from './workloads/sessions.ts'

const READS = new Set<string>(READ_OPERATIONS)

export interface SessionRecording {
  /** Per page of the plan: the reads it made before its first write. */
  reads: Query[][]
  /** Per page of the plan: the reads it makes whatever its own random draws. */
  knowable: Query[][]
}

/** Replays of a page with other random streams whose common reads are `knowable`. */
const KNOWABLE_REPLAYS = 3

class StopReplay extends Error {}
/** Rejects only when awaited: a page may build a write it never awaits (a batch transaction). */
const stop = () => ({ then: (_: unknown, reject: (error: unknown) => void) => reject(new StopReplay()) })

type Delegate = Record<string, (args?: object) => Promise<unknown>>

/**
 * A view of `client` that records reads into `sink.reads` while `sink.open`, and closes the sink
 * at the first write. With `replay`, writes (and every `$` method) are not performed at all.
 */
function recording(client: object, sink: { reads: Query[]; open: boolean }, replay: boolean): object {
  return new Proxy(client, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown
      if (typeof property !== 'string') return value
      if (property.startsWith('$')) {
        if (replay) return stop
        if (typeof value !== 'function') return value
        return (...args: unknown[]) => {
          // $transaction, $executeRaw...: a write, or reads inside a transaction (never cached).
          sink.open = false
          const [first, ...rest] = args
          // An interactive transaction's client is recorded too: its reads are past a write anyway.
          const wrapped = typeof first === 'function' ? (tx: object) => (first as (tx: object) => unknown)(recording(tx, sink, false)) : first
          return (value as (...a: unknown[]) => unknown).apply(target, [wrapped, ...rest])
        }
      }
      if (value === null || typeof value !== 'object') return value
      const delegate = value as Delegate
      const model = property[0].toUpperCase() + property.slice(1)
      return new Proxy(delegate, {
        get(methods, operation) {
          const method = Reflect.get(methods, operation, methods) as unknown
          if (typeof operation !== 'string' || typeof method !== 'function') return method
          if (!READS.has(operation)) {
            if (replay) return stop
            return (args?: object) => {
              sink.open = false
              return (method as (args?: object) => Promise<unknown>).call(methods, args)
            }
          }
          return (args: object = {}) => {
            if (sink.open) sink.reads.push({ model, operation, args })
            return (method as (args?: object) => Promise<unknown>).call(methods, args)
          }
        },
      })
    },
  })
}

const keyOf = (query: Query) => `${query.model}.${query.operation}|${canonicalArgs(query.args)}`

/** The reads a page makes on a copy of `session` with the random stream `rng`, up to its first write. */
async function replayReads(workload: Workload, client: object, page: string, session: object, rng: Rng): Promise<Query[]> {
  const sink = { reads: [] as Query[], open: true }
  const { ctx, ...state } = session as { ctx: unknown }
  const copy = { ctx, ...structuredClone(state) }
  try {
    await workload.pages[page](recording(client, sink, true) as never, copy as never, rng)
  } catch {
    // StopReplay at the first write, or a page that needs state the replay lacks: keep what was recorded.
  }
  return sink.reads
}

/** Plays one session beforehand and records what the oracles will know of each of its pages. */
export async function recordSession(workload: Workload, client: object, plan: SessionPlan): Promise<SessionRecording> {
  const rng = paramRng(plan)
  const session = workload.newSession(rng)
  const result: SessionRecording = { reads: [], knowable: [] }
  for (let i = 0; i < plan.pages.length; i++) {
    const page = plan.pages[i]
    let common: Map<string, Query> | undefined
    for (let k = 0; k < KNOWABLE_REPLAYS; k++) {
      const reads = await replayReads(workload, client, page, session, Rng.derive(plan.seed, plan.workload, 'knowable', plan.index, i, k))
      const keyed = new Map(reads.map((query) => [keyOf(query), query]))
      common = common === undefined ? keyed : new Map([...common].filter(([key]) => keyed.has(key)))
    }
    result.knowable.push([...(common ?? new Map()).values()])
    const sink = { reads: [] as Query[], open: true }
    await workload.pages[page](recording(client, sink, false) as never, session as never, rng)
    result.reads.push(sink.reads)
  }
  return result
}

/** Records every session of `plans`, `concurrency` at a time, on `client` (a database of its own). */
export async function recordSessions(workload: Workload, client: object, plans: readonly SessionPlan[], concurrency: number): Promise<Map<number, SessionRecording>> {
  const recordings = new Map<number, SessionRecording>()
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(concurrency, plans.length) }, async () => {
      while (next < plans.length) {
        const plan = plans[next++]
        recordings.set(plan.index, await recordSession(workload, client, plan))
      }
    }),
  )
  return recordings
}
