/**
 * TPC-W bookstore data: the scale, the generator that fills a database of prisma/bench/tpcw.prisma
 * with it, and the constants its pages share (subjects, DigSyl, the NURand constants).
 *
 * Cardinalities follow TPC-W: customers = 2,880 per emulated browser (EB), addresses = 2 per
 * customer, orders = 0.9 per customer with 1-5 lines and one credit-card transaction each,
 * authors = items / 4, 92 countries, 24 subjects. Column values follow the specification's
 * distributions where the pages depend on them (subjects, related items, customer user names,
 * stock, quantities, dates) and are random strings of the specified lengths elsewhere.
 *
 * One deliberate difference from the University of Wisconsin populate program: author last
 * names and item titles start with DigSyl(n, 7) of a random n in the ranges the emulated
 * browser draws its search strings from (items / 10 for authors, items / 5 for titles), as the
 * specification intends, so that author and title searches find books. With the Wisconsin
 * program's purely random strings, those searches return nothing at all.
 *
 * Everything is drawn from `Rng.derive(seed, 'tpcw', <table>)`, and dates are relative to
 * `TPCW_EPOCH`, never to the wall clock: the same scale and seed give the same rows.
 */
import type { PrismaClient } from '../../src/generated/tpcw/client.ts'
import { Rng } from './random.ts'
import { insertInBatches, resetSequences, type SeedOptions, type SeedReport } from './seeding.ts'

type TpcwModels =
  | 'country'
  | 'address'
  | 'customer'
  | 'author'
  | 'item'
  | 'order'
  | 'orderLine'
  | 'ccXact'
  | 'shoppingCart'
  | 'shoppingCartLine'

/** A Prisma client of prisma/bench/tpcw.prisma (SQLite or PostgreSQL build, extended or not). */
export type TpcwDb = Pick<PrismaClient, TpcwModels | '$transaction' | '$executeRawUnsafe'>

/** What an interactive transaction's client offers of it. */
export type TpcwTx = Pick<PrismaClient, TpcwModels | '$executeRawUnsafe'>

/** How big the bookstore is. */
export interface TpcwScale {
  /** Items for sale; TPC-W's scales are 1,000, 10,000, 100,000... @default 1000 */
  items: number
  /** Emulated browsers the database is sized for: customers = 2,880 x ebs. @default 1 */
  ebs: number
  /** Overrides the 2,880 x ebs customers (the tests' tiny databases). */
  customers?: number
}

/**
 * `small` (the default: TPC-W's cardinalities for 1,000 items and one EB, about 23,000 rows)
 * seeds a SQLite file in about 6 s on a 2-core machine; `standard` is TPC-W's 10,000-item scale
 * with 10 EBs (28,800 customers, about 228,000 rows, 51 MB), about 65 s. Prisma's createMany
 * costs some 200 us a row there, most of the time.
 */
export const TPCW_SCALES = {
  small: { items: 1000, ebs: 1 },
  standard: { items: 10_000, ebs: 10 },
} as const satisfies Record<string, TpcwScale>

/** Row counts implied by a scale. */
export interface TpcwCounts {
  items: number
  authors: number
  customers: number
  addresses: number
  orders: number
  countries: number
}

export function tpcwCounts(scale: TpcwScale): TpcwCounts {
  if (!(Number.isInteger(scale.items) && scale.items >= 100)) throw new TypeError(`tpcw: items must be an integer >= 100: ${scale.items}`)
  if (!(Number.isInteger(scale.ebs) && scale.ebs >= 1)) throw new TypeError(`tpcw: ebs must be a positive integer: ${scale.ebs}`)
  const customers = scale.customers ?? 2880 * scale.ebs
  if (!(Number.isInteger(customers) && customers >= 10)) throw new TypeError(`tpcw: customers must be an integer >= 10: ${customers}`)
  return {
    items: scale.items,
    authors: Math.floor(scale.items / 4),
    customers,
    addresses: 2 * customers,
    orders: Math.floor(0.9 * customers),
    countries: 92,
  }
}

/** The instant the generated data treats as "now"; pages use it too (see TpcwContext). */
export const TPCW_EPOCH = new Date('2025-01-01T00:00:00Z')

/** The 24 TPC-W subjects (specification clause 4.6.2.11). */
export const TPCW_SUBJECTS = [
  'ARTS',
  'BIOGRAPHIES',
  'BUSINESS',
  'CHILDREN',
  'COMPUTERS',
  'COOKING',
  'HEALTH',
  'HISTORY',
  'HOME',
  'HUMOR',
  'LITERATURE',
  'MYSTERY',
  'NON-FICTION',
  'PARENTING',
  'POLITICS',
  'REFERENCE',
  'RELIGION',
  'ROMANCE',
  'SELF-HELP',
  'SCIENCE-NATURE',
  'SCIENCE-FICTION',
  'SPORTS',
  'YOUTH',
  'TRAVEL',
] as const

export const TPCW_BACKINGS = ['HARDBACK', 'PAPERBACK', 'USED', 'AUDIO', 'LIMITED-EDITION'] as const
export const TPCW_SHIP_TYPES = ['AIR', 'UPS', 'FEDEX', 'SHIP', 'COURIER', 'MAIL'] as const
export const TPCW_CC_TYPES = ['VISA', 'MASTERCARD', 'DISCOVER', 'AMEX', 'DINERS'] as const
const ORDER_STATUSES = ['PROCESSING', 'SHIPPED', 'PENDING', 'DENIED'] as const

const SYLLABLES = ['BA', 'OG', 'AL', 'RI', 'RE', 'SE', 'AT', 'UL', 'IN', 'NG'] as const

/**
 * TPC-W's DigSyl (clause 4.6.2.8): each decimal digit of `n` becomes a syllable. With `width`,
 * `n` is first written with exactly that many digits (leading zeros kept, higher digits dropped).
 */
export function digSyl(n: number, width?: number): string {
  let digits = String(n)
  if (width !== undefined) digits = digits.padStart(width, '0').slice(-width)
  let out = ''
  for (const d of digits) out += SYLLABLES[Number(d)]
  return out
}

/** A customer's user name (TPC-W: DigSyl of the customer id); the password is its lower case. */
export const customerUname = (customerId: number) => digSyl(customerId)

/** NURand's A for customer ids (TPC-W clause 2.3.2, by number of customers). */
export function customerNurandA(customers: number): number {
  const table: [number, number][] = [
    [9_999, 1023],
    [39_999, 4095],
    [159_999, 16_383],
    [639_999, 65_535],
    [2_559_999, 262_143],
  ]
  for (const [max, a] of table) if (customers <= max) return a
  return 1_048_575
}

/** NURand's A for search strings (TPC-W clause 2.10.5.1): 63 for 1,000 items, 511 for 10,000... */
export function itemNurandA(items: number): number {
  if (items <= 1000) return 63
  if (items <= 10_000) return 511
  if (items <= 100_000) return 4095
  return 32_767
}

/** What the pages need to know about the database they run on. */
export interface TpcwContext {
  counts: TpcwCounts
  /** The clock the pages write with (order dates, cart times, logins). @default () => TPCW_EPOCH */
  now: () => Date
}

export function tpcwContext(scale: TpcwScale = TPCW_SCALES.small, now: () => Date = () => TPCW_EPOCH): TpcwContext {
  return { counts: tpcwCounts(scale), now }
}

const DAY = 86_400_000
const addDays = (date: Date, days: number) => new Date(date.getTime() + days * DAY)
const round2 = (x: number) => Math.round(x * 100) / 100

/**
 * Fills an empty database (tables made by pushSchema) with the bookstore at `scale`, in one
 * transaction (a quarter faster on SQLite than committing every batch, and all or nothing).
 */
export async function seedTpcw(db: TpcwDb, options: SeedOptions<TpcwScale> = {}): Promise<SeedReport> {
  const started = performance.now()
  const rows = await db.$transaction((tx) => fill(tx, options), { maxWait: 60_000, timeout: 3_600_000 })
  return { rows, ms: performance.now() - started }
}

async function fill(db: TpcwTx, options: SeedOptions<TpcwScale>): Promise<Record<string, number>> {
  const seed = options.seed ?? 1
  const counts = tpcwCounts(options.scale ?? TPCW_SCALES.small)
  const batchSize = options.batchSize ?? 500
  const rng = (table: string) => Rng.derive(seed, 'tpcw', table)
  const rows: Record<string, number> = {}
  const insert = async <T>(table: string, data: T[], createMany: (batch: T[]) => Promise<unknown>) => {
    rows[table] = await insertInBatches(data, batchSize, createMany)
  }
  const epoch = TPCW_EPOCH

  {
    const r = rng('country')
    const data = COUNTRY_NAMES.map((name, i) => ({
      id: i + 1,
      name,
      exchange: round2(0.1 + r.float() * 100),
      currency: r.pick(CURRENCIES),
    }))
    await insert('country', data, (batch) => db.country.createMany({ data: batch }))
  }
  {
    const r = rng('address')
    const data = Array.from({ length: counts.addresses }, (_, i) => ({
      id: i + 1,
      street1: r.string(15, 40),
      street2: r.string(15, 40),
      city: r.string(4, 30),
      state: r.string(2, 20),
      zip: r.string(5, 10),
      countryId: r.range(1, counts.countries),
    }))
    await insert('address', data, (batch) => db.address.createMany({ data: batch }))
  }
  {
    const r = rng('customer')
    const data = Array.from({ length: counts.customers }, (_, i) => {
      const id = i + 1
      const uname = customerUname(id)
      const since = addDays(epoch, -r.range(1, 730))
      const lastLogin = new Date(Math.min(addDays(since, r.range(0, 60)).getTime(), epoch.getTime()))
      return {
        id,
        uname,
        passwd: uname.toLowerCase(),
        firstName: r.string(8, 15),
        lastName: r.string(8, 15),
        addressId: r.range(1, counts.addresses),
        phone: r.digits(9, 16),
        email: `${uname}@${r.string(2, 9)}.com`,
        since,
        lastLogin,
        login: epoch,
        expiration: new Date(epoch.getTime() + 2 * 3_600_000),
        discount: r.range(0, 50) / 100,
        balance: 0,
        ytdPmt: r.range(0, 99_999) / 100,
        birthdate: new Date(Date.UTC(r.range(1880, 2000), r.range(0, 11), r.range(1, 28))),
        data: r.string(100, 500),
      }
    })
    await insert('customer', data, (batch) => db.customer.createMany({ data: batch }))
  }
  {
    const r = rng('author')
    const lastNameRange = Math.floor(counts.items / 10)
    const data = Array.from({ length: counts.authors }, (_, i) => ({
      id: i + 1,
      firstName: r.string(3, 20),
      lastName: digSyl(r.range(0, lastNameRange), 7),
      middleName: r.string(1, 20),
      dob: new Date(Date.UTC(r.range(1800, 1990), r.range(0, 11), r.range(1, 28))),
      bio: r.string(125, 500),
    }))
    await insert('author', data, (batch) => db.author.createMany({ data: batch }))
  }
  const related: number[][] = []
  {
    const r = rng('item')
    const titleRange = Math.floor(counts.items / 5)
    const data = Array.from({ length: counts.items }, (_, i) => {
      const id = i + 1
      const pubDate = new Date(Date.UTC(r.range(1930, 2000), r.range(0, 11), r.range(1, 28)))
      const srp = r.range(100, 99_999) / 100
      const picks = new Set<number>()
      while (picks.size < 5) picks.add(r.range(1, counts.items))
      related.push([...picks])
      return {
        id,
        title: `${digSyl(r.range(0, titleRange), 7)} ${r.string(8, 50)}`,
        authorId: id <= counts.authors ? id : r.range(1, counts.authors),
        pubDate,
        publisher: r.string(14, 60),
        subject: r.pick(TPCW_SUBJECTS),
        desc: r.string(100, 500),
        thumbnail: `img${id % 100}/thumb_${id}.gif`,
        image: `img${id % 100}/image_${id}.gif`,
        srp,
        cost: round2(srp - (r.range(0, 50) / 100) * srp),
        avail: addDays(pubDate, r.range(1, 30)),
        stock: r.range(10, 30),
        isbn: r.string(13, 13),
        page: r.range(20, 9999),
        backing: r.pick(TPCW_BACKINGS),
        dimensions: `${r.range(1, 9999) / 100}x${r.range(1, 9999) / 100}x${r.range(1, 9999) / 100}`,
      }
    })
    await insert('item', data, (batch) => db.item.createMany({ data: batch }))
    // Second pass: related items point anywhere, also at rows inserted after their own.
    for (const [i, [r1, r2, r3, r4, r5]] of related.entries()) {
      await db.item.update({
        where: { id: i + 1 },
        data: { related1Id: r1, related2Id: r2, related3Id: r3, related4Id: r4, related5Id: r5 },
        select: { id: true },
      })
    }
  }
  {
    const r = rng('orders')
    const orders = []
    const lines = []
    const ccXacts = []
    for (let id = 1; id <= counts.orders; id++) {
      const nLines = r.range(1, 5)
      const date = addDays(epoch, -r.range(1, 60))
      const subTotal = r.range(1000, 999_999) / 100
      const tax = round2(subTotal * 0.0825)
      const total = round2(subTotal + tax + 3 + nLines)
      const shipDate = addDays(date, r.range(0, 7))
      orders.push({
        id,
        customerId: r.range(1, counts.customers),
        date,
        subTotal,
        tax,
        total,
        shipType: r.pick(TPCW_SHIP_TYPES),
        shipDate,
        billAddressId: r.range(1, counts.addresses),
        shipAddressId: r.range(1, counts.addresses),
        status: r.pick(ORDER_STATUSES),
      })
      for (let l = 0; l < nLines; l++) {
        lines.push({
          orderId: id,
          itemId: r.range(1, counts.items),
          qty: r.range(1, 300),
          discount: r.range(0, 30) / 100,
          comments: r.string(20, 100),
        })
      }
      ccXacts.push({
        orderId: id,
        type: r.pick(TPCW_CC_TYPES),
        num: r.digits(16, 16),
        name: r.string(14, 30),
        expire: addDays(epoch, r.range(10, 730)),
        authId: r.string(15, 15),
        amount: total,
        date: shipDate,
        countryId: r.range(1, counts.countries),
      })
    }
    await insert('orders', orders, (batch) => db.order.createMany({ data: batch }))
    await insert(
      'order_line',
      lines.map((line, i) => ({ id: i + 1, ...line })),
      (batch) => db.orderLine.createMany({ data: batch }),
    )
    await insert('cc_xacts', ccXacts, (batch) => db.ccXact.createMany({ data: batch }))
  }
  rows.shopping_cart = 0
  rows.shopping_cart_line = 0

  if (options.provider === 'postgresql') {
    await resetSequences(db, ['country', 'address', 'customer', 'author', 'item', 'orders', 'order_line', 'shopping_cart'])
  }
  return rows
}

const CURRENCIES = ['Dollars', 'Euros', 'Pounds', 'Yen', 'Francs', 'Pesos', 'Rupees', 'Krona', 'Dinars', 'Rand']

// 92 countries, as TPC-W has; the names are only labels to look up by (BUYR/BUYC addresses).
const COUNTRY_NAMES = [
  'United States', 'United Kingdom', 'Canada', 'Germany', 'France', 'Japan', 'Netherlands', 'Italy',
  'Switzerland', 'Australia', 'Algeria', 'Argentina', 'Armenia', 'Austria', 'Azerbaijan', 'Bahamas',
  'Bahrain', 'Bangladesh', 'Barbados', 'Belarus', 'Belgium', 'Bermuda', 'Bolivia', 'Botswana',
  'Brazil', 'Bulgaria', 'Cayman Islands', 'Chad', 'Chile', 'China', 'Christmas Island', 'Colombia',
  'Croatia', 'Cuba', 'Cyprus', 'Czech Republic', 'Denmark', 'Dominican Republic', 'Ecuador', 'Egypt',
  'El Salvador', 'Estonia', 'Ethiopia', 'Falkland Islands', 'Faroe Islands', 'Fiji', 'Finland', 'Gabon',
  'Gibraltar', 'Greece', 'Guam', 'Hong Kong', 'Hungary', 'Iceland', 'India', 'Indonesia',
  'Iran', 'Iraq', 'Ireland', 'Israel', 'Jamaica', 'Jordan', 'Kazakhstan', 'Kuwait',
  'Lebanon', 'Luxembourg', 'Malaysia', 'Mexico', 'Mauritius', 'New Zealand', 'Norway', 'Pakistan',
  'Philippines', 'Poland', 'Portugal', 'Romania', 'Russia', 'Saudi Arabia', 'Singapore', 'Slovakia',
  'South Africa', 'South Korea', 'Spain', 'Sudan', 'Sweden', 'Taiwan', 'Thailand', 'Trinidad',
  'Turkey', 'Venezuela', 'Zambia', 'Kenya',
]
if (COUNTRY_NAMES.length !== 92 || new Set(COUNTRY_NAMES).size !== 92) throw new Error('tpcw: expected 92 distinct countries')

/** The country names, in id order (ids start at 1). */
export const TPCW_COUNTRIES: readonly string[] = COUNTRY_NAMES
