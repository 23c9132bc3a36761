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
