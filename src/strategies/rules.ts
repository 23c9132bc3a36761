/**
 * Rules: transitions the application declares with `rule('A.read').then('B.read', args)`, and the
 * predictor that proposes their reads after each read they start from.
 */

import type { QueryName, ReadArgs, ReadName, Rule, RuleContext } from '../client-types.ts'
import { isPlainObject } from '../shared.ts'
import type { Candidate, ObservedQuery, Predictor, ReadEvent, SessionRef } from './types.ts'

function parseName(text: unknown, what: string): QueryName {
  const match = typeof text === 'string' ? /^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z]+)$/.exec(text) : null
  if (match === null) throw new TypeError(`prisma-prefetch: ${what} must be 'Model.operation', as in 'User.findUnique': ${JSON.stringify(text)}`)
  return { model: match[1], operation: match[2] }
}

/**
 * Declares a transition: `rule('User.findUnique').then('Post.findMany', ({ result }) => ({ where:
 * { authorId: result.id } }))`. After every `User.findUnique`, the `Post.findMany` with those
 * arguments is prefetched. Model and operation names are checked against the client when the
 * extension is applied.
 */
export function rule<Client = unknown, From extends ReadName<Client> = ReadName<Client>>(from: From): RuleBuilder<Client, From> {
  const source = parseName(from, 'rule()')
  return {
    then(to, args, options) {
      const target = parseName(to, `rule('${from}').then()`)
      if (typeof args !== 'function') throw new TypeError(`prisma-prefetch: rule('${from}').then('${to}', args) needs a function returning the arguments: ${String(args)}`)
      const probability = options?.probability ?? 1
      if (typeof probability !== 'number' || !(probability > 0 && probability <= 1)) {
        throw new TypeError(`prisma-prefetch: rule('${from}').then() probability must be a number in (0, 1]: ${String(probability)}`)
      }
      return Object.freeze({ from: source, to: target, args, probability })
    },
  }
}

/** `rule(from)`: say what comes next with `.then(to, args, { probability })`. */
export interface RuleBuilder<Client, From> {
  then<To extends ReadName<Client>>(
    to: To,
    args: (context: RuleContext<Client, From>) => ReadArgs<Client, To> | undefined | null,
    options?: { probability?: number },
  ): Rule
}

/**
 * `rule`, typed after a client: model and operation names are checked as you type, and the
 * argument function sees the completed read's arguments and result with their types and must
 * return arguments of the read it names.
 *
 *   const rule = rulesFor<typeof prisma>()
 *   rule('User.findUnique').then('Post.findMany', ({ result }) => result && { where: { authorId: result.id } })
 */
export function rulesFor<Client>(): <From extends ReadName<Client>>(from: From) => RuleBuilder<Client, From> {
  return rule as never
}

/** Whether `value` was made by `rule().then()`. */
export function isRule(value: unknown): value is Rule {
  if (value === null || typeof value !== 'object') return false
  const r = value as Partial<Rule>
  // The probability rule() would have accepted: an object shaped by hand must not bring 2 or NaN.
  const probability = r.probability
  return isPlainObject(r.from) && isPlainObject(r.to) && typeof r.args === 'function' && typeof probability === 'number' && probability > 0 && probability <= 1
}

/**
 * Candidates from explicit rules. A rule's function that throws or returns something other than
 * an object proposes nothing; the error goes to `onError`, never to the user's query.
 */
export class RulePredictor implements Predictor {
  readonly name = 'rule'
  private readonly bySource = new Map<string, Rule[]>()

  constructor(rules: readonly Rule[], private readonly reportError: (error: unknown, rule: Rule) => void) {
    for (const r of rules) {
      const key = `${r.from.model}.${r.from.operation}`
      this.bySource.set(key, [...(this.bySource.get(key) ?? []), r])
    }
  }

  /** A speculative read's result leads where a completed read's does (rules learn nothing). */
  follow(session: SessionRef | undefined, chain: readonly ObservedQuery[], at: number): Candidate[] {
    const last = chain[chain.length - 1]
    return last === undefined || last.result === undefined ? [] : this.observe({ session, query: last, at })
  }

  observe(event: ReadEvent): Candidate[] {
    const rules = this.bySource.get(`${event.query.model}.${event.query.operation}`)
    if (rules === undefined) return []
    const out: Candidate[] = []
    for (const r of rules) {
      let args: unknown
      try {
        args = r.args({ args: event.query.args, result: event.query.result })
      } catch (error) {
        this.reportError(error, r)
        continue
      }
      if (args === undefined || args === null) continue
      if (!isPlainObject(args)) {
        this.reportError(new TypeError(`prisma-prefetch: the rule ${r.from.model}.${r.from.operation} -> ${r.to.model}.${r.to.operation} returned arguments that are not an object: ${String(args)}`), r)
        continue
      }
      out.push({ query: { model: r.to.model, operation: r.to.operation, args }, probability: r.probability, strategy: 'rule' })
    }
    return out
  }
}
