// page-text.mjs - load one https page in Debian's Chromium (playwright-core) and print what it shows.
//
//   node page-text.mjs --url URL --shot FILE [--selector CSS]
//
// Chromium: /usr/bin/chromium, a new empty user-data-dir, HOME as the caller set it (its ~/.pki/nssdb decides
// which CAs are trusted) and no certificate flags at all: a certificate Chromium does not accept fails the
// navigation. Prints one JSON object: {status, text (of the selector, default body), title, error, console}.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = { selector: 'body' };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const next = () => {
    if (i + 1 >= process.argv.length) throw new Error(a + ' wants a value');
    return process.argv[++i];
  };
  if (a === '--url') args.url = next();
  else if (a === '--shot') args.shot = next();
  else if (a === '--selector') args.selector = next();
  else throw new Error('unknown argument ' + a);
}
if (!args.url || !args.shot) throw new Error('usage: page-text.mjs --url URL --shot FILE [--selector CSS]');

const profile = mkdtempSync(join(process.env.TMPDIR || tmpdir(), 'stack-chromium-'));
const out = { console: [] };
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    env: process.env,
    viewport: { width: 800, height: 500 },
    timeout: 30000,
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('console', (m) => out.console.push(m.type() + ': ' + m.text()));
  let resp = null;
  for (let attempt = 0; ; attempt++) {
    try {
      resp = await page.goto(args.url, { waitUntil: 'load', timeout: 15000 });
      break;
    } catch (e) {
      // The Engine adding interfaces (other tests' networks) makes Chromium report a network change, or
      // abandon the navigation for its error page; anything else is the answer.
      if (attempt < 4 && /ERR_NETWORK_CHANGED|interrupted by another navigation/.test(e.message)) {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      throw e;
    }
  }
  out.status = resp ? resp.status() : null;
  out.title = await page.title();
  out.text = (await page.textContent(args.selector)) ?? '';
  await page.screenshot({ path: args.shot });
} catch (e) {
  out.error = e.message.split('\n')[0];
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out) + '\n');
