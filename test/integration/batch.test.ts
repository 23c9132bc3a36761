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
