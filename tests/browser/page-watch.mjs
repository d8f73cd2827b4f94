// page-watch.mjs - the page's approval card and what it shows of watched runs (tests/e2e/page-watch.sh), in
// Debian's Chromium with playwright-core.
//
//   node page-watch.mjs --origin https://127.0.0.1:PORT --port PORT --slug SLUG --request-cmd CMD --shots DIR
//
// 1. Logs in with a fresh `stack open --print` link; CMD (sh -c, in the background) asks for a run over the API
//    (POST /run without a token: it waits). The request's card must appear by itself, with the icon (an image
//    that loaded from GET /stacks/SLUG/icon), signer, permissions, images, ports, address and limits.
// 2. Approve: the run must show "running" (real daemon, real Engine).
// 3. What the watcher and the sampler send (SSE "run", "usage", "alert") and GET /alerts, POST
//    /alerts/{id}/dismiss are the test's own fixtures: the alerts endpoints are answered by page.route(), and the
//    events are dispatched on the page's own EventSource (recorded by an init script) exactly as the server's
//    would arrive, so the page's handling is what is tested. The run's row must show the new state, health and
//    restarts, its usage and sparklines; an alert listed at load and one arriving live must show, and Dismiss
//    must remove one (the POST made) - all without a reload (a marker on window survives).
// Prints one JSON object with the findings; screenshots at laptop and phone width in DIR.
import { chromium } from 'playwright-core';
import { execFileSync, spawn } from 'node:child_process';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const k of ['origin', 'port', 'slug', 'request-cmd', 'shots'])
  if (!args[k]) throw new Error('page-watch.mjs: --' + k + ' is missing');

const out = { console: [], steps: [], dismissed: [] };
const laptop = { width: 1280, height: 900 }, phone = { width: 390, height: 844 };
const now = Date.now();
const alertAtLoad = { id: 'al0000000001', slug: args.slug, run_id: null, kind: 'exec', container: 'web',
                      detail: 'docker exec: sh -c id', at: now - 60000, dismissed_at: null };
const alertLive = { id: 'al0000000002', slug: args.slug, run_id: null, kind: 'config-drift', container: 'web',
                    detail: 'docker update --memory 64m', at: now, dismissed_at: null };
let browser;

async function shots(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.setViewportSize(laptop);
  await page.screenshot({ path: `${args.shots}/${name}-laptop.png`, fullPage: true });
  await page.setViewportSize(phone);
  await page.screenshot({ path: `${args.shots}/${name}-phone.png`, fullPage: true });
  await page.setViewportSize(laptop);
}

async function goto(page, url) {
  for (let i = 1; ; i++) {
    try { return await page.goto(url(), { waitUntil: 'load' }); }
    catch (e) { if (i >= 5 || !String(e).includes('ERR_NETWORK_CHANGED')) throw e; await page.waitForTimeout(300); }
  }
}

const notReloaded = (page) => page.evaluate(() => window.__notReloaded === true);
const emit = (page, name, data) => page.evaluate(([n, d]) => {
  window.__es.dispatchEvent(new MessageEvent(n, { data: JSON.stringify(d) }));
}, [name, data]);

try {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true, env: process.env, timeout: 30000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const ctx = await browser.newContext({ viewport: laptop });
  const page = await ctx.newPage();
  page.on('console', (m) => out.console.push(m.type() + ': ' + m.text()));
  page.on('pageerror', (e) => out.console.push('pageerror: ' + e.message));
  // the page's EventSource, so the test can deliver the watcher's events on it
  await ctx.addInitScript(() => {
    const ES = window.EventSource;
    window.EventSource = class extends ES { constructor(u, o) { super(u, o); window.__es = this; } };
  });
  await ctx.route('**/alerts', (r) => r.fulfill({ status: 200, contentType: 'application/json',
    body: JSON.stringify({ alerts: [alertAtLoad] }) }));
  await ctx.route('**/alerts/*/dismiss', (r) => {
    const id = r.request().url().split('/').slice(-2)[0];
    out.dismissed.push({ id, method: r.request().method() });
    return r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ dismissed: id }) });
  });

  // 1. log in; the request's card
  await goto(page, () => execFileSync(process.env.STACK_BIN, ['open', '--print', '--port', args.port], { encoding: 'utf8' }).trim());
  await page.waitForSelector('#live.on', { timeout: 15000 });
  await page.evaluate(() => { window.__notReloaded = true; });
  spawn('sh', ['-c', args['request-cmd']], { stdio: 'ignore', detached: true }).unref();
  const card = `li.request:has(strong.ref:text-matches("^${args.slug}@"))`;
  await page.waitForSelector(card, { timeout: 20000 });
  const cardCss = `li.request[data-request="${await page.getAttribute(card, 'data-request')}"]`;
  await page.waitForFunction((sel) => { const i = document.querySelector(sel + ' img.icon'); return i && i.complete; }, cardCss,
    { timeout: 10000 }).catch(() => null);
  out.card = await page.evaluate((sel) => {
    const c = document.querySelector(sel), facts = {};
    for (const f of c.querySelectorAll('.fact')) facts[f.querySelector('dt').textContent] = f.querySelector('dd').textContent;
    const img = c.querySelector('img.icon');
    return { text: c.textContent, facts, icon: img ? { src: img.getAttribute('src'), width: img.naturalWidth } : null,
             initial: (c.querySelector('.icon.initial') || {}).textContent || null };
  }, cardCss);
  out.card.notReloaded = await notReloaded(page);
  await shots(page, 'watch-approval');
  out.steps.push('card');

  // 2. approve: running
  await page.click(`${card} button.approve`);
  const row = `tr[data-slug="${args.slug}"]`;
  await page.waitForFunction((sel) => {
    const s = document.querySelector(sel + ' .badge.state');
    return s && s.textContent === 'running';
  }, row, { timeout: 120000 });
  const runId = await page.getAttribute(row, 'data-run');
  await page.waitForTimeout(1500); // the start's last events and the reads they cause are over
  out.steps.push('running');

  // 3. the watcher's events
  alertAtLoad.run_id = alertLive.run_id = runId;
  await page.waitForSelector(`li.alert[data-alert="${alertAtLoad.id}"]`, { timeout: 10000 });
  await emit(page, 'run', { id: runId, slug: args.slug, state: 'restarting', reason: 'healthcheck failed: no answer on :8080',
                            health: 'unhealthy', restarts: 2 });
  for (let i = 0; i < 12; i++)
    await emit(page, 'usage', { id: runId, t: now + i * 2000, cpu_percent: 5 + 3 * (i % 4), mem_used: (20 + i) * 1048576,
                                mem_limit: 268435456 });
  await emit(page, 'alert', alertLive);
  await page.waitForSelector(`li.alert[data-alert="${alertLive.id}"]`, { timeout: 5000 });
  out.run = await page.evaluate((sel) => {
    const r = document.querySelector(sel);
    return { state: r.querySelector('.badge.state').textContent, health: (r.querySelector('.badge.health') || {}).textContent,
             restarts: (r.querySelector('.restarts') || {}).textContent, reason: (r.querySelector('.reason') || {}).textContent,
             usage: r.querySelector('td.usage').textContent,
             sparkPoints: [...r.querySelectorAll('svg.spark polyline')].map((p) => p.getAttribute('points').split(' ').length) };
  }, row);
  out.alerts = { before: await page.$$eval('li.alert', (l) => l.map((a) => a.dataset.alert + ' ' + a.textContent)),
                 count: await page.textContent('#alerts-count') };
  await page.locator('#alerts').scrollIntoViewIfNeeded();
  await shots(page, 'watch-runs');
  await page.click(`li.alert[data-alert="${alertAtLoad.id}"] button.dismiss`);
  await page.waitForSelector(`li.alert[data-alert="${alertAtLoad.id}"]`, { state: 'detached', timeout: 5000 });
  out.alerts.after = await page.$$eval('li.alert', (l) => l.map((a) => a.dataset.alert));
  out.alerts.countAfter = await page.textContent('#alerts-count');
  out.notReloaded = await notReloaded(page);
  out.error = await page.isVisible('#error') ? await page.textContent('#error') : null;
  await shots(page, 'watch-dismissed');
  out.steps.push('watch');
  await ctx.close();
} catch (e) {
  out.harnessError = String(e && e.stack ? e.stack : e);
} finally {
  if (browser) await browser.close();
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
process.exit(out.harnessError ? 1 : 0);
