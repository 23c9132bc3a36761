/**
 * How a fan-out and a single read the counts cannot tell apart are ranked: the single read first
 * (`preferSingleReads`), within the sampling error of their context (`noiseBand`).
 */

import type { Derivation } from './mappings.ts'

/**
 * The noise band of a share `p` estimated from `support` observations: two standard errors,
 * widest (1 / sqrt(support)) at one half. Shares closer than that are equal as far as the
 * counts tell. The ranking floor keeps candidates down to its widest below `minProbability`,
 * and preferSingleReads lowers a fan-out within it to a single read's probability.
 */
export function noiseBand(support: number, p = 0.5): number {
  return 2 * Math.sqrt((p * (1 - p)) / support)
}

/**
 * A fan-out whose probability exceeds a single read's by less than the sampling error of the
 * context they were both estimated in (two standard errors of a share of `support`
 * observations) is no likelier as far as the counts tell: the single read goes first, with the
 * same probability. It is the one read the session makes exactly, where the batch stands for
 * many, each less likely than it; a coin flip between them would rank the batch first half the
 * time on noise alone.
 */
export function preferSingleReads(best: { derived: Derivation; probability: number }[], support: number): void {
  for (let i = 1; i < best.length; i++) {
    const single = best[i]
    if (single.derived.fanOut !== undefined) continue
    let at = i
    while (at > 0) {
      const above = best[at - 1]
      if (above.derived.fanOut === undefined) break
      if (above.probability - single.probability > noiseBand(support, (above.probability + single.probability) / 2)) break
      above.probability = single.probability
      at--
    }
    if (at < i) best.splice(at, 0, ...best.splice(i, 1))
  }
}
