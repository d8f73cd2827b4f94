// stack-page.mjs - drive the catalog website's stack page (site/) in Debian's Chromium with playwright-core.
//
//   node stack-page.mjs --url URL --shot FILE [--start] [--decide approve|deny] [--wait-ms N]
//
// Opens URL (site/index.html?slug=..&port=..), waits for the page's /health check to finish, and, with
// --start, presses "Start it now" (POST /run) and waits until the page has read the whole answer. With
// --decide it waits for the line "waiting for approval: stack approve <slug>   (request <id>)" and then runs
// `$STACK_BIN approve <slug>` or `$STACK_BIN deny <id>` itself, the way the person would from a terminal.
// Takes a screenshot (FILE, and FILE with -streaming before the decision), then prints one JSON object on
// stdout: what the page recorded (window.stackPage), the log panel's text and state, the iframe's src when the
// first line arrived and at the end, the console messages, and the CLI's exit code and output. The caller
// (tests/e2e/browser.sh) asserts on it.
//
// Chromium: /usr/bin/chromium (never a downloaded browser), a new empty user-data-dir, HOME as the caller set
// it: its ~/.pki/nssdb trusts the daemon's certificate (no certificate errors are ignored).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = { start: false, decide: null, waitMs: 60000 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const next = () => {
    if (i + 1 >= process.argv.length) throw new Error(a + ' wants a value');
    return process.argv[++i];
  };
  if (a === '--url') args.url = next();
  else if (a === '--shot') args.shot = next();
  else if (a === '--start') args.start = true;
  else if (a === '--decide') args.decide = next();
  else if (a === '--wait-ms') args.waitMs = Number(next());
  else throw new Error('unknown argument ' + a);
}
if (!args.url || !args.shot) throw new Error('usage: stack-page.mjs --url URL --shot FILE [--start] [--decide approve|deny]');
if (args.decide && !['approve', 'deny'].includes(args.decide)) throw new Error('--decide approve|deny');

const profile = mkdtempSync(join(process.env.TMPDIR || tmpdir(), 'stack-chromium-'));
const chromeArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const out = { console: [], failedRequests: [] };
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: chromeArgs,
    env: process.env,
    viewport: { width: 1000, height: 640 },
    timeout: 30000,
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('console', (m) => out.console.push(m.type() + ': ' + m.text()));
  page.on('pageerror', (e) => out.console.push('pageerror: ' + e.message));
  page.on('requestfailed', (r) => out.failedRequests.push(r.method() + ' ' + r.url() + ' ' + (r.failure()?.errorText || '')));
  await page.goto(args.url, { waitUntil: 'load', timeout: 15000 });
  await page.waitForFunction(() => window.stackPage && window.stackPage.health !== 'pending', null, { timeout: 15000 });

  if (args.start) {
    await page.click('#start');
    if (args.decide) {
      const re = /waiting for approval: stack approve (\S+)\s+\(request ([^)\s]+)\)/;
      await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('log').textContent), re.source, {
        timeout: 20000,
      });
      const m = re.exec(await page.textContent('#log'));
      out.waiting = { slug: m[1], id: m[2] };
      out.whileWaiting = await page.evaluate(() => ({
        run: window.stackPage.run,
        iframe: document.getElementById('app').getAttribute('src'),
        panel: document.getElementById('panel').className,
      }));
      await page.screenshot({ path: args.shot.replace(/\.png$/, '') + '-streaming.png' });
      const cli = [args.decide, args.decide === 'approve' ? m[1] : m[2]];
      try {
        out.cli = { argv: cli, code: 0, output: execFileSync(process.env.STACK_BIN, cli, { encoding: 'utf8', stdio: 'pipe' }) };
      } catch (e) {
        out.cli = { argv: cli, code: e.status, output: String(e.stdout || '') + String(e.stderr || '') };
      }
    }
    await page.waitForFunction(() => ['done', 'error'].includes(window.stackPage.run), null, { timeout: args.waitMs });
  }
  out.page = await page.evaluate(() => window.stackPage);
  out.log = await page.textContent('#log');
  out.panel = await page.evaluate(() => ({
    hidden: document.getElementById('panel').hidden,
    className: document.getElementById('panel').className,
  }));
  out.iframe = await page.getAttribute('#app', 'src');
  out.healthText = await page.textContent('#health');
  out.downloadShown = await page.isVisible('#download');
  await page.screenshot({ path: args.shot });
} catch (e) {
  out.harnessError = String(e && e.stack ? e.stack : e);
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
process.exit(out.harnessError ? 1 : 0);
