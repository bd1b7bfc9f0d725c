#!/usr/bin/env node
// Accessibility tests (docs/accessibility.md): axe-core (a pinned dev dependency) run in headless
// Chromium over every page and state at 1280 and 390 px wide: each widget step (question, error,
// follow-up, thanks), the hosted forms (loaded, with errors, thanked), the admin sign-in, the
// dashboard with the inbox, the Done list and a contact card; rules tagged WCAG 2.0/2.1/2.2 A and AA
// plus target-size. Any violation fails the test and names the rule and the elements. Then keyboard
// and preference specs: the widget's focus model (a trigger never moves focus and is announced once;
// an asked-for open takes focus and gives it back), tab order, Escape, arrow keys on scales, visible
// focus under forced-colors, prefers-reduced-motion, and 320 px wide with nothing lost.
// Prints TAP-style progress and a closing line "N passed, N failed"; exits non-zero on any failure.
// Env: EARSHOT_BIN, EARSHOT_BUILDDIR, CHROMIUM, TEST_FILTER, A11Y_SCREENSHOTS (a directory to keep
// widget-focus.png, widget-forced-colors.png, admin-390.png and admin-320.png in).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { BIN, BUILDDIR, Earshot, adminToken, browserOptions, chromium, eq, freePort, here, ok, runTests, sleep } from './lib.mjs';

const AXE = fs.readFileSync(path.join(here, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const NPS_SO = path.join(BUILDDIR, 'plugins', 'nps.so');
const ROUTER_SO = path.join(BUILDDIR, 'plugins', 'complaint-router.so');
const SHOTS = process.env.A11Y_SCREENSHOTS || '';
const WIDTHS = [1280, 390];
// Beyond the WCAG tags: target size, and landmarks and headings in order (axe's best-practice rules).
const EXTRA_RULES = ['target-size', 'heading-order', 'landmark-one-main', 'page-has-heading-one', 'landmark-unique',
  'landmark-no-duplicate-main', 'landmark-banner-is-top-level', 'landmark-main-is-top-level', 'empty-heading'];

// ---- the server --------------------------------------------------------------------------------
const es = new Earshot('earshot-a11y-');
const PORT = await freePort();
const E = `http://127.0.0.1:${PORT}`;
const { token: TOKEN, sha256: TOKEN_SHA } = adminToken();
es.copyForms(['newsletter.yaml', 'callback.yaml', 'nps.yaml']);
const forms = path.join(es.tmp, 'forms');
fs.writeFileSync(path.join(forms, 'ask.yaml'), [
  'id: ask', 'title: Help us improve', 'locale: en', 'thank_you: Thank you, that helps.',
  'trigger: {event: manual}', 'questions:',
  '  - {id: score, type: nps, label: How likely are you to recommend us?, required: true}',
  '  - {id: stars, type: rating, label: Rate our support, scale: 5}',
  '  - {id: why, type: long_text, label: What is the main reason for your score?}', ''].join('\n'));
fs.writeFileSync(path.join(forms, 'later.yaml'), [
  'id: later', 'title: Finding what you need?', 'locale: en',
  'trigger: {event: delay, delay_seconds: 1, pages: {include: ["/later"]}}', 'questions:',
  '  - {id: score, type: nps, label: How likely are you to recommend us?, required: true}', ''].join('\n'));
es.writeConfig(E, TOKEN_SHA, { limits: ['  min_fill_seconds: 0'], extra: [
  'destinations:',
  '  log:',
  '    type: file',
  '    path: routed.ndjson',
  'plugins:',
  '  - name: nps',
  `    path: ${JSON.stringify(NPS_SO)}`,
  '    forms: [nps]',
  '  - name: complaint-router',
  `    path: ${JSON.stringify(ROUTER_SO)}`,
  '    config:',
  '      rules:',
  '        - {when: {question: phone, answered: true}, route: log, priority: urgent}',
  '        - {when: {question: score, lte: 6}, route: log}',
] });

// A shop's page embedding the widget, from a second origin as on a real site.
const page_ = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>
<style>body{font:16px/1.5 sans-serif;margin:0 auto;max-width:40em;padding:1em;color:#222}</style></head>
<body><header><p><a href="/">Example shop</a></p></header><main><h1>${title}</h1>${body}</main>
<script src="${E}/static/earshot.js" async></script></body></html>`;
const hostServer = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  const html = u.pathname === '/later'
    ? page_('Plans', '<p>Three plans for every size of team.</p><p><a href="/help" id="help">Ask us about plans</a></p>')
    : page_('Your order', '<p>Thank you for your order.</p><p><button type="button" id="feedback" data-earshot-show="ask">Give feedback</button></p>');
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(html);
});
await new Promise(r => hostServer.listen(0, '127.0.0.2', r));
const H = `http://127.0.0.2:${hostServer.address().port}`;

let browser = null;
es.beforeStop(async () => { if (browser) await browser.close().catch(() => {}); hostServer.close(); });
for (const [what, file] of [['earshot binary', BIN], ['nps plugin', NPS_SO], ['complaint-router plugin', ROUTER_SO]])
  if (!fs.existsSync(file)) await es.bail(`${what} not found at ${file} (set EARSHOT_BIN / EARSHOT_BUILDDIR)`);
await es.start(E);

// Answers for the dashboard: nps scores (the chart), a call-back request and a detractor (the inbox).
async function submit(form, answers) {
  const t = await (await fetch(`${E}/f/${form}/token`)).json();
  const r = await fetch(`${E}/api/v1/forms/${form}/responses`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ answers, timing_token: t.token }) });
  if (r.status !== 201) throw new Error(`submit to ${form}: HTTP ${r.status} ${await r.text()}`);
}
try {
  for (const s of [10, 9, 3, 7]) await submit('nps', { score: s, reason: 'Delivery took ' + s + ' days' });
  await submit('callback', { phone: '+386 41 555 666' });
} catch (e) { await es.bail(String(e.message || e)); }

browser = await chromium.launch(browserOptions());

// A fresh page `width` px wide (bypassing CSP so that axe can be injected); page errors are collected.
async function newPage(width = 1280, opts = {}) {
  const ctx = await browser.newContext({ viewport: { width, height: 860 }, bypassCSP: true, ...opts });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', e => page.errors.push(String(e)));
  page.on('close', () => ctx.close().catch(() => {}));
  return page;
}

// Runs axe on `page` and throws naming each violated rule with its elements; `what` names the state.
async function axe(page, what) {
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(AXE);
  const r = await page.evaluate(extra => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'] },
    rules: Object.fromEntries(extra.map(id => [id, { enabled: true }])), resultTypes: ['violations'] }).then(r => ({
    violations: r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => [].concat(...n.target).join(' >>> ') + ' ' + n.html.slice(0, 120)) })),
    ran: [...r.passes, ...r.inapplicable, ...r.incomplete, ...r.violations].map(x => x.id) })), EXTRA_RULES);
  for (const id of EXTRA_RULES) ok(r.ran.includes(id), `${what}: ${id} did not run`);
  if (r.violations.length)
    throw new Error(`${what}: ${r.violations.length} violation(s)\n` + r.violations.map(v =>
      `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.join('\n    ')}`).join('\n'));
}

const shot = (page, name, fullPage = false) => SHOTS && page.screenshot({ path: path.join(SHOTS, name), fullPage });
if (SHOTS) fs.mkdirSync(SHOTS, { recursive: true });

// The widget's dialog inside its shadow root.
const dialog = page => page.locator('#earshot-widget').getByRole('dialog');
// What has focus: inside the widget, its button text or label; else the page element's id.
const focused = page => page.evaluate(() => {
  const w = document.getElementById('earshot-widget'), a = w && w.shadowRoot.activeElement;
  if (a) return 'widget:' + (a.getAttribute('aria-label') || a.textContent || a.tagName).trim();
  return document.activeElement === document.body ? 'body' : document.activeElement.id;
});
async function widgetPage(width, opts) {
  const page = await newPage(width, opts);
  await page.goto(H + '/order');
  await page.waitForFunction(() => window.earshot && window.earshot.version);
  return page;
}

// Signs in with the token kept in sessionStorage and waits for the inbox.
async function adminPage(width, hash = '') {
  const page = await newPage(width);
  await page.addInitScript(t => sessionStorage.setItem('earshot-admin-token', t), TOKEN);
  await page.goto(`${E}/admin${hash}`);
  await page.locator('#inbox-list li').first().waitFor({ timeout: 10000 });
  await page.locator('#form-select').selectOption('nps');
  await page.locator('#nps-chart svg').waitFor({ timeout: 10000 });
  await page.locator('#status').filter({ hasText: /^Showing \d+ answers? of nps/ }).waitFor({ timeout: 15000 });
  return page;
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

for (const width of WIDTHS) {
  test(`axe ${width} px: the widget's question, error, follow-ups and thanks`, async () => {
    const page = await widgetPage(width);
    await page.click('#feedback');
    const dlg = dialog(page);
    await dlg.getByRole('button', { name: '0', exact: true }).waitFor();
    // contrast is measured once the card has finished fading in
    await page.locator('#earshot-widget').evaluate(w => Promise.all(w.shadowRoot.querySelector('.card').getAnimations().map(a => a.finished)));
    await axe(page, 'widget question');
    await dlg.getByRole('button', { name: 'Next' }).click();
    await dlg.getByRole('alert').filter({ hasText: 'Please answer' }).waitFor();
    await axe(page, 'widget error');
    await dlg.getByRole('button', { name: '3', exact: true }).click();
    await dlg.getByRole('button', { name: '4', exact: true }).click();
    await dlg.getByRole('textbox').waitFor();
    await axe(page, 'widget follow-up');
    await dlg.getByRole('textbox').fill('Slow delivery');
    await dlg.getByRole('button', { name: 'Send' }).click();
    await dlg.getByText('Thank you, that helps.').waitFor();
    await axe(page, 'widget thanks');
    eq(page.errors, [], 'no page errors');
    await page.close();
  });

  test(`axe ${width} px: hosted forms loaded, with errors, thanked (with and without JavaScript)`, async () => {
    for (const js of [true, false]) {
      // "without JavaScript": form.js is not loaded (axe itself needs the page's JavaScript)
      const page = await newPage(width);
      if (!js) await page.route('**/static/form.js*', r => r.abort());
      for (const form of ['newsletter', 'callback']) {
        await page.goto(`${E}/f/${form}`);
        await axe(page, `${form} loaded (js ${js})`);
        // the browser's own checks would stop an empty submit: the server's answer is wanted
        if (!js) await page.locator('form').first().evaluate(f => { f.noValidate = true; });
        await Promise.all([js ? Promise.resolve() : page.waitForNavigation(), page.getByRole('button', { name: 'Send' }).click()]);
        await page.locator('[aria-invalid=true]').first().waitFor({ timeout: 5000 });
        await axe(page, `${form} with errors (js ${js})`);
      }
      await page.goto(`${E}/f/callback`);
      await page.getByLabel('Your phone number').fill('+386 40 123 456');
      await Promise.all([page.waitForURL(/\/thanks/, { timeout: 10000 }), page.getByRole('button', { name: 'Send' }).click()]);
      await axe(page, `callback thanked (js ${js})`);
      eq(page.errors, [], 'no page errors');
      await page.close();
    }
  });

  test(`axe ${width} px: admin sign-in, dashboard with inbox and chart, Done list, contact card`, async () => {
    const signin = await newPage(width);
    await signin.goto(`${E}/admin`);
    await signin.getByLabel('Admin token').waitFor();
    await axe(signin, 'admin sign-in');
    await signin.getByRole('button', { name: 'Sign in' }).click();
    await signin.getByRole('alert').filter({ hasText: /./ }).waitFor({ timeout: 5000 });
    await axe(signin, 'admin sign-in with an error');
    await signin.close();
    const page = await adminPage(width);
    await axe(page, 'admin dashboard');
    const chart = await page.locator('#nps-chart svg').getAttribute('aria-label');
    ok(/^NPS per day: .+ -?[\d.]+ from 4 scores\.$/.test(chart || ''), `the chart's text alternative has its numbers: ${chart}`);
    eq(await page.locator('#nps-chart svg').getAttribute('role'), 'img', 'the chart is an image with that text');
    ok(/^Answers per day: /.test(await page.locator('#volume-chart svg').getAttribute('aria-label') || ''), 'the answers chart has its text');
    // An answer opened to its details, a filter with no match, the week view.
    await page.locator('#answers-list > li').first().getByRole('button', { name: 'Show everything' }).click();
    await page.locator('#answers-list .detail h3').filter({ hasText: 'Follow-up' }).waitFor({ timeout: 10000 });
    await axe(page, 'admin dashboard, an answer opened');
    await page.getByRole('button', { name: 'Week', exact: true }).click();
    await page.locator('#nps-h').filter({ hasText: 'NPS per week' }).waitFor({ timeout: 10000 });
    await page.locator('#f-category').selectOption('promoter');
    await page.locator('#f-device').selectOption('tablet');
    await page.locator('#results-empty').filter({ hasText: 'No answers match' }).waitFor({ timeout: 10000 });
    await axe(page, 'admin dashboard, filtered to nothing');
    if (width === 390) await shot(page, 'admin-filtered-390.png');
    await page.locator('#show-done').click();
    await axe(page, 'admin inbox, done');
    await page.locator('#show-open').click();
    await page.locator('#inbox-list a[href^="#contact/"]').first().click();
    await page.locator('#contact').waitFor({ state: 'visible', timeout: 5000 });
    await axe(page, 'admin contact card');
    if (width === 390) await shot(page, 'admin-contact-390.png');
    eq(page.errors, [], 'no page errors');
    await page.close();
  });
}

test('a trigger never moves focus; it is announced once; Tab reaches it, Escape gives focus back', async () => {
  const page = await newPage();
  await page.goto(H + '/later');
  await page.locator('#help').focus();
  eq(await focused(page), 'help', "focus on the page's last link");
  await dialog(page).waitFor({ timeout: 8000 });
  await sleep(300);
  eq(await focused(page), 'help', 'focus stays on the page when the survey opens by itself');
  eq(await page.locator('#earshot-widget [role=status]').textContent(), 'Finding what you need?', 'announced once, politely');
  // Tab from the page's last control reaches the survey: Close first
  await page.keyboard.press('Tab');
  eq(await focused(page), 'widget:Close', 'Tab goes from the page into the survey');
  await page.keyboard.press('Tab');
  eq(await focused(page), 'widget:0', 'then the scale');
  await page.keyboard.press('Escape');
  await dialog(page).waitFor({ state: 'detached' });
  eq(await focused(page), 'help', 'focus back where it was');
  eq(await page.locator('#earshot-widget [role=status]').textContent(), '', 'the announcement is cleared');
  await page.close();
});

test('asked for: focus moves in; one Tab stop per scale; arrows move; tab order; Escape returns focus', async () => {
  const page = await widgetPage(1280);
  await page.locator('#feedback').focus();
  await page.keyboard.press('Enter');
  await dialog(page).waitFor();
  eq(await focused(page), 'widget:0', 'focus on the scale');
  eq(await page.locator('#earshot-widget [role=status]').textContent(), '', 'no announcement: the visitor asked');
  const tabStops = () => page.locator('#earshot-widget').evaluate(w =>
    Array.from(w.shadowRoot.querySelectorAll('.opts button')).filter(b => b.tabIndex === 0).map(b => b.textContent));
  eq(await tabStops(), ['0'], 'one tab stop on the scale');
  eq(await page.locator('#earshot-widget').evaluate(w => Array.from(w.shadowRoot.querySelectorAll('.opts button')).map(b => b.textContent)),
    ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10'], 'buttons named 0 … 10');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  eq(await focused(page), 'widget:3', 'ArrowRight and ArrowDown move on');
  await page.keyboard.press('ArrowLeft');
  eq(await focused(page), 'widget:2', 'ArrowLeft moves back');
  for (let i = 0; i < 12; i++) await page.keyboard.press('ArrowRight');
  eq(await focused(page), 'widget:10', 'stops at the end');
  eq(await tabStops(), ['10'], 'the tab stop follows focus');
  await page.keyboard.press('Tab');
  eq(await focused(page), 'widget:Next', 'Tab leaves the scale for Next');
  await page.keyboard.press('Shift+Tab');
  eq(await focused(page), 'widget:10', 'Shift+Tab comes back to the scale');
  await page.keyboard.press('Shift+Tab');
  eq(await focused(page), 'widget:Close', 'then Close');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter'); // chooses 10
  eq(await focused(page), 'widget:1', 'the rating scale, its first star');
  eq(await tabStops(), ['1'], 'one tab stop on the rating');
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('Space');
  await dialog(page).getByRole('textbox').waitFor();
  eq(await focused(page), 'widget:TEXTAREA', 'focus follows to the next question');
  await page.keyboard.press('Escape');
  await dialog(page).waitFor({ state: 'detached' });
  eq(await focused(page), 'feedback', 'focus returns to the launcher');
  // earshot.show() from a click opens with focus inside too, and Close returns it
  await page.locator('#feedback').click();
  await dialog(page).waitFor();
  eq(await focused(page), 'widget:0', 'a click asks too');
  await dialog(page).getByRole('button', { name: 'Close' }).focus();
  await page.keyboard.press('Enter');
  await dialog(page).waitFor({ state: 'detached' });
  eq(await focused(page), 'feedback', 'Close returns focus');
  await page.close();
});

test('visible focus under forced-colors (Windows high contrast); a screenshot of the focus ring', async () => {
  for (const forcedColors of ['none', 'active']) {
    const page = await widgetPage(1280, { forcedColors });
    await page.locator('#feedback').focus();
    await page.keyboard.press('Enter');
    await dialog(page).waitFor();
    await page.keyboard.press('ArrowRight');
    const ring = await page.locator('#earshot-widget').evaluate(w => {
      const s = getComputedStyle(w.shadowRoot.activeElement);
      return { style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor };
    });
    ok(ring.style !== 'none' && ring.width >= 2, `focus ring (${forcedColors}): ${JSON.stringify(ring)}`);
    await sleep(400); // past the opening animation
    await shot(page, forcedColors === 'active' ? 'widget-forced-colors.png' : 'widget-focus.png');
    // the hosted form and the admin keep theirs too
    for (const [url, sel] of [[`${E}/f/newsletter`, '#q-email'], [`${E}/admin`, '#token']]) {
      await page.goto(url);
      await page.locator(sel).focus();
      const s = await page.locator(sel).evaluate(e => { const c = getComputedStyle(e); return { style: c.outlineStyle, width: parseFloat(c.outlineWidth) }; });
      ok(s.style !== 'none' && s.width >= 2, `focus ring on ${url} (${forcedColors}): ${JSON.stringify(s)}`);
    }
    await page.close();
  }
});

test('prefers-reduced-motion: the widget neither slides nor fades, at both widths', async () => {
  for (const [reducedMotion, width] of [['no-preference', 1280], ['reduce', 1280], ['reduce', 390]]) {
    const page = await widgetPage(width, { reducedMotion });
    await page.click('#feedback');
    await dialog(page).waitFor();
    const anim = await page.locator('#earshot-widget').evaluate(w => getComputedStyle(w.shadowRoot.querySelector('.card')).animationName);
    if (reducedMotion === 'reduce') eq(anim, 'none', `no animation at ${width} px`);
    else ok(anim !== 'none', 'animated without the preference (the check means something)');
    await page.close();
  }
});

test('320 px wide (400 % zoom): nothing cut off or needing sideways scrolling', async () => {
  const wide = p => p.evaluate(() => document.documentElement.scrollWidth);
  const page = await widgetPage(320);
  await page.click('#feedback');
  await dialog(page).waitFor();
  const boxes = await page.locator('#earshot-widget').evaluate(w => Array.from(w.shadowRoot.querySelectorAll('.card, .card button'))
    .map(e => { const r = e.getBoundingClientRect(); return [e.textContent.trim().slice(0, 8), r.left, r.right, r.width]; }));
  for (const [name, left, right, width] of boxes) ok(left >= 0 && right <= 320 && width > 0, `widget ${name} inside 320 px: ${left}..${right}`);
  ok(await wide(page) <= 320, 'no sideways scrolling with the widget');
  for (const form of ['newsletter', 'callback']) {
    await page.goto(`${E}/f/${form}`);
    ok(await wide(page) <= 320, `${form}: no sideways scrolling (${await wide(page)})`);
    const cut = await page.evaluate(() => Array.from(document.querySelectorAll('label, input, button, p, h1'))
      .filter(e => !e.closest('[aria-hidden=true]')).filter(e => { const r = e.getBoundingClientRect(); return r.width && (r.left < 0 || r.right > 320); }).map(e => e.outerHTML.slice(0, 80)));
    eq(cut, [], `${form}: nothing cut off`);
  }
  await page.close();
  const admin = await adminPage(320);
  ok(await wide(admin) <= 320, `admin: no sideways scrolling of the page (${await wide(admin)})`);
  // tables may scroll inside their own region, which takes focus and has a name
  const regions = await admin.evaluate(() => Array.from(document.querySelectorAll('.scroll')).filter(e => e.offsetParent)
    .map(e => ({ scrolls: e.scrollWidth > e.clientWidth, tab: e.tabIndex, name: e.getAttribute('aria-label') || '' })));
  for (const r of regions) if (r.scrolls) ok(r.tab === 0 && r.name, `a scrolling table region takes focus and has a name: ${JSON.stringify(r)}`);
  await shot(admin, 'admin-320.png');
  await admin.close();
  const phone = await adminPage(390);
  // the forms table's region takes focus from the keyboard and shows it
  const region = phone.getByRole('region', { name: 'Forms table' });
  await region.focus();
  const ring = await region.evaluate(e => getComputedStyle(e).outlineStyle);
  ok(ring !== 'none', 'the focused table region shows a focus ring');
  await phone.keyboard.press('ArrowRight');
  let moved = false; // scrolling may be smooth: give it a moment
  for (let i = 0; i < 20 && !moved; i++) moved = await region.evaluate(e => e.scrollWidth <= e.clientWidth || e.scrollLeft > 0) || !(await sleep(100));
  ok(moved, 'ArrowRight scrolls the table sideways');
  await shot(phone, 'admin-390.png');
  await shot(phone, 'admin-390-full.png', true);
  await phone.close();
});

const { passed, failed } = await runTests(tests, es);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
