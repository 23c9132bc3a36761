// Generates the Prisma clients the project uses, each schema twice:
//
//   prisma/schema.prisma     -> src/generated/prisma  (SQLite)  and src/generated/prisma-pg  (PostgreSQL),
//                               and src/generated/prisma-pg-joins (PostgreSQL, `relationJoins` preview feature)
//   prisma/bench/tpcw.prisma  -> src/generated/tpcw    (SQLite)  and src/generated/tpcw-pg    (PostgreSQL),
//                                and src/generated/tpcw-pg-joins (PostgreSQL, `relationJoins`, for `bench --joins`)
//   prisma/bench/rubis.prisma -> src/generated/rubis   (SQLite)  and src/generated/rubis-pg   (PostgreSQL),
//                                and src/generated/rubis-pg-joins
//
// The first is the tests' schema; the other two are the benchmark's workloads (bench/workloads).
// All outputs are git-ignored. Run with `npm run generate`; `npm test`, `npm run demo`, the bench
// and typecheck scripts run it first (their `pre` scripts). Nothing runs it at install: a user's
// install (or a git install, which runs `prepare`) must not run the project's own tooling.
//
// Why two clients per schema: a Prisma 7 `prisma-client` output is bound to one provider (the
// query compiler WebAssembly module and the SQL flavour are chosen at generate time), so the
// PostgreSQL runs need a client generated from a postgresql datasource. The PostgreSQL schema is
// a copy with the provider and output switched, written to prisma/.generated/.
//
// The `prisma generate` runs are started in parallel: each spends most of its time starting the
// CLI (two together take about 2.6 s on a 2-core machine instead of ~3.8 s one after the other).
// Each schema is fingerprinted on its own (schema text, prisma and @prisma/client versions, this
// script): a schema whose fingerprint is unchanged and whose two outputs exist is skipped, so an
// unchanged tree costs ~0.3 s (`pretest` runs before every `npm test`) and editing one schema
// regenerates only its two clients. `--force` regenerates everything.

import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const prismaBin = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'prisma.cmd' : 'prisma')

// Git-ignored (see .gitignore): the PostgreSQL copies of the schemas and the fingerprints.
const generatedDir = join(root, 'prisma', '.generated')

/** One schema and the two clients generated from it. */
interface Target {
  /** Names the target in messages and its fingerprint file. */
  name: string
  /** The schema as written (SQLite datasource). */
  schemaPath: string
  /** Where the PostgreSQL copy of the schema is written. */
  pgSchemaPath: string
  sqliteOutput: string
  pgOutput: string
  /** A third client, PostgreSQL with the `relationJoins` preview feature (where relations load in one statement). */
  pgJoins?: { schemaPath: string; output: string }
}

const targets: Target[] = [
  {
    name: 'prisma',
    schemaPath: join(root, 'prisma', 'schema.prisma'),
    pgSchemaPath: join(generatedDir, 'schema.postgresql.prisma'),
    sqliteOutput: join(root, 'src', 'generated', 'prisma'),
    pgOutput: join(root, 'src', 'generated', 'prisma-pg'),
    pgJoins: { schemaPath: join(generatedDir, 'schema.postgresql-joins.prisma'), output: join(root, 'src', 'generated', 'prisma-pg-joins') },
  },
  ...['tpcw', 'rubis'].map((name) => ({
    name,
    schemaPath: join(root, 'prisma', 'bench', `${name}.prisma`),
    pgSchemaPath: join(generatedDir, `${name}.postgresql.prisma`),
    sqliteOutput: join(root, 'src', 'generated', name),
    pgOutput: join(root, 'src', 'generated', `${name}-pg`),
    // The benchmark's `--joins` runs (combining needs relations run as joins).
    pgJoins: { schemaPath: join(generatedDir, `${name}.postgresql-joins.prisma`), output: join(root, 'src', 'generated', `${name}-pg-joins`) },
  })),
]
const pgOutput = targets[0].pgOutput
const stampPath = (target: Target) => join(generatedDir, `${target.name}.stamp`)

/**
 * Turns the SQLite schema text into the PostgreSQL one: the datasource provider becomes
 * "postgresql" and the `prisma-client` generator writes to `pgOutputDir` (by default
 * src/generated/prisma-pg; `schemaPath` is where the result will be written, for the relative path).
 * Only the `datasource` and `generator` blocks are touched, so a model field that happens to
 * be called `provider` or `output` is left alone. Throws if a block is missing, so that a
 * schema reshuffle fails here rather than silently producing a second SQLite client.
 */
export function toPostgresSchema(
  schema: string,
  schemaPath: string,
  pgOutputDir: string = pgOutput,
  sourceName = 'prisma/schema.prisma',
  previewFeatures: readonly string[] = [],
): string {
  let sawDatasource = false
  let sawGenerator = false
  const outputRel = relative(dirname(schemaPath), pgOutputDir).split('\\').join('/')
  const out = schema.replace(
    /^(\s*)(datasource|generator)(\s+\w+\s*\{)([^}]*)\}/gm,
    (_whole, indent: string, kind: string, head: string, body: string) => {
      if (kind === 'datasource') {
        sawDatasource = true
        body = body.replace(/^(\s*provider\s*=\s*)"[^"]*"/m, '$1"postgresql"')
      } else {
        sawGenerator = true
        body = body.replace(/^(\s*output\s*=\s*)"[^"]*"/m, `$1"${outputRel}"`)
        if (previewFeatures.length > 0) body = `${body.trimEnd()}\n  previewFeatures = ${JSON.stringify(previewFeatures)}\n`
      }
      return `${indent}${kind}${head}${body}}`
    },
  )
  if (!sawDatasource || !sawGenerator) {
    throw new Error(`scripts/generate.ts: expected a datasource and a generator block in ${sourceName}`)
  }
  return `// GENERATED by scripts/generate.ts from ${sourceName}: do not edit, do not commit.\n` + out
}

function runGenerate(schemaPath: string): Promise<{ ms: number; output: string }> {
  const started = performance.now()
  return new Promise((resolvePromise, reject) => {
    const child = spawn(prismaBin, ['generate', '--no-hints', '--schema', schemaPath], {
      cwd: root,
      env: {
        ...process.env,
        // Same switch as prisma.config.ts: `generate` insists on downloading the native schema
        // engine (which it never runs) unless this points at an existing file. The config sets
        // it too, because the CLI's argv contains "generate"; setting it here as well keeps this
        // script working if the config is ever changed or not loaded.
        PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      const ms = performance.now() - started
      if (code === 0) resolvePromise({ ms, output })
      else reject(new Error(`prisma generate --schema ${relative(root, schemaPath)} exited with ${code}\n${output}`))
    })
  })
}

/** Everything the generated code depends on, hashed: if it is unchanged the outputs are too. */
function inputsFingerprint(schema: string): string {
  const hash = createHash('sha256')
  hash.update(schema)
  hash.update(readFileSync(fileURLToPath(import.meta.url)))
  for (const pkg of ['prisma', '@prisma/client']) {
    const { version } = JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as {
      version: string
    }
    hash.update(`${pkg}@${version}`)
  }
  return hash.digest('hex')
}

async function main(): Promise<void> {
  const started = performance.now()
  const force = process.argv.includes('--force')
  mkdirSync(generatedDir, { recursive: true })

  const stale: { target: Target; fingerprint: string }[] = []
  for (const target of targets) {
    const source = readFileSync(target.schemaPath, 'utf8')
    const pgSchema = toPostgresSchema(source, target.pgSchemaPath, target.pgOutput, relative(root, target.schemaPath))
    // Only rewrite when it changed: keeps the file's mtime stable for watchers.
    if (!existsSync(target.pgSchemaPath) || readFileSync(target.pgSchemaPath, 'utf8') !== pgSchema) {
      writeFileSync(target.pgSchemaPath, pgSchema)
    }
    if (target.pgJoins !== undefined) {
      const joins = toPostgresSchema(source, target.pgJoins.schemaPath, target.pgJoins.output, relative(root, target.schemaPath), ['relationJoins'])
      if (!existsSync(target.pgJoins.schemaPath) || readFileSync(target.pgJoins.schemaPath, 'utf8') !== joins) writeFileSync(target.pgJoins.schemaPath, joins)
    }
    const fingerprint = inputsFingerprint(source)
    const upToDate =
      !force &&
      existsSync(join(target.sqliteOutput, 'client.ts')) &&
      existsSync(join(target.pgOutput, 'client.ts')) &&
      (target.pgJoins === undefined || existsSync(join(target.pgJoins.output, 'client.ts'))) &&
      existsSync(stampPath(target)) &&
      readFileSync(stampPath(target), 'utf8') === fingerprint
    if (!upToDate) stale.push({ target, fingerprint })
  }
  const outputs = (target: Target) => [target.sqliteOutput, target.pgOutput].map((dir) => relative(root, dir))
  if (stale.length === 0) {
    console.log(`Prisma clients up to date (${targets.flatMap(outputs).join(', ')}); --force to regenerate`)
    return
  }

  // `--schema` overrides the `schema` entry of prisma.config.ts (checked: the CLI reports
  // "Prisma schema loaded from <the --schema path>" and the output lands where that file says).
  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`
  const runs = await Promise.all(
    stale.map(async ({ target, fingerprint }) => {
      const [sqlite, pg] = await Promise.all([
        runGenerate(target.schemaPath),
        runGenerate(target.pgSchemaPath),
        ...(target.pgJoins === undefined ? [] : [runGenerate(target.pgJoins.schemaPath)]),
      ])
      // Written only once both outputs exist: a failed run leaves the target stale.
      writeFileSync(stampPath(target), fingerprint)
      const [sqliteDir, pgDir] = outputs(target)
      return `sqlite -> ${sqliteDir} (${fmt(sqlite.ms)}), postgresql -> ${pgDir} (${fmt(pg.ms)})`
    }),
  )
  console.log(`Generated Prisma clients: ${runs.join('; ')}; total ${fmt(performance.now() - started)}`)
}

// Run only when executed directly (toPostgresSchema is importable without side effects).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exit(1)
  })
}
