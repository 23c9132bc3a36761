export { prefetch, type PrefetchHelpers } from './middleware/extension.ts'
export type { PrefetchModel } from './middleware/prefetcher.ts'
export type { LearnedArgument, LearnedModel, LearnedTransition } from './strategies/learner.ts'
export { rule, type Rule, type RuleContext } from './strategies/rules.ts'
export type {
  Counters,
  ErrorContext,
  ErrorCounters,
  KeyvLike,
  L1Options,
  LearnOptions,
  ModelOptions,
  PrefetchCounters,
  PrefetchOptions,
  PrefetchStats,
  ReadOperation,
  ScopeContext,
  StrategyCounters,
  TimelinePoint,
} from './types.ts'
