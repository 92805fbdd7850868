// Client-side cost of the overview and incident list with many incidents: the UI comes from a
// real Hush server (BASE_URL), `/api/v1/incidents` is answered with N generated incidents
// (the incidents API serves at most 1000 per page), and the time from navigation to the
// rendered page is measured. It does not measure the server's query time.
//   BASE_URL=http://127.0.0.1:9650 N=1000 node tests/render-bench.mjs
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.env.BASE_URL;
const n = Number(process.env.N || 1000);
const runs = Number(process.env.RUNS || 5);
const services = ['checkout', 'payments', 'postgres', 'gateway', 'search', 'users', 'catalog'];
const t0 = Date.parse('2026-11-01T00:00:00Z');
const data = Array.from({ length: n }, (_, k) => ({
  id: `00000000-0000-7000-8000-${String(k).padStart(12, '0')}`,
  state: ['open', 'acknowledged', 'resolved'][k % 3],
  priority: `P${1 + (k % 5)}`,
  title: `Latency of ${services[k % 7]} above its band (${k})`,
  openedAt: t0 + k * 60_000,
  services: [services[k % 7], services[(k + 3) % 7]],
  alerts: 1 + (k % 9),
}));
const body = JSON.stringify({ status: 'success', data, next: null });

const profile = mkdtempSync(join(tmpdir(), 'hush-ui-bench-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
// REAL=1: the server's own incidents (e.g. after `hush bench alerts`), nothing generated.
if (!process.env.REAL) await ctx.route(/\/api\/v1\/incidents(\?|$)/, (r) => r.fulfill({ status: 200, contentType: 'application/json', body }));
for (const [name, path, sel] of [['overview', '/', '#open-incidents'], ['incident list', '/incidents?state=all', '#incident-table tbody tr']]) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const page = await ctx.newPage();
    const start = Date.now();
    await page.goto(`${base}${path}`);
    await page.waitForSelector(sel, { timeout: 30000 });
    await page.waitForSelector('body[data-ready="1"]');
    times.push(Date.now() - start);
    const rows = await page.locator(sel).count();
    if (i === 0) console.log(`${name}: ${rows} element(s) matched ${sel}`);
    await page.close();
  }
  times.sort((a, b) => a - b);
  console.log(`${name}, ${process.env.REAL ? 'server' : n} incidents: median ${times[Math.floor(runs / 2)]} ms, max ${times[runs - 1]} ms over ${runs} loads`);
}
await ctx.close();
rmSync(profile, { recursive: true, force: true });
