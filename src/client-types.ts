/**
 * Public types that follow the application's own Prisma client type: model and read names, the
 * arguments and results of a read, and the rules written over them. With no client type given,
 * names are any string and arguments plain records (checked at run time instead).
 */

import type { ReadOperation } from './shared.ts'

/** Keys of a Prisma client type that are model delegates (`user` for the model `User`). */
type DelegateKey<Client> = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [K in keyof Client]: K extends `$${string}` ? never : Client[K] extends { findMany: (...args: any[]) => unknown } ? K : never
}[keyof Client] &
  string

/**
 * The model names of a Prisma client type, as in the schema (`'User'`); any string when no client
 * type is given.
 */
export type ModelName<Client = unknown> = unknown extends Client ? string : Capitalize<DelegateKey<Client>>

/** A read of a model, as rules name it: `'User.findUnique'`. */
export type ReadName<Client = unknown> = `${ModelName<Client>}.${ReadOperation}`

type Delegate<Client, Name> = Name extends `${infer Model}.${string}` ? Client[Uncapitalize<Model> & keyof Client] : never
type Method<Client, Name> = Name extends `${string}.${infer Operation}` ? Delegate<Client, Name>[Operation & keyof Delegate<Client, Name>] : never

/** The arguments of a read (`ReadName`) of a client type; a plain record when no client type is given. */
export type ReadArgs<Client, Name> = unknown extends Client
  ? Record<string, unknown>
  : // eslint-disable-next-line @typescript-eslint/no-explicit-any
    Method<Client, Name> extends (args: infer Args, ...rest: any[]) => unknown
    ? NonNullable<Args>
    : never

/** What a read resolves to, with its default selection; `any` when no client type is given. */
export type ReadResult<Client, Name> = unknown extends Client
  ? // eslint-disable-next-line @typescript-eslint/no-explicit-any
    any
  : // eslint-disable-next-line @typescript-eslint/no-explicit-any
    Method<Client, Name> extends (...args: any[]) => infer Result
    ? Awaited<Result>
    : never

/** `Model.operation`, as in `'User.findUnique'`. */
export interface QueryName {
  model: string
  operation: string
}

/**
 * What a rule's argument function is given: the read that just completed. Typed after the
 * client's own types when the rule comes from `rulesFor<typeof prisma>()`.
 */
export interface RuleContext<Client = unknown, From = string> {
  args: ReadArgs<Client, From>
  result: ReadResult<Client, From>
}

/** A transition the application knows: after `from`, run `to` with the arguments `args` returns. */
export interface Rule {
  readonly from: QueryName
  readonly to: QueryName
  /** Arguments of the read to run; `undefined` or `null` for none this time. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly args: (context: RuleContext<any, any>) => object | undefined | null
  /** The probability the rule's read is taken to have (it ranks candidates). */
  readonly probability: number
}
