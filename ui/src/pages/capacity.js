// Capacity: resources by time to exhaustion, and for the selected one its history with the
// forecast and its interval.
import { h, mount, panel, empty, failure, keyList, labelsText, fmtTime } from '../dom.js';
import { api, list, range } from '../api.js';
import { bandChart, numeric } from '../chart.js';
import { selector } from '../model.js';

const DAY = 86400;

export async function capacity() {
  const res = await api('/api/v1/capacity');
  if (!res.ok) return panel('Capacity', res.status === 404 ? empty('Capacity forecasting is not available on this server.', 'Configure `capacity.resources` (a selector and a limit per resource) and send the metrics by remote_write to /api/v1/write.') : failure(res));
  const items = list(res, 'resources', 'risks');
  const horizonDays = Number(res.data?.horizonDays) || 30;
  if (!items.length) return panel('Capacity', empty('No resource is forecast yet.', 'List resources under `capacity.resources`; each appears once it has enough history.'));
  const daysLeft = (r) => {
    const d = r.daysLeft ?? r.days_left;
    return typeof d === 'number' && Number.isFinite(d) ? d : Infinity;
  };
  items.sort((a, b) => daysLeft(a) - daysLeft(b));
  const detail = h('div', { id: 'capacity-detail' }, empty('Select a resource to see its forecast.', null));
  const show = async (r) => {
    const labels = r.labels || {};
    const name = labels.__name__;
    if (!name) return mount(detail, empty('This resource has no series name to chart.', null));
    mount(detail, h('p', { class: 'loading' }, 'Loading…'));
    const q = selector(labels, name);
    const now = Date.now() / 1000;
    const back = 7 * DAY;
    const [hist, f] = await Promise.all([
      range(q, now - back, now, Math.max(60, Math.round(back / 400))),
      api(`/api/v1/forecast?${new URLSearchParams({ query: q, horizon: `${Math.round(horizonDays)}d`, step: '1h' })}`),
    ]);
    const fc = f.ok && Array.isArray(f.data?.result) ? f.data.result[0] : null;
    const history = hist.length ? numeric(hist[0].values) : [];
    const yhat = fc ? numeric(fc.yhat) : [];
    mount(detail,
      h('h3', {}, String(r.resource ?? labelsText(labels))),
      r.summary ? h('p', {}, String(r.summary)) : null,
      r.recommendation ? h('p', { class: 'muted' }, String(r.recommendation)) : null,
      history.length || yhat.length
        ? bandChart({ title: `${labelsText(labels)} — history, forecast${fc ? ` (${fc.model ?? 'model'})` : ''} and interval`, value: [...history, ...yhat], lower: fc ? numeric(fc.lower) : [], upper: fc ? numeric(fc.upper) : [], marks: [now], height: 260, label: name })
        : empty('No samples of this resource in the last week.', null),
      !f.ok ? failure(f) : null);
  };
  const pct = (r) => (typeof r.current === 'number' && typeof r.limit === 'number' && r.limit > 0 ? `${((100 * r.current) / r.limit).toFixed(0)}%` : '—');
  const rows = items.map((r) => {
    const d = daysLeft(r);
    const row = h('tr', { 'data-row': '', tabindex: '0', class: `risk-${String(r.risk ?? 'none').toLowerCase()}` },
      h('td', {}, String(r.resource ?? r.name ?? '')), h('td', { class: 'series' }, labelsText(r.labels)),
      h('td', { class: 'num' }, pct(r)),
      h('td', { class: 'num' }, Number.isFinite(d) ? `${d.toFixed(1)} days` : 'not within the horizon'),
      h('td', {}, r.exhaustion ? fmtTime(r.exhaustion) : '—'),
      h('td', {}, String(r.risk ?? '')));
    row.addEventListener('click', () => show(r));
    row.addEventListener('keydown', (e) => { if (e.key === 'Enter') show(r); });
    return row;
  });
  return h('div', {},
    panel(`Capacity (horizon ${horizonDays.toFixed(0)} days)`, keyList(h('table', { class: 'table', id: 'capacity-table' },
      h('thead', {}, h('tr', {}, ['Resource', 'Series', 'Used', 'Time to exhaustion', 'Exhausted at', 'Risk'].map((c) => h('th', {}, c)))),
      h('tbody', {}, rows)))),
    panel('Forecast', detail));
}
