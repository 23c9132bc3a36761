/**
 * The application's own queries on their way to the database (reads that missed, and writes):
 * how many are in flight, and a signal when one settles, for the pool check of the scheduler.
 */

import { Signal } from './signal.ts'

export type Query = (args: unknown) => Promise<unknown>

export class DemandQueries {
  /** Application queries sent to the database and not yet answered (counted while `settled` is observed). */
  inFlight = 0
  /** Emitted when an application query settles, once someone subscribes (only then are queries counted). */
  readonly settled = new Signal()

  /** Sends an application query; counted while it runs when someone listens (otherwise as it is: no extra promise). */
  send(query: Query, args: unknown): Promise<unknown> {
    return this.settled.observed ? this.counted(query, args) : query(args)
  }

  private async counted(query: Query, args: unknown): Promise<unknown> {
    this.inFlight++
    try {
      return await query(args)
    } finally {
      this.inFlight--
      this.settled.emit()
    }
  }
}
