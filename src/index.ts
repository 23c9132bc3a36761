export { prefetch, type PrefetchHelpers, type SessionOptions } from './middleware/extension.ts'
export type { SessionId } from './middleware/session.ts'
export type { PrefetchModel } from './middleware/prefetcher.ts'
export type { LearnedArgument, LearnedModel, LearnedTransition } from './strategies/learner.ts'
export { rule, rulesFor, type Rule, type RuleBuilder, type RuleContext } from './strategies/rules.ts'
export type {
  Counters,
  ErrorContext,
  ErrorCounters,
  KeyvLike,
  L1Options,
  LearnOptions,
  ModelName,
  ModelOptions,
  PrefetchCounters,
  PrefetchOptions,
  PrefetchStats,
  ReadArgs,
  ReadName,
  ReadOperation,
  ReadResult,
  ScopeContext,
  StrategyCounters,
  TimelinePoint,
} from './types.ts'
