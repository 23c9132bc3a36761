/**
 * The RUBiS pages as Prisma queries, following the reference PHP pages and choosing every
 * parameter as the RUBiS client (edu.rice.rubis.client.UserSession) does:
 *
 * - The session's user is drawn uniformly; every authenticated page logs in as that user.
 * - Searches pick a uniformly random category (and region), and the page number from the
 *   previous page's "&page=" links (previous or next at random; page 0 otherwise).
 * - An item id is picked uniformly among all the "itemId=" links of the previous page (a search
 *   page links each item twice, to ViewItem and to PutBidAuth); with none, the last item picked.
 * - A user id is the first "userId=" link of the previous page (the seller on ViewItem and
 *   PutBid, the first comment author on ViewUserInfo, the latest bidder on ViewBidHistory);
 *   with none, the last one used.
 * - Bids add 1-10 to the page's minimum bid; quantities are uniform up to the page's maximum;
 *   comments are rated uniformly -5, -3, 0, 3 or 5; new users and items are drawn as the client
 *   draws them.
 *
 * Where the client misbehaves, these pages do what it means (each is marked below): categories
 * and regions are drawn among the real ones (the client's category ids are off by one), bids
 * and purchases are made as the session's user (the client sends a 0-based user id), and a page
 * that needs an item id and finds none uses a random open item (the client would fall through to
 * another page). The client's reaction to a "Sorry" page (going back) is not reproduced: session
 * plans do not depend on the database.
 *
 * The clock is `ctx.now()`: "open" auctions are those ending at or after it, as RUBiS compares
 * with NOW(). The default clock is frozen at the data's epoch, so the same query text means the
 * same query, as it does for the SQL cache RUBiS ran with.
 */
import type { RubisPage } from './data.ts'
import type { PageFn } from './pages.ts'
import type { Rng } from './random.ts'
import {
  randomText,
  RUBIS_CATEGORIES,
  RUBIS_ITEMS_PER_PAGE,
  RUBIS_MAX_ITEM_QTY,
  RUBIS_RATINGS,
  RUBIS_REGIONS,
  type RubisContext,
  type RubisDb,
} from './rubis.ts'

/** What the RUBiS client knows about one user's session: who it is and what the page showed. */
export interface RubisSession {
  readonly ctx: RubisContext
  /** The page the user is on (the last one run); null before the first. */
  page: RubisPage | null
  /** The session's user (RUBiS draws one per session). */
  userId: number
  nickname: string
  password: string
  /** "itemId=" links on the current page, with their repeats. */
  itemLinks: number[]
  /** The first "userId=" link on the current page. */
  userLink: number | null
  /** "&page=" links on the current page. */
  pageLinks: number[]
  /** The user a comment would go to ("to=" on the current page). */
  commentTo: number | null
  /** The current page's maximum quantity and minimum bid (PutBid, BuyNow forms). */
  maxQty: number | null
  minBid: number | null
  /** The client's fallbacks when a page has no link: the last item and user it picked. */
  lastItemId: number | null
  lastUserId: number | null
}

/** A new session for a user drawn uniformly, as the client starts one. */
export function createRubisSession(ctx: RubisContext, rng: Rng): RubisSession {
  const userId = rng.range(1, ctx.scale.users)
  return {
    ctx,
    page: null,
    userId,
    nickname: `user${userId}`,
    password: `password${userId}`,
    itemLinks: [],
    userLink: null,
    pageLinks: [],
    commentTo: null,
    maxQty: null,
    minBid: null,
    lastItemId: null,
    lastUserId: null,
  }
}

type Page = PageFn<RubisDb, RubisSession>

/** What a page shows that the next one can use; everything not given is absent from it. */
interface Shown {
  itemLinks?: number[]
  userLink?: number | null
  pageLinks?: number[]
  commentTo?: number | null
  maxQty?: number | null
  minBid?: number | null
}

/** Wraps a page body: afterwards the user is on `name`, which shows what the body returned. */
const page =
  (name: RubisPage, body: (db: RubisDb, s: RubisSession, rng: Rng) => Promise<Shown>): Page =>
  async (db, s, rng) => {
    const shown = await body(db, s, rng)
    s.itemLinks = shown.itemLinks ?? []
    s.userLink = shown.userLink ?? null
    s.pageLinks = shown.pageLinks ?? []
    s.commentTo = shown.commentTo ?? null
    s.maxQty = shown.maxQty ?? null
    s.minBid = shown.minBid ?? null
    s.page = name
  }

/** A page that only shows a form or static text. */
const staticPage = (name: RubisPage): Page => page(name, async () => ({}))

const DAY = 86_400_000
const THIRTY_DAYS = 30 * DAY

/** The item the client picks from the previous page: uniform over its links, else the last one. */
function pickItem(s: RubisSession, rng: Rng): number {
  if (s.itemLinks.length > 0) return (s.lastItemId = rng.pick(s.itemLinks))
  if (s.lastItemId !== null) return s.lastItemId
  // The client would fall through to another page here; a random open item is no easier to guess.
  return (s.lastItemId = s.ctx.scale.oldItems + rng.range(1, s.ctx.scale.activeItems))
}

/** The user the client picks from the previous page: its first user link, else the last one. */
function pickUser(s: RubisSession, rng: Rng): number {
  if (s.userLink !== null) return (s.lastUserId = s.userLink)
  if (s.lastUserId !== null) return s.lastUserId
  return (s.lastUserId = rng.range(1, s.ctx.scale.users))
}

/** The search page number: one of the previous page's page links at random, else 0. */
const pickPage = (s: RubisSession, rng: Rng) => (s.pageLinks.length > 0 ? rng.pick(s.pageLinks) : 0)

/** A search page's links to the previous and next pages (PHP: none when page 0 is empty). */
const searchPageLinks = (page: number, found: number) => (found === 0 ? (page > 0 ? [page - 1] : []) : page === 0 ? [1] : [page - 1, page + 1])

/** RUBiS's authenticate(): the user id for a nickname and password. */
const authenticate = (db: RubisDb, s: RubisSession) =>
  db.user.findFirst({ where: { nickname: s.nickname, password: s.password }, select: { id: true } })

/** An item by id, open or old, with its seller's nickname. */
async function findItem(db: RubisDb, id: number) {
  const include = { seller: { select: { nickname: true } } } as const
  const open = await db.item.findUnique({ where: { id }, include })
  if (open) return { item: open, old: false }
  const old = await db.oldItem.findUnique({ where: { id }, include })
  return old ? { item: old, old: true } : null
}

/** The bids of an item, open or old. */
const bidsOf = (id: number, old: boolean) => (old ? { oldItemId: id } : { itemId: id })

/** What the search pages read of each item. */
const searchColumns = { id: true, name: true, initialPrice: true, maxBid: true, nbOfBids: true, endDate: true } as const

/** One page of open auctions matching `where`, soonest ending first, and the links it shows. */
async function searchOpenItems(db: RubisDb, where: NonNullable<Parameters<RubisDb['item']['findMany']>[0]>['where'], pageNumber: number) {
  const items = await db.item.findMany({
    where,
    orderBy: [{ endDate: 'asc' }, { id: 'asc' }],
    skip: pageNumber * RUBIS_ITEMS_PER_PAGE,
    take: RUBIS_ITEMS_PER_PAGE,
    select: searchColumns,
  })
  return { itemLinks: items.flatMap(({ id }) => [id, id]), pageLinks: searchPageLinks(pageNumber, items.length) }
}

export const rubisPages: Record<RubisPage, Page> = {
  Home: staticPage('Home'),
  Register: staticPage('Register'),
  Browse: staticPage('Browse'),
  Sell: staticPage('Sell'),
  'AboutMe (auth form)': staticPage('AboutMe (auth form)'),

  /** Registers a new user as the client draws one: region by name, nickname taken?, insert. */
  RegisterUser: page('RegisterUser', async (db, s, rng) => {
    const i = s.ctx.scale.users + rng.range(1, 1_000_000)
    const region = await db.region.findUnique({ where: { name: RUBIS_REGIONS[i % RUBIS_REGIONS.length] }, select: { id: true } })
    const taken = await db.user.findUnique({ where: { nickname: `user${i}` }, select: { id: true } })
    if (region && !taken) {
      await db.user.create({
        data: {
          firstName: `Great${i}`,
          lastName: `User${i}`,
          nickname: `user${i}`,
          password: `password${i}`,
          email: `Great${i}.User${i}@rubis.com`,
          rating: 0,
          balance: 0,
          creationDate: s.ctx.now(),
          regionId: region.id,
        },
        select: { id: true },
      })
    }
    return {}
  }),

  BrowseCategories: page('BrowseCategories', async (db) => {
    await db.category.findMany({ orderBy: { id: 'asc' } })
    return {}
  }),

  BrowseRegions: page('BrowseRegions', async (db) => {
    await db.region.findMany({ orderBy: { id: 'asc' } })
    return {}
  }),

  /** The categories, for a region the client picks at random (looked up by name). */
  BrowseCategoriesInRegion: page('BrowseCategoriesInRegion', async (db, _s, rng) => {
    await db.region.findUnique({ where: { name: rng.pick(RUBIS_REGIONS) }, select: { id: true } })
    await db.category.findMany({ orderBy: { id: 'asc' } })
    return {}
  }),

  /** One page of the open auctions of a random category, ending soonest first. */
  SearchItemsInCategory: page('SearchItemsInCategory', async (db, s, rng) => {
    const categoryId = rng.range(1, RUBIS_CATEGORIES.length)
    const pageNumber = pickPage(s, rng)
    return searchOpenItems(db, { categoryId, endDate: { gte: s.ctx.now() } }, pageNumber)
  }),

  /** One page of the open auctions of a random category whose seller is in a random region. */
  SearchItemsInRegion: page('SearchItemsInRegion', async (db, s, rng) => {
    const categoryId = rng.range(1, RUBIS_CATEGORIES.length)
    const regionId = rng.range(1, RUBIS_REGIONS.length)
    const pageNumber = pickPage(s, rng)
    return searchOpenItems(db, { categoryId, endDate: { gte: s.ctx.now() }, seller: { regionId } }, pageNumber)
  }),

  /** An item (open, else old) with its seller's nickname; its highest bid and number of bids. */
  ViewItem: page('ViewItem', async (db, s, rng) => {
    const id = pickItem(s, rng)
    const found = await findItem(db, id)
    if (!found) return {}
    const { item, old } = found
    const bids = await db.bid.aggregate({ where: bidsOf(id, old), _max: { bid: true }, _count: { _all: true } })
    if (bids._max.bid !== null && item.quantity > 1) {
      await db.bid.findMany({ where: bidsOf(id, old), orderBy: { bid: 'desc' }, take: item.quantity, select: { bid: true, qty: true } })
    }
    // Links: bid history, comment on the seller, buy now (if offered), bid now; the seller.
    return { itemLinks: item.buyNow > 0 ? [id, id, id, id] : [id, id, id], userLink: item.sellerId, commentTo: item.sellerId }
  }),

  /** A user, and the comments about them with each author's nickname. */
  ViewUserInfo: page('ViewUserInfo', async (db, s, rng) => {
    const userId = pickUser(s, rng)
    await db.user.findUnique({ where: { id: userId } })
    const comments = await db.comment.findMany({
      where: { toUserId: userId },
      orderBy: { id: 'asc' },
      include: { fromUser: { select: { nickname: true } } },
    })
    return { userLink: comments[0]?.fromUserId ?? null }
  }),

  /** An item's name, and its bids, latest first, with each bidder's nickname. */
  ViewBidHistory: page('ViewBidHistory', async (db, s, rng) => {
    const id = pickItem(s, rng)
    const open = await db.item.findUnique({ where: { id }, select: { name: true } })
    const old = open ? null : await db.oldItem.findUnique({ where: { id }, select: { name: true } })
    const bids = await db.bid.findMany({
      where: bidsOf(id, !open && !!old),
      orderBy: [{ date: 'desc' }, { id: 'desc' }],
      include: { user: { select: { nickname: true } } },
    })
    return { userLink: bids[0]?.userId ?? null }
  }),

  /** The login form before buying: carries the item. */
  BuyNowAuth: page('BuyNowAuth', async (_db, s, rng) => ({ itemLinks: [pickItem(s, rng)] })),

  /** Log in; the item with its seller's nickname, and the quantity one may buy. */
  BuyNow: page('BuyNow', async (db, s, rng) => {
    const id = pickItem(s, rng)
    await authenticate(db, s)
    const found = await findItem(db, id)
    return { itemLinks: [id], maxQty: found?.item.quantity ?? null }
  }),

  /**
   * Buys 1..maxQty units: the item's quantity goes down (to 0 ends the auction), a buy_now row
   * goes in. An old item, or one sold out meanwhile, cannot be bought: nothing is written.
   */
  StoreBuyBow: page('StoreBuyBow', async (db, s, rng) => {
    const id = pickItem(s, rng)
    const qty = rng.range(1, Math.max(1, s.maxQty ?? 1))
    const now = s.ctx.now()
    await db.$transaction(async (tx) => {
      const item = await tx.item.findUnique({ where: { id }, select: { quantity: true } })
      if (!item || item.quantity < 1) return
      const bought = Math.min(qty, item.quantity)
      const left = item.quantity - bought
      // Sold out: the auction ends (RUBiS sets end_date = NOW(); a frozen clock needs it in the past).
      await tx.item.update({
        where: { id },
        data: left > 0 ? { quantity: left } : { quantity: 0, endDate: new Date(now.getTime() - 1) },
        select: { id: true },
      })
      await tx.buyNow.create({ data: { buyerId: s.userId, itemId: id, qty: bought, date: now }, select: { id: true } })
    })
    return {}
  }),

  /** The login form before bidding: carries the item. */
  PutBidAuth: page('PutBidAuth', async (_db, s, rng) => ({ itemLinks: [pickItem(s, rng)] })),

  /** Log in; the item with its seller's nickname, its highest bid and number of bids: the bid form. */
  PutBid: page('PutBid', async (db, s, rng) => {
    const id = pickItem(s, rng)
    await authenticate(db, s)
    const found = await findItem(db, id)
    if (!found) return {}
    const { item, old } = found
    const bids = await db.bid.aggregate({ where: bidsOf(id, old), _max: { bid: true }, _count: { _all: true } })
    const minBid = bids._max.bid === null ? item.initialPrice : bids._max.bid + 1
    // Links: the seller, the bid history; the form carries the item, the minimum bid and quantity.
    return { itemLinks: [id, id], userLink: item.sellerId, commentTo: item.sellerId, maxQty: item.quantity, minBid }
  }),

  /** Stores a bid of minBid + 1..10 for 1..maxQty units; the item's bid count and highest bid follow. */
  StoreBid: page('StoreBid', async (db, s, rng) => {
    const id = pickItem(s, rng)
    const qty = rng.range(1, Math.max(1, s.maxQty ?? 1))
    const minBid = s.minBid ?? 1
    const addBid = rng.range(1, 10)
    const bid = minBid + addBid
    const maxBid = minBid + 2 * addBid
    const now = s.ctx.now()
    await db.$transaction(async (tx) => {
      const item = await tx.item.findUnique({ where: { id }, select: { maxBid: true } })
      if (!item) return // the auction is over (an old item)
      await tx.bid.create({ data: { userId: s.userId, itemId: id, qty, bid, maxBid, date: now }, select: { id: true } })
      await tx.item.update({
        where: { id },
        data: { nbOfBids: { increment: 1 }, ...(bid > item.maxBid ? { maxBid: bid } : {}) },
        select: { id: true },
      })
    })
    return {}
  }),

  /** The login form before commenting: carries the item and the user commented on. */
  PutCommentAuth: page('PutCommentAuth', async (_db, s, rng) => ({ itemLinks: [pickItem(s, rng)], commentTo: s.commentTo ?? pickUser(s, rng) })),

  /** Log in; the item and the user the comment is about: the comment form. */
  PutComment: page('PutComment', async (db, s, rng) => {
    const id = pickItem(s, rng)
    const to = s.commentTo ?? pickUser(s, rng)
    await authenticate(db, s)
    const found = await findItem(db, id)
    await db.user.findUnique({ where: { id: to }, select: { id: true, nickname: true } })
    return { itemLinks: found ? [id] : [], commentTo: to }
  }),

  /** Stores the comment and adds its rating to the user's, together. */
  StoreComment: page('StoreComment', async (db, s, rng) => {
    const id = pickItem(s, rng)
    const to = s.commentTo ?? pickUser(s, rng)
    const rating = rng.pick(RUBIS_RATINGS)
    const comment = randomText(rng, rng.range(1, s.ctx.scale.commentMaxLength))
    await db.$transaction([
      db.comment.create({ data: { fromUserId: s.userId, toUserId: to, itemId: id, rating, date: s.ctx.now(), comment }, select: { id: true } }),
      db.user.update({ where: { id: to }, data: { rating: { increment: rating } }, select: { id: true } }),
    ])
    return {}
  }),

  /** Log in, and the categories to sell in. */
  SelectCategoryToSellItem: page('SelectCategoryToSellItem', async (db, s) => {
    await authenticate(db, s)
    await db.category.findMany({ orderBy: { id: 'asc' } })
    return {}
  }),

  /** The form for a new item, in a category the client picks at random (no database access). */
  SellItemForm: page('SellItemForm', async (_db, _s, rng) => {
    rng.range(1, RUBIS_CATEGORIES.length)
    return {}
  }),

  /** Puts a new item up for auction, drawn as the client draws one. */
  RegisterItem: page('RegisterItem', async (db, s, rng) => {
    const { scale } = s.ctx
    const now = s.ctx.now()
    const n = scale.oldItems + scale.activeItems + rng.range(1, 1_000_000)
    const initialPrice = rng.range(1, 5000)
    const reservePrice = rng.chance(0.4) ? initialPrice + rng.range(0, 999) : 0
    const buyNow = rng.chance(0.1) ? initialPrice + reservePrice + rng.range(0, 999) : 0
    const duration = rng.range(1, 7)
    const quantity = rng.chance(0.8) ? 1 : rng.range(1, RUBIS_MAX_ITEM_QTY)
    await db.item.create({
      data: {
        name: `RUBiS automatically generated item #${n}`,
        description: randomText(rng, rng.range(1, scale.descriptionMaxLength)),
        initialPrice,
        quantity,
        reservePrice,
        buyNow,
        nbOfBids: 0,
        maxBid: 0,
        startDate: now,
        endDate: new Date(now.getTime() + duration * DAY),
        sellerId: s.userId,
        categoryId: rng.range(1, RUBIS_CATEGORIES.length),
      },
      select: { id: true },
    })
    return {}
  }),

  /**
   * Log in; the user; the open auctions they bid on, the auctions they won and the items they
   * bought in the last 30 days, each row followed by a lookup of the item and of its seller's
   * nickname; the items they sell and sold; the comments about them, each followed by a lookup
   * of its author's nickname (the page's one-query-per-row pattern, kept as RUBiS has it).
   */
  AboutMe: page('AboutMe', async (db, s) => {
    const now = s.ctx.now()
    const monthAgo = new Date(now.getTime() - THIRTY_DAYS)
    const auth = await authenticate(db, s)
    const userId = auth?.id ?? s.userId
    await db.user.findUnique({ where: { id: userId } })
    const itemLinks: number[] = []
    const userLinks: number[] = []
    const nickname = (id: number) => db.user.findUnique({ where: { id }, select: { nickname: true } })

    const bidOn = await db.bid.findMany({
      where: { userId, item: { endDate: { gte: now } } },
      distinct: ['itemId'],
      orderBy: { itemId: 'asc' },
      select: { itemId: true, maxBid: true },
    })
    for (const { itemId } of bidOn) {
      const item = await db.item.findUnique({ where: { id: itemId! } })
      if (!item) continue
      await nickname(item.sellerId)
      itemLinks.push(item.id, item.id) // the item, and "bid now" on it
      userLinks.push(item.sellerId)
    }
    const won = await db.bid.findMany({
      where: { userId, oldItem: { endDate: { gte: monthAgo } } },
      distinct: ['oldItemId'],
      orderBy: { oldItemId: 'asc' },
      select: { oldItemId: true },
    })
    for (const { oldItemId } of won) {
      const item = await db.oldItem.findUnique({ where: { id: oldItemId! } })
      if (!item) continue
      await nickname(item.sellerId)
      itemLinks.push(item.id)
      userLinks.push(item.sellerId)
    }
    const bought = await db.buyNow.findMany({ where: { buyerId: userId, date: { gte: monthAgo } }, orderBy: { id: 'asc' } })
    for (const { itemId } of bought) {
      const item = await db.item.findUnique({ where: { id: itemId } })
      if (!item) continue
      await nickname(item.sellerId)
      itemLinks.push(item.id)
      userLinks.push(item.sellerId)
    }
    const selling = await db.item.findMany({ where: { sellerId: userId, endDate: { gte: now } }, orderBy: { id: 'asc' } })
    const sold = await db.oldItem.findMany({ where: { sellerId: userId, endDate: { gte: monthAgo } }, orderBy: { id: 'asc' } })
    itemLinks.push(...selling.map((item) => item.id), ...sold.map((item) => item.id))
    const comments = await db.comment.findMany({ where: { toUserId: userId }, orderBy: { id: 'asc' } })
    for (const { fromUserId } of comments) {
      await nickname(fromUserId)
      userLinks.push(fromUserId)
    }
    return { itemLinks, userLink: userLinks[0] ?? null }
  }),
}
