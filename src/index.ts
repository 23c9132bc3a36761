export { prefetch, type PrefetchHelpers } from './middleware/extension.ts'
export type {
  Counters,
  ErrorContext,
  ErrorCounters,
  KeyvLike,
  L1Options,
  ModelOptions,
  PrefetchCounters,
  PrefetchOptions,
  PrefetchStats,
  ReadOperation,
  ScopeContext,
  StrategyCounters,
} from './types.ts'
