import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

/**
 * docs/offline-generate.md, followed literally in a fresh project: its `prisma.config.ts` and
 * its generator block, then `prisma generate`, with every engine download pointed at a closed
 * port (so the test means the same on a machine that could download), and a query through the
 * generated client.
 */
const root = join(import.meta.dirname, '..', '..')
const doc = readFileSync(join(root, 'docs', 'offline-generate.md'), 'utf8')
const work = mkdtempSync(join(tmpdir(), 'prisma-prefetch-offline-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** The fenced blocks of `language` in the page, in order. */
const blocks = (language: string) => [...doc.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1]!)

describe('docs/offline-generate.md', () => {
  it('its prisma.config.ts lets prisma generate run where no engine can be downloaded', { timeout: 120_000 }, () => {
    const [config] = blocks('ts')
    const [generator] = blocks('prisma')
    expect(config).toMatch(/PRISMA_SCHEMA_ENGINE_BINARY/)
    writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'offline-app', private: true, type: 'module' }))
    symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'), 'dir')
    writeFileSync(join(work, 'prisma.config.ts'), config!)
    mkdirSync(join(work, 'prisma'))
    writeFileSync(
      join(work, 'prisma', 'schema.prisma'),
      `${generator}\ndatasource db {\n  provider = "sqlite"\n}\n\nmodel Note {\n  id   Int    @id @default(autoincrement())\n  text String\n}\n`,
    )
    const env: NodeJS.ProcessEnv = { ...process.env, PRISMA_ENGINES_MIRROR: 'http://127.0.0.1:9', PRISMA_HIDE_UPDATE_MESSAGE: '1' }
    delete env.PRISMA_SCHEMA_ENGINE_BINARY
    const generate = spawnSync(process.execPath, [join(root, 'node_modules', 'prisma', 'build', 'index.js'), 'generate'], { cwd: work, env, encoding: 'utf8' })
    expect(generate.stdout + generate.stderr).toMatch(/Generated Prisma Client/)
    expect(generate.status).toBe(0)
    expect(existsSync(join(work, 'src', 'generated', 'prisma', 'client.ts'))).toBe(true)

    // The client runs (its runtime is WebAssembly: nothing native was needed).
    const adapter = pathToFileURL(join(root, 'node_modules', '@prisma', 'adapter-better-sqlite3', 'dist', 'index.mjs')).href
    writeFileSync(
      join(work, 'main.ts'),
      `import { PrismaBetterSqlite3 } from ${JSON.stringify(adapter)}
import { PrismaClient } from './src/generated/prisma/client.ts'
const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: 'file:' + ${JSON.stringify(join(work, 'notes.db'))} }) })
const [row] = (await prisma.$queryRawUnsafe('SELECT 1 + 1 AS two')) as Array<{ two: unknown }>
console.log(String(row.two))
await prisma.$disconnect()
`,
    )
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'main.ts'], { cwd: work, encoding: 'utf8' })
    expect(run.stderr).toBe('')
    expect(run.stdout.trim()).toBe('2')
  })
})
