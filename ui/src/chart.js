// Time-series charts on uPlot: a value line, the expected band (hush_expected_lower/upper)
// filled between, and vertical markers at the moments a series left its band.
import uPlot from 'uplot';
import { h } from './dom.js';

function css(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** Aligns several [[t, v], …] series (t in seconds) onto one x axis. */
export function align(seriesList) {
  const xs = [...new Set(seriesList.flatMap((s) => s.map((p) => p[0])))].sort((a, b) => a - b);
  const cols = seriesList.map((s) => {
    const m = new Map(s.map((p) => [p[0], p[1]]));
    return xs.map((x) => (m.has(x) ? m.get(x) : null));
  });
  return [xs, ...cols];
}

/** 1234567 → "1.23M", 0.00012 → "0.00012": at most three significant digits and an SI suffix. */
export function compact(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  for (const [d, s] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']]) {
    if (a >= d) return `${Number((v / d).toPrecision(3))}${s}`;
  }
  return String(Number(v.toPrecision(3)));
}

/**
 * A chart with `value`, optional `lower`/`upper` band and `marks` (seconds).
 * Each input is [[t, v], …] with numbers. Returns the wrapper element.
 */
export function bandChart({ title, value, lower = [], upper = [], marks = [], height = 220, label = 'value' }) {
  const wrap = h('div', { class: 'chart' }, title ? h('div', { class: 'chart-title' }, title) : null);
  const hasBand = lower.length > 0 && upper.length > 0;
  const data = align(hasBand ? [value, lower, upper] : [value]);
  const line = css('--chart-line', '#4f8cff');
  const band = css('--chart-band', 'rgba(79,140,255,0.18)');
  const mark = css('--chart-mark', '#e5484d');
  const axis = { stroke: css('--fg-muted', '#888'), grid: { stroke: css('--grid', 'rgba(128,128,128,0.15)') } };
  // 24-hour UTC ticks: short, and the same clock the rest of the UI prints.
  const timeAxis = { ...axis, values: (u, splits) => splits.map((t) => new Date(t * 1000).toISOString().slice(11, 16)) };
  // Compact values (1.2M, 350k): uPlot's default prints every digit and the axis cuts them off.
  const valueAxis = { ...axis, values: (u, splits) => splits.map(compact) };
  const series = [{}, { label, stroke: line, width: 1.5 }];
  if (hasBand) {
    series.push({ label: 'expected low', stroke: band, width: 1, dash: [4, 4] });
    series.push({ label: 'expected high', stroke: band, width: 1, dash: [4, 4] });
  }
  const opts = {
    width: 600,
    height,
    series,
    axes: [timeAxis, valueAxis],
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    bands: hasBand ? [{ series: [3, 2], fill: band }] : [],
    legend: { show: false },
    hooks: {
      draw: [
        (u) => {
          // The moment the series left its band, as a vertical line.
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = mark;
          ctx.lineWidth = 2;
          for (const t of marks) {
            const x = u.valToPos(t, 'x', true);
            if (!Number.isFinite(x)) continue;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
          }
          ctx.restore();
        },
      ],
    },
  };
  const target = h('div', { class: 'chart-canvas' });
  wrap.appendChild(target);
  const plot = new uPlot(opts, data, target);
  // Follow the container's width.
  const ro = new ResizeObserver(() => {
    const w = Math.max(240, Math.floor(target.clientWidth));
    if (w !== plot.width) plot.setSize({ width: w, height });
  });
  ro.observe(target);
  return wrap;
}

/** Prometheus matrix values [[t, "1.5"], …] → [[t, 1.5], …]. */
export function numeric(values) {
  return (values || []).map(([t, v]) => [Number(t), Number(v)]).filter(([, v]) => Number.isFinite(v));
}

/** Several lines on one time axis: `series` is [{label, points: [[t, v], …], color}]. */
export function linesChart({ title, series, height = 160 }) {
  const wrap = h('div', { class: 'chart' }, title ? h('div', { class: 'chart-title' }, title) : null);
  const axis = { stroke: css('--fg-muted', '#888'), grid: { stroke: css('--grid', 'rgba(128,128,128,0.15)') } };
  const timeAxis = { ...axis, values: (u, splits) => splits.map((t) => new Date(t * 1000).toISOString().slice(11, 16)) };
  const target = h('div', { class: 'chart-canvas' });
  wrap.appendChild(target);
  const plot = new uPlot({
    width: 600,
    height,
    axes: [timeAxis, { ...axis, values: (u, splits) => splits.map(compact) }],
    legend: { show: false },
    series: [{}, ...series.map((s) => ({ label: s.label, stroke: css(s.color, '#4f8cff'), width: 2 }))],
  }, align(series.map((s) => s.points)), target);
  new ResizeObserver(() => {
    const w = Math.max(240, Math.floor(target.clientWidth));
    if (w !== plot.width) plot.setSize({ width: w, height });
  }).observe(target);
  return wrap;
}
