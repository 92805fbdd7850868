// The service graph: read from whichever shape the server answers with, laid out on
// concentric rings (suspect in the middle), drawn as SVG with text nodes only.
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
  if (d && Array.isArray(d.nodes)) for (const n of d.nodes) node(typeof n === 'string' ? n : n.id ?? n.name ?? n.service, { kind: n.kind ?? n.type ?? null });
  if (d && Array.isArray(d.edges)) {
    for (const e of d.edges) {
      const from = e.from ?? e.source ?? e.caller;
      const to = e.to ?? e.target ?? e.callee;
      if (from === undefined || to === undefined) continue;
      node(from);
      node(to);
      edges.push({ from: String(from), to: String(to), source: e.origin ?? e.kind ?? null });
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

/**
 * SVG of `g`. `suspect` is drawn highlighted in the centre; `health` maps a node id to
 * `bad` | `warn` | `ok` for colours.
 */
export function graphSvg(g, { suspect = null, involved = new Set(), health = new Map() } = {}) {
  const W = 640;
  const n = g.nodes.length;
  // Rings by hop distance from the suspect (or one ring when there is none).
  const dist = new Map();
  if (suspect && g.nodes.some((x) => x.id === suspect)) {
    dist.set(suspect, 0);
    let frontier = [suspect];
    while (frontier.length) {
      const next = [];
      for (const f of frontier) for (const e of g.edges) {
        for (const [a, b] of [[e.from, e.to], [e.to, e.from]]) {
          if (a === f && !dist.has(b)) { dist.set(b, dist.get(f) + 1); next.push(b); }
        }
      }
      frontier = next;
    }
  }
  const maxRing = Math.max(1, ...[...dist.values()]);
  const rings = new Map();
  for (const x of g.nodes) {
    const r = dist.has(x.id) ? dist.get(x.id) : suspect ? maxRing + 1 : 1;
    if (!rings.has(r)) rings.set(r, []);
    rings.get(r).push(x.id);
  }
  const ringCount = Math.max(...rings.keys(), 1);
  const H = Math.max(260, Math.min(640, 140 + ringCount * 110));
  const pos = new Map();
  const step = (Math.min(W, H) / 2 - 50) / ringCount;
  for (const [r, ids] of rings) {
    ids.sort();
    ids.forEach((id, k) => {
      if (r === 0) pos.set(id, [W / 2, H / 2]);
      else {
        const a = (2 * Math.PI * k) / ids.length - Math.PI / 2 + r * 0.4;
        pos.set(id, [W / 2 + Math.cos(a) * step * r * 1.4, H / 2 + Math.sin(a) * step * r]);
      }
    });
  }
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'graph', role: 'img', 'aria-label': `service graph, ${n} services` });
  const defs = el('defs', {});
  const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '22', refY: '5', markerWidth: '6', markerHeight: '6', orient: 'auto-start-reverse' });
  marker.appendChild(el('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }));
  defs.appendChild(marker);
  svg.appendChild(defs);
  for (const e of g.edges) {
    const [a, b] = [pos.get(e.from), pos.get(e.to)];
    if (!a || !b) continue;
    svg.appendChild(el('line', { x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: 'edge', 'marker-end': 'url(#arrow)' }));
  }
  for (const x of g.nodes) {
    const [cx, cy] = pos.get(x.id);
    const cls = ['node', x.id === suspect ? 'suspect' : '', involved.has(x.id) ? 'involved' : '', health.get(x.id) || ''].join(' ').trim();
    const gEl = el('g', { class: cls, 'data-service': x.id });
    gEl.appendChild(el('circle', { cx, cy, r: x.id === suspect ? 16 : 11 }));
    gEl.appendChild(el('text', { x: cx, y: cy + (x.id === suspect ? 32 : 26), 'text-anchor': 'middle' }, x.id));
    gEl.appendChild(el('title', {}, `${x.id}${x.kind ? ` (${x.kind})` : ''}${x.id === suspect ? ' — suspected root cause' : ''}`));
    svg.appendChild(gEl);
  }
  return svg;
}
