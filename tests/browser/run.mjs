#!/usr/bin/env node
// Browser tests of the on-site survey widget (static/earshot.js): the real earshot server on one
// loopback origin, a small host-page server on another (as on a real site), headless Chromium through
// playwright-core. Prints TAP-style progress and a closing line "N passed, N failed"; exits non-zero on
// any failure. Env: EARSHOT_BIN (default ../../_build/earshot), TEST_FILTER (substring of test names).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { BIN, BUILDDIR, Earshot, adminToken, browserOptions, chromium, eq, freePort, ok, repo, runTests, sleep } from './lib.mjs';

const staticDir = path.join(repo, 'static');
let browser = null;
const contexts = [];

// ---------------------------------------------------------------------------------------------------
// Test forms. Each survey listens on its own page path so that the tests do not see each other's; the
// example forms of forms/ are served too (for the demo page), and use paths no test visits.
const FORMS = [
  { id: 'exit', kind: 'survey', title: 'Before you go', locale: 'en', thank_you: 'Thanks, that helps.',
    questions: [{ id: 'reason', type: 'single_choice', label: 'What stopped you from finishing your purchase today?',
      required: true, options: ['Price', 'Shipping cost', 'Just looking', 'Other'] }],
    trigger: { event: 'exit_intent', pages: { include: ['/basket*'], exclude: ['/basket/paid'] }, sample_percent: 100, recontact_days: 30 } },
  { id: 'delay', kind: 'survey', title: 'Finding what you need?', locale: 'en',
    questions: [{ id: 'found', type: 'single_choice', label: 'Did you find the right plan?', required: true, options: ['Yes', 'No'] }],
    trigger: { event: 'delay', delay_seconds: 2, pages: { include: ['/plans'] } } },
  { id: 'scroll', kind: 'survey', title: 'Enjoying the article?', locale: 'en',
    questions: [{ id: 'useful', type: 'rating', label: 'How useful is this article?', required: true, scale: 5 }],
    trigger: { event: 'scroll', scroll_percent: 50, pages: { include: ['/articles/*'] } } },
  { id: 'shop', kind: 'survey', title: 'Quick question', locale: 'en',
    questions: [{ id: 'ok', type: 'single_choice', label: 'Is the shop easy to use?', options: ['Yes', 'No'] }],
    trigger: { event: 'page_view', pages: { include: ['/shop/*'], exclude: ['/shop/private*'] } } },
  { id: 'never', kind: 'survey', title: 'Never', locale: 'en',
    questions: [{ id: 'x', type: 'nps', label: 'How likely are you to recommend us?' }],
    trigger: { event: 'page_view', sample_percent: 0, pages: { include: ['/sample/0'] } } },
  { id: 'always', kind: 'survey', title: 'Always', locale: 'en',
    questions: [{ id: 'x', type: 'nps', label: 'How likely are you to recommend us?' }],
    trigger: { event: 'page_view', sample_percent: 100, pages: { include: ['/sample/100'] } } },
  { id: 'half', kind: 'survey', title: 'Half', locale: 'en',
    questions: [{ id: 'x', type: 'nps', label: 'How likely are you to recommend us?' }],
    trigger: { event: 'page_view', sample_percent: 50, pages: { include: ['/sample/50'] } } },
  { id: 'again', kind: 'survey', title: 'Once is enough', locale: 'en', thank_you: 'Noted.',
    questions: [{ id: 'x', type: 'nps', label: 'How likely are you to recommend us?', required: true }],
    trigger: { event: 'page_view', recontact_days: 30, pages: { include: ['/again'] } } },
  { id: 'branch', kind: 'survey', title: 'Tell us', locale: 'en',
    questions: [
      { id: 'score', type: 'nps', label: 'How likely are you to recommend us to a friend?', required: true,
        next: [{ if: { lte: 6 }, goto: 'fix' }, { if: { gte: 9 }, goto: 'love' }] },
      { id: 'fix', type: 'long_text', label: 'What should we fix first?', required: true, next: [{ goto: 'end' }] },
      { id: 'love', type: 'multi_choice', label: 'What do you like?', options: ['Speed', 'Price', 'Support'],
        next: [{ if: { in: ['Support'] }, goto: 'agent' }, { goto: 'end' }] },
      { id: 'agent', type: 'text', label: 'Who helped you?', max_length: 80 }],
    trigger: { event: 'page_view', pages: { include: ['/branch'] } } },
  { id: 'kbd', kind: 'survey', title: 'Help us improve', locale: 'en', thank_you: 'Thank you, keyboard hero.',
    questions: [
      { id: 'nps', type: 'nps', label: 'How likely are you to recommend us?', required: true },
      { id: 'plan', type: 'single_choice', label: 'Which plan are you on?', required: true, options: ['Free', 'Pro', 'Team'] },
      { id: 'email', type: 'email', label: 'Email', required: true, why: 'We send your discount code here, and nothing else.', hint: 'name@example.com' },
      { id: 'ok', type: 'consent', label: 'You may email me about this answer', required: true },
      { id: 'stars', type: 'rating', label: 'Rate our support', scale: 5 },
      { id: 'when', type: 'date', label: 'When did you join?' },
      { id: 'seats', type: 'number', label: 'How many seats?', min: 1, max: 500 },
      { id: 'tel', type: 'phone', label: 'Phone' },
      { id: 'note', type: 'text', label: 'Anything else?', max_length: 200 }],
    trigger: { event: 'manual' } },
  { id: 'offline', kind: 'survey', title: 'Offline', locale: 'en', thank_you: 'Got it.',
    questions: [{ id: 'x', type: 'nps', label: 'How likely are you to recommend us?', required: true }],
    trigger: { event: 'page_view', pages: { include: ['/offline'] } } },
  { id: 'strict', kind: 'survey', title: 'Strict page', locale: 'en', thank_you: 'Sent under CSP.',
    questions: [{ id: 'x', type: 'nps', label: 'How likely are you to recommend us?', required: true },
      { id: 'why', type: 'text', label: 'Why?' }],
    trigger: { event: 'page_view', pages: { include: ['/strict'] } } },
  { id: 'partial', kind: 'survey', title: 'Two questions', locale: 'en',
    questions: [{ id: 'x', type: 'nps', label: 'How likely are you to recommend us?', required: true },
      { id: 'why', type: 'long_text', label: 'What is the main reason for your score?', required: true }],
    trigger: { event: 'page_view', pages: { include: ['/partial'] } } },
  { id: 'slovene', kind: 'survey', title: 'Kratko vprašanje', locale: 'sl',
    questions: [{ id: 'x', type: 'nps', label: 'Kako verjetno bi nas priporočili prijatelju?', required: true }],
    trigger: { event: 'page_view', pages: { include: ['/sl/*'] } } },
  { id: 'first', kind: 'survey', title: 'First of two', locale: 'en',
    questions: [{ id: 'x', type: 'nps', label: 'How likely are you to recommend us?' }],
    trigger: { event: 'page_view', pages: { include: ['/two'] } } },
  { id: 'second', kind: 'survey', title: 'Second of two', locale: 'en',
    questions: [{ id: 'x', type: 'nps', label: 'How likely are you to recommend us?' }],
    trigger: { event: 'page_view', pages: { include: ['/two'] } } },
  { id: 'callme', kind: 'survey', title: 'Call me back', locale: 'en',
    questions: [{ id: 'tel', type: 'phone', label: 'Phone', required: true, hint: '+386 40 123 456' },
      { id: 'when', type: 'single_choice', label: 'When should we call?', options: ['Morning', 'Afternoon'] }],
    trigger: { event: 'page_view', pages: { include: ['/callme'] } } },
  { id: 'coupon', kind: 'survey', title: 'A gift for you', locale: 'en', thank_you: 'Here is your code.',
    questions: [{ id: 'email', type: 'email', label: 'Email', required: true }],
    trigger: { event: 'page_view', pages: { include: ['/coupon'] } } },
  // The incentive plugin makes offers on this one (see the config below): it needs a timing token.
  { id: 'gift', kind: 'survey', title: 'A real gift', locale: 'en', thank_you: 'Enjoy.',
    questions: [{ id: 'email', type: 'email', label: 'Email', required: true }],
    trigger: { event: 'page_view', pages: { include: ['/gift'] } } },
];

// YAML for a form: JSON strings are valid YAML double-quoted scalars; nested values in block style.
function yaml(v, ind = '') {
  if (Array.isArray(v)) {
    if (v.every(x => typeof x !== 'object')) return '[' + v.map(x => JSON.stringify(x)).join(', ') + ']';
    return '\n' + v.map(x => ind + '- ' + yaml(x, ind + '  ').replace(/^\n\s*/, '')).join('\n');
  }
  if (v && typeof v === 'object') {
    return '\n' + Object.entries(v).map(([k, x]) => ind + k + ':' + (x && typeof x === 'object' && !(Array.isArray(x) && x.every(y => typeof y !== 'object')) ? '' : ' ') + yaml(x, ind + '  ')).join('\n');
  }
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------------
// Servers
const es = new Earshot('earshot-browser-');
const EPORT = await freePort('127.0.0.1');
const E = `http://127.0.0.1:${EPORT}`;
const HOST_IP = '127.0.0.2';
const hostServer = http.createServer(hostPage);
await new Promise(r => hostServer.listen(0, HOST_IP, r));
const H = `http://${HOST_IP}:${hostServer.address().port}`;
const { token: TOKEN, sha256: TOKEN_SHA } = adminToken();

es.copyForms();
for (const f of FORMS) fs.writeFileSync(path.join(es.tmp, 'forms', f.id + '.yaml'), yaml(f).replace(/^\n/, '') + '\n');
es.writeConfig(E, TOKEN_SHA, { staticDir, extra: [
  'cors:',
  `  allowed_origins: [${JSON.stringify(H)}, ${JSON.stringify(E)}]`, // the site, and the demo page
  'plugins:',
  '  - name: incentive',
  `    path: ${JSON.stringify(path.join(BUILDDIR, 'plugins', 'incentive.so'))}`,
  '    forms: [gift]',
  '    config: {offer: "5% off", requires: [email], codes: {source: generate, prefix: GIFT}, one_per: email}',
] });

es.beforeStop(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
  if (browser) await browser.close().catch(() => {});
});
es.afterStop(() => new Promise(r => hostServer.close(r)));
if (!fs.existsSync(BIN)) await es.bail(`earshot binary not found at ${BIN} (set EARSHOT_BIN)`);

// The host site: any path gives a page that loads the widget from the earshot origin.
// ?csp=1 adds a strict CSP; ?stub=<json> a stub queue (inline script, so not with csp); ?locale=xx data-locale;
// ?short=1 a page that does not scroll.
function hostPage(req, res) {
  const u = new URL(req.url, H);
  if (u.pathname === '/favicon.ico') { res.writeHead(404); return res.end(); }
  const csp = u.searchParams.get('csp') === '1', stub = u.searchParams.get('stub'), loc = u.searchParams.get('locale');
  const headers = { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' };
  if (csp) {
    headers['Content-Security-Policy'] = `default-src 'none'; script-src ${E}; style-src ${E}; connect-src ${E}; ` +
      `img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'`;
  }
  const filler = u.searchParams.get('short') ? '' : Array.from({ length: 60 }, (_, i) => `<p>Paragraph ${i + 1} of a long page about shoes.</p>`).join('\n');
  res.writeHead(200, headers);
  res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop ${u.pathname}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
${stub && !csp ? `<script>window.earshot = window.earshot || {q: []}; window.earshot.q.push(...${stub});</script>` : ''}
<script src="${E}/static/earshot.js" async ${loc ? `data-locale="${loc}"` : ''}></script>
</head><body>
<header><a id="home" href="/">Home</a> <a href="/basket">Basket</a> <input id="search" aria-label="Search"></header>
<main><h1>Page ${u.pathname}</h1>
<button id="feedback" type="button" data-earshot-show="kbd">Give feedback</button>
${filler}
</main></body></html>`);
}

// ---------------------------------------------------------------------------------------------------
// Helpers
await es.start(E);
browser = await chromium.launch(browserOptions());
async function newPage(opts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 }, ...opts });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.on('pageerror', e => page.errors.push(String(e)));
  page.errors = [];
  return page;
}
const DIALOG = '#earshot-widget [role=dialog]';
async function shown(page, timeout = 5000) {
  await page.locator(DIALOG).waitFor({ state: 'visible', timeout });
  return page.locator(DIALOG);
}
async function quiet(page, ms) {
  await sleep(ms);
  const n = await page.locator(DIALOG).count();
  if (n) throw new Error('a survey was shown where none should be');
}
// the widget has loaded and fetched its surveys for this page
async function loaded(page) {
  await page.waitForFunction(() => window.earshot && window.earshot.version);
  await page.waitForLoadState('networkidle');
}
async function responses(form) {
  const r = await fetch(`${E}/api/v1/forms/${form}/responses?limit=1000`, { headers: { Authorization: 'Bearer ' + TOKEN } });
  if (r.status !== 200) throw new Error(`admin responses for ${form}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()).responses;
}
async function waitResponses(form, n, timeout = 8000) {
  const end = Date.now() + timeout;
  let got = [];
  while (Date.now() < end) {
    got = await responses(form);
    if (got.length >= n) return got;
    await sleep(150);
  }
  throw new Error(`expected ${n} response(s) for ${form}, found ${got.length}`);
}
const storage = (page, key) => page.evaluate(k => localStorage.getItem(k), key);
const fnvBucket = s => {
  let h = 2166136261;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return (h >>> 0) % 100;
};

// ---------------------------------------------------------------------------------------------------
// Tests
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('size budget: earshot.js <= 7 KB and earshot.css <= 2 KB gzipped (zlib level 9)', async () => {
  const gz = f => zlib.gzipSync(fs.readFileSync(path.join(staticDir, f)), { level: 9 }).length;
  const js = gz('earshot.js'), css = gz('earshot.css');
  console.log(`# earshot.js ${js} bytes gzipped (budget 7168), earshot.css ${css} bytes gzipped (budget 2048)`);
  ok(js <= 7168, `earshot.js is ${js} bytes gzipped`);
  ok(css <= 2048, `earshot.css is ${css} bytes gzipped`);
});

test('static/earshot.js is the terser build of static/src/earshot.js (scripts/build-widget --check)', async () => {
  const run = spawnSync(path.join(repo, 'scripts', 'build-widget'), ['--check'], { encoding: 'utf8' });
  eq(run.status, 0, `scripts/build-widget --check: ${run.stdout}${run.stderr}`);
});

test('exit intent fires when the pointer leaves through the top, not the sides or bottom', async () => {
  const page = await newPage();
  await page.goto(H + '/basket');
  await loaded(page);
  await page.mouse.move(600, 400);
  await sleep(1200); // the trigger arms one second after the page's surveys arrived
  for (const [x, y] of [[-20, 300], [1220, 300], [600, 820]]) {
    await page.mouse.move(600, 400, { steps: 3 });
    await page.mouse.move(x, y, { steps: 5 });
    await quiet(page, 300);
  }
  await page.mouse.move(600, 400, { steps: 3 });
  await page.mouse.move(600, -20, { steps: 5 });
  const dlg = await shown(page, 2000);
  eq(await dlg.getAttribute('aria-labelledby') !== null, true, 'aria-labelledby present');
  await page.getByRole('dialog', { name: 'Before you go' }).waitFor();
  ok(await page.locator('#earshot-widget').count() === 1, 'one host element');
  ok(await page.evaluate(() => document.getElementById('earshot-widget').parentNode === document.body), 'host is a child of body');
  ok(await page.evaluate(() => !!document.getElementById('earshot-widget').shadowRoot), 'open shadow root');
});

test('exit intent on touch: a fast upward scroll near the top shows the survey', async () => {
  const page = await newPage({ viewport: { width: 390, height: 700 }, isMobile: true, hasTouch: true });
  await page.goto(H + '/basket');
  await loaded(page);
  await sleep(1200);
  await page.evaluate(() => window.scrollTo(0, 1500));
  await sleep(400);
  await page.evaluate(() => window.scrollTo(0, 1300)); // slow and far from the top: nothing
  await quiet(page, 300);
  // a flick: down a little, then 1900 px up within ~150 ms, ending near the top
  await page.evaluate(async () => {
    window.scrollTo(0, 2000);
    await new Promise(r => setTimeout(r, 150));
    window.scrollTo(0, 100);
  });
  await shown(page, 2000);
});

test('excluded page stays quiet; a single-page-app navigation to an included page shows it', async () => {
  const page = await newPage();
  await page.goto(H + '/basket/paid');
  await loaded(page);
  await sleep(1200);
  await page.mouse.move(600, 400);
  await page.mouse.move(600, -20, { steps: 5 });
  await quiet(page, 500);
  const p2 = await newPage();
  await p2.goto(H + '/shop/private/orders');
  await loaded(p2);
  await quiet(p2, 1500);
  await p2.evaluate(() => history.pushState({}, '', '/shop/boots'));
  await shown(p2, 4000);
  await p2.getByRole('dialog', { name: 'Quick question' }).waitFor();
});

test('delay trigger shows after delay_seconds, not before', async () => {
  const page = await newPage();
  const t0 = Date.now();
  await page.goto(H + '/plans');
  await loaded(page);
  await quiet(page, 1000);
  await shown(page, 4000);
  const took = Date.now() - t0;
  ok(took >= 2000, `shown after ${took} ms`);
});

test('scroll trigger shows at 50% of the page and not before', async () => {
  const page = await newPage();
  await page.goto(H + '/articles/boots');
  await loaded(page);
  const max = await page.evaluate(() => document.documentElement.scrollHeight - innerHeight);
  await page.evaluate(y => window.scrollTo(0, y), Math.floor(max * 0.4));
  await quiet(page, 500);
  await page.evaluate(y => window.scrollTo(0, y), Math.ceil(max * 0.55));
  await shown(page, 2000);
});

test('sample_percent 0 never shows and 100 always does, across visitors', async () => {
  for (let i = 0; i < 4; i++) {
    const a = await newPage();
    await a.goto(H + '/sample/0');
    await loaded(a);
    await quiet(a, 400);
    const b = await newPage();
    await b.goto(H + '/sample/100');
    await shown(b);
  }
});

test('sampling is stable per visitor: bucket = FNV-1a(visitor + form id) % 100', async () => {
  // two visitor ids, one in and one out of the 50% sample of form "half"
  let inside, outside;
  for (let i = 0; !(inside && outside); i++) {
    const v = 'v_' + (1e15 + i).toString(16);
    if (fnvBucket(v + 'half') < 50) inside = inside || v; else outside = outside || v;
  }
  for (const [v, expect] of [[inside, true], [outside, false]]) {
    for (let round = 0; round < 2; round++) {
      const page = await newPage();
      await page.addInitScript(id => localStorage.setItem('earshot:visitor', JSON.stringify(id)), v);
      await page.goto(H + '/sample/50');
      await loaded(page);
      if (expect) await shown(page); else await quiet(page, 600);
      eq(JSON.parse(await storage(page, 'earshot:visitor')), v, 'visitor id kept');
    }
  }
});

test('answered survey stays quiet after reload (recontact_days, across tabs)', async () => {
  const page = await newPage();
  await page.goto(H + '/again');
  const dlg = await shown(page);
  await dlg.getByRole('button', { name: '8', exact: true }).click();
  await dlg.getByText('Noted.').waitFor();
  await waitResponses('again', 1);
  await page.reload();
  await loaded(page);
  await quiet(page, 800);
  // even without the global quiet period, recontact_days keeps it quiet, in another tab as well
  await page.evaluate(() => localStorage.removeItem('earshot:last'));
  const tab = await page.context().newPage();
  await tab.goto(H + '/again');
  await loaded(tab);
  await quiet(tab, 800);
  // and it is the stored answer that does it: forget it and the survey comes back
  await tab.evaluate(() => localStorage.removeItem('earshot:done'));
  await tab.reload();
  await shown(tab);
});

test('branching: nps 10 goes to "love", Support goes to "agent"; skipped questions are not sent', async () => {
  const page = await newPage();
  await page.goto(H + '/branch');
  const dlg = await shown(page);
  for (let i = 0; i <= 10; i++) await dlg.getByRole('button', { name: String(i), exact: true }).waitFor();
  await dlg.getByRole('button', { name: 'Close' }).waitFor();
  await dlg.getByRole('button', { name: '10', exact: true }).click();
  await dlg.getByRole('group', { name: 'What do you like?' }).waitFor();
  await dlg.getByRole('checkbox', { name: 'Price' }).check();
  await dlg.getByRole('checkbox', { name: 'Support' }).check();
  await dlg.getByRole('button', { name: /Next|Send/ }).click();
  await dlg.getByRole('textbox', { name: 'Who helped you?' }).fill('Ana');
  await dlg.getByRole('button', { name: 'Send' }).click();
  await dlg.getByText('Thank you!').waitFor();
  const [r] = await waitResponses('branch', 1);
  eq(r.answers, { score: 10, love: ['Price', 'Support'], agent: 'Ana' }, 'answers along the path');
  ok(!r.meta.partial, 'not partial');
  // the other branch: a detractor is asked what to fix, then the survey ends
  const p2 = await newPage();
  await p2.goto(H + '/branch');
  const d2 = await shown(p2);
  await d2.getByRole('button', { name: '3', exact: true }).click();
  await d2.getByRole('textbox', { name: 'What should we fix first?' }).fill('Delivery times');
  await d2.getByRole('button', { name: 'Send' }).click();
  await d2.getByText('Thank you!').waitFor();
  const all = await waitResponses('branch', 2);
  eq(all.map(x => x.answers).find(a => a.score === 3), { score: 3, fix: 'Delivery times' }, 'detractor path');
});

test('keyboard only: open, answer every question type, close with Escape; focus returns', async () => {
  const page = await newPage();
  await page.goto(H + '/keyboard?short=1');
  await loaded(page);
  const kb = page.keyboard;
  // Tab from the top of the page to the "Give feedback" button and press Enter
  for (let i = 0; i < 10; i++) {
    await kb.press('Tab');
    if (await page.evaluate(() => document.activeElement.id) === 'feedback') break;
  }
  eq(await page.evaluate(() => document.activeElement.id), 'feedback', 'focus on the page button');
  await kb.press('Enter');
  await shown(page);
  const active = () => page.evaluate(() => {
    const a = document.getElementById('earshot-widget').shadowRoot.activeElement;
    return a ? (a.getAttribute('aria-label') || a.textContent || a.type || a.tagName).trim() : null;
  });
  eq(await active(), '0', 'focus on the first nps button');
  for (let i = 0; i < 9; i++) await kb.press('ArrowRight');
  eq(await active(), '9', 'arrow keys reach 9');
  await kb.press('Enter');
  eq(await active(), 'Free', 'focus on the first choice');
  await kb.press('Tab');
  await kb.press('Enter'); // Pro
  // email: a bad address is refused on the spot
  await kb.type('ann@');
  await kb.press('Enter');
  const dlg = page.locator(DIALOG);
  await dlg.getByRole('alert').filter({ hasText: 'Please check this answer.' }).waitFor();
  eq(await dlg.getByRole('textbox', { name: 'Email' }).getAttribute('aria-invalid'), 'true', 'aria-invalid');
  await dlg.getByText('We send your discount code here, and nothing else.').waitFor();
  await kb.press('End');
  await kb.type('Example.COM');
  await kb.press('Enter');
  // consent: required, so Enter without ticking is refused
  await kb.press('Tab');
  await kb.press('Enter');
  await dlg.getByRole('alert').filter({ hasText: 'Please answer this question.' }).waitFor();
  await kb.press('Space');
  await kb.press('Tab');
  await kb.press('Enter');
  // rating 1..5: ArrowRight three times to 4
  eq(await active(), '1', 'first star');
  for (let i = 0; i < 3; i++) await kb.press('ArrowRight');
  await kb.press('Enter');
  await kb.type('03152024'); // date field, en-US order
  await kb.press('Enter');
  await kb.type('12');
  await kb.press('Enter');
  await kb.type('+386 40 123 456');
  await kb.press('Enter');
  await kb.type('Great work');
  await kb.press('Enter');
  await dlg.getByText('Thank you, keyboard hero.').waitFor();
  await kb.press('Escape');
  await page.locator(DIALOG).waitFor({ state: 'detached' });
  eq(await page.evaluate(() => document.activeElement.id), 'feedback', 'focus restored');
  const [r] = await waitResponses('kbd', 1);
  eq(r.answers, { nps: 9, plan: 'Pro', email: 'ann@example.com', ok: true, stars: 4, when: '2024-03-15', seats: 12, tel: '+38640123456', note: 'Great work' }, 'stored answers');
});

test('offline submit is queued and arrives exactly once after the network returns', async () => {
  const page = await newPage();
  await page.goto(H + '/offline');
  const dlg = await shown(page);
  // a second tab of the same site is open too: both will try to deliver the queued answer
  const tab = await page.context().newPage();
  await tab.goto(H + '/offline');
  await loaded(tab);
  await page.context().setOffline(true);
  await dlg.getByRole('button', { name: '7', exact: true }).click();
  await dlg.getByText('Got it.').waitFor();
  await sleep(4000); // retries keep failing meanwhile
  const q = JSON.parse(await storage(page, 'earshot:queue'));
  eq(q.length, 1, 'one queued answer');
  ok(q[0].n >= 1, 'retried while offline');
  eq((await responses('offline')).length, 0, 'nothing on the server yet');
  const back = Date.now();
  await page.context().setOffline(false);
  await waitResponses('offline', 1);
  const took = Date.now() - back;
  ok(took < 1500, `delivered ${took} ms after the network returned`);
  await sleep(2500);
  const rs = await responses('offline');
  eq(rs.length, 1, 'exactly one stored');
  eq(rs[0].answers, { x: 7 }, 'the answer');
  eq(await storage(page, 'earshot:queue'), null, 'queue emptied');
});

test('strict CSP page (no inline, Trusted Types) shows, styles and submits the widget', async () => {
  const page = await newPage();
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
  });
  const requests = [];
  page.on('request', r => requests.push(r));
  await page.goto(H + '/strict?csp=1');
  const dlg = await shown(page);
  eq(await dlg.evaluate(el => getComputedStyle(el).position), 'fixed', 'stylesheet applied');
  await dlg.getByRole('button', { name: '10', exact: true }).click();
  await dlg.getByRole('textbox', { name: 'Why?' }).fill('Fast');
  await dlg.getByRole('button', { name: 'Send' }).click();
  await dlg.getByText('Sent under CSP.').waitFor();
  const [r] = await waitResponses('strict', 1);
  eq(r.answers, { x: 10, why: 'Fast' }, 'answers');
  eq(r.meta.page, H + '/strict?csp=1', 'meta.page');
  ok(/^v_\w+$/.test(r.meta.visitor), 'meta.visitor');
  eq(await page.evaluate(() => window.__violations), [], 'no CSP violations');
  eq(requests.filter(r => r.method() === 'OPTIONS').length, 0, 'no CORS preflight');
  const post = requests.find(r => r.method() === 'POST' && r.url().endsWith('/responses'));
  ok(/^text\/plain/.test(post.headers()['content-type']), 'submitted as text/plain: ' + post.headers()['content-type']);
  const view = requests.find(r => r.method() === 'POST' && r.url().endsWith('/views'));
  ok(view && /^text\/plain/.test(view.headers()['content-type']), 'the view went out too, as text/plain');
  const sent = JSON.parse(post.postData());
  ok(/^[0-9a-f]{32}$/.test(sent.idempotency_key), 'idempotency_key in the body');
  ok(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(sent.started_at), 'started_at ISO-8601');
  eq(page.errors, [], 'no page errors');
});

test('closing after some answers sends a partial response (meta.partial) and counts as dismissed', async () => {
  const page = await newPage();
  await page.goto(H + '/partial?stub=' + encodeURIComponent(JSON.stringify([['identify', { plan: 'pro', locale: 'en', page: 'spoofed', partial: false }]])));
  const dlg = await shown(page);
  await dlg.getByRole('button', { name: '6', exact: true }).click();
  await dlg.getByRole('textbox', { name: 'What is the main reason for your score?' }).waitFor();
  await page.locator('#earshot-widget').evaluate(h => h.shadowRoot.querySelector('textarea').focus());
  await page.keyboard.press('Escape');
  await page.locator(DIALOG).waitFor({ state: 'detached' });
  const [r] = await waitResponses('partial', 1);
  eq(r.answers, { x: 6 }, 'partial answers');
  eq(r.meta.partial, true, 'meta.partial');
  eq(r.meta.plan, 'pro', 'identify attributes in meta');
  ok(r.meta.page.startsWith(H + '/partial?'), 'the widget\'s own meta keys win over identify');
  await page.evaluate(() => localStorage.removeItem('earshot:last'));
  await page.reload();
  await loaded(page);
  await quiet(page, 800);
});

test('closing without answering sends nothing and stays quiet', async () => {
  const page = await newPage();
  await page.goto(H + '/two');
  const dlg = await shown(page);
  eq(await page.locator(DIALOG).count(), 1, 'at most one survey on screen');
  const title = await dlg.locator('h2').textContent();
  await dlg.getByRole('button', { name: 'Close' }).click();
  await page.locator(DIALOG).waitFor({ state: 'detached' });
  // the other survey of this page waits for the quiet period
  await page.reload();
  await loaded(page);
  await quiet(page, 800);
  const done = JSON.parse(await storage(page, 'earshot:done'));
  eq(Object.keys(done), [title === 'First of two' ? 'first' : 'second'], 'dismissal recorded');
  eq((await responses('first')).length + (await responses('second')).length, 0, 'nothing sent');
});

test('texts follow the form locale, data-locale and identify({locale})', async () => {
  const page = await newPage();
  await page.goto(H + '/sl/izdelek');
  const dlg = await shown(page);
  await dlg.getByRole('button', { name: 'Zapri' }).waitFor();
  eq(await dlg.getAttribute('lang'), 'sl', 'lang attribute');
  const p2 = await newPage();
  await p2.goto(H + '/sl/izdelek?locale=ro');
  await (await shown(p2)).getByRole('button', { name: 'Închide' }).waitFor();
  const p3 = await newPage();
  await p3.goto(H + '/sl/izdelek?locale=ro&stub=' + encodeURIComponent(JSON.stringify([['identify', { locale: 'uk' }]])));
  await (await shown(p3)).getByRole('button', { name: 'Закрити' }).waitFor();
  const p4 = await newPage();
  await p4.goto(H + '/sl/izdelek?locale=nb-NO');
  await (await shown(p4)).getByRole('button', { name: 'Lukk' }).waitFor();
});

test('narrow screens get a bottom sheet; reduced motion turns the animation off', async () => {
  const page = await newPage({ viewport: { width: 375, height: 700 }, reducedMotion: 'reduce' });
  await page.goto(H + '/sample/100');
  const dlg = await shown(page);
  const box = await dlg.evaluate(el => { const r = el.getBoundingClientRect(); return [r.left, r.right, Math.round(r.bottom), getComputedStyle(el).animationName]; });
  eq(box, [0, 375, 700, 'none'], 'sheet geometry and animation');
  const wide = await newPage();
  await wide.goto(H + '/sample/100');
  const d2 = await shown(wide);
  const w = await d2.evaluate(el => { const r = el.getBoundingClientRect(); return [r.width < 500, getComputedStyle(el).animationName]; });
  eq(w, [true, 'es-in'], 'corner card with animation');
});

test('host page CSS cannot break the widget', async () => {
  const page = await newPage();
  await page.goto(H + '/sample/100');
  await page.addStyleTag({ content: 'div { display: none !important; } * { font-size: 3px !important; color: red !important; } button { visibility: hidden !important; }' });
  const dlg = await shown(page);
  const s = await dlg.evaluate(el => [getComputedStyle(el).fontSize, getComputedStyle(el.querySelector('button')).visibility]);
  eq(s, ['15px', 'visible'], 'shadow root styles win');
});

test('an offer from the server is shown with a working copy button', async () => {
  const page = await newPage();
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: H });
  await page.route(E + '/api/v1/forms/coupon/responses', route => route.fulfill({ status: 201, contentType: 'application/json',
    headers: { 'Access-Control-Allow-Origin': H },
    body: JSON.stringify({ id: 'r1', thank_you: 'Here is your code.', offers: [{ text: '10% off your next order', code: 'EAR-7Q2M-K9' }] }) }));
  await page.goto(H + '/coupon');
  const dlg = await shown(page);
  await dlg.getByRole('textbox', { name: 'Email' }).fill('ann@example.com');
  await dlg.getByRole('button', { name: 'Send' }).click();
  await dlg.getByText('Here is your code.').waitFor();
  eq(await dlg.getByRole('textbox', { name: '10% off your next order' }).inputValue(), 'EAR-7Q2M-K9', 'code shown');
  await dlg.getByRole('button', { name: 'Copy' }).click();
  await dlg.getByText('✓').waitFor();
  eq(await page.evaluate(() => navigator.clipboard.readText()), 'EAR-7Q2M-K9', 'code on the clipboard');
  eq(await storage(page, 'earshot:queue'), null, 'accepted answer left the queue');
});

test('a form with offers: the widget fetches a timing token, waits out the fill time, and the answer is stored', async () => {
  const page = await newPage();
  const asked = [], sent = [];
  page.on('request', r => {
    if (r.url().startsWith(E + '/f/')) asked.push(new URL(r.url()).pathname);
    if (r.method() === 'POST' && r.url().endsWith('/responses')) sent.push(JSON.parse(r.postData()));
  });
  await page.goto(H + '/gift');
  const dlg = await shown(page);
  await dlg.getByRole('textbox', { name: 'Email' }).fill('gift+shop@example.com');
  await dlg.getByRole('button', { name: 'Send' }).click(); // sooner than min_fill_seconds (2) after the token
  await dlg.getByText('Enjoy.').waitFor({ timeout: 8000 });
  eq(asked, ['/f/gift/token'], 'one token fetched, for this form');
  eq(sent.length, 1, 'one submit');
  ok(/^t1\./.test(sent[0].timing_token || ''), `the submit carries the token: ${JSON.stringify(sent[0])}`);
  const code = await dlg.getByRole('textbox', { name: '5% off' }).inputValue();
  ok(/^GIFT-/.test(code), `the offer is shown: ${code}`);
  const stored = await waitResponses('gift', 1);
  eq(stored.map(r => r.answers), [{ email: 'gift+shop@example.com' }], 'stored, not dropped as spam');
  // A survey without offers needs no token: nothing is fetched for it.
  const other = await newPage();
  const more = [];
  other.on('request', r => r.url().startsWith(E + '/f/') && more.push(r.url()));
  await other.goto(H + '/coupon');
  await shown(other);
  eq(more, [], 'no token for a survey without offers');
});

test('a 422 from the server brings the visitor back to the refused field', async () => {
  const page = await newPage();
  await page.goto(H + '/callme');
  const dlg = await shown(page);
  await dlg.getByRole('textbox', { name: 'Phone' }).fill('12');
  await dlg.getByRole('button', { name: 'Next' }).click();
  await dlg.getByRole('button', { name: 'Afternoon' }).click();
  await page.waitForFunction(() => {
    const e = document.getElementById('earshot-widget').shadowRoot.querySelector('[role=alert]');
    return e && e.textContent.length > 3;
  });
  eq(await dlg.getByRole('textbox', { name: 'Phone' }).getAttribute('aria-invalid'), 'true', 'field marked invalid');
  eq((await responses('callme')).length, 0, 'nothing stored');
  await dlg.getByRole('textbox', { name: 'Phone' }).fill('+386 40 123 456');
  await dlg.getByRole('button', { name: 'Next' }).click();
  await dlg.getByRole('button', { name: 'Morning' }).click();
  await dlg.getByText('Thank you!').waitFor();
  eq((await waitResponses('callme', 1))[0].answers, { tel: '+38640123456', when: 'Morning' }, 'stored after the fix');
});

test('API: show() and hide(), q.push after load; hide() is no dismissal; one survey at a time', async () => {
  const page = await newPage();
  await page.goto(H + '/keyboard?short=1');
  await loaded(page);
  await page.evaluate(() => window.earshot.show('kbd'));
  await shown(page);
  await page.getByRole('dialog', { name: 'Help us improve' }).waitFor();
  await page.evaluate(() => window.earshot.hide());
  await page.locator(DIALOG).waitFor({ state: 'detached' });
  eq(await storage(page, 'earshot:done'), null, 'hide() did not count as a dismissal');
  await page.evaluate(() => window.earshot.q.push(['show', 'kbd']));
  await shown(page);
  await page.evaluate(() => window.earshot.show('branch')); // a survey whose page rules leave this page out
  await sleep(600);
  eq(await page.locator(DIALOG).count(), 1, 'still one survey on screen');
  await page.getByRole('dialog', { name: 'Help us improve' }).waitFor();
  await page.evaluate(() => window.earshot.hide());
  await page.evaluate(() => window.earshot.show('branch'));
  await page.getByRole('dialog', { name: 'Tell us' }).waitFor();
});

test('demo page, served by earshot under its strict CSP, shows the example surveys from its buttons', async () => {
  const page = await newPage();
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
  });
  const res = await page.goto(E + '/static/demo.html');
  eq(res.status(), 200, 'demo page served');
  await loaded(page);
  const ids = await page.$$eval('[data-earshot-show]', els => els.map(e => e.getAttribute('data-earshot-show')));
  ok(ids.length >= 3, 'demo buttons');
  for (const id of ids) {
    ok(fs.existsSync(path.join(repo, 'forms', id + '.yaml')), `forms/${id}.yaml exists`);
    const button = page.locator(`[data-earshot-show="${id}"]`);
    await button.click();
    const dlg = await shown(page);
    ok((await dlg.locator('h2').textContent()).length > 2, `survey ${id} has its title`);
    await page.keyboard.press('Escape');
    await page.locator(DIALOG).waitFor({ state: 'detached' });
    ok(await button.evaluate(b => document.activeElement === b), 'focus back on the button');
  }
  await page.locator('[data-earshot-show="exit-survey"]').click();
  const dlg = await shown(page);
  await dlg.getByRole('button', { name: 'Price' }).click();
  await dlg.locator('.thanks').waitFor();
  eq((await waitResponses('exit-survey', 1))[0].answers, { reason: 'Price' }, 'answer stored');
  eq(await page.evaluate(() => window.__violations), [], 'no CSP violations');
  eq(page.errors, [], 'no page errors');
});

// ---------------------------------------------------------------------------------------------------
const { passed, failed } = await runTests(tests, es, async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
});
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
