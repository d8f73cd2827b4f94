// page.mjs - the page of stack serve (api/web/) in Debian's Chromium with playwright-core (tests/e2e/page.sh).
//
//   node page.mjs --origin https://127.0.0.1:PORT --port PORT --slug SLUG --request-cmd CMD --shots DIR \
//                 --stack-url http://127.0.0.1:STACK-PORT
//
// 1. A fresh browser context opens the link `$STACK_BIN open --print --port PORT` prints: it must land on /
//    with the app.
// 2. CMD (sh -c, in the background) asks for a run over the API (POST /run without a token: it waits); the
//    request must appear in the page by itself (server-sent events; the page is never reloaded: a marker set
//    on window before must still be there after).
// 3. Approve is clicked (keyboard: focus + Enter); the run of SLUG must show "running" without a reload.
// 4. Logs are opened (and follow: a request to STACK-URL logs a line that must appear by itself), then the gc
//    dry run; screenshots of each view at laptop (1280x800) and phone (390x844) width.
// 4b. Snapshots: a file in the stack's data dir, `$STACK_BIN snapshot SLUG` in a terminal: the snapshot must
//    appear in the Snapshots section by itself (no reload); then "Take snapshot" (keyboard) must list a second.
// 5. The link a second time: the status and the page's heading.
// 6. A fresh context without the session, and one with a forged session cookie: what / shows, and what
//    fetch('/runs') and fetch('/stacks') answer there.
// Prints one JSON object with the findings (and the session cookie, for the caller's curl checks).
import { chromium } from 'playwright-core';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const k of ['origin', 'port', 'slug', 'request-cmd', 'shots', 'stack-url'])
  if (!args[k]) throw new Error('page.mjs: --' + k + ' is missing');

const out = { console: [], steps: [] };
const laptop = { width: 1280, height: 800 }, phone = { width: 390, height: 844 };
let browser;

// Chromium fails a navigation with ERR_NETWORK_CHANGED when the Docker Engine adds an interface (other runs on
// the machine): that says nothing about the page, so such a navigation is made again (at most 5 tries).
async function goto(page, url) {
  for (let i = 1; ; i++) {
    try { return await page.goto(typeof url === 'function' ? url() : url, { waitUntil: 'load' }); }
    catch (e) {
      if (i >= 5 || !String(e).includes('ERR_NETWORK_CHANGED')) throw e;
      out.retries = (out.retries || 0) + 1;
      await page.waitForTimeout(300);
    }
  }
}

// A fresh login link for each try (a try that reached the daemon used its link up).
function newLink() {
  const link = execFileSync(process.env.STACK_BIN, ['open', '--print', '--port', args.port], { encoding: 'utf8' }).trim();
  out.links = (out.links || []).concat([link]);
  return link;
}

async function shots(page, name) {
  await page.setViewportSize(laptop);
  await page.screenshot({ path: `${args.shots}/${name}-laptop.png`, fullPage: true });
  await page.setViewportSize(phone);
  await page.screenshot({ path: `${args.shots}/${name}-phone.png`, fullPage: true });
  await page.setViewportSize(laptop);
}

async function outsider(ctx, name) {
  const page = await ctx.newPage();
  const resp = await goto(page, args.origin + '/');
  await page.waitForTimeout(500);
  const r = await page.evaluate(async () => {
    const get = async (p) => { const x = await fetch(p); return { status: x.status, body: await x.text() }; };
    return { runs: await get('/runs'), stacks: await get('/stacks') };
  });
  out[name] = {
    status: resp.status(),
    loginNeeded: await page.isVisible('#login-needed'),
    hasApp: (await page.$('#runs-body')) !== null,
    text: await page.textContent('body'),
    fetch: r,
  };
  await page.screenshot({ path: `${args.shots}/${name}.png` });
  await page.close();
}

try {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
    env: process.env,
    timeout: 30000,
  });
  const ctx = await browser.newContext({ viewport: laptop });
  const page = await ctx.newPage();
  page.on('console', (m) => out.console.push(m.type() + ': ' + m.text()));
  page.on('pageerror', (e) => out.console.push('pageerror: ' + e.message));

  // 1. log in
  const first = await goto(page, newLink);
  out.login = { url: page.url(), status: first.status() };
  await page.waitForSelector('#live.on', { timeout: 15000 });
  out.cookies = await ctx.cookies();
  await page.evaluate(() => { window.__notReloaded = true; });
  await shots(page, 'empty');
  out.steps.push('logged in');

  // 2. a request over the API, seen live
  const req = spawn('sh', ['-c', args['request-cmd']], { stdio: 'ignore', detached: true });
  req.unref();
  const card = `li.request:has(strong.ref:text-matches("^${args.slug}@"))`;
  await page.waitForSelector(card, { timeout: 20000 });
  out.pending = {
    text: await page.textContent(card),
    id: await page.getAttribute(card, 'data-request'),
    count: await page.textContent('#requests-count'),
    notReloaded: await page.evaluate(() => window.__notReloaded === true),
  };
  await shots(page, 'pending');
  out.steps.push('pending seen');

  // 3. approve with the keyboard, see it running
  await page.focus(`${card} button.approve`);
  await page.keyboard.press('Enter');
  const row = `tr[data-slug="${args.slug}"]`;
  await page.waitForFunction((sel) => {
    const s = document.querySelector(sel + ' .state');
    return s && s.textContent === 'running';
  }, row, { timeout: 120000 });
  // the address: the front door's, once the start's last line ("running: https://...") came over /events
  await page.waitForSelector(`${row} td[data-label="Address"] a[href^="https://"]`, { timeout: 10000 }).catch(() => null);
  out.running = {
    row: await page.textContent(row),
    address: await page.getAttribute(`${row} td[data-label="Address"] a`, 'href').catch(() => null),
    requestsLeft: await page.$$eval('li.request', (l) => l.length),
    notReloaded: await page.evaluate(() => window.__notReloaded === true),
    stacks: await page.textContent('#stacks-body'),
  };
  await shots(page, 'running');
  out.steps.push('running seen');

  // 4. logs and gc
  await page.click(`${row} button.logs`);
  await page.waitForFunction(() => {
    const t = document.getElementById('logs-text').textContent;
    return t && t !== 'reading...';
  }, null, { timeout: 30000 });
  // following: a request to the stack makes httpd -v log a line, which must arrive by itself
  await page.waitForFunction(() => document.getElementById('logs-text').textContent.includes('page-test-log-line'),
                             null, { timeout: 30000 });
  await fetch(args['stack-url'] + '/followed-' + process.pid).catch(() => null);
  out.followed = await page.waitForFunction((p) => document.getElementById('logs-text').textContent.includes('followed-' + p),
                                            process.pid, { timeout: 30000 }).then(() => true, () => false);
  out.logs = await page.textContent('#logs-text');
  await shots(page, 'logs');
  await page.click('#logs-close');
  await page.click('#gc-check');
  await page.waitForSelector('#gc-report:not([hidden])', { timeout: 15000 });
  out.gc = await page.textContent('#gc-report');
  await page.locator('#storage').scrollIntoViewIfNeeded();
  await shots(page, 'gc');
  out.steps.push('logs and gc');

  // 4b. snapshots: one from the CLI shows by itself, one from the button
  mkdirSync(`${process.env.STACK_HOME}/data/${args.slug}`, { recursive: true });
  writeFileSync(`${process.env.STACK_HOME}/data/${args.slug}/page-note.txt`, 'kept by a snapshot\n');
  execFileSync(process.env.STACK_BIN, ['snapshot', args.slug], { encoding: 'utf8' });
  const snapRows = `#snapshots-body tr[data-slug="${args.slug}"]`;
  await page.waitForSelector(snapRows, { timeout: 15000 });
  out.snapCli = {
    rows: await page.$$eval(snapRows, (l) => l.map((r) => r.dataset.snapshot)),
    text: await page.textContent(snapRows),
    count: await page.textContent('#snapshots-count'),
    notReloaded: await page.evaluate(() => window.__notReloaded === true),
  };
  const take = `#snap-take button[data-slug="${args.slug}"]`;
  out.snapButton = { label: await page.getAttribute(take, 'aria-label') };
  await page.focus(take);
  await page.keyboard.press('Enter');
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 2, snapRows, { timeout: 60000 });
  await page.waitForFunction(() => ((document.getElementById('snap-status') || {}).textContent || '').startsWith('Snapshot '),
    null, { timeout: 10000 })
    .catch(() => null);
  out.snapTaken = {
    rows: await page.$$eval(snapRows, (l) => l.map((r) => r.dataset.snapshot)),
    texts: await page.$$eval(snapRows, (l) => l.map((r) => r.textContent)),
    status: await page.textContent('#snap-status'),
    count: await page.textContent('#snapshots-count'),
    error: await page.isVisible('#error'),
    notReloaded: await page.evaluate(() => window.__notReloaded === true),
  };
  await page.evaluate(() => window.scrollTo(0, 0)); // full-page shots: the sticky header at the top
  await shots(page, 'snapshots');
  out.steps.push('snapshots');

  // 5. the link again
  const again = await ctx.newPage();
  const second = await goto(again, out.links[out.links.length - 1]);
  out.reused = { status: second.status(), heading: await again.textContent('h1'), url: again.url() };
  await again.screenshot({ path: `${args.shots}/link-reused.png` });
  await again.close();
  await ctx.close();

  // 6. without the session, and with a forged one
  const fresh = await browser.newContext({ viewport: laptop });
  await outsider(fresh, 'fresh');
  await fresh.close();
  const forged = await browser.newContext({ viewport: laptop });
  await forged.addCookies([{ name: 'stack_session', value: 'f'.repeat(64), url: args.origin, secure: true, httpOnly: true,
                             sameSite: 'Strict' }]);
  await outsider(forged, 'forged');
  await forged.close();
} catch (e) {
  out.harnessError = String(e && e.stack ? e.stack : e);
} finally {
  if (browser) await browser.close();
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
process.exit(out.harnessError ? 1 : 0);
