#!/usr/bin/env node
// Browser tests of the hosted form pages (/f/{form}, static/form.js and form.css): the real earshot
// server with the bundled newsletter and callback forms and the incentive plugin, headless Chromium
// through playwright-core with a fresh profile. With JavaScript on: a check mark on a valid field and
// the server's own message on an invalid one before submitting, a submit sooner than the minimum fill
// time held back instead of dropped, the code on the thank-you page, no CSP violation. With JavaScript
// off: the server's 422 page, then the code. Prints TAP-style progress and a closing line
// "N passed, N failed"; exits non-zero on any failure.
// Env: EARSHOT_BIN (default ../../_build/earshot), EARSHOT_BUILDDIR (where plugins/incentive.so is;
// default: the binary's directory), CHROMIUM (default /usr/bin/chromium), TEST_FILTER.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, BUILDDIR, Earshot, adminToken, browserOptions, chromium, eq, freePort, ok, repo, runTests, sleep } from './lib.mjs';

const PLUGIN = path.join(BUILDDIR, 'plugins', 'incentive.so');
const MIN_FILL = 3; // the most the config allows: the first test must fill the form sooner, even on a loaded machine

// ---- the server --------------------------------------------------------------------------------
const es = new Earshot('earshot-hosted-');
const PORT = await freePort();
const E = `http://127.0.0.1:${PORT}`;
const { token: TOKEN, sha256: TOKEN_SHA } = adminToken();
es.copyForms(['newsletter.yaml', 'callback.yaml']);
es.writeConfig(E, TOKEN_SHA, { limits: [`  min_fill_seconds: ${MIN_FILL}`], extra: [
  'plugins:',
  '  - name: incentive',
  `    path: ${JSON.stringify(PLUGIN)}`,
  '    forms: [newsletter]',
  '    config:',
  '      offer: "10% off your next order"',
  '      requires: [email]',
  '      codes: {source: generate, prefix: EAR}',
  '      one_per: email',
] });

let context = null, plainBrowser = null;
const extraContexts = [];
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'earshot-hosted-profile-'));
es.beforeStop(async () => {
  for (const c of extraContexts.splice(0)) await c.close().catch(() => {});
  if (plainBrowser) await plainBrowser.close().catch(() => {});
  if (context) await context.close().catch(() => {});
});
es.afterStop(async () => fs.rmSync(profile, { recursive: true, force: true }));

if (!fs.existsSync(BIN)) await es.bail(`earshot binary not found at ${BIN} (set EARSHOT_BIN)`);
if (!fs.existsSync(PLUGIN)) await es.bail(`incentive plugin not found at ${PLUGIN} (set EARSHOT_BUILDDIR)`);
await es.start(E);

// Chromium with a fresh profile, a phone-sized window. Pages without JavaScript come from a second
// browser (a persistent context has one JavaScript setting), with a temporary profile of its own.
context = await chromium.launchPersistentContext(profile, browserOptions({ viewport: { width: 420, height: 860 } }));

async function newPage({ javaScriptEnabled = true } = {}) {
  let page;
  if (javaScriptEnabled) {
    page = await context.newPage();
  } else {
    if (!plainBrowser) plainBrowser = await chromium.launch(browserOptions());
    const ctx = await plainBrowser.newContext({ javaScriptEnabled: false, viewport: { width: 420, height: 860 } });
    extraContexts.push(ctx);
    page = await ctx.newPage();
  }
  page.errors = [];
  page.on('pageerror', e => page.errors.push(String(e)));
  page.on('console', m => { if (/Content Security Policy|Refused to/i.test(m.text())) page.errors.push(m.text()); });
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective));
  });
  return page;
}

async function responses(form) {
  const r = await fetch(`${E}/api/v1/forms/${form}/responses?limit=1000`, { headers: { Authorization: 'Bearer ' + TOKEN } });
  if (r.status !== 200) throw new Error(`admin responses for ${form}: HTTP ${r.status}`);
  return (await r.json()).responses;
}

const CODE = /^EAR-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/;

// ---- tests -------------------------------------------------------------------------------------
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('newsletter: check mark on a valid email, the server\'s message on an invalid one, then the code', async () => {
  const page = await newPage();
  const loadedAt = Date.now();
  await page.goto(`${E}/f/newsletter`);
  const email = page.getByLabel('Email');
  const field = page.locator('.es-field[data-q=email]');
  const error = page.locator('#q-email-error');
  const check = field.locator('.es-check');
  eq(await field.locator('.es-why').textContent(), 'We send the newsletter here, about once a month, and nothing else.', 'why text');
  await email.fill('ann@example');
  await email.press('Tab');
  await error.waitFor({ state: 'visible', timeout: 3000 });
  eq(await error.textContent(), 'This field must look like name@example.com', 'inline message');
  eq(await email.getAttribute('aria-invalid'), 'true', 'aria-invalid');
  ok((await email.getAttribute('aria-describedby')).split(' ').includes('q-email-error'), 'message tied to the field');
  ok(!(await check.isVisible()), 'no check mark while invalid');
  await email.fill('Ann@Example.com');
  await check.waitFor({ state: 'visible', timeout: 3000 });
  ok(await error.isHidden(), 'message gone once valid');
  eq(await email.getAttribute('aria-invalid'), null, 'no longer invalid');
  const mark = await check.evaluate(el => getComputedStyle(el, '::before').content);
  eq(mark, '"✓"', 'the check mark glyph');
  await page.getByLabel(/I agree to receive the newsletter/).check();
  await page.locator('.es-field[data-q=consent] .es-check').waitFor({ state: 'visible', timeout: 3000 });
  ok(Date.now() - loadedAt < MIN_FILL * 1000, 'the test submits before the minimum fill time');
  await Promise.all([page.waitForURL(/\/f\/newsletter\/thanks\?r=r_/, { timeout: 20000 }), page.getByRole('button', { name: 'Send' }).click()]);
  // Held back rather than dropped: the answer is stored and its code shown.
  const code = (await page.locator('.es-code-value').textContent()).trim();
  ok(CODE.test(code), `code shown: ${code}`);
  ok((await page.locator('.es-thank-you').textContent()).includes('Please check your inbox'), 'thank_you text');
  const stored = await responses('newsletter');
  ok(stored.some(r => r.answers.email === 'Ann@example.com'), 'answer stored');
  eq(await page.evaluate(() => window.__violations), [], 'no CSP violations');
  eq(page.errors, [], 'no page errors');
});

test('submit with nothing filled: every message at once, focus on the first field, nothing sent', async () => {
  const page = await newPage();
  await page.goto(`${E}/f/newsletter`);
  const before = (await responses('newsletter')).length;
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('#q-email-error').waitFor({ state: 'visible', timeout: 3000 });
  eq(await page.locator('#q-email-error').textContent(), 'This field is required', 'required');
  eq(await page.locator('#q-consent-error').textContent(), 'This field must be accepted', 'consent');
  ok(await page.locator('#q-birthday-error').count() === 0 || await page.locator('#q-birthday-error').isHidden(), 'optional field quiet');
  eq(await page.evaluate(() => document.activeElement && document.activeElement.id), 'q-email', 'focus');
  ok(page.url().endsWith('/f/newsletter'), 'still on the form');
  // A date control holds only real dates; one outside the allowed years gets the server's rule.
  await page.getByLabel('Birthday (optional)').fill('1850-01-01');
  await page.getByLabel('Birthday (optional)').press('Tab');
  await page.locator('#q-birthday-error').waitFor({ state: 'visible', timeout: 3000 });
  eq(await page.locator('#q-birthday-error').textContent(), 'This field must be a date with a year from 1900 to 2100', 'date rule');
  eq((await responses('newsletter')).length, before, 'nothing stored');
  eq(page.errors, [], 'no page errors');
});

test('the same messages as the server: an address the browser accepts and the server does not', async () => {
  // With scripts: the inline message.
  const page = await newPage();
  await page.goto(`${E}/f/newsletter`);
  await page.getByLabel('Email').fill('ann@localhost');
  await page.getByLabel('Email').press('Tab');
  await page.locator('#q-email-error').waitFor({ state: 'visible', timeout: 3000 });
  const inline = await page.locator('#q-email-error').textContent();
  // Without scripts: the server's 422 page for the same value.
  const plain = await newPage({ javaScriptEnabled: false });
  await plain.goto(`${E}/f/newsletter`);
  await plain.getByLabel('Email').fill('ann@localhost');
  await plain.getByLabel(/I agree to receive the newsletter/).check();
  await sleep(MIN_FILL * 1000 + 200);
  const [resp] = await Promise.all([plain.waitForNavigation(), plain.getByRole('button', { name: 'Send' }).click()]);
  eq(resp.status(), 422, 'server refuses');
  eq(await plain.locator('#q-email-error').textContent(), inline, 'same sentence from server and script');
  eq(await plain.getByLabel('Email').inputValue(), 'ann@localhost', 'input kept');
  ok(await plain.getByLabel(/I agree to receive the newsletter/).isChecked(), 'consent kept');
  ok(await plain.locator('.es-summary').isVisible(), 'summary shown');
  // Fixed, it goes through without any script, and the code is shown.
  await plain.getByLabel('Email').fill('bea@example.com');
  await Promise.all([plain.waitForURL(/\/thanks\?r=r_/), plain.getByRole('button', { name: 'Send' }).click()]);
  const code = (await plain.locator('.es-code-value').textContent()).trim();
  ok(CODE.test(code), `code shown without JavaScript: ${code}`);
});

test('one-click callback: phone rules inline, check mark, and the layout on a phone screen', async () => {
  const page = await newPage();
  await page.goto(`${E}/f/callback`);
  ok(await page.locator('form.es-one-click').count() === 1, 'one-click form');
  const phone = page.getByLabel('Your phone number');
  eq(await phone.getAttribute('type'), 'tel', 'tel input');
  eq(await phone.getAttribute('autocomplete'), 'tel', 'autocomplete');
  await phone.fill('040 123 456');
  await phone.press('Tab');
  await page.locator('#q-phone-error').waitFor({ state: 'visible', timeout: 3000 });
  eq(await page.locator('#q-phone-error').textContent(), 'This field must start with + and the country code', 'phone rule');
  await phone.fill('+386 (40) 123-456');
  await page.locator('.es-field[data-q=phone] .es-check').waitFor({ state: 'visible', timeout: 3000 });
  ok(await page.locator('#q-phone-error').isHidden(), 'message gone');
  // Nothing wider than the screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  ok(overflow <= 0, `no horizontal scrolling (${overflow}px)`);
  const box = await page.getByRole('button', { name: 'Send' }).boundingBox();
  ok(box && box.height >= 44, 'a large enough button');
  await sleep(MIN_FILL * 1000);
  await Promise.all([page.waitForURL(/\/f\/callback\/thanks\?r=r_/), page.getByRole('button', { name: 'Send' }).click()]);
  ok((await page.locator('.es-thank-you').textContent()).includes('We will call you'), 'thank-you text');
  eq(await page.locator('.es-code-value').count(), 0, 'no offer on this form');
  const stored = await responses('callback');
  ok(stored.some(r => r.answers.phone === '+38640123456'), 'stored in E.164');
  eq(await page.evaluate(() => window.__violations), [], 'no CSP violations');
  eq(page.errors, [], 'no page errors');
});

test('a double click sends once', async () => {
  const page = await newPage();
  await page.goto(`${E}/f/newsletter`);
  const before = (await responses('newsletter')).length;
  await page.getByLabel('Email').fill('cleo@example.com');
  await page.getByLabel(/I agree to receive the newsletter/).check();
  await sleep(MIN_FILL * 1000 + 100);
  await Promise.all([page.waitForURL(/\/thanks\?r=r_/), page.getByRole('button', { name: 'Send' }).dblclick()]);
  ok(CODE.test((await page.locator('.es-code-value').textContent()).trim()), 'code shown');
  await sleep(300);
  eq((await responses('newsletter')).length, before + 1, 'stored once');
});

// ---- run ---------------------------------------------------------------------------------------
const { passed, failed } = await runTests(tests, es, async () => {
  for (const p of context.pages()) await p.close().catch(() => {});
  for (const c of extraContexts.splice(0)) await c.close().catch(() => {});
});
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
