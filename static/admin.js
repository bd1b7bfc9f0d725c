// earshot admin dashboard. Reads the bearer-protected JSON API with the admin token the user types;
// the token lives in sessionStorage only (this tab), never in a URL or localStorage. Everything that
// came from respondents is put on the page with textContent or as SVG attributes, never as markup.
// The filter state lives in the address's fragment (#form=…&range=7d&…), so a view can be bookmarked.
'use strict';
(function () {
  var KEY = 'earshot-admin-token';
  var SVG = 'http://www.w3.org/2000/svg';
  var ANSWERS_PAGE = 20;     // answers per "load older" page
  var TEXTS_PAGE = 10;       // text answers per page in a text question's panel
  var DELIVERIES_PAGE = 100; // recent deliveries per page
  var RECENT_DELIVERED = 10; // delivered ones listed per destination
  var MAX_BUCKETS = 90;      // periods drawn in a chart
  var token = null;
  var generation = 0;        // bumps on every new view, so late answers of an older one are dropped
  var forms = {};            // form id -> {id, title, kind, active, responses}
  var interval = 'day';
  var embedLine = null;

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

  function button(text, cls) {
    var b = el('button', text, cls);
    b.type = 'button';
    return b;
  }

  // A <time> showing an ISO-8601 time in the reader's locale.
  function timeEl(iso) {
    if (!iso) return el('span', '—', 'muted');
    var t = el('time', iso);
    t.setAttribute('datetime', iso);
    var d = new Date(iso);
    if (!isNaN(d.getTime())) t.textContent = d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
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

  // A <dl> of question → answer; labels (question id → label) name the questions when known.
  function answersList(answers, labels) {
    var dl = el('dl', null, 'answers');
    Object.keys(answers || {}).forEach(function (k) {
      dl.appendChild(el('dt', labels && labels[k] ? labels[k] : k));
      dl.appendChild(el('dd', valueText(answers[k])));
    });
    return dl;
  }

  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : (many || one + 's')); }
  function pct(n) { return (Math.round(n * 10) / 10).toLocaleString() + ' %'; }
  function fmt(n) { return n === null || n === undefined ? '—' : (Math.round(n * 10) / 10).toString(); }

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
      return res.json().catch(function () { return null; }).then(function (data) {
        if (res.ok) return data;
        var err = new Error(data && data.message ? data.message : 'The server answered HTTP ' + res.status + '.');
        err.status = res.status;
        err.code = data && data.error;
        err.parameter = data && data.parameter;
        throw err;
      });
    });
  }

  // Sends the user back to the sign-in form, forgetting the token; message (optional) says why.
  function signOut(message) {
    token = null;
    generation++;
    sessionStorage.removeItem(KEY);
    ['forms-table', 'contact-answers', 'variants-table'].forEach(function (id) { clear($(id).tBodies[0]); });
    ['inbox-list', 'contact-inbox', 'contact-offers', 'form-select', 'nps-chart', 'volume-chart', 'questions',
      'answers-list', 'deliveries-groups', 'kpis'].forEach(function (id) { clear($(id)); });
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

  // ---- filters and the address's fragment -------------------------------------------------------

  var FILTER_KEYS = ['range', 'from', 'to', 'page', 'tag', 'category', 'variant', 'device', 'attr'];
  var FIELDS = { range: 'f-range', from: 'f-from', to: 'f-to', page: 'f-page', tag: 'f-tag',
    category: 'f-category', variant: 'f-variant', device: 'f-device', attr: 'f-attr' };

  // The view in the fragment: {form, interval, range, from, to, page, …}; empty for #contact/… and #inbox/….
  function readHash() {
    var h = location.hash.replace(/^#/, '');
    var out = {};
    if (!h || /^(contact|inbox)\//.test(h)) return out;
    h.split('&').forEach(function (part) {
      var i = part.indexOf('=');
      if (i <= 0) return;
      try { out[decodeURIComponent(part.slice(0, i))] = decodeURIComponent(part.slice(i + 1)); } catch (e) { /* ignore */ }
    });
    return out;
  }

  // The filter fields as {key: value}, empty ones left out.
  function currentFilters() {
    var f = {};
    FILTER_KEYS.forEach(function (k) {
      var v = $(FIELDS[k]).value.trim();
      if (v) f[k] = v;
    });
    if (f.range !== 'custom') { delete f.from; delete f.to; }
    if (f.attr) f.attr = f.attr.split(',').map(function (s) { return s.trim(); }).filter(Boolean).join(',');
    return f;
  }

  function setFields(view) {
    FILTER_KEYS.forEach(function (k) {
      var field = $(FIELDS[k]);
      var v = view[k] || '';
      if (field.tagName === 'SELECT' && v && !Array.prototype.some.call(field.options, function (o) { return o.value === v; })) {
        var opt = el('option', v);   // a variant not known yet: keep it selectable
        opt.value = v;
        field.appendChild(opt);
      }
      field.value = v;
    });
    showCustom();
  }

  function showCustom() {
    var custom = $('f-range').value === 'custom';
    $('f-custom').hidden = !custom;
    $('f-custom-to').hidden = !custom;
  }

  // Writes the view to the fragment without a new history entry (and never the token).
  function writeHash() {
    var f = currentFilters();
    var parts = ['form=' + encodeURIComponent($('form-select').value)];
    FILTER_KEYS.forEach(function (k) { if (f[k]) parts.push(k + '=' + encodeURIComponent(f[k])); });
    if (interval !== 'day') parts.push('interval=' + interval);
    lastView = '#' + parts.join('&');
    if (!/^#(contact|inbox)\//.test(location.hash)) history.replaceState(null, '', location.pathname + location.search + lastView);
  }

  // Local midnight of d, n days back.
  function midnight(d, back) {
    return new Date(d.getFullYear(), d.getMonth(), d.getDate() - (back || 0));
  }

  // "2026-11-24" → that local midnight (plus days), or null.
  function dateInput(v, days) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v || '');
    return m ? new Date(+m[1], +m[2] - 1, +m[3] + (days || 0)) : null;
  }

  // The [since, until) of the range as Dates (either may be null).
  function rangeTimes(f) {
    var now = new Date();
    if (f.range === 'today') return [midnight(now), null];
    if (f.range === '7d') return [midnight(now, 6), null];
    if (f.range === '30d') return [midnight(now, 29), null];
    if (f.range === 'custom') return [dateInput(f.from), dateInput(f.to, 1)];
    return [null, null];
  }

  // The query string of the API's filter parameters (no leading &), from the filter fields.
  function filterQuery() {
    var f = currentFilters();
    var t = rangeTimes(f);
    var q = [];
    if (t[0]) q.push('since=' + encodeURIComponent(t[0].toISOString()));
    if (t[1]) q.push('until=' + encodeURIComponent(t[1].toISOString()));
    ['page', 'tag', 'category', 'variant', 'device', 'attr'].forEach(function (k) {
      if (f[k]) q.push(k + '=' + encodeURIComponent(f[k]));
    });
    return q.join('&');
  }

  function filtersActive() {
    var f = currentFilters();
    return Object.keys(f).length > 0;
  }

  function withQuery(path, extra) {
    var q = [filterQuery(), extra].filter(Boolean).join('&');
    return path + (q ? '?' + q : '');
  }

  function formPath(tail) {
    return '/api/v1/forms/' + encodeURIComponent($('form-select').value) + tail;
  }

  // ---- forms ------------------------------------------------------------------------------------

  function renderForms(list) {
    var body = $('forms-table').tBodies[0];
    var select = $('form-select');
    var previous = readHash().form || select.value || sessionStorage.getItem(KEY + ':form');
    clear(body);
    clear(select);
    forms = {};
    list.forEach(function (f) {
      forms[f.id] = f;
      titles[f.id] = f.title;
      var tr = el('tr');
      var th = el('th', f.id);
      th.setAttribute('scope', 'row');
      tr.appendChild(th);
      tr.appendChild(el('td', f.title));
      tr.appendChild(el('td', f.kind));
      tr.appendChild(el('td', f.active ? 'yes' : 'no'));
      tr.appendChild(el('td', f.responses, 'num'));
      body.appendChild(tr);
      var opt = el('option', f.title ? f.title + ' (' + f.id + ')' : f.id);
      opt.value = f.id;
      select.appendChild(opt);
    });
    if (forms[previous]) {
      select.value = previous;
    } else if (list.length) {
      // The busiest form first.
      select.value = list.slice().sort(function (a, b) { return b.responses - a.responses; })[0].id;
    }
  }

  // ---- charts -----------------------------------------------------------------------------------

  // Every period start ("YYYY-MM-DD", UTC) from first to last inclusive.
  function periods(first, last, step) {
    var out = [];
    var d = new Date(first + 'T00:00:00Z');
    var end = new Date(last + 'T00:00:00Z');
    while (d <= end && out.length < 5000) {
      out.push(d.toISOString().slice(0, 10));
      if (step === 'month') d.setUTCMonth(d.getUTCMonth() + 1);
      else d.setUTCDate(d.getUTCDate() + (step === 'week' ? 7 : 1));
    }
    return out;
  }

  // The start of the UTC period holding the Date d.
  function periodOf(d, step) {
    var x = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), step === 'month' ? 1 : d.getUTCDate()));
    if (step === 'week') x.setUTCDate(x.getUTCDate() - ((x.getUTCDay() + 6) % 7));
    return x.toISOString().slice(0, 10);
  }

  // "Nov 24" / "Nov 2026" for a period start.
  function periodLabel(start, step, long) {
    var d = new Date(start + 'T00:00:00Z');
    if (step === 'month') return d.toLocaleDateString([], { month: 'short', year: 'numeric', timeZone: 'UTC' });
    var s = d.toLocaleDateString([], { month: 'short', day: 'numeric', timeZone: 'UTC' });
    if (long) return (step === 'week' ? 'Week of ' : '') + d.toLocaleDateString([], { dateStyle: 'medium', timeZone: 'UTC' });
    return s;
  }

  // A round step for an axis up to max with about n ticks.
  function niceStep(max, n) {
    var raw = Math.max(max, 1) / n;
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  // A new chart <svg> of the box's width: {root, W, H, L, R, T, B}.
  function chartFrame(box, label, H) {
    var W = Math.round(Math.max(300, Math.min(760, box.clientWidth || 600)));
    var root = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': label,
      preserveAspectRatio: 'xMidYMid meet', 'class': 'chart-svg' });
    return { root: root, W: W, H: H, L: 44, R: 10, T: 14, B: 30 };
  }

  // X-axis labels under slots of width `slot` from x0, every k-th one.
  function xLabels(fr, starts, step, slot, x0) {
    var every = Math.ceil(starts.length / Math.max(2, Math.floor((fr.W - fr.L) / 70)));
    starts.forEach(function (s, i) {
      if (i % every !== 0) return;
      fr.root.appendChild(svgEl('text', { x: x0 + slot * i + slot / 2, y: fr.H - 10, 'text-anchor': 'middle',
        'class': 'tick' }, periodLabel(s, step)));
    });
  }

  // Bars of answers per period, every period from the first to the last shown (gaps as 0).
  function drawVolume(series, step, since, until) {
    var box = $('volume-chart');
    clear(box);
    var note = '';
    var first = series.length ? series[0].start : null;
    var last = series.length ? series[series.length - 1].start : null;
    if (since) first = periodOf(since, step);
    if (until) last = periodOf(new Date(until.getTime() - 1), step);
    else if (since) last = periodOf(new Date(), step);
    if (!first || !last) return;
    var starts = periods(first, last, step);
    if (starts.length > MAX_BUCKETS) {
      starts = starts.slice(-MAX_BUCKETS);
      note = 'Showing the last ' + MAX_BUCKETS + ' ' + step + 's; choose ' + (step === 'day' ? 'week or month' : 'month') +
        ' or a date range to see further back.';
    }
    var counts = {};
    series.forEach(function (s) { counts[s.start] = s.answers; });
    var values = starts.map(function (s) { return counts[s] || 0; });
    var max = Math.max.apply(null, values.concat([1]));
    var stepY = niceStep(max, 4);
    var top = Math.ceil(max / stepY) * stepY;
    var label = 'Answers per ' + step + ': ' + starts.map(function (s, i) {
      return periodLabel(s, step, true) + ' ' + values[i];
    }).join(', ') + '.';
    var fr = chartFrame(box, label, 220);
    var plotW = fr.W - fr.L - fr.R, plotH = fr.H - fr.T - fr.B;
    function y(v) { return fr.T + plotH - v / top * plotH; }
    for (var v = 0; v <= top; v += stepY) {
      fr.root.appendChild(svgEl('line', { x1: fr.L, x2: fr.W - fr.R, y1: y(v), y2: y(v), 'class': v === 0 ? 'base' : 'grid' }));
      fr.root.appendChild(svgEl('text', { x: fr.L - 6, y: y(v) + 4, 'text-anchor': 'end', 'class': 'tick' }, v));
    }
    var slot = plotW / starts.length;
    var barW = Math.max(2, Math.min(slot * 0.72, 40));
    starts.forEach(function (s, i) {
      var n = values[i];
      var h = Math.max(n ? 2 : 0, n / top * plotH);
      var rect = svgEl('rect', { x: fr.L + slot * i + (slot - barW) / 2, y: fr.T + plotH - h, width: barW, height: h,
        rx: Math.min(3, barW / 4), 'class': 'bar vol' });
      rect.appendChild(svgEl('title', {}, periodLabel(s, step, true) + ': ' + plural(n, 'answer')));
      fr.root.appendChild(rect);
      if (n && starts.length <= 16) {
        fr.root.appendChild(svgEl('text', { x: fr.L + slot * i + slot / 2, y: fr.T + plotH - h - 4, 'text-anchor': 'middle',
          'class': 'val' }, n));
      }
    });
    xLabels(fr, starts, step, slot, fr.L);
    box.appendChild(fr.root);
    $('volume-note').textContent = note;
  }

  // The NPS per period as points joined by a line on a −100…100 axis.
  function drawNps(series, step) {
    var box = $('nps-chart');
    clear(box);
    var shown = series.slice(-MAX_BUCKETS);
    var label = 'NPS per ' + step + ': ' + shown.map(function (s) {
      return periodLabel(s.start, step, true) + ' ' + fmt(s.nps) + ' from ' + plural(s.responses, 'score');
    }).join(', ') + '.';
    var fr = chartFrame(box, label, 220);
    var plotW = fr.W - fr.L - fr.R, plotH = fr.H - fr.T - fr.B;
    function y(v) { return fr.T + (100 - v) / 200 * plotH; }
    [100, 50, 0, -50, -100].forEach(function (v) {
      fr.root.appendChild(svgEl('line', { x1: fr.L, x2: fr.W - fr.R, y1: y(v), y2: y(v), 'class': v === 0 ? 'base' : 'grid' }));
      fr.root.appendChild(svgEl('text', { x: fr.L - 6, y: y(v) + 4, 'text-anchor': 'end', 'class': 'tick' }, v));
    });
    var slot = plotW / Math.max(shown.length, 1);
    var pts = [];
    shown.forEach(function (s, i) {
      if (s.nps !== null) pts.push([fr.L + slot * i + slot / 2, y(s.nps), s]);
    });
    if (pts.length > 1) {
      fr.root.appendChild(svgEl('polyline', { points: pts.map(function (p) { return p[0] + ',' + p[1]; }).join(' '),
        'class': 'line' }));
    }
    pts.forEach(function (p) {
      var s = p[2];
      var dot = svgEl('circle', { cx: p[0], cy: p[1], r: 5, 'class': 'point ' + (s.nps < 0 ? 'neg' : 'pos') });
      dot.appendChild(svgEl('title', {}, periodLabel(s.start, step, true) + ': NPS ' + fmt(s.nps) + ' (' +
        plural(s.responses, 'score') + ')'));
      fr.root.appendChild(dot);
      if (pts.length <= 16) {
        fr.root.appendChild(svgEl('text', { x: p[0], y: p[1] + (s.nps < 0 ? 18 : -10), 'text-anchor': 'middle',
          'class': 'val' }, fmt(s.nps)));
      }
    });
    xLabels(fr, shown.map(function (s) { return s.start; }), step, slot, fr.L);
    box.appendChild(fr.root);
  }

  // ---- summary panels ---------------------------------------------------------------------------

  // Horizontal bars: rows of {label, count, percent, cls}, in the order given.
  function barList(rows, name) {
    var ol = el('ol', null, 'hbars');
    ol.setAttribute('aria-label', name);
    var max = Math.max.apply(null, rows.map(function (r) { return r.percent; }).concat([0.0001]));
    rows.forEach(function (r, i) {
      var li = el('li', null, i === 0 && r.count > 0 ? 'lead' : '');
      var head = el('div', null, 'hbar-head');
      head.appendChild(el('span', r.label, 'opt'));
      var val = el('span', null, 'val');
      val.appendChild(el('strong', r.count));
      val.appendChild(document.createTextNode(' · ' + pct(r.percent)));
      head.appendChild(val);
      li.appendChild(head);
      var track = el('div', null, 'track');
      track.setAttribute('aria-hidden', 'true');
      var fill = el('div', null, 'fill' + (r.cls ? ' ' + r.cls : ''));
      fill.style.width = (r.percent / max * 100).toFixed(2) + '%';
      track.appendChild(fill);
      li.appendChild(track);
      ol.appendChild(li);
    });
    return ol;
  }

  // Columns of a 0–10 or rating distribution, coloured by NPS group for nps.
  function columns(q) {
    var dist = q.distribution || [];
    var max = Math.max.apply(null, dist.map(function (d) { return d.count; }).concat([1]));
    var label = q.label + ': ' + dist.map(function (d) { return d.value + ': ' + d.count; }).join(', ') + '.';
    var W = 440, H = 170, L = 8, R = 8, T = 18, B = 24;
    var root = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': label, 'class': 'chart-svg dist' });
    var slot = (W - L - R) / Math.max(dist.length, 1);
    var plotH = H - T - B;
    root.appendChild(svgEl('line', { x1: L, x2: W - R, y1: T + plotH, y2: T + plotH, 'class': 'base' }));
    dist.forEach(function (d, i) {
      var h = Math.max(d.count ? 2 : 0, d.count / max * plotH);
      var cls = q.type === 'nps' ? (d.value >= 9 ? 'pro' : d.value >= 7 ? 'pas' : 'det') : 'vol';
      var x = L + slot * i + slot * 0.12;
      var rect = svgEl('rect', { x: x, y: T + plotH - h, width: slot * 0.76, height: h, rx: 2, 'class': 'bar ' + cls });
      rect.appendChild(svgEl('title', {}, d.value + ': ' + plural(d.count, 'answer') + ' (' + pct(d.percent) + ')'));
      root.appendChild(rect);
      root.appendChild(svgEl('text', { x: L + slot * i + slot / 2, y: T + plotH - h - 4, 'text-anchor': 'middle', 'class': 'val' },
        d.count));
      root.appendChild(svgEl('text', { x: L + slot * i + slot / 2, y: H - 6, 'text-anchor': 'middle', 'class': 'tick' }, d.value));
    });
    return root;
  }

  // The promoters / passives / detractors split as one stacked bar with a legend.
  function npsSplit(q) {
    var wrap = el('div', null, 'split');
    var bar = el('div', null, 'stack');
    bar.setAttribute('aria-hidden', 'true');
    var legend = el('ul', null, 'legend');
    [['detractors', 'det', 'Detractors 0–6'], ['passives', 'pas', 'Passives 7–8'], ['promoters', 'pro', 'Promoters 9–10']]
      .forEach(function (g) {
        var part = q[g[0]] || { count: 0, percent: 0 };
        var seg = el('div', null, 'seg ' + g[1]);
        seg.style.width = part.percent + '%';
        bar.appendChild(seg);
        var li = el('li', null, 'key ' + g[1]);
        li.appendChild(el('span', null, 'swatch'));
        li.appendChild(el('span', g[2] + ': '));
        li.appendChild(el('strong', part.count));
        li.appendChild(document.createTextNode(' (' + pct(part.percent) + ')'));
        legend.appendChild(li);
      });
    wrap.appendChild(bar);
    wrap.appendChild(legend);
    return wrap;
  }

  var CONTACT_WORDS = { email: 'left an email address', phone: 'left a phone number', number: 'gave a number',
    date: 'gave a date' };

  // The panel of one question of the summary.
  function questionPanel(q, total) {
    var card = el('section', null, 'card panel q-' + q.type);
    card.id = 'q-' + q.id;
    var hid = 'q-' + q.id + '-h';
    card.setAttribute('aria-labelledby', hid);
    var head = el('div', null, 'panel-head');
    var h = el('h4', q.label || q.id);
    h.id = hid;
    head.appendChild(h);
    head.appendChild(el('span', q.type.replace('_', ' '), 'badge'));
    card.appendChild(head);
    var meta = el('p', null, 'answered small');
    meta.appendChild(el('strong', q.answered));
    meta.appendChild(document.createTextNode(' of ' + plural(total, 'answer') + ' answered this' +
      (total ? ' (' + pct(q.answered / total * 100) + ')' : '')));
    card.appendChild(meta);
    if (!q.answered && q.type !== 'text' && q.type !== 'long_text') {
      card.appendChild(el('p', 'Nobody answered this question under these filters.', 'muted'));
      return card;
    }
    if (q.options) {
      card.appendChild(barList(q.options.map(function (o) {
        return { label: o.listed === false ? o.value + ' (no longer an option)' : o.value, count: o.count, percent: o.percent };
      }), q.label || q.id));
      if (q.type === 'multi_choice') card.appendChild(el('p', 'Several could be chosen, so the shares add up to more than 100 %.', 'muted small'));
    } else if (q.distribution) {
      var big = el('div', null, 'bignums');
      if (q.type === 'nps') {
        var n = el('div', null, 'bignum ' + (q.nps < 0 ? 'neg' : 'pos'));
        n.appendChild(el('span', fmt(q.nps), 'num-big'));
        n.appendChild(el('span', 'NPS', 'num-label'));
        big.appendChild(n);
      }
      var m = el('div', null, 'bignum');
      m.appendChild(el('span', q.mean === null ? '—' : q.mean.toFixed(2), 'num-big'));
      m.appendChild(el('span', q.type === 'rating' ? 'mean of ' + q.distribution.length : 'mean score', 'num-label'));
      big.appendChild(m);
      card.appendChild(big);
      if (q.type === 'nps') card.appendChild(npsSplit(q));
      var chart = el('div', null, 'chart');
      chart.appendChild(columns(q));
      card.appendChild(chart);
    } else if (q.type === 'consent') {
      card.appendChild(barList([{ label: 'Gave consent', count: q.given, percent: q.answered ? q.given / q.answered * 100 : 0 }],
        q.label || q.id));
    } else if (q.type === 'text' || q.type === 'long_text') {
      card.appendChild(textSearch(q));
    } else {
      card.appendChild(el('p', plural(q.answered, 'visitor') + ' ' + (CONTACT_WORDS[q.type] || 'answered') +
        '. The values are in the answers below and in the exports, not on this overview.', 'muted small'));
    }
    return card;
  }

  // A text question's answers, newest first, searchable (the listing's q=), with their tags.
  function textSearch(q) {
    var box = el('div', null, 'texts');
    var form = el('form', null, 'search');
    form.noValidate = true;
    var id = 'search-' + q.id;
    var label = el('label', 'Search these answers');
    label.htmlFor = id;
    var input = el('input');
    input.id = id;
    input.type = 'search';
    input.maxLength = 200;
    input.autocomplete = 'off';
    var go = el('button', 'Search', 'secondary');
    go.type = 'submit';
    form.appendChild(label);
    var row = el('div', null, 'search-row');
    row.appendChild(input);
    row.appendChild(go);
    form.appendChild(row);
    box.appendChild(form);
    var count = el('p', null, 'muted small');
    count.setAttribute('aria-live', 'polite');
    box.appendChild(count);
    var list = el('ul', null, 'quotes');
    list.setAttribute('aria-label', 'Answers to ' + (q.label || q.id));
    box.appendChild(list);
    var more = button('Show more', 'secondary');
    more.hidden = true;
    box.appendChild(more);
    var cursor = null, shown = 0, gen = generation, query = '';

    // Reads listing pages until TEXTS_PAGE answers with this question are found or the end.
    function fetchSome(found) {
      var extra = 'order=newest&limit=25' + (query ? '&q=' + encodeURIComponent(query) : '') +
        (cursor ? '&after=' + encodeURIComponent(cursor) : '');
      return api(withQuery(formPath('/responses'), extra)).then(function (page) {
        if (gen !== generation) return found;
        cursor = page.next;
        page.responses.forEach(function (r) {
          var v = r.answers[q.id];
          if (typeof v !== 'string' || !v) return;
          if (query && v.toLowerCase().indexOf(query.toLowerCase()) < 0) return;
          found.push(r);
        });
        return found.length >= TEXTS_PAGE || !cursor ? found : fetchSome(found);
      });
    }
    function load(reset) {
      if (reset) { cursor = null; shown = 0; clear(list); }
      more.disabled = true;
      list.setAttribute('aria-busy', 'true');
      return fetchSome([]).then(function (rows) {
        if (gen !== generation) return;
        rows.forEach(function (r) {
          var li = el('li');
          li.appendChild(el('p', r.answers[q.id], 'quote'));
          var foot = el('p', null, 'quote-meta');
          foot.appendChild(timeEl(r.created_at));
          chips(r).forEach(function (c) { foot.appendChild(c); });
          li.appendChild(foot);
          list.appendChild(li);
        });
        shown += rows.length;
        more.hidden = !cursor;
        more.disabled = false;
        list.removeAttribute('aria-busy');
        count.textContent = shown ? (query ? 'Answers containing “' + query + '”: ' : 'Newest answers: ') + shown +
          (cursor ? ' shown so far' : '') : (query ? 'No answer contains “' + query + '”.' : 'Nobody answered this question under these filters.');
      }).catch(failed);
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      query = input.value.trim();
      load(true);
    });
    more.addEventListener('click', function () { load(false); });
    load(true);
    return box;
  }

  // Chips for an answer's score category, variant and tags (the category tag only once).
  function chips(r) {
    var out = [];
    var cat = r.score && r.score.category;
    if (cat) out.push(el('span', cat, 'chip cat-' + (/^(promoter|passive|detractor)$/.test(cat) ? cat : 'other')));
    if (r.meta && typeof r.meta.variant === 'string') out.push(el('span', 'variant ' + r.meta.variant, 'chip'));
    (r.tags || []).forEach(function (t) { if (t !== cat) out.push(el('span', t, 'chip tag')); });
    return out;
  }

  function renderKpis(s, nps) {
    var box = $('kpis');
    clear(box);
    function kpi(value, label, cls) {
      var d = el('div', null, 'kpi' + (cls ? ' ' + cls : ''));
      d.appendChild(el('span', value, 'num-big'));
      d.appendChild(el('span', label, 'num-label'));
      box.appendChild(d);
    }
    kpi(s.answers.toLocaleString(), filtersActive() ? 'answers match the filters' : 'answers');
    var npsQ = s.questions.filter(function (q) { return q.type === 'nps'; })[0];
    if (npsQ && npsQ.nps !== null) kpi(fmt(npsQ.nps), 'NPS (' + plural(npsQ.answered, 'score') + ')', npsQ.nps < 0 ? 'neg' : 'pos');
    var total = forms[s.form] ? forms[s.form].responses : null;
    if (total !== null && filtersActive()) kpi(total.toLocaleString(), 'answers in all');
    if (nps && nps.margin_of_error !== null && npsQ) kpi('± ' + fmt(nps.margin_of_error), 'NPS margin (95 %)');
  }

  function renderVariants(v) {
    var box = $('variants');
    box.hidden = !v;
    if (!v) return;
    var body = $('variants-table').tBodies[0];
    clear(body);
    var anyViews = false;
    (v.variants || []).forEach(function (x) {
      var tr = el('tr');
      var th = el('th', x.id);
      th.setAttribute('scope', 'row');
      tr.appendChild(th);
      var views = x.views === null || x.views === undefined;
      anyViews = anyViews || !views;
      tr.appendChild(el('td', views ? 'not counted' : x.views.toLocaleString(), views ? 'num muted' : 'num'));
      tr.appendChild(el('td', x.answers.toLocaleString(), 'num'));
      var c = x.completion;
      tr.appendChild(el('td', c === null || c === undefined ? '—' : pct(c <= 1 ? c * 100 : c), 'num'));
      body.appendChild(tr);
    });
    var p = $('variants-verdict');
    clear(p);
    p.className = 'verdict';
    if (v.significant && v.verdict) {
      p.className = 'verdict significant';
      p.appendChild(el('strong', 'A real difference. '));
      p.appendChild(document.createTextNode(v.verdict));
    } else if (v.p_value !== null && v.p_value !== undefined) {
      p.textContent = 'No meaningful difference between the variants yet: a ' + (v.test || 'statistical test') +
        ' gives p = ' + Number(v.p_value).toPrecision(2) + ' (a difference counts when p < 0.05).';
    } else {
      p.textContent = 'Too few answers to compare the variants yet' + (v.test ? ' (' + v.test + ' needs at least 5 expected per cell)' : '') + '.';
    }
    if (!anyViews) p.appendChild(el('span', ' Views keep only their day, variant and device, so under a page, tag, category, attribute or text filter they are not counted and completion cannot be computed.', 'muted'));
  }

  // The empty state: what to do to get answers, or how to widen the filters.
  function renderEmpty(s) {
    var box = $('results-empty');
    clear(box);
    box.hidden = s.answers > 0;
    $('charts').hidden = s.answers === 0;
    $('questions').hidden = s.answers === 0;
    $('questions-h').hidden = s.answers === 0;
    if (s.answers > 0) return;
    var total = forms[s.form] ? forms[s.form].responses : 0;
    if (total > 0 && filtersActive()) {
      box.appendChild(el('p', 'No answers match these filters (' + plural(total, 'answer') + ' in all).', 'strong'));
      var b = button('Clear filters', 'secondary');
      b.addEventListener('click', clearFilters);
      box.appendChild(b);
      return;
    }
    box.appendChild(el('p', 'No answers yet.', 'strong'));
    box.appendChild(el('p', 'Embed the widget on your site by pasting this line before </body>; the survey shows on the pages its trigger names:'));
    var code = el('pre', embedLine || '<script src="' + location.origin + '/static/earshot.js" async></script>', 'code');
    code.tabIndex = 0;
    box.appendChild(code);
    if (!embedLine) {
      fetch('/embed', { cache: 'no-store', credentials: 'omit' }).then(function (res) { return res.ok ? res.text() : null; })
        .then(function (text) { if (text) { embedLine = text.trim(); code.textContent = embedLine; } }).catch(function () {});
    }
    var p = el('p', 'Or share the hosted page: ');
    var a = el('a', location.origin + '/f/' + s.form);
    a.href = '/f/' + encodeURIComponent(s.form);
    p.appendChild(a);
    box.appendChild(p);
  }

  // ---- loading the results of the chosen form --------------------------------------------------

  var lastSummary = null;

  function loadResults() {
    var form = $('form-select').value;
    var gen = ++generation;
    if (!form) return Promise.resolve();
    sessionStorage.setItem(KEY + ':form', form);
    writeHash();
    $('filter-error').hidden = true;
    $('results').setAttribute('aria-busy', 'true');
    $('results-h').textContent = 'Results: ' + (forms[form] && forms[form].title ? forms[form].title : form);
    status('Loading the results of ' + form + '…');
    var f = currentFilters();
    var t = rangeTimes(f);
    var npsQuery = [t[0] ? 'since=' + encodeURIComponent(t[0].toISOString()) : '',
      t[1] ? 'until=' + encodeURIComponent(t[1].toISOString()) : '', 'interval=' + interval].filter(Boolean).join('&');
    // The NPS trend is asked for only when the form has a 0-10 question (the plugin scores those).
    var summary = api(withQuery(formPath('/summary')));
    var nps = summary.then(function (s) {
      if (!s.questions.some(function (q) { return q.type === 'nps'; })) return null;
      return api(formPath('/nps?' + npsQuery)).catch(function (err) {
        if (err.status === 404 && err.code === 'not_enabled') return null;
        if (err.status === 400) return null;  // an empty custom range: the summary says what is wrong
        throw err;
      });
    });
    return Promise.all([summary, nps, api(withQuery(formPath('/timeline'), 'interval=' + interval))]).then(function (r) {
      if (gen !== generation) return;
      var s = r[0];
      lastSummary = s;
      updateVariantChoices(s.variants);
      renderKpis(s, r[1]);
      renderEmpty(s);
      var hasNps = r[1] && r[1].series && r[1].series.length > 0;
      $('nps-block').hidden = !hasNps;   // first: the charts' widths depend on it
      $('volume-h').textContent = 'Answers per ' + interval;
      drawVolume(r[2].series, interval, t[0], t[1]);
      if (hasNps) {
        $('nps-h').textContent = 'NPS per ' + interval;
        $('nps-summary').textContent = 'NPS ' + fmt(r[1].nps) + ' from ' + plural(r[1].responses, 'scored answer') + ': ' +
          plural(r[1].promoters, 'promoter') + ', ' + plural(r[1].passives, 'passive') + ', ' + plural(r[1].detractors, 'detractor') +
          (r[1].margin_of_error !== null ? ' (± ' + fmt(r[1].margin_of_error) + ' at 95 %)' : '') + '.';
        drawNps(r[1].series, interval);
        var other = Object.keys(f).some(function (k) { return ['range', 'from', 'to'].indexOf(k) < 0; });
        $('nps-note').textContent = other ? 'The trend follows the date range only; the other filters apply to the panels below.' : '';
      } else {
        clear($('nps-chart'));
      }
      var qs = $('questions');
      clear(qs);
      s.questions.forEach(function (q) { qs.appendChild(questionPanel(q, s.answers)); });
      renderVariants(s.variants);
      $('results').removeAttribute('aria-busy');
      return loadAnswers(true, gen);
    }).then(function () {
      if (gen === generation) status('Showing ' + plural(lastSummary.answers, 'answer') + ' of ' + form + '.');
    }).catch(function (err) {
      $('results').removeAttribute('aria-busy');
      if (err && err.status === 400 && err.code === 'invalid_parameter') {
        var e = $('filter-error');
        e.textContent = err.message;
        e.hidden = false;
        var field = FIELDS[err.parameter === 'since' || err.parameter === 'until' ? 'from' : err.parameter];
        if (field) $(field).focus();
        status('The filters need a fix.', true);
        return;
      }
      throw err;
    });
  }

  function updateVariantChoices(v) {
    var sel = $('f-variant');
    var keep = sel.value;
    clear(sel);
    var any = el('option', 'Any');
    any.value = '';
    sel.appendChild(any);
    var ids = v ? v.variants.map(function (x) { return x.id; }) : [];
    if (keep && ids.indexOf(keep) < 0) ids.push(keep);
    ids.forEach(function (id) {
      var o = el('option', id);
      o.value = id;
      sel.appendChild(o);
    });
    sel.value = keep;
    sel.disabled = ids.length === 0;
  }

  function clearFilters() {
    setFields({});
    loadResults().catch(failed);
    $('f-range').focus();
  }

  // ---- all answers ------------------------------------------------------------------------------

  var answersCursor = null, answersShown = 0, labels = {}, types = {};
  var PRIVATE = { email: true, phone: true };   // kept off the one-line gist: shown in the details only

  function loadAnswers(reset, gen) {
    if (reset) {
      answersCursor = null;
      answersShown = 0;
      clear($('answers-list'));
      labels = {};
      types = {};
      (lastSummary ? lastSummary.questions : []).forEach(function (q) { labels[q.id] = q.label || q.id; types[q.id] = q.type; });
    }
    var more = $('answers-more');
    more.disabled = true;
    $('answers-list').setAttribute('aria-busy', 'true');
    var extra = 'order=newest&limit=' + ANSWERS_PAGE + (answersCursor ? '&after=' + encodeURIComponent(answersCursor) : '');
    return api(withQuery(formPath('/responses'), extra)).then(function (page) {
      if (gen !== undefined && gen !== generation) return;
      var list = $('answers-list');
      var firstNew = null;
      page.responses.forEach(function (r) {
        var li = answerItem(r);
        if (!firstNew) firstNew = li;
        list.appendChild(li);
      });
      answersShown += page.responses.length;
      answersCursor = page.next;
      more.hidden = !page.next;
      more.disabled = false;
      list.removeAttribute('aria-busy');
      var total = lastSummary ? lastSummary.answers : answersShown;
      $('answers-empty').hidden = answersShown > 0;
      $('answers-count').textContent = answersShown ? 'Newest first: ' + answersShown + ' of ' + plural(total, 'answer') + ' shown' +
        (page.next ? '.' : ' — that is all of them.') : '';
      return firstNew;
    });
  }

  // One answer: when, a one-line gist, chips, and a button that unfolds everything about it.
  function answerItem(r) {
    var li = el('li', null, 'answer');
    li.id = 'answer-' + r.id;
    var head = el('div', null, 'answer-head');
    head.appendChild(timeEl(r.created_at));
    chips(r).forEach(function (c) { head.appendChild(c); });
    li.appendChild(head);
    var gist = el('p', null, 'gist');
    var keys = Object.keys(r.answers || {}).filter(function (k) { return !PRIVATE[types[k]]; });
    keys.slice(0, 3).forEach(function (k, i) {
      if (i) gist.appendChild(document.createTextNode(' · '));
      gist.appendChild(el('span', (labels[k] || k) + ': ', 'muted'));
      var v = valueText(r.answers[k]);
      gist.appendChild(el('span', v.length > 140 ? v.slice(0, 140) + '…' : v));
    });
    if (keys.length > 3) gist.appendChild(el('span', ' +' + (keys.length - 3) + ' more', 'muted'));
    li.appendChild(gist);
    var toggle = button('Show everything', 'link');
    var panelId = 'detail-' + r.id;
    toggle.setAttribute('aria-expanded', 'false');
    toggle.setAttribute('aria-controls', panelId);
    var panel = el('div', null, 'detail');
    panel.id = panelId;
    panel.hidden = true;
    toggle.addEventListener('click', function () {
      var open = toggle.getAttribute('aria-expanded') === 'true';
      toggle.setAttribute('aria-expanded', String(!open));
      toggle.textContent = open ? 'Show everything' : 'Hide details';
      panel.hidden = open;
      if (!open && !panel.firstChild) loadDetail(r, panel);
    });
    head.appendChild(toggle);
    li.appendChild(panel);
    return li;
  }

  function subhead(text) { return el('h3', text, 'detail-h'); }

  function loadDetail(r, panel) {
    panel.appendChild(el('p', 'Loading…', 'muted'));
    panel.setAttribute('aria-busy', 'true');
    return api(formPath('/responses/' + encodeURIComponent(r.id))).then(function (d) {
      clear(panel);
      panel.removeAttribute('aria-busy');
      var resp = d.response;
      panel.appendChild(subhead('Answers'));
      panel.appendChild(answersList(resp.answers, labels));
      if (resp.score) {
        panel.appendChild(subhead('Score'));
        var sc = {};
        Object.keys(resp.score).forEach(function (k) { sc[k] = resp.score[k]; });
        panel.appendChild(answersList(sc));
      }
      panel.appendChild(subhead('Tags'));
      if ((resp.tags || []).length) {
        var tags = el('p');
        resp.tags.forEach(function (t) { tags.appendChild(el('span', t, 'chip tag')); });
        panel.appendChild(tags);
      } else panel.appendChild(el('p', 'No tags.', 'muted'));
      panel.appendChild(subhead('Meta'));
      var meta = {};
      Object.keys(resp.meta || {}).forEach(function (k) { meta[k] = resp.meta[k]; });
      meta['answer id'] = resp.id;
      if (resp.confirmed !== undefined) meta.confirmed = resp.confirmed;
      panel.appendChild(answersList(meta));
      if (d.contacts.length) {
        panel.appendChild(subhead('Contact'));
        var cp = el('p');
        d.contacts.forEach(function (c, i) {
          if (i) cp.appendChild(document.createTextNode(' · '));
          var a = el('a', 'contact card of ' + c.key);
          a.href = '#contact/' + encodeURIComponent(c.key);
          cp.appendChild(a);
        });
        panel.appendChild(cp);
      }
      panel.appendChild(subhead('Offers'));
      if (d.offers.length) {
        var ul = el('ul');
        d.offers.forEach(function (o) { ul.appendChild(el('li', o.text + (o.code ? ' — code ' + o.code : ''))); });
        panel.appendChild(ul);
      } else panel.appendChild(el('p', 'No offer was made.', 'muted'));
      panel.appendChild(subhead('Deliveries'));
      if (d.deliveries.length) {
        var dl = el('ul', null, 'mini-deliveries');
        d.deliveries.forEach(function (x) { dl.appendChild(deliveryLine(x, function () { panelReload(r, panel); })); });
        panel.appendChild(dl);
      } else panel.appendChild(el('p', 'Nothing was sent for this answer.', 'muted'));
      panel.appendChild(subhead('Follow-up'));
      if (d.inbox) {
        var it = d.inbox;
        var p = el('p');
        p.appendChild(el('span', it.state === 'done' ? 'done' : it.overdue ? 'overdue' : 'open',
          'chip ' + (it.state === 'done' ? 'st-delivered' : it.overdue ? 'st-dead' : 'st-pending')));
        p.appendChild(document.createTextNode(' ' + (it.rule || '') + ' · due '));
        p.appendChild(timeEl(it.due_at));
        if (it.assignee) p.appendChild(document.createTextNode(' · ' + it.assignee));
        p.appendChild(document.createTextNode(' · '));
        var a = el('a', 'open in the inbox');
        a.href = '#inbox/' + encodeURIComponent(it.id);
        p.appendChild(a);
        panel.appendChild(p);
      } else panel.appendChild(el('p', 'No follow-up item.', 'muted'));
    }).catch(function (err) {
      clear(panel);
      panel.removeAttribute('aria-busy');
      panel.appendChild(el('p', 'Could not load this answer: ' + err.message, 'error'));
      if (err.status === 401) failed(err);
    });
  }

  function panelReload(r, panel) {
    clear(panel);
    loadDetail(r, panel);
  }

  // ---- complaints and deliveries ----------------------------------------------------------------

  var deliveriesCursor = null, deliveries = {};   // id -> row, recent ones and every undelivered one

  function stateChip(state) {
    var words = { pending: 'queued', failed: 'retrying', dead: 'dead', delivered: 'delivered' };
    return el('span', words[state] || state, 'chip st-' + state);
  }

  // One delivery as a line: state, type, destination, when, attempts, error, Retry when dead.
  function deliveryLine(d, after) {
    var li = el('li', null, 'delivery st-row-' + d.state);
    var head = el('div', null, 'delivery-head');
    head.appendChild(stateChip(d.state));
    head.appendChild(el('strong', d.type || 'delivery'));
    head.appendChild(document.createTextNode(' to ' + d.destination + ' · '));
    head.appendChild(timeEl(d.state === 'delivered' ? d.delivered_at : d.created_at));
    head.appendChild(el('span', ' · ' + plural(d.attempts, 'attempt'), 'muted'));
    li.appendChild(head);
    var doc = d.document || {};
    var resp = doc.response || {};
    var form = doc.form || resp.form;
    if (form || resp.answers) {
      var what = el('p', null, 'small');
      if (form) what.appendChild(el('span', 'Answer to ' + (titles[form] || form) + ': ', 'muted'));
      var keys = Object.keys(resp.answers || {});
      what.appendChild(el('span', keys.slice(0, 2).map(function (k) {
        var v = valueText(resp.answers[k]);
        return (labels[k] || k) + ': ' + (v.length > 100 ? v.slice(0, 100) + '…' : v);
      }).join(' · ')));
      li.appendChild(what);
    }
    if (d.last_error && d.state !== 'delivered') li.appendChild(el('p', d.last_error, 'error-text small'));
    if (d.state === 'dead') {
      var b = button('Retry', 'secondary retry');
      b.setAttribute('aria-label', 'Retry delivery ' + d.id);
      b.addEventListener('click', function () { retry(d.id, b, after); });
      li.appendChild(b);
    }
    return li;
  }

  function renderDeliveries() {
    var rows = Object.keys(deliveries).map(function (k) { return deliveries[k]; });
    var groups = {};
    rows.forEach(function (d) { (groups[d.destination] = groups[d.destination] || []).push(d); });
    var box = $('deliveries-groups');
    clear(box);
    $('deliveries-empty').hidden = rows.length > 0;
    var c = $('deliveries-counts');
    clear(c);
    var n = { pending: 0, failed: 0, dead: 0, delivered: 0 };
    rows.forEach(function (d) { n[d.state] = (n[d.state] || 0) + 1; });
    if (rows.length) {
      c.appendChild(el('span', n.dead + ' dead', n.dead ? 'late' : ''));
      c.appendChild(el('span', (n.pending + n.failed) + ' waiting'));
      c.appendChild(el('span', n.delivered + ' delivered recently'));
    }
    Object.keys(groups).sort().forEach(function (dest) {
      var list = groups[dest].sort(function (a, b) {
        var order = { dead: 0, failed: 1, pending: 2, delivered: 3 };
        return (order[a.state] - order[b.state]) || (a.created_at < b.created_at ? 1 : -1);
      });
      var card = el('section', null, 'card panel');
      var hid = 'dest-' + dest.replace(/[^A-Za-z0-9_-]/g, '_') + '-h';
      card.setAttribute('aria-labelledby', hid);
      var head = el('div', null, 'panel-head');
      var h = el('h3', dest);
      h.id = hid;
      head.appendChild(h);
      var dead = list.filter(function (d) { return d.state === 'dead'; }).length;
      head.appendChild(el('span', plural(list.length, 'delivery', 'deliveries') + (dead ? ', ' + dead + ' dead' : ''), 'muted small'));
      card.appendChild(head);
      // Every one not delivered (dead ones with Retry), then the latest few that were.
      var ul = el('ul', null, 'delivery-list');
      var done = 0, hidden = 0;
      list.forEach(function (d) {
        if (d.state === 'delivered' && ++done > RECENT_DELIVERED) { hidden++; return; }
        ul.appendChild(deliveryLine(d, loadDeliveries));
      });
      card.appendChild(ul);
      if (hidden) card.appendChild(el('p', hidden + ' older delivered ' + (hidden === 1 ? 'one is' : 'ones are') + ' not listed.', 'muted small'));
      box.appendChild(card);
    });
  }

  // The newest deliveries of every destination and type, plus every one not delivered yet.
  function loadDeliveries(more) {
    if (!more) { deliveries = {}; deliveriesCursor = null; }
    var recent = api('/api/v1/deliveries?order=newest&limit=' + DELIVERIES_PAGE +
      (deliveriesCursor ? '&after=' + encodeURIComponent(deliveriesCursor) : ''));
    var open = more ? [] : ['dead', 'failed', 'pending'].map(function (s) {
      return api('/api/v1/deliveries?order=newest&limit=200&state=' + s);
    });
    return Promise.all([recent].concat(open)).then(function (pages) {
      deliveriesCursor = pages[0].next;
      pages.forEach(function (p) { p.deliveries.forEach(function (d) { deliveries[d.id] = d; }); });
      $('deliveries-more').hidden = !deliveriesCursor;
      renderDeliveries();
    });
  }

  function retry(id, b, after) {
    b.disabled = true;
    api('/api/v1/deliveries/' + encodeURIComponent(id) + '/retry', 'POST').then(function () {
      status('Delivery ' + id + ' is queued again.');
      return after ? after() : loadDeliveries();
    }).catch(function (err) {
      b.disabled = false;
      failed(err);
    });
  }

  // ---- export -----------------------------------------------------------------------------------

  // Downloads the filtered export with the token as a header: fetch → Blob → a temporary link.
  function exportAs(format, b) {
    var form = $('form-select').value;
    b.disabled = true;
    status('Preparing the ' + format.toUpperCase() + ' download…');
    fetch(withQuery(formPath('/export'), 'format=' + format), {
      cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
      headers: { Authorization: 'Bearer ' + token }
    }).then(function (res) {
      if (!res.ok) {
        return res.json().catch(function () { return null; }).then(function (body) {
          var err = new Error(body && body.message ? body.message : 'HTTP ' + res.status);
          err.status = res.status;
          throw err;
        });
      }
      var cd = res.headers.get('Content-Disposition') || '';
      var m = /filename="([^"]+)"/.exec(cd);
      var name = m ? m[1] : form + '.' + format;
      return res.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var a = document.createElement('a');
        a.href = url;
        a.download = name;
        a.hidden = true;
        document.body.appendChild(a);
        a.click();
        document.body.removeChild(a);
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
        status('Downloaded ' + name + ' (' + Math.max(1, Math.round(blob.size / 1024)) + ' KB, ' +
          (filtersActive() ? 'the filtered answers' : 'every answer') + ').');
      });
    }).catch(function (err) {
      if (err.status === 401) failed(err);
      else status('The download failed: ' + err.message, true);
    }).then(function () { b.disabled = false; });
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

  // A long inbox shows its INBOX_SHOWN most urgent items until "Show all" is pressed.
  var INBOX_SHOWN = 5, inboxExpanded = false;
  function showInboxItems() {
    var n = $('inbox-list').children.length;
    var collapsed = !inboxExpanded && n > INBOX_SHOWN;
    $('inbox-list').classList.toggle('collapsed', collapsed);
    var b = $('inbox-all');
    b.hidden = n <= INBOX_SHOWN;
    b.setAttribute('aria-expanded', String(!collapsed));
    b.textContent = collapsed ? 'Show all ' + n + ' items' : 'Show only the ' + INBOX_SHOWN + ' most urgent';
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
      showInboxItems();
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
      $('overview').hidden = true;
      $('contact-h').focus();
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
    $('overview').hidden = false;
    var m = /^#inbox\/(.+)$/.exec(location.hash);
    var li = m && $('item-' + decodeURIComponent(m[1]));
    if (li && !li.classList.contains('target')) {
      inboxExpanded = true;
      showInboxItems();
      li.classList.add('target');
      li.scrollIntoView({ block: 'center' });
    }
  }

  function route() {
    if (!token) return;
    if (hashContact()) loadContact().catch(failed);
    else {
      focusHash();
      var view = readHash();
      if (view.form && forms[view.form] && location.hash !== lastView) {
        $('form-select').value = view.form;
        setInterval_(/^(day|week|month)$/.test(view.interval || '') ? view.interval : 'day');
        setFields(view);
        loadResults().catch(failed);
      }
    }
  }

  // ---- the whole page ---------------------------------------------------------------------------

  function loadAll() {
    status('Loading…');
    return api('/api/v1/forms').then(function (r) {
      $('signin').hidden = true;
      $('dashboard').hidden = false;
      $('signout').hidden = false;
      $('refresh').hidden = false;
      var view = readHash();
      if (view.interval && /^(day|week|month)$/.test(view.interval)) setInterval_(view.interval);
      renderForms(r.forms);
      if (view.form) setFields(view);
      return Promise.all([loadInbox(), loadResults(), loadDeliveries(), loadContact()]);
    }).catch(failed);
  }

  function setInterval_(value) {
    interval = value;
    Array.prototype.forEach.call(document.querySelectorAll('[data-interval]'), function (b) {
      b.setAttribute('aria-pressed', String(b.getAttribute('data-interval') === value));
    });
  }

  var lastView = '';

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
      setFields({});
      loadResults().catch(failed);
    });
    $('filters').addEventListener('submit', function (e) {
      e.preventDefault();
      loadResults().catch(failed);
    });
    ['f-range', 'f-category', 'f-variant', 'f-device'].forEach(function (id) {
      $(id).addEventListener('change', function () {
        showCustom();
        if ($('f-range').value === 'custom' && id === 'f-range') { $('f-from').focus(); return; }
        loadResults().catch(failed);
      });
    });
    $('f-clear').addEventListener('click', clearFilters);
    Array.prototype.forEach.call(document.querySelectorAll('[data-interval]'), function (b) {
      b.addEventListener('click', function () {
        setInterval_(b.getAttribute('data-interval'));
        loadResults().catch(failed);
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll('[data-format]'), function (b) {
      b.addEventListener('click', function () { exportAs(b.getAttribute('data-format'), b); });
    });
    $('answers-more').addEventListener('click', function () {
      loadAnswers(false).then(function (first) {
        if (first) {
          var t = first.querySelector('button');
          if (t) t.focus();
        }
      }).catch(failed);
    });
    $('deliveries-more').addEventListener('click', function () { loadDeliveries(true).catch(failed); });
    $('show-open').addEventListener('click', function () { setTab(false); });
    $('inbox-all').addEventListener('click', function () {
      inboxExpanded = !inboxExpanded;
      showInboxItems();
      if (inboxExpanded) {
        var next = $('inbox-list').children[INBOX_SHOWN];
        if (next) { next.tabIndex = -1; next.focus(); }
      }
    });
    $('show-done').addEventListener('click', function () { setTab(true); });
    $('contact-back').addEventListener('click', function (e) {
      e.preventDefault();
      history.pushState(null, '', location.pathname + (lastView || ''));
      focusHash();
      $('results-h').focus();
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
