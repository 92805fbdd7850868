// Suggested runbooks of one incident: the runbooks whose trigger matches it (most confident
// first), the run each has on this incident, and for roles allowed the dry-run and approve
// buttons. Approving queues the run; the server starts it as soon as its guardrails allow, so
// approve is also "run". The API enforces the roles on its own; hiding the buttons only spares a
// read-only user a 403.
import { h, mount, empty, failure, fmtTime } from './dom.js';
import { api, list } from './api.js';
import { session, onLeave } from './state.js';

/** States a run does not leave by itself soon: nothing to poll for. */
const SETTLED = new Set(['suggested', 'pending_approval', 'succeeded', 'failed', 'rolled_back', 'rollback_failed', 'blocked', 'cancelled']);

/** The panel body, redrawn in place after an action and while a run is moving. */
export function runbooksBody(incidentId) {
  const box = h('div', { id: 'runbooks' }, h('p', { class: 'loading' }, 'Loading…'));
  let timer = null;
  let gone = false;
  onLeave(() => { gone = true; clearTimeout(timer); });
  const draw = async (note) => {
    const view = await load(incidentId, draw, note);
    if (gone) return;
    mount(box, view.el);
    clearTimeout(timer);
    // Queued or running: follow it until it settles.
    if (view.moving) timer = setTimeout(() => draw(null), 1000);
  };
  draw(null);
  return box;
}

async function load(id, redraw, note) {
  const enc = encodeURIComponent(id);
  const [ranked, runs] = await Promise.all([
    api(`/api/v1/remediation/incidents/${enc}/runbooks`),
    api('/api/v1/remediation/runs'),
  ]);
  if (!ranked.ok) {
    if (ranked.status === 404 && /not configured/.test(ranked.error || '')) {
      return { el: empty('Remediation is not configured on this server.', 'Set `remediation.runbooks_dir` to a directory of runbooks; those whose trigger matches an incident are suggested here.') };
    }
    // 400: an incident id the server's store does not use (no runbook can be ranked for it).
    if (ranked.status === 400) return { el: empty('No runbook suggestions for this incident.', null) };
    return { el: failure(ranked) };
  }
  const mine = list(runs, 'runs').filter((r) => String(r.incident) === id);
  const items = list(ranked).map((r) => ({ name: String(r.runbook), ranked: r, run: mine.find((x) => x.runbook === r.runbook) || null }));
  // A run whose runbook no longer matches (edited or removed since) is still this incident's.
  for (const run of mine) if (!items.some((i) => i.name === run.runbook)) items.push({ name: String(run.runbook), ranked: null, run });
  if (!items.length) {
    return { el: empty('No runbook matches this incident.', 'A runbook is suggested when its trigger (alert names, labels, title, priority or root cause) matches; see GET /api/v1/runbooks for what is loaded.') };
  }
  const el = h('div', {},
    note,
    h('ul', { class: 'list runbooks' }, items.map((i) => runbookRow(i, redraw))),
    session.can('operator') ? null : h('p', { class: 'muted hint' }, 'Dry-run and approve need an operator token.'));
  return { el, moving: items.some((i) => i.run && !SETTLED.has(i.run.state)) };
}

function runbookRow({ name, ranked, run }, redraw) {
  const conf = (ranked && ranked.confidence) || (run && run.confidence) || null;
  const rec = ranked && ranked.record;
  const out = h('div', { class: 'runbook-output', role: 'status' });
  const act = async (what) => {
    mount(out, h('span', { class: 'muted' }, `${what === 'approve' ? 'Approving' : 'Dry-running'}…`));
    const r = await api(`/api/v1/remediation/runs/${encodeURIComponent(run.id)}/${what}`, { method: 'POST' });
    if (!r.ok) { mount(out, h('span', { class: 'error' }, `${what} refused (${r.status || 'network'}): ${r.error || ''}`)); return; }
    if (what === 'dry-run') mount(out, plan(r.data));
    else redraw(h('p', { class: 'ok-note', role: 'status' }, `Approved ${name}: it runs as soon as its guardrails allow.`));
  };
  const buttons = session.can('operator') && run ? [
    h('button', { type: 'button', 'data-action': 'dry-run', onclick: () => act('dry-run') }, 'Dry-run'),
    run.state === 'pending_approval' ? h('button', { type: 'button', class: 'primary', 'data-action': 'approve', onclick: () => act('approve') }, 'Approve and run') : null,
  ] : null;
  return h('li', { class: 'row runbook', 'data-runbook': name },
    h('div', { class: 'runbook-head' },
      h('code', {}, name),
      ranked ? h('span', { class: 'muted' }, ` · ${ranked.mode}`) : null,
      conf && typeof conf.score === 'number' ? h('span', { class: 'muted' }, ` · confidence ${Math.round(conf.score * 100)}%`) : null,
      rec ? h('span', { class: 'muted' }, ` · on similar incidents ${rec.succeeded} fixed, ${rec.failed} failed`) : null),
    run ? h('p', { class: 'run-state' }, 'Run: ', h('span', { class: `badge run-${run.state}`, 'data-state': run.state }, String(run.state).replace(/_/g, ' ')),
      run.approved_by ? h('span', { class: 'muted' }, ` · approved by ${run.approved_by}`) : null,
      run.reason ? h('span', { class: 'muted' }, ` · ${run.reason}`) : null,
      run.state === 'suggested' ? h('span', { class: 'muted' }, ' · suggest mode: shown, never run by Hush') : null)
      : h('p', { class: 'muted' }, ranked && ranked.mode === 'suggest' ? 'Suggestion only.' : 'No run for this incident (a resolved incident gets none).'),
    conf && Array.isArray(conf.reasons) && conf.reasons.length ? h('details', {}, h('summary', {}, 'Why'), h('ul', {}, conf.reasons.map((x) => h('li', {}, String(x))))) : null,
    run && Array.isArray(run.log) && run.log.length ? h('ol', { class: 'run-log' }, run.log.map((s) => h('li', {},
      h('span', { class: 'muted' }, `${fmtTime(s.at)} ${s.phase} `), h('strong', {}, String(s.name ?? '')), ' ', outcomeText(s.outcome)))) : null,
    buttons ? h('div', { class: 'actions runbook-actions' }, buttons) : null,
    out);
}

function outcomeText(o) {
  if (!o || typeof o !== 'object') return String(o ?? '');
  return `${o.ok ? 'ok' : 'failed'}${o.summary ? ` — ${o.summary}` : ''}`;
}

/** A rendered action in one line: the exact argv, request or note it would use. */
function actionText(a) {
  if (!a || typeof a !== 'object') return String(a ?? '');
  if (a.kind === 'command') return `run ${JSON.stringify([a.program, ...(a.args || [])])}`;
  if (a.kind === 'webhook') return `${a.method} ${a.url}${a.body !== null && a.body !== undefined ? ` ${JSON.stringify(a.body)}` : ''}`;
  if (a.kind === 'annotate') return `note on the incident: ${a.text}`;
  if (a.kind === 'kubernetes') return `kubernetes ${a.request ?? `${a.action} ${a.namespace}/${a.name}`}`;
  return JSON.stringify(a);
}

/** The dry-run answer as text: what would run, and what the guardrails and preconditions say. */
function plan(d) {
  if (!d || typeof d !== 'object') return h('pre', { class: 'plan' }, JSON.stringify(d));
  const lines = [];
  const g = d.guardrails || {};
  lines.push(`guardrails: ${g.allowed ? 'would allow a start now' : `would not start now: ${g.reason ?? 'unknown'}`}`);
  for (const p of d.preconditions || []) lines.push(`precondition ${p.query}: ${p.holds === true ? 'holds' : p.holds === false ? 'does not hold' : `error ${p.error ?? ''}`}`);
  for (const s of d.steps || []) lines.push(`step ${s.name}: ${actionText(s.action)}`);
  if (d.verification) lines.push(`verification: ${d.verification.query} within ${Math.round(d.verification.within_ms / 1000)} s`);
  for (const s of d.rollback || []) lines.push(`rollback ${s.name}: ${actionText(s.action)}`);
  return h('div', {}, h('p', { class: 'muted' }, 'Dry-run: nothing was executed.'), h('pre', { class: 'plan' }, lines.join('\n')));
}
