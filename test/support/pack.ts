// The package as users get it, for the tests of test/package: built, then `npm pack`ed into a
// folder of the test's own, and the npm those tests install it with.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'

export const root = join(import.meta.dirname, '..', '..')

/** The version of a package installed in this project (to install the same one elsewhere). */
export const versionOf = (name: string): string =>
  (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version

/** Runs npm in `cwd`; its stdout (a failure throws with npm's stderr). */
export const npm = (args: string[], cwd: string): string => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

/**
 * Builds dist/ and packs the package into `destination`; the tarball's path. The test files of
 * test/package run in parallel and the build empties dist/ first, so one build and pack at a time
 * (a lock directory, taken by mkdir; one older than five minutes is left from a killed run).
 */
export function packLibrary(destination: string): string {
  const lock = join(root, '.tmp', 'pack.lock')
  mkdirSync(join(root, '.tmp'), { recursive: true })
  const pause = new Int32Array(new SharedArrayBuffer(4))
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      try {
        if (Date.now() - statSync(lock).mtimeMs > 5 * 60_000) rmSync(lock, { recursive: true, force: true })
      } catch {
        // Released between the two calls: try again.
      }
      Atomics.wait(pause, 0, 0, 200)
    }
  }
  try {
    // Built here, then packed without scripts (prepack would build again).
    execFileSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'build.ts')], { cwd: root, stdio: 'pipe' })
    npm(['pack', '--ignore-scripts', '--pack-destination', destination], root)
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
  const tarballs = readdirSync(destination).filter((name) => name.endsWith('.tgz'))
  if (tarballs.length !== 1) throw new Error(`expected one tarball in ${destination}, found ${tarballs.join(', ') || 'none'}`)
  return join(destination, tarballs[0]!)
}
