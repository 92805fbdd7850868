// The audit log: who did what, when, to what.
import { h, panel, empty, failure, fmtTime, keyList } from '../dom.js';
import { api, list } from '../api.js';

export async function audit() {
  const res = await api('/api/v1/audit?limit=500');
  if (!res.ok) return panel('Audit log', res.status === 404 ? empty('The audit log is not available on this server.', 'Every operator action (acknowledge, resolve, runbook approval and run) is recorded here once the remediation API is present.') : failure(res));
  const items = list(res, 'entries');
  if (!items.length) return panel('Audit log', empty('Nothing recorded yet.', 'Operator actions appear here.'));
  return panel('Audit log', keyList(h('table', { class: 'table', id: 'audit-table' },
    h('thead', {}, h('tr', {}, ['Time', 'Actor', 'Action', 'Target', 'Details'].map((c) => h('th', {}, c)))),
    h('tbody', {}, items.map((e) => h('tr', { 'data-row': '', tabindex: '0' },
      h('td', {}, fmtTime(e.at ?? e.time)), h('td', {}, String(e.actor ?? '')), h('td', {}, String(e.action ?? e.kind ?? '')),
      h('td', {}, String(e.target ?? e.subject ?? '')),
      h('td', { class: 'details' }, typeof e.details === 'string' ? e.details : JSON.stringify(e.details ?? ''))))))));
}
