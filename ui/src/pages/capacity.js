// Capacity: resources by time to exhaustion, with the forecast chart of the selected one.
import { h, mount, panel, empty, failure, keyList } from '../dom.js';
import { api, list } from '../api.js';
import { bandChart, numeric } from '../chart.js';

export async function capacity() {
  const res = await api('/api/v1/capacity');
  if (!res.ok) return panel('Capacity', res.status === 404 ? empty('Capacity forecasting is not available on this server.', 'Enable forecasting and send resource metrics (disk, memory, connection pools) by remote_write to /api/v1/write.') : failure(res));
  const items = list(res, 'resources', 'risks');
  if (!items.length) return panel('Capacity', empty('No resource is forecast to run out.', 'Resources appear here once forecasting has enough history of them.'));
  const eta = (r) => Number(r.secondsToExhaustion ?? r.seconds_to_exhaustion ?? r.tte ?? Infinity);
  items.sort((a, b) => eta(a) - eta(b));
  const detail = h('div', { id: 'capacity-detail' });
  const show = async (r) => {
    const q = r.query ?? r.series ?? r.resource;
    const f = q ? await api(`/api/v1/forecast?${new URLSearchParams({ query: String(q) })}`) : { ok: false, status: 404 };
    const d = f.ok ? f.data || {} : {};
    const pts = (k) => numeric(d[k] ?? []);
    mount(detail, f.ok ? bandChart({ title: String(q), value: [...pts('history'), ...pts('forecast')], lower: pts('lower'), upper: pts('upper'), height: 240 }) : failure(f));
  };
  const rows = items.map((r) => {
    const row = h('tr', { 'data-row': '', tabindex: '0' },
      h('td', {}, String(r.resource ?? r.name ?? r.series ?? '')), h('td', {}, String(r.service ?? '')),
      h('td', {}, Number.isFinite(eta(r)) ? `${(eta(r) / 86400).toFixed(1)} days` : String(r.exhaustion ?? r.exhaustedAt ?? 'not forecast')));
    row.addEventListener('click', () => show(r));
    row.addEventListener('keydown', (e) => { if (e.key === 'Enter') show(r); });
    return row;
  });
  return panel('Capacity', keyList(h('table', { class: 'table' }, h('thead', {}, h('tr', {}, ['Resource', 'Service', 'Time to exhaustion'].map((c) => h('th', {}, c)))), h('tbody', {}, rows))), detail);
}
