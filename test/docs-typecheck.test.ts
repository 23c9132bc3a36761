import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

/**
 * Every TypeScript block of the README and of docs/*.md compiles under `strict`, as a reader would
 * paste it. Each block is a module of its own placed in src/, so `'prisma-prefetch'` resolves to
 * src/index.ts (through `paths`) and `'./generated/prisma/client'` to the generated test client.
 * A fragment declares what it uses in a preamble: an HTML comment right above its fence,
 *
 *   <!-- preamble
 *   declare const email: string
 *   -->
 *   ```ts
 *
 * whose lines are prepended to the block, or on one line, as most fragments do with the clients
 * of test/docs-client.ts: `<!-- preamble: import { prisma } from '../test/docs-client.ts' -->`
 * (docs/contributing.md, "The docs are checked").
 */
const root = join(import.meta.dirname, '..')

interface DocBlock {
  /** The Markdown file, relative to the project. */
  file: string
  /** 1-based line of the opening fence. */
  line: number
  code: string
  preamble: string
  /** 1-based line of the preamble's first line of code (0 without one). */
  preambleLine: number
}

/** The ```ts / ```typescript blocks of one Markdown text (not those nested in another fence). */
function docBlocks(file: string, text: string): DocBlock[] {
  const lines = text.split('\n')
  const blocks: DocBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]!)
    if (open === null) continue
    const fence = open[1]!
    const info = open[2]!.toLowerCase()
    let end = i + 1
    const closes = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`)
    while (end < lines.length && !closes.test(lines[end]!)) end++
    if (info === 'ts' || info === 'typescript') {
      let preamble = ''
      let preambleLine = 0
      const oneLine = i > 0 ? /^<!--\s*preamble:\s*(.*?)\s*-->\s*$/.exec(lines[i - 1]!) : null
      if (oneLine !== null) {
        preamble = oneLine[1]!
        preambleLine = i
      } else if (i > 0 && lines[i - 1]!.trim() === '-->') {
        let start = i - 2
        while (start >= 0 && !lines[start]!.startsWith('<!--')) start--
        if (start >= 0 && /^<!--\s*preamble\s*$/.test(lines[start]!)) {
          preamble = lines.slice(start + 1, i - 1).join('\n')
          preambleLine = start + 2
        }
      }
      blocks.push({ file, line: i + 1, code: lines.slice(i + 1, end).join('\n'), preamble, preambleLine })
    }
    i = end
  }
  return blocks
}

interface BlockError {
  /** `file:line` in the Markdown file. */
  at: string
  message: string
}

/** Type-checks blocks in one program; the errors of each block, keyed by its index. */
function checkBlocks(blocks: readonly DocBlock[]): BlockError[][] {
  const virtual = new Map<string, { block: DocBlock; text: string; preambleLines: number }>()
  const names = blocks.map((block, index) => {
    const name = join(root, 'src', `docs-block-${index}-${block.file.replace(/\W/g, '_')}-${block.line}.ts`)
    const preambleLines = block.preamble === '' ? 0 : block.preamble.split('\n').length
    // `export {}` makes a block without imports a module too (top-level await, no global names).
    const text = `${block.preamble === '' ? '' : `${block.preamble}\n`}${block.code}\nexport {}\n`
    virtual.set(name, { block, text, preambleLines })
    return name
  })
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts'],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    moduleDetection: ts.ModuleDetectionKind.Force,
    strict: true,
    noImplicitOverride: true,
    esModuleInterop: true,
    skipLibCheck: true,
    allowImportingTsExtensions: true,
    resolveJsonModule: true,
    noEmit: true,
    types: ['node'],
    baseUrl: root,
    paths: { 'prisma-prefetch': ['./src/index.ts'] },
  }
  const host = ts.createCompilerHost(options, true)
  const { getSourceFile, fileExists, readFile } = host
  host.fileExists = (name) => virtual.has(name) || fileExists.call(host, name)
  host.readFile = (name) => virtual.get(name)?.text ?? readFile.call(host, name)
  host.getSourceFile = (name, language, ...rest) => {
    const entry = virtual.get(name)
    return entry !== undefined ? ts.createSourceFile(name, entry.text, language, true) : getSourceFile.call(host, name, language, ...rest)
  }
  const program = ts.createProgram({ rootNames: names, options, host })
  return names.map((name) => {
    const { block, preambleLines } = virtual.get(name)!
    const source = program.getSourceFile(name)!
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]
    return diagnostics.map((diagnostic) => {
      const line = diagnostic.start === undefined ? 0 : source.getLineAndCharacterOfPosition(diagnostic.start).line
      const mdLine = line < preambleLines ? block.preambleLine + line : block.line + 1 + line - preambleLines
      return {
        at: `${block.file}:${mdLine}`,
        message: `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
      }
    })
  })
}

const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => join('docs', name))]
const blocks = files.flatMap((file) => docBlocks(file, readFileSync(join(root, file), 'utf8')))

describe('the TypeScript blocks of the README and docs/', () => {
  // One program for every block: the generated client's types are read once.
  let results: BlockError[][] | undefined
  const errorsOf = (index: number) => (results ??= checkBlocks(blocks))[index]!

  it('finds the blocks, and a preamble where one is given', () => {
    expect(blocks.filter((b) => b.file === 'README.md').length).toBeGreaterThanOrEqual(5)
    expect(blocks.some((b) => b.preamble !== '')).toBe(true)
    const [block] = docBlocks('x.md', 'text\n<!-- preamble\ndeclare const a: number\n-->\n```ts\na.toFixed()\n```\n````md\n```ts\nnested\n```\n````\n')
    expect(block).toEqual({ file: 'x.md', line: 5, code: 'a.toFixed()', preamble: 'declare const a: number', preambleLine: 3 })
    expect(docBlocks('x.md', '````md\n```ts\nnested\n```\n````\n')).toEqual([])
    expect(docBlocks('y.md', "<!-- preamble: import { prisma } from './p' -->\n```typescript\nprisma\n```\n")).toEqual([
      { file: 'y.md', line: 2, code: 'prisma', preamble: "import { prisma } from './p'", preambleLine: 1 },
    ])
  })

  it('reports an error at its line in the Markdown file, in the block or in its preamble', { timeout: 120_000 }, () => {
    const wrong = docBlocks(
      'wrong.md',
      "# t\n<!-- preamble\nconst n: string = 1\n-->\n```ts\nconst user = null as { id: number } | null\nuser.id\n```\n<!-- preamble: import { prisma } from '../test/docs-client.ts' -->\n```ts\nprisma.post.findMany({ where: { writerId: 1 } })\n```\n",
    )
    const [errors, client] = checkBlocks(wrong)
    expect(errors!.map((e) => `${e.at} ${e.message.slice(0, 7)}`)).toEqual(['wrong.md:3 TS2322:', 'wrong.md:7 TS18047'])
    // The preamble's client is the generated one: Post has no `writerId`.
    expect(client!.map((e) => `${e.at} ${e.message.slice(0, 7)}`)).toEqual(['wrong.md:11 TS2353:'])
  })

  it.each(blocks.map((block, index) => [`${block.file}:${block.line}`, index] as const))('%s compiles', { timeout: 120_000 }, (at, index) => {
    const errors = errorsOf(index)
    expect(errors.map((e) => `${e.at}: ${e.message}`).join('\n'), `${at} does not compile`).toBe('')
  })
})
