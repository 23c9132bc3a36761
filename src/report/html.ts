/**
 * The self-contained HTML report: the learned transition graph, counters over time, a table per model.
 */

import type { PrefetchModel } from '../middleware/prefetcher.ts'
import type { PrefetchStats, TimelinePoint } from '../stats-types.ts'

/** What a report shows: what was learned, the counters now, and the counters over time. */
export interface ReportData {
  title?: string
  /** When the data was taken (ISO 8601). */
  generatedAt: string
  model: PrefetchModel
  stats: PrefetchStats
  timeline: readonly TimelinePoint[]
}

/** Edges drawn at most (the best supported); the full list is in the table below the graph. */
const MAX_EDGES = 24

interface Node {
  id: string
  shape: string
  label: string
  x: number
  y: number
}
interface Edge {
  from: string
  to: string
  probability: number
  support: number
  arguments: { slot: string; from: string; confidence: number }[]
  rule: boolean
}

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
const percent = (n: number) => `${(100 * n).toFixed(1)}%`

/**
 * One self-contained HTML page (inline CSS and SVG, no script, nothing fetched): the learned
 * transition graph (query shapes as nodes; probabilities and argument sources on the edges),
 * hit rate, coverage and precision over time, and a per-model table.
 */
export function renderReport(data: ReportData): string {
  const { nodes, edges } = graphOf(data.model)
  const s = data.stats
  const cards: Array<[string, string]> = [
    ['reads', String(s.reads)],
    ['hit rate', percent(s.hitRate)],
    ['served by a prefetch on time', percent(s.coverage)],
    ['joined a prefetch in flight', `${percent(s.lateCoverage)} (${percent(s.lateSavedShare)} of their wait saved)`],
    ['precision', percent(s.precision)],
    ['speculative reads', `${s.prefetch.issued} issued, ${s.prefetch.used} used, ${s.prefetch.wasted} wasted`],
    ['database time saved', `${(s.savedMs / 1000).toFixed(1)} s`],
  ]
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(data.title ?? 'prisma-prefetch report')}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1d2330;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.muted{color:#667}.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{border:1px solid #dde;border-radius:8px;padding:8px 12px;min-width:120px}.card b{display:block;font-size:18px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e4e6ee;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f6fa}td.n{text-align:right;font-variant-numeric:tabular-nums}code{font-size:12px;word-break:break-all}
svg{background:#fbfbfd;border:1px solid #e4e6ee;border-radius:8px}
.node rect{fill:#fff;stroke:#3b5bdb;stroke-width:1.5}.node text{font-size:12px;fill:#1d2330}
.edge path{fill:none;stroke:#3b5bdb}.edge.rule path{stroke:#e8590c;stroke-dasharray:5 3}.edge text{font-size:11px;fill:#364fc7}
.series{fill:none;stroke-width:2}
</style></head><body>
<h1>${escape(data.title ?? 'prisma-prefetch report')}</h1>
<div class="muted">taken ${escape(data.generatedAt)} · ${data.model.sessions} sessions · ${data.model.templates} query shapes · ${data.model.contexts} contexts learned</div>
<div class="cards">${cards.map(([name, value]) => `<div class="card"><span class="muted">${escape(name)}</span><b>${escape(value)}</b></div>`).join('')}</div>
<h2>What follows what</h2>
<p class="muted">Each node is a query shape (arguments left out); an arrow is a read that followed it in a session, with its probability. Dashed orange arrows are rules. Hover an arrow for where its arguments come from.</p>
${graphSvg(nodes, edges)}
<h2>Transitions</h2>
${edgeTable(nodes, edges)}
<h2>Query shapes</h2>
<table id="shapes"><tr><th>node</th><th>shape</th></tr>${nodes.map((n) => `<tr><td>${escape(n.label)}</td><td><code>${escape(n.shape)}</code></td></tr>`).join('')}</table>
<h2>Over time</h2>
${timelineSvg(data.timeline)}
<h2>By model</h2>
${modelTable(s)}
</body></html>
`
}

/** Nodes and edges of the learned model: one edge per (last read, next read), the best supported first. */
function graphOf(model: PrefetchModel): { nodes: Node[]; edges: Edge[] } {
  const edges = new Map<string, Edge>()
  for (const t of model.transitions) {
    const from = t.after.at(-1)
    if (from === undefined) continue
    const key = `${from}\u0000${t.next}`
    const edge = edges.get(key)
    if (edge === undefined) {
      edges.set(key, { from, to: t.next, probability: t.probability, support: t.support, arguments: t.arguments, rule: false })
    } else {
      edge.support += t.support
      if (t.probability > edge.probability) Object.assign(edge, { probability: t.probability, arguments: t.arguments })
    }
  }
  for (const r of model.rules) {
    edges.set(`rule\u0000${r.from}\u0000${r.to}`, { from: r.from, to: r.to, probability: r.probability, support: 0, arguments: [], rule: true })
  }
  const kept = [...edges.values()].sort((a, b) => Number(b.rule) - Number(a.rule) || b.support - a.support).slice(0, MAX_EDGES)
  const shapes = [...new Set(kept.flatMap((e) => [e.from, e.to]))]
  // A circle: every pair of nodes can be joined without crossing a node.
  const cx = 500
  const cy = 300
  const radius = shapes.length <= 1 ? 0 : Math.min(240, 60 + 30 * shapes.length)
  const nodes = shapes.map((shape, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, shapes.length)
    return { id: `n${i}`, shape, label: `${i + 1}. ${labelOf(shape)}`, x: cx + radius * Math.cos(angle) * 1.6, y: cy + radius * Math.sin(angle) }
  })
  return { nodes, edges: kept }
}

const boxWidth = (n: Node) => Math.max(90, 7 * n.label.length + 16)

/** `Post.findMany by authorId`: the read and the fields its `where` filters on (a shape is too long for a box). */
function labelOf(shape: string): string {
  const brace = shape.indexOf('{')
  if (brace < 0) return shape
  const where = /[{,]where:\{/.exec(shape)
  if (where === null) return shape.slice(0, brace)
  // The top-level keys of the where object.
  const keys: string[] = []
  let depth = 0
  let key = ''
  for (let i = where.index + where[0].length; i < shape.length && depth >= 0; i++) {
    const c = shape[i]
    if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') depth--
    else if (depth === 0 && c === ':') keys.push(key)
    if (depth === 0 && c === ',') key = ''
    else if (depth === 0 && c !== ':' && c !== '}') key += c
  }
  return `${shape.slice(0, brace)} by ${keys.map((k) => k.replace(/^"|"$/g, '')).join(', ')}`
}

function graphSvg(nodes: Node[], edges: Edge[]): string {
  if (nodes.length === 0) return '<p id="graph-empty">Nothing learned yet: transitions appear once sessions have repeated a pattern a few times.</p>'
  const at = new Map(nodes.map((n) => [n.shape, n]))
  const paths = edges.map((e) => {
    const a = at.get(e.from)!
    const b = at.get(e.to)!
    const width = 1 + 5 * e.probability
    const tip = `${e.rule ? 'rule: ' : ''}${e.from}\n→ ${e.to}\np = ${e.probability.toFixed(2)}${e.support ? `, seen ${Math.round(e.support)} times` : ''}${e.arguments.map((x) => `\n${x.slot} = ${x.from} (${percent(x.confidence)})`).join('')}`
    let d: string
    let lx: number
    let ly: number
    if (a === b) {
      // A read followed by another of its own shape (the next page): a loop above the node.
      d = `M ${a.x - 20} ${a.y - 14} C ${a.x - 60} ${a.y - 90}, ${a.x + 60} ${a.y - 90}, ${a.x + 20} ${a.y - 14}`
      lx = a.x
      ly = a.y - 74
    } else {
      // Bent to one side, so the arrows of a pair of nodes in both directions stay apart.
      const mx = (a.x + b.x) / 2
      const my = (a.y + b.y) / 2
      const dx = b.x - a.x
      const dy = b.y - a.y
      const length = Math.hypot(dx, dy) || 1
      const qx = mx - (dy / length) * 40
      const qy = my + (dx / length) * 40
      // End where the curve enters the target's box, so the arrowhead shows.
      const ux = b.x - qx
      const uy = b.y - qy
      const t = Math.min((boxWidth(b) / 2 + 3) / Math.max(1e-9, Math.abs(ux)), 17 / Math.max(1e-9, Math.abs(uy)))
      const ex = b.x - t * ux
      const ey = b.y - t * uy
      d = `M ${a.x} ${a.y} Q ${qx} ${qy} ${ex} ${ey}`
      lx = (mx + qx) / 2
      ly = (my + qy) / 2
    }
    return `<g class="edge${e.rule ? ' rule' : ''}"><title>${escape(tip)}</title><path d="${d}" stroke-width="${width.toFixed(1)}" stroke-opacity="${(0.35 + 0.6 * e.probability).toFixed(2)}" marker-end="url(#arrow)"/><text x="${lx.toFixed(0)}" y="${ly.toFixed(0)}" text-anchor="middle">${e.probability.toFixed(2)}</text></g>`
  })
  const boxes = nodes.map((n) => {
    const w = boxWidth(n)
    return `<g class="node" id="${n.id}"><title>${escape(n.shape)}</title><rect x="${(n.x - w / 2).toFixed(0)}" y="${(n.y - 14).toFixed(0)}" width="${w}" height="28" rx="6"/><text x="${n.x.toFixed(0)}" y="${(n.y + 4).toFixed(0)}" text-anchor="middle">${escape(n.label)}</text></g>`
  })
  return `<svg id="graph" viewBox="0 0 1000 620" width="100%" role="img" aria-label="learned transition graph">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="12" markerHeight="12" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#3b5bdb"/></marker></defs>
${paths.join('\n')}
${boxes.join('\n')}
</svg>`
}

function edgeTable(nodes: Node[], edges: Edge[]): string {
  if (edges.length === 0) return '<p class="muted">None yet.</p>'
  const label = new Map(nodes.map((n) => [n.shape, n.label]))
  const rows = edges.map(
    (e) =>
      `<tr><td>${escape(label.get(e.from)!)}</td><td>${escape(label.get(e.to)!)}${e.rule ? ' (rule)' : ''}</td><td class="n">${e.probability.toFixed(2)}</td><td class="n">${e.rule ? '' : Math.round(e.support)}</td><td>${
        e.arguments.map((x) => `<code>${escape(x.slot)}</code> = ${escape(x.from)} <span class="muted">(${percent(x.confidence)})</span>`).join('<br>') || '<span class="muted">(none)</span>'
      }</td></tr>`,
  )
  return `<table id="transitions"><tr><th>after</th><th>comes</th><th>probability</th><th>seen</th><th>arguments from</th></tr>${rows.join('')}</table>`
}

/** Hit rate, coverage and precision per interval between two points of the timeline. */
function timelineSvg(points: readonly TimelinePoint[]): string {
  if (points.length < 2) return '<p class="muted" id="timeline-empty">Not enough reads yet for a timeline.</p>'
  const intervals = points.slice(1).map((p, i) => {
    const q = points[i]
    const reads = p.reads - q.reads
    const completed = p.completed - q.completed
    return {
      at: (p.at - points[0].at) / 1000,
      hitRate: reads > 0 ? (p.hits - q.hits) / reads : 0,
      coverage: reads > 0 ? (p.prefetched - q.prefetched) / reads : 0,
      precision: completed > 0 ? (p.used - q.used) / completed : NaN,
    }
  })
  const width = 1000
  const height = 240
  const left = 40
  const bottom = 24
  const span = Math.max(1e-9, intervals.at(-1)!.at)
  const x = (t: number) => left + ((width - left - 10) * t) / span
  const y = (v: number) => 10 + (height - bottom - 10) * (1 - v)
  const line = (key: 'hitRate' | 'coverage' | 'precision', color: string) =>
    `<polyline class="series" id="series-${key}" stroke="${color}" points="${intervals
      .filter((p) => Number.isFinite(p[key]))
      .map((p) => `${x(p.at).toFixed(1)},${y(p[key]).toFixed(1)}`)
      .join(' ')}"/>`
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((v) => `<line x1="${left}" x2="${width - 10}" y1="${y(v)}" y2="${y(v)}" stroke="#e4e6ee"/><text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v * 100}%</text>`)
    .join('')
  const legend = [
    ['hit rate', '#2f9e44'],
    ['served by a prefetch', '#3b5bdb'],
    ['precision', '#e8590c'],
  ]
    .map(([name, color], i) => `<text x="${left + 10 + i * 190}" y="${height - 4}" font-size="12" fill="${color}">■ ${name}</text>`)
    .join('')
  return `<svg id="timeline" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="hit rate, coverage and precision over time">${grid}${line('hitRate', '#2f9e44')}${line('coverage', '#3b5bdb')}${line('precision', '#e8590c')}${legend}<text x="${width - 10}" y="${height - 4}" font-size="11" text-anchor="end">${span.toFixed(0)} s</text></svg>`
}

function modelTable(s: PrefetchStats): string {
  const rows = Object.entries(s.byModel)
    .sort(([, a], [, b]) => b.reads - a.reads)
    .map(
      ([model, c]) =>
        `<tr><td>${escape(model)}</td><td class="n">${c.reads}</td><td class="n">${c.hits}</td><td class="n">${c.prefetchHits}</td><td class="n">${c.lateHits}</td><td class="n">${c.misses}</td><td class="n">${c.reads ? percent(c.hits / c.reads) : '-'}</td><td class="n">${c.writes}</td><td class="n">${c.dbQueries}</td></tr>`,
    )
  return `<table id="models"><tr><th>model</th><th>reads</th><th>hits</th><th>prefetched on time</th><th>joined in flight</th><th>misses</th><th>hit rate</th><th>writes</th><th>database queries</th></tr>${rows.join('')}</table>`
}
