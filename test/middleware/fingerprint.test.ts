import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import { describe, expect, it } from 'vitest'
import { PrismaClient } from '../../src/generated/prisma/client.ts'
import { PrismaClient as PgClient } from '../../src/generated/prisma-pg/client.ts'
import { resultFingerprint } from '../../src/middleware/fingerprint.ts'

// Real generated clients, never connected: nothing here queries.
const sqlite = (options: object = {}) => new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: ':memory:' }), ...options })
const client = sqlite() as unknown as Record<string, any>

/** The client's internals the fingerprint reads, as plain data, with `change` applied. */
function variant(change: (internals: Record<string, any>) => void) {
  const internals = structuredClone({
    _runtimeDataModel: client._runtimeDataModel,
    _globalOmit: client._globalOmit,
    _activeProvider: client._activeProvider,
    _clientVersion: client._clientVersion,
    _previewFeatures: client._previewFeatures,
    _engineConfig: {
      inlineSchema: client._engineConfig.inlineSchema,
      activeProvider: client._engineConfig.activeProvider,
      accelerateUrl: client._engineConfig.accelerateUrl,
      adapter: { provider: client._engineConfig.adapter.provider, adapterName: client._engineConfig.adapter.adapterName },
    },
  })
  change(internals)
  return resultFingerprint(internals)
}
const base = resultFingerprint(client)
const schemaEdit = (edit: (schema: string) => string) => (internals: Record<string, any>) => {
  internals._engineConfig.inlineSchema = edit(internals._engineConfig.inlineSchema)
}

describe('resultFingerprint', () => {
  it('is stable: the same for two clients of one configuration, and for the same internals as data', () => {
    expect(base).toMatch(/^[\w-]{16}$/)
    expect(resultFingerprint(sqlite())).toBe(base)
    expect(variant(() => {})).toBe(base)
    // Options that shape no cached result leave it alone.
    expect(resultFingerprint(sqlite({ errorFormat: 'pretty', log: ['warn'], transactionOptions: { timeout: 9000 } }))).toBe(base)
  })

  it('changes with the global omit', () => {
    const omitting = resultFingerprint(sqlite({ omit: { user: { email: true } } }))
    expect(omitting).not.toBe(base)
    expect(resultFingerprint(sqlite({ omit: { user: { email: true } } }))).toBe(omitting)
    expect(resultFingerprint(sqlite({ omit: { user: { name: true } } }))).not.toBe(omitting)
  })

  it('changes with the provider and the adapter', () => {
    const pg = new PgClient({ adapter: new PrismaPg({ connectionString: 'postgresql://nobody@127.0.0.1:1/none' }) })
    expect(resultFingerprint(pg)).not.toBe(base)
    expect(variant((c) => (c._engineConfig.adapter.adapterName = '@prisma/adapter-libsql'))).not.toBe(base)
    expect(variant((c) => (c._engineConfig.accelerateUrl = 'prisma://accelerate.example/?api_key=x'))).not.toBe(base)
  })

  it('changes with the Prisma version and preview features', () => {
    expect(variant((c) => (c._clientVersion = '7.99.0'))).not.toBe(base)
    expect(variant((c) => (c._previewFeatures = ['relationJoins']))).not.toBe(base)
  })

  it('changes with every schema change that can shape a result, not with comments or the generator', () => {
    const changes: Array<[string, (c: Record<string, any>) => void]> = [
      ['a field added to the data model', (c) => c._runtimeDataModel.models.Tag.fields.push({ name: 'slug', kind: 'scalar', type: 'String' })],
      ['a field type changed', (c) => (c._runtimeDataModel.models.Tag.fields.find((f: any) => f.name === 'name').type = 'Int')],
      ['a model mapped to another table', (c) => (c._runtimeDataModel.models.Tag.dbName = 'labels')],
      ['an enum value added', schemaEdit((s) => s.replace(/enum Role \{/, 'enum Role {\n  GUEST'))],
      ['a field made optional', schemaEdit((s) => s.replace(/(\n\s*name\s+)String(\s)/, '$1String?$2'))],
    ]
    const seen = new Set([base])
    for (const [name, change] of changes) {
      const fingerprint = variant(change)
      expect(seen.has(fingerprint), name).toBe(false)
      seen.add(fingerprint)
    }
    expect(variant(schemaEdit((s) => `// a new comment\n${s.replace(/\n/g, '\n\n')}  // and another`))).toBe(base)
    expect(variant(schemaEdit((s) => s.replace(/output\s*=\s*"[^"]*"/, 'output = "../elsewhere"')))).toBe(base)
  })
})
