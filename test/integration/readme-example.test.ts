import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { pushSchema } from '../../scripts/schema-engine.ts'

/**
 * The README's first example, run as written (its imports pointed at this project) on a SQLite
 * file of its own holding user 1: the comments say database, cache, database again, and the
 * counters it prints must say the same.
 */
const root = join(import.meta.dirname, '..', '..')

describe("the README's example", () => {
  it('runs as written and prints the counters its comments promise', { timeout: 60_000 }, async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    const example = /## Example\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)![1]!
    expect(example).toContain("from './generated/prisma/client'")
    mkdirSync(join(root, '.tmp'), { recursive: true })
    const work = mkdtempSync(join(root, '.tmp', 'readme-'))
    try {
      const url = `file:${join(work, 'dev.db')}`
      await pushSchema({ provider: 'sqlite', url, schema: readFileSync(join(root, 'prisma', 'schema.prisma'), 'utf8') })
      const client = pathToFileURL(join(root, 'src', 'generated', 'prisma', 'client.ts')).href
      const seed = join(work, 'seed.ts')
      writeFileSync(
        seed,
        `import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaClient } from ${JSON.stringify(client)}
const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: ${JSON.stringify(url)} }) })
await prisma.user.create({ data: { id: 1, email: 'ada@example.com' } })
await prisma.$disconnect()
`,
      )
      expect(spawnSync(process.execPath, ['--import', 'tsx', seed], { cwd: root, encoding: 'utf8' }).status).toBe(0)
      const file = join(work, 'example.ts')
      writeFileSync(
        file,
        example
          .replace("from 'prisma-prefetch'", `from ${JSON.stringify(pathToFileURL(join(root, 'src', 'index.ts')).href)}`)
          .replace("from './generated/prisma/client'", `from ${JSON.stringify(client)}`)
          .replace("'file:./dev.db'", JSON.stringify(url)),
      )
      const run = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8' })
      expect(run.stderr).toBe('')
      expect(run.status).toBe(0)
      // The top-level counters of the printed snapshot (two spaces in; byModel's are deeper).
      const top = Object.fromEntries([...run.stdout.matchAll(/^ {2}(\w+): (\d+),?$/gm)].map((m) => [m[1], Number(m[2])]))
      expect(top).toMatchObject({ reads: 3, hits: 1, misses: 2, writes: 1 })
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  })
})
