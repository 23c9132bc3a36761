import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { pushSchema } from '../../scripts/schema-engine.ts'
import { packLibrary, root } from '../support/pack.ts'
import { readmeFence } from '../support/readme-client.ts'

/**
 * A newcomer's first hour: the README followed literally in an empty folder, with the package as
 * users get it (packed). Its commands, its schema, its prisma.config.ts and its first example are
 * taken from its code blocks, so the test fails when the README drifts. Two departures, both
 * because this machine cannot download Prisma's engines (and better-sqlite3's prebuilt binary):
 * - `npx prisma generate` is run as docs/offline-generate.md says for such a machine (its shell
 *   line), and `npx prisma db push` is done with Prisma's schema engine compiled to WebAssembly
 *   (scripts/schema-engine.ts), on the database the README's prisma.config.ts names;
 * - `npm install` runs with --ignore-scripts, and better-sqlite3's native module (which the
 *   adapter's install would compile for a minute and a half) is copied from this project's
 *   install when it is the same version, rebuilt otherwise.
 */
const work = mkdtempSync(join(tmpdir(), 'prisma-prefetch-first-hour-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const offlineDoc = readFileSync(join(root, 'docs', 'offline-generate.md'), 'utf8')

/** Runs one line of shell in the app's folder, as a user types it; its output. */
const shell = (line: string, cwd: string, env: NodeJS.ProcessEnv = process.env) =>
  execFileSync('sh', ['-c', line], { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

/** better-sqlite3 installed anywhere under `modules` (the adapter may nest its own). */
function betterSqlite3s(modules: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue
    const dir = join(modules, entry.name)
    if (entry.name.startsWith('@')) found.push(...betterSqlite3s(dir))
    else {
      if (entry.name === 'better-sqlite3') found.push(dir)
      if (existsSync(join(dir, 'node_modules'))) found.push(...betterSqlite3s(join(dir, 'node_modules')))
    }
  }
  return found
}
const versionIn = (dir: string) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version

describe("the README's first hour", () => {
  it('from an empty folder to a read served from the cache, as the README says', { timeout: 600_000 }, async () => {
    const tarball = packLibrary(work)
    const app = join(work, 'shop')
    mkdirSync(app)

    // "From an empty folder": the README's commands, the package from its tarball.
    const commands = readmeFence('sh', 'npm init -y')
      .split('\n')
      .filter((line) => line.trim() !== '')
    expect(commands).toHaveLength(3)
    for (const command of commands) {
      const line = command.startsWith('npm install')
        ? `${command.replace(/(?<= )prisma-prefetch(?= |$)/, tarball)} --no-audit --no-fund --prefer-offline --ignore-scripts`
        : command
      shell(line, app)
    }
    expect(commands[1]).toMatch(/^npm install prisma-prefetch /)
    const modules = join(app, 'node_modules')
    expect(existsSync(join(modules, 'prisma-prefetch', 'dist', 'index.js'))).toBe(true)
    // The embedded default needs no keyv (an optional peer).
    expect(existsSync(join(modules, 'keyv'))).toBe(false)
    const sqlite = betterSqlite3s(modules)
    expect(sqlite.length).toBeGreaterThan(0)
    for (const dir of sqlite) {
      const built = join(root, 'node_modules', 'better-sqlite3')
      if (versionIn(dir) === versionIn(built)) {
        mkdirSync(join(dir, 'build', 'Release'), { recursive: true })
        copyFileSync(join(built, 'build', 'Release', 'better_sqlite3.node'), join(dir, 'build', 'Release', 'better_sqlite3.node'))
      } else shell('npm rebuild better-sqlite3', app)
    }

    // The schema and prisma.config.ts the README shows.
    const schema = readmeFence('prisma', 'generator client')
    mkdirSync(join(app, 'prisma'))
    writeFileSync(join(app, 'prisma', 'schema.prisma'), schema)
    const config = readmeFence('ts', "import { defineConfig } from 'prisma/config'")
    writeFileSync(join(app, 'prisma.config.ts'), config)

    // "Then `npx prisma generate`": offline, the shell line docs/offline-generate.md gives, with
    // every engine download pointed at a closed port (so the test means the same anywhere).
    expect(readme).toMatch(/Then `npx prisma generate`[^]*`npx prisma db push`/)
    const generate = [...offlineDoc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim()).find((line) => line.includes('PRISMA_SCHEMA_ENGINE_BINARY'))
    expect(generate).toMatch(/npx prisma generate$/)
    const env: NodeJS.ProcessEnv = { ...process.env, PRISMA_ENGINES_MIRROR: 'http://127.0.0.1:9', PRISMA_HIDE_UPDATE_MESSAGE: '1' }
    delete env.PRISMA_SCHEMA_ENGINE_BINARY
    expect(shell(generate!, app, env)).toMatch(/Generated Prisma Client/)
    expect(existsSync(join(app, 'src', 'generated', 'prisma', 'client.ts'))).toBe(true)

    // "and `npx prisma db push`": the README's schema into the database its prisma.config.ts names.
    const url = /url: '(file:[^']+)'/.exec(config)?.[1]
    expect(url).toBe('file:./dev.db')
    const database = resolve(app, url!.slice('file:'.length))
    await pushSchema({ provider: 'sqlite', url: `file:${database}`, schema })
    expect(existsSync(database)).toBe(true)

    // "Put the example in `src/main.ts`, run `npx tsx src/main.ts`": the README's first example, unchanged.
    expect(readme).toContain('Put the example in `src/main.ts`, run\n`npx tsx src/main.ts`')
    const example = /## Example\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)![1]!
    writeFileSync(join(app, 'src', 'main.ts'), example)
    // A spy at the driver: every statement better-sqlite3 prepares for the process that ran the
    // queries is counted (preloaded through NODE_OPTIONS, so the command stays the README's).
    const counts = join(work, 'statements.txt')
    const spy = join(work, 'count-statements.mjs')
    writeFileSync(
      spy,
      `import { appendFileSync } from 'node:fs'
import { createRequire } from 'node:module'
const Database = createRequire(${JSON.stringify(join(modules, '@prisma', 'adapter-better-sqlite3', 'package.json'))})('better-sqlite3')
const prepare = Database.prototype.prepare
let statements = 0
Database.prototype.prepare = function (...args) {
  statements++
  return prepare.apply(this, args)
}
process.on('exit', () => statements > 0 && appendFileSync(${JSON.stringify(counts)}, statements + '\\n'))
`,
    )
    const empty = `${database}.empty`
    copyFileSync(database, empty)
    /** Runs `src/main.ts` as the README says, on the database as db push left it; its output and the statements it sent. */
    const runMain = () => {
      copyFileSync(empty, database)
      rmSync(counts, { force: true })
      const run = spawnSync('sh', ['-c', 'npx tsx src/main.ts'], { cwd: app, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: `--import=${spy}` } })
      const lines = existsSync(counts) ? readFileSync(counts, 'utf8').trim().split('\n') : []
      expect(lines).toHaveLength(1)
      return { ...run, statements: Number(lines[0]) }
    }
    const run = runMain()
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)

    // What its comments promise: database, cache, database again after the write. The counters
    // it prints (two spaces in; byModel's are deeper) say so.
    const top = Object.fromEntries([...run.stdout.matchAll(/^ {2}(\w+): (\d+),?$/gm)].map((m) => [m[1], Number(m[2])]))
    expect(top).toMatchObject({ reads: 3, hits: 1, misses: 2, writes: 1 })
    expect(example).toContain('// { reads: 3, hits: 1, misses: 2, writes: 1, ... }')

    // And so does the database: the same code on the bare client (no prefetch(), no stats line)
    // sends it one statement more, the read the cache served.
    const bare = example.replace('base.$extends(prefetch())', 'base').replace(/^console\.log\(prisma\.\$prefetch\.stats\(\)\).*$/m, '')
    expect(bare).not.toContain('$prefetch')
    writeFileSync(join(app, 'src', 'main.ts'), bare)
    const control = runMain()
    expect(control.stderr).toBe('')
    expect(control.status).toBe(0)
    expect(control.statements - run.statements).toBe(1)
  })
})
