/**
 * Where every error the extension absorbs goes: counted by kind in the statistics, then handed to
 * the application's `onError`, whose own failure is swallowed (a query never fails because of it).
 */

import { StoreTimeoutError } from '../cache/guard.ts'
import type { Stats } from '../stats.ts'
import type { ErrorContext } from '../types.ts'

export type ReportError = (error: unknown, context: ErrorContext) => void

export function errorReporter(stats: Stats, onError: ReportError): ReportError {
  return (error, context) => {
    // A failed speculative query is counted as such (prefetch.failed), not as a cache error.
    if (context.phase === 'decode') stats.error('decode')
    else if (context.phase === 'predict') stats.error('predict')
    else if (error instanceof StoreTimeoutError) stats.error('timeouts')
    else if (context.phase !== 'prefetch' && context.phase !== 'session') stats.error('store')
    try {
      onError(error, context)
    } catch {
      // onError is the user's; its failure must not turn into a failed query either.
    }
  }
}
