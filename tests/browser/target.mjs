#!/usr/bin/env node
// Browser tests of targeting and wordings: the widget's audience conditions (device class under mobile
// emulation, new and returning visitors across a reload, identify() attributes, UTM query parameters),
// trigger.schedule opening a survey on time, trigger.max_responses exact under concurrent submits from
// the page, the visitor's language from the browser's settings (widget and hosted form, with
// screenshots in Ukrainian and Slovenian), and wording variants split near their weights over many
// simulated visitors and kept across reloads, and the view a shown survey counts (one per showing, with
// its variant; none where nothing shows). The real earshot server on one loopback origin, a host
// site on another, headless Chromium through playwright-core. Prints TAP-style progress and a closing
// line "N passed, N failed". Env: EARSHOT_BIN, CHROMIUM, TEST_FILTER, SCREENSHOT_DIR (where the PNGs
// go; default: a temporary directory that is removed).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { BIN, Earshot, adminToken, browserOptions, chromium, eq, freePort, ok, repo, runTests, sleep } from './lib.mjs';

const SOON_MS = 8000;
const START = Date.now();
const iso = ms => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const Q = (id, label, options) => `  - {id: ${id}, type: single_choice, label: "${label}", required: true, options: [${options.join(', ')}]}\n`;
const survey = (id, page, trigger = '', rest = '') => `id: ${id}\nkind: survey\ntitle: "Survey ${id}"\nquestions:\n` +
  Q('pick', 'Pick one', ['Yes', 'No']) +
  `trigger:\n  event: page_view\n  recontact_days: 0\n  pages: {include: ["${page}"]}\n${trigger}${rest}`;

const FORMS = {
  'aud-mobile': survey('aud-mobile', '/aud/mobile', '  audience: {device: mobile}\n'),
  'aud-desktop': survey('aud-desktop', '/aud/desktop', '  audience: {device: [desktop, tablet]}\n'),
  'aud-new': survey('aud-new', '/aud/new', '  audience: {visitor: new}\n'),
  'aud-returning': survey('aud-returning', '/aud/returning', '  audience: {visitor: returning}\n'),
  'aud-attr': survey('aud-attr', '/aud/attr', '  audience: {attributes: {plan: [pro, team]}}\n'),
  'aud-utm': survey('aud-utm', '/aud/utm', '  audience: {query: {utm_source: newsletter, utm_medium: [email]}}\n'),
  'soon': survey('soon', '/soon', `  schedule: {from: ${iso(START + SOON_MS)}}\n`),
  'over': survey('over', '/over', '  schedule: {from: 2020-01-01, until: 2021-01-01}\n'),
  'cap': survey('cap', '/cap', '  max_responses: 3\n'),
  'lang': `id: lang
kind: survey
title: Before you go
thank_you: Thanks, that helps.
questions:
  - {id: reason, type: single_choice, label: What stopped you from finishing your purchase?, required: true, options: [Price, Shipping cost, Just looking]}
  - {id: note, type: text, label: Anything else?}
trigger:
  event: page_view
  recontact_days: 0
  pages: {include: ["/lang"]}
locales:
  sl:
    title: Preden odidete
    thank_you: Hvala, to nam pomaga.
    questions:
      reason: {label: Kaj vas je ustavilo pri nakupu?, options: [Cena, Poštnina, Samo gledam]}
      note: {label: Še kaj?}
  uk:
    title: Перш ніж піти
    thank_you: Дякуємо, це допомагає.
    questions:
      reason: {label: Що завадило вам завершити покупку?, options: [Ціна, Вартість доставки, Просто дивлюся]}
      note: {label: Ще щось?}
  ro:
    title: Înainte să plecați
    questions:
      reason: {label: Ce v-a oprit să finalizați comanda?, options: [Prețul, Costul livrării, Doar mă uit]}
  nb:
    title: Før du går
    questions:
      reason: {label: Hva stoppet deg fra å fullføre kjøpet?, options: [Pris, Fraktkostnad, Bare ser]}
`,
  'var': survey('var', '/var', '', 'variants:\n  - {id: a, weight: 20, title: "Wording A"}\n  - {id: b, weight: 80, title: "Wording B"}\n'),
  'seen': survey('seen', '/seen', '', 'variants:\n  - {id: a, weight: 50, title: "Seen A"}\n  - {id: b, weight: 50, title: "Seen B"}\n'),
};

// ---- servers ---------------------------------------------------------------------------------------
const es = new Earshot('earshot-target-');
const E = `http://127.0.0.1:${await freePort()}`;
const { token: TOKEN, sha256: TOKEN_SHA } = adminToken();
fs.mkdirSync(path.join(es.tmp, 'forms'));
for (const [id, text] of Object.entries(FORMS)) fs.writeFileSync(path.join(es.tmp, 'forms', id + '.yaml'), text);
const hostServer = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname === '/favicon.ico') { res.writeHead(404); return res.end(); }
  const stub = u.searchParams.get('stub');
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
${stub ? `<script>window.earshot = {q: ${stub}};</script>` : ''}
<script src="${E}/static/earshot.js" async></script></head>
<body><h1>Shop page ${u.pathname}</h1><p>Shoes, socks and laces.</p></body></html>`);
});
await new Promise(r => hostServer.listen(0, '127.0.0.2', r));
const H = `http://127.0.0.2:${hostServer.address().port}`;
es.writeConfig(E, TOKEN_SHA, { extra: ['cors:', `  allowed_origins: [${JSON.stringify(H)}]`] });
const shots = process.env.SCREENSHOT_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'earshot-target-shots-'));
fs.mkdirSync(shots, { recursive: true });

let browser = null;
const contexts = [];
es.beforeStop(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
  if (browser) await browser.close().catch(() => {});
});
es.afterStop(async () => {
  await new Promise(r => hostServer.close(r));
  if (!process.env.SCREENSHOT_DIR) fs.rmSync(shots, { recursive: true, force: true });
});
if (!fs.existsSync(BIN)) await es.bail(`earshot binary not found at ${BIN} (set EARSHOT_BIN)`);
await es.start(E);
browser = await chromium.launch(browserOptions());

// ---- helpers -------------------------------------------------------------------------------------
const IPHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1' };
async function newPage(opts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 760 }, ...opts });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', e => page.errors.push(String(e)));
  return page;
}
const DIALOG = '#earshot-widget [role=dialog]';
// the widget has loaded and fetched its surveys for this page
async function loaded(page) {
  await page.waitForFunction(() => window.earshot && window.earshot.version);
  await page.waitForLoadState('networkidle');
}
// Visits path on the host site; resolves to the dialog's title, or null when none shows.
async function visit(page, p, { wait = 700, reload = false } = {}) {
  if (reload) await page.reload(); else await page.goto(H + p);
  await loaded(page);
  try {
    await page.locator(DIALOG).waitFor({ state: 'visible', timeout: wait });
  } catch (e) { return null; }
  return page.locator(DIALOG + ' h2').textContent();
}
// Forgets the once-a-day limit (and answers) so that the next page may show a survey again.
const rearm = page => page.evaluate(() => { localStorage.removeItem('earshot:last'); localStorage.removeItem('earshot:done'); });
async function responses(form) {
  const r = await fetch(`${E}/api/v1/forms/${form}/responses?limit=1000`, { headers: { Authorization: 'Bearer ' + TOKEN } });
  return (await r.json()).responses;
}
async function waitResponses(form, n) {
  for (let i = 0; i < 50; i++) {
    const got = await responses(form);
    if (got.length >= n) return got;
    await sleep(150);
  }
  throw new Error(`expected ${n} response(s) for ${form}`);
}

// ---- tests ---------------------------------------------------------------------------------------
const tests = [];
const test = (name, fn, timeout) => tests.push({ name, fn, timeout });

test('schedule: not served before `from`, served once it passes; never after `until`', async () => {
  const page = await newPage();
  ok(Date.now() < START + SOON_MS - 1500, 'the test started before the opening');
  eq(await visit(page, '/soon'), null, 'before from');
  eq(await visit(page, '/over'), null, 'after until');
  await sleep(Math.max(0, START + SOON_MS + 300 - Date.now()));
  // a fresh browser: the listing the first one saw may be cached for up to a minute
  eq(await visit(await newPage(), '/soon', { wait: 10000 }), 'Survey soon', 'after from');
  const res = await page.goto(E + '/f/over');
  eq(res.status(), 410, 'hosted page of an ended form');
  ok((await page.locator('h1').textContent()).includes('This form is closed'), 'closed page');
});

test('audience device: a phone (mobile emulation) sees the mobile survey, a desktop the desktop one', async () => {
  const phone = await newPage(IPHONE);
  eq(await visit(phone, '/aud/desktop'), null, 'phone: desktop survey');
  eq(await visit(phone, '/aud/mobile', { wait: 10000 }), 'Survey aud-mobile', 'phone: mobile survey');
  fs.writeFileSync(path.join(shots, 'widget-mobile.png'), await phone.screenshot());
  const desk = await newPage();
  eq(await visit(desk, '/aud/mobile'), null, 'desktop: mobile survey');
  eq(await visit(desk, '/aud/desktop', { wait: 10000 }), 'Survey aud-desktop', 'desktop: desktop survey');
  eq([...phone.errors, ...desk.errors], [], 'no page errors');
});

test('audience visitor: new on the first visit, returning after a reload half an hour on', async () => {
  const page = await newPage();
  eq(await visit(page, '/aud/returning'), null, 'a new visitor is not returning');
  eq(await visit(page, '/aud/new', { wait: 10000 }), 'Survey aud-new', 'a new visitor');
  const first = Number(await page.evaluate(() => localStorage.getItem('earshot:first')));
  ok(first > START - 1000 && first <= Date.now(), 'first-seen stamp in the widget\'s storage');
  // the same browser, 31 minutes after the first visit
  await page.evaluate(t => localStorage.setItem('earshot:first', String(t)), first - 31 * 60e3);
  await rearm(page);
  eq(await visit(page, '/aud/new', { reload: false }), null, 'no longer new');
  // Wait until this page's widget has shown the survey (and stamped its once-a-day limit) before the
  // limit is forgotten again: otherwise a slow widget stamps it after rearm and the reload stays quiet.
  eq(await visit(page, '/aud/returning', { wait: 10000 }), 'Survey aud-returning', 'returning on the next page');
  await rearm(page);
  eq(await visit(page, '/aud/returning', { reload: true, wait: 10000 }), 'Survey aud-returning', 'returning after reload');
});

test('audience attributes: identify() values must match', async () => {
  const pro = await newPage();
  eq(await visit(pro, '/aud/attr?stub=' + encodeURIComponent('[["identify",{"plan":"team"}]]'), { wait: 10000 }),
    'Survey aud-attr', 'plan team');
  const free = await newPage();
  eq(await visit(free, '/aud/attr?stub=' + encodeURIComponent('[["identify",{"plan":"free"}]]')), null, 'plan free');
  const none = await newPage();
  eq(await visit(none, '/aud/attr'), null, 'not identified');
  await pro.locator(DIALOG).getByRole('button', { name: 'Yes' }).click();
  const [r] = await waitResponses('aud-attr', 1);
  eq(r.meta.plan, 'team', 'attributes travel in meta');
});

test('audience query: UTM parameters must match', async () => {
  const a = await newPage();
  eq(await visit(a, '/aud/utm?utm_source=newsletter&utm_medium=email', { wait: 10000 }), 'Survey aud-utm', 'both match');
  const b = await newPage();
  eq(await visit(b, '/aud/utm?utm_source=newsletter&utm_medium=cpc'), null, 'medium differs');
  const c = await newPage();
  eq(await visit(c, '/aud/utm'), null, 'no parameters');
});

test('max_responses: 20 concurrent submits from the page, exactly 3 stored; then not served', async () => {
  const page = await newPage();
  eq(await visit(page, '/cap', { wait: 10000 }), 'Survey cap', 'served below the quota');
  const statuses = await page.evaluate(async url => {
    const one = i => fetch(url, { method: 'POST', body: JSON.stringify({ answers: { pick: 'Yes' }, idempotency_key: 'k' + i }) })
      .then(r => r.json().then(b => r.status + ':' + (b.reason || '')));
    return Promise.all([...Array(20).keys()].map(one));
  }, E + '/api/v1/forms/cap/responses');
  eq(statuses.filter(s => s === '201:').length, 3, 'accepted');
  eq(statuses.filter(s => s === '410:quota_reached').length, 17, 'refused with the reason');
  eq((await responses('cap')).length, 3, 'stored');
  // a fresh browser: the listing may be cached for up to a minute (Cache-Control), the refusal is at once
  const later = await newPage();
  eq(await visit(later, '/cap'), null, 'not served at the quota');
  const hosted = await newPage({ locale: 'uk-UA' });
  const res = await hosted.goto(E + '/f/cap');
  eq(res.status(), 410, 'hosted page at the quota');
  eq(await hosted.locator('h1').textContent(), 'Форму закрито', 'closed page in Ukrainian');
});

const LANGS = {
  'sl-SI': ['sl', 'Preden odidete', 'Poštnina', 'Cena'],
  'uk-UA': ['uk', 'Перш ніж піти', 'Вартість доставки', 'Ціна'],
  'ro-RO': ['ro', 'Înainte să plecați', 'Costul livrării', 'Prețul'],
  'nb-NO': ['nb', 'Før du går', 'Fraktkostnad', 'Pris'],
  'de-DE': ['en', 'Before you go', 'Shipping cost', 'Price'],
};
test('widget language from the browser settings (sl, uk, ro, nb; de falls back to the form\'s own)', async () => {
  for (const [browserLocale, [lang, title, option, first]] of Object.entries(LANGS)) {
    const page = await newPage({ locale: browserLocale });
    eq(await visit(page, '/lang', { wait: 10000 }), title, `title for ${browserLocale}`);
    const dlg = page.locator(DIALOG);
    eq(await dlg.getAttribute('lang'), lang, `lang attribute for ${browserLocale}`);
    ok(await dlg.getByRole('button', { name: option }).isVisible(), `option for ${browserLocale}`);
    if (lang === 'uk' || lang === 'sl') fs.writeFileSync(path.join(shots, `widget-${lang}.png`), await page.screenshot());
    await dlg.getByRole('button', { name: first }).click();
    await dlg.locator('#es-in').waitFor();
    await dlg.locator('button[type=submit]').click();
    await dlg.locator('.thanks').waitFor();
    if (lang === 'uk') eq(await dlg.locator('.thanks').textContent(), 'Дякуємо, це допомагає.', 'thank-you in Ukrainian');
    eq(page.errors, [], 'no page errors');
  }
  const stored = await waitResponses('lang', 5);
  eq(stored.map(r => r.meta.locale), ['sl', 'uk', 'ro', 'nb', 'en'], 'meta.locale of each answer');
  eq(stored.map(r => r.answers.reason), ['Price', 'Price', 'Price', 'Price', 'Price'], 'stored as the form\'s own option');
});

test('hosted form in Ukrainian and Slovenian from the browser settings, with a 422 in Ukrainian', async () => {
  for (const [browserLocale, lang, title, send] of [['uk-UA', 'uk', 'Перш ніж піти', 'Надіслати'], ['sl-SI', 'sl', 'Preden odidete', 'Pošlji']]) {
    const page = await newPage({ locale: browserLocale, viewport: { width: 480, height: 900 } });
    await page.goto(E + '/f/lang');
    eq(await page.locator('html').getAttribute('lang'), lang, 'page language');
    eq(await page.locator('h1').textContent(), title, 'title');
    eq((await page.locator('button.es-submit').textContent()).trim(), send, 'submit button');
    fs.writeFileSync(path.join(shots, `hosted-${lang}.png`), await page.screenshot({ fullPage: true }));
  }
  const page = await newPage({ locale: 'uk-UA', viewport: { width: 480, height: 900 } });
  await page.goto(E + '/f/lang');
  await page.locator('button.es-submit').click();
  await page.locator('.es-error').first().waitFor();
  eq(await page.locator('.es-error').first().textContent(), 'Це поле обов\'язкове', 'the script\'s message in Ukrainian');
  fs.writeFileSync(path.join(shots, 'hosted-uk-422.png'), await page.screenshot({ fullPage: true }));
});

test('variants: split near 20/80 over 60 simulated visitors, kept across reloads, in meta.variant', async () => {
  const page = await newPage();
  const seen = { 'Wording A': 0, 'Wording B': 0 };
  await page.goto(H + '/var');
  for (let i = 0; i < 60; i++) {
    await page.evaluate(() => localStorage.clear());
    const title = await visit(page, '/var', { reload: true, wait: 10000 });
    seen[title]++;
  }
  ok(seen['Wording B'] >= 36 && seen['Wording B'] <= 57, `split near 80% B: ${JSON.stringify(seen)}`);
  await rearm(page);
  const kept = await visit(page, '/var', { reload: true, wait: 10000 });
  for (let i = 0; i < 5; i++) {
    await rearm(page);
    eq(await visit(page, '/var', { reload: true, wait: 10000 }), kept, `kept on reload ${i + 1}`);
  }
  await page.locator(DIALOG).getByRole('button', { name: 'No' }).click();
  const [r] = await waitResponses('var', 1);
  eq(r.meta.variant, kept === 'Wording A' ? 'a' : 'b', 'meta.variant');
}, 240000); // 66 page loads: minutes on a loaded 2-core machine

test('views: a shown survey sends exactly one view with its variant; a page without a survey sends none', async () => {
  const page = await newPage();
  const pings = [];
  page.on('request', r => { if (/\/api\/v1\/forms\/[^/]+\/views$/.test(r.url())) pings.push(r); });
  eq(await visit(page, '/nothing-here'), null, 'no survey on this page');
  await sleep(1500);
  eq(pings.length, 0, 'no view sent where nothing shows');
  const title = await visit(page, '/seen', { wait: 10000 });
  const variant = { 'Seen A': 'a', 'Seen B': 'b' }[title];
  ok(variant, `a variant's wording shows: ${title}`);
  for (let i = 0; i < 50 && pings.length < 1; i++) await sleep(100);
  await sleep(1500);
  eq(pings.length, 1, 'exactly one view for one survey shown');
  eq(pings[0].method(), 'POST', 'posted');
  const sent = JSON.parse(pings[0].postData());
  eq(sent.meta.variant, variant, 'the view carries the variant shown');
  eq(sent.meta.device, 'desktop', 'and the device class');
  eq(sent.meta.page, H + '/seen', 'and the page');
  eq(await page.evaluate(() => JSON.parse(localStorage.getItem('earshot:variant')).seen), variant, 'the kept variant');
  // Shown again later in the same page? No: reloading within the quiet period shows nothing, sends nothing.
  eq(await visit(page, '/seen', { reload: true }), null, 'quiet period: not shown again');
  await sleep(1500);
  eq(pings.length, 1, 'still one view');
  // The server counted it under that variant, and the answer carries the device too.
  await rearm(page);
  eq(await visit(page, '/seen', { reload: true, wait: 10000 }), title, 'shown again once re-armed, same wording');
  await page.locator(DIALOG).getByRole('button', { name: 'Yes' }).click();
  const [r] = await waitResponses('seen', 1);
  eq([r.meta.variant, r.meta.device], [variant, 'desktop'], 'the answer carries variant and device');
  let summary;
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${E}/api/v1/forms/seen/summary`, { headers: { Authorization: 'Bearer ' + TOKEN } });
    summary = await res.json();
    if (summary.views === 2) break;
    await sleep(150);
  }
  eq(pings.length, 2, 'two views sent for two showings');
  eq(summary.views, 2, 'two views counted');
  eq(summary.variants.variants.map(v => [v.id, v.answers, v.views, v.completion]),
    [['a', variant === 'a' ? 1 : 0, variant === 'a' ? 2 : 0, variant === 'a' ? 0.5 : null],
     ['b', variant === 'b' ? 1 : 0, variant === 'b' ? 2 : 0, variant === 'b' ? 0.5 : null]], 'per variant in the summary');
  eq(page.errors, [], 'no page errors');
});

const { passed, failed } = await runTests(tests, es, async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
});
if (process.env.SCREENSHOT_DIR) console.log(`# screenshots in ${shots}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
