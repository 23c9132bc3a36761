import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TPCW_PAGES, type TpcwPage } from '../../bench/workloads/data.ts'
import { createTpcwSession, tpcwPages, type TpcwSession } from '../../bench/workloads/pages.ts'
import { Rng } from '../../bench/workloads/random.ts'
import { paramRng, planSession } from '../../bench/workloads/sessions.ts'
import { customerUname, seedTpcw, TPCW_EPOCH, tpcwContext, tpcwCounts, type TpcwDb, type TpcwScale } from '../../bench/workloads/tpcw.ts'
import { createBenchDatabase, type LoggedQuery, type TpcwBenchDatabase } from './bench-db.ts'

// A tiny bookstore: the tests check behaviour, not scale.
const scale: TpcwScale = { items: 200, ebs: 1, customers: 100 }
const ctx = tpcwContext(scale)

let a: TpcwBenchDatabase
let b: TpcwBenchDatabase

beforeAll(async () => {
  ;[a, b] = await Promise.all([createBenchDatabase('tpcw'), createBenchDatabase('tpcw')])
  await seedTpcw(a.client, { scale, seed: 3 })
  await seedTpcw(b.client, { scale, seed: 3 })
})
afterAll(async () => {
  await a?.drop()
  await b?.drop()
})

/** Every row of every table, in id order. */
async function dump(db: TpcwDb) {
  return {
    country: await db.country.findMany({ orderBy: { id: 'asc' } }),
    address: await db.address.findMany({ orderBy: { id: 'asc' } }),
    customer: await db.customer.findMany({ orderBy: { id: 'asc' } }),
    author: await db.author.findMany({ orderBy: { id: 'asc' } }),
    item: await db.item.findMany({ orderBy: { id: 'asc' } }),
    order: await db.order.findMany({ orderBy: { id: 'asc' } }),
    orderLine: await db.orderLine.findMany({ orderBy: { id: 'asc' } }),
    ccXact: await db.ccXact.findMany({ orderBy: { orderId: 'asc' } }),
  }
}

describe('TPC-W data', () => {
  it('has the TPC-W cardinalities and shapes', async () => {
    const counts = tpcwCounts(scale)
    const rows = await dump(a.client)
    expect(rows.country).toHaveLength(92)
    expect(rows.item).toHaveLength(counts.items)
    expect(rows.author).toHaveLength(counts.items / 4)
    expect(rows.customer).toHaveLength(counts.customers)
    expect(rows.address).toHaveLength(2 * counts.customers)
    expect(rows.order).toHaveLength(Math.floor(0.9 * counts.customers))
    expect(rows.ccXact).toHaveLength(rows.order.length)
    expect(rows.orderLine.length).toBeGreaterThanOrEqual(rows.order.length)
    expect(rows.orderLine.length).toBeLessThanOrEqual(5 * rows.order.length)
    for (const item of rows.item) {
      const related = [item.related1Id, item.related2Id, item.related3Id, item.related4Id, item.related5Id]
      expect(new Set(related).size).toBe(5)
      for (const id of related) expect(id).toBeGreaterThanOrEqual(1), expect(id).toBeLessThanOrEqual(counts.items)
    }
    for (const customer of rows.customer) {
      expect(customer.uname).toBe(customerUname(customer.id))
      expect(customer.passwd).toBe(customer.uname.toLowerCase())
    }
    expect(new Set(rows.item.map((item) => item.subject)).size).toBe(24)
    expect(Math.max(...rows.order.map((order) => order.date.getTime()))).toBeLessThan(TPCW_EPOCH.getTime())
  })

  it('seeds the same rows for the same seed, and other rows for another seed', async () => {
    const first = await dump(a.client)
    expect(await dump(b.client)).toEqual(first)
    const c = await createBenchDatabase('tpcw')
    try {
      await seedTpcw(c.client, { scale, seed: 4 })
      const other = await dump(c.client)
      expect(other.item).toHaveLength(first.item.length)
      expect(other.item.map((item) => item.title)).not.toEqual(first.item.map((item) => item.title))
      expect(other.order.map((order) => order.customerId)).not.toEqual(first.order.map((order) => order.customerId))
    } finally {
      await c.drop()
    }
  })
})

/** Runs one session plan's pages against `db`. */
async function play(db: TpcwDb, workload: 'tpcw-browsing' | 'tpcw-shopping', index: number): Promise<number> {
  const plan = planSession(workload, index, { seed: 11 })
  const rng = paramRng(plan)
  const session = createTpcwSession(ctx, rng)
  for (const page of plan.pages) await tpcwPages[page](db, session, rng)
  return plan.pages.length
}

describe('TPC-W sessions', () => {
  it('run end to end, and replay the same queries with the same parameters on the same data', async () => {
    let pages = 0
    for (const db of [a, b]) {
      db.log.length = 0
      pages = 0
      for (let index = 0; index < 6; index++) {
        pages += await play(db.client, 'tpcw-browsing', index)
        pages += await play(db.client, 'tpcw-shopping', index)
      }
    }
    expect(pages).toBeGreaterThan(100)
    expect(a.log.length).toBeGreaterThan(2 * pages)
    expect(a.log).toEqual(b.log)
  })
})

/** Whether a logged statement reads or writes `table` (Prisma's SQLite SQL quotes with backticks). */
const touches = ({ query }: LoggedQuery, table: string) => query.includes(`\`main\`.\`${table}\``)
const hasParam = ({ params }: LoggedQuery, value: unknown) => (JSON.parse(params) as unknown[]).includes(value)

describe('TPC-W pages', () => {
  /** Runs `page` and returns the statements it sent. */
  async function visit(page: TpcwPage, session: TpcwSession, rng: Rng) {
    const before = a.log.length
    await tpcwPages[page](a.client, session, rng)
    expect(session.page).toBe(page)
    return a.log.slice(before)
  }
  const db = () => a.client

  it('has a function for every interaction', () => {
    expect(Object.keys(tpcwPages).sort()).toEqual([...TPCW_PAGES].sort())
  })

  it('take ids from page to page and write what the interactions write (anonymous buyer)', async () => {
    const rng = new Rng(21)
    const s = createTpcwSession(ctx, rng)
    s.customerId = null

    await visit('HOME', s, rng)
    const promoted = s.itemLinks
    expect(promoted.length).toBeGreaterThan(0)

    await visit('NEWP', s, rng)
    expect(s.itemLinks.length).toBeGreaterThan(promoted.length)
    const listing = s.itemLinks

    await visit('PROD', s, rng)
    expect(listing).toContain(s.itemLinks[0])
    await visit('PROD', s, rng) // PROD -> PROD picks again in the same listing
    expect(listing).toContain(s.itemLinks[0])
    const product = s.itemLinks[0]

    const shop = await visit('SHOP', s, rng) // first visit: the cart is created, the product added
    expect(s.cartId).not.toBeNull()
    expect(shop.some((q) => q.query.startsWith('INSERT INTO') && touches(q, 'shopping_cart'))).toBe(true)
    expect(s.cartLines).toContainEqual({ itemId: product, qty: 1 })
    const cartId = s.cartId!

    await visit('SHOP', s, rng) // SHOP -> SHOP refreshes quantities, never leaves the cart empty
    expect(s.cartId).toBe(cartId)
    expect(await db().shoppingCartLine.count({ where: { cartId } })).toBeGreaterThan(0)
    const lines = await db().shoppingCartLine.findMany({ where: { cartId } })

    await visit('CREG', s, rng)
    const customers = await db().customer.count()
    await visit('BUYR', s, rng) // anonymous: registers a new customer
    expect(await db().customer.count()).toBe(customers + 1)
    const customer = await db().customer.findUniqueOrThrow({ where: { id: s.customerId! } })
    expect(customer.uname).toBe(customerUname(customer.id))

    const orders = await db().order.count()
    await visit('BUYC', s, rng)
    expect(await db().order.count()).toBe(orders + 1)
    const order = await db().order.findFirstOrThrow({ where: { customerId: customer.id }, include: { lines: true, ccXact: true } })
    expect(order.lines.map(({ itemId, qty }) => ({ itemId, qty })).sort((x, y) => x.itemId - y.itemId)).toEqual(
      lines.map(({ itemId, qty }) => ({ itemId, qty })).sort((x, y) => x.itemId - y.itemId),
    )
    expect(order.ccXact?.amount).toBe(order.total)
    expect(await db().shoppingCartLine.count({ where: { cartId } })).toBe(0)

    await visit('SREQ', s, rng)
    await visit('SRES', s, rng)
    expect(s.itemLinks.length).toBeGreaterThan(0)
    const results = s.itemLinks
    await visit('PROD', s, rng)
    expect(results).toContain(s.itemLinks[0])
    const admin = s.itemLinks[0]

    await visit('ADMR', s, rng)
    expect(s.itemLinks).toEqual([admin])
    const before = await db().item.findUniqueOrThrow({ where: { id: admin } })
    await visit('ADMC', s, rng)
    const after = await db().item.findUniqueOrThrow({ where: { id: admin } })
    expect(after.pubDate).toEqual(TPCW_EPOCH)
    expect([after.cost, after.image, after.thumbnail]).not.toEqual([before.cost, before.image, before.thumbnail])
    for (const id of [after.related1Id, after.related2Id, after.related3Id, after.related4Id, after.related5Id]) {
      expect(id).toBeGreaterThanOrEqual(1)
      expect(id).toBeLessThanOrEqual(scale.items)
    }

    await visit('HOME', s, rng)
    await visit('BESS', s, rng)
    expect(s.itemLinks.length).toBeGreaterThan(0)
    await visit('SHOP', s, rng) // after BUYC the cart is empty: a random item goes in
    expect(s.cartLines.length).toBeGreaterThan(0)
    await visit('ORDI', s, rng)
    const display = await visit('ORDD', s, rng) // the new customer's order
    expect(display.some((q) => touches(q, 'order_line') && hasParam(q, order.id))).toBe(true)
  })

  it('greet a returning customer once and log them in at BUYR', async () => {
    const rng = new Rng(22)
    const s = createTpcwSession(ctx, rng)
    s.customerId = 7
    const home = await visit('HOME', s, rng)
    expect(home.some((q) => touches(q, 'customer') && hasParam(q, 7))).toBe(true)
    const again = await visit('HOME', s, rng)
    expect(again.some((q) => touches(q, 'customer'))).toBe(false)
    expect(again.some((q) => touches(q, 'item'))).toBe(true)
    await visit('SHOP', s, rng)
    await visit('CREG', s, rng)
    const customers = await db().customer.count()
    await visit('BUYR', s, rng)
    expect(await db().customer.count()).toBe(customers)
    expect(s.customerId).toBe(7)
    expect((await db().customer.findUniqueOrThrow({ where: { id: 7 } })).login).toEqual(TPCW_EPOCH)
    await visit('BUYC', s, rng)
    expect(await db().order.count({ where: { customerId: 7 } })).toBeGreaterThan(0)
  })

  it('pick an ORDD customer with NURand when the session has none', async () => {
    const rng = new Rng(23)
    const s = createTpcwSession(ctx, rng)
    s.customerId = null
    await visit('ORDD', s, rng)
    expect(s.customerId).toBeGreaterThanOrEqual(1)
    expect(s.customerId).toBeLessThanOrEqual(scale.customers!)
  })
})
