// The clients built on a prefetch() client: what runs beneath this extension's hook in each of
// them, the client speculative reads go through, and clients whose every query is in a session.
import { AsyncLocalStorage } from 'node:async_hooks'
import { BoundedMap } from '../bounded-map.ts'
import { HooksBeneath } from './hooks-beneath.ts'
import { extensionsOf, type ExtensionArgs } from './prisma-internals.ts'
import type { SessionContext, Sessions } from './session.ts'

/** What a query hook receives, as far as this module reads it. */
interface HookParams {
  model?: string
  operation: string
  args: unknown
  query: (args: unknown) => PromiseLike<unknown>
}

type AnyClient = Record<string, unknown> & {
  $extends(extension: unknown): AnyClient
  _originalClient?: AnyClient
}
/**
 * The extensions of a client, first applied first (prisma-internals.ts). Speculation cannot be
 * built without them: a list that cannot be read (a Prisma upgrade that moved it) fails loudly.
 */
function extensionsRead(client: unknown): ExtensionArgs[] {
  const all = extensionsOf(client)
  if (all === undefined) throw new Error('prisma-prefetch: cannot read the extensions of this client (Prisma internals changed?)')
  return all
}

/** Holds `true` while a speculative read runs through the query hooks beneath this extension's. */
const speculativeReads = new AsyncLocalStorage<true>()

/**
 * Whether the query a hook sees is a speculative read of prisma-prefetch (call it from a query
 * extension applied after prefetch(): a logger, a spy in tests).
 */
export function isSpeculative(): boolean {
  return speculativeReads.getStore() === true
}

/** A read running through a speculation client, waiting for this extension's hook to see it. */
interface Pass {
  model: string
  operation: string
  /** 'capture': keep what the hooks beneath return; 'warm': speculate here, at this extension's level. */
  kind: 'capture' | 'warm'
  reached: boolean
  result?: unknown
}

/** Speculation clients kept at most (one per distinct set of extensions around this one). */
const MAX_SPECULATORS = 16

/**
 * Knows every client built on the prefetch() client (it wraps `$extends` on each), so that:
 * - speculative reads go through exactly the query hooks beneath this extension's (the hooks
 *   of extensions applied after it, which Prisma runs inside ours), and are served the way a
 *   demand read's `query(args)` returns there: a *speculation client* is built on the bare
 *   client from those extensions' `query` and `result` parts, this extension's hook, and only
 *   the `result` parts of the extensions applied before it (so that the query is serialised
 *   with the same computed fields). This extension's hook keeps what the hooks beneath it return
 *   and the result of the outer call is dropped: nothing applied before ours touches it twice.
 * - `$prefetch` of each client is bound to that client (`forSession()` returns it whole,
 *   `warm()` goes through it).
 * - a session client runs every query it makes, lazy or in a batch, inside the session.
 *
 * Speculation that a demand read triggers goes through the extensions of the client built last
 * (clients built on one prefetch() client share its cache; see docs/extensions.md).
 */
export class Composition {
  private readonly passes = new AsyncLocalStorage<Pass>()
  /** Each client tracked, with Prisma's own `$extends` of it. */
  private readonly adopted = new WeakMap<object, AnyClient['$extends']>()
  private readonly speculators = new BoundedMap<string, AnyClient>(MAX_SPECULATORS)
  private readonly ids = new WeakMap<object, number>()
  private nextId = 1
  /** The client built last (not a session client): speculation triggered by reads goes through it. */
  private latest: AnyClient | undefined
  /** The query hooks beneath this extension's in the client built last (read when first asked). */
  private beneath: HooksBeneath | undefined

  constructor(
    /** The client prefetch() was applied to. */
    private readonly inner: AnyClient,
    /** The extension object prefetch() applies. */
    private readonly definition: ExtensionArgs,
    private readonly sessions: Sessions,
    /** The `$prefetch` helpers bound to one client. */
    private readonly helpersFor: (client: AnyClient) => object,
  ) {}

  /** The client built last, which `$prefetch` of a client Prisma made itself (a transaction's) acts on. */
  current(): unknown {
    return this.latest ?? this.inner
  }

  /** Starts tracking `client` and every client built on it; `binding` puts all their queries in a session. */
  adopt<C>(client: C, binding?: SessionContext): C {
    const c = client as unknown as AnyClient
    if (c === null || typeof c !== 'object' || this.adopted.has(c)) return client
    const prismaExtends = c.$extends
    this.adopted.set(c, prismaExtends)
    const composition = this
    // Assigned through Prisma's client proxy, which keeps them as the client's own properties.
    c.$extends = function (this: AnyClient, extension: unknown) {
      const built = prismaExtends.call(this, extension)
      return composition.adopt(built, binding)
    }
    c.$prefetch = this.helpersFor(c)
    if (binding === undefined) {
      this.latest = c
      this.beneath = undefined
    } else this.bind(c, binding)
    return client
  }

  /** A client built on `client` whose every query runs in session `context`. */
  forSession(client: unknown, context: SessionContext): unknown {
    const c = client as AnyClient
    const prismaExtends = this.adopted.get(c) ?? c.$extends
    // A new client object (Prisma builds one per $extends) to hold the binding; the extension adds nothing.
    return this.adopt(prismaExtends.call(c, { name: 'prisma-prefetch:session' }), context)
  }

  private bind(c: AnyClient, context: SessionContext): void {
    const sessions = this.sessions
    const create = c._createPrismaPromise as (callback: (transaction?: unknown) => unknown, op?: unknown) => unknown
    const transaction = c.$transaction as (...args: unknown[]) => unknown
    if (typeof create !== 'function' || typeof transaction !== 'function') {
      throw new Error('prisma-prefetch: cannot bind this client to a session (Prisma internals changed?)')
    }
    // Every query of a Prisma client is a lazy promise made here, whose callback runs when it is
    // awaited or put in a $transaction([...]) batch: running that callback inside the session puts
    // the whole chain of query hooks, this extension's included, in it.
    c._createPrismaPromise = (callback: (transaction?: unknown) => unknown, op?: unknown) =>
      create((tx?: unknown) => (sessions.current() === context ? callback(tx) : sessions.run(context, callback, tx)), op)
    // An interactive transaction's client is Prisma's own: its callback runs in the session.
    c.$transaction = function (this: unknown, ...args: unknown[]) {
      return sessions.run(context, () => transaction.apply(this, args))
    }
  }

  /**
   * Called first by this extension's hook: a read sent by `execute` or `warm` is handled here
   * (and returns its promise); any other query returns undefined.
   */
  intercept<P extends HookParams>(params: P, warm: (params: P, args: unknown, query: () => PromiseLike<unknown>) => Promise<unknown>): Promise<unknown> | undefined {
    const pass = this.passes.getStore()
    if (pass === undefined || pass.reached || pass.model !== params.model || pass.operation !== params.operation) return undefined
    pass.reached = true
    // Outside the pass: a query an extension beneath makes on its own is not this read.
    return this.passes.exit(() =>
      speculativeReads.run(true, () => {
        if (pass.kind === 'warm') return warm(params, params.args, () => start(params.query(params.args)))
        return start(params.query(params.args)).then((result) => {
          pass.result = result
          return result
        })
      }),
    )
  }

  /**
   * Sends a speculative read through the query hooks beneath this extension's, as the client built
   * last has them, and resolves with what they return to this extension's hook.
   */
  async execute(model: string, operation: string, args: unknown): Promise<unknown> {
    const pass: Pass = { model, operation, kind: 'capture', reached: false }
    const client = this.speculator(this.latest ?? this.inner)
    const delegate = (client as Record<string, Record<string, (args: unknown) => PromiseLike<unknown>>>)[model[0].toLowerCase() + model.slice(1)]
    await this.passes.run(pass, () => start(delegate[operation](args)))
    if (!pass.reached) throw new Error(`prisma-prefetch: a speculative ${model}.${operation} did not reach the extension`)
    return pass.result
  }

  /**
   * `warm()` on `client`: the read goes through the whole client, the extensions applied before
   * this one included (they may rewrite its arguments), and `speculate` runs at this extension's
   * hook with the arguments it sees there. Resolves whether the hook was reached.
   */
  async warm(client: unknown, model: string, operation: string, args: unknown): Promise<boolean> {
    const pass: Pass = { model, operation, kind: 'warm', reached: false }
    const delegate = (client as Record<string, Record<string, (args: unknown) => PromiseLike<unknown>>>)[model[0].toLowerCase() + model.slice(1)]
    try {
      await this.passes.run(pass, () => start(delegate[operation](args)))
    } catch (error) {
      // What the extensions applied before this one do with the result is not warm()'s concern.
      if (!pass.reached) throw error
    }
    return pass.reached
  }

  /**
   * The query hooks beneath this extension's in the client built last, which speculation triggered
   * by reads goes through (and, by the same rule, the application's reads are taken to).
   */
  hooksBeneath(): HooksBeneath {
    return (this.beneath ??= new HooksBeneath(this.latest ?? this.inner, this.definition))
  }

  /** The speculation client of `client` (cached by the extensions it is made of). */
  private speculator(client: AnyClient): AnyClient {
    const all = extensionsRead(client)
    const at = all.lastIndexOf(this.definition)
    const before = at < 0 ? extensionsRead(this.inner) : all.slice(0, at)
    const after = at < 0 ? [] : all.slice(at + 1)
    const parts: ExtensionArgs[] = []
    for (const e of before) if (e.result !== undefined) parts.push({ name: e.name, result: e.result })
    parts.push({ name: this.definition.name, query: this.definition.query })
    for (const e of after) if (e.query !== undefined || e.result !== undefined) parts.push({ name: e.name, query: e.query, result: e.result })
    const key = parts.map((p) => `${this.id(p.query)}.${this.id(p.result)}`).join(',')
    let built = this.speculators.get(key)
    if (built === undefined) {
      const bare = this.inner._originalClient
      if (bare === undefined) throw new Error('prisma-prefetch: cannot reach the bare client (Prisma internals changed?)')
      built = parts.reduce<AnyClient>((c, part) => c.$extends(part), bare)
      this.speculators.set(key, built)
    }
    return built
  }

  private id(part: object | undefined): number {
    if (part === undefined) return 0
    let id = this.ids.get(part)
    if (id === undefined) this.ids.set(part, (id = this.nextId++))
    return id
  }
}

/**
 * Starts a Prisma promise now. Prisma's promises are lazy: the query runs in the async context of
 * the first `then`, so it must be called inside the context the query is to run in.
 */
function start(promise: PromiseLike<unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => promise.then(resolve, reject))
}
