// One incident: summary, operator actions (only for roles allowed: acknowledge, resolve, notes,
// merge into another incident, split alerts off into a new one), root-cause hypotheses with
// evidence charts, the topology neighbourhood of the suspect, suggested runbooks (dry-run and
// approve for roles allowed), related logs and the timeline.
import { h, mount, panel, empty, failure, prio, stateBadge, fmtTime, labelsText } from '../dom.js';
import { api, list, subscribe } from '../api.js';
import { incident } from '../model.js';
import { anomalyChart, deviationChart } from '../evidence.js';
import { graphSvg, normaliseGraph, neighbourhood, fetchTopology } from '../graph.js';
import { session, onLeave, navigate } from '../state.js';
import { runbooksBody } from '../runbooks.js';

export async function incidentPage(id) {
  let res = await api(`/api/v1/incidents/${encodeURIComponent(id)}`);
  let inc = res.ok ? incident(res.data) : null;
  if (!inc) {
    // Servers without the one-incident endpoint (the demo's board) still list it.
    const all = await api('/api/v1/incidents?limit=1000');
    const hit = list(all, 'incidents').find((i) => String(i.id) === id);
    if (hit) inc = incident(hit);
    else if (res.status === 404 || all.ok) return panel('Incident', empty(`Incident ${id} not found.`, 'It may have been merged or the id is wrong; see the incident list.'));
    else return panel('Incident', failure(res));
  }
  const [timeline, topo] = await Promise.all([
    api(`/api/v1/incidents/${encodeURIComponent(id)}/timeline`),
    fetchTopology(),
  ]);
  const page = h('div', { class: 'incident' },
    header(inc),
    session.can('operator') ? actions(inc) : null,
    session.can('operator') ? await regroupPanel(inc) : null,
    h('div', { class: 'grid' },
      await hypotheses(inc),
      topologyPanel(inc, topo),
      panel('Suggested runbooks', runbooksBody(inc.id)),
      await logsPanel(inc),
      timelinePanel(inc, timeline)));
  let pending = null;
  const stop = subscribe('/api/v1/incidents/stream', (ev, data) => {
    if (ev !== 'incident' || !data.includes(id) || pending) return;
    pending = setTimeout(() => dispatchEvent(new PopStateEvent('popstate')), 1000);
  });
  onLeave(() => { stop(); clearTimeout(pending); });
  return page;
}

function header(i) {
  return h('section', { class: 'panel incident-head' },
    h('h1', { class: 'incident-title' }, i.title),
    h('p', {}, prio(i.priority), ' ', stateBadge(i.state),
      h('span', { class: 'muted' }, ` · opened ${fmtTime(i.opened)}`),
      i.resolved ? h('span', { class: 'muted' }, ` · resolved ${fmtTime(i.resolved)}`) : null,
      i.alerts !== null ? h('span', { class: 'muted' }, ` · ${i.alerts} alerts`) : null,
      i.assignee ? h('span', { class: 'muted' }, ` · assigned to ${i.assignee}`) : null),
    i.raw.mergedInto ? h('p', { id: 'merged-into' }, 'Merged into ', h('a', { href: `/incidents/${encodeURIComponent(String(i.raw.mergedInto))}` }, String(i.raw.mergedInto)), '.') : null,
    i.services.length ? h('p', {}, 'Services: ', i.services.map((s, n) => [n ? ', ' : '', h('code', {}, s)])) : null);
}

/** Acknowledge / resolve / note, through PATCH /api/v1/incidents/{id}. */
function actions(i) {
  const status = h('span', { class: 'muted', role: 'status' });
  const send = async (patch) => {
    const r = await api(`/api/v1/incidents/${encodeURIComponent(i.id)}`, { method: 'PATCH', body: patch });
    if (r.ok) dispatchEvent(new PopStateEvent('popstate'));
    else mount(status, `failed: ${r.error || r.status}`);
  };
  const note = h('input', { type: 'text', placeholder: 'Add a note', 'aria-label': 'Note' });
  return h('section', { class: 'panel actions', id: 'operator-actions' },
    i.state === 'open' ? h('button', { type: 'button', 'data-action': 'ack', onclick: () => send({ state: 'acknowledged' }) }, 'Acknowledge') : null,
    i.state !== 'resolved' ? h('button', { type: 'button', 'data-action': 'resolve', onclick: () => send({ state: 'resolved' }) }, 'Resolve') : null,
    i.state === 'resolved' ? h('button', { type: 'button', 'data-action': 'reopen', onclick: () => send({ state: 'open' }) }, 'Reopen') : null,
    h('form', { class: 'note', onsubmit: (e) => { e.preventDefault(); if (note.value.trim()) send({ note: note.value.trim() }); } },
      note, h('button', { type: 'submit', 'data-action': 'note' }, 'Add note')),
    status);
}

/**
 * Merge into another open incident, or split ticked alerts off into a new one, through
 * POST /api/v1/incidents/{id}/merge and …/split. Shown to operators while the incident is
 * neither resolved nor merged; each goes to the incident that holds the alerts afterwards.
 */
async function regroupPanel(i) {
  if (i.state === 'resolved' || i.raw.mergedInto) return null;
  const enc = encodeURIComponent(i.id);
  const status = h('p', { class: 'muted', role: 'status', id: 'regroup-status' });
  const refused = (what, r) => mount(status, h('span', { class: 'error' }, `${what} refused (${r.status || 'network'}): ${r.error || ''}`));
  const lists = await Promise.all(['open', 'acknowledged'].map((st) => api(`/api/v1/incidents?state=${st}&limit=200`)));
  const others = lists.flatMap((r) => (r.ok ? list(r, 'incidents') : [])).map(incident).filter((o) => o && o.id && o.id !== i.id);
  const target = h('select', { id: 'merge-target', 'aria-label': 'Incident to merge into' },
    others.map((o) => h('option', { value: o.id }, `${o.priority} · ${o.title} · ${o.alerts ?? '?'} alerts · opened ${fmtTime(o.opened)}`)));
  const merge = others.length
    ? h('form', { class: 'regroup-row', onsubmit: async (e) => {
      e.preventDefault();
      const into = target.value;
      if (!into) return;
      const r = await api(`/api/v1/incidents/${enc}/merge`, { method: 'POST', body: { into } });
      if (r.ok) navigate(`/incidents/${encodeURIComponent(into)}`);
      else refused('Merge', r);
    } }, h('label', {}, 'Merge this incident into ', target), ' ', h('button', { type: 'submit', 'data-action': 'merge' }, 'Merge'))
    : h('p', { class: 'muted' }, 'No other open incident to merge this one into.');
  const boxes = i.members.map((a) => ({ a, box: h('input', { type: 'checkbox', 'data-fingerprint': String(a.fingerprint ?? '') }) }));
  const split = boxes.length > 1
    ? h('form', { onsubmit: async (e) => {
      e.preventDefault();
      const alerts = boxes.filter((b) => b.box.checked).map((b) => String(b.a.fingerprint));
      if (!alerts.length) { mount(status, 'Tick the alerts to split off.'); return; }
      if (alerts.length === boxes.length) { mount(status, 'At least one alert must stay in this incident.'); return; }
      const r = await api(`/api/v1/incidents/${enc}/split`, { method: 'POST', body: { alerts } });
      if (r.ok && r.data && r.data.new) navigate(`/incidents/${encodeURIComponent(String(r.data.new.id))}`);
      else refused('Split', r);
    } },
    h('p', {}, 'Split the ticked alerts off into a new incident:'),
    h('ul', { class: 'list split-alerts' }, boxes.map(({ a, box }) => h('li', { class: 'row' },
      h('label', {}, box, ' ', h('strong', {}, String(a.name ?? a.fingerprint ?? '')), ' ', h('span', { class: 'muted' }, String(a.status ?? '')),
        h('div', { class: 'details' }, labelsText(a.labels)))))),
    h('button', { type: 'submit', 'data-action': 'split' }, 'Split off'))
    : h('p', { class: 'muted' }, 'One alert: nothing to split off.');
  return panel('Merge and split', h('div', { id: 'regroup' }, merge, split, status));
}

async function hypotheses(i) {
  if (!i.hypotheses.length) {
    // No suspect named: the strongest movement among the services involved is still evidence.
    const charts = [];
    for (const svc of i.services.slice(0, 3)) {
      const c = await evidenceCharts(svc, i);
      if (!c.classList.contains('evidence-charts')) continue;
      if (charts.length) c.removeAttribute('id');
      charts.push(h('h3', {}, 'Service ', h('code', {}, svc)), c);
    }
    return panel('Root cause', empty('No root-cause hypothesis for this incident.', 'Root-cause ranking needs a topology (`topology_file`) and metrics of the services involved.'), ...charts);
  }
  const out = [];
  for (const [n, hy] of i.hypotheses.entries()) {
    const svc = hy.service;
    out.push(h('div', { class: `hypothesis${n === 0 ? ' top' : ''}` },
      h('h3', {}, n === 0 ? 'Suspect: ' : 'Also possible: ', h('code', {}, svc || 'unknown'), hy.score !== null ? h('span', { class: 'muted' }, ` score ${hy.score.toFixed(2)}`) : null),
      hy.summary ? h('p', {}, hy.summary) : null,
      hy.evidence.length ? h('ul', { class: 'evidence-list' }, hy.evidence.map((e) => h('li', {}, typeof e === 'string' ? e : e.text ?? e.summary ?? labelsText(e.labels) ?? JSON.stringify(e)))) : null));
    if (n === 0 && svc) out.push(await evidenceCharts(svc, i));
  }
  return panel('Root cause', ...out);
}

/** The strongest anomalies of the suspect around the incident, charted with their band. */
async function evidenceCharts(service, i) {
  const q = new URLSearchParams({ service, limit: '1000' });
  const r = await api(`/api/v1/anomalies?${q}`);
  if (!r.ok) return failure(r);
  const at = i.opened ? i.opened.getTime() / 1000 : null;
  const near = list(r).filter((a) => at === null || Math.abs(a.time - at) < 3 * 3600);
  // One chart per series: its strongest anomaly.
  const best = new Map();
  for (const a of near) {
    const k = labelsText(a.labels);
    if (!best.has(k) || best.get(k).score < a.score) best.set(k, a);
  }
  const top = [...best.values()].sort((a, b) => b.score - a.score).slice(0, 2);
  const charts = (await Promise.all(top.map((a) => anomalyChart(a)))).filter(Boolean);
  if (!charts.length && at !== null) {
    const d = await deviationChart(service, at);
    if (d) charts.push(d);
  }
  if (!charts.length) return empty(`No anomalous series of ${service} around this incident.`, 'Evidence charts need metrics labelled with the service (`service="…"`); with `detection.enabled: true` they show the detector\'s expected band.');
  return h('div', { class: 'evidence-charts', id: 'evidence' }, charts.length ? charts : empty('The anomalous series has no stored samples.', null));
}

function topologyPanel(i, res) {
  if (!res.ok) return panel('Topology', res.status === 404 ? empty('No topology on this server.', 'Set `topology_file` in the configuration to a file listing services and their dependencies.') : failure(res));
  const g = normaliseGraph(res.data);
  const focus = new Set([i.rootCause, ...i.services].filter(Boolean));
  if (!g.nodes.length || !focus.size) return panel('Topology', empty('The topology is empty.', 'List services and their dependencies in `topology_file`.'));
  const sub = neighbourhood(g, focus);
  // Only a named root cause is highlighted: without one no service is singled out.
  const suspect = i.rootCause;
  const known = suspect && sub.nodes.some((n) => n.id === suspect);
  return panel('Topology neighbourhood', graphSvg(sub, { suspect, involved: new Set(i.services) }),
    h('p', { class: 'muted legend', id: 'topology-suspect' },
      !suspect ? 'No root cause named yet: the services involved are outlined in red.'
        : known ? ['Suspected root cause: ', h('strong', {}, suspect), ' (filled); services involved outlined in red.']
          : ['Suspected root cause ', h('strong', {}, suspect), ' is not in the service graph.']));
}

function timelinePanel(i, res) {
  let items = res.ok ? list(res, 'events') : [];
  if (!res.ok && i.members.length) items = i.members.map((a) => ({ at: a.firstSeen, kind: 'alert', alert: a }));
  if (!items.length) {
    // 400/404: the server's incident store does not know this id (the demo's own incidents).
    if (!res.ok && res.status !== 404 && res.status !== 400) return panel('Timeline', failure(res));
    return panel('Timeline', empty('No timeline for this incident.', 'Alerts joining, state changes and notes appear here.'));
  }
  return panel('Timeline', h('ol', { class: 'timeline' }, items.map((e) => {
    const a = e.alert;
    const what = a ? `alert ${a.name ?? ''} ${a.status ?? ''}` : String(e.kind ?? e.action ?? 'event');
    const details = a ? labelsText(a.labels) : e.details && typeof e.details === 'object' ? Object.entries(e.details).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' · ') : String(e.details ?? e.text ?? '');
    return h('li', {}, h('span', { class: 'muted' }, fmtTime(e.at)), ' ', h('strong', {}, what), e.actor ? h('span', { class: 'muted' }, ` by ${e.actor}`) : null, details ? h('div', { class: 'details' }, details) : null);
  })));
}

/** Log anomalies of the suspect (else of the services involved), else its commonest templates. */
async function logsPanel(i) {
  const svcs = [...new Set([i.rootCause, ...i.services].filter(Boolean))].slice(0, 3);
  if (!svcs.length) return panel('Related logs', empty('No service to look up logs for.', null));
  let items = [];
  let what = 'anomalies';
  for (const svc of svcs) {
    const r = await api(`/api/v1/log-anomalies?${new URLSearchParams({ service: svc, limit: '10' })}`);
    if (r.status === 404) return panel('Related logs', empty('Log ingestion is not available on this server.', null));
    items = items.concat(list(r));
  }
  if (!items.length) {
    what = 'templates';
    const r = await api(`/api/v1/log-templates?${new URLSearchParams({ service: svcs[0], limit: '5' })}`);
    items = list(r);
  }
  if (!items.length) {
    return panel('Related logs', empty(`No log lines from ${svcs.join(', ')}.`, 'Send logs by OTLP to /v1/logs, JSON lines to /api/v1/logs, or syslog to the configured listener; templates and log anomalies of the services involved appear here.'));
  }
  return panel(what === 'anomalies' ? 'Related log anomalies' : `Commonest log templates of ${svcs[0]}`, h('ul', { class: 'list', id: 'related-logs' }, items.slice(0, 10).map((t) => h('li', { class: 'row' },
    h('code', { class: 'template' }, String(t.template ?? '')),
    h('div', { class: 'muted' }, [t.template_id ?? t.id, t.service, t.level, t.count !== undefined ? `${t.count} lines` : null, t.time ? fmtTime(t.time) : null].filter((x) => x !== undefined && x !== null && x !== '').join(' · ')),
    t.explanation ? h('div', {}, String(t.explanation)) : null,
    Array.isArray(t.examples) && t.examples.length ? h('pre', { class: 'examples' }, t.examples.slice(0, 2).map(String).join('\n')) : null))));
}
