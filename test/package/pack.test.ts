import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { pushSchema } from '../../scripts/schema-engine.ts'
import { npm, packLibrary, root, versionOf } from '../support/pack.ts'

/**
 * The package as users get it: built, `npm pack`ed, installed from the tarball into a
 * separate project with its one required peer (@prisma/client, not keyv); that project
 * type-checks against the published declarations and runs queries through the extension.
 */
const work = mkdtempSync(join(tmpdir(), 'prisma-prefetch-pack-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('the packed package', () => {
  it('installs into another project, type-checks there and runs a query', { timeout: 240_000 }, async () => {
    const tarball = basename(packLibrary(work))
    const files = execFileSync('tar', ['tzf', join(work, tarball)], { encoding: 'utf8' }).split('\n')
    expect(files).toContain('package/dist/index.js')
    expect(files).toContain('package/dist/index.d.ts')
    expect(files).toContain('package/dist/cli.js')
    expect(files.filter((f) => /^package\/(src|test|bench)\//.test(f))).toEqual([])
    // Nothing of the project's own tooling runs in a user's install (nor in a git install, which
    // runs prepare): the published package.json has no install script at all.
    const published = JSON.parse(execFileSync('tar', ['xzOf', join(work, tarball), 'package/package.json'], { encoding: 'utf8' })) as {
      scripts?: Record<string, string>
      peerDependenciesMeta?: Record<string, { optional?: boolean }>
    }
    const installScripts = ['preinstall', 'install', 'postinstall', 'preprepare', 'prepare', 'postprepare']
    expect(Object.keys(published.scripts ?? {}).filter((name) => installScripts.includes(name))).toEqual([])
    // Only a shared store needs keyv: the app below installs without it.
    expect(published.peerDependenciesMeta?.keyv?.optional).toBe(true)

    const app = join(work, 'app')
    cpSync(join(root, 'src', 'generated', 'prisma'), join(app, 'generated'), { recursive: true })
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
    // Without keyv: the library must load and run on its embedded default without it.
    npm(['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, tarball), `@prisma/client@${versionOf('@prisma/client')}`], app)
    expect(existsSync(join(app, 'node_modules', 'keyv'))).toBe(false)

    // Types: the published declarations, in a project without allowImportingTsExtensions.
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: [] }, files: ['types.ts'] }),
    )
    writeFileSync(
      join(app, 'types.ts'),
      `import { prefetch, rule, type PrefetchOptions, type PrefetchStats } from 'prisma-prefetch'
const options: PrefetchOptions = { ttl: 5000, rules: [rule('User.findUnique').then('Post.findMany', ({ result }) => ({ where: { authorId: result.id } }))] }
export const extension = prefetch(options)
export type Stats = PrefetchStats
`,
    )
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { encoding: 'utf8' })
    expect(tsc.stdout + tsc.stderr).toBe('')

    // A query through it: the generated client (its runtime from the app's @prisma/client) on SQLite.
    const url = `file:${join(work, 'app.db')}`
    await pushSchema({ provider: 'sqlite', url, schema: readFileSync(join(root, 'prisma', 'schema.prisma'), 'utf8') })
    const adapter = pathToFileURL(join(root, 'node_modules', '@prisma', 'adapter-better-sqlite3', 'dist', 'index.mjs')).href
    writeFileSync(
      join(app, 'main.mjs'),
      `import { prefetch } from 'prisma-prefetch'
import { PrismaBetterSqlite3 } from ${JSON.stringify(adapter)}
import { PrismaClient } from './generated/client.ts'
const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: ${JSON.stringify(url)} }) }).$extends(prefetch())
const { id } = await prisma.user.create({ data: { email: 'packed@example.com' } })
const first = await prisma.user.findUnique({ where: { id } })
const second = await prisma.user.findUnique({ where: { id } })
const text = (value) => JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? String(v) : v))
console.log(text({ same: text(first) === text(second), email: second.email, stats: prisma.$prefetch.stats() }))
await prisma.$prefetch.close()
await prisma.$disconnect()
`,
    )
    const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs')).href
    const run = spawnSync(process.execPath, ['--import', tsx, 'main.mjs'], { cwd: app, encoding: 'utf8' })
    expect(run.stderr).toBe('')
    const out = JSON.parse(run.stdout) as { same: boolean; email: string; stats: { hits: number; misses: number } }
    expect(out).toMatchObject({ same: true, email: 'packed@example.com', stats: { hits: 1, misses: 1 } })

    // The command is installed too.
    const bin = spawnSync(join(app, 'node_modules', '.bin', 'prisma-prefetch'), ['--help'], { encoding: 'utf8' })
    expect(bin.status).toBe(0)
    expect(bin.stderr).toMatch(/usage: prisma-prefetch report/)
  })
})
