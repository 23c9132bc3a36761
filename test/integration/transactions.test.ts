import Keyv from 'keyv'
import { describe, expect, it } from 'vitest'
import { transactionOf } from '../../src/middleware/transaction.ts'
import { reached, setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

const env = await setup()
const { prisma, bare, spy } = env
const rows = await seed(bare)
const tagsRead = (c: any) => c.tag.findMany({ orderBy: { id: 'asc' } })

describe('interactive transactions', () => {
  it('serve nothing from the cache and store nothing into it', async () => {
    await tagsRead(prisma) // cached outside
    const before = spy.calls.length
    await prisma.$transaction(async (tx: any) => {
      await tagsRead(tx)
      await tagsRead(tx)
    })
    expect(reached(spy.calls, before)).toBe(2)
    // ...and what ran inside did not replace the entry outside
    const after = spy.calls.length
    await tagsRead(prisma)
    expect(reached(spy.calls, after)).toBe(0)
  })

  it('make committed writes visible afterwards', async () => {
    const cached = await tagsRead(prisma)
    await prisma.$transaction(async (tx: any) => {
      await tx.tag.create({ data: { name: 'in-tx' } })
      // a read outside the transaction while it is open must not pin the old value
      await tagsRead(prisma)
    })
    const fresh = await tagsRead(prisma)
    expect(fresh).toStrictEqual(await tagsRead(bare))
    expect(fresh.length).toBe(cached.length + 1)
  })

  it('leave everything as it was after a rollback', async () => {
    const cached = await tagsRead(prisma)
    const error = await prisma
      .$transaction(async (tx: any) => {
        await tx.tag.create({ data: { name: 'rolled-back' } })
        throw new Error('abort')
      })
      .catch((e: unknown) => e)
    expect((error as Error).message).toBe('abort')
    expect(await tagsRead(prisma)).toStrictEqual(cached)
    expect(await tagsRead(bare)).toStrictEqual(cached)
  })

  it('do not cache a read made between a write and its commit, even after the transaction', async () => {
    const { prisma: client } = await env.client({})
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const transaction = client.$transaction(async (tx: any) => {
      await tx.user.update({ where: { id: rows.bob.id }, data: { name: 'committed-name' } })
      await gate
    })
    // Released by a timer: on SQLite the read below may wait for the transaction to finish.
    setTimeout(release, 50)
    // On PostgreSQL this read sees the old name while the transaction is open...
    await client.user.findUnique({ where: { id: rows.bob.id } })
    await transaction
    // ...and that result must not be served once the transaction has committed.
    expect((await client.user.findUnique({ where: { id: rows.bob.id } }))!.name).toBe('committed-name')
  })
})

describe('the end of an interactive transaction', () => {
  it('settles what it wrote once $transaction returns: the next reads are cached again', async () => {
    const { prisma: client, spy: calls } = await env.client({})
    await client.$transaction(async (tx: any) => {
      await tx.tag.create({ data: { name: 'settled' } })
    })
    const first = await tagsRead(client)
    const before = calls.calls.length
    expect(await tagsRead(client)).toStrictEqual(first)
    expect(reached(calls.calls, before)).toBe(0)
    expect(first).toStrictEqual(await tagsRead(bare))
  })

  it('settles after a rollback too', async () => {
    const { prisma: client, spy: calls } = await env.client({})
    const error = await client
      .$transaction(async (tx: any) => {
        await tx.tag.create({ data: { name: 'undone' } })
        throw new Error('abort')
      })
      .catch((e: unknown) => e)
    expect((error as Error).message).toBe('abort')
    const first = await tagsRead(client)
    const before = calls.calls.length
    await tagsRead(client)
    expect(reached(calls.calls, before)).toBe(0)
    expect(first).toStrictEqual(await tagsRead(bare))
  })

  it('keeps the extensions applied after prefetch() on the transaction client', async () => {
    const { prisma: client, spy: calls } = await env.client({})
    const before = calls.calls.length
    const inside = await client.$transaction(async (tx: any) => tagsRead(tx))
    expect(reached(calls.calls, before)).toBe(1) // the spy, applied after prefetch(), saw the read
    expect(inside).toStrictEqual(await tagsRead(bare))
  })

  it('another process sharing the store never serves what it read while the transaction was open, once it returned', async () => {
    const store = new Keyv()
    const a = await env.client({ cache: store })
    const b = await env.client({ cache: store })
    const read = (c: any) => c.user.findUnique({ where: { id: rows.alice.id } })
    await read(b.prisma)
    let written!: () => void
    const wrote = new Promise<void>((resolve) => (written = resolve))
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const name = `committed-${Math.random()}`
    const transaction = a.prisma.$transaction(async (tx: any) => {
      await tx.user.update({ where: { id: rows.alice.id }, data: { name } })
      written()
      await gate
    })
    await wrote
    // The other process reads while the write has not committed: the old name, cached there
    // under the generation the write's first bump set.
    expect((await read(b.prisma))!.name).not.toBe(name)
    release()
    await transaction
    expect((await read(b.prisma))!.name).toBe(name)
  })
})

describe('batch transactions', () => {
  it('serve nothing from the cache, and invalidate after commit', async () => {
    await tagsRead(prisma)
    const before = spy.calls.length
    const [, list] = await prisma.$transaction([prisma.tag.create({ data: { name: 'batched' } }), prisma.tag.findMany({ orderBy: { id: 'asc' } })])
    expect(reached(spy.calls, before)).toBe(2)
    expect(list.some((tag: { name: string }) => tag.name === 'batched')).toBe(true)
    expect(await tagsRead(prisma)).toStrictEqual(await tagsRead(bare))
  })
})

describe('transactionOf', () => {
  it('reads the transaction Prisma passes to query extensions', async () => {
    const seen: unknown[] = []
    const probe = bare.$extends({
      query: {
        $allOperations({ args, query, ...rest }: any) {
          seen.push(transactionOf(rest.__internalParams))
          return query(args)
        },
      },
    })
    await probe.tag.count()
    await probe.$transaction(async (tx: any) => tx.tag.count())
    await probe.$transaction([probe.tag.count()])
    expect(seen[0]).toBeUndefined()
    expect(seen[1]).toMatchObject({ kind: 'itx' })
    expect(seen[2]).toMatchObject({ kind: 'batch' })
  })
})
