// `npm run build`: compiles src/ to ESM and type declarations in dist/. tsc rewrites the `.ts`
// extensions of relative imports in the JavaScript it emits but leaves them in declaration files,
// where a consumer's TypeScript (without allowImportingTsExtensions) would not accept them; they
// are rewritten to `.js` here, as the emitted JavaScript has them.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const dist = new URL('../dist/', import.meta.url).pathname
rmSync(dist, { recursive: true, force: true })
execFileSync(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' })

let rewritten = 0
for (const entry of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
  if (!entry.endsWith('.d.ts')) continue
  const file = join(dist, entry)
  const text = readFileSync(file, 'utf8')
  const fixed = text.replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+)\.ts\2/g, (_m, lead, quote, path) => `${lead}${quote}${path}.js${quote}`)
  if (fixed !== text) {
    writeFileSync(file, fixed)
    rewritten++
  }
}
console.log(`build: dist/ written (${rewritten} declaration files had their imports rewritten to .js)`)
