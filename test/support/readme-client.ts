// The README's own code, for tests that run it as written: a fenced block of README.md found by
// the text it starts with, and one statement of it found by the text that statement starts with.
import { readFileSync } from 'node:fs'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

/** The ```ts block of the README whose first line starts with `opening` (a comment naming it). */
export function readmeBlock(opening: string): string {
  return readmeFence('ts', opening)
}

/** The one fenced block of `language` (`ts`, `sh`, `prisma`) of the README that starts with `opening`. */
export function readmeFence(language: string, opening: string): string {
  const blocks = [...readme.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!)
  const found = blocks.filter((block) => block.startsWith(opening))
  if (found.length !== 1) throw new Error(`README.md: expected one \`\`\`${language} block starting with ${JSON.stringify(opening)}, found ${found.length}`)
  return found[0]!
}

/** The line of a README block that starts with `start` (a one-line statement such as `app.use(...)`). */
export function readmeLine(block: string, start: string): string {
  const lines = block.split('\n').filter((line) => line.startsWith(start))
  if (lines.length !== 1) throw new Error(`README.md: expected one line starting with ${JSON.stringify(start)} in the block, found ${lines.length}`)
  return lines[0]
}
