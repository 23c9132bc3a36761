import { defineConfig } from 'vitest/config'
import { postgresProblem, shown } from './test/support/postgres.ts'

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
  'test/services.test.ts',
  'test/bench/load.test.ts',
]
const unit = [
  'test/cache/codec.test.ts',
  'test/cache/key.test.ts',
  'test/cache/canonical-pass.test.ts',
  'test/middleware/**/*.test.ts',
  'test/strategies/**/*.test.ts',
  'test/bench/sessions.test.ts',
  'test/bench/flags.test.ts',
  'test/options.test.ts',
  'test/bounded-map.test.ts',
  'test/shared.test.ts',
  'test/readme.test.ts',
  'test/docs-typecheck.test.ts',
]

const CI = process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI)
// DATABASE_URL naming a PostgreSQL server that is not there: without CI, one line and only the unit
// project (every integration and slow test needs that database); under CI the run fails loudly.
const postgres = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : undefined
// The config is evaluated more than once per run: probe and say it once (the answer rides in the environment).
const KNOWN = 'PRISMA_PREFETCH_TESTS_POSTGRES'
const known = process.env[KNOWN]
const postgresMissing = known !== undefined ? known || undefined : postgres !== undefined && !CI ? await postgresProblem(postgres) : undefined
process.env[KNOWN] = postgresMissing ?? ''
if (postgresMissing !== undefined && known === undefined) {
  console.warn(
    `PostgreSQL not reachable at ${shown(postgres!)} (${postgresMissing}): the integration and slow projects are skipped (each of their tests needs it); ` +
      'start it with pg_ctlcluster --skip-systemctl-redirect <version> main start, or unset DATABASE_URL to run them on SQLite',
  )
}

export default defineConfig({
  test: {
    passWithNoTests: postgresMissing !== undefined,
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
      ...(postgresMissing !== undefined
        ? []
        : [
            { extends: true as const, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: [...unit, ...slow] } },
            { extends: true as const, test: { name: 'slow', include: slow } },
          ]),
    ],
  },
})
