/**
 * The learner against the exact-key first-order model (the next read is the exact query seen most
 * often after the current one), on generated workloads that each reproduce one class of behaviour
 * the exact model handled better than a learner with per-template, all-or-nothing sources:
 *
 * (a) one template reached from many contexts, each taking the argument from elsewhere;
 * (b) the next template certain, its argument no function of what was read: a value memory;
 * (c) two sources that each explain a part of the next reads, never the same ones: a mixture;
 * (d) an N+1 loop over a list's rows, and the read after it, which depends on the list;
 * (e) a fan-out and a single read equally likely: the single read first, as the exact model has it;
 * (f) a read whose argument matched a list's last row by chance: a rare context, which backs off;
 * (g) a source that agrees with a slot's usual value by coincidence, and is wrong when it does not;
 * (h) a read no source explains, always after the same read: the whole reads that followed it;
 * (i) a read that follows some values of a read always and the others never, less likely than
 *     another on average: the whole-read memory first where it has been right more often.
 *
 * Both predictors see the same reads; top-k: the next read (exact arguments) is among the first
 * k predictions; a fan-out stands for each of its rows. Sessions are plain data from a seeded
 * generator, so each run is the same.
 */
import { describe, expect, it } from 'vitest'
import { Rng } from '../../bench/workloads/random.ts'
import { syntheticSession } from '../../bench/workloads/synthetic.ts'
import { DEFAULTS } from '../../src/options.ts'
import { rank } from '../../src/strategies/combine.ts'
import { LearnedPredictor } from '../../src/strategies/learner.ts'
import type { Candidate, ObservedQuery } from '../../src/strategies/types.ts'
import { valueText } from '../../src/canonical.ts'

type Read = ObservedQuery & { page?: number }

const keyOf = (model: string, operation: string, args: unknown) => `${model}.${operation}${valueText(args)}`

function keysOf(candidate: Candidate): Set<string> {
  const { model, operation, args } = candidate.query
  if (candidate.fanOut === undefined) return new Set([keyOf(model, operation, args)])
  return new Set(candidate.fanOut.values.map((value) => keyOf(model, candidate.fanOut!.operation, candidate.fanOut!.argsFor(value))))
}

interface Score {
  reads: number
  top1: number
  top3: number
}

/**
 * Top-1 and top-3 of both predictors, overall and per label (`label(read)`, by default
 * model.operation); the first `warmup` sessions are learned from but not scored.
 */
function replay(sessions: readonly Read[][], label: (read: Read) => string = (read) => `${read.model}.${read.operation}`, warmup = 0) {
  const learner = new LearnedPredictor({ ...DEFAULTS.learn })
  const exact = new Map<string, Map<string, number>>()
  const scores = new Map<string, { learned: Score; exact: Score }>()
  const count = (into: Score, predictions: readonly Set<string>[], key: string) => {
    into.reads++
    const at = predictions.findIndex((keys) => keys.has(key))
    if (at === 0) into.top1++
    if (at >= 0 && at < 3) into.top3++
  }
  let at = 0
  sessions.forEach((reads, s) => {
    let previous: string | undefined
    let learned: Set<string>[] = []
    for (const read of reads) {
      const key = keyOf(read.model, read.operation, read.args)
      if (previous !== undefined && s >= warmup) {
        const followers = exact.get(previous)
        const exactNext = followers === undefined ? [] : [...followers].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k]) => new Set([k]))
        for (const name of ['all', label(read)]) {
          let score = scores.get(name)
          if (score === undefined) scores.set(name, (score = { learned: { reads: 0, top1: 0, top3: 0 }, exact: { reads: 0, top1: 0, top3: 0 } }))
          count(score.learned, learned, key)
          count(score.exact, exactNext, key)
        }
      }
      if (previous !== undefined) {
        let counts = exact.get(previous)
        if (counts === undefined) exact.set(previous, (counts = new Map()))
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }
      at += 10
      const candidates = learner.observe({ session: { sessionId: `s${s}` }, query: read, at })
      learned = rank(candidates, { minProbability: 0, maxPerTrigger: 3 }).map(keysOf)
      previous = key
    }
  })
  const rates = (name: string) => {
    const { learned, exact: baseline } = scores.get(name)!
    return {
      learned: { top1: learned.top1 / learned.reads, top3: learned.top3 / learned.reads },
      exact: { top1: baseline.top1 / baseline.reads, top3: baseline.top3 / baseline.reads },
      reads: learned.reads,
    }
  }
  return { rates, labels: () => [...scores.keys()] }
}

/**
 * The learner at least as good as the exact model, top-1 and top-3, on `label` (within `slack`,
 * where both learn the same few values and differ only by the reads each needed to learn them).
 */
function expectAtLeastExact(result: ReturnType<typeof replay>, label: string, slack = 0) {
  const { learned, exact } = result.rates(label)
  expect(learned.top1, `${label}: top-1`).toBeGreaterThanOrEqual(exact.top1 - slack)
  expect(learned.top3, `${label}: top-3`).toBeGreaterThanOrEqual(exact.top3 - slack)
}

const row = (rng: Rng, fields: readonly string[]) => Object.fromEntries(fields.map((field) => [field, rng.range(1, 1_000_000)]))

describe('generated workloads: the learner against the exact-key model', () => {
  it('(a) learns argument sources per transition: a user looked up after twelve kinds of list, from a different field of each', () => {
    // Twelve list templates, each followed by a lookup of a user by a field of its first row,
    // the field a different one for each list. More true sources than a template keeps (8),
    // so learned per template they crowd one another out; per transition each has its own.
    const rng = new Rng(11)
    const fields = ['a', 'b', 'c', 'd', 'e', 'f']
    const sessions: Read[][] = []
    for (let s = 0; s < 900; s++) {
      const reads: Read[] = []
      for (let page = 0; page < 4; page++) {
        const kind = rng.int(12)
        const rows = Array.from({ length: 5 }, () => row(rng, fields))
        reads.push({ model: `List${kind}`, operation: 'findMany', args: { where: { kind }, take: 5 }, result: rows })
        const id = rows[0][fields[kind % fields.length]] as number
        reads.push({ model: 'User', operation: 'findUnique', args: { where: { id } }, result: { id, name: `u${id}`, karma: rng.range(1, 1_000_000) } })
      }
      sessions.push(reads)
    }
    const result = replay(sessions)
    expectAtLeastExact(result, 'User.findUnique')
    // Every value is new: the exact model cannot know it; the learner takes it from the list.
    expect(result.rates('User.findUnique').learned.top1).toBeGreaterThan(0.9)
  })

  it('(b) remembers values: after a story, the same section again 60% of the time, the front page 40%', () => {
    // The front page is section 1: a value no read before shows, seen 40% of the time.
    const rng = new Rng(12)
    const sessions: Read[][] = []
    for (let s = 0; s < 600; s++) {
      const reads: Read[] = []
      let section = rng.range(2, 40)
      for (let page = 0; page < 5; page++) {
        const rows = Array.from({ length: 8 }, () => ({ id: rng.range(1, 1_000_000), sectionId: section }))
        reads.push({ model: 'Story', operation: 'findMany', args: { where: { sectionId: section }, take: 8 }, result: rows })
        const story = rows[rng.int(rows.length)]
        reads.push({ model: 'Story', operation: 'findUnique', args: { where: { id: story.id } }, result: story })
        if (rng.chance(0.4)) section = 1
      }
      sessions.push(reads)
    }
    const result = replay(sessions, (read) => `${read.model}.${read.operation}`)
    expectAtLeastExact(result, 'Story.findMany')
    // Both are proposed: the section read before (a source) and the front page (a value).
    expect(result.rates('Story.findMany').learned.top3).toBeGreaterThan(0.95)
  })

  it('(b) fills the top 3 with the values the evidence supports: a category 50%, another 30%, a third 20%', () => {
    const rng = new Rng(13)
    const sessions: Read[][] = []
    for (let s = 0; s < 600; s++) {
      const reads: Read[] = []
      for (let page = 0; page < 4; page++) {
        reads.push({ model: 'Category', operation: 'findMany', args: { orderBy: { id: 'asc' } }, result: [{ id: 3 }, { id: 7 }, { id: 9 }] })
        const roll = rng.float()
        const categoryId = roll < 0.5 ? 3 : roll < 0.8 ? 7 : 9
        const rows = Array.from({ length: 4 }, () => ({ id: rng.range(1, 1_000_000), categoryId }))
        reads.push({ model: 'Item', operation: 'findMany', args: { where: { categoryId, open: true }, take: 4 }, result: rows })
      }
      sessions.push(reads)
    }
    const result = replay(sessions)
    expectAtLeastExact(result, 'Item.findMany', 0.01)
    expect(result.rates('Item.findMany').learned.top3).toBeGreaterThan(0.95)
  })

  it('(c) ranks sources as a mixture: the same item again a quarter of the time, the first row of the list a third', () => {
    // Neither source explains half of the next reads alone; together they explain 58%.
    const rng = new Rng(14)
    const sessions: Read[][] = []
    for (let s = 0; s < 700; s++) {
      const reads: Read[] = []
      const rows = Array.from({ length: 10 }, () => ({ id: rng.range(1, 1_000_000), title: 'x' }))
      reads.push({ model: 'Item', operation: 'findMany', args: { where: { subject: rng.range(1, 1000) }, take: 10 }, result: rows })
      let current = rows[3 + rng.int(7)].id
      reads.push({ model: 'Item', operation: 'findUnique', args: { where: { id: current } }, result: { id: current } })
      for (let step = 0; step < 3; step++) {
        const roll = rng.float()
        if (roll < 0.33) current = rows[0].id
        else if (roll >= 0.58) current = rng.range(1, 1_000_000)
        reads.push({ model: 'Item', operation: 'findUnique', args: { where: { id: current } }, result: { id: current } })
        // The list stays in view: the page shows it again beside the item.
        reads.push({ model: 'Item', operation: 'findMany', args: { where: { id: { in: rows.map((r) => r.id) } } }, result: rows })
      }
      sessions.push(reads)
    }
    const result = replay(sessions, (read) => `${read.model}.${read.operation}${'in' in ((read.args.where as object) ?? {}) ? ' in' : ''}`)
    expectAtLeastExact(result, 'Item.findUnique')
    expect(result.rates('Item.findUnique').learned.top3).toBeGreaterThan(0.5)
  })

  it('(d) predicts an N+1 loop as one fan-out, and the read after the loop from the list before it', () => {
    // A user's bids; the item of each bid, and each item's seller; then the user's won auctions,
    // by the user id the bid list was read with: the list is four to sixteen reads back.
    const rng = new Rng(15)
    const sessions: Read[][] = []
    for (let s = 0; s < 600; s++) {
      const reads: Read[] = []
      const userId = rng.range(1, 1_000_000)
      reads.push({ model: 'User', operation: 'findUnique', args: { where: { id: userId } }, result: { id: userId } })
      const bids = Array.from({ length: 2 + rng.int(7) }, () => ({ itemId: rng.range(1, 1_000_000), maxBid: rng.range(1, 100) }))
      reads.push({ model: 'Bid', operation: 'findMany', args: { where: { userId }, distinct: ['itemId'] }, result: bids })
      for (const { itemId } of bids) {
        const sellerId = rng.range(1, 1_000_000)
        reads.push({ model: 'Item', operation: 'findUnique', args: { where: { id: itemId } }, result: { id: itemId, sellerId } })
        reads.push({ model: 'User', operation: 'findUnique', args: { where: { id: sellerId }, select: { nickname: true } }, result: { nickname: `n${sellerId}` } })
      }
      reads.push({ model: 'Bid', operation: 'findMany', args: { where: { userId, won: true } }, result: [] })
      sessions.push(reads)
    }
    const result = replay(sessions, (read) => `${read.model}.${read.operation}${read.args.distinct === undefined ? '' : ' distinct'}`)
    for (const label of ['Item.findUnique', 'User.findUnique', 'Bid.findMany']) expectAtLeastExact(result, label)
    // Each lookup of the loop is predicted (one batched read covers them), and so is the read after it.
    expect(result.rates('Item.findUnique').learned.top1).toBeGreaterThan(0.95)
    expect(result.rates('Bid.findMany').learned.top1).toBeGreaterThan(0.9)
  })

  it('(e) ranks a single read before a fan-out no likelier than it: after an author\'s posts, one of them or the home page, half and half', () => {
    // After the list of an author's two to five posts, a post of the list half the time, else
    // the home page's list, always the same query. The batch of the author's posts and the home
    // list are equally likely; the exact model ranks the home list first (each post is less
    // likely than it), and so must the learner, whichever the noise of the counts favours.
    const rng = new Rng(17)
    const sessions: Read[][] = []
    const home = { where: { published: true }, orderBy: { id: 'desc' }, skip: 0, take: 10 }
    const homeRows = Array.from({ length: 10 }, (_, i) => ({ id: 1000 - i, authorId: i + 1 }))
    for (let s = 0; s < 600; s++) {
      const reads: Read[] = []
      let authorId = rng.range(1, 1_000_000)
      for (let page = 0; page < 6; page++) {
        const posts = Array.from({ length: 2 + rng.int(4) }, () => ({ id: rng.range(1, 1_000_000), authorId }))
        reads.push({ model: 'Post', operation: 'findMany', args: { where: { authorId }, orderBy: { id: 'desc' }, take: 5 }, result: posts })
        if (rng.chance(0.5)) {
          const post = posts[rng.int(posts.length)]
          reads.push({ model: 'Post', operation: 'findUnique', args: { where: { id: post.id } }, result: { ...post, title: `t${post.id}` } })
        } else {
          reads.push({ model: 'Post', operation: 'findMany', args: home, result: homeRows })
          authorId = homeRows[rng.int(10)].authorId
        }
      }
      sessions.push(reads)
    }
    const result = replay(sessions, (read) => `${read.model}.${read.operation}${read.args.skip === undefined ? '' : ' home'}`)
    for (const label of ['Post.findMany home', 'Post.findUnique', 'all']) expectAtLeastExact(result, label)
  })

  it('(f) predicts after a read whose argument matched a list\'s last row by chance as after the read itself', () => {
    // An author's stories, each with its section; then the front page (section 1) and its
    // stories. When the author's last story is in section 1, the front page's lookup looks like
    // the last iteration of a loop over the list: a context of its own, seldom seen, which must
    // not leave the learner without a prediction where the exact model has one.
    const rng = new Rng(19)
    const sessions: Read[][] = []
    const front = Array.from({ length: 10 }, (_, i) => ({ id: 5000 - i, authorId: rng.range(1, 1_000_000) }))
    for (let s = 0; s < 600; s++) {
      const reads: Read[] = []
      for (let page = 0; page < 4; page++) {
        const authorId = rng.range(1, 1_000_000)
        const stories = Array.from({ length: 4 }, () => ({ id: rng.range(1, 1_000_000), sectionId: rng.range(1, 30) }))
        reads.push({ model: 'User', operation: 'findUnique', args: { where: { id: authorId } }, result: { id: authorId } })
        reads.push({ model: 'Story', operation: 'findMany', args: { where: { authorId }, take: 4 }, result: stories })
        reads.push({ model: 'Section', operation: 'findUnique', args: { where: { id: 1 } }, result: { id: 1, name: 'front' } })
        reads.push({ model: 'Story', operation: 'findMany', args: { where: { sectionId: 1 }, take: 10 }, result: front })
      }
      sessions.push(reads)
    }
    // Scored once both have seen the front page five times (the learner's `minSupport`).
    const result = replay(sessions, (read) => `${read.model}.${read.operation}${'sectionId' in ((read.args.where as object) ?? {}) ? ' section' : ''}`, 2)
    for (const label of ['Story.findMany section', 'all']) expectAtLeastExact(result, label)
  })

  it('(g) weighs a source by how often it held apart from the slot\'s usual value: a count that is mostly 0, as the page offset is', () => {
    // One of 30 items, with its number of bids (none for 70% of them), then a search from the first
    // page (offset 0) 85% of the time, else the second. The bid count agrees with the offset
    // whenever both are 0, as often as a real source would; when it is not 0 it is never right,
    // and the usual offset must stay first.
    const rng = new Rng(23)
    const items = Array.from({ length: 30 }, (_, i) => ({ id: i + 1, bids: rng.chance(0.7) ? 0 : rng.range(1, 50) }))
    const sessions: Read[][] = []
    for (let s = 0; s < 600; s++) {
      const reads: Read[] = []
      for (let page = 0; page < 5; page++) {
        const { id, bids } = items[rng.int(items.length)]
        reads.push({ model: 'Item', operation: 'findUnique', args: { where: { id } }, result: { id, bids } })
        const skip = rng.chance(0.85) ? 0 : 20
        reads.push({ model: 'Item', operation: 'findMany', args: { where: { categoryId: 3 }, skip, take: 20 }, result: [{ id: rng.range(1, 1_000_000), bids: 0 }] })
      }
      sessions.push(reads)
    }
    const result = replay(sessions)
    for (const label of ['Item.findMany', 'all']) expectAtLeastExact(result, label)
  })

  it('(h) remembers whole reads: after each of 40 categories, the search its page always makes, by terms no read before shows', () => {
    // A category page, then a search by the category's own terms (a word and a price bound, each
    // fixed per category but shown by no read): no source explains them, and each slot's values
    // are spread over 40 categories, more than a slot remembers. The exact model names the search
    // after the category; the learner must as well, from the whole read that followed it before.
    const rng = new Rng(29)
    const terms = Array.from({ length: 40 }, () => ({ word: `w${rng.range(1, 1_000_000)}`, below: rng.range(1, 1000) }))
    const sessions: Read[][] = []
    for (let s = 0; s < 600; s++) {
      const reads: Read[] = []
      for (let page = 0; page < 4; page++) {
        const id = rng.int(terms.length)
        reads.push({ model: 'Category', operation: 'findUnique', args: { where: { id } }, result: { id, name: `c${id}` } })
        const { word, below } = terms[id]
        const rows = Array.from({ length: 5 }, () => ({ id: rng.range(1, 1_000_000), price: rng.range(1, below) }))
        reads.push({ model: 'Item', operation: 'findMany', args: { where: { name: { contains: word }, price: { lt: below } }, take: 5 }, result: rows })
      }
      sessions.push(reads)
    }
    // Scored once both have seen each category's search a few times (the learner proposes one
    // seen twice; the exact model, its only follower, after once).
    const result = replay(sessions, undefined, 100)
    expectAtLeastExact(result, 'Item.findMany')
    // The categories are drawn at random: both predictors name one by chance, 1 time in 40 or so.
    expectAtLeastExact(result, 'all', 0.005)
    expect(result.rates('Item.findMany').learned.top1).toBeGreaterThan(0.9)
  })

  it('(i) puts the whole-read memory first where it was right more often: the bids of an item that has some, else a login', () => {
    // A session logs in, then views items: after an item with bids (12 of 40), the list of its
    // bids, always; after one without, the login again, by the session's own credentials. The
    // login is likelier after an item on average (70%) and derived right (its credentials are the
    // session's); the bids are certain after the items that have them, which only the memory of
    // each item's reads knows. The exact model names the bids there; so must the learner.
    const rng = new Rng(31)
    const items = Array.from({ length: 40 }, (_, i) => ({ id: 100 + i, bids: i % 10 < 3 ? rng.range(1, 20) : 0 }))
    const sessions: Read[][] = []
    for (let s = 0; s < 600; s++) {
      const reads: Read[] = []
      const nickname = `n${rng.range(1, 1_000_000)}`
      const password = `p${rng.range(1, 1_000_000)}`
      const login: Read = { model: 'User', operation: 'findFirst', args: { where: { nickname, password }, select: { id: true } }, result: { id: rng.range(1, 1_000_000) } }
      reads.push(login)
      for (let page = 0; page < 6; page++) {
        const item = items[rng.int(items.length)]
        reads.push({ model: 'Item', operation: 'findUnique', args: { where: { id: item.id } }, result: { id: item.id, bids: item.bids } })
        if (item.bids > 0) {
          reads.push({ model: 'Bid', operation: 'findMany', args: { where: { itemId: item.id }, orderBy: { bid: 'desc' }, take: 5 }, result: Array.from({ length: Math.min(5, item.bids) }, (_, b) => ({ bid: 10 + b })) })
        } else reads.push(login)
      }
      sessions.push(reads)
    }
    const result = replay(sessions, undefined, 100)
    for (const label of ['Bid.findMany', 'User.findFirst', 'all']) expectAtLeastExact(result, label)
    expect(result.rates('Bid.findMany').learned.top1).toBeGreaterThan(0.9)
  })

  it('is at least the exact model on a news site and an N+1 blog, overall and on every template with 1% of the reads', () => {
    for (const name of ['news', 'blog'] as const) {
      const sessions = Array.from({ length: 400 }, (_, i) => syntheticSession(name, i, 3).reads)
      const result = replay(sessions, (read) => `${read.model}.${read.operation}${valueText(Object.keys(read.args).sort())}`)
      const { reads } = result.rates('all')
      expect(result.rates('all').learned.top3).toBeGreaterThanOrEqual(result.rates('all').exact.top3)
      for (const label of result.labels()) {
        if (label === 'all' || result.rates(label).reads < reads / 100) continue
        expect(result.rates(label).learned.top3, `${name} ${label}: top-3`).toBeGreaterThanOrEqual(result.rates(label).exact.top3 - 0.005)
      }
    }
  })
})

describe('generated workloads: an N+1 loop is one step of the history', () => {
  it('(d) keeps the list in reach after a loop whose iterations are three reads each', () => {
    // A user's bids; for each bid its item, the item's seller and the item's category; then the
    // user's won auctions, by the user id the bid list was read with. Each iteration is longer
    // than `lookback`: only if the loop counts as one step is the list still in reach after it.
    const rng = new Rng(16)
    const sessions: Read[][] = []
    for (let s = 0; s < 600; s++) {
      const reads: Read[] = []
      const userId = rng.range(1, 1_000_000)
      reads.push({ model: 'Bid', operation: 'findMany', args: { where: { userId }, take: 10 }, result: Array.from({ length: 3 + rng.int(6) }, () => ({ itemId: rng.range(1, 1_000_000) })) })
      const bids = reads[0].result as { itemId: number }[]
      for (const { itemId } of bids) {
        const sellerId = rng.range(1, 1_000_000)
        const categoryId = rng.range(1, 1_000_000)
        reads.push({ model: 'Item', operation: 'findUnique', args: { where: { id: itemId } }, result: { id: itemId, sellerId, categoryId } })
        reads.push({ model: 'User', operation: 'findUnique', args: { where: { id: sellerId } }, result: { id: sellerId } })
        reads.push({ model: 'Category', operation: 'findUnique', args: { where: { id: categoryId } }, result: { id: categoryId } })
      }
      reads.push({ model: 'Bid', operation: 'findMany', args: { where: { userId, won: true } }, result: [] })
      sessions.push(reads)
    }
    const result = replay(sessions, (read) => `${read.model}.${read.operation}${'won' in (read.args.where as object) ? ' won' : ''}`)
    for (const label of ['Item.findUnique', 'User.findUnique', 'Category.findUnique', 'Bid.findMany won']) expectAtLeastExact(result, label)
    expect(result.rates('Bid.findMany won').learned.top1).toBeGreaterThan(0.9)
    expect(result.rates('Item.findUnique').learned.top1).toBeGreaterThan(0.95)
  })

  it('(d) recognises a loop of list reads keyed by a field of each row: the comments of each post', () => {
    // An author's posts, then the comments of each post (a findMany per row, not a lookup by a
    // unique key), then the author: by the id the post list was read with, a loop's length back.
    const rng = new Rng(17)
    const sessions: Read[][] = []
    for (let s = 0; s < 600; s++) {
      const reads: Read[] = []
      const authorId = rng.range(1, 1_000_000)
      const posts = Array.from({ length: 3 + rng.int(6) }, () => ({ id: rng.range(1, 1_000_000), authorId }))
      reads.push({ model: 'Post', operation: 'findMany', args: { where: { authorId }, take: 10 }, result: posts })
      for (const post of posts) {
        const comments = Array.from({ length: rng.int(4) }, () => ({ id: rng.range(1, 1_000_000), postId: post.id }))
        reads.push({ model: 'Comment', operation: 'findMany', args: { where: { postId: post.id } }, result: comments })
      }
      reads.push({ model: 'User', operation: 'findUnique', args: { where: { id: authorId } }, result: { id: authorId } })
      sessions.push(reads)
    }
    const result = replay(sessions)
    for (const label of ['Comment.findMany', 'User.findUnique']) expectAtLeastExact(result, label)
    expect(result.rates('User.findUnique').learned.top1).toBeGreaterThan(0.9)
    expect(result.rates('Comment.findMany').learned.top1).toBeGreaterThan(0.8)
  })
})
