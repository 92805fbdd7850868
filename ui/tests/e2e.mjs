// Browser tests: Debian's chromium driven by playwright-core against real Hush servers that
// crates/hush-cli/tests/ui.rs starts. Inputs come from the environment:
//   DEMO_URL        a `hush demo` server with incidents (open API, so the admin role)
//   AUTH_URL        a `hush serve` with tokens, holding a series whose labels and a log line of
//                   service postgres whose message carry PAYLOAD
//   AUTH_INCIDENT   the id of the incident an alert carrying PAYLOAD opened on AUTH_URL
//   AUTH_RUN        the run, pending approval, that AUTH_URL's runbook got on AUTH_INCIDENT
//   DEMO_ROOT_CAUSE the service the demo's scenario broke (the simulator's truth)
//   READ_TOKEN, OPERATOR_TOKEN   tokens of AUTH_URL (the operator's token is named `oncall`)
//   PAYLOAD         the injected markup
//   SHOTS_DIR       when set, screenshots of each page are written there instead of testing
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as esbuild from 'esbuild';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`environment variable ${k} is not set`);
  return v;
};

const profile = mkdtempSync(join(tmpdir(), 'hush-ui-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const errors = [];
async function open(url, { token, theme } = {}) {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(`${url}: ${e.message}`));
  // Refused requests (a missing endpoint, a token without the role, an id the server's store does
  // not use) are shown by the page itself; the browser's own log line about them is not an error.
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 40[0134]/.test(m.text())) errors.push(`${url}: console: ${m.text()}`); });
  if (theme) await page.addInitScript((t) => localStorage.setItem('hush.theme', t), theme);
  await page.goto(url);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 20000 });
  if (token) {
    // The real flow: type the token into the header form.
    await page.fill('input[name="token"]', token);
    await page.click('.token-form button[type="submit"]');
    await page.waitForFunction(() => !document.querySelector('#main .loading'));
  }
  return page;
}

/** Goes to `path` through the UI's own client-side navigation (keeps the tab's token). */
async function go(page, path) {
  await page.evaluate((p) => { history.pushState(null, '', p); dispatchEvent(new PopStateEvent('popstate')); }, path);
  await page.waitForFunction(() => !document.querySelector('#main .loading'), null, { timeout: 20000 });
}

/** Non-transparent pixels drawn on the canvases under `sel`. */
async function inked(page, sel) {
  return page.$$eval(`${sel} canvas`, (cs) => cs.reduce((n, c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let k = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) k++;
    return n + k;
  }, 0));
}

let failures = 0;
async function check(name, f) {
  try {
    await f();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}\n     ${String(e && e.stack ? e.stack : e).split('\n').slice(0, 4).join('\n     ')}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** The first incident naming `cause` as its root cause (any named cause when not given). */
async function incidentNaming(base, cause) {
  const r = await (await fetch(`${base}/api/v1/incidents?limit=1000`)).json();
  const list = Array.isArray(r.data) ? r.data : [];
  const named = list.filter((i) => i.rootCause && i.rootCause.service);
  const hit = named.find((i) => !cause || i.rootCause.service === cause);
  assert(hit || (!cause && list.length), `no incident at ${base} names ${cause || 'a root cause'}: ${named.map((i) => i.rootCause.service)}`);
  return hit || list[0];
}

async function firstIncidentPath(base) {
  return `/incidents/${encodeURIComponent((await incidentNaming(base, null)).id)}`;
}

/** Calls AUTH_URL's API with `token`; → HTTP status. */
async function call(method, path, token, body) {
  const r = await fetch(`${env('AUTH_URL')}${path}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return r.status;
}

if (process.env.SHOTS_DIR) {
  await screenshots(env('DEMO_URL'), process.env.SHOTS_DIR);
} else {
  await tests();
}
await ctx.close();
rmSync(profile, { recursive: true, force: true });
if (errors.length) {
  console.log(`FAIL page errors:\n  ${errors.join('\n  ')}`);
  failures++;
}
process.exit(failures ? 1 : 0);

async function tests() {
  const demo = env('DEMO_URL');
  const auth = env('AUTH_URL');
  const payload = env('PAYLOAD');
  const cause = env('DEMO_ROOT_CAUSE');
  const demoIncident = await incidentNaming(demo, cause);
  const incidentPath = `/incidents/${encodeURIComponent(demoIncident.id)}`;

  await check('the overview lists incidents', async () => {
    const page = await open(`${demo}/`);
    const n = await page.locator('#open-incidents a.incident-link').count();
    assert(n > 0, `no incident links on the overview: ${await page.textContent('#main')}`);
    await page.close();
  });

  await check('the incident list is keyboard-navigable', async () => {
    const page = await open(`${demo}/incidents?state=all`);
    await page.focus('#incident-table');
    await page.keyboard.press('ArrowDown');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.hasAttribute('data-row'));
    assert(focused, 'ArrowDown did not focus the first row');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/incidents\/[^/]+$/);
    await page.close();
  });

  await check('an incident page renders its evidence chart and highlights the demo\'s root cause in the topology', async () => {
    const page = await open(`${demo}${incidentPath}`);
    await page.waitForSelector('#evidence canvas', { timeout: 20000 });
    const px = await inked(page, '#evidence');
    assert(px > 1000, `evidence chart is (nearly) empty: ${px} pixels`);
    // The demo serves its estate's service graph: exactly one node is the suspect, and it is the
    // service the server named and the simulator broke.
    const suspects = await page.$$eval('#main svg.graph g.node.suspect', (gs) => gs.map((g) => ({ service: g.dataset.service, label: g.querySelector('text').textContent })));
    assert(suspects.length === 1, `expected one highlighted suspect, got ${JSON.stringify(suspects)}`);
    assert(suspects[0].service === cause && suspects[0].label === cause, `highlighted ${JSON.stringify(suspects[0])}, the demo's root cause is ${cause}`);
    assert(await page.locator('#main svg.graph g.node').count() > 1, 'the neighbourhood shows the suspect alone');
    assert((await page.textContent('#topology-suspect')).includes(`Suspected root cause: ${cause}`), `the topology panel does not name ${cause}: ${await page.textContent('#topology-suspect')}`);
    assert((await page.textContent('.hypothesis.top h3')).includes(`Suspect: ${cause}`), 'the root-cause panel names another suspect');
    // The demo loads a runbook for its database fault: it is suggested on this incident.
    await page.waitForSelector('#runbooks li[data-runbook="postgres-slow-queries"]', { timeout: 20000 });
    // Open API = admin role: the operator buttons are there (the control for the read-only check).
    assert(await page.locator('#operator-actions button[data-action="resolve"], #operator-actions button[data-action="reopen"]').count() === 1, 'operator buttons missing for the admin role');
    await page.close();
  });

  await check('every page renders without errors in both themes', async () => {
    for (const theme of ['dark', 'light']) {
      const all = ((await (await fetch(`${demo}/api/v1/incidents`)).json()).data || []).map((i) => `/incidents/${encodeURIComponent(i.id)}`);
      for (const p of ['/', '/incidents', ...all, '/anomalies', '/topology', '/capacity', '/audit', '/config', '/no/such/page']) {
        const page = await open(`${demo}${p}`, { theme });
        assert(await page.evaluate(() => document.documentElement.dataset.theme) === theme, 'theme not applied');
        assert(await page.locator('#main .panel').count() > 0, `${p}: no panel`);
        await page.close();
      }
    }
  });

  await check('the service graph: both topology shapes, suspect highlighted, names as text', async () => {
    // No server here has a topology yet, so graph.js is exercised on its own in the browser.
    const js = (await esbuild.build({ entryPoints: ['src/graph.js'], bundle: true, format: 'iife', globalName: 'G', write: false })).outputFiles[0].text;
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(`graph: ${e.message}`));
    await page.setContent(`<html data-theme="dark"><style>${readFileSync('dist/app.css', 'utf8')}</style><body><main id="m"></main></body></html>`);
    await page.addScriptTag({ content: js });
    const r = await page.evaluate((payload) => {
      const edges = [['frontend', 'gateway'], ['gateway', 'checkout'], ['checkout', 'payments'], ['payments', 'postgres'], ['users', 'postgres'], ['frontend', payload], ['postgres', 'frontend']];
      const g = G.normaliseGraph({
        nodes: [{ name: 'postgres', health: 'failing', reasons: ['5 anomalies'] }, { name: 'payments', health: 'degraded' }],
        edges: edges.map(([a, b]) => ({ caller: a, callee: b, provenance: 'traces' })),
      });
      const sub = G.neighbourhood(g, new Set(['postgres']));
      const svg = G.graphSvg(sub, { suspect: 'postgres' });
      const file = G.normaliseGraph({ services: [{ name: 'a', dependsOn: ['b', 'c'] }, { name: 'b', dependsOn: ['c'] }] });
      document.getElementById('m').append(svg, G.graphSvg(g, {}), G.graphSvg(file, {}));
      const ys = (id) => Number(document.querySelector(`svg:nth-of-type(3) g[data-service="${id}"] circle`).getAttribute('cy'));
      return {
        nodes: g.nodes.length, edges: g.edges.length,
        sub: [...svg.querySelectorAll('g.node')].map((n) => n.dataset.service).sort(),
        suspect: [...svg.querySelectorAll('g.node.suspect')].map((n) => n.dataset.service),
        failing: [...document.querySelectorAll('svg:nth-of-type(2) g.node.bad')].map((n) => n.dataset.service),
        layered: ys('a') < ys('b') && ys('b') < ys('c'),
        text: [...document.querySelectorAll('svg text')].some((t) => t.textContent === payload),
        injected: document.querySelectorAll('#m script, #m img').length,
        pwned: window.__pwned,
      };
    }, payload);
    assert(r.nodes === 7 && r.edges === 7, `graph read wrong: ${JSON.stringify(r)}`);
    assert(JSON.stringify(r.sub) === JSON.stringify(['frontend', 'payments', 'postgres', 'users']), `neighbourhood wrong: ${r.sub}`);
    assert(JSON.stringify(r.suspect) === '["postgres"]', `suspect not highlighted: ${r.suspect}`);
    assert(JSON.stringify(r.failing) === '["postgres"]', `server health not shown: ${r.failing}`);
    assert(r.layered, 'callers are not drawn above their callees');
    assert(r.text && r.injected === 0 && r.pwned === undefined, `service name not shown as text: ${JSON.stringify(r)}`);
    await page.close();
  });

  await check('injected markup in API data is shown as text and does not run', async () => {
    const page = await open(`${auth}/`, { token: env('OPERATOR_TOKEN') });
    await go(page, '/anomalies');
    const cells = await page.$$eval('#anomaly-table td.series', (tds) => tds.map((t) => t.textContent));
    assert(cells.some((c) => c.includes(payload)), `payload not shown verbatim: ${JSON.stringify(cells).slice(0, 300)}`);
    await page.locator('#anomaly-table tr[data-row]').first().click();
    await page.waitForSelector('#anomaly-detail canvas', { timeout: 20000 });
    assert(await inked(page, '#anomaly-detail') > 1000, 'anomaly chart is empty');
    assert((await page.textContent('#anomaly-detail h3')).includes(payload), 'payload missing from the detail title');
    const ran = await page.evaluate(() => window.__pwned);
    assert(ran === undefined, `injected script ran: window.__pwned = ${ran}`);
    assert(await page.locator('#main script, #main img').count() === 0, 'injected elements exist in the page');
    await page.close();
  });

  await check('a read-only token sees no operator buttons and the API refuses it; an operator token does; alert and log text stay text', async () => {
    // The incident the test's alert opened on the server with tokens.
    const path = `/incidents/${encodeURIComponent(env('AUTH_INCIDENT'))}`;
    const seen = {};
    for (const [role, token] of [['read', env('READ_TOKEN')], ['operator', env('OPERATOR_TOKEN')]]) {
      const page = await open(`${auth}/`, { token });
      // The header shows the role once the server has answered whoami for the typed token.
      await page.waitForFunction((r) => document.getElementById('who').textContent.includes(` · ${r}`), role, { timeout: 10000 })
        .catch(async () => assert(false, `whoami does not say ${role}: ${await page.textContent('#who')}`));
      await go(page, path);
      await page.waitForSelector('.incident-title');
      seen[role] = await page.locator('#operator-actions button').count();
      // The alert's label and the incident it opened carry the payload: shown as text.
      await page.waitForSelector('.timeline', { timeout: 20000 });
      assert((await page.textContent('#main')).includes(payload), `alert text with markup not shown verbatim: ${(await page.textContent('#main')).slice(0, 400)}`);
      // The suspect's log line on this server carries the payload: shown as text, not run.
      await page.waitForSelector('#related-logs', { timeout: 20000 });
      assert((await page.textContent('#related-logs')).includes(payload), `log text with markup not shown verbatim: ${await page.textContent('#related-logs')}`);
      assert(await page.evaluate(() => window.__pwned) === undefined, 'a script from an alert or log line ran');
      assert(await page.locator('#main script, #main img').count() === 0, 'elements were created from an alert or log line');
      await page.close();
    }
    assert(seen.read === 0, `read-only token sees ${seen.read} operator buttons`);
    assert(seen.operator > 0, 'operator token sees no operator buttons');
    const id = env('AUTH_INCIDENT');
    {
      const r = await fetch(`${auth}/api/v1/incidents/${id}`, { method: 'PATCH', headers: { Authorization: `Bearer ${env('READ_TOKEN')}`, 'Content-Type': 'application/json' }, body: '{"state":"acknowledged"}' });
      assert(r.status === 403, `the API let a read-only token change an incident: ${r.status}`);
      // An operator may, through the same API.
      const ok = await fetch(`${auth}/api/v1/incidents/${id}`, { method: 'PATCH', headers: { Authorization: `Bearer ${env('OPERATOR_TOKEN')}`, 'Content-Type': 'application/json' }, body: '{"note":"seen from the browser test"}' });
      assert(ok.status === 200, `the API refused an operator's note: ${ok.status}`);
    }
  });

  await remediationAndFeedback();
  await mergeAndSplit();
}

/** Two alerts of one problem on AUTH_URL, sent with the operator's token: → their incident. */
async function pairIncident() {
  const labels = { service: 'mailer', instance: 'mailer-7', cluster: 'c-merge', severity: 'warning' };
  const body = [{ labels: { alertname: 'QueueBacklog', ...labels } }, { labels: { alertname: 'SmtpDeferred', ...labels } }];
  const r = await fetch(`${env('AUTH_URL')}/api/v1/alerts`, { method: 'POST', headers: { Authorization: `Bearer ${env('OPERATOR_TOKEN')}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const j = await r.json();
  assert(r.status === 200, `alerts refused: ${JSON.stringify(j)}`);
  const [a, b] = j.data.alerts;
  assert(a.incident && a.incident === b.incident, `the two alerts did not open one incident: ${JSON.stringify(j.data)}`);
  return { id: a.incident, keep: a.fingerprint, off: b.fingerprint };
}

async function mergeAndSplit() {
  const auth = env('AUTH_URL');
  const read = env('READ_TOKEN');
  const operator = env('OPERATOR_TOKEN');
  const one = async (id) => (await (await fetch(`${auth}/api/v1/incidents/${id}`, { headers: { Authorization: `Bearer ${read}` } })).json()).data;
  const fps = (inc) => (inc.members || []).map((a) => a.fingerprint).sort();
  let pair = null;

  await check('a read-only token sees no merge or split controls and the API refuses both', async () => {
    pair = await pairIncident();
    const page = await open(`${auth}/`, { token: read });
    await go(page, `/incidents/${encodeURIComponent(pair.id)}`);
    await page.waitForSelector('.timeline', { timeout: 20000 });
    assert(await page.locator('#regroup, button[data-action="merge"], button[data-action="split"], #merge-target').count() === 0, 'a read-only token sees merge or split controls');
    await page.close();
    const split = await call('POST', `/api/v1/incidents/${pair.id}/split`, read, { alerts: [pair.off] });
    assert(split === 403, `the API answered a read-only split with ${split}`);
    const merge = await call('POST', `/api/v1/incidents/${pair.id}/merge`, read, { into: env('AUTH_INCIDENT') });
    assert(merge === 403, `the API answered a read-only merge with ${merge}`);
    assert(JSON.stringify(fps(await one(pair.id))) === JSON.stringify([pair.keep, pair.off].sort()), 'a refused change changed the incident');
  });

  await check('an operator splits an alert off in the browser and merges it back, and the API reflects both', async () => {
    assert(pair, 'no incident of two alerts to work on');
    const page = await open(`${auth}/`, { token: operator });
    await go(page, `/incidents/${encodeURIComponent(pair.id)}`);
    await page.waitForSelector('#regroup input[type="checkbox"]', { timeout: 20000 });
    assert(await page.locator('#regroup input[type="checkbox"]').count() === 2, 'not one box per alert');
    await page.check(`#regroup input[data-fingerprint="${pair.off}"]`);
    await page.click('#regroup button[data-action="split"]');
    // The page moves to the new incident.
    await page.waitForURL((u) => /\/incidents\/[^/]+$/.test(u.pathname) && !u.pathname.endsWith(pair.id), { timeout: 20000 })
      .catch(async () => assert(false, `the split did not lead to a new incident: ${await page.textContent('#regroup-status')}`));
    const created = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
    await page.waitForFunction(() => !document.querySelector('#main .loading'));
    assert(JSON.stringify(fps(await one(pair.id))) === JSON.stringify([pair.keep]), 'the alert is still in its old incident');
    const fresh = await one(created);
    assert(JSON.stringify(fps(fresh)) === JSON.stringify([pair.off]) && fresh.state === 'open', `the new incident: ${JSON.stringify(fresh)}`);

    // Back: merge the new incident into the old one from its own page.
    await page.waitForSelector('#merge-target', { timeout: 20000 });
    await page.selectOption('#merge-target', pair.id);
    await page.click('#regroup button[data-action="merge"]');
    await page.waitForURL((u) => u.pathname.endsWith(pair.id), { timeout: 20000 })
      .catch(async () => assert(false, `the merge did not lead back: ${await page.textContent('#regroup-status')}`));
    await page.waitForFunction(() => !document.querySelector('#main .loading'));
    assert(JSON.stringify(fps(await one(pair.id))) === JSON.stringify([pair.keep, pair.off].sort()), 'the alert did not come back');
    const merged = await one(created);
    assert(merged.state === 'resolved' && merged.mergedInto === pair.id && fps(merged).length === 0, `the merged incident: ${JSON.stringify(merged)}`);
    // Both show on the timeline under the operator's name, and the merged incident says where it went.
    await page.waitForSelector('.timeline', { timeout: 20000 });
    const tl = await page.textContent('.timeline');
    assert(/incident\.split by token:oncall/.test(tl) && /incident\.merge by token:oncall/.test(tl), `timeline: ${tl}`);
    await go(page, `/incidents/${encodeURIComponent(created)}`);
    assert((await page.textContent('#merged-into')).includes(pair.id), 'the merged incident does not link its target');
    assert(await page.locator('#regroup').count() === 0, 'a merged incident still offers merge and split');
    await page.close();
  });
}

async function remediationAndFeedback() {
  const auth = env('AUTH_URL');
  const read = env('READ_TOKEN');
  const operator = env('OPERATOR_TOKEN');
  const run = env('AUTH_RUN');
  const path = `/incidents/${encodeURIComponent(env('AUTH_INCIDENT'))}`;
  const row = '#runbooks li[data-runbook="postgres-slow-queries"]';
  const runState = async () => (await (await fetch(`${auth}/api/v1/remediation/runs/${run}`, { headers: { Authorization: `Bearer ${read}` } })).json()).data.state;

  await check('a read-only token sees the suggested runbook but no dry-run or approve button, and the API refuses both', async () => {
    const page = await open(`${auth}/`, { token: read });
    await go(page, path);
    await page.waitForSelector(`${row} [data-state="pending_approval"]`, { timeout: 20000 });
    assert(await page.locator('#runbooks button').count() === 0, 'a read-only token sees runbook buttons');
    assert((await page.textContent('#runbooks')).includes('need an operator token'), 'no word on why the buttons are missing');
    await page.close();
    for (const what of ['approve', 'dry-run']) {
      const status = await call('POST', `/api/v1/remediation/runs/${run}/${what}`, read);
      assert(status === 403, `the API answered a read-only ${what} with ${status}`);
    }
    assert(await runState() === 'pending_approval', 'the refused approval changed the run');
  });

  await check('an operator dry-runs and approves the suggested runbook in the browser, and the audit view shows the approval', async () => {
    const page = await open(`${auth}/`, { token: operator });
    await go(page, path);
    await page.waitForSelector(`${row} button[data-action="approve"]`, { timeout: 20000 });
    await page.click(`${row} button[data-action="dry-run"]`);
    await page.waitForSelector(`${row} pre.plan`, { timeout: 10000 });
    const plan = await page.textContent(`${row} pre.plan`);
    assert(plan.includes('note on the incident: postgres answers slowly'), `dry-run plan: ${plan}`);
    assert(await runState() === 'pending_approval', 'the dry-run changed the run');
    await page.click(`${row} button[data-action="approve"]`);
    // One annotate step: the server runs it at once and the panel follows the run to its end.
    await page.waitForSelector(`${row} [data-state="succeeded"]`, { timeout: 20000 })
      .catch(async () => assert(false, `the approved run did not succeed: ${await page.textContent(row)}`));
    assert((await page.textContent(row)).includes('approved by token:oncall'), `approver not shown: ${await page.textContent(row)}`);
    assert(await page.locator(`${row} button[data-action="approve"]`).count() === 0, 'approve is still offered after approval');
    await go(page, '/audit');
    const rows = await page.$$eval('#audit-table tbody tr', (trs) => trs.map((t) => [...t.cells].map((c) => c.textContent)));
    const approved = rows.findIndex((c) => c[3] === 'remediation.run.approved' && c[2] === 'token:oncall' && c[4] === run);
    assert(approved >= 0, `no approval of ${run} by token:oncall in the audit view: ${JSON.stringify(rows.map((c) => c.slice(2, 5)))}`);
    // Newest first: the run's later entries come above its approval.
    const finished = rows.findIndex((c) => c[3] === 'remediation.run.finished' && c[4] === run);
    assert(finished >= 0 && finished < approved, `the audit view is not newest first: finished at row ${finished}, approved at ${approved}`);
    await page.close();
  });

  await check('an operator gives an anomaly a verdict in the explorer and the API records it; a read-only token cannot', async () => {
    const first = '#anomaly-table tr[data-row]';
    const ro = await open(`${auth}/`, { token: read });
    await go(ro, '/anomalies');
    await ro.locator(first).first().click();
    await ro.waitForSelector('#anomaly-detail h3', { timeout: 20000 });
    assert(await ro.locator('#anomaly-detail button[data-verdict]').count() === 0, 'a read-only token sees verdict buttons');
    const id = await ro.locator(first).first().getAttribute('data-id');
    await ro.close();
    const refused = await call('POST', `/api/v1/anomalies/${id}/feedback`, read, { verdict: 'true_positive' });
    assert(refused === 403, `the API answered a read-only verdict with ${refused}`);

    const page = await open(`${auth}/`, { token: operator });
    await go(page, '/anomalies');
    const rowSel = `#anomaly-table tr[data-id="${id}"]`;
    await page.click(rowSel);
    await page.click('#anomaly-feedback button[data-verdict="false_positive"]');
    await page.waitForFunction(() => /Recorded: False positive/.test(document.getElementById('feedback-status').textContent), null, { timeout: 10000 })
      .catch(async () => assert(false, `verdict not recorded: ${await page.textContent('#anomaly-feedback')}`));
    assert(await page.textContent(`${rowSel} td.verdict`) === 'False positive', 'the list does not show the verdict');
    const listed = (await (await fetch(`${auth}/api/v1/anomalies?service=shop&limit=1000`, { headers: { Authorization: `Bearer ${read}` } })).json()).data;
    const judged = listed.filter((a) => a.feedback);
    assert(judged.length === 1 && String(judged[0].id) === id && judged[0].feedback === 'false_positive', `the API holds these verdicts: ${JSON.stringify(judged.map((a) => [a.id, a.feedback]))}`);
    // Drawn again from the server: the verdict is still there.
    await go(page, '/anomalies');
    assert(await page.textContent(`${rowSel} td.verdict`) === 'False positive', 'the verdict is gone after reloading the list');
    await page.close();
  });
}

async function screenshots(base, dir) {
  const incidentPath = await firstIncidentPath(base);
  const pages = [['overview', '/'], ['incidents', '/incidents?state=all'], ['incident', incidentPath], ['anomalies', '/anomalies'], ['topology', '/topology'], ['capacity', '/capacity'], ['audit', '/audit'], ['config', '/config']];
  for (const [name, p] of pages) {
    const page = await open(`${base}${p}`, { theme: 'dark' });
    if (name === 'anomalies') {
      const row = page.locator('#anomaly-table tr[data-row]');
      if (await row.count()) {
        await row.first().click();
        await page.waitForSelector('#anomaly-detail canvas', { timeout: 20000 }).catch(() => {});
      }
    }
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(dir, `${name}.png`), fullPage: false });
    console.log(`wrote ${join(dir, `${name}.png`)}`);
    await page.close();
  }
}
