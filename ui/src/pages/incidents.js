// Incident list: filter by state and text, keyboard navigation, live refresh over SSE.
import { h, mount, panel, empty, failure, prio, stateBadge, fmtTime, keyList } from '../dom.js';
import { api, list, subscribe } from '../api.js';
import { incident, byPriorityThenNewest, EMPTY_INCIDENTS } from '../model.js';
import { onLeave } from '../state.js';

export async function incidentList() {
  const params = new URLSearchParams(location.search);
  let state = params.get('state') || 'open';
  let text = '';
  let rowsShown = 200;
  let all = [];
  let res = null;
  const body = h('div', {});
  const table = () => {
    if (!res.ok) return failure(res);
    if (!all.length) return empty('No incidents yet.', EMPTY_INCIDENTS);
    const t = text.toLowerCase();
    const shown = all
      .filter((i) => state === 'all' || (state === 'open' ? i.state !== 'resolved' : i.state === state))
      .filter((i) => !t || `${i.title} ${i.services.join(' ')} ${i.rootCause || ''}`.toLowerCase().includes(t))
      .sort(byPriorityThenNewest);
    if (!shown.length) return empty(`No ${state === 'all' ? '' : `${state} `}incidents match.`, null);
    // Rows are drawn a few hundred at a time: a thousand-row table costs more to lay out than
    // anyone reads at once.
    const cut = shown.length > rowsShown ? h('button', { type: 'button', id: 'show-more', onclick: () => { rowsShown += 500; redraw(); } }, `Show more (${rowsShown} of ${shown.length} shown)`) : null;
    return [keyList(h('table', { class: 'table', id: 'incident-table' },
      h('thead', {}, h('tr', {}, ['Priority', 'State', 'Incident', 'Services', 'Alerts', 'Opened', 'Root cause'].map((c) => h('th', {}, c)))),
      h('tbody', {}, shown.slice(0, rowsShown).map((i) => h('tr', { 'data-row': '', tabindex: '0' },
        h('td', {}, prio(i.priority)), h('td', {}, stateBadge(i.state)),
        h('td', {}, h('a', { href: `/incidents/${encodeURIComponent(i.id)}`, class: 'incident-link' }, i.title)),
        h('td', {}, i.services.join(', ')), h('td', { class: 'num' }, i.alerts ?? ''),
        h('td', {}, fmtTime(i.opened)), h('td', {}, i.rootCause || '—')))))), cut];
  };
  // The API pages by `next` (the oldest `openedAt` of a page); older pages load on demand.
  let next = null;
  const more = () => (next === null || next === undefined ? null : h('button', { type: 'button', id: 'load-older', onclick: async () => {
    const r = await api(`/api/v1/incidents?limit=1000&before=${encodeURIComponent(next)}`);
    if (!r.ok) return mount(body, table(), failure(r));
    all = all.concat(list(r, 'incidents').map(incident).filter(Boolean));
    next = r.body && r.body.next;
    redraw();
  } }, `Load older incidents (${all.length} shown)`));
  const redraw = () => mount(body, table(), more());
  const load = async () => {
    res = await api('/api/v1/incidents?limit=1000');
    all = list(res, 'incidents').map(incident).filter(Boolean);
    next = res.body && res.body.next;
    redraw();
  };
  await load();
  const stateSel = h('select', { 'aria-label': 'State', onchange: (e) => { state = e.target.value; rowsShown = 200; redraw(); } },
    ['open', 'acknowledged', 'resolved', 'all'].map((s) => h('option', { value: s, selected: s === state }, s)));
  const search = h('input', { type: 'search', placeholder: 'Filter (title, service, root cause)', 'aria-label': 'Filter', oninput: (e) => { text = e.target.value; rowsShown = 200; redraw(); } });
  let pending = null;
  const stop = subscribe('/api/v1/incidents/stream', (ev) => {
    if (ev !== 'incident' || pending) return;
    pending = setTimeout(() => { pending = null; load(); }, 500);
  });
  onLeave(() => { stop(); clearTimeout(pending); });
  return panel('Incidents', h('div', { class: 'filters' }, stateSel, search, h('span', { class: 'muted hint' }, 'j/k or arrows to move, Enter to open')), body);
}
