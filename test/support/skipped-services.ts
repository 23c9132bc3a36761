import type { Reporter, TestModule } from 'vitest/node'
import type { MissingService } from './services.ts'

/**
 * One line per missing service at the end of a run, with the number of tests skipped for it
 * (suites registered by describeWith in test/support/services.ts carry what they miss).
 */
export default class SkippedServices implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped = new Map<string, { service: MissingService; tests: number }>()
    for (const module of testModules) {
      for (const test of module.children.allTests('skipped')) {
        let service: MissingService | undefined
        for (let at: { meta(): { missingService?: MissingService }; parent?: unknown } | undefined = test; at !== undefined && service === undefined; ) {
          service = at.meta().missingService
          const parent = (at as { parent?: unknown }).parent as typeof at | { type: string } | undefined
          at = parent !== undefined && 'meta' in parent ? parent : undefined
        }
        if (service === undefined) continue
        const key = service.what
        const entry = skipped.get(key) ?? { service, tests: 0 }
        entry.tests++
        skipped.set(key, entry)
      }
    }
    for (const { service, tests } of skipped.values()) {
      console.warn(`${service.what}: ${tests} test${tests === 1 ? '' : 's'} skipped; ${service.start}`)
    }
  }
}
