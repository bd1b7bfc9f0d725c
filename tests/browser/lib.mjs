// What the browser runners (run.mjs, hosted.mjs, admin.mjs) share: where the repository, the earshot
// binary, its build directory and Chromium are; playwright-core (installed with npm ci when missing);
// small assertions; one earshot server on a temporary directory; and the TAP-style test loop.
// Env: EARSHOT_BIN (default ../../_build/earshot), EARSHOT_BUILDDIR (default: the binary's directory),
// CHROMIUM (default /usr/bin/chromium), TEST_FILTER (substring of test names), EARSHOT_TEST_DATABASE (a
// postgresql:// URL of an empty database the server is given instead of its own SQLite file;
// tests/slow/browser_postgresql.py sets it).
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..');
export const BIN = process.env.EARSHOT_BIN || path.join(repo, '_build', 'earshot');
export const BUILDDIR = process.env.EARSHOT_BUILDDIR || path.dirname(BIN);
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// The database every server of this run is given: a PostgreSQL URL, or the SQLite file earshot.db in
// the server's temporary directory.
export const TEST_DATABASE = process.env.EARSHOT_TEST_DATABASE || 'earshot.db';
export const ON_POSTGRES = /^postgres(ql)?:\/\//.test(TEST_DATABASE);
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

if (!fs.existsSync(path.join(here, 'node_modules', 'playwright-core'))) {
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: here, stdio: ['ignore', 2, 2] });
}
export const { chromium } = await import('playwright-core');

// Options for chromium.launch / launchPersistentContext: headless Chromium at CHROMIUM with the
// shared arguments, plus `extra` (a viewport, say).
export function browserOptions(extra = {}) {
  return { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, ...extra };
}

// Resolves after `ms` milliseconds.
export const sleep = ms => new Promise(r => setTimeout(r, ms));

// Resolves to a TCP port on `host` that was free a moment ago.
export const freePort = (host = '127.0.0.1') => new Promise((ok, fail) => {
  const s = net.createServer().once('error', fail);
  s.listen(0, host, () => { const p = s.address().port; s.close(() => ok(p)); });
});

// Throws unless `a` and `b` have the same JSON; the message names `what` and both values.
export function eq(a, b, what) {
  const x = JSON.stringify(a), y = JSON.stringify(b);
  if (x !== y) throw new Error(`${what}: expected ${y}, got ${x}`);
}

// Throws `what` unless `c` is truthy.
export function ok(c, what) { if (!c) throw new Error(what); }

// A fresh admin token and the sha256 hex digest the config lists for it.
export function adminToken() {
  const token = crypto.randomBytes(24).toString('hex');
  return { token, sha256: crypto.createHash('sha256').update(token).digest('hex') };
}

// One earshot server run from a temporary directory (tmp, made with the name prefix `prefix`) that
// holds its earshot.yaml (written by the runner at configPath), its database and server.log.
// cleanup() runs the beforeStop hooks (closing browsers), stops the server, runs the afterStop hooks
// and removes tmp.
export class Earshot {
  constructor(prefix) {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.configPath = path.join(this.tmp, 'earshot.yaml');
    this.logPath = path.join(this.tmp, 'server.log');
    this.logFd = fs.openSync(this.logPath, 'a');
    this.proc = null;
    this.exited = null;
    this.before = [];
    this.after = [];
  }

  // Makes tmp/forms and copies the named files of the repository's forms/ into it (all *.yaml without
  // `names`).
  copyForms(names) {
    const from = path.join(repo, 'forms'), to = path.join(this.tmp, 'forms');
    fs.mkdirSync(to);
    for (const f of names || fs.readdirSync(from).filter(n => n.endsWith('.yaml'))) fs.copyFileSync(path.join(from, f), path.join(to, f));
  }

  // Writes configPath: listen on `url` (http://127.0.0.1:PORT, also the public_url), TEST_DATABASE
  // (earshot.db unless set) and tmp/forms, the repository's static files (or `staticDir`), 1000 submissions a minute plus the
  // `limits` lines, the admin token whose digest is `tokenSha`, then the `extra` lines as they are.
  writeConfig(url, tokenSha, { staticDir = path.join(repo, 'static'), limits = [], extra = [] } = {}) {
    fs.writeFileSync(this.configPath, [
      `listen: ${new URL(url).host}`,
      `public_url: ${url}`,
      `database: ${JSON.stringify(TEST_DATABASE)}`,
      'forms_dir: forms',
      `static_dir: ${JSON.stringify(staticDir)}`,
      'limits:',
      '  submissions_per_minute: 1000',
      ...limits,
      'admin:',
      `  tokens: ["sha256:${tokenSha}"]`,
      ...extra,
      // without plugins: the shipped ones would load; a runner names the plugins it wants
      ...(extra.some(line => line.startsWith('plugins:')) ? [] : ['plugins: []']),
      ''].join('\n'));
  }

  // Registers `fn` to run in cleanup() before the server stops.
  beforeStop(fn) { this.before.push(fn); }

  // Registers `fn` to run in cleanup() after the server has stopped.
  afterStop(fn) { this.after.push(fn); }

  // Starts BIN serve on configPath and waits up to ten seconds for `url`/healthz to answer 200;
  // bails out (see bail) when the server exits or never gets healthy.
  async start(url) {
    this.proc = spawn(BIN, ['serve', '-c', this.configPath], { cwd: this.tmp, stdio: ['ignore', this.logFd, this.logFd] });
    this.proc.on('exit', (code, sig) => { this.exited = sig || code; });
    for (let i = 0; i < 100 && this.exited === null; i++) {
      try { if ((await fetch(url + '/healthz')).ok) return; } catch (e) { /* not yet */ }
      await sleep(100);
    }
    await this.bail('earshot did not become healthy');
  }

  // The server log's last `n` lines (all of it without `n`) as TAP comments.
  log(n) {
    const lines = fs.readFileSync(this.logPath, 'utf8').split('\n');
    return (n ? lines.slice(-n) : lines).map(l => '# ' + l).join('\n');
  }

  // Stops the server (SIGTERM, SIGKILL after ten seconds) and tidies up as described above.
  async cleanup() {
    for (const fn of this.before) await fn();
    if (this.proc && this.exited === null) {
      this.proc.kill('SIGTERM');
      for (let i = 0; i < 100 && this.exited === null; i++) await sleep(100);
      if (this.exited === null) this.proc.kill('SIGKILL');
    }
    for (const fn of this.after) await fn();
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  // Gives up on the whole run: "Bail out! msg", the server log, cleanup, "0 passed, 1 failed", exit 1.
  async bail(msg) {
    console.log('Bail out! ' + msg);
    try { console.log(this.log()); } catch (e) { /* no log */ }
    await this.cleanup();
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

// Runs `tests` ({name, fn, timeout?}; only those whose name holds TEST_FILTER) one by one with a
// limit each (`timeout` ms, default 60 s), printing TAP lines, and `afterEach` after every test; on any failure prints the last
// 40 lines of the server's log. Cleans `server` up and returns {passed, failed}: the caller prints
// the closing line and exits.
export async function runTests(tests, server, afterEach = async () => {}) {
  const only = process.env.TEST_FILTER;
  const run = tests.filter(t => !only || t.name.includes(only));
  console.log(`TAP version 13\n1..${run.length}`);
  let passed = 0, failed = 0;
  for (const [i, t] of run.entries()) {
    try {
      const limit = t.timeout || 60000;
      await Promise.race([t.fn(), sleep(limit).then(() => { throw new Error(`timed out after ${limit / 1000} s`); })]);
      passed++;
      console.log(`ok ${i + 1} - ${t.name}`);
    } catch (e) {
      failed++;
      console.log(`not ok ${i + 1} - ${t.name}\n  # ${String(e && e.message || e).split('\n').join('\n  # ')}`);
    }
    await afterEach();
  }
  if (failed) {
    console.log('# server log:');
    console.log(server.log(40));
  }
  await server.cleanup();
  return { passed, failed };
}
