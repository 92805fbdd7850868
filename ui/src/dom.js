// DOM helpers. Every string from the API goes through createTextNode / textContent:
// nothing here ever assigns innerHTML, so incident, alert and label text cannot become markup.

/** h('a', {href: '/x', class: 'c', onclick: fn}, 'text', child, [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A panel: title, then body. */
export function panel(title, ...body) {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...body);
}

/** An empty state telling how to get data here. */
export function empty(what, how) {
  return h('div', { class: 'empty' }, h('p', { class: 'empty-what' }, what), how ? h('p', { class: 'empty-how' }, how) : null);
}

/** The API answered with an error: say which and why. */
export function failure(res) {
  if (res.status === 404) return empty('Not available on this server.', res.error || 'endpoint not found');
  if (res.status === 401 || res.status === 403) return empty('Not allowed with the current token.', res.error || '');
  return h('div', { class: 'error', role: 'alert' }, `Request failed (${res.status || 'network'}): ${res.error || ''}`);
}

/** A priority badge (P1…P5). */
export function prio(p) {
  const s = typeof p === 'number' ? `P${p}` : String(p || '?');
  return h('span', { class: `badge prio prio-${s.toLowerCase()}` }, s);
}

export function stateBadge(s) {
  const v = String(s || 'unknown');
  return h('span', { class: `badge state state-${v.toLowerCase()}` }, v);
}

/** Seconds, milliseconds or RFC 3339 → Date (null if unreadable). */
export function toDate(t) {
  if (t === undefined || t === null || t === '') return null;
  if (typeof t === 'number') return new Date(t > 1e11 ? t : t * 1000);
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function fmtTime(t) {
  const d = toDate(t);
  return d ? d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—';
}

export function labelsText(labels) {
  if (!labels || typeof labels !== 'object') return '';
  const name = labels.__name__ || '';
  const rest = Object.entries(labels).filter(([k]) => k !== '__name__').map(([k, v]) => `${k}="${v}"`);
  return `${name}{${rest.join(', ')}}`;
}

/** Makes the rows of a list reachable with j/k or arrows, Enter opens the focused row's link. */
export function keyList(container) {
  // Focusable itself, so the keys work before any row has focus.
  if (!container.hasAttribute('tabindex')) container.setAttribute('tabindex', '0');
  container.addEventListener('keydown', (e) => {
    const rows = [...container.querySelectorAll('[data-row]')];
    if (!rows.length) return;
    const i = rows.indexOf(document.activeElement);
    let next = null;
    if (e.key === 'ArrowDown' || e.key === 'j') next = rows[Math.min(rows.length - 1, i + 1)];
    else if (e.key === 'ArrowUp' || e.key === 'k') next = rows[Math.max(0, i - 1)];
    else if (e.key === 'Home') next = rows[0];
    else if (e.key === 'End') next = rows[rows.length - 1];
    else if (e.key === 'Enter' && i >= 0) {
      const a = rows[i].querySelector('a[href]');
      if (a) { a.click(); e.preventDefault(); }
      return;
    }
    if (next) { next.focus(); e.preventDefault(); }
  });
  return container;
}
