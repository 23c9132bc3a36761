/**
 * RUBiS auction data: the scale, the generator that fills a database of prisma/bench/rubis.prisma
 * with it, and what the pages share (regions, categories, the data's clock).
 *
 * Distributions follow the RUBiS database generator and its default properties, scaled down:
 * users named user<i> / password<i> spread over the regions in turn; items with an initial
 * price of 1-5,000, a reserve price on 40% and a buy-now price on 10% of them, 80% sold as a
 * single unit and the rest 1-10, auctions of 1-7 days; 0-19 bids per item, each 1-10 above the
 * last; one comment per item from a random user to the seller, rated -5, -3, 0, 3 or 5, whose
 * rating is added to the seller's. Old items' auctions ended 1-7 days before `RUBIS_EPOCH`; open
 * items' auctions started at it. Descriptions and comments are random words (RUBiS repeats one
 * fixed text), of random lengths up to the maxima below.
 *
 * Everything is drawn from `Rng.derive(seed, 'rubis', <table>)` and dated relative to
 * `RUBIS_EPOCH`: the same scale and seed give the same rows.
 */
import type { PrismaClient } from '../../src/generated/rubis/client.ts'
import { Rng } from './random.ts'
import { insertInBatches, resetSequences, type SeedOptions, type SeedReport } from './seeding.ts'

type RubisModels = 'region' | 'category' | 'user' | 'item' | 'oldItem' | 'bid' | 'buyNow' | 'comment'

/** A Prisma client of prisma/bench/rubis.prisma (SQLite or PostgreSQL build, extended or not). */
export type RubisDb = Pick<PrismaClient, RubisModels | '$transaction' | '$executeRawUnsafe'>

/** What an interactive transaction's client offers of it. */
export type RubisTx = Pick<PrismaClient, RubisModels | '$executeRawUnsafe'>

/** How big the auction site is. */
export interface RubisScale {
  /** Registered users. @default 1000 */
  users: number
  /** Auctions still open. @default 1000 */
  activeItems: number
  /** Auctions that are over. @default 500 */
  oldItems: number
  /** Bids per item are uniform in 0..maxBidsPerItem - 1 (RUBiS default 20). @default 20 */
  maxBidsPerItem: number
  /** Longest item description, in characters (RUBiS default 7,168). @default 2048 */
  descriptionMaxLength: number
  /** Longest comment, in characters (RUBiS default 2,048). @default 512 */
  commentMaxLength: number
}

/**
 * `small` (the default, about 18,000 rows) seeds a SQLite file in about 4 s on a 2-core machine;
 * `large` is closer to the sizes RUBiS was published with (its defaults are 1,000,000 users,
 * 33,000 open and 500,000 old items).
 */
export const RUBIS_SCALES = {
  small: { users: 1000, activeItems: 1000, oldItems: 500, maxBidsPerItem: 20, descriptionMaxLength: 2048, commentMaxLength: 512 },
  large: { users: 50_000, activeItems: 33_000, oldItems: 50_000, maxBidsPerItem: 20, descriptionMaxLength: 7168, commentMaxLength: 2048 },
} as const satisfies Record<string, RubisScale>

/** The instant the generated data treats as "now"; pages use it too (see RubisContext). */
export const RUBIS_EPOCH = new Date('2025-01-01T00:00:00Z')

/** RUBiS has 20 categories and 20 regions in this benchmark (bench/workloads/data/README.md). */
export const RUBIS_CATEGORIES = [
  'Antiques & Art',
  'Books',
  'Business, Office & Industrial',
  'Clothing & Accessories',
  'Coins',
  'Collectibles',
  'Computers',
  'Consumer Electronics',
  'Dolls & Bears',
  'Home & Garden',
  'Jewelry, Gems & Watches',
  'Movies & Television',
  'Music',
  'Photo',
  'Pottery & Glass',
  'Sports',
  'Stamps',
  'Tickets & Travel',
  'Toys & Hobbies',
  'Everything Else',
] as const

export const RUBIS_REGIONS = [
  'AZ--Phoenix',
  'CA--Los Angeles',
  'CA--San Francisco',
  'CO--Denver',
  'FL--Miami',
  'GA--Atlanta',
  'IL--Chicago',
  'MA--Boston',
  'MI--Detroit',
  'MN--Minneapolis',
  'MO--St. Louis',
  'NC--Charlotte',
  'NY--New York',
  'OH--Cleveland',
  'OR--Portland',
  'PA--Philadelphia',
  'TX--Dallas',
  'TX--Houston',
  'WA--Seattle',
  'DC--Washington',
] as const

/** Comment ratings RUBiS draws from, uniformly. */
export const RUBIS_RATINGS = [-5, -3, 0, 3, 5] as const

/** Items shown per search page (RUBiS client default). */
export const RUBIS_ITEMS_PER_PAGE = 20

/** Largest quantity of a multi-unit item (RUBiS default). */
export const RUBIS_MAX_ITEM_QTY = 10

/** What the pages need to know about the database they run on. */
export interface RubisContext {
  scale: RubisScale
  /** The clock the pages read and write with ("open" auctions, bid dates). @default () => RUBIS_EPOCH */
  now: () => Date
}

export function rubisContext(scale: RubisScale = RUBIS_SCALES.small, now: () => Date = () => RUBIS_EPOCH): RubisContext {
  return { scale: checkScale(scale), now }
}

function checkScale(scale: RubisScale): RubisScale {
  for (const key of ['users', 'activeItems', 'oldItems', 'maxBidsPerItem', 'descriptionMaxLength', 'commentMaxLength'] as const) {
    if (!(Number.isInteger(scale[key]) && scale[key] >= 1)) throw new TypeError(`rubis: ${key} must be a positive integer: ${scale[key]}`)
  }
  return scale
}

const DAY = 86_400_000
const MINUTE = 60_000

/** Random words of about `length` characters. */
export function randomText(rng: Rng, length: number): string {
  let out = ''
  while (out.length < length) out += (out ? ' ' : '') + rng.string(2, 10, 'abcdefghijklmnopqrstuvwxyz')
  return out.slice(0, length)
}

/**
 * Fills an empty database (tables made by pushSchema) with the auction site at `scale`, in one
 * transaction. Old items get ids 1..oldItems and open items the ids after them, so an item id
 * names one row of either table (new items continue after both).
 */
export async function seedRubis(db: RubisDb, options: SeedOptions<RubisScale> = {}): Promise<SeedReport> {
  const started = performance.now()
  const rows = await db.$transaction((tx) => fill(tx, options), { maxWait: 60_000, timeout: 3_600_000 })
  return { rows, ms: performance.now() - started }
}

async function fill(db: RubisTx, options: SeedOptions<RubisScale>): Promise<Record<string, number>> {
  const seed = options.seed ?? 1
  const scale = checkScale(options.scale ?? RUBIS_SCALES.small)
  const batchSize = options.batchSize ?? 500
  const rng = (table: string) => Rng.derive(seed, 'rubis', table)
  const rows: Record<string, number> = {}
  const insert = async <T>(table: string, data: T[], createMany: (batch: T[]) => Promise<unknown>) => {
    rows[table] = await insertInBatches(data, batchSize, createMany)
  }
  const epoch = RUBIS_EPOCH.getTime()

  await insert('regions', RUBIS_REGIONS.map((name, i) => ({ id: i + 1, name })), (batch) => db.region.createMany({ data: batch }))
  await insert('categories', RUBIS_CATEGORIES.map((name, i) => ({ id: i + 1, name })), (batch) => db.category.createMany({ data: batch }))

  // Items, bids and comments are drawn first: the comments' ratings add up into the users' rows.
  const ratings = new Array<number>(scale.users + 1).fill(0)
  const items: ItemRow[] = []
  const oldItems: ItemRow[] = []
  const bids: BidRow[] = []
  const comments: CommentRow[] = []
  {
    const r = rng('items')
    const rb = rng('bids')
    const rc = rng('comments')
    const total = scale.oldItems + scale.activeItems
    for (let id = 1; id <= total; id++) {
      const old = id <= scale.oldItems
      const duration = r.range(1, 7)
      const startDate = new Date(old ? epoch - (duration + 7) * DAY : epoch)
      const endDate = new Date(old ? epoch - duration * DAY : epoch + duration * DAY)
      let price = r.range(1, 5000)
      const reservePrice = r.chance(0.4) ? price + r.range(0, 999) : 0
      const buyNow = r.chance(0.1) ? price + reservePrice + r.range(0, 999) : 0
      const quantity = r.chance(0.8) ? 1 : r.range(1, RUBIS_MAX_ITEM_QTY)
      const sellerId = r.range(1, scale.users)
      const initialPrice = price
      const nbOfBids = rb.int(scale.maxBidsPerItem)
      let maxBid = 0
      for (let j = 0; j < nbOfBids; j++) {
        price += rb.range(1, 10)
        maxBid = Math.max(maxBid, price)
        bids.push({
          userId: rb.range(1, scale.users),
          itemId: old ? null : id,
          oldItemId: old ? id : null,
          qty: rb.range(1, quantity),
          bid: price,
          maxBid,
          date: new Date(startDate.getTime() + (j + 1) * 7 * MINUTE),
        })
      }
      const row: ItemRow = {
        id,
        name: `RUBiS automatically generated item #${id}`,
        description: randomText(r, r.range(1, scale.descriptionMaxLength)),
        initialPrice,
        quantity,
        reservePrice,
        buyNow,
        nbOfBids,
        maxBid,
        startDate,
        endDate,
        sellerId,
        categoryId: r.range(1, RUBIS_CATEGORIES.length),
      }
      ;(old ? oldItems : items).push(row)
      const rating = rc.pick(RUBIS_RATINGS)
      ratings[sellerId] += rating
      comments.push({
        fromUserId: rc.range(1, scale.users),
        toUserId: sellerId,
        itemId: id,
        rating,
        date: new Date(startDate.getTime() + rc.range(0, 6 * 24 * 60) * MINUTE),
        comment: randomText(rc, rc.range(1, scale.commentMaxLength)),
      })
    }
  }
  {
    const r = rng('users')
    const data = Array.from({ length: scale.users }, (_, i) => {
      const id = i + 1
      return {
        id,
        firstName: `Great${id}`,
        lastName: `User${id}`,
        nickname: `user${id}`,
        password: `password${id}`,
        email: `Great${id}.User${id}@rubis.com`,
        rating: ratings[id],
        balance: 0,
        creationDate: new Date(epoch - r.range(1, 730) * DAY),
        regionId: (i % RUBIS_REGIONS.length) + 1,
      }
    })
    await insert('users', data, (batch) => db.user.createMany({ data: batch }))
  }
  await insert('old_items', oldItems, (batch) => db.oldItem.createMany({ data: batch }))
  await insert('items', items, (batch) => db.item.createMany({ data: batch }))
  await insert(
    'bids',
    bids.map((bid, i) => ({ id: i + 1, ...bid })),
    (batch) => db.bid.createMany({ data: batch }),
  )
  await insert(
    'comments',
    comments.map((comment, i) => ({ id: i + 1, ...comment })),
    (batch) => db.comment.createMany({ data: batch }),
  )
  rows.buy_now = 0

  if (options.provider === 'postgresql') {
    await resetSequences(db, ['regions', 'categories', 'users', 'old_items', 'items', 'bids', 'buy_now', 'comments'])
  }
  return rows
}

interface ItemRow {
  id: number
  name: string
  description: string
  initialPrice: number
  quantity: number
  reservePrice: number
  buyNow: number
  nbOfBids: number
  maxBid: number
  startDate: Date
  endDate: Date
  sellerId: number
  categoryId: number
}

interface BidRow {
  userId: number
  itemId: number | null
  oldItemId: number | null
  qty: number
  bid: number
  maxBid: number
  date: Date
}

interface CommentRow {
  fromUserId: number
  toUserId: number
  itemId: number
  rating: number
  date: Date
  comment: string
}
