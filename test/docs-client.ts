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

/** The request of the README's Express and Fastify lines, as express-session and @fastify/session shape it. */
type Request = { sessionID: string; session: { sessionId: string }; user?: { id: number } }
/** An Express application, as far as the README's session line uses one. */
export declare const app: { use(handler: (req: Request, res: unknown, next: () => void) => void): void }
/** A Fastify instance, as far as the README's session line uses one. */
export declare const fastify: { addHook(hook: 'preHandler', handler: (request: Request, reply: unknown, done: () => void) => void): void }
