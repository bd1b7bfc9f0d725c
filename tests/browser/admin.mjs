#!/usr/bin/env node
// Browser tests of the admin dashboard (GET /admin, static/admin.html, admin.js, admin.css): the real
// earshot server with the nps and complaint-router plugins and a webhook destination that never
// answers (so complaints stay waiting), headless Chromium through playwright-core with a fresh
// profile. A corpus of XSS payloads is submitted as text answers; the dashboard must show every one
// as text and run none of them (no flag set, no dialog, no CSP violation, no unexpected request).
// A second form (shop: choice, nps, multi-choice, rating, text, email and consent questions, two
// wording variants) gets a known data set through the API plus a few answers dated ten days back
// (written into the database, since the API stamps the time itself); every panel's numbers are
// compared with the API's summary and with a count made here from the data set, under filters too.
// Also: the CSP header, the charts, paging to the oldest answer, the exports (CSV, NDJSON, XLSX
// downloaded through the page), deliveries of every destination with Retry, a wrong token, the token
// kept in sessionStorage only, keyboard sign-in and a phone-sized layout. Screenshots of every panel
// at 1280 and 390 px are written to $ADMIN_SHOTS (default _build/screenshots/admin; printed).
// Prints TAP-style progress and a closing line "N passed, N failed"; exits non-zero on any failure.
// Env: EARSHOT_BIN (default ../../_build/earshot), EARSHOT_BUILDDIR (where plugins/nps.so and
// plugins/complaint-router.so are; default: the binary's directory), CHROMIUM (default
// /usr/bin/chromium), TEST_FILTER.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BIN, BUILDDIR, Earshot, ON_POSTGRES, TEST_DATABASE, adminToken, browserOptions, chromium, eq, freePort, ok, repo, runTests, sleep } from './lib.mjs';

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

// ---- the shop's data set ------------------------------------------------------------------------
// Deterministic: answer i of 64 gets its parts from i, so the counts below are plain arithmetic.
const REASONS = ['Price', 'Shipping cost', 'Just looking', 'Other'];
const EXTRAS = ['Gift wrap', 'Express delivery', 'Nothing'];
const PAGES = ['https://shop.example.com/cart', 'https://shop.example.com/cart/step2', 'https://shop.example.com/checkout', '/blog/post'];
const COMMENTS = ['Too expensive', 'shipping was slow, I want a refund', 'Nice shop', 'Could not find my size'];
const category = n => n >= 9 ? 'promoter' : n >= 7 ? 'passive' : 'detractor';
const SHOP = [];
for (let i = 0; i < 64; i++) {
  const answers = {}, meta = { page: PAGES[i % 4] };
  if (i % 8 !== 7) answers.reason = REASONS[(i * 7) % 11 % 4];
  if (i % 5 !== 4) answers.score = (i * 3) % 11;
  if (i % 3 === 0) answers.extras = EXTRAS.filter((e, k) => (i >> k) & 1 || k === 2 && !(i & 3));
  if (i % 2 === 0) answers.stars = 1 + i % 5;
  if (i % 4 === 1) answers.comment = COMMENTS[(i >> 2) % 4];
  if (i % 6 === 2) answers.email = `buyer${i}@example.com`;
  if (i % 3 === 1) answers.ok = true;
  if (i % 3 !== 2) meta.variant = i % 3 === 0 ? 'a' : 'b';
  if (i % 4 !== 3) meta.device = ['desktop', 'mobile', 'tablet'][i % 3];
  if (i % 5 === 0) meta.plan = 'pro';
  if (answers.extras && !answers.extras.length) delete answers.extras;
  SHOP.push({ answers, meta, old: i >= 58, created_ms: Date.now() - 10 * 86400000 - i * 60000 });
}

// The independent count: the summary's numbers for the rows that pass `keep`.
function expected(keep = () => true) {
  const rows = SHOP.filter(keep);
  const out = { answers: rows.length, options: {}, answered: {}, dist: {}, given: 0 };
  for (const q of ['reason', 'score', 'extras', 'stars', 'comment', 'email', 'ok']) {
    out.answered[q] = rows.filter(r => q in r.answers).length;
  }
  for (const q of ['reason', 'extras']) {
    out.options[q] = {};
    for (const v of q === 'reason' ? REASONS : EXTRAS) out.options[q][v] = rows.filter(r => [].concat(r.answers[q] || []).includes(v)).length;
  }
  out.dist.score = Array.from({ length: 11 }, (_, v) => rows.filter(r => r.answers.score === v).length);
  out.dist.stars = Array.from({ length: 5 }, (_, v) => rows.filter(r => r.answers.stars === v + 1).length);
  const scores = rows.map(r => r.answers.score).filter(v => typeof v === 'number');
  out.promoters = scores.filter(v => v >= 9).length;
  out.passives = scores.filter(v => v >= 7 && v <= 8).length;
  out.detractors = scores.filter(v => v <= 6).length;
  out.nps = scores.length ? Math.round((out.promoters - out.detractors) / scores.length * 1000) / 10 : null;
  out.given = rows.filter(r => r.answers.ok === true).length;
  return out;
}
const pagePath = p => p.replace(/^https?:\/\/[^/]+/, '');

// ---- the server --------------------------------------------------------------------------------
const es = new Earshot('earshot-admin-');
const PORT = await freePort();
const DEAD_PORT = await freePort(); // nothing listens here: every webhook attempt fails at once
const E = `http://127.0.0.1:${PORT}`;
const { token: TOKEN, sha256: TOKEN_SHA } = adminToken();
es.copyForms(['nps.yaml', 'exit-survey.yaml']);
fs.writeFileSync(path.join(es.tmp, 'forms', 'shop.yaml'), `id: shop
kind: survey
title: Checkout survey
variants:
  - {id: a, weight: 50}
  - {id: b, weight: 50}
questions:
  - id: reason
    type: single_choice
    label: Why didn't you complete your purchase?
    options: [Price, Shipping cost, Just looking, Other]
  - id: score
    type: nps
    label: How likely are you to recommend us?
  - id: extras
    type: multi_choice
    label: What would help?
    options: [Gift wrap, Express delivery, Nothing]
  - id: stars
    type: rating
    label: Rate the checkout
    scale: 5
  - id: comment
    type: long_text
    label: Anything else?
  - id: email
    type: email
    label: Your email
  - id: ok
    type: consent
    label: You may contact me
`);
fs.writeFileSync(path.join(es.tmp, 'forms', 'feedback.yaml'), `id: feedback
kind: survey
title: Site feedback
questions:
  - id: comment
    type: long_text
    label: What should we improve?
`);
const SHOTS = process.env.ADMIN_SHOTS || path.join(BUILDDIR, 'screenshots', 'admin');
fs.mkdirSync(SHOTS, { recursive: true });
console.log(`# screenshots in ${SHOTS}`);
es.writeConfig(E, TOKEN_SHA, { extra: [
  'destinations:',
  '  support:',
  '    type: webhook',
  `    url: http://127.0.0.1:${DEAD_PORT}/hook`,
  '    timeout_seconds: 2',
  '    retry_for_hours: 0',
  '  archive:',
  '    type: file',
  '    path: complaints.ndjson',
  'plugins:',
  '  - name: nps',
  `    path: ${JSON.stringify(NPS_SO)}`,
  '    forms: [nps, shop]',
  '  - name: complaint-router',
  `    path: ${JSON.stringify(ROUTER_SO)}`,
  '    forms: [nps, shop]',
  '    config:',
  '      rules:',
  '        - when: {question: score, lte: 6}',
  '          route: support',
  '          tag: detractor',
  '        - when: {any_text: {matches: [refund]}}',
  '          route: archive',
  '          tag: refund',
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

async function submit(form, answers, meta) {
  const r = await fetch(`${E}/api/v1/forms/${form}/responses`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(meta ? { answers, meta } : { answers }),
  });
  if (r.status !== 201) throw new Error(`submit to ${form}: HTTP ${r.status} ${await r.text()}`);
}

// Views the widget would have counted: the writer stores them about a second later.
const VIEWS = { a: 40, b: 60 };
async function view(form, meta) {
  const r = await fetch(`${E}/api/v1/forms/${form}/views`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ meta }),
  });
  if (r.status !== 204) throw new Error(`view of ${form}: HTTP ${r.status} ${await r.text()}`);
}

// The shop's answers written ten days back, straight into the database (the API stamps "now"), oldest
// first and before the others, so that store order is time order.
const oldRows = SHOP.filter(r => r.old).map((r, i) => [r, i]).reverse().map(([r, i]) => {
  const q = v => "'" + JSON.stringify(v).replace(/'/g, "''") + "'";
  const score = typeof r.answers.score === 'number' ? { nps: r.answers.score, category: category(r.answers.score) } : null;
  return `INSERT INTO responses (id, form, created_ms, answers, meta, score, tags) VALUES ('r_old${i}', 'shop', ` +
    `${r.created_ms}, ${q(r.answers)}, ${q(r.meta)}, ${score ? q(score) : 'NULL'}, ${q(score && score.category === 'detractor' ? ['detractor'] : [])});`;
});
// The same SQL suits both backends' responses table.
if (ON_POSTGRES) execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', TEST_DATABASE], { input: 'BEGIN;' + oldRows.join('\n') + 'COMMIT;' });
else execFileSync('sqlite3', ['-cmd', '.timeout 10000', path.join(es.tmp, 'earshot.db')], { input: 'BEGIN;' + oldRows.join('\n') + 'COMMIT;' });
// The corpus, in order, as answers: every payload to nps, the first few to exit-survey.
try {
  for (const [i, p] of PAYLOADS.entries()) await submit('nps', { score: scoreOf(i), reason: p });
  for (const p of EXIT_PAYLOADS) await submit('exit-survey', { reason: 'Other', reason_other: p });
  for (const r of SHOP.filter(r => !r.old)) await submit('shop', r.answers, r.meta);
  for (const [variant, n] of Object.entries(VIEWS)) for (let i = 0; i < n; i++) await view('shop', { variant, device: 'desktop' });
} catch (e) {
  await es.bail(String(e.message || e));
}
for (const r of SHOP) if (r.old) r.tags = typeof r.answers.score === 'number' && r.answers.score <= 6 ? ['detractor'] : [];
const EXPECTED_COMPLAINTS = PAYLOADS.filter((p, i) => scoreOf(i) <= 6).length +
  SHOP.filter(r => !r.old && typeof r.answers.score === 'number' && r.answers.score <= 6).length;
for (let i = 0; i < 100; i++) {
  const v = (await admin('/api/v1/forms/shop/summary')).variants.variants;
  if (v.every(x => x.views === VIEWS[x.id])) break;
  await sleep(100);
}
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
  const allowed = /^(GET|POST|PATCH|HEAD) http:\/\/127\.0\.0\.1:\d+\/(admin|embed|static\/admin\.(js|css)|api\/v1\/[^ ]*)$/;
  eq(page.requests.filter(r => !allowed.test(r) && !r.startsWith('GET blob:')), [], 'requests other than the dashboard\'s');
  ok(!page.requests.some(r => r.includes(TOKEN)), 'the token never appears in a URL');
  const foreign = await page.evaluate(() =>
    document.querySelectorAll('main img, main script, main iframe, main object, main embed, main base, main meta, main style, main details').length +
    // The dashboard's own links and inputs: the inbox items' contact links (tel:, mailto:, #contact/),
    // their assignee fields, the filter bar, the text panels' search, links to contact cards and inbox
    // items, and the contact card's way back.
    Array.from(document.querySelectorAll('main a, main input:not(#token)')).filter(e =>
      !(e.id === 'contact-back' || e.closest('#contact-summary') || e.closest('#results-empty') || e.closest('#filters') || e.closest('form.search') ||
        /^#(contact|inbox)\//.test(e.getAttribute('href') || '') ||
        (e.closest('.item') && (e.tagName === 'INPUT' || /^(tel:|mailto:)/.test(e.getAttribute('href') || ''))))).length);
  eq(foreign, 0, 'elements made from answers');
  eq(await page.evaluate(() => Array.from(document.querySelectorAll('svg')).filter(x => !x.classList.contains('chart-svg')).length), 0,
    'SVG only in the charts');
}

// ---- tests -------------------------------------------------------------------------------------
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// Opens the dashboard already signed in (token in sessionStorage) at `hash`, at `width` px, and waits
// for the results of the form to be drawn.
async function openDash(width = 1280, hash = '') {
  const page = await newPage();
  await page.setViewportSize({ width, height: 900 });
  await page.addInitScript(t => sessionStorage.setItem('earshot-admin-token', t), TOKEN);
  await page.goto(`${E}/admin${hash}`);
  await settled(page);
  return page;
}

// Waits until the results and the answers list are loaded (the status says so).
async function settled(page) {
  await page.locator('#status').filter({ hasText: /^Showing \d+ answers? of / }).waitFor({ timeout: 15000 });
  await page.waitForFunction(() => !document.querySelector('[aria-busy]'), null, { timeout: 15000 });
}

// Everything the question panels, the numbers on top and the variants table show, as numbers.
const panels = page => page.evaluate(() => {
  const num = t => Number(String(t).replace(/[^\d.-]/g, ''));
  const out = { kpi: num(document.querySelector('#kpis .kpi .num-big').textContent), q: {} };
  document.querySelectorAll('#questions > section').forEach(s => {
    const q = { answered: num(s.querySelector('.answered strong').textContent) };
    const bars = s.querySelectorAll('ol.hbars li');
    if (bars.length) {
      q.options = {};
      bars.forEach(li => { q.options[li.querySelector('.opt').textContent] = num(li.querySelector('.val strong').textContent); });
    }
    const cols = s.querySelectorAll('svg.dist text.val');
    if (cols.length) q.dist = Array.from(cols).map(t => num(t.textContent));
    for (const k of ['det', 'pas', 'pro']) {
      const e = s.querySelector(`.legend .key.${k} strong`);
      if (e) q[k] = num(e.textContent);
    }
    const big = s.querySelector('.bignum.pos .num-big, .bignum.neg .num-big');
    if (big) q.nps = num(big.textContent);
    out.q[s.id.replace(/^q-/, '')] = q;
  });
  out.variants = Array.from(document.querySelectorAll('#variants-table tbody tr')).map(tr => Array.from(tr.children).map(c => c.textContent));
  return out;
});

const sorted = o => Object.fromEntries(Object.entries(o).sort());

// Compares the panels with the API's summary and with the independent count `want`.
async function checkPanels(page, query, want, what) {
  const api = await admin(`/api/v1/forms/shop/summary${query ? '?' + query : ''}`);
  const got = await panels(page);
  eq(api.answers, want.answers, `${what}: the API's answer count vs the independent count`);
  eq(got.kpi, want.answers, `${what}: answers on top`);
  const qs = Object.fromEntries(api.questions.map(q => [q.id, q]));
  for (const id of Object.keys(want.answered)) {
    eq(got.q[id].answered, want.answered[id], `${what}: ${id} answered (page)`);
    eq(qs[id].answered, want.answered[id], `${what}: ${id} answered (API)`);
  }
  for (const id of ['reason', 'extras']) {
    if (!want.answered[id]) {
      eq(got.q[id].options, undefined, `${what}: ${id} without answers has no bars`);
      continue;
    }
    eq(sorted(got.q[id].options), sorted(want.options[id]), `${what}: ${id} bars`);
    eq(sorted(Object.fromEntries(qs[id].options.map(o => [o.value, o.count]))), sorted(want.options[id]), `${what}: ${id} in the API`);
    const shown = Object.values(got.q[id].options);
    eq(shown, shown.slice().sort((a, b) => b - a), `${what}: ${id} ranked`);
  }
  if (want.answered.score) {
    eq(got.q.score.dist, want.dist.score, `${what}: 0-10 distribution`);
    eq(qs.score.distribution.map(d => d.count), want.dist.score, `${what}: 0-10 distribution in the API`);
    eq([got.q.score.det, got.q.score.pas, got.q.score.pro], [want.detractors, want.passives, want.promoters], `${what}: NPS split`);
    eq(got.q.score.nps, want.nps, `${what}: NPS shown`);
    eq(qs.score.nps, want.nps, `${what}: NPS in the API`);
  }
  if (want.answered.stars) eq(got.q.stars.dist, want.dist.stars, `${what}: rating distribution`);
  if (want.given) eq(got.q.ok.options, { 'Gave consent': want.given }, `${what}: consent`);
  return { api, got };
}

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
  const js = fs.readFileSync(path.join(repo, 'static', 'admin.js'), 'utf8');
  ok(!/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/.test(js), 'the script never parses markup or code');
});

test('signed in with the keyboard: the busiest form, every panel equal to the API and to the count here', async () => {
  const { page } = await signIn();
  await settled(page);
  eq(await page.locator('#form-select').inputValue(), 'shop', 'the busiest form is shown first');
  ok(/#form=shop$/.test(page.url()) && !page.url().includes(TOKEN), `the view is in the fragment, not the token: ${page.url()}`);
  await checkPanels(page, '', expected(), 'all time');
  // Contact questions are counts only: no address on the overview.
  ok(!(await page.locator('#questions').textContent()).includes('@example.com'), 'no email address in the panels');
  eq(await page.locator('#q-email ol, #q-email li').count(), 0, 'email: a count only');
  // Variants side by side: views, answers and completion (answers per view).
  const v = (await panels(page)).variants;
  const want = ['a', 'b'].map(id => {
    const answers = SHOP.filter(r => r.meta.variant === id).length;
    return [id, String(VIEWS[id]), String(answers), (Math.round(answers / VIEWS[id] * 1000) / 10) + ' %'];
  });
  eq(v, want, 'variants table');
  const verdict = await page.locator('#variants-verdict').textContent();
  const api = (await admin('/api/v1/forms/shop/summary')).variants;
  ok(api.significant ? verdict.includes(api.verdict) : !/A real difference/.test(verdict), `verdict only when significant: ${verdict}`);
  eq(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
  await assertClean(page);
});

test('filters: date presets, variant, category, page, device and attributes change every panel correctly', async () => {
  const page = await openDash(1280, '#form=shop');
  const recent = r => !r.old;
  // Last 7 days leaves out the answers of ten days ago; last 30 days takes them.
  await page.locator('#f-range').selectOption('7d');
  await settled(page);
  const since7 = new Date(new Date().getFullYear(), new Date().getMonth(), new Date().getDate() - 6).toISOString();
  await checkPanels(page, 'since=' + encodeURIComponent(since7), expected(recent), 'last 7 days');
  ok(page.url().includes('range=7d'), 'the preset is in the fragment');
  await page.locator('#f-range').selectOption('today');
  await settled(page);
  eq((await panels(page)).kpi, SHOP.filter(recent).length, 'today');
  await page.locator('#f-range').selectOption('30d');
  await settled(page);
  eq((await panels(page)).kpi, SHOP.length, 'last 30 days');
  // A custom range of the day ten days back: only the old answers.
  const d = new Date(SHOP.find(r => r.old).created_ms);
  const day = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  await page.locator('#f-range').selectOption('custom');
  await page.locator('#f-from').fill(day);
  await page.locator('#f-to').fill(day);
  await page.getByRole('button', { name: 'Apply' }).click();
  await settled(page);
  const sameDay = r => { const x = new Date(r.created_ms); return x.getDate() === d.getDate() && x.getMonth() === d.getMonth(); };
  eq((await panels(page)).kpi, SHOP.filter(r => r.old && sameDay(r)).length, 'custom range');
  // Variant, category, page glob, device, attributes: each alone, then together.
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await settled(page);
  await page.locator('#f-variant').selectOption('a');
  await settled(page);
  await checkPanels(page, 'variant=a', expected(r => r.meta.variant === 'a'), 'variant a');
  await page.locator('#f-variant').selectOption('');
  await page.locator('#f-category').selectOption('promoter');
  await settled(page);
  await checkPanels(page, 'category=promoter', expected(r => typeof r.answers.score === 'number' && r.answers.score >= 9), 'promoters');
  await page.locator('#f-category').selectOption('');
  await settled(page);
  await page.locator('#f-page').fill('/cart*');
  await page.locator('#f-page').press('Enter');
  await settled(page);
  await checkPanels(page, 'page=' + encodeURIComponent('/cart*'), expected(r => /^\/cart/.test(pagePath(r.meta.page))), 'page /cart*');
  // Views keep no page: under a page filter the variants table cannot count them.
  eq((await panels(page)).variants.map(row => row[1]), ['not counted', 'not counted'], 'views under a page filter');
  await page.locator('#f-device').selectOption('mobile');
  await settled(page);
  await page.locator('#f-attr').fill('plan');
  await page.getByRole('button', { name: 'Apply' }).click();
  await settled(page);
  const all = r => /^\/cart/.test(pagePath(r.meta.page)) && r.meta.device === 'mobile' && r.meta.plan;
  await checkPanels(page, 'page=' + encodeURIComponent('/cart*') + '&device=mobile&attr=plan', expected(all), 'page, device and attribute');
  // The fragment is a bookmark: a new tab opened on it shows the same numbers.
  const url = page.url();
  ok(/page=%2Fcart\*|page=%2Fcart%2A/.test(url) && url.includes('device=mobile') && url.includes('attr=plan'), `fragment: ${url}`);
  const again = await openDash(1280, url.slice(url.indexOf('#')));
  eq((await panels(again)).kpi, SHOP.filter(all).length, 'the bookmark gives the same view');
  eq(await again.locator('#f-device').inputValue(), 'mobile', 'the bookmark fills the filter bar');
  // A bad value is refused by the server and said next to the filters.
  await again.locator('#f-attr').fill('no spaces allowed');
  await again.getByRole('button', { name: 'Apply' }).click();
  await again.locator('#filter-error').filter({ hasText: 'attr' }).waitFor({ timeout: 10000 });
  await assertClean(page);
});

test('all answers: newest first, "load older" reaches the oldest, each opens to everything about it', async () => {
  const page = await openDash(1280, '#form=shop');
  const stored = [];
  for (let after = null; ;) {
    const p = await admin('/api/v1/forms/shop/responses?order=newest&limit=1000' + (after ? '&after=' + after : ''));
    stored.push(...p.responses);
    if (!(after = p.next)) break;
  }
  eq(stored.length, SHOP.length, 'the API lists every answer');
  eq(await page.locator('#answers-list > li').count(), 20, 'a first page of 20');
  for (let i = 0; i < 10 && await page.locator('#answers-more').isVisible(); i++) {
    await page.locator('#answers-more').click();
    await page.waitForFunction(() => !document.querySelector('#answers-list[aria-busy]'));
  }
  const ids = await page.evaluate(() => Array.from(document.querySelectorAll('#answers-list > li')).map(li => li.id.replace('answer-', '')));
  eq(ids, stored.map(r => r.id), 'every answer, newest first, down to the oldest');
  eq(ids[ids.length - 1], 'r_old' + (SHOP.filter(r => r.old).length - 1), 'the oldest answer is the last one');
  ok((await page.locator('#answers-count').textContent()).includes('that is all of them'), 'says it is the end');
  // A detractor with a refund comment: answers, tags, the deliveries to the webhook and to the file.
  const target = stored.find(r => r.answers.comment && /refund/.test(r.answers.comment) && r.answers.score <= 6) ||
    stored.find(r => r.answers.comment && /refund/.test(r.answers.comment));
  const li = page.locator('#answer-' + target.id);
  await li.getByRole('button', { name: 'Show everything' }).click();
  await li.locator('.detail h3', { hasText: 'Follow-up' }).waitFor({ timeout: 10000 });
  const text = await li.locator('.detail').textContent();
  ok(text.includes(target.answers.comment), 'full answers');
  ok(text.includes('Anything else?'), 'question labels');
  for (const t of target.tags) ok(text.includes(t), `tag ${t}`);
  const detail = await admin(`/api/v1/forms/shop/responses/${target.id}`);
  eq(await li.locator('.mini-deliveries > li').count(), detail.deliveries.length, 'every delivery of the answer');
  ok(detail.deliveries.some(d => d.destination === 'archive'), 'the file destination got it');
  ok(text.includes('archive'), 'the file delivery is shown');
  // An answer with an email links to its contact card.
  const withEmail = stored.find(r => r.answers.email);
  const li2 = page.locator('#answer-' + withEmail.id);
  await li2.getByRole('button', { name: 'Show everything' }).click();
  const link = li2.getByRole('link', { name: 'contact card of ' + withEmail.answers.email });
  await link.waitFor({ timeout: 10000 });
  await link.click();
  await page.locator('#contact').waitFor({ state: 'visible', timeout: 10000 });
  eq(await page.locator('#contact-h').textContent(), withEmail.answers.email, 'the contact card opened');
  await page.getByRole('link', { name: '← Back to the inbox' }).click();
  await page.locator('#results').waitFor({ state: 'visible', timeout: 5000 });
  ok(page.url().includes('#form=shop'), 'back to the same view');
  await assertClean(page);
});

test('exports: CSV, NDJSON and XLSX of the filtered set, the token in a header only', async () => {
  const page = await openDash(1280, '#form=shop&variant=b');
  const want = SHOP.filter(r => r.meta.variant === 'b').length;
  const got = {};
  for (const format of ['csv', 'ndjson', 'xlsx']) {
    const req = page.waitForRequest(r => r.url().includes('/export?'));
    const dl = page.waitForEvent('download', { timeout: 15000 });
    await page.locator(`[data-format="${format}"]`).click();
    const r = await req;
    eq(r.headers()['authorization'], 'Bearer ' + TOKEN, `${format}: token as a header`);
    ok(!r.url().includes(TOKEN) && r.url().includes('variant=b') && r.url().includes('format=' + format), `${format} URL: ${r.url()}`);
    const file = path.join(es.tmp, 'export.' + format);
    await (await dl).saveAs(file);
    got[format] = fs.readFileSync(file);
    ok((await dl).suggestedFilename().startsWith('shop-'), `${format}: the server's file name`);
  }
  // CSV: a header and one row per answer (no answer holds a line break).
  const lines = got.csv.toString('utf8').split('\r\n').filter(Boolean);
  eq(lines.length, want + 1, 'CSV rows');
  ok(lines[0].startsWith('id,created_at,reason,score'), `CSV header: ${lines[0]}`);
  const nd = got.ndjson.toString('utf8').split('\n').filter(Boolean).map(l => JSON.parse(l));
  eq(nd.length, want, 'NDJSON lines');
  ok(nd.every(r => r.meta.variant === 'b'), 'NDJSON: only variant b');
  eq(got.xlsx.subarray(0, 2).toString('latin1'), 'PK', 'XLSX is a zip');
  ok(got.xlsx.includes('xl/worksheets/sheet1.xml') && got.xlsx.includes('xl/workbook.xml'), 'XLSX has the sheet');
  await page.locator('#status').filter({ hasText: /Downloaded shop-.*\.xlsx/ }).waitFor({ timeout: 5000 });
  await assertClean(page);
});

test('charts: answers per day/week/month and the NPS trend with axis labels and visible marks', async () => {
  const page = await openDash(1280, '#form=shop');
  const tl = await admin('/api/v1/forms/shop/timeline?interval=day');
  eq(tl.series.reduce((n, s) => n + s.answers, 0), SHOP.length, 'the timeline counts every answer');
  eq(tl.series.length, 2, 'two days with answers');
  const bars = await page.evaluate(() => Array.from(document.querySelectorAll('#volume-chart rect.bar'))
    .map(r => [r.querySelector('title').textContent, Number(r.getAttribute('height'))]));
  ok(bars.length >= 11, `every day from the first to the last answer (${bars.length})`);
  eq(bars.filter(b => b[1] > 0).length, 2, 'two visible bars');
  ok(bars.some(b => b[0].endsWith(`: ${SHOP.filter(r => !r.old).length} answers`)), 'today\'s bar says its count');
  ok(await page.locator('#volume-chart text.tick').count() >= 4, 'axis labels');
  await page.getByRole('button', { name: 'Week' }).click();
  await settled(page);
  eq(await page.locator('#volume-h').textContent(), 'Answers per week', 'week switch');
  ok(page.url().includes('interval=week'), 'interval in the fragment');
  const nps = await admin('/api/v1/forms/shop/nps?interval=week');
  eq(await page.locator('#nps-chart circle.point').count(), nps.series.filter(s => s.nps !== null).length, 'one point per week');
  const label = await page.locator('#nps-chart svg').getAttribute('aria-label');
  ok(/^NPS per week: /.test(label) && label.includes(String(Math.round(nps.series[nps.series.length - 1].nps * 10) / 10)), `chart text: ${label}`);
  await page.getByRole('button', { name: 'Month' }).click();
  await settled(page);
  ok(await page.locator('#volume-chart rect.bar').count() >= 1, 'month bars');
  // A form without answers says how to get some; without the nps plugin there is no NPS trend.
  await page.locator('#form-select').selectOption('exit-survey');
  await settled(page);
  ok(await page.locator('#nps-block').isHidden(), 'no NPS trend for a form without nps scoring');
  await page.locator('#f-category').selectOption('promoter');
  await settled(page);
  ok((await page.locator('#results-empty').textContent()).includes('No answers match these filters'), 'empty filtered state');
  await page.evaluate(() => { location.hash = '#form=feedback'; });
  await page.locator('#results-empty').filter({ hasText: 'Embed the widget' }).waitFor({ timeout: 10000 });
  await page.locator('#results-empty pre').filter({ hasText: '/static/earshot.js' }).waitFor({ timeout: 10000 });
});

test('the XSS corpus shows as text and runs nowhere: text panel, answers, details, deliveries', async () => {
  const page = await openDash(1280, '#form=nps');
  // The text question's panel lists the newest answers; show them all.
  const more = page.locator('#q-reason').getByRole('button', { name: 'Show more' });
  while (await more.isVisible()) { await more.click(); await page.waitForFunction(() => !document.querySelector('#q-reason [aria-busy]')); }
  const quotes = await page.evaluate(() => Array.from(document.querySelectorAll('#q-reason .quote')).map(q => q.textContent));
  eq(quotes, PAYLOADS.slice().reverse(), 'every payload as the exact text, newest first');
  // Search through the listing's q=.
  await page.getByLabel('Search these answers').fill('pwned=2;');
  await page.getByLabel('Search these answers').press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('#q-reason .quote').length === 1);
  eq(await page.locator('#q-reason .quote').textContent(), PAYLOADS[1], 'search finds the one answer');
  // Every answer opened, then hovered and focused.
  while (await page.locator('#answers-more').isVisible()) {
    await page.locator('#answers-more').click();
    await page.waitForFunction(() => !document.querySelector('#answers-list[aria-busy]'));
  }
  await page.evaluate(() => document.querySelectorAll('#answers-list button[aria-expanded="false"]').forEach(b => b.click()));
  await page.waitForFunction(n => document.querySelectorAll('#answers-list .detail .detail-h').length >= n * 7, PAYLOADS.length, { timeout: 20000 });
  const shown = await page.evaluate(() => Array.from(document.querySelectorAll('#answers-list .detail dl.answers')).filter((dl, i) => i % 3 === 0)
    .map(dl => dl.querySelectorAll('dd')[1] && dl.querySelectorAll('dd')[1].textContent));
  eq(shown.filter(Boolean).sort(), PAYLOADS.slice().sort(), 'the payloads in the details, as text');
  for (const cell of (await page.locator('#answers-list dd').all()).slice(0, 60)) await cell.hover();
  for (let i = 0; i < 20; i++) await page.keyboard.press('Tab');
  // The deliveries: every dead complaint with its answer as text and a Retry button.
  const dead = (await admin('/api/v1/deliveries?state=dead&limit=1000')).deliveries;
  eq(dead.length, EXPECTED_COMPLAINTS, 'dead complaints in the API');
  eq(await page.locator('#deliveries-groups').getByRole('button', { name: /^Retry delivery d_/ }).count(), dead.length,
    'a Retry button per dead delivery');
  const npsIds = new Set((await admin('/api/v1/forms/nps/responses?limit=1000')).responses.map(r => r.id));
  eq(await page.locator('#answers-list').getByRole('button', { name: /^Retry delivery d_/ }).count(),
    dead.filter(d => npsIds.has(d.response_id)).length, 'and in the details of each answer');
  const groups = await page.evaluate(() => Array.from(document.querySelectorAll('#deliveries-groups h3')).map(h => h.textContent));
  eq(groups, ['archive', 'support'], 'every destination, whatever its type');
  await sleep(300);
  await assertClean(page);
});

test('deliveries: Retry a dead one with the keyboard', async () => {
  const page = await openDash(1280, '#form=nps');
  const buttons = page.locator('#deliveries-groups').getByRole('button', { name: /^Retry delivery d_/ });
  const first = buttons.first();
  const id = (await first.getAttribute('aria-label')).replace('Retry delivery ', '');
  const dead = (await admin('/api/v1/deliveries?state=dead&limit=1000')).deliveries.find(d => d.id === id);
  const posted = page.waitForRequest(r => r.method() === 'POST' && r.url().endsWith(`/api/v1/deliveries/${id}/retry`));
  await first.focus();
  await page.keyboard.press('Enter');
  const req = await posted;
  eq(req.headers()['authorization'], 'Bearer ' + TOKEN, 'retry carries the bearer token');
  await page.locator('#status').filter({ hasText: `Delivery ${id} is queued again.` }).waitFor({ timeout: 5000 });
  let row = null;
  for (let i = 0; i < 50; i++) {
    row = (await admin('/api/v1/deliveries?limit=1000')).deliveries.find(d => d.id === id);
    if (row && row.state === 'dead' && row.last_attempt_at > dead.last_attempt_at) break;
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
  eq(await page.locator('#answers-list li').count(), 0, 'no rows');
  eq(await page.evaluate(() => sessionStorage.length + localStorage.length), 0, 'nothing stored');
  eq(await page.evaluate(() => document.activeElement.id), 'token', 'focus back on the token field');
  const before = page.requests.length;
  await page.keyboard.press('Enter');
  await page.locator('#signin-error').filter({ hasText: 'Enter the admin token.' }).waitFor({ timeout: 3000 });
  eq(page.requests.length, before, 'no request for an empty token');
  await page.keyboard.type(TOKEN);
  await page.keyboard.press('Enter');
  await settled(page);
  ok(await page.getByRole('alert').filter({ hasText: /./ }).count() === 0, 'error gone');
  eq(page.errors.filter(e => !/401/.test(e)), [], 'no other errors');
});

test('sign out forgets the token; a token refused later sends back to sign-in', async () => {
  const { page } = await signIn();
  await settled(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  ok(await page.getByLabel('Admin token').isVisible(), 'sign-in form back');
  eq(await page.evaluate(() => sessionStorage.getItem('earshot-admin-token')), null, 'token forgotten');
  eq(await page.locator('#answers-list li').count(), 0, 'rows cleared');
  await page.evaluate(() => sessionStorage.setItem('earshot-admin-token', 'revoked'));
  await page.reload();
  await page.getByRole('alert').waitFor({ state: 'visible', timeout: 5000 });
  ok(await page.locator('#dashboard').isHidden(), 'dashboard hidden');
});

// Screenshots of the parts of the page (the machine may be loaded: each gets 45 s).
async function shots(page, width, tag, parts) {
  for (const [name, sel] of Object.entries(parts)) {
    const loc = page.locator(sel);
    if (!await loc.isVisible()) continue;
    // At most 1600 px of a long part: enough to judge it, and quick on a loaded machine.
    await loc.scrollIntoViewIfNeeded();
    const box = await loc.boundingBox();
    const top = await page.evaluate(() => scrollY);
    await page.screenshot({ path: path.join(SHOTS, `${tag}-${name}-${width}.png`), fullPage: true, timeout: 45000,
      clip: { x: box.x, y: box.y + top, width: box.width, height: Math.min(box.height, 1600) } });
  }
}

for (const width of [1280, 390]) {
  test(`${width} px, shop: no sideways scrolling with an answer open, large enough controls`, async () => {
    const page = await openDash(width, '#form=shop');
    const li = page.locator('#answers-list > li').first();
    await li.getByRole('button', { name: 'Show everything' }).click();
    await li.locator('.detail h3', { hasText: 'Follow-up' }).waitFor({ timeout: 10000 });
    const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
    ok(sw <= iw, `no horizontal scrolling of the page (${sw} > ${iw})`);
    for (const b of [page.getByRole('button', { name: 'Sign out' }), page.getByRole('button', { name: 'CSV', exact: true }),
      page.locator('#answers-more')]) {
      const box = await b.boundingBox();
      ok(box && box.height >= 44, 'buttons at least 44px high');
    }
    await assertClean(page);
  });
  test(`${width} px, shop: screenshots of the filters, numbers and charts`, async () => {
    const page = await openDash(width, '#form=shop');
    await shots(page, width, 'shop', { top: '#results > h2 ~ .kpis', filters: '#filters', charts: '#charts', variants: '#variants' });
  });
  test(`${width} px, shop: screenshots of the question panels and the answers`, async () => {
    const page = await openDash(width, '#form=shop');
    await page.locator('#answers-list > li').first().getByRole('button', { name: 'Show everything' }).click();
    await page.locator('#answers-list .detail h3', { hasText: 'Follow-up' }).waitFor({ timeout: 10000 });
    await shots(page, width, 'shop', { questions: '#questions', answers: '#answers' });
  });
  test(`${width} px, nps: no sideways scrolling, screenshots of the panels and deliveries`, async () => {
    const page = await openDash(width, '#form=nps');
    const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
    ok(sw <= iw, `nps form: no horizontal scrolling (${sw} > ${iw})`);
    await shots(page, width, 'nps', { charts: '#charts', questions: '#questions', deliveries: '#deliveries' });
    await assertClean(page);
  });
  test(`${width} px, a form without answers: what to do, no sideways scrolling, screenshot`, async () => {
    const page = await openDash(width, '#form=feedback');
    await page.locator('#results-empty pre').filter({ hasText: '/static/earshot.js' }).waitFor({ timeout: 10000 });
    const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
    ok(sw <= iw, `empty form: no horizontal scrolling (${sw} > ${iw})`);
    await shots(page, width, 'empty', { results: '#results' });
    await assertClean(page);
  });
}

// ---- run ---------------------------------------------------------------------------------------
const { passed, failed } = await runTests(tests, es, async () => {
  for (const p of context.pages()) await p.close().catch(() => {});
});
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
