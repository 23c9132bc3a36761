/**
 * The `learn` option: bounds and thresholds of learning, each documented with its `@default`
 * (src/options.ts resolves them). Part of the public option types of src/types.ts.
 */

/**
 * Bounds and thresholds of learning. Memory held by learning is at most about `maxSessions` x
 * `maxHistory` x `maxRows` x 32 values for histories, `maxSessions` x `maxRecall` x (slots + 32)
 * values for what sessions recall, plus `maxTemplates`, `maxContexts` x
 * `maxBranches` and `maxUsers` x `maxUserContexts` x `maxBranches` counters.
 */
export interface LearnOptions {
  /**
   * Longest context of the transition model: how many previous reads decide the next.
   * @default 2
   */
  order?: number
  /**
   * Observations a context needs before it predicts (else a shorter context is used), and a
   * source of an argument before it is used.
   * @default 5
   */
  minSupport?: number
  /**
   * Milliseconds between two reads of a session beyond which the second is not taken to follow
   * the first (the history starts afresh).
   * @default 30000
   */
  windowMs?: number
  /**
   * Observations of a context (or of an argument source) after which its counts are halved, so
   * that changed behaviour is followed within about this many observations.
   * @default 1000
   */
  agingLimit?: number
  /**
   * Sessions tracked at once; the least recently active is forgotten first.
   * @default 1000
   */
  maxSessions?: number
  /**
   * Reads kept per session (at least `order` and `lookback`).
   * @default 4
   */
  maxHistory?: number
  /**
   * Milliseconds after which an idle session is forgotten.
   * @default 1800000 (30 minutes)
   */
  sessionIdleMs?: number
  /**
   * Rows of a list result kept to learn from (and, at most, rows one fan-out fetches).
   * @default 50
   */
  maxRows?: number
  /**
   * Query templates remembered.
   * @default 1000
   */
  maxTemplates?: number
  /**
   * Contexts of the global transition model.
   * @default 10000
   */
  maxContexts?: number
  /**
   * Next templates counted per context (the rarest replaced).
   * @default 16
   */
  maxBranches?: number
  /**
   * Users with a transition model of their own (sessions started with a `userId`).
   * @default 1000
   */
  maxUsers?: number
  /**
   * Contexts of each user's transition model.
   * @default 256
   */
  maxUserContexts?: number
  /**
   * How many observations the global model counts for, next to a user's own: the more a user
   * has been seen, the more their own transitions decide.
   * @default 10
   */
  userPriorWeight?: number
  /**
   * How many reads back an argument's value is looked for.
   * @default 3
   */
  lookback?: number
  /**
   * Templates whose last read each session recalls beyond its history (`maxHistory`): the
   * read's argument values and, for a single-row result, that row's fields, so an argument a
   * session gave or read many reads ago (its credentials, its own user id) can be predicted.
   * Adds at most `maxSessions` x `maxRecall` x (slots + 32) values.
   * @default 16
   */
  maxRecall?: number
  /**
   * Possible sources tracked per argument slot.
   * @default 8
   */
  maxSources?: number
  /**
   * Share of observations an argument source (or a remembered value) must have explained to
   * propose arguments. Each proposal carries that share in its probability, so sources that
   * explain different reads are all proposed, and `minProbability` decides what runs.
   * @default 0.1
   */
  minConfidence?: number
  /**
   * Rows fetched at most by one fan-out (a list followed by the detail of one of its rows): the
   * whole list a page showed, up to this many rows, in one batched `in` read. At most `maxRows`.
   * @default 50
   */
  maxFanOut?: number
  /**
   * Estimated bytes (in process memory) of the rows one fan-out keeps. Rows are kept in the
   * list's order while they fit; the rest are not kept. Once rows of a fan-out's shape have been
   * seen, later fan-outs of that shape fetch only as many rows as fit.
   * @default 1048576 (1 MiB)
   */
  maxFanOutBytes?: number
  /**
   * Transitions (a template after another) whose argument sources and values are learned apart
   * from the template's: one template reached from two pages may take its argument from a
   * different place after each. A transition seen fewer than `minSupport` times uses the template's.
   * Also the transitions with a record of which was right more often where they disagreed: the
   * whole-read memory's best follower (`maxExactReads`) or the best derived read.
   * @default 4000
   */
  maxArgumentContexts?: number
  /**
   * Concrete values remembered per argument slot (of a template, and of each transition to it),
   * the most frequent kept: proposed when no source explains the slot, or alongside a weak one.
   * @default 8
   */
  maxValues?: number
  /**
   * Whole reads (template and every argument) whose followers are remembered: the exact reads
   * that came next after each, at most `maxValues` of them, the most frequent kept, proposed with
   * a lower bound of their share (a read that recurs after the same read, though no argument
   * source explains it). The least recently followed forgotten first. On a transition where the
   * memory's best follower has been the next read more often than the best derived read, where
   * they differed, it is proposed first (even seen once), as likely as the derived read. About
   * 1 KB each (RUBiS: 10,000 of them took 6 MB more than 4,000).
   * @default 10000
   */
  maxExactReads?: number
  /**
   * Reads proposed at most after one read, the most probable first (and argument combinations
   * at most per next template). More than `maxPerTrigger` never run.
   * @default 3
   */
  maxAlternatives?: number
  /**
   * Levels of prediction from one read: 1 predicts the reads that follow it; 2 also predicts, for
   * each of those that runs speculatively, the reads that follow it in turn (from its arguments
   * when it starts and from its result when it completes, with the probabilities multiplied), so
   * a page's later reads are ready when it is asked for; and so on.
   * @default 2
   */
  chainDepth?: number
  /**
   * Combining: when a single-row read goes to the database and a list read of a related model is
   * predicted, with at least this probability, to follow it with its foreign key taken from the
   * row (a user, then the user's posts by `authorId`), the list is loaded with the row as an added
   * relation in one statement (`relationLoadStrategy: 'join'`) and kept as that list read's
   * result; the application gets the row exactly as it asked for it. Only on clients where Prisma
   * runs relations as joins (the `relationJoins` preview feature on PostgreSQL, CockroachDB or
   * MySQL), never inside a transaction, and only for a list ordered by a unique field last.
   * `false`: never combine.
   * @default 0.8
   */
  combine?: number | false
  /**
   * With a shared `cache`: milliseconds between two writes of what this process learned to the
   * store (a new process reads what the others wrote when it starts).
   * @default 15000
   */
  shareIntervalMs?: number
  /**
   * Contexts of the global model written to the store at most (the best supported first).
   * @default 500
   */
  maxSharedContexts?: number
}
