// The service graph: read from whichever shape the server answers with, laid out in layers
// (callers above callees), drawn as SVG with text nodes only.
import { api } from './api.js';

const NS = 'http://www.w3.org/2000/svg';

/** GET /api/v1/topology, else the topology file as written (GET /api/v1/topology/file). */
export async function fetchTopology() {
  const r = await api('/api/v1/topology');
  if (r.ok) return r;
  const f = await api('/api/v1/topology/file');
  return f.ok ? f : r;
}

/** → {nodes: [{id, kind}], edges: [{from, to}]}, from {nodes, edges} or {services: [{name, dependsOn}]}. */
export function normaliseGraph(d) {
  const nodes = new Map();
  const edges = [];
  const node = (id, extra = {}) => {
    if (id === undefined || id === null) return;
    const k = String(id);
    nodes.set(k, { ...(nodes.get(k) || { id: k }), ...extra });
  };
  if (d && Array.isArray(d.services)) {
    for (const s of d.services) {
      const name = typeof s === 'string' ? s : s.name;
      node(name, { kind: s.type ?? s.kind ?? null, team: s.team ?? null });
      for (const dep of s.dependsOn ?? s.depends_on ?? []) {
        const to = typeof dep === 'string' ? dep : dep.name ?? dep.service;
        node(to);
        edges.push({ from: String(name), to: String(to) });
      }
    }
  }
  // The server's own health words, mapped onto the UI's three colours.
  const HEALTH = { failing: 'bad', degraded: 'warn', ok: 'ok' };
  if (d && Array.isArray(d.nodes)) {
    for (const n of d.nodes) {
      if (typeof n === 'string') node(n);
      else node(n.id ?? n.name ?? n.service, { kind: n.kind ?? n.type ?? null, health: HEALTH[n.health] ?? null, reasons: Array.isArray(n.reasons) ? n.reasons.map(String) : [] });
    }
  }
  if (d && Array.isArray(d.edges)) {
    for (const e of d.edges) {
      const from = e.from ?? e.source ?? e.caller;
      const to = e.to ?? e.target ?? e.callee;
      if (from === undefined || to === undefined) continue;
      node(from);
      node(to);
      edges.push({ from: String(from), to: String(to), source: e.provenance ?? e.origin ?? e.kind ?? null });
    }
  }
  return { nodes: [...nodes.values()], edges };
}

/** The nodes in `focus` and their direct neighbours. */
export function neighbourhood(g, focus) {
  const keep = new Set([...focus].filter((f) => g.nodes.some((n) => n.id === f)));
  for (const e of g.edges) {
    if (focus.has(e.from)) keep.add(e.to);
    if (focus.has(e.to)) keep.add(e.from);
  }
  return { nodes: g.nodes.filter((n) => keep.has(n.id)), edges: g.edges.filter((e) => keep.has(e.from) && keep.has(e.to)) };
}

function el(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Layers: callers above callees (longest path from an entry point; cycles stop after n rounds). */
function layout(g, W) {
  const n = g.nodes.length;
  const pos = new Map();
  const layer = new Map(g.nodes.map((x) => [x.id, 0]));
  for (let round = 0; round < n; round++) {
    let moved = false;
    for (const e of g.edges) {
      if (e.from === e.to) continue;
      const want = layer.get(e.from) + 1;
      if (layer.get(e.to) < want && want < n) { layer.set(e.to, want); moved = true; }
    }
    if (!moved) break;
  }
  const layers = new Map();
  for (const x of g.nodes) {
    const l = layer.get(x.id);
    if (!layers.has(l)) layers.set(l, []);
    layers.get(l).push(x.id);
  }
  const rows = [...layers.keys()].sort((a, b) => a - b);
  const H = Math.max(200, 70 + rows.length * 90);
  rows.forEach((l, row) => {
    const ids = layers.get(l).sort();
    ids.forEach((id, k) => pos.set(id, [((k + 1) * W) / (ids.length + 1) + (row % 2 ? 12 : -12), 40 + row * 90]));
  });
  return { pos, H };
}

/**
 * SVG of `g`. `suspect` is drawn highlighted; `health` maps a node id to
 * `bad` | `warn` | `ok` for colours.
 */
export function graphSvg(g, { suspect = null, involved = new Set(), health = new Map() } = {}) {
  const W = 640;
  const n = g.nodes.length;
  const { pos, H } = layout(g, W);
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'graph', role: 'img', 'aria-label': `service graph, ${n} services` });
  const defs = el('defs', {});
  const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '22', refY: '5', markerWidth: '6', markerHeight: '6', orient: 'auto-start-reverse' });
  marker.appendChild(el('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }));
  defs.appendChild(marker);
  svg.appendChild(defs);
  for (const e of g.edges) {
    const [a, b] = [pos.get(e.from), pos.get(e.to)];
    if (!a || !b) continue;
    const line = el('line', { x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: 'edge', 'marker-end': 'url(#arrow)' });
    line.appendChild(el('title', {}, `${e.from} → ${e.to}${e.source ? ` (from ${e.source})` : ''}`));
    svg.appendChild(line);
  }
  for (const x of g.nodes) {
    const [cx, cy] = pos.get(x.id);
    const cls = ['node', x.id === suspect ? 'suspect' : '', involved.has(x.id) ? 'involved' : '', x.health || health.get(x.id) || ''].join(' ').trim();
    const gEl = el('g', { class: cls, 'data-service': x.id });
    gEl.appendChild(el('circle', { cx, cy, r: x.id === suspect ? 16 : 11 }));
    gEl.appendChild(el('text', { x: cx, y: cy + (x.id === suspect ? 32 : 26), 'text-anchor': 'middle' }, x.id));
    gEl.appendChild(el('title', {}, `${x.id}${x.kind ? ` (${x.kind})` : ''}${x.id === suspect ? ' — suspected root cause' : ''}${x.reasons && x.reasons.length ? `\n${x.reasons.join('\n')}` : ''}`));
    svg.appendChild(gEl);
  }
  return svg;
}
