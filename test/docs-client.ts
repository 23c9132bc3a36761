import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { prefetch } from '../src/index.ts'
import { PrismaClient } from '../src/generated/prisma/client.ts'

/**
 * The clients the fragments of the README and docs/ use, for their type check only
 * (test/docs-typecheck.test.ts): a block's preamble imports them,
 * `<!-- preamble: import { base, prisma } from '../test/docs-client.ts' -->`.
 * Nothing imports this module at run time.
 */
export const base = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: 'file:./dev.db' }) })
export const prisma = base.$extends(prefetch<typeof base>())
