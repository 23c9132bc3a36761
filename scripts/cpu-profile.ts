/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and prints where the time went: the functions with
 * the most self time, and the functions of this project (src/) with the most total time (their
 * own and their callees', counted once per call stack however deep the recursion).
 *
 * With `--under TEXT`, only the samples taken while a function whose name contains TEXT was on
 * the stack count (`--under 'observe src/middleware/prefetcher.ts'`: what learning costs a read).
 *
 * `--dirs` keeps the directory above src/ in names, to tell two copies of the code apart when one
 * process runs both (an A/B run of two checkouts).
 *
 *   npx tsx scripts/cpu-profile.ts FILE.cpuprofile [--top 25] [--match src/] [--under TEXT] [--dirs]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' }, match: { type: 'string', default: '/src/' }, under: { type: 'string' }, dirs: { type: 'boolean', default: false } },
})
if (positionals.length !== 1) throw new TypeError('usage: tsx scripts/cpu-profile.ts FILE.cpuprofile [--top N] [--match TEXT]')
const profile = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile
const top = Number(flags.top)

const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const parent = new Map<number, number>()
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)

/** A function's name as a person finds it: name, file and line. */
function nameOf(node: ProfileNode): string {
  const { functionName, url } = node.callFrame
  const path = url.replace(/^file:\/\//, '')
  const file = flags.dirs ? path.replace(/^.*\/([^/]+\/(src|node_modules|bench)\/)/, '$1') : path.replace(/^.*\/(src|node_modules|bench)\//, '$1/')
  return `${functionName || '(anonymous)'} ${file}`.trim()
}

// Self time per node, from the samples and the time between them (microseconds).
const selfUs = new Map<number, number>()
for (let i = 0; i < profile.samples.length; i++) {
  const delta = profile.timeDeltas[i + 1] ?? 0
  selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + delta)
}
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0)

const self = new Map<string, number>()
const total = new Map<string, number>()
let counted = 0
for (const [id, us] of selfUs) {
  const node = byId.get(id)!
  // Every function on the stack gets the sample once.
  const onStack = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) onStack.add(nameOf(byId.get(at)!))
  if (flags.under !== undefined && ![...onStack].some((name) => name.includes(flags.under!))) continue
  counted += us
  self.set(nameOf(node), (self.get(nameOf(node)) ?? 0) + us)
  for (const name of onStack) total.set(name, (total.get(name) ?? 0) + us)
}

const print = (title: string, map: Map<string, number>, filter: (name: string) => boolean) => {
  console.log(`\n${title}`)
  const rows = [...map].filter(([name]) => filter(name)).sort((a, b) => b[1] - a[1]).slice(0, top)
  for (const [name, us] of rows) console.log(`${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${name}`)
}
console.log(`${positionals[0]}: ${(totalUs / 1000).toFixed(0)} ms sampled`)
if (flags.under !== undefined) console.log(`${(counted / 1000).toFixed(0)} ms of it under functions matching ${JSON.stringify(flags.under)} (percentages are of all samples)`)
print('self time', self, () => true)
print(`total time, functions matching ${flags.match}`, total, (name) => name.includes(flags.match!.replace(/^\//, '')))
