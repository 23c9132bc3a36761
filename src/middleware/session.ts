import { AsyncLocalStorage } from 'node:async_hooks'

/** The user session a query belongs to. */
export interface SessionContext {
  sessionId: string
  userId?: string
}

/**
 * Carries the current session through async calls. One instance per extension, so two
 * extended clients never see each other's sessions.
 */
export class Sessions {
  private readonly storage = new AsyncLocalStorage<SessionContext>()

  current(): SessionContext | undefined {
    return this.storage.getStore()
  }

  run<T>(context: SessionContext, fn: () => T): T {
    return this.storage.run(context, fn)
  }

  /** Runs `fn` as in `context`, or outside any session when it is undefined. */
  within<T>(context: SessionContext | undefined, fn: () => T): T {
    return context === undefined ? this.storage.exit(fn) : this.storage.run(context, fn)
  }
}

/** Validates the arguments of `session()` and `forSession()`. */
export function sessionContext(method: string, sessionId: unknown, options: unknown): SessionContext {
  if (typeof sessionId !== 'string' || sessionId.length === 0) {
    throw new TypeError(`prisma-prefetch: ${method}() needs a non-empty session id string: ${String(sessionId)}`)
  }
  if (options === undefined) return { sessionId }
  const userId = (options as { userId?: unknown } | null)?.userId
  if (options === null || typeof options !== 'object' || (userId !== undefined && typeof userId !== 'string')) {
    throw new TypeError(`prisma-prefetch: ${method}() options must be { userId?: string }: ${JSON.stringify(options)}`)
  }
  return userId === undefined ? { sessionId } : { sessionId, userId }
}
