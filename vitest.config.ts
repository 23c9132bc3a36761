import { defineConfig } from 'vitest/config'

// Three projects, all run by `npm test`:
//   unit         pure code and option checks, no database or server (`npm run test:unit`, the fast loop)
//   integration  real Prisma clients on SQLite or PostgreSQL (DATABASE_URL), Redis, Chromium
//   slow         soak, child processes, the packed package and the demo
const slow = [
  'test/reliability/soak.test.ts',
  'test/reliability/handles.test.ts',
  'test/integration/processes.test.ts',
  'test/package/**/*.test.ts',
  'test/demo.test.ts',
]
const unit = [
  'test/cache/codec.test.ts',
  'test/cache/key.test.ts',
  'test/middleware/**/*.test.ts',
  'test/strategies/**/*.test.ts',
  'test/bench/sessions.test.ts',
  'test/bench/flags.test.ts',
  'test/options.test.ts',
  'test/bounded-map.test.ts',
  'test/readme.test.ts',
]

export default defineConfig({
  test: {
    // One line per missing service (Redis, a Redis Cluster, Chromium) with the tests it cost.
    reporters: ['default', './test/support/skipped-services.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: unit,
          // Type tests (test/**/*.test-d.ts) are checked by tsc with the unit project.
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: [...unit, ...slow] } },
      { extends: true, test: { name: 'slow', include: slow } },
    ],
  },
})
