import { describe, expect, it } from 'vitest'
import { setup } from '../support/setup.ts'

// A batch $transaction([...]) whose write comes before a read: the extension must start the write
// in its place (it used to start it a microtask late, after the reads that follow it, so that
// extensions beneath and Prisma's batch saw the requests in another order than the caller's).
const env = await setup()
const { prisma, bare, spy } = env
const user = await bare.user.create({ data: { email: 'batch@example.com', name: 'before' } })

describe('batch transactions', () => {
  it('reach the extensions beneath and the database in the order given', async () => {
    const since = spy.calls.length
    const [updated, read] = await prisma.$transaction([
      prisma.user.update({ where: { id: user.id }, data: { name: 'after' }, select: { name: true } }),
      prisma.user.findUnique({ where: { id: user.id }, select: { name: true } }),
    ])
    expect([updated, read]).toEqual([{ name: 'after' }, { name: 'after' }])
    expect(spy.calls.slice(since).map((call) => call.operation)).toEqual(['update', 'findUnique'])
  })
})

describe('a failed batch transaction', () => {
  it('fails as the bare client does, naming the same query', async () => {
    const outcome = async (client: typeof prisma | typeof bare) => {
      try {
        await client.$transaction([
          client.user.update({ where: { id: user.id }, data: { name: 'again' } }),
          // A cursor with this orderBy is refused by the engine (P2019) once the batch runs.
          client.follow.aggregate({ cursor: { followerId_followeeId: { followerId: user.id, followeeId: user.id } }, orderBy: [{ followerId: 'asc' }, { followeeId: 'asc' }], _count: { _all: true } }),
        ])
        return { ok: true }
      } catch (error) {
        const e = error as { constructor: { name: string }; code?: string; message: string }
        // The message quotes the call site; keep the part that names the query and the reason.
        return { class: e.constructor.name, code: e.code, message: e.message.replace(/invocation in[\s\S]*?\n\n/, 'invocation\n\n').replace(/:\d+:\d+/g, '') }
      }
    }
    const expected = await outcome(bare)
    expect(expected).toMatchObject({ class: 'PrismaClientKnownRequestError', code: 'P2019' })
    expect(await outcome(prisma)).toEqual(expected)
    expect((await bare.user.findUniqueOrThrow({ where: { id: user.id } })).name).toBe('after')
  })
})
