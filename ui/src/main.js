// The shell: navigation, client-side routes, theme, token and role.
import { h, mount } from './dom.js';
import { api, token } from './api.js';
import { overview } from './pages/overview.js';
import { incidentList } from './pages/incidents.js';
import { incidentPage } from './pages/incident.js';
import { anomalies } from './pages/anomalies.js';
import { topologyPage } from './pages/topology.js';
import { capacity } from './pages/capacity.js';
import { audit } from './pages/audit.js';
import { configPage } from './pages/config.js';
import { session, leaving, navigate } from './state.js';

const routes = [
  [/^\/$/, overview, 'Overview'],
  [/^\/incidents\/?$/, incidentList, 'Incidents'],
  [/^\/incidents\/([^/]+)$/, incidentPage, null],
  [/^\/anomalies\/?$/, anomalies, 'Anomalies'],
  [/^\/topology\/?$/, topologyPage, 'Topology'],
  [/^\/capacity\/?$/, capacity, 'Capacity'],
  [/^\/audit\/?$/, audit, 'Audit'],
  [/^\/config\/?$/, configPage, 'Configuration'],
];
const NAV = [['/', 'Overview'], ['/incidents', 'Incidents'], ['/anomalies', 'Anomalies'], ['/topology', 'Topology'], ['/capacity', 'Capacity'], ['/audit', 'Audit'], ['/config', 'Configuration']];

async function render() {
  for (const f of leaving.splice(0)) f();
  const path = location.pathname;
  const main = document.getElementById('main');
  for (const a of document.querySelectorAll('nav a')) {
    const here = a.getAttribute('href') === path || (a.getAttribute('href') !== '/' && path.startsWith(a.getAttribute('href')));
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  for (const [re, page, title] of routes) {
    const m = path.match(re);
    if (m) {
      document.title = `${title || 'Incident'} · Hush`;
      mount(main, h('p', { class: 'loading' }, 'Loading…'));
      const gen = (render.gen = (render.gen || 0) + 1);
      const view = await page(...m.slice(1).map(decodeURIComponent));
      // A newer navigation won: drop this page.
      if (gen === render.gen) mount(main, view);
      return;
    }
  }
  mount(main, h('section', { class: 'panel' }, h('h2', {}, 'Not found'), h('p', {}, `No page at ${path}.`)));
}

function theme() {
  const saved = localStorage.getItem('hush.theme');
  const t = saved || (matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark');
  document.documentElement.dataset.theme = t;
  return t;
}

async function whoami() {
  const r = await api('/api/v1/whoami');
  session.role = r.ok && r.data ? r.data.role || null : null;
  session.auth = r.ok && r.data ? !!r.data.auth : r.status === 401;
  const el = document.getElementById('who');
  if (!el) return;
  if (r.ok && r.data && !r.data.auth) mount(el, 'open API (no tokens configured)');
  else if (r.ok && r.data && r.data.role) mount(el, `${r.data.name || 'token'} · ${r.data.role}`);
  else if (r.ok) mount(el, 'no token');
  else mount(el, `token refused: ${r.error || r.status}`);
}

function tokenForm() {
  const input = h('input', { type: 'password', name: 'token', placeholder: 'API token', autocomplete: 'off', 'aria-label': 'API token' });
  const form = h('form', { class: 'token-form', onsubmit: async (e) => {
    e.preventDefault();
    token.set(input.value.trim());
    input.value = '';
    await whoami();
    render();
  } }, input, h('button', { type: 'submit' }, 'Use token'),
  h('button', { type: 'button', onclick: async () => { token.set(''); await whoami(); render(); } }, 'Forget'));
  return form;
}

async function start() {
  theme();
  const nav = h('nav', { 'aria-label': 'Pages' }, NAV.map(([href, label]) => h('a', { href }, label)));
  const header = h('header', {},
    h('a', { href: '/', class: 'brand' }, 'Hush'),
    nav,
    h('div', { class: 'tools' },
      h('span', { id: 'who', class: 'who' }),
      tokenForm(),
      h('button', { type: 'button', class: 'theme', title: 'Switch theme', onclick: () => {
        const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
        localStorage.setItem('hush.theme', next);
        theme();
        render();
      } }, 'Theme')));
  mount(document.body, header, h('main', { id: 'main', tabindex: '-1' }));
  // Same-origin links navigate without reloading.
  document.addEventListener('click', (e) => {
    const a = e.target.closest && e.target.closest('a[href]');
    if (!a || a.target || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
  });
  addEventListener('popstate', render);
  await whoami();
  await render();
  document.body.dataset.ready = '1';
}

start();
