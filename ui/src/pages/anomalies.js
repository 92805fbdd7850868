// Anomalies explorer: the list (newest first, filterable), and for the selected one the
// series with its expected band, the moment it left it, and the score; operators give it a
// verdict (false positive, true positive, missed), which the server stores and applies to the
// series' threshold.
import { h, mount, panel, empty, failure, fmtTime, labelsText, keyList } from '../dom.js';
import { api, list } from '../api.js';
import { anomalyChart } from '../evidence.js';
import { EMPTY_ANOMALIES } from '../model.js';
import { session } from '../state.js';

const VERDICTS = [
  ['false_positive', 'False positive', 'Not a problem: raises this series\' threshold above this score, so the same pattern stops alerting.'],
  ['true_positive', 'True positive', 'A real problem: confirms the alert and undoes earlier loosening of the threshold.'],
  ['missed', 'Missed', 'Worse than scored: lowers this series\' threshold below this score, so the same pattern alerts sooner.'],
];
const verdictWords = (v) => (VERDICTS.find(([k]) => k === v) || [null, v ?? ''])[1];

export async function anomalies() {
  const params = new URLSearchParams(location.search);
  const service = params.get('service') || '';
  const minScore = params.get('min_score') || '';
  const q = new URLSearchParams({ limit: '1000' });
  if (service) q.set('service', service);
  if (minScore) q.set('min_score', minScore);
  const res = await api(`/api/v1/anomalies?${q}`);
  const form = h('form', { class: 'filters', method: 'get', action: '/anomalies' },
    h('input', { name: 'service', placeholder: 'service', value: service, 'aria-label': 'Service' }),
    h('input', { name: 'min_score', placeholder: 'min score', value: minScore, inputmode: 'decimal', 'aria-label': 'Minimum score' }),
    h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams(new FormData(form));
    for (const [k, v] of [...p]) if (!v) p.delete(k);
    history.pushState(null, '', `/anomalies${p.toString() ? `?${p}` : ''}`);
    dispatchEvent(new PopStateEvent('popstate'));
  });
  if (!res.ok) return panel('Anomalies', form, failure(res));
  const items = list(res).slice().reverse();
  if (!items.length) return panel('Anomalies', form, empty(service || minScore ? 'No anomalies match.' : 'No anomalies yet.', EMPTY_ANOMALIES));
  const detail = h('div', { class: 'anomaly-detail', id: 'anomaly-detail' }, empty('Select an anomaly to chart it.', null));
  const show = async (a, row) => {
    for (const r of table.querySelectorAll('tr.selected')) r.classList.remove('selected');
    row.classList.add('selected');
    mount(detail, h('p', { class: 'loading' }, 'Loading…'));
    const chart = await anomalyChart(a, { withScore: true });
    mount(detail,
      h('h3', {}, labelsText(a.labels)),
      h('p', {}, `${fmtTime(a.time)} · value ${fmt(a.value)} · expected ${fmt(a.expected)} [${fmt(a.lower)}, ${fmt(a.upper)}] · score ${fmt(a.score)}`),
      a.explanation ? h('p', { class: 'explanation' }, a.explanation) : null,
      feedback(a, row),
      chart || empty('No stored samples for this series in that window.', null));
  };
  const table = keyList(h('table', { class: 'table', id: 'anomaly-table' },
    h('thead', {}, h('tr', {}, ['Time', 'Series', 'Service', 'Kind', 'Score', 'Verdict'].map((c) => h('th', {}, c)))),
    h('tbody', {}, items.map((a) => {
      const row = h('tr', { 'data-row': '', tabindex: '0', 'data-id': a.id },
        h('td', {}, fmtTime(a.time)), h('td', { class: 'series' }, labelsText(a.labels)),
        h('td', {}, a.service ?? ''), h('td', {}, a.kind ?? ''), h('td', { class: 'num' }, fmt(a.score)),
        h('td', { class: 'verdict' }, verdictWords(a.feedback)));
      row.addEventListener('click', () => show(a, row));
      row.addEventListener('keydown', (e) => { if (e.key === 'Enter') show(a, row); });
      return row;
    }))));
  return h('div', { class: 'split' }, panel(`Anomalies (${items.length})`, form, h('div', { class: 'scroll' }, table)), panel('Series', detail));
}

function fmt(v) {
  return typeof v === 'number' && Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : '—';
}

/** The verdict buttons for roles allowed (the API refuses others on its own), else the verdict. */
function feedback(a, row) {
  const status = h('span', { class: 'muted', role: 'status', id: 'feedback-status' }, a.feedback ? `Verdict: ${verdictWords(a.feedback)}.` : '');
  if (!session.can('operator')) return a.feedback ? h('p', { class: 'feedback' }, status) : null;
  const send = async (verdict, button) => {
    for (const b of box.querySelectorAll('button')) b.disabled = true;
    const r = await api(`/api/v1/anomalies/${encodeURIComponent(a.id)}/feedback`, { method: 'POST', body: { verdict } });
    for (const b of box.querySelectorAll('button')) b.disabled = false;
    if (!r.ok) { mount(status, h('span', { class: 'error' }, `not recorded (${r.status || 'network'}): ${r.error || ''}`)); return; }
    a.feedback = verdict;
    for (const b of box.querySelectorAll('button')) b.removeAttribute('aria-pressed');
    button.setAttribute('aria-pressed', 'true');
    mount(row.querySelector('td.verdict'), verdictWords(verdict));
    const t = r.data && typeof r.data.threshold === 'number' ? ` The series' threshold is now ${r.data.threshold.toFixed(3)}.` : '';
    mount(status, `Recorded: ${verdictWords(verdict)}.${t}`);
  };
  const box = h('div', { class: 'feedback', id: 'anomaly-feedback' }, h('span', { class: 'muted' }, 'Verdict:'),
    VERDICTS.map(([v, label, why]) => {
      const b = h('button', { type: 'button', 'data-verdict': v, title: why, 'aria-pressed': a.feedback === v ? 'true' : null }, label);
      b.addEventListener('click', () => send(v, b));
      return b;
    }),
    status);
  return box;
}
