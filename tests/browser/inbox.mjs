#!/usr/bin/env node
// Browser tests of the follow-up inbox and the contact card in the admin dashboard (static/admin.*):
// the real earshot server with complaint-router routing call-back requests ({question: phone,
// answered: true}) and detractors to a file destination, the incentive plugin making offers, and a
// follow-up "minute" shortened for the test (EARSHOT_TEST_MINUTE_MS) so that items fall overdue
// while the page is open. Checks: overdue items on top in red with a live clock, mark done, assignee
// and note saved through PATCH, the link an alert carries (#inbox/<id>) highlighting its item, the
// contact card across forms, answers shown as text, screenshots at 1280 and 390 px wide.
// Prints TAP-style progress and a closing line "N passed, N failed"; exits non-zero on any failure.
// Env: EARSHOT_BIN, EARSHOT_BUILDDIR, CHROMIUM, TEST_FILTER, INBOX_SCREENSHOTS (a directory to keep
// inbox-1280.png and inbox-390.png in).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, BUILDDIR, Earshot, adminToken, browserOptions, chromium, eq, freePort, ok, runTests, sleep } from './lib.mjs';

const ROUTER_SO = path.join(BUILDDIR, 'plugins', 'complaint-router.so');
const INCENTIVE_SO = path.join(BUILDDIR, 'plugins', 'incentive.so');
const MINUTE_MS = 1000; // a follow-up "minute" lasts one second here

const es = new Earshot('earshot-inbox-');
const PORT = await freePort();
const E = `http://127.0.0.1:${PORT}`;
const { token: TOKEN, sha256: TOKEN_SHA } = adminToken();
es.copyForms(['callback.yaml']);
fs.writeFileSync(path.join(es.tmp, 'forms', 'urgent.yaml'), [
  'id: urgent', 'kind: signup', 'title: Urgent support line', 'follow_up:', '  within_minutes: 1', 'questions:',
  '  - {id: phone, type: phone, label: Phone, required: true}',
  '  - {id: problem, type: long_text, label: What went wrong?}', ''].join('\n'));
fs.writeFileSync(path.join(es.tmp, 'forms', 'shop.yaml'), [
  'id: shop', 'title: How was your order?', 'follow_up:', '  within_minutes: 600',
  'offer_up_front: "Tell us how it went — get 10% off your next order"', 'questions:',
  '  - {id: score, type: nps, label: How likely are you to recommend us?}',
  '  - {id: why, type: long_text, label: Why?}',
  '  - {id: email, type: email, label: Email}', ''].join('\n'));
es.writeConfig(E, TOKEN_SHA, { limits: ['  min_fill_seconds: 0'], extra: [
  'destinations:',
  '  log:',
  '    type: file',
  '    path: routed.ndjson',
  'plugins:',
  '  - name: complaint-router',
  `    path: ${JSON.stringify(ROUTER_SO)}`,
  '    config:',
  '      rules:',
  '        - {when: {question: phone, answered: true}, route: log, priority: urgent}',
  '        - {when: {question: score, lte: 6}, route: log}',
  '  - name: incentive',
  `    path: ${JSON.stringify(INCENTIVE_SO)}`,
  '    forms: [shop]',
  '    config:',
  '      offer: "10% off your next order"',
  '      requires: [email]',
  '      codes: {source: generate, prefix: EAR}',
  '      one_per: email',
] });
process.env.EARSHOT_TEST_MINUTE_MS = String(MINUTE_MS);
process.env.EARSHOT_TEST_REMINDER_POLL_MS = '200';

let context = null;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'earshot-inbox-profile-'));
es.beforeStop(async () => { if (context) await context.close().catch(() => {}); });
es.afterStop(async () => fs.rmSync(profile, { recursive: true, force: true }));
for (const [what, file] of [['earshot binary', BIN], ['complaint-router plugin', ROUTER_SO], ['incentive plugin', INCENTIVE_SO]])
  if (!fs.existsSync(file)) await es.bail(`${what} not found at ${file} (set EARSHOT_BIN / EARSHOT_BUILDDIR)`);
await es.start(E);

async function admin(p, method = 'GET', body) {
  const r = await fetch(E + p, { method, headers: { Authorization: 'Bearer ' + TOKEN, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined });
  if (r.status !== 200) throw new Error(`${method} ${p}: HTTP ${r.status}`);
  return r.json();
}

async function submit(form, answers) {
  const t = await (await fetch(`${E}/f/${form}/token`)).json();
  const r = await fetch(`${E}/api/v1/forms/${form}/responses`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ answers, timing_token: t.token }),
  });
  if (r.status !== 201) throw new Error(`submit to ${form}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

const XSS = '<img src=x onerror="window.__pwned=1">';
let ids = {};
try {
  ids.late = await submit('urgent', { phone: '+386 40 111 222', problem: 'The parcel never arrived ' + XSS });
  ids.shop = await submit('shop', { score: 3, why: 'Slow delivery', email: 'Ana.Novak@Example.com' });
  ids.call = await submit('callback', { phone: '+386 41 555 666' });
  ids.call2 = await submit('callback', { phone: '+386 51 777 888' });
} catch (e) {
  await es.bail(String(e.message || e));
}
// The urgent one falls overdue after one test "minute".
await sleep(MINUTE_MS + 300);

context = await chromium.launchPersistentContext(profile, browserOptions({ viewport: { width: 1280, height: 900 } }));

async function open(hash = '', width = 1280) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', e => page.errors.push(String(e)));
  page.on('dialog', d => { page.errors.push('dialog ' + d.message()); d.dismiss().catch(() => {}); });
  await page.setViewportSize({ width, height: 900 });
  await page.addInitScript(t => sessionStorage.setItem('earshot-admin-token', t), TOKEN);
  await page.goto(`${E}/admin${hash}`);
  await page.locator('#inbox-list li, #contact-inbox li').first().waitFor({ timeout: 10000 });
  return page;
}

const items = page => page.evaluate(() => Array.from(document.querySelectorAll('#inbox-list > li')).map(li => ({
  id: li.id.replace('item-', ''), title: li.querySelector('h3').textContent, overdue: li.classList.contains('overdue'),
  clock: li.querySelector('.clock').textContent, contact: (li.querySelector('.who a') || {}).textContent || null,
})));

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('open items: overdue on top in red, a live clock, contacts as tel:/mailto: links, answers as text', async () => {
  const page = await open();
  await page.waitForFunction(() => /overdue by/.test(document.querySelector('#inbox-list .clock').textContent));
  const list = await items(page);
  eq(list.length, 4, 'four open items');
  eq(list[0].title, 'Urgent support line', 'the overdue item is first');
  ok(list[0].overdue && list.slice(1).every(i => !i.overdue), 'only it is flagged overdue');
  // The rest by due time: the two call-backs (15 "minutes") before the shop detractor (600).
  eq(list.slice(1).map(i => i.contact), ['+38641555666', '+38651777888', 'Ana.Novak@example.com'], 'order by due time');
  const red = await page.evaluate(() => {
    const li = document.querySelector('#inbox-list > li.overdue');
    return [getComputedStyle(li).borderTopColor, getComputedStyle(li.querySelector('.clock')).color];
  });
  ok(red.every(c => /rgb\((19[0-9]|2[0-9][0-9]), [0-9]{1,2}, [0-9]{1,2}\)/.test(c)), `overdue is red: ${red}`);
  ok(await page.locator('#inbox-counts').textContent().then(t => /4 open/.test(t) && /1 overdue/.test(t)), 'counts');
  // The clock runs.
  // It ticks every second; on a loaded machine a tick may come late, so look for a change for up to 6 s.
  const c1 = (await items(page))[1].clock;
  let c2 = c1;
  for (let i = 0; i < 30 && c2 === c1; i++) {
    await sleep(200);
    c2 = (await items(page))[1].clock;
  }
  ok(/^due in /.test(c1) && c1 !== c2, `the clock ticks: ${c1} -> ${c2}`);
  eq(await page.locator('#inbox-list a[href="tel:+38641555666"]').count(), 1, 'tel: link');
  eq(await page.locator('#inbox-list a[href="mailto:Ana.Novak@example.com"]').count(), 1, 'mailto: link');
  const dd = await page.locator('#inbox-list > li').first().locator('dd').last().textContent();
  eq(dd, 'The parcel never arrived ' + XSS, 'the answer as text');
  eq(await page.evaluate(() => window.__pwned), undefined, 'nothing ran');
  eq(await page.locator('#inbox-list img').count(), 0, 'no element made from an answer');
  ok(await page.getByRole('timer').first().isVisible(), 'clocks are timers for assistive tech');
  eq(page.errors, [], 'page errors');
});

test('screenshots of the inbox at 1280 and 390 px wide; no sideways scrolling on a phone', async () => {
  const dir = process.env.INBOX_SCREENSHOTS || es.tmp;
  for (const width of [1280, 390]) {
    const page = await open('', width);
    await page.waitForFunction(() => /overdue by/.test(document.querySelector('#inbox-list .clock').textContent));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    ok(overflow <= 0, `no horizontal scrolling at ${width}px (${overflow}px)`);
    const box = await page.getByRole('button', { name: /^Mark done/ }).first().boundingBox();
    ok(box && box.height >= 44, 'buttons at least 44px high');
    await page.locator('#inbox').screenshot({ path: path.join(dir, `inbox-${width}.png`) });
    await page.close();
  }
});

test('assignee and note are saved; mark done moves the item to Done', async () => {
  const page = await open();
  const first = page.locator('#inbox-list > li').first();
  const id = (await first.getAttribute('id')).replace('item-', '');
  await first.getByLabel('Assignee').fill('Maja');
  await first.getByLabel('Note').fill('Called back, sending a new parcel.');
  const patched = page.waitForRequest(r => r.method() === 'PATCH' && r.url().endsWith(`/api/v1/inbox/${id}`));
  await first.getByRole('button', { name: 'Save' }).click();
  eq(JSON.parse((await patched).postData()), { assignee: 'Maja', note: 'Called back, sending a new parcel.' }, 'PATCH body');
  await page.locator('#status').filter({ hasText: 'Saved.' }).waitFor({ timeout: 5000 });
  let item = await admin(`/api/v1/inbox/${id}`);
  eq([item.assignee, item.note, item.state], ['Maja', 'Called back, sending a new parcel.', 'open'], 'stored');
  await page.locator(`#item-${id}`).getByRole('button', { name: /^Mark done/ }).click();
  await page.locator(`#item-${id}`).waitFor({ state: 'detached', timeout: 5000 });
  item = await admin(`/api/v1/inbox/${id}`);
  eq(item.state, 'done', 'done in the API');
  ok(item.done_at, 'done_at');
  await page.locator('#inbox-counts').filter({ hasText: '3 open' }).waitFor({ timeout: 5000 });
  await page.getByRole('button', { name: 'Done', exact: true }).click();
  await page.locator(`#item-${id}`).waitFor({ timeout: 5000 });
  ok(/^done /.test(await page.locator(`#item-${id} .clock`).textContent()), 'shown as done');
  eq(await page.locator(`#item-${id}`).getByLabel('Assignee').inputValue(), 'Maja', 'assignee kept');
  // Reopen puts it back.
  await page.locator(`#item-${id}`).getByRole('button', { name: /^Reopen/ }).click();
  await page.locator(`#item-${id}`).waitFor({ state: 'detached', timeout: 5000 });
  eq((await admin(`/api/v1/inbox/${id}`)).state, 'open', 'reopened');
  eq(page.errors, [], 'page errors');
});

test('the link in an alert (#inbox/<id>) highlights its item', async () => {
  const target = (await admin('/api/v1/inbox?state=open')).items.find(i => i.response_id === ids.call2.id);
  const page = await open('#inbox/' + target.id);
  await page.locator(`#item-${target.id}.target`).waitFor({ timeout: 5000 });
  eq(await page.locator('#inbox-list li.target').count(), 1, 'exactly one highlighted');
});

test('the contact card: every answer, offer and follow-up of one contact across forms', async () => {
  // Ana answers the callback form too, with her email on the shop form already.
  await submit('shop', { score: 9, why: 'Much better this time', email: 'ana.novak@example.com' });
  const page = await open();
  await page.locator('#inbox-list a[href^="#contact/"]').filter({ hasText: 'contact card' }).last().click();
  await page.locator('#contact-h').filter({ hasText: 'ana.novak@example.com' }).waitFor({ timeout: 5000 });
  ok(await page.locator('#inbox').isHidden(), 'the card replaces the inbox');
  eq(await page.locator('#contact-answers tbody tr').count(), 2, 'both answers');
  const offers = await page.locator('#contact-offers li').allTextContents();
  eq(offers.length, 1, `one offer (one per email): ${offers}`);
  ok(/^10% off your next order — code EAR-/.test(offers[0]), `offer text and code: ${offers[0]}`);
  eq(await page.locator('#contact-inbox > li').count(), 1, 'her follow-up (the detractor answer)');
  ok((await page.locator('#contact-summary').textContent()).includes('2 answers on 1 form'), 'summary');
  await page.getByRole('link', { name: '← Back to the inbox' }).click();
  await page.locator('#inbox').waitFor({ state: 'visible', timeout: 5000 });
  // A phone number's card, straight from the address bar.
  const p2 = await open('#contact/' + encodeURIComponent('+38641555666'));
  await p2.locator('#contact-h').filter({ hasText: '+38641555666' }).waitFor({ timeout: 5000 });
  eq(await p2.locator('#contact-answers tbody tr').count(), 1, 'the call-back answer');
  eq(page.errors.concat(p2.errors), [], 'page errors');
});

test('the widget shows a form\'s offer before the visitor types', async () => {
  const page = await context.newPage();
  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto(`${E}/static/demo.html`);
  await page.waitForFunction(() => window.earshot && typeof window.earshot.show === 'function');
  await page.evaluate(() => window.earshot.show('shop'));
  const offer = page.locator('#earshot-widget [role=dialog] p.offer');
  await offer.waitFor({ timeout: 5000 });
  eq(await offer.textContent(), 'Tell us how it went — get 10% off your next order', 'offer text');
  const above = await page.evaluate(() => {
    const root = document.getElementById('earshot-widget').shadowRoot;
    const o = root.querySelector('p.offer').getBoundingClientRect(), t = root.querySelector('h2').getBoundingClientRect();
    return o.top >= t.bottom - 1;
  });
  ok(above, 'below the title, before the first question');
  const dir = process.env.INBOX_SCREENSHOTS || es.tmp;
  await page.screenshot({ path: path.join(dir, 'widget-offer-390.png') });
});

const { passed, failed } = await runTests(tests, es, async () => {
  for (const p of context.pages()) await p.close().catch(() => {});
});
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
