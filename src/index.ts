/** The package's public exports, and nothing else. */
export { prefetch, type ForSession, type ForSessionNeedsTheClientType, type PrefetchHelpers, type SessionOptions } from './middleware/extension.ts'
export type { SessionId } from './middleware/session.ts'
export type { PrefetchModel } from './middleware/prefetcher.ts'
export type { LearnedArgument, LearnedModel, LearnedTransition } from './strategies/learner.ts'
export { rule, rulesFor, type RuleBuilder } from './strategies/rules.ts'
export type { ModelName, ReadArgs, ReadName, ReadResult, Rule, RuleContext } from './client-types.ts'
export type {
  ErrorContext,
  KeyvLike,
  L1Options,
  LearnOptions,
  ModelOptions,
  PrefetchOptions,
  ReadOperation,
  ScopeContext,
} from './types.ts'
export type { Counters, ErrorCounters, ModelStats, OperationCounters, OperationStats, PrefetchCounters, PrefetchStats, StrategyCounters, StrategyStats, TimelinePoint } from './stats-types.ts'
