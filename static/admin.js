// earshot admin dashboard. Reads the bearer-protected JSON API with the admin token the user types;
// the token lives in sessionStorage only (this tab), never in a URL or localStorage. Everything that
// came from respondents is put on the page with textContent or as SVG attributes, never as markup.
'use strict';
(function () {
  var KEY = 'earshot-admin-token';
  var SVG = 'http://www.w3.org/2000/svg';
  var LATEST = 20;          // answers shown per form
  var PAGE = 1000;          // the API's largest page
  var MAX_BARS = 52;        // weeks drawn in the NPS chart
  var token = null;
  var generation = 0;       // bumps on every form switch, so late answers of an older one are dropped
  var totals = {};          // form id -> response count from /api/v1/forms

  function $(id) { return document.getElementById(id); }

  // A new element with optional text (always as text, never parsed) and class.
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  // A new SVG element with attributes and optional text.
  function svgEl(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  // A <time> showing an ISO-8601 time in the reader's locale.
  function timeEl(iso) {
    var t = el('time', iso);
    if (!iso) return el('span', '—', 'muted');
    t.setAttribute('datetime', iso);
    var d = new Date(iso);
    if (!isNaN(d.getTime())) t.textContent = d.toLocaleString();
    return t;
  }

  // One answer value as text: lists joined with "; ", yes/no for booleans.
  function valueText(v) {
    if (Array.isArray(v)) return v.map(valueText).join('; ');
    if (v === true) return 'yes';
    if (v === false) return 'no';
    if (v === null || v === undefined) return '';
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }

  // A <dl> of question id → answer.
  function answersList(answers) {
    var dl = el('dl', null, 'answers');
    Object.keys(answers || {}).forEach(function (k) {
      dl.appendChild(el('dt', k));
      dl.appendChild(el('dd', valueText(answers[k])));
    });
    return dl;
  }

  function status(text, isError) {
    var s = $('status');
    s.textContent = text;
    s.className = isError ? 'status error' : 'status';
  }

  // Calls the admin API; resolves to the parsed body, rejects with an Error carrying status and code.
  function api(path, method, body) {
    var headers = { Authorization: 'Bearer ' + token, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(path, {
      method: method || 'GET', cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
      headers: headers, body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (body) {
        if (res.ok) return body;
        var err = new Error(body && body.message ? body.message : 'The server answered HTTP ' + res.status + '.');
        err.status = res.status;
        err.code = body && body.error;
        throw err;
      });
    });
  }

  // Sends the user back to the sign-in form, forgetting the token; message (optional) says why.
  function signOut(message) {
    token = null;
    generation++;
    sessionStorage.removeItem(KEY);
    ['forms-table', 'latest-table', 'complaints-table', 'contact-answers'].forEach(function (id) {
      clear($(id).tBodies[0]);
    });
    ['inbox-list', 'contact-inbox', 'contact-offers'].forEach(function (id) { clear($(id)); });
    clear($('form-select'));
    clear($('nps-chart'));
    $('dashboard').hidden = true;
    $('signout').hidden = true;
    $('refresh').hidden = true;
    $('signin').hidden = false;
    var e = $('signin-error');
    e.textContent = message || '';
    e.hidden = !message;
    $('token').value = '';
    $('token').focus();
  }

  // Handles a failed API call: a refused token signs out, anything else is reported.
  function failed(err) {
    if (err && err.status === 401) {
      signOut('The server did not accept this token. Check it and sign in again.');
      return;
    }
    status('Could not load the dashboard: ' + (err && err.message ? err.message : String(err)), true);
  }

  // ---- forms ------------------------------------------------------------------------------------

  function renderForms(forms) {
    var body = $('forms-table').tBodies[0];
    var select = $('form-select');
    var previous = select.value || sessionStorage.getItem(KEY + ':form');
    clear(body);
    clear(select);
    totals = {};
    forms.forEach(function (f) {
      totals[f.id] = f.responses;
      var tr = el('tr');
      var th = el('th', f.id);
      th.setAttribute('scope', 'row');
      tr.appendChild(th);
      tr.appendChild(el('td', f.title));
      tr.appendChild(el('td', f.kind));
      tr.appendChild(el('td', f.active ? 'yes' : 'no'));
      tr.appendChild(el('td', f.responses, 'num'));
      body.appendChild(tr);
      var opt = el('option', f.title ? f.id + ' — ' + f.title : f.id);
      opt.value = f.id;
      select.appendChild(opt);
    });
    var ids = forms.map(function (f) { return f.id; });
    if (ids.indexOf(previous) >= 0) {
      select.value = previous;
    } else if (forms.length) {
      // The busiest form first.
      var best = forms.slice().sort(function (a, b) { return b.responses - a.responses; })[0];
      select.value = best.id;
    }
  }

  // ---- latest answers ---------------------------------------------------------------------------

  // The newest `want` answers of a form. The API lists oldest first, so this looks for a time window
  // [since, now) that holds at least `want` answers but fits in one page, widening or narrowing it.
  function latestResponses(form, want) {
    var base = '/api/v1/forms/' + encodeURIComponent(form) + '/responses?limit=' + PAGE;
    var total = totals[form] || 0;
    if (total <= PAGE) {
      return api(base).then(function (page) {
        return page.next === null ? page.responses.slice(-want) : search(base, want, total);
      });
    }
    return search(base, want, total);
  }

  function search(base, want, total) {
    var few = 0, many = null, hours = 24, tries = 0; // `many`: the narrowest window known to overflow a page
    function url(h) {
      return base + '&since=' + encodeURIComponent(new Date(Date.now() - h * 3600e3).toISOString());
    }
    function probe() {
      tries++;
      return api(url(hours)).then(function (page) {
        var n = page.responses.length;
        if (page.next === null && (n >= want || n >= total)) return page.responses.slice(-want);
        if (page.next === null) few = hours; else many = hours;
        if (many === null && hours > 24 * 366 * 100) return walk(base, want);
        if (tries >= 40 || (many !== null && many - few < 1 / 3600)) return walk(url(many !== null ? many : hours), want);
        hours = many === null ? hours * 8 : (few + many) / 2;
        return probe();
      });
    }
    return probe();
  }

  // Pages through a listing to its end, keeping the last `want` answers.
  function walk(url, want, after, kept) {
    return api(url + (after ? '&after=' + encodeURIComponent(after) : '')).then(function (page) {
      var all = (kept || []).concat(page.responses).slice(-want);
      return page.next === null ? all : walk(url, want, page.next, all);
    });
  }

  function renderLatest(rows) {
    var body = $('latest-table').tBodies[0];
    clear(body);
    $('latest-empty').hidden = rows.length > 0;
    $('latest-table').hidden = rows.length === 0;
    rows.slice().reverse().forEach(function (r) {
      var tr = el('tr');
      var when = el('td');
      when.appendChild(timeEl(r.created_at));
      tr.appendChild(when);
      var ans = el('td', null, 'wrap');
      ans.appendChild(answersList(r.answers));
      tr.appendChild(ans);
      var parts = [];
      if (r.score) {
        Object.keys(r.score).forEach(function (k) { parts.push(k + ': ' + valueText(r.score[k])); });
      }
      var tags = (r.tags || []).filter(function (t) { return !r.score || t !== r.score.category; });
      if (tags.length) parts.push('tags: ' + tags.join(', '));
      tr.appendChild(el('td', parts.join('; ') || '—'));
      body.appendChild(tr);
    });
  }

  // ---- NPS chart --------------------------------------------------------------------------------

  function fmt(n) { return n === null || n === undefined ? '—' : (Math.round(n * 10) / 10).toString(); }

  // Draws the weekly NPS as bars around a zero line, one per week in series (the last MAX_BARS).
  function drawChart(series) {
    var box = $('nps-chart');
    clear(box);
    var shown = series.slice(-MAX_BARS);
    var W = Math.round(Math.max(300, Math.min(700, box.clientWidth || 640))), H = 230, L = 40, R = 8, T = 12, B = 34;
    var plotW = W - L - R, plotH = H - T - B;
    function y(v) { return T + (100 - v) / 200 * plotH; }
    var label = 'NPS by week. ' + shown.map(function (s) {
      return 'Week of ' + s.start + ': ' + fmt(s.nps) + ' from ' + s.responses + ' responses';
    }).join('. ') + '.';
    var root = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': label,
      preserveAspectRatio: 'xMidYMid meet' });
    [100, 50, 0, -50, -100].forEach(function (v) {
      root.appendChild(svgEl('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), 'class': v === 0 ? 'zero' : 'axis' }));
      root.appendChild(svgEl('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, v));
    });
    var slot = plotW / Math.max(shown.length, 1);
    var barW = Math.max(2, Math.min(slot * 0.7, 48));
    var every = Math.ceil(shown.length / 8);
    shown.forEach(function (s, i) {
      var v = typeof s.nps === 'number' ? Math.max(-100, Math.min(100, s.nps)) : 0;
      var x = L + i * slot + (slot - barW) / 2;
      var top = Math.min(y(v), y(0)), h = Math.max(Math.abs(y(v) - y(0)), 1);
      var bar = svgEl('rect', { x: x.toFixed(1), y: top.toFixed(1), width: barW.toFixed(1), height: h.toFixed(1),
        'class': 'bar ' + (v < 0 ? 'neg' : 'pos') });
      bar.appendChild(svgEl('title', {}, 'Week of ' + s.start + ': NPS ' + fmt(s.nps) + ' (' + s.responses + ' responses)'));
      root.appendChild(bar);
      if (i % every === 0) {
        root.appendChild(svgEl('text', { x: (x + barW / 2).toFixed(1), y: H - B + 16, 'text-anchor': 'middle' },
          String(s.start).slice(5)));
      }
    });
    box.appendChild(root);
  }

  // Shows the NPS block for form, or hides it when the nps plugin does not serve that form.
  function loadNps(form, gen) {
    return api('/api/v1/forms/' + encodeURIComponent(form) + '/nps?interval=week').then(function (r) {
      if (gen !== generation) return;
      $('nps-block').hidden = false;
      var heading = r.series.length > MAX_BARS ? 'NPS by week (the last ' + MAX_BARS + ')' : 'NPS by week';
      $('nps-h').textContent = heading;
      $('nps-summary').textContent = r.responses
        ? 'NPS ' + fmt(r.nps) + ' from ' + r.responses + ' scored answers (' + r.promoters + ' promoters, ' +
          r.passives + ' passives, ' + r.detractors + ' detractors), margin of error ±' + fmt(r.margin_of_error) + '.'
        : 'No scored answers yet.';
      drawChart(r.series);
    }, function (err) {
      if (gen !== generation) return;
      $('nps-block').hidden = true;
      clear($('nps-chart'));
      if (!(err.status === 404 && err.code === 'not_enabled')) throw err;
    });
  }

  function loadForm() {
    var form = $('form-select').value;
    var gen = ++generation;
    if (!form) return Promise.resolve();
    sessionStorage.setItem(KEY + ':form', form);
    $('latest-h').textContent = 'Latest answers to ' + form;
    return Promise.all([
      loadNps(form, gen),
      latestResponses(form, LATEST).then(function (rows) { if (gen === generation) renderLatest(rows); })
    ]);
  }

  // ---- complaints waiting -----------------------------------------------------------------------

  var STATE_ORDER = { dead: 0, failed: 1, pending: 2 };

  function renderComplaints(rows, more) {
    var body = $('complaints-table').tBodies[0];
    clear(body);
    $('complaints-empty').hidden = rows.length > 0;
    $('complaints-table').hidden = rows.length === 0;
    rows.forEach(function (d) {
      var doc = d.document || {};
      var resp = doc.response || {};
      var tr = el('tr');
      tr.appendChild(el('td', d.state, 'state-' + d.state));
      tr.appendChild(el('td', doc.form || resp.form || '—'));
      var when = el('td');
      when.appendChild(timeEl(d.created_at));
      tr.appendChild(when);
      var ans = el('td', null, 'wrap');
      ans.appendChild(answersList(resp.answers));
      tr.appendChild(ans);
      tr.appendChild(el('td', d.destination));
      tr.appendChild(el('td', d.attempts, 'num'));
      tr.appendChild(el('td', d.last_error || '—', 'wrap'));
      var act = el('td');
      if (d.state === 'dead') {
        var b = el('button', 'Retry');
        b.type = 'button';
        b.setAttribute('aria-label', 'Retry delivery ' + d.id);
        b.addEventListener('click', function () { retry(d.id, b); });
        act.appendChild(b);
      } else {
        act.appendChild(el('span', d.state === 'failed' ? 'retrying' : 'queued', 'muted'));
      }
      tr.appendChild(act);
      body.appendChild(tr);
    });
    if (more) {
      var tr2 = el('tr');
      var td = el('td', 'More are waiting than are shown here; see earshot deliveries.', 'muted');
      td.colSpan = 8;
      tr2.appendChild(td);
      body.appendChild(tr2);
    }
  }

  function loadComplaints() {
    return Promise.all(['pending', 'failed', 'dead'].map(function (s) {
      return api('/api/v1/deliveries?state=' + s + '&limit=200');
    })).then(function (pages) {
      var rows = [], more = false;
      pages.forEach(function (p) {
        more = more || p.next !== null;
        p.deliveries.forEach(function (d) { if (d.type === 'complaint') rows.push(d); });
      });
      rows.sort(function (a, b) {
        return (STATE_ORDER[a.state] - STATE_ORDER[b.state]) || (a.created_at < b.created_at ? -1 : 1);
      });
      renderComplaints(rows, more);
    });
  }

  function retry(id, button) {
    button.disabled = true;
    api('/api/v1/deliveries/' + encodeURIComponent(id) + '/retry', 'POST').then(function () {
      status('Delivery ' + id + ' is queued again.');
      return loadComplaints();
    }).catch(function (err) {
      button.disabled = false;
      failed(err);
    });
  }


  // ---- follow-up inbox --------------------------------------------------------------------------

  var showDone = false;
  var skew = 0;              // server clock minus this browser's, from the listing's "now"
  var titles = {};           // form id -> title

  // "12:04" / "1 h 05 min" / "2 days" for a duration in ms.
  function span(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    if (s < 3600) return Math.floor(s / 60) + ':' + ('0' + (s % 60)).slice(-2);
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + ('0' + Math.floor((s % 3600) / 60)).slice(-2) + ' min';
    return Math.floor(s / 86400) + ' days';
  }

  // Updates every live clock on the page, and flags items whose time ran out.
  function tick() {
    var now = Date.now() + skew;
    Array.prototype.forEach.call(document.querySelectorAll('.clock[data-due]'), function (c) {
      var left = Date.parse(c.getAttribute('data-due')) - now;
      var li = c.closest('li');
      if (c.getAttribute('data-done') === '1') return;
      c.textContent = left > 0 ? 'due in ' + span(left) : 'overdue by ' + span(left);
      c.className = 'clock ' + (left > 0 ? (left < 5 * 60e3 ? 'soon' : 'ok') : 'late');
      if (li) li.classList.toggle('overdue', left <= 0);
    });
  }

  // The contact's link: tel: for a phone number, mailto: for an address.
  function contactLink(contact) {
    var a = el('a', contact);
    a.href = (/^\+?[0-9]+$/.test(contact) ? 'tel:' : 'mailto:') + contact;
    return a;
  }

  // One inbox item: title, contact, clock, answers, assignee, note, done/reopen.
  function renderItem(it) {
    var li = el('li', null, 'item' + (it.overdue ? ' overdue' : '') + (it.state === 'done' ? ' done' : ''));
    li.id = 'item-' + it.id;
    var head = el('div', null, 'item-head');
    var h = el('h3', it.title || titles[it.form] || it.form);
    head.appendChild(h);
    if (it.priority && it.priority !== 'normal') head.appendChild(el('span', it.priority, 'badge prio-' + it.priority));
    var clock = el('span', null, 'clock');
    if (it.state === 'done') {
      clock.setAttribute('data-done', '1');
      clock.textContent = 'done ' + (it.done_at ? new Date(it.done_at).toLocaleString() : '');
      clock.className = 'clock ok';
    }
    clock.setAttribute('data-due', it.due_at);
    clock.setAttribute('role', 'timer');
    head.appendChild(clock);
    li.appendChild(head);
    var who = el('p', null, 'who');
    if (it.contact) {
      who.appendChild(contactLink(it.contact));
      who.appendChild(document.createTextNode(' · '));
      var card = el('a', 'contact card');
      card.href = '#contact/' + encodeURIComponent(it.contact);
      who.appendChild(card);
      who.appendChild(document.createTextNode(' · '));
    }
    who.appendChild(el('span', 'received ', 'muted'));
    who.appendChild(timeEl(it.created_at));
    who.appendChild(el('span', ' · due ' + new Date(it.due_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }), 'muted'));
    li.appendChild(who);
    var dl = el('dl', null, 'answers');
    (it.answers || []).forEach(function (a) {
      dl.appendChild(el('dt', a.label || a.id));
      dl.appendChild(el('dd', a.value));
    });
    li.appendChild(dl);
    var form = el('div', null, 'item-edit');
    var aLabel = el('label', 'Assignee');
    var assignee = el('input');
    assignee.id = 'assignee-' + it.id;
    aLabel.htmlFor = assignee.id;
    assignee.value = it.assignee || '';
    assignee.maxLength = 200;
    assignee.autocomplete = 'off';
    var nLabel = el('label', 'Note');
    var note = el('textarea');
    note.id = 'note-' + it.id;
    nLabel.htmlFor = note.id;
    note.rows = 1;
    note.value = it.note || '';
    note.maxLength = 4000;
    form.appendChild(aLabel);
    form.appendChild(assignee);
    form.appendChild(nLabel);
    form.appendChild(note);
    var actions = el('div', null, 'item-actions');
    var save = el('button', 'Save', 'secondary');
    save.type = 'button';
    save.addEventListener('click', function () {
      patch(it.id, { assignee: assignee.value.trim() || null, note: note.value.trim() || null }, save, 'Saved.');
    });
    var done = el('button', it.state === 'done' ? 'Reopen' : 'Mark done', it.state === 'done' ? 'secondary' : '');
    done.type = 'button';
    done.setAttribute('aria-label', (it.state === 'done' ? 'Reopen ' : 'Mark done: ') + (it.contact || it.id));
    done.addEventListener('click', function () {
      patch(it.id, { state: it.state === 'done' ? 'open' : 'done', assignee: assignee.value.trim() || null,
        note: note.value.trim() || null }, done, it.state === 'done' ? 'Reopened.' : 'Marked done.');
    });
    actions.appendChild(save);
    actions.appendChild(done);
    form.appendChild(actions);
    li.appendChild(form);
    return li;
  }

  function patch(id, body, button, message) {
    button.disabled = true;
    api('/api/v1/inbox/' + encodeURIComponent(id), 'PATCH', body).then(function () {
      status(message);
      return Promise.all([loadInbox(), $('contact').hidden ? null : loadContact()]);
    }).catch(function (err) {
      button.disabled = false;
      failed(err);
    });
  }

  // Overdue first (the longest overdue on top), then the nearest due; done ones newest first.
  function sortItems(items) {
    return items.slice().sort(function (a, b) {
      if (a.state === 'done') return a.done_at < b.done_at ? 1 : -1;
      if (a.overdue !== b.overdue) return a.overdue ? -1 : 1;
      return a.due_at < b.due_at ? -1 : 1;
    });
  }

  function renderItems(list, items) {
    clear(list);
    sortItems(items).forEach(function (it) { list.appendChild(renderItem(it)); });
    tick();
  }

  function loadInbox() {
    return api('/api/v1/inbox?limit=500&state=' + (showDone ? 'done' : 'open')).then(function (r) {
      skew = Date.parse(r.now) - Date.now();
      var c = $('inbox-counts');
      clear(c);
      c.appendChild(el('span', r.open + ' open'));
      if (r.overdue) c.appendChild(el('span', r.overdue + ' overdue', 'late'));
      $('inbox-empty').hidden = r.items.length > 0;
      $('inbox-empty').textContent = showDone ? 'Nothing marked done yet.'
        : 'Nothing waiting. Routed answers (call-back requests, complaints) appear here with a clock.';
      renderItems($('inbox-list'), r.items);
      focusHash();
    });
  }

  function setTab(done) {
    showDone = done;
    $('show-open').setAttribute('aria-pressed', String(!done));
    $('show-done').setAttribute('aria-pressed', String(done));
    loadInbox().catch(failed);
  }

  // ---- contact card -----------------------------------------------------------------------------

  function hashContact() {
    var m = /^#contact\/(.+)$/.exec(location.hash);
    return m ? decodeURIComponent(m[1]) : null;
  }

  function loadContact() {
    var who = hashContact();
    if (!who) return Promise.resolve();
    return api('/api/v1/contacts/' + encodeURIComponent(who)).then(function (r) {
      $('contact').hidden = false;
      $('inbox').hidden = true;
      $('contact-h').textContent = r.contact.key;
      var sum = $('contact-summary');
      clear(sum);
      sum.appendChild(contactLink(r.contact.key));
      var forms = {};
      r.responses.forEach(function (x) { forms[x.form] = true; });
      sum.appendChild(document.createTextNode(' · ' + r.responses.length + ' answer' + (r.responses.length === 1 ? '' : 's') +
        ' on ' + Object.keys(forms).length + ' form' + (Object.keys(forms).length === 1 ? '' : 's') + ' · ' +
        r.inbox.length + ' follow-up' + (r.inbox.length === 1 ? '' : 's')));
      renderItems($('contact-inbox'), r.inbox);
      var body = $('contact-answers').tBodies[0];
      clear(body);
      r.responses.forEach(function (x) {
        var tr = el('tr');
        var when = el('td');
        when.appendChild(timeEl(x.created_at));
        tr.appendChild(when);
        tr.appendChild(el('td', titles[x.form] || x.form));
        var ans = el('td', null, 'wrap');
        ans.appendChild(answersList(x.answers));
        tr.appendChild(ans);
        var parts = [];
        if (x.score) Object.keys(x.score).forEach(function (k) { parts.push(k + ': ' + valueText(x.score[k])); });
        if ((x.tags || []).length) parts.push('tags: ' + x.tags.join(', '));
        tr.appendChild(el('td', parts.join('; ') || '—'));
        body.appendChild(tr);
      });
      var offers = $('contact-offers');
      clear(offers);
      var seen = {};
      r.offers = r.offers.filter(function (o) {   // a repeat visitor gets the same code again: list it once
        var k = o.form + '\n' + o.text + '\n' + o.code;
        return seen[k] ? false : (seen[k] = true);
      });
      r.offers.forEach(function (o) {
        offers.appendChild(el('li', o.text + (o.code ? ' — code ' + o.code : '') + ' (' + (titles[o.form] || o.form) + ')'));
      });
      $('contact-offers-empty').hidden = r.offers.length > 0;
    });
  }

  // Follows the address's #…: a contact card, or an inbox item to scroll to (links in alerts).
  function focusHash() {
    if (hashContact()) return;
    $('contact').hidden = true;
    $('inbox').hidden = false;
    var m = /^#inbox\/(.+)$/.exec(location.hash);
    var li = m && $('item-' + decodeURIComponent(m[1]));
    if (li && !li.classList.contains('target')) {
      li.classList.add('target');
      li.scrollIntoView({ block: 'center' });
    }
  }

  function route() {
    if (!token) return;
    if (hashContact()) loadContact().catch(failed);
    else focusHash();
  }

  // ---- the whole page ---------------------------------------------------------------------------

  function loadAll() {
    status('Loading…');
    return api('/api/v1/forms').then(function (r) {
      $('signin').hidden = true;
      $('dashboard').hidden = false;
      $('signout').hidden = false;
      $('refresh').hidden = false;
      renderForms(r.forms);
      r.forms.forEach(function (f) { titles[f.id] = f.title; });
      return Promise.all([loadInbox(), loadForm(), loadComplaints(), loadContact()]);
    }).then(function () {
      status('Updated ' + new Date().toLocaleTimeString() + '.');
    }).catch(failed);
  }

  function start() {
    $('signin-form').addEventListener('submit', function (e) {
      e.preventDefault();
      var value = $('token').value.trim();
      if (!value) {
        $('signin-error').textContent = 'Enter the admin token.';
        $('signin-error').hidden = false;
        $('token').focus();
        return;
      }
      token = value;
      sessionStorage.setItem(KEY, token);
      $('signin-error').hidden = true;
      loadAll();
    });
    $('signout').addEventListener('click', function () { signOut(''); });
    $('refresh').addEventListener('click', loadAll);
    $('form-select').addEventListener('change', function () {
      loadForm().then(function () { status('Showing ' + $('form-select').value + '.'); }).catch(failed);
    });
    $('show-open').addEventListener('click', function () { setTab(false); });
    $('show-done').addEventListener('click', function () { setTab(true); });
    $('contact-back').addEventListener('click', function (e) {
      e.preventDefault();
      history.pushState(null, '', location.pathname);
      focusHash();
    });
    window.addEventListener('hashchange', route);
    setInterval(tick, 1000);
    // The inbox refreshes itself every 30 s, so new call-backs show up without a click.
    setInterval(function () { if (token && !document.hidden) loadInbox().catch(function () {}); }, 30000);
    token = sessionStorage.getItem(KEY);
    if (token) loadAll();
    else $('token').focus();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
