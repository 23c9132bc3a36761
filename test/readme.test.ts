import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULTS, KNOWN_OPTIONS, resolveOptions } from '../src/options.ts'

/**
 * The option tables cannot drift from the code: every option is listed once, and every default
 * shown is the one resolveOptions() applies (the README's options, the `learn` options in
 * docs/how-it-works.md, which the README links).
 */
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const howItWorks = readFileSync(new URL('../docs/how-it-works.md', import.meta.url), 'utf8')

/**
 * The rows of the tables after `heading` up to the next heading of its level or above (the README
 * splits its options into one table per theme): names (a cell may list several, `a` / `b`) and
 * their defaults.
 */
function table(heading: string, text = readme): Map<string, string> {
  const start = text.indexOf(heading)
  expect(start).toBeGreaterThan(-1)
  const level = heading.indexOf(' ')
  const rows = new Map<string, string>()
  for (const line of text.slice(start).split('\n').slice(1)) {
    const hashes = /^(#+) /.exec(line)?.[1].length
    if (hashes !== undefined && hashes <= level) break
    if (!line.startsWith('|')) continue
    const [name, value] = line.split('|').slice(1, 3).map((cell) => cell.trim())
    if (!name.startsWith('`') || value === 'default') continue
    const names = name.split(' / ').map((n) => n.replace(/`/g, ''))
    const values = names.length > 1 ? value.split(' / ') : [value]
    names.forEach((n, i) => rows.set(n, values[i].replace(/`/g, '')))
  }
  return rows
}

/** A default as the README writes it, as a value: `64 MiB`, `{ global: 8 }`, `'strict'`. */
const valueOf = (cell: string): unknown => new Function(`return (${cell.replace(/(\d+) MiB/g, '($1 * 1024 * 1024)')})`)()

describe('the README', () => {
  const resolved = resolveOptions(undefined) as unknown as Record<string, unknown>
  const options = table('### Options')

  it('lists every option once, and nothing else', () => {
    expect([...options.keys()].sort()).toEqual([...KNOWN_OPTIONS].sort())
  })

  it('splits the options by theme, each option in one theme', () => {
    const themes = ['#### Cache', '#### Learning', '#### Speculation', '#### Store and sharing']
    const seen: string[] = []
    for (const theme of themes) {
      const rows = [...table(theme).keys()]
      expect(rows.length, theme).toBeGreaterThan(0)
      seen.push(...rows)
    }
    seen.push(...table('#### Errors, telemetry, clock').keys())
    expect(seen.sort()).toEqual([...KNOWN_OPTIONS].sort())
  })

  it('shows the defaults the code applies', () => {
    const described: Record<string, (cell: string) => void> = {
      cache: (cell) => {
        expect(cell).toMatch(/^none/)
        expect(resolved.cache).toBeUndefined()
      },
      consistency: (cell) => {
        expect(cell).toBe("'strict'")
        expect(resolved.maxStalenessMs).toBeUndefined()
      },
      models: (cell) => {
        expect(cell).toMatch(/^every model/)
        expect((resolved.models as Map<string, unknown>).size).toBe(0)
      },
      learn: (cell) => {
        expect(cell).toBe('true')
        expect(resolved.learn).toEqual(DEFAULTS.learn)
      },
      targetPrecision: (cell) => {
        expect(cell).toMatch(/^none/)
        expect(resolved.targetPrecision).toBeUndefined()
      },
      rules: (cell) => {
        expect(cell).toMatch(/^none/)
        expect(resolved.rules).toEqual([])
      },
      scope: (cell) => {
        expect(cell).toBe("''")
        expect((resolved.scope as (c: object) => string)({})).toBe('')
      },
      onError: (cell) => expect(cell).toMatch(/^none/),
      now: (cell) => {
        expect(cell).toBe('Date.now')
        expect(resolved.now).toBe(Date.now)
      },
    }
    for (const [name, cell] of options) {
      if (described[name]) described[name](cell)
      else expect({ [name]: valueOf(cell) }).toEqual({ [name]: resolved[name] })
    }
  })

  it('links the learn options, and docs/how-it-works.md lists every one with its default', () => {
    expect(readme).toContain('(docs/how-it-works.md#learn-options)')
    const learn = table('### `learn` options', howItWorks)
    expect([...learn.keys()].sort()).toEqual(Object.keys(DEFAULTS.learn).sort())
    for (const [name, cell] of learn) expect({ [name]: valueOf(cell) }).toEqual({ [name]: DEFAULTS.learn[name as keyof typeof DEFAULTS.learn] })
  })
})

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-')

describe('the links of the README and docs/', () => {
  const root = join(import.meta.dirname, '..')
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join('docs', name))]
  const anchors = (file: string) => {
    const text = readFileSync(join(root, file), 'utf8').replace(/^ {0,3}(`{3,})[^]*?^ {0,3}\1/gm, '')
    return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1]!)))
  }

  it('finds the anchors GitHub makes', () => {
    expect(anchorOf('`learn` options')).toBe('learn-options')
    expect(anchorOf('What it did: `stats()`')).toBe('what-it-did-stats')
  })

  it.each(files)('%s: every relative link names a file that exists, and a heading of it', (file) => {
    const text = readFileSync(join(root, file), 'utf8').replace(/^ {0,3}(`{3,})[^]*?^ {0,3}\1/gm, '')
    const broken: string[] = []
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue
      const [path, anchor] = target!.split('#') as [string, string | undefined]
      const resolved = path === '' ? file : join(dirname(file), path)
      if (!existsSync(join(root, resolved))) broken.push(`${target}: no file ${resolved}`)
      else if (anchor !== undefined && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) broken.push(`${target}: no heading #${anchor} in ${resolved}`)
    }
    expect(broken).toEqual([])
  })
})
