// Overview: open incidents by priority, alerts in vs incidents out, most anomalous
// services, capacity risks and recent actions — each panel with its own empty state.
import { h, panel, empty, failure, prio, stateBadge, fmtTime, keyList } from '../dom.js';
import { api, list, subscribe } from '../api.js';
import { linesChart } from '../chart.js';
import { incident, isOpen, byPriorityThenNewest, EMPTY_INCIDENTS, EMPTY_ANOMALIES } from '../model.js';
import { onLeave } from '../state.js';

export async function overview() {
  const [inc, alerts, anom, cap, aud] = await Promise.all([
    api('/api/v1/incidents?limit=1000'),
    api('/api/v1/alerts?limit=1000'),
    api('/api/v1/anomalies?limit=1000'),
    api('/api/v1/capacity'),
    // Newest first: the latest actions, however long the chain.
    api('/api/v1/audit?order=desc&limit=10'),
  ]);
  const incidents = list(inc, 'incidents').map(incident).filter(Boolean);
  const root = h('div', { class: 'grid' },
    openIncidents(inc, incidents),
    noise(inc, incidents, alerts),
    anomalous(anom),
    capacityRisks(cap),
    recentActions(aud));
  // Live: a change to any incident redraws the page, at most once a second in a storm.
  let pending = null;
  const stop = subscribe('/api/v1/incidents/stream', (ev) => {
    if (ev !== 'incident' || pending) return;
    pending = setTimeout(() => dispatchEvent(new PopStateEvent('popstate')), 1000);
  });
  onLeave(() => { stop(); clearTimeout(pending); });
  return root;
}

function openIncidents(res, incidents) {
  if (!res.ok) return panel('Open incidents', failure(res));
  const open = incidents.filter(isOpen).sort(byPriorityThenNewest);
  if (!open.length) {
    if (!incidents.length) return panel('Open incidents', empty('No incidents yet.', EMPTY_INCIDENTS));
    const recent = incidents.slice().sort((a, b) => (b.opened?.getTime() ?? 0) - (a.opened?.getTime() ?? 0)).slice(0, 10);
    return panel('Open incidents', empty('No open incidents.', 'The most recent ones:'), incidentRows(recent));
  }
  const counts = {};
  for (const i of open) counts[i.priority] = (counts[i.priority] || 0) + 1;
  const summary = h('div', { class: 'prio-counts' }, Object.keys(counts).sort().map((p) => h('span', {}, prio(p), ` ${counts[p]}`)));
  return panel('Open incidents', summary, incidentRows(open.slice(0, 15)),
    open.length > 15 ? h('a', { href: '/incidents' }, `all ${open.length} open incidents`) : null);
}

function incidentRows(list) {
  return keyList(h('ul', { class: 'list', id: 'open-incidents' }, list.map((i) => h('li', { 'data-row': '', tabindex: '0', class: 'row' },
    prio(i.priority), ' ', stateBadge(i.state), ' ',
    h('a', { href: `/incidents/${encodeURIComponent(i.id)}`, class: 'incident-link' }, i.title),
    h('span', { class: 'muted' }, ` · ${i.services.join(', ') || 'no service'} · ${fmtTime(i.opened)}`)))));
}

function noise(res, incidents, alertsRes) {
  if (!res.ok) return panel('Alerts in, incidents out', failure(res));
  const alertList = list(alertsRes);
  const alertTimes = alertsRes.ok && alertList.length
    ? alertList.map((a) => a.firstSeen ?? a.startsAt ?? a.lastSeen).map((t) => (typeof t === 'number' ? (t > 1e11 ? t / 1000 : t) : Date.parse(t) / 1000)).filter(Number.isFinite)
    : null;
  const totalAlerts = alertTimes ? alertTimes.length : incidents.reduce((n, i) => n + (i.alerts || 0), 0);
  if (!incidents.length && !totalAlerts) return panel('Alerts in, incidents out', empty('Nothing received yet.', EMPTY_INCIDENTS));
  const ratio = incidents.length ? (totalAlerts / incidents.length).toFixed(1) : '—';
  // About a dozen buckets over the span seen (whole 5 minutes each) of incidents opened and
  // alerts received; alerts are counted with their incident when the alert list is missing.
  const times = [...incidents.filter((i) => i.opened).map((i) => i.opened.getTime() / 1000), ...(alertTimes || [])];
  const span = times.length ? Math.max(...times) - Math.min(...times) : 0;
  const width = Math.max(300, Math.ceil(span / 12 / 300) * 300);
  const buckets = new Map();
  const add = (t, k, n) => {
    const b = Math.floor(t / width) * width;
    const e = buckets.get(b) || { a: 0, i: 0 };
    e[k] += n;
    buckets.set(b, e);
  };
  for (const i of incidents) if (i.opened) {
    add(i.opened.getTime() / 1000, 'i', 1);
    if (!alertTimes) add(i.opened.getTime() / 1000, 'a', i.alerts || 0);
  }
  if (alertTimes) for (const t of alertTimes) add(t, 'a', 1);
  const keys = [...buckets.keys()];
  const xs = [];
  if (keys.length) for (let b = Math.min(...keys); b <= Math.max(...keys); b += width) xs.push(b);
  for (const x of xs) if (!buckets.has(x)) buckets.set(x, { a: 0, i: 0 });
  const body = [h('p', { class: 'big' }, `${totalAlerts} alerts → ${incidents.length} incidents`, h('span', { class: 'muted' }, ` (${ratio} alerts per incident)`))];
  if (xs.length > 1) {
    body.push(linesChart({
      title: `per ${width / 60} minutes`,
      series: [
        { label: 'alerts in', points: xs.map((x) => [x, buckets.get(x).a]), color: '--chart-line' },
        { label: 'incidents out', points: xs.map((x) => [x, buckets.get(x).i]), color: '--chart-mark' },
      ],
    }));
    body.push(h('p', { class: 'legend' }, h('span', { class: 'swatch line' }), ' alerts in ', h('span', { class: 'swatch mark' }), ' incidents out'));
  }
  return panel('Alerts in, incidents out', ...body);
}

function anomalous(res) {
  if (!res.ok) return panel('Most anomalous services', failure(res));
  const items = list(res);
  if (!items.length) return panel('Most anomalous services', empty('No anomalies yet.', EMPTY_ANOMALIES));
  const by = new Map();
  for (const a of items) {
    const s = a.service || (a.labels && (a.labels.service || a.labels.job)) || 'unknown';
    const e = by.get(s) || { n: 0, max: 0 };
    e.n += 1;
    e.max = Math.max(e.max, Number(a.score) || 0);
    by.set(s, e);
  }
  const top = [...by.entries()].sort((a, b) => b[1].max - a[1].max || b[1].n - a[1].n).slice(0, 8);
  return panel('Most anomalous services', keyList(h('ul', { class: 'list' }, top.map(([s, e]) =>
    h('li', { 'data-row': '', tabindex: '0', class: 'row' },
      h('a', { href: `/anomalies?service=${encodeURIComponent(s)}` }, s),
      h('span', { class: 'muted' }, ` · ${e.n} anomalies, max score ${e.max.toFixed(2)}`))))));
}

function capacityRisks(res) {
  if (!res.ok) return panel('Capacity risks', res.status === 404 ? empty('Capacity forecasting is not available on this server.', 'Enable forecasting and send resource metrics (disk, memory, connections); risks appear here with their time to exhaustion.') : failure(res));
  const items = list(res, 'resources', 'risks');
  if (!items.length) return panel('Capacity risks', empty('No resource is forecast to run out.', 'Risks appear when a forecast crosses a resource\'s limit.'));
  const days = (r) => (typeof (r.daysLeft ?? r.days_left) === 'number' ? r.daysLeft ?? r.days_left : Infinity);
  const risky = items.slice().sort((a, b) => days(a) - days(b)).slice(0, 8);
  return panel('Capacity risks', h('ul', { class: 'list' }, risky.map((r) =>
    h('li', { class: 'row' }, h('a', { href: '/capacity' }, String(r.resource ?? r.name ?? 'resource')),
      h('span', { class: 'muted' }, ` · ${Number.isFinite(days(r)) ? `${days(r).toFixed(1)} days left` : 'not within the horizon'}${r.risk ? ` · ${r.risk}` : ''}`)))));
}

function recentActions(res) {
  if (!res.ok) return panel('Recent actions', res.status === 404 ? empty('The audit log is not available on this server.', 'Actions (acknowledgements, runbook runs) appear here once remediation is enabled.') : failure(res));
  const items = list(res, 'entries');
  if (!items.length) return panel('Recent actions', empty('No actions yet.', 'Acknowledging, resolving or running a runbook records an entry here.'));
  return panel('Recent actions', h('ul', { class: 'list' }, items.slice(0, 10).map((e) =>
    h('li', { class: 'row' }, h('span', { class: 'muted' }, `${fmtTime(e.at ?? e.time)} `), String(e.action ?? e.kind ?? ''), ' ',
      h('span', { class: 'muted' }, `${e.actor ?? ''} ${e.target ?? e.subject ?? ''}`)))));
}
