/**
 * The TPC-W web interactions as Prisma queries, following the reference servlets (University of
 * Wisconsin Java TPC-W) and choosing every parameter as its emulated browser (EB) does:
 *
 * - The session's customer: at the start, 80% of sessions are a returning customer picked with
 *   NURand(A, 1, customers), the others are anonymous until BUYR registers them (ORDD picks one
 *   with NURand if still anonymous). The cart is created on the first SHOP visit and kept.
 * - PROD takes an item uniformly among all the item links of the previous page (promotions and
 *   listing alike, as the EB picks among every "I_ID=" in the HTML); PROD -> PROD picks again in
 *   the same listing; PROD -> SHOP adds the product shown; ADMR and ADMC act on it too.
 * - Subjects are uniform over the 24; search type uniform over author / title / subject, with
 *   author and title strings DigSyl(NURand(A, 0, items / 10 or items / 5), 7) as the EB draws.
 * - The promotional items of HOME, NEWP, BESS, SREQ, SRES and SHOP are the related items of an
 *   item drawn uniformly at every page view (the servlets' getRandomI_ID), so they cannot be
 *   guessed before the page asks.
 *
 * Where the reference does something the specification does not mean, these pages follow the
 * specification (each is marked below): the most recent order is the latest (the servlet sorts
 * dates ascending), a cart refresh changes the quantities the EB chose (the servlet ignores the
 * EB's parameters), and ADMC's filler related ids stay within the items.
 *
 * Writes are real, and grouped in transactions where the servlets commit them together (BUYR
 * registration, BUYC); reads stay outside transactions, as an application's would.
 */
import type { TpcwPage } from './data.ts'
import type { PageFn } from './pages.ts'
import type { Rng } from './random.ts'
import {
  customerNurandA,
  customerUname,
  digSyl,
  itemNurandA,
  TPCW_CC_TYPES,
  TPCW_COUNTRIES,
  TPCW_SHIP_TYPES,
  TPCW_SUBJECTS,
  type TpcwContext,
  type TpcwDb,
  type TpcwTx,
} from './tpcw.ts'

/** What the emulated browser and the server session know about one user. */
export interface TpcwSession {
  readonly ctx: TpcwContext
  /** The page the user is on (the last one run); null before the first. */
  page: TpcwPage | null
  /** C_ID, once known. */
  customerId: number | null
  /** SHOPPING_ID, once the first SHOP visit has created the cart. */
  cartId: number | null
  /** True until the first page: the server's HTTP session is new (HOME then greets by name). */
  newHttpSession: boolean
  /** The item ids linked from the current page, in page order (the "I_ID=" links). */
  itemLinks: number[]
  /** The listing the current product page was picked from (PROD -> PROD picks in it again). */
  productListing: number[]
  /** The cart lines the current SHOP page shows (SHOP -> SHOP refreshes their quantities). */
  cartLines: { itemId: number; qty: number }[]
  /** The buyer's name on the BUYR page (BUYC puts it on the card). */
  buyerName: string | null
}

/** A new user, as the EB starts one: a returning customer 80% of the time. */
export function createTpcwSession(ctx: TpcwContext, rng: Rng): TpcwSession {
  const { customers } = ctx.counts
  return {
    ctx,
    page: null,
    customerId: rng.int(10) < 8 ? rng.nurand(customerNurandA(customers), 1, customers) : null,
    cartId: null,
    newHttpSession: true,
    itemLinks: [],
    productListing: [],
    cartLines: [],
    buyerName: null,
  }
}

type Page = PageFn<TpcwDb, TpcwSession>

/** Wraps a page body: afterwards the user is on `name` and the HTTP session exists. */
const page =
  (name: TpcwPage, body: Page): Page =>
  async (db, session, rng) => {
    await body(db, session, rng)
    session.page = name
    session.newHttpSession = false
  }

const HOUR = 3_600_000
const DAY = 24 * HOUR
const round2 = (x: number) => Math.round(x * 100) / 100
const notNull = <T>(x: T | null): x is T => x !== null

/** The promotional block: the related items of an item drawn at random; returns their ids. */
async function promotions(db: TpcwDb, s: TpcwSession, rng: Rng): Promise<number[]> {
  const item = await db.item.findUnique({
    where: { id: rng.range(1, s.ctx.counts.items) },
    select: { related1Id: true, related2Id: true, related3Id: true, related4Id: true, related5Id: true },
  })
  if (!item) return []
  const ids = [item.related1Id, item.related2Id, item.related3Id, item.related4Id, item.related5Id].filter(notNull)
  const related = await db.item.findMany({ where: { id: { in: ids } }, select: { id: true, thumbnail: true } })
  const found = new Set(related.map((r) => r.id))
  return ids.filter((id) => found.has(id))
}

/** Title, author: what the NEWP and BESS listings show of an item. */
const shortBook = { id: true, title: true, author: { select: { firstName: true, lastName: true } } } as const

/** TPC-W's enterAddress: the id of a matching address, inserted if there is none. */
async function enterAddress(tx: TpcwTx, address: NewAddress): Promise<number> {
  const country = await tx.country.findUnique({ where: { name: address.country }, select: { id: true } })
  const { country: _, ...fields } = address
  const data = { ...fields, countryId: country?.id ?? 1 }
  const existing = await tx.address.findFirst({ where: data, select: { id: true } })
  if (existing) return existing.id
  return (await tx.address.create({ data, select: { id: true } })).id
}

interface NewAddress {
  street1: string
  street2: string
  city: string
  state: string
  zip: string
  country: string
}

/** An address as the EB types one (BUYR registration, BUYC's 5% new shipping addresses). */
function randomAddress(rng: Rng, cityMin: number): NewAddress {
  return {
    street1: rng.string(15, 40),
    street2: rng.string(15, 40),
    city: rng.string(cityMin, 30),
    state: rng.string(2, 20),
    zip: rng.string(5, 10),
    country: rng.pick(TPCW_COUNTRIES),
  }
}

/**
 * The quantities of a cart refresh (TPC-W clause 2.4.5.1, as the EB draws them): with one line,
 * a new quantity 1-10; with several, a random number of randomly chosen lines get a new quantity
 * 0-9 different from the old one (0 removes the line). Lines not chosen keep their quantity (the
 * EB sends 0 for them, which the specification does not mean and the servlet never reads).
 */
function refreshQuantities(lines: readonly { itemId: number; qty: number }[], rng: Rng): { itemId: number; qty: number }[] {
  if (lines.length === 1) return [{ itemId: lines[0].itemId, qty: rng.range(1, 10) }]
  const order = lines.map((_, i) => i)
  for (let i = 0; i < order.length - 1; i++) {
    const j = rng.range(i, order.length - 1)
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  return order.slice(0, rng.range(1, lines.length)).map((i) => {
    let qty = rng.int(9)
    if (qty >= lines[i].qty) qty++
    return { itemId: lines[i].itemId, qty }
  })
}

/** The cart with its items (getCart), ordered as the page lists it. */
const cartLines = (db: Pick<TpcwDb, 'shoppingCartLine'>, cartId: number) =>
  db.shoppingCartLine.findMany({ where: { cartId }, include: { item: true }, orderBy: { itemId: 'asc' } })

/** The product shown on the current page, or a random one if the EB found none. */
const currentItem = (s: TpcwSession, rng: Rng) => s.itemLinks[0] ?? rng.range(1, s.ctx.counts.items)

export const tpcwPages: Record<TpcwPage, Page> = {
  /** Home: greet a returning customer on the session's first page; promotions. */
  HOME: page('HOME', async (db, s, rng) => {
    if (s.newHttpSession && s.customerId !== null) {
      await db.customer.findUnique({ where: { id: s.customerId }, select: { firstName: true, lastName: true } })
    }
    s.itemLinks = await promotions(db, s, rng)
  }),

  /** New products: promotions; the 50 newest items of a random subject, with their authors. */
  NEWP: page('NEWP', async (db, s, rng) => {
    const subject = rng.pick(TPCW_SUBJECTS)
    const promoted = await promotions(db, s, rng)
    const items = await db.item.findMany({
      where: { subject },
      orderBy: [{ pubDate: 'desc' }, { title: 'asc' }],
      take: 50,
      select: shortBook,
    })
    s.itemLinks = [...promoted, ...items.map((item) => item.id)]
  }),

  /** Best sellers: promotions; the 50 items of a random subject most sold in the last 3,333 orders. */
  BESS: page('BESS', async (db, s, rng) => {
    const subject = rng.pick(TPCW_SUBJECTS)
    const promoted = await promotions(db, s, rng)
    const latest = await db.order.aggregate({ _max: { id: true } })
    const ranked = await db.orderLine.groupBy({
      by: ['itemId'],
      where: { orderId: { gt: (latest._max.id ?? 0) - 3333 }, item: { subject } },
      _sum: { qty: true },
      orderBy: { _sum: { qty: 'desc' } },
      take: 50,
    })
    const ids = ranked.map((row) => row.itemId)
    const items = await db.item.findMany({ where: { id: { in: ids } }, select: shortBook })
    const rank = new Map(ids.map((id, i) => [id, i]))
    items.sort((a, b) => rank.get(a.id)! - rank.get(b.id)!)
    s.itemLinks = [...promoted, ...items.map((item) => item.id)]
  }),

  /** Product detail: one item with its author, picked among the previous page's links. */
  PROD: page('PROD', async (db, s, rng) => {
    const listing = s.page === 'PROD' ? s.productListing : s.itemLinks
    s.productListing = listing
    const id = listing.length > 0 ? rng.pick(listing) : rng.range(1, s.ctx.counts.items)
    await db.item.findUnique({ where: { id }, include: { author: true } })
    s.itemLinks = [id]
  }),

  /** Search request: the form, and promotions. */
  SREQ: page('SREQ', async (db, s, rng) => {
    s.itemLinks = await promotions(db, s, rng)
  }),

  /** Search results: promotions; 50 items by author, title or subject, with their authors. */
  SRES: page('SRES', async (db, s, rng) => {
    const { items } = s.ctx.counts
    const a = itemNurandA(items)
    const type = rng.int(3)
    const where =
      type === 0
        ? { author: { lastName: { startsWith: digSyl(rng.nurand(a, 0, Math.floor(items / 10)), 7) } } }
        : type === 1
          ? { title: { startsWith: digSyl(rng.nurand(a, 0, Math.floor(items / 5)), 7) } }
          : { subject: rng.pick(TPCW_SUBJECTS) }
    const promoted = await promotions(db, s, rng)
    const found = await db.item.findMany({ where, orderBy: { title: 'asc' }, take: 50, include: { author: true } })
    s.itemLinks = [...promoted, ...found.map((item) => item.id)]
  }),

  /**
   * Shopping cart: create the cart on the first visit; from PROD add the product, from SHOP
   * change quantities; put a random item in an empty cart; touch the cart's time; show the
   * lines with their items, and promotions.
   */
  SHOP: page('SHOP', async (db, s, rng) => {
    const now = s.ctx.now()
    if (s.cartId === null) s.cartId = (await db.shoppingCart.create({ data: { time: now }, select: { id: true } })).id
    const cartId = s.cartId
    const addItem = (itemId: number) =>
      db.shoppingCartLine.upsert({
        where: { cartId_itemId: { cartId, itemId } },
        create: { cartId, itemId, qty: 1 },
        update: { qty: { increment: 1 } },
        select: { qty: true },
      })
    if (s.page === 'PROD') await addItem(currentItem(s, rng))
    else if (s.page === 'SHOP' && s.cartLines.length > 0) {
      for (const { itemId, qty } of refreshQuantities(s.cartLines, rng)) {
        const where = { cartId_itemId: { cartId, itemId } }
        if (qty === 0) await db.shoppingCartLine.delete({ where, select: { qty: true } })
        else await db.shoppingCartLine.update({ where, data: { qty }, select: { qty: true } })
      }
    }
    if ((await db.shoppingCartLine.count({ where: { cartId } })) === 0) {
      const random = await db.item.findUnique({ where: { id: rng.range(1, s.ctx.counts.items) }, select: { related1Id: true } })
      if (random?.related1Id) await addItem(random.related1Id)
    }
    await db.shoppingCart.update({ where: { id: cartId }, data: { time: now }, select: { id: true } })
    const lines = await cartLines(db, cartId)
    s.cartLines = lines.map(({ itemId, qty }) => ({ itemId, qty }))
    s.itemLinks = await promotions(db, s, rng)
  }),

  /** Customer registration: the form, with a returning customer's user name filled in. */
  CREG: page('CREG', async (db, s) => {
    if (s.customerId !== null) await db.customer.findUnique({ where: { id: s.customerId }, select: { uname: true } })
    s.itemLinks = []
  }),

  /**
   * Buy request: a returning customer logs in (customer by user name with address and country;
   * session refresh); an anonymous one registers with the EB's random details. Then the cart.
   */
  BUYR: page('BUYR', async (db, s, rng) => {
    const now = s.ctx.now()
    let customer: { id: number; firstName: string; lastName: string }
    if (s.customerId !== null) {
      const uname = customerUname(s.customerId)
      const found = await db.customer.findUnique({ where: { uname }, include: { address: { include: { country: true } } } })
      if (!found) throw new Error(`tpcw BUYR: no customer ${uname}`)
      await db.customer.update({
        where: { id: found.id },
        data: { login: now, expiration: new Date(now.getTime() + 2 * HOUR) },
        select: { id: true },
      })
      customer = found
    } else {
      const firstName = rng.string(8, 15)
      const lastName = rng.string(8, 15)
      const address = randomAddress(rng, 10)
      const details = {
        firstName,
        lastName,
        phone: rng.digits(9, 16),
        email: `${rng.string(8, 15)}@${rng.string(2, 9)}.com`,
        birthdate: new Date(Date.UTC(rng.range(1880, 2004), rng.range(0, 11), rng.range(1, 28))),
        data: rng.string(100, 500),
        discount: rng.range(0, 50) / 100,
        placeholder: `new:${rng.string(24, 24)}`,
      }
      // The user name is DigSyl of the new id (TPC-W), known only once the row exists.
      customer = await db.$transaction(async (tx) => {
        const addressId = await enterAddress(tx, address)
        const { placeholder, ...fields } = details
        const created = await tx.customer.create({
          data: {
            ...fields,
            uname: placeholder,
            passwd: placeholder,
            addressId,
            since: now,
            lastLogin: now,
            login: now,
            expiration: new Date(now.getTime() + 2 * HOUR),
            balance: 0,
            ytdPmt: 0,
          },
          select: { id: true },
        })
        const uname = customerUname(created.id)
        return tx.customer.update({
          where: { id: created.id },
          data: { uname, passwd: uname.toLowerCase() },
          include: { address: { include: { country: true } } },
        })
      })
      s.customerId = customer.id
    }
    s.buyerName = `${customer.firstName} ${customer.lastName}`
    if (s.cartId !== null) await cartLines(db, s.cartId)
    s.itemLinks = []
  }),

  /**
   * Buy confirm, in one transaction: the customer's discount and address, the cart, maybe a new
   * shipping address (5%), the order with its lines and credit-card transaction, each item's
   * stock, and the emptied cart.
   */
  BUYC: page('BUYC', async (db, s, rng) => {
    const now = s.ctx.now()
    const customerId = s.customerId
    const cartId = s.cartId
    if (customerId === null || cartId === null) throw new Error('tpcw BUYC: no customer or cart (BUYC follows BUYR)')
    const card = {
      type: rng.pick(TPCW_CC_TYPES),
      num: rng.digits(16, 16),
      name: s.buyerName ?? rng.string(14, 30),
      expire: new Date(now.getTime() + rng.range(1, 730) * DAY),
      authId: rng.string(15, 15),
    }
    const newShipAddress = rng.int(100) < 5 ? randomAddress(rng, 4) : null
    const shipType = rng.pick(TPCW_SHIP_TYPES)
    const shipDate = new Date(now.getTime() + rng.range(1, 7) * DAY)
    await db.$transaction(async (tx) => {
      const customer = await tx.customer.findUnique({ where: { id: customerId }, select: { discount: true, addressId: true } })
      if (!customer) throw new Error(`tpcw BUYC: no customer ${customerId}`)
      const lines = await cartLines(tx, cartId)
      const shipAddressId = newShipAddress ? await enterAddress(tx, newShipAddress) : customer.addressId
      const shipAddress = await tx.address.findUnique({ where: { id: shipAddressId }, select: { countryId: true } })
      const quantity = lines.reduce((sum, line) => sum + line.qty, 0)
      const subTotal = round2(lines.reduce((sum, line) => sum + line.item.cost * line.qty, 0) * (1 - customer.discount))
      const tax = round2(subTotal * 0.0825)
      const total = round2(subTotal + tax + 3 + quantity)
      await tx.order.create({
        data: {
          customerId,
          date: now,
          subTotal,
          tax,
          total,
          shipType,
          shipDate,
          billAddressId: customer.addressId,
          shipAddressId,
          status: 'PENDING',
          lines: {
            create: lines.map((line) => ({
              itemId: line.itemId,
              qty: line.qty,
              discount: customer.discount,
              comments: rng.string(20, 100),
            })),
          },
          ccXact: { create: { ...card, amount: total, date: now, countryId: shipAddress?.countryId ?? 1 } },
        },
        select: { id: true },
      })
      for (const line of lines) {
        const item = await tx.item.findUnique({ where: { id: line.itemId }, select: { stock: true } })
        const left = (item?.stock ?? 0) - line.qty
        await tx.item.update({ where: { id: line.itemId }, data: { stock: left < 10 ? left + 21 : left }, select: { id: true } })
      }
      await tx.shoppingCartLine.deleteMany({ where: { cartId } })
    })
    s.cartLines = []
    s.itemLinks = []
  }),

  /** Order inquiry: a form, no database access. */
  ORDI: page('ORDI', async (_db, s) => {
    s.itemLinks = []
  }),

  /**
   * Order display: the customer's password by user name, then the latest order with its
   * customer, addresses and countries, card transaction and lines with their items. (The servlet
   * sorts by date ascending; TPC-W asks for the most recent order, which this is.)
   */
  ORDD: page('ORDD', async (db, s, rng) => {
    const { customers } = s.ctx.counts
    if (s.customerId === null) s.customerId = rng.nurand(customerNurandA(customers), 1, customers)
    const uname = customerUname(s.customerId)
    const customer = await db.customer.findUnique({ where: { uname }, select: { passwd: true } })
    if (customer?.passwd === uname.toLowerCase()) {
      await db.order.findFirst({
        where: { customer: { uname } },
        orderBy: [{ date: 'desc' }, { id: 'desc' }],
        include: {
          customer: true,
          billAddress: { include: { country: true } },
          shipAddress: { include: { country: true } },
          ccXact: true,
          lines: { include: { item: true } },
        },
      })
    }
    s.itemLinks = []
  }),

  /** Admin request: the product shown on the previous page, with its author. */
  ADMR: page('ADMR', async (db, s, rng) => {
    const id = currentItem(s, rng)
    await db.item.findUnique({ where: { id }, include: { author: true } })
    s.itemLinks = [id]
  }),

  /**
   * Admin confirm: the item; new price, image and thumbnail; its related items recomputed as the
   * five items most bought (by quantity) by the customers who bought it in the last 10,000 orders.
   */
  ADMC: page('ADMC', async (db, s, rng) => {
    const { items } = s.ctx.counts
    const id = currentItem(s, rng)
    const image = rng.range(1, items)
    const thumbnail = rng.range(1, items)
    const cost = rng.range(1, 9999) + rng.int(100) / 100
    await db.item.findUnique({ where: { id }, include: { author: true } })
    await db.item.update({
      where: { id },
      data: {
        cost,
        image: `img${image % 100}/image_${image}.gif`,
        thumbnail: `img${thumbnail % 100}/thumb_${thumbnail}.gif`,
        pubDate: s.ctx.now(),
      },
      select: { id: true },
    })
    const latest = await db.order.aggregate({ _max: { id: true } })
    const top = await db.orderLine.groupBy({
      by: ['itemId'],
      where: {
        itemId: { not: id },
        order: { customer: { orders: { some: { id: { gt: (latest._max.id ?? 0) - 10_000 }, lines: { some: { itemId: id } } } } } },
      },
      _sum: { qty: true },
      orderBy: { _sum: { qty: 'desc' } },
      take: 5,
    })
    const related = top.map((row) => row.itemId)
    // Fewer than five: the servlet counts on from the last one; wrap within the items.
    let last = related.at(-1) ?? id
    while (related.length < 5) related.push((last = (last % items) + 1))
    const [related1Id, related2Id, related3Id, related4Id, related5Id] = related
    await db.item.update({ where: { id }, data: { related1Id, related2Id, related3Id, related4Id, related5Id }, select: { id: true } })
    s.itemLinks = []
  }),
}
