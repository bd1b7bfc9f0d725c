// Stand-in for the earshot server's widget routes (http.md), used only while the real routes are
// being written: node mock-server.mjs settings.json  (settings: {port, static_dir, origins, token_sha256, forms})
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const responses = [], byKey = new Map();
const glob = g => new RegExp('^' + g.split('*').map(s => s.replace(/[\\^$.+?()[\]{}|]/g, '\\$&')).join('.*') + '$');
const matches = (f, p) => {
  const pages = (f.trigger || {}).pages || {}, inc = pages.include || [], exc = pages.exclude || [];
  return !exc.some(g => glob(g).test(p)) && (!inc.length || inc.some(g => glob(g).test(p)));
};
const pub = f => ({ id: f.id, title: f.title, locale: f.locale || 'en', thank_you: f.thank_you || 'Thank you!',
  questions: f.questions.map(q => ({ required: false, ...q })),
  trigger: { event: 'manual', delay_seconds: 15, scroll_percent: 50, sample_percent: 100, recontact_days: 30,
    ...(f.trigger || {}), pages: { include: [], exclude: [], ...((f.trigger || {}).pages || {}) } } });

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(JSON.stringify(body));
}

http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x'), origin = req.headers.origin;
  const allowed = origin && (cfg.origins.includes('*') || cfg.origins.includes(origin));
  const cors = allowed ? { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' } : {};
  if (req.method === 'GET' && u.pathname === '/healthz') return send(res, 200, { status: 'ok' });
  if (req.method === 'GET' && u.pathname.startsWith('/static/')) {
    const file = path.join(cfg.static_dir, path.basename(u.pathname));
    if (!fs.existsSync(file)) return send(res, 404, { error: 'not_found' });
    const type = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html' }[path.extname(file)];
    res.writeHead(200, { 'Content-Type': type + '; charset=utf-8', 'Cache-Control': 'no-cache' });
    return res.end(fs.readFileSync(file));
  }
  if (req.method === 'GET' && u.pathname === '/api/v1/surveys') {
    if (origin && !allowed) return send(res, 200, { surveys: [] });
    const p = new URL(u.searchParams.get('page') || '/', 'http://x').pathname;
    const list = cfg.forms.filter(f => f.kind === 'survey' && f.active !== false && matches(f, p)).map(pub);
    return send(res, 200, { surveys: list }, { ...cors, 'Cache-Control': 'max-age=60' });
  }
  const m = u.pathname.match(/^\/api\/v1\/forms\/([a-z0-9-]+)\/responses$/);
  if (m && req.method === 'POST') {
    let body = '';
    req.on('data', c => { body += c; });
    req.on('end', () => {
      if (origin && !allowed) return send(res, 403, { error: 'origin_not_allowed', message: 'origin not allowed' });
      const form = cfg.forms.find(f => f.id === m[1]);
      if (!form) return send(res, 404, { error: 'unknown_form', message: 'no such form' }, cors);
      if (!/^(text\/plain|application\/json)/.test(req.headers['content-type'] || '')) return send(res, 415, { error: 'unsupported_media_type', message: 'json' }, cors);
      let j;
      try { j = JSON.parse(body); } catch (e) { return send(res, 400, { error: 'invalid_json', message: e.message }, cors); }
      const key = j.idempotency_key || req.headers['idempotency-key'];
      if (key && byKey.has(key)) return send(res, 201, byKey.get(key), cors);
      const fields = {};
      for (const id of Object.keys(j.answers || {})) if (!form.questions.some(q => q.id === id)) fields[id] = 'unknown question';
      const e = form.questions.find(q => q.type === 'email');
      for (const q of form.questions) {
        const v = (j.answers || {})[q.id];
        if (v === undefined) continue;
        if (q.type === 'email') {
          if (!/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(v)) fields[q.id] = 'must look like name@example.com';
          else j.answers[q.id] = v.replace(/@.*/, m => m.toLowerCase());
        }
        if (q.type === 'phone') {
          const n = String(v).replace(/[\s().\/-]/g, '');
          if (!/^\+\d{8,15}$/.test(n)) fields[q.id] = 'must be a phone number with its country code, such as +386 40 123 456';
          else j.answers[q.id] = n;
        }
      }
      if (Object.keys(fields).length) return send(res, 422, { error: 'invalid', message: 'some answers are invalid', fields }, cors);
      const out = { id: crypto.randomUUID(), thank_you: form.thank_you || 'Thank you!', offers: [] };
      responses.push({ id: out.id, form: form.id, created_at: new Date().toISOString(), answers: j.answers, meta: j.meta, tags: [] });
      if (key) byKey.set(key, out);
      return send(res, 201, out, cors);
    });
    return;
  }
  if (m && req.method === 'GET') {
    const auth = (req.headers.authorization || '').replace(/^Bearer /, '');
    if (crypto.createHash('sha256').update(auth).digest('hex') !== cfg.token_sha256) return send(res, 401, { error: 'unauthorized', message: 'token' });
    return send(res, 200, { responses: responses.filter(r => r.form === m[1]), next: null });
  }
  send(res, 404, { error: 'not_found', message: 'no route' });
}).listen(cfg.port, '127.0.0.1');
