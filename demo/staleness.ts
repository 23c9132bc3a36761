/**
 * The demo's check of its own claim that no page ever showed data older than a write: every post
 * page a visitor got is compared with what its database held when the page was asked for. The
 * blog's only writes add comments, so a page is stale exactly when it lacks a comment on its post
 * whose write had completed (its response received) before the page was requested.
 */

/** A comment the database holds from `completedAt` on (performance.now() of the visitor). */
export interface Written {
  postId: number
  commentId: number
  completedAt: number
}

/** A post page as a visitor got it. */
export interface PostPage {
  postId: number
  /** performance.now() when the request was sent. */
  requestedAt: number
  /** The comment ids it showed (the first `limit` by id). */
  commentIds: number[]
  /** How many comments the page shows at most. */
  limit: number
}

export interface StalePage {
  page: PostPage
  /** Comments the database held when the page was asked for, missing from it. */
  missing: Written[]
}

/** Every write per post, in the order they completed. */
export class WriteLog {
  private readonly byPost = new Map<number, Written[]>()

  add(written: Written): void {
    let list = this.byPost.get(written.postId)
    if (list === undefined) this.byPost.set(written.postId, (list = []))
    list.push(written)
  }

  get size(): number {
    let size = 0
    for (const list of this.byPost.values()) size += list.length
    return size
  }

  /** What `page` lacks of what its database held when it was asked for, or undefined if nothing. */
  check(page: PostPage): StalePage | undefined {
    const shown = new Set(page.commentIds)
    // A page showing its whole limit may leave out newer comments (it lists the first by id): only
    // comments older than the last one shown must be there.
    const full = page.commentIds.length >= page.limit
    const last = Math.max(...page.commentIds, -Infinity)
    const missing = (this.byPost.get(page.postId) ?? []).filter(
      (w) => w.completedAt < page.requestedAt && !shown.has(w.commentId) && (!full || w.commentId < last),
    )
    return missing.length === 0 ? undefined : { page, missing }
  }
}
