import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RUBIS_PAGES, type RubisPage } from '../../bench/workloads/data.ts'
import { createRubisSession, rubisPages, type RubisSession } from '../../bench/workloads/pages.ts'
import { Rng } from '../../bench/workloads/random.ts'
import { RUBIS_EPOCH, rubisContext, seedRubis, type RubisDb, type RubisScale } from '../../bench/workloads/rubis.ts'
import { paramRng, planSession } from '../../bench/workloads/sessions.ts'
import { createBenchDatabase, type LoggedQuery, type RubisBenchDatabase } from './bench-db.ts'

// A tiny auction site: the tests check behaviour, not scale.
const scale: RubisScale = { users: 100, activeItems: 200, oldItems: 100, maxBidsPerItem: 20, descriptionMaxLength: 200, commentMaxLength: 100 }
const ctx = rubisContext(scale)

let a: RubisBenchDatabase
let b: RubisBenchDatabase

beforeAll(async () => {
  ;[a, b] = await Promise.all([createBenchDatabase('rubis'), createBenchDatabase('rubis')])
  await seedRubis(a.client, { scale, seed: 3 })
  await seedRubis(b.client, { scale, seed: 3 })
})
afterAll(async () => {
  await a?.drop()
  await b?.drop()
})

/** Every row of every table, in id order. */
async function dump(db: RubisDb) {
  return {
    region: await db.region.findMany({ orderBy: { id: 'asc' } }),
    category: await db.category.findMany({ orderBy: { id: 'asc' } }),
    user: await db.user.findMany({ orderBy: { id: 'asc' } }),
    item: await db.item.findMany({ orderBy: { id: 'asc' } }),
    oldItem: await db.oldItem.findMany({ orderBy: { id: 'asc' } }),
    bid: await db.bid.findMany({ orderBy: { id: 'asc' } }),
    comment: await db.comment.findMany({ orderBy: { id: 'asc' } }),
  }
}

describe('RUBiS data', () => {
  it('has the configured cardinalities, consistent bids and ratings', async () => {
    const rows = await dump(a.client)
    expect(rows.region).toHaveLength(20)
    expect(rows.category).toHaveLength(20)
    expect(rows.user).toHaveLength(scale.users)
    expect(rows.oldItem.map((item) => item.id)).toEqual(Array.from({ length: scale.oldItems }, (_, i) => i + 1))
    expect(rows.item.map((item) => item.id)).toEqual(Array.from({ length: scale.activeItems }, (_, i) => scale.oldItems + i + 1))
    expect(rows.comment).toHaveLength(scale.oldItems + scale.activeItems)
    for (const item of rows.item) expect(item.endDate.getTime()).toBeGreaterThan(RUBIS_EPOCH.getTime())
    for (const item of rows.oldItem) expect(item.endDate.getTime()).toBeLessThan(RUBIS_EPOCH.getTime())
    for (const item of [...rows.item, ...rows.oldItem]) {
      const bids = rows.bid.filter((bid) => bid.itemId === item.id || bid.oldItemId === item.id)
      expect(item.nbOfBids).toBe(bids.length)
      expect(item.nbOfBids).toBeLessThan(scale.maxBidsPerItem)
      expect(item.maxBid).toBe(bids.length ? Math.max(...bids.map((bid) => bid.bid)) : 0)
    }
    for (const user of rows.user) {
      expect(user.rating).toBe(rows.comment.filter((c) => c.toUserId === user.id).reduce((sum, c) => sum + c.rating, 0))
    }
  })

  it('seeds the same rows for the same seed, and other rows for another seed', async () => {
    const first = await dump(a.client)
    expect(await dump(b.client)).toEqual(first)
    const c = await createBenchDatabase('rubis')
    try {
      await seedRubis(c.client, { scale, seed: 4 })
      const other = await dump(c.client)
      expect(other.item.map((item) => item.sellerId)).not.toEqual(first.item.map((item) => item.sellerId))
    } finally {
      await c.drop()
    }
  })
})

/** Runs one session plan's pages against `db`. */
async function play(db: RubisDb, index: number): Promise<number> {
  const plan = planSession('rubis-bidding', index, { seed: 11 })
  const rng = paramRng(plan)
  const session = createRubisSession(ctx, rng)
  for (const page of plan.pages) await rubisPages[page](db, session, rng)
  return plan.pages.length
}

describe('RUBiS sessions', () => {
  it('run end to end, and replay the same queries with the same parameters on the same data', async () => {
    let pages = 0
    for (const db of [a, b]) {
      db.log.length = 0
      pages = 0
      for (let index = 0; index < 6; index++) pages += await play(db.client, index)
    }
    expect(pages).toBeGreaterThan(100)
    expect(a.log.length).toBeGreaterThan(pages)
    expect(a.log).toEqual(b.log)
  })
})

/** Whether a logged statement reads or writes `table` (Prisma's SQLite SQL quotes with backticks). */
const touches = ({ query }: LoggedQuery, table: string) => query.includes(`\`main\`.\`${table}\``)

describe('RUBiS pages', () => {
  async function visit(page: RubisPage, session: RubisSession, rng: Rng) {
    const before = a.log.length
    await rubisPages[page](a.client, session, rng)
    expect(session.page).toBe(page)
    return a.log.slice(before)
  }
  const db = () => a.client

  it('has a function for every page', () => {
    expect(Object.keys(rubisPages).sort()).toEqual([...RUBIS_PAGES].sort())
  })

  it('take ids from page to page and write what the pages write', async () => {
    const rng = new Rng(31)
    const s = createRubisSession(ctx, rng)
    for (const page of ['Home', 'Browse', 'Register', 'Sell', 'AboutMe (auth form)'] as const) {
      expect(await visit(page, s, rng)).toEqual([]) // static
    }

    const users = await db().user.count()
    await visit('RegisterUser', s, rng)
    expect(await db().user.count()).toBe(users + 1)

    expect((await visit('BrowseCategories', s, rng)).some((q) => touches(q, 'categories'))).toBe(true)
    // Random categories until one has open items (a tiny database has empty ones).
    do await visit('SearchItemsInCategory', s, rng)
    while (s.itemLinks.length === 0)
    expect(s.pageLinks).toEqual([1])
    const listed = s.itemLinks
    await visit('ViewItem', s, rng)
    const item = s.lastItemId!
    expect(listed).toContain(item)
    expect(s.itemLinks.every((id) => id === item)).toBe(true)
    const seller = (await db().item.findUniqueOrThrow({ where: { id: item } })).sellerId
    expect(s.userLink).toBe(seller)

    await visit('ViewUserInfo', s, rng)
    expect(s.lastUserId).toBe(seller)
    await visit('ViewUserInfo', s, rng) // the first comment author's page (or the same user without comments)
    await visit('ViewBidHistory', s, rng) // no item link on a user page: the last item
    expect(s.lastItemId).toBe(item)

    await visit('BuyNowAuth', s, rng)
    expect(s.itemLinks).toEqual([item])
    await visit('BuyNow', s, rng)
    expect(s.maxQty).toBeGreaterThanOrEqual(1)
    const quantity = (await db().item.findUniqueOrThrow({ where: { id: item } })).quantity
    await visit('StoreBuyBow', s, rng)
    expect(await db().buyNow.count({ where: { itemId: item, buyerId: s.userId } })).toBe(1)
    const after = await db().item.findUniqueOrThrow({ where: { id: item } })
    expect(after.quantity).toBeLessThan(quantity)

    await visit('BrowseRegions', s, rng)
    await visit('BrowseCategoriesInRegion', s, rng)
    const search = await visit('SearchItemsInRegion', s, rng)
    expect(search.some((q) => touches(q, 'items') && touches(q, 'users'))).toBe(true) // seller's region
    const found = s.itemLinks
    await visit('ViewItem', s, rng) // one of the results, or the last item if there were none
    const bidOn = s.lastItemId!
    expect(found.length > 0 ? found : [item]).toContain(bidOn)
    await visit('PutBidAuth', s, rng)
    expect(s.itemLinks).toEqual([bidOn])
    await visit('PutBid', s, rng)
    const before = await db().item.findUniqueOrThrow({ where: { id: bidOn } })
    expect(s.minBid).toBe(before.nbOfBids === 0 ? before.initialPrice : before.maxBid + 1)
    expect(s.maxQty).toBe(before.quantity)
    const minBid = s.minBid!
    await visit('StoreBid', s, rng)
    const bid = await db().bid.findFirstOrThrow({ where: { itemId: bidOn, userId: s.userId }, orderBy: { id: 'desc' } })
    expect(bid.bid - minBid).toBeGreaterThanOrEqual(1)
    expect(bid.bid - minBid).toBeLessThanOrEqual(10)
    expect(bid.maxBid).toBe(minBid + 2 * (bid.bid - minBid))
    expect(bid.qty).toBeLessThanOrEqual(Math.max(1, before.quantity))
    const bidItem = await db().item.findUniqueOrThrow({ where: { id: bidOn } })
    expect(bidItem.nbOfBids).toBe(before.nbOfBids + 1)
    expect(bidItem.maxBid).toBe(Math.max(before.maxBid, bid.bid))

    await visit('PutBid', s, rng) // the bid form again, then a comment on the seller
    const to = s.commentTo!
    await visit('PutCommentAuth', s, rng)
    await visit('PutComment', s, rng)
    expect(s.commentTo).toBe(to)
    const { rating } = await db().user.findUniqueOrThrow({ where: { id: to } })
    await visit('StoreComment', s, rng)
    const comment = await db().comment.findFirstOrThrow({ where: { toUserId: to, fromUserId: s.userId }, orderBy: { id: 'desc' } })
    expect((await db().user.findUniqueOrThrow({ where: { id: to } })).rating).toBe(rating + comment.rating)

    await visit('SelectCategoryToSellItem', s, rng)
    await visit('SellItemForm', s, rng)
    const items = await db().item.count()
    await visit('RegisterItem', s, rng)
    expect(await db().item.count()).toBe(items + 1)
    const created = await db().item.findFirstOrThrow({ orderBy: { id: 'desc' } })
    expect(created.sellerId).toBe(s.userId)
    expect(created.id).toBeGreaterThan(scale.oldItems + scale.activeItems)

    const aboutMe = await visit('AboutMe', s, rng)
    // The user's open bid, purchase and new item are on the page, each row with its lookups.
    expect(s.itemLinks).toContain(bidOn)
    expect(s.itemLinks).toContain(item)
    expect(s.itemLinks).toContain(created.id)
    expect(aboutMe.filter((q) => touches(q, 'users')).length).toBeGreaterThan(3)
  })
})
