// Evidence charts: the anomalous series, its expected band and the moment it left it.
import { h, labelsText } from './dom.js';
import { api, range } from './api.js';
import { bandChart, numeric } from './chart.js';
import { selector } from './model.js';

/** Seconds around an anomaly to chart. */
const BEFORE = 45 * 60;
const AFTER = 15 * 60;

/** The chart for one anomaly ({labels, time (s), score}); `null` if the series has no data. */
export async function anomalyChart(a, { height = 220, withScore = false } = {}) {
  const labels = a.labels || {};
  const name = labels.__name__;
  if (!name) return null;
  const t = Number(a.time);
  const start = t - BEFORE;
  const end = t + AFTER;
  const step = Math.max(1, Math.round((end - start) / 300));
  const bandLabels = { ...labels, metric: name };
  const [v, lo, hi, sc] = await Promise.all([
    range(selector(labels, name), start, end, step),
    range(selector(bandLabels, 'hush_expected_lower'), start, end, step),
    range(selector(bandLabels, 'hush_expected_upper'), start, end, step),
    withScore ? range(selector(bandLabels, 'hush_anomaly_score'), start, end, step) : Promise.resolve([]),
  ]);
  if (!v.length) return null;
  const out = h('div', { class: 'evidence' });
  out.appendChild(bandChart({
    title: labelsText(labels),
    value: numeric(v[0].values),
    lower: lo.length ? numeric(lo[0].values) : [],
    upper: hi.length ? numeric(hi[0].values) : [],
    marks: [t],
    height,
    label: name,
  }));
  if (withScore && sc.length) {
    out.appendChild(bandChart({ title: 'anomaly score', value: numeric(sc[0].values), marks: [t], height: 120, label: 'score' }));
  }
  return out;
}

/**
 * Without a detected anomaly (detection still warming up, or off), finds the suspect's series
 * that moved most around `at` (seconds): its baseline is the window before `at - LEAD`, the band
 * is that baseline's mean ± 3σ, and the mark is the first point outside it.
 */
const LEAD = 10 * 60;
export async function deviationChart(service, at) {
  const r = await api(`/api/v1/series?${new URLSearchParams({ 'match[]': selector({ service }, '') })}`);
  if (!r.ok || !Array.isArray(r.data)) return null;
  const names = [...new Set(r.data.map((s) => s.__name__).filter((n) => n && !n.startsWith('hush_')))].slice(0, 40);
  const start = at - BEFORE;
  const end = at + AFTER;
  const step = Math.max(1, Math.round((end - start) / 300));
  const sel = (n) => selector({ service }, n);
  // Counters are charted as per-second rates: their raw values only ever climb.
  const results = await Promise.all(names.map((n) => range(n.endsWith('_total') ? `rate(${sel(n)}[2m])` : sel(n), start, end, step).then((res) => res.map((s) => ({ name: n, s })))));
  let best = null;
  for (const { name, s } of results.flat()) {
    const pts = numeric(s.values);
    const base = pts.filter(([t]) => t < at - LEAD).map(([, v]) => v);
    if (base.length < 10) continue;
    const mean = base.reduce((a, b) => a + b, 0) / base.length;
    const sd = Math.sqrt(base.reduce((a, b) => a + (b - mean) ** 2, 0) / base.length);
    const floor = Math.max(sd, Math.abs(mean) * 0.01, 1e-9);
    let dev = 0;
    let left = null;
    for (const [t, v] of pts) {
      if (t < at - LEAD) continue;
      const z = Math.abs(v - mean) / floor;
      if (z > dev) dev = z;
      if (left === null && Math.abs(v - mean) > 3 * floor) left = t;
    }
    if (left !== null && (!best || dev > best.dev)) best = { name, s, pts, mean, band: 3 * floor, dev, left };
  }
  if (!best) return null;
  const metric = { ...(best.s.metric || {}), __name__: best.name };
  return h('div', { class: 'evidence' }, bandChart({
    title: `${labelsText(metric)}${best.name.endsWith('_total') ? ' (per second)' : ''} — band: mean ± 3σ of the baseline before`,
    value: best.pts,
    lower: best.pts.map(([t]) => [t, best.mean - best.band]),
    upper: best.pts.map(([t]) => [t, best.mean + best.band]),
    marks: [best.left],
    label: best.name,
  }));
}
