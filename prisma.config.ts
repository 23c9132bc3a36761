import { existsSync } from 'node:fs'
import { defineConfig } from 'prisma/config'

// `prisma generate` (and validate/format/version) insist on downloading the native schema
// engine although they never run it. Pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing
// file skips the download; we only do it for those four commands so that everything else
// behaves as Prisma ships it.
const offlineSafe = ['generate', 'validate', 'format', 'version']
if (process.argv.some((arg) => offlineSafe.includes(arg)) && !process.env.PRISMA_SCHEMA_ENGINE_BINARY) {
  const anyFile = process.execPath
  if (existsSync(anyFile)) process.env.PRISMA_SCHEMA_ENGINE_BINARY = anyFile
}

export default defineConfig({
  schema: 'prisma/schema.prisma',
})
