// The audit log: who did what, when, to what — newest first, older pages on demand.
import { h, panel, empty, failure, fmtTime, keyList } from '../dom.js';
import { api, list } from '../api.js';

const PAGE = 200;

export async function audit() {
  const res = await api(`/api/v1/audit?order=desc&limit=${PAGE}`);
  if (!res.ok) return panel('Audit log', res.status === 404 ? empty('The audit log is not available on this server.', 'Every operator action (acknowledge, resolve, runbook approval and run) is recorded here once the remediation API is present.') : failure(res));
  const items = list(res, 'entries');
  if (!items.length) return panel('Audit log', empty('Nothing recorded yet.', 'Operator actions appear here.'));
  const body = h('tbody', {}, items.map(row));
  let oldest = items[items.length - 1].seq;
  const more = h('button', { type: 'button', 'data-action': 'older' }, 'Older entries');
  more.addEventListener('click', async () => {
    more.disabled = true;
    const r = await api(`/api/v1/audit?order=desc&before=${encodeURIComponent(oldest)}&limit=${PAGE}`);
    const page = r.ok ? list(r, 'entries') : [];
    for (const e of page) body.appendChild(row(e));
    if (page.length) oldest = page[page.length - 1].seq;
    // A short page is the start of the chain.
    if (r.ok && page.length === PAGE) more.disabled = false;
    else more.replaceWith(r.ok ? h('p', { class: 'muted' }, 'Start of the log.') : failure(r));
  });
  return panel('Audit log',
    keyList(h('table', { class: 'table', id: 'audit-table' },
      h('thead', {}, h('tr', {}, ['#', 'Time', 'Actor', 'Action', 'Subject', 'Details'].map((c) => h('th', {}, c)))),
      body)),
    items.length === PAGE && typeof oldest === 'number' ? more : null);
}

function row(e) {
  return h('tr', { 'data-row': '', tabindex: '0', 'data-audit-action': String(e.action ?? e.kind ?? '') },
    h('td', { class: 'num' }, e.seq ?? ''),
    h('td', {}, fmtTime(e.at ?? e.time)), h('td', {}, String(e.actor ?? '')), h('td', {}, String(e.action ?? e.kind ?? '')),
    h('td', { class: 'details' }, String(e.target ?? e.subject ?? '')),
    h('td', { class: 'details' }, typeof e.details === 'string' ? e.details : JSON.stringify(e.details ?? '')));
}
