/**
 * Histories of concurrent operations on counters, and the check that no read returned a value
 * older than a write that had completed before the read began. Counters only go up (every write
 * increments one), so "older" is "smaller". Times are wall-clock milliseconds so the histories of
 * several processes can be merged.
 */
export interface Write {
  /** Which counter: e.g. "User:3.karma". */
  register: string
  value: bigint
  end: number
}
export interface Read {
  register: string
  value: bigint
  start: number
}
export interface History {
  writes: Write[]
  reads: Read[]
}

export const clock = () => performance.timeOrigin + performance.now()

/**
 * The reads that returned a value older than the newest write completed more than `slackMs`
 * before they began (0 for strict consistency; `maxStalenessMs` for bounded staleness).
 * O((reads + writes) log writes): per counter, writes sorted by end with the running maximum.
 */
export function violations({ writes, reads }: History, slackMs = 0): string[] {
  const byRegister = new Map<string, { ends: number[]; newest: bigint[] }>()
  const sorted = [...writes].sort((a, b) => a.end - b.end)
  for (const write of sorted) {
    let list = byRegister.get(write.register)
    if (list === undefined) byRegister.set(write.register, (list = { ends: [], newest: [] }))
    const previous = list.newest.at(-1)
    list.ends.push(write.end)
    list.newest.push(previous !== undefined && previous > write.value ? previous : write.value)
  }
  const out: string[] = []
  for (const read of reads) {
    const list = byRegister.get(read.register)
    if (list === undefined) continue
    // The last write that ended before the read began (minus the slack).
    let lo = 0
    let hi = list.ends.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (list.ends[mid] < read.start - slackMs) lo = mid + 1
      else hi = mid
    }
    if (lo === 0) continue
    const newest = list.newest[lo - 1]
    if (read.value < newest) out.push(`${read.register}: read ${read.value} after a write of ${newest} had completed`)
  }
  return out
}
