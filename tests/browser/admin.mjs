#!/usr/bin/env node
// Browser tests of the admin dashboard (GET /admin, static/admin.html, admin.js, admin.css): the real
// earshot server with the nps and complaint-router plugins and a webhook destination that never
// answers (so complaints stay waiting), headless Chromium through playwright-core with a fresh
// profile. A corpus of XSS payloads is submitted as text answers; the dashboard must show every one
// as text and run none of them (no flag set, no dialog, no CSP violation, no unexpected request).
// Also: the CSP header, the NPS chart's bars, the complaints with a Retry button, a wrong token, the
// token kept in sessionStorage only, keyboard sign-in and a phone-sized layout.
// Prints TAP-style progress and a closing line "N passed, N failed"; exits non-zero on any failure.
// Env: EARSHOT_BIN (default ../../_build/earshot), EARSHOT_BUILDDIR (where plugins/nps.so and
// plugins/complaint-router.so are; default: the binary's directory), CHROMIUM (default
// /usr/bin/chromium), TEST_FILTER.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, BUILDDIR, Earshot, adminToken, browserOptions, chromium, eq, freePort, ok, repo, runTests, sleep } from './lib.mjs';

const NPS_SO = path.join(BUILDDIR, 'plugins', 'nps.so');
const ROUTER_SO = path.join(BUILDDIR, 'plugins', 'complaint-router.so');

// ---- the payloads ------------------------------------------------------------------------------
// Each one, if it ever ran, would set window.__pwned (or open a dialog, or load something).
const PAYLOADS = [
  '<script>window.__pwned=1;alert(1)</script>',
  '<img src=x onerror="window.__pwned=2;alert(2)">',
  '<svg onload="window.__pwned=3">',
  '<svg><script>window.__pwned=4</script></svg>',
  'javascript:window.__pwned=5;alert(5)',
  '<a href="javascript:window.__pwned=6">click me</a>',
  '"><script>window.__pwned=7</script>',
  "'><img src=x onerror=window.__pwned=8>",
  '" onmouseover="window.__pwned=9" autofocus onfocus="window.__pwned=9" x="',
  "{{constructor.constructor('window.__pwned=10;alert(10)')()}}",
  '${window.__pwned=11} `${alert(11)}`',
  '<%= 7*7 %> #{7*7} {{7*7}} [[7*7]]',
  '<iframe src="javascript:parent.__pwned=13"></iframe>',
  '<iframe srcdoc="<script>parent.__pwned=14</script>"></iframe>',
  '<body onload=window.__pwned=15>',
  '<details open ontoggle=window.__pwned=16>',
  '<math><mtext><table><mglyph><style><img src=x onerror=window.__pwned=17>',
  '＜script＞window.__pwned=18＜/script＞',
  '\u202e<img src=x onerror=window.__pwned=19>\u202c',
  '<scr\u200bipt>window.__pwned=20</scr\u200bipt>',
  '&lt;script&gt;window.__pwned=21&lt;/script&gt;',
  "<style>@import 'http://127.0.0.1:1/x.css';</style>",
  '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned=23">',
  '<object data="javascript:window.__pwned=24"></object>',
  '<input autofocus onfocus=window.__pwned=25>',
  '<base href="javascript:/">',
  '<form action="javascript:window.__pwned=27"><button>go</button></form>',
  '--></script><script>window.__pwned=28</script><!--',
  '<img src="x" onerror="&#119;indow.__pwned=29">',
  '<div style="background:url(javascript:window.__pwned=30)">styled</div>',
];
const EXIT_PAYLOADS = PAYLOADS.slice(0, 6);
const scoreOf = i => i % 11;

// ---- the server --------------------------------------------------------------------------------
const es = new Earshot('earshot-admin-');
const PORT = await freePort();
const DEAD_PORT = await freePort(); // nothing listens here: every webhook attempt fails at once
const E = `http://127.0.0.1:${PORT}`;
const { token: TOKEN, sha256: TOKEN_SHA } = adminToken();
es.copyForms(['nps.yaml', 'exit-survey.yaml']);
es.writeConfig(E, TOKEN_SHA, { extra: [
  'destinations:',
  '  support:',
  '    type: webhook',
  `    url: http://127.0.0.1:${DEAD_PORT}/hook`,
  '    timeout_seconds: 2',
  '    retry_for_hours: 0',
  'plugins:',
  '  - name: nps',
  `    path: ${JSON.stringify(NPS_SO)}`,
  '    forms: [nps]',
  '  - name: complaint-router',
  `    path: ${JSON.stringify(ROUTER_SO)}`,
  '    forms: [nps]',
  '    config:',
  '      rules:',
  '        - when: {question: score, lte: 6}',
  '          route: support',
  '          tag: detractor',
] });

let context = null;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'earshot-admin-profile-'));
es.beforeStop(async () => { if (context) await context.close().catch(() => {}); });
es.afterStop(async () => fs.rmSync(profile, { recursive: true, force: true }));

for (const [what, file] of [['earshot binary', BIN], ['nps plugin', NPS_SO], ['complaint-router plugin', ROUTER_SO]])
  if (!fs.existsSync(file)) await es.bail(`${what} not found at ${file} (set EARSHOT_BIN / EARSHOT_BUILDDIR)`);
await es.start(E);

async function admin(p, method = 'GET') {
  const r = await fetch(E + p, { method, headers: { Authorization: 'Bearer ' + TOKEN } });
  if (r.status !== 200) throw new Error(`${method} ${p}: HTTP ${r.status}`);
  return r.json();
}

async function submit(form, answers) {
  const r = await fetch(`${E}/api/v1/forms/${form}/responses`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ answers }),
  });
  if (r.status !== 201) throw new Error(`submit to ${form}: HTTP ${r.status} ${await r.text()}`);
}

// The corpus, in order, as answers: every payload to nps, the first few to exit-survey.
try {
  for (const [i, p] of PAYLOADS.entries()) await submit('nps', { score: scoreOf(i), reason: p });
  for (const p of EXIT_PAYLOADS) await submit('exit-survey', { reason: 'Other', reason_other: p });
} catch (e) {
  await es.bail(String(e.message || e));
}
const EXPECTED_COMPLAINTS = PAYLOADS.filter((p, i) => scoreOf(i) <= 6).length;
// Wait until every complaint has had its one attempt and is dead.
for (let i = 0; i < 150; i++) {
  const dead = (await admin('/api/v1/deliveries?state=dead&limit=1000')).deliveries.length;
  if (dead >= EXPECTED_COMPLAINTS) break;
  await sleep(100);
}

context = await chromium.launchPersistentContext(profile, browserOptions({ viewport: { width: 390, height: 844 } }));

// A page that records everything that would show a payload running: dialogs, page errors, CSP
// violations (console and event), and requests other than the dashboard's own.
async function newPage() {
  const page = await context.newPage();
  page.dialogs = [];
  page.errors = [];
  page.requests = [];
  page.on('dialog', d => { page.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', e => page.errors.push(String(e)));
  page.on('console', m => {
    if (m.type() === 'error' || /Content Security Policy|Refused to/i.test(m.text())) page.errors.push(m.text());
  });
  page.on('request', r => page.requests.push(r.method() + ' ' + r.url()));
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
  });
  return page;
}

// Opens /admin and signs in with the keyboard. Returns the page and the /admin response.
async function signIn(token = TOKEN) {
  const page = await newPage();
  const resp = await page.goto(`${E}/admin`);
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'token');
  await page.keyboard.type(token);
  await page.keyboard.press('Enter');
  return { page, resp };
}

// Nothing ran and nothing foreign was loaded.
async function assertClean(page) {
  eq(await page.evaluate(() => window.__pwned), undefined, 'window.__pwned');
  eq(page.dialogs, [], 'dialogs');
  eq(await page.evaluate(() => window.__violations), [], 'CSP violations');
  eq(page.errors, [], 'page and console errors');
  const allowed = /^(GET|POST|PATCH|HEAD) http:\/\/127\.0\.0\.1:\d+\/(admin|static\/admin\.(js|css)|api\/v1\/[^ ]*)$/;
  eq(page.requests.filter(r => !allowed.test(r)), [], 'requests other than the dashboard\'s');
  ok(!page.requests.some(r => r.includes(TOKEN)), 'the token never appears in a URL');
  const foreign = await page.evaluate(() =>
    document.querySelectorAll('main img, main script, main iframe, main object, main embed, main base, main meta, main style, main details').length +
    // The dashboard's own links and inputs: the inbox items' contact links (tel:, mailto:, #contact/),
    // their assignee fields, and the contact card's way back.
    Array.from(document.querySelectorAll('main a, main input:not(#token)')).filter(e =>
      !(e.id === 'contact-back' || (e.closest('.item') && (e.tagName === 'INPUT' ||
        /^(tel:|mailto:|#contact\/)/.test(e.getAttribute('href') || ''))))).length);
  eq(foreign, 0, 'elements made from answers');
  eq(await page.evaluate(() => document.querySelectorAll('svg').length), 1, 'only the chart is SVG');
}

// The rows of a table body as arrays of {question: answer} from their <dl>s.
const answersIn = (page, table) => page.evaluate(sel => Array.from(document.querySelectorAll(sel + ' tbody tr')).map(tr => {
  const out = {};
  tr.querySelectorAll('dl.answers dt').forEach(dt => { out[dt.textContent] = dt.nextElementSibling.textContent; });
  return out;
}), table);

// ---- tests -------------------------------------------------------------------------------------
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('the shell: CSP header, no-store, no data, no auth needed for the page itself', async () => {
  const r = await fetch(`${E}/admin`);
  eq(r.status, 200, 'status');
  const csp = r.headers.get('content-security-policy') || '';
  for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
    "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"])
    ok(csp.includes(d), `CSP has ${d}: ${csp}`);
  ok(!/unsafe-inline|unsafe-eval/.test(csp), 'no unsafe-inline or unsafe-eval');
  eq(r.headers.get('cache-control'), 'no-store', 'Cache-Control');
  ok((r.headers.get('content-type') || '').startsWith('text/html'), 'HTML');
  const html = await r.text();
  ok(!/<script>|\son\w+=|\sstyle=/i.test(html), 'no inline script, handler or style in the shell');
  ok(!html.includes('pwned') && !html.includes(TOKEN), 'no data in the shell');
  eq((await fetch(`${E}/admin`, { method: 'HEAD' })).status, 200, 'HEAD');
});

test('the XSS corpus shows as text and runs nowhere; latest answers newest first', async () => {
  const { page, resp } = await signIn();
  ok((resp.headers()['content-security-policy'] || '').includes("script-src 'self'"), 'CSP on the page the browser got');
  await page.getByRole('heading', { name: 'Latest answers to nps' }).waitFor({ timeout: 10000 });
  await page.locator('#latest-table tbody tr').first().waitFor({ timeout: 10000 });
  eq(await page.locator('#form-select').inputValue(), 'nps', 'the busiest form is shown first');
  // Hover and focus everything, so that a handler would have had every chance.
  for (const cell of await page.locator('#latest-table dd').all()) await cell.hover();
  for (let i = 0; i < 12; i++) await page.keyboard.press('Tab');
  await sleep(300);
  await assertClean(page);
  const stored = (await admin('/api/v1/forms/nps/responses?limit=1000')).responses;
  eq(stored.length, PAYLOADS.length, 'all stored');
  const rows = await answersIn(page, '#latest-table');
  const want = stored.slice(-20).reverse().map(r => ({ score: String(r.answers.score), reason: r.answers.reason }));
  eq(rows, want, 'the 20 latest answers, newest first, as the exact text stored');
  // What was stored is what was sent (so the page shows the payloads themselves).
  eq(stored.map(r => r.answers.reason), PAYLOADS, 'stored as sent');
  // Scores and tags beside them.
  ok((await page.locator('#latest-table tbody tr').last().textContent()).includes('category: '), 'score shown');
  eq(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
  eq(await page.evaluate(k => sessionStorage.getItem(k), 'earshot-admin-token'), TOKEN, 'token in sessionStorage');
  ok(!page.url().includes(TOKEN) && page.url().endsWith('/admin'), 'token not in the URL');
});

test('the forms table and the other form: exit-survey payloads as text, no chart without the nps plugin', async () => {
  const { page } = await signIn();
  await page.locator('#forms-table tbody tr').nth(1).waitFor({ timeout: 10000 });
  const forms = await page.evaluate(() => Array.from(document.querySelectorAll('#forms-table tbody tr'))
    .map(tr => Array.from(tr.children).map(c => c.textContent)));
  eq(forms, [['exit-survey', 'Before you go', 'survey', 'yes', String(EXIT_PAYLOADS.length)],
    ['nps', 'A quick question', 'survey', 'yes', String(PAYLOADS.length)]], 'forms table');
  ok(await page.getByRole('columnheader', { name: 'Responses' }).isVisible(), 'column headers');
  await page.locator('#nps-chart svg').waitFor({ timeout: 10000 });
  await page.getByLabel('Form', { exact: true }).selectOption('exit-survey');
  await page.getByRole('heading', { name: 'Latest answers to exit-survey' }).waitFor({ timeout: 10000 });
  await page.waitForFunction(n => document.querySelectorAll('#latest-table tbody tr').length === n, EXIT_PAYLOADS.length);
  const rows = await answersIn(page, '#latest-table');
  eq(rows.map(r => r.reason_other), EXIT_PAYLOADS.slice().reverse(), 'exit-survey answers as text');
  ok(rows.every(r => r.reason === 'Other'), 'choice shown');
  await page.locator('#nps-block').waitFor({ state: 'hidden', timeout: 5000 });
  eq(await page.locator('#nps-chart svg').count(), 0, 'no chart for a form without nps');
  // The choice is remembered for this tab.
  await page.reload();
  await page.getByRole('heading', { name: 'Latest answers to exit-survey' }).waitFor({ timeout: 10000 });
  eq(await page.evaluate(() => window.__pwned), undefined, 'window.__pwned');
  eq(page.dialogs, [], 'dialogs');
  // The browser logs the nps report's 404 not_enabled (which hides the chart); nothing else.
  eq(page.errors.filter(e => !/status of 404/.test(e)), [], 'errors');
  eq(await page.evaluate(() => window.__violations), [], 'CSP violations');
});

test('the NPS chart: one bar per week of the report, the summary beside it', async () => {
  const { page } = await signIn();
  await page.locator('#nps-chart svg rect.bar').first().waitFor({ timeout: 10000 });
  const report = await admin('/api/v1/forms/nps/nps?interval=week');
  ok(report.series.length >= 1, 'the report has weeks');
  eq(await page.locator('#nps-chart svg rect.bar').count(), report.series.length, 'bars');
  const svg = page.getByRole('img', { name: /NPS by week/ });
  ok(await svg.isVisible(), 'the chart has an accessible name');
  const summary = await page.locator('#nps-summary').textContent();
  ok(summary.includes(`from ${report.responses} scored answers`), `summary: ${summary}`);
  ok(summary.includes(`${report.promoters} promoters`) && summary.includes(`${report.detractors} detractors`), 'counts');
  const title = await page.locator('#nps-chart rect.bar title').first().textContent();
  eq(title, `Week of ${report.series[0].start}: NPS ${Math.round(report.series[0].nps * 10) / 10} (${report.series[0].responses} responses)`, 'bar title');
  // A negative NPS draws below the zero line.
  const cls = await page.locator('#nps-chart rect.bar').first().getAttribute('class');
  eq(cls, 'bar ' + (report.series[0].nps < 0 ? 'neg' : 'pos'), 'bar class');
  await assertClean(page);
});

test('complaints waiting: every dead complaint with its answer as text, and Retry', async () => {
  const { page } = await signIn();
  await page.getByRole('heading', { name: 'Complaints waiting' }).waitFor();
  await page.locator('#complaints-table tbody tr').first().waitFor({ timeout: 10000 });
  const dead = (await admin('/api/v1/deliveries?state=dead&limit=1000')).deliveries;
  eq(dead.length, EXPECTED_COMPLAINTS, 'dead complaints in the API');
  const rows = await answersIn(page, '#complaints-table');
  eq(rows.length, EXPECTED_COMPLAINTS, 'one row per complaint');
  const shown = rows.map(r => r.reason).sort();
  const want = PAYLOADS.filter((p, i) => scoreOf(i) <= 6).sort();
  eq(shown, want, 'complaint answers as the exact text');
  const buttons = page.getByRole('button', { name: /^Retry delivery d_/ });
  eq(await buttons.count(), EXPECTED_COMPLAINTS, 'a Retry button per dead complaint');
  eq(await page.locator('#complaints-table tbody tr td.state-dead').count(), EXPECTED_COMPLAINTS, 'state shown');
  // Retry the first one with the keyboard.
  const first = buttons.first();
  const id = (await first.getAttribute('aria-label')).replace('Retry delivery ', '');
  const posted = page.waitForRequest(r => r.method() === 'POST' && r.url().endsWith(`/api/v1/deliveries/${id}/retry`));
  await first.focus();
  await page.keyboard.press('Enter');
  const req = await posted;
  eq(req.headers()['authorization'], 'Bearer ' + TOKEN, 'retry carries the bearer token');
  await page.locator('#status').filter({ hasText: `Delivery ${id} is queued again.` }).waitFor({ timeout: 5000 });
  // The replay was attempted again (and failed again: nothing listens).
  let row = null;
  for (let i = 0; i < 50; i++) {
    const all = (await admin('/api/v1/deliveries?limit=1000')).deliveries;
    row = all.find(d => d.id === id);
    if (row && row.state === 'dead' && row.attempts === 1 && row.last_attempt_at > dead.find(d => d.id === id).last_attempt_at) break;
    await sleep(100);
  }
  ok(row && row.state === 'dead', `replayed and dead again: ${JSON.stringify(row && row.state)}`);
  await assertClean(page);
});

test('a wrong token: a clear error, no data, nothing kept', async () => {
  const { page } = await signIn('not-the-token-' + crypto.randomBytes(4).toString('hex'));
  const alert = page.getByRole('alert');
  await alert.waitFor({ state: 'visible', timeout: 5000 });
  ok((await alert.textContent()).includes('did not accept this token'), 'error text');
  ok(await page.locator('#dashboard').isHidden(), 'dashboard hidden');
  eq(await page.locator('#latest-table tbody tr').count(), 0, 'no rows');
  eq(await page.evaluate(() => sessionStorage.length + localStorage.length), 0, 'nothing stored');
  eq(await page.evaluate(() => document.activeElement.id), 'token', 'focus back on the token field');
  // An empty token never reaches the server.
  const before = page.requests.length;
  await page.keyboard.press('Enter');
  await page.locator('#signin-error').filter({ hasText: 'Enter the admin token.' }).waitFor({ timeout: 3000 });
  eq(page.requests.length, before, 'no request for an empty token');
  // The right one then works.
  await page.keyboard.type(TOKEN);
  await page.keyboard.press('Enter');
  await page.locator('#latest-table tbody tr').first().waitFor({ timeout: 10000 });
  ok(await page.getByRole('alert').isHidden(), 'error gone');
  // The server's answer to the wrong token was 401 (and only that).
  eq(page.errors.filter(e => !/401/.test(e)), [], 'no other errors');
});

test('sign out forgets the token; a token refused later sends back to sign-in', async () => {
  const { page } = await signIn();
  await page.locator('#latest-table tbody tr').first().waitFor({ timeout: 10000 });
  await page.getByRole('button', { name: 'Sign out' }).click();
  ok(await page.getByLabel('Admin token').isVisible(), 'sign-in form back');
  eq(await page.evaluate(() => sessionStorage.getItem('earshot-admin-token')), null, 'token forgotten');
  eq(await page.locator('#latest-table tbody tr').count(), 0, 'rows cleared');
  // A token that stops working (say, removed from the config) gives the same sign-in error.
  await page.evaluate(() => sessionStorage.setItem('earshot-admin-token', 'revoked'));
  await page.reload();
  await page.getByRole('alert').waitFor({ state: 'visible', timeout: 5000 });
  ok(await page.locator('#dashboard').isHidden(), 'dashboard hidden');
});

test('readable on a phone: no sideways scrolling of the page, large enough controls', async () => {
  const { page } = await signIn();
  await page.locator('#complaints-table tbody tr').first().waitFor({ timeout: 10000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  ok(overflow <= 0, `no horizontal scrolling of the page (${overflow}px)`);
  for (const b of [page.getByRole('button', { name: 'Sign out' }), page.getByRole('button', { name: /^Retry/ }).first()]) {
    const box = await b.boundingBox();
    ok(box && box.height >= 44, 'buttons at least 44px high');
  }
  const font = await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('#latest-table td')).fontSize));
  ok(font >= 14, `table text is readable (${font}px)`);
  fs.writeFileSync(path.join(es.tmp, 'phone.png'), await page.screenshot({ fullPage: Boolean(process.env.ADMIN_SCREENSHOT) }));
  if (process.env.ADMIN_SCREENSHOT) fs.copyFileSync(path.join(es.tmp, 'phone.png'), process.env.ADMIN_SCREENSHOT);
});

// ---- run ---------------------------------------------------------------------------------------
const { passed, failed } = await runTests(tests, es, async () => {
  for (const p of context.pages()) await p.close().catch(() => {});
});
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
