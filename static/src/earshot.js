// earshot survey widget (docs/widget.md). This is the readable source; scripts/build-widget minifies it
// with terser into static/earshot.js, the file the server serves. ES2017 plus object spread, no dependencies.
(() => {
  'use strict';

  const win = window, doc = document, loc = location;
  const PREFIX = 'earshot:', DAY_MS = 864e5, now = Date.now;
  const previous = win.earshot; // the embed snippet's call queue, or a widget already running
  if (previous && previous.version) return;

  // Our own <script>: currentScript is null when the tag was added by another script after load.
  const script = doc.currentScript || [].find.call(doc.scripts, el => /\/static\/earshot\.js([?#]|$)/.test(el.src));
  if (!script) return;
  const base = script.src.replace(/\/static\/earshot\.js.*/, '');
  const cacheBuster = (script.src.match(/\?[^#]*/) || [''])[0]; // passed on to the stylesheet's URL

  // Built-in texts: one '|'-separated line per language, in TEXT_KEYS order.
  const TEXT_KEYS = 'close next send req bad lo hi copy'.split(' ');
  const TEXTS = {
    en: 'Close|Next|Send|Please answer this question.|Please check this answer.|Not at all likely|Extremely likely|Copy',
    sl: 'Zapri|Naprej|Pošlji|Prosimo, odgovorite na vprašanje.|Preverite ta odgovor.|Sploh ni verjetno|Zelo verjetno|Kopiraj',
    ro: 'Închide|Înainte|Trimite|Vă rugăm să răspundeți la întrebare.|Verificați acest răspuns.|Deloc probabil|Foarte probabil|Copiază',
    uk: 'Закрити|Далі|Надіслати|Будь ласка, дайте відповідь.|Перевірте цю відповідь.|Зовсім малоймовірно|Дуже ймовірно|Копіювати',
    no: 'Lukk|Neste|Send|Vennligst svar på spørsmålet.|Sjekk dette svaret.|Svært lite sannsynlig|Svært sannsynlig|Kopier',
  };
  const textLanguage = tag => {
    const code = (tag + '').slice(0, 2).toLowerCase().replace('nb', 'no');
    return TEXTS[code] ? code : 'en';
  };

  // Storage: JSON values under 'earshot:' keys. Without localStorage no survey shows by itself.
  let storage;
  try {
    storage = localStorage;
    storage.setItem(PREFIX, 1);
    storage.removeItem(PREFIX);
  } catch (e) {
    storage = null;
  }
  const stored = key => {
    try {
      return JSON.parse(storage.getItem(PREFIX + key));
    } catch (e) {}
  };
  const store = (key, value) => {
    try {
      if (value) storage.setItem(PREFIX + key, JSON.stringify(value));
      else storage.removeItem(PREFIX + key);
    } catch (e) {}
  };
  const randomHex = bytes =>
    [...crypto.getRandomValues(new Uint8Array(bytes))].map(b => (b + 256).toString(16).slice(1)).join('');

  let visitor = stored('visitor'), firstSeen = stored('first');
  if (!/^v_\w{8,64}$/.test(visitor)) store('visitor', visitor = 'v_' + randomHex(8));
  if (!(firstSeen > 0)) store('first', firstSeen = now());

  // Sampling bucket: FNV-1a of visitor id + form id, mod 100 (the same visitor always lands in the same one).
  const sampleBucket = text => {
    let hash = 2166136261;
    for (const c of text) hash = Math.imul(hash ^ c.charCodeAt(0), 16777619);
    return (hash >>> 0) % 100;
  };

  // Element builder: attributes ('on…' become listeners; null and false are left out, true is empty),
  // then the children (falsy ones other than 0 are left out).
  const h = (tag, attributes, ...children) => {
    const el = doc.createElement(tag);
    for (const name in attributes) {
      const value = attributes[name];
      if (value == null || value === false) continue;
      if (/^on/.test(name)) el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, value === true ? '' : value);
    }
    el.append(...children.filter(child => child || child === 0));
    return el;
  };

  // Page rules: '*' globs over the path; no include list means every page.
  const pageMatches = ({ pages = {} }) => {
    const matches = glob => RegExp('^' + glob.split('*')
      .map(part => part.replace(/[\\^$.+?()[\]{}|]/g, '\\$&')).join('.*') + '$').test(loc.pathname);
    const include = pages.include || [];
    return !(pages.exclude || []).some(matches) && (!include[0] || include.some(matches));
  };

  // Audience: every listed condition holds (docs/targeting.md).
  const userAgent = navigator.userAgent;
  const device = /iPad|Tablet|Android(?!.*Mobi)/i.test(userAgent) ? 'tablet'
    : /Mobi|iPhone|Android/i.test(userAgent) ? 'mobile' : 'desktop';
  const eachListed = (conditions, actual) =>
    Object.keys(conditions || {}).every(name => conditions[name].includes(actual(name)));
  const audienceHolds = (audience = {}) =>
    (!audience.device || audience.device.includes(device)) &&
    (!audience.visitor || audience.visitor == (now() - firstSeen < 18e5 ? 'new' : 'returning')) &&
    eachListed(audience.attributes, name => attributes[name] + '') &&
    eachListed(audience.query, name => new URLSearchParams(loc.search).get(name));

  // May this survey show now: page, audience, sample, recontact days, and one survey a day at most.
  const mayShow = survey => {
    const trigger = survey.trigger, time = now();
    return storage && !current && pageMatches(trigger) && audienceHolds(trigger.audience) &&
      sampleBucket(visitor + survey.id) < trigger.sample_percent &&
      time - ((stored('done') || {})[survey.id] || 0) >= trigger.recontact_days * DAY_MS &&
      time - (stored('last') || 0) >= DAY_MS;
  };
  // Answered or dismissed: the recontact days start now.
  const markDone = id => {
    const done = stored('done') || {};
    done[id] = now();
    store('done', done);
  };
  const typing = (el = doc.activeElement) => el && el.matches('input,textarea,select,[contenteditable]');

  let attributes = {}; // from identify()
  let pageSurveys; // promise of the surveys for the current path
  let path; // the path they were fetched for
  let disarms = []; // the armed triggers' undo functions
  let host, root, styled, live; // the host element, its shadow root, the stylesheet's promise, the live region
  let current = null; // the survey on screen and its state

  // Sets up one survey's trigger on this page; returns the function that disarms it.
  const arm = survey => {
    const trigger = survey.trigger, event = trigger.event, undo = [];
    const listen = (target, type, handler) => {
      target.addEventListener(type, handler, { passive: true });
      undo.push(() => target.removeEventListener(type, handler));
    };
    const later = (f, ms) => {
      const id = setTimeout(f, ms);
      undo.push(() => clearTimeout(id));
    };
    const disarm = () => undo.splice(0).forEach(f => f());
    // Wait while the visitor types, except on exit intent (they are leaving).
    const fire = () => mayShow(survey) &&
      (event != 'exit_intent' && typing() ? later(fire, 2e3) : (disarm(), open(survey)));

    if (event == 'page_view') later(fire, 0);
    if (event == 'delay') later(fire, trigger.delay_seconds * 1e3);
    if (event == 'scroll') {
      listen(win, 'scroll', () => {
        const max = doc.documentElement.scrollHeight - innerHeight;
        if (max > 0 && scrollY / max * 100 >= trigger.scroll_percent) fire();
      });
    }
    if (event == 'exit_intent') {
      later(() => {
        if (matchMedia('(hover:none) and (pointer:coarse)').matches) {
          // Touch screens: a fast scroll up near the top, or coming back to the tab.
          let lastY = scrollY, lastTime = now(), wasHidden;
          listen(win, 'scroll', () => {
            const y = scrollY, time = now();
            if (time - lastTime < 100) return;
            if (y < innerHeight && (lastY - y) / (time - lastTime) > 1) fire();
            lastY = y;
            lastTime = time;
          });
          listen(doc, 'visibilitychange', () => doc.hidden ? wasHidden = 1 : wasHidden && fire());
        } else {
          listen(doc, 'mouseout', e => !e.relatedTarget && e.clientY < 5 && e.clientX >= 0 &&
            e.clientX <= innerWidth && fire());
        }
      }, 1e3);
    }
    return disarm;
  };

  const fetchSurveys = query =>
    fetch(base + '/api/v1/surveys' + query).then(r => r.json()).then(j => j.surveys, () => []);

  // The surveys for this URL, armed again on every path change (single-page apps).
  const route = () => {
    if (loc.pathname == path) return;
    const here = path = loc.pathname;
    disarms.splice(0).forEach(disarm => disarm());
    pageSurveys = fetchSurveys('?page=' + encodeURIComponent(loc.href));
    pageSurveys.then(surveys => {
      if (here != path) return;
      surveys.forEach(s => s.trigger.event != 'manual' && mayShow(s) && disarms.push(arm(s)));
      if (disarms[0]) prepare();
    });
  };

  // The host element, its open shadow root with the live region, and the stylesheet; resolves to
  // whether the stylesheet loaded (unstyled, nothing shows).
  const prepare = () =>
    (doc.body ? Promise.resolve() : new Promise(r => doc.addEventListener('DOMContentLoaded', r))).then(() => {
      if (!host) {
        root = (host = h('div', { id: 'earshot-widget' })).attachShadow({ mode: 'open' });
        root.append(live = h('p', { class: 'sr', role: 'status' }));
        styled = new Promise(resolve => root.append(h('link', {
          rel: 'stylesheet', href: base + '/static/earshot.css' + cacheBuster,
          onload: () => resolve(1), onerror: () => resolve(0),
        })));
      }
      if (!host.isConnected) doc.body.append(host);
      return styled;
    });

  // The visitor's language among the form's own and its translations.
  const pickLocale = survey => {
    const offered = [survey.locale, ...Object.keys(survey.locales = survey.locales || {})];
    for (const wanted of [attributes.locale, script.dataset.locale, ...navigator.languages]) {
      for (const tag of offered) {
        if (wanted && (tag == wanted || tag == wanted.split('-')[0] || tag == 'nb' && /^n[ob]/.test(wanted))) return tag;
      }
    }
    return survey.locale;
  };

  // The wording variant: picked by weight the first time a visitor meets the form, then kept.
  const pickVariant = survey => {
    const variants = survey.variants, kept = stored('variant') || {};
    if (!variants) return;
    let chosen = variants.find(v => v.id == kept[survey.id]);
    if (!chosen) {
      let n = Math.random() * variants.reduce((sum, v) => sum + v.weight, 0);
      chosen = variants.find(v => (n -= v.weight) < 0) || variants[0];
      kept[survey.id] = chosen.id;
      store('variant', kept);
    }
    return chosen;
  };

  // The survey in translated or varied words. Options keep their values (the form's own texts, which
  // are what is stored); the words shown for them go in question.shown.
  const reword = (survey, words = {}) => ({
    ...survey,
    title: words.title || survey.title,
    thank_you: words.thank_you || survey.thank_you,
    questions: survey.questions.map(q => {
      const w = (words.questions || {})[q.id] || {};
      return { ...q, label: w.label || q.label, why: w.why || q.why, hint: w.hint || q.hint, shown: w.options };
    }),
  });

  // Shows a survey's dialog. asked: by the visitor (show() or a button), so focus moves into it;
  // otherwise it is only announced and focus stays on the page.
  const open = (survey, asked) => {
    if (current) return;
    const state = current = { survey };
    prepare().then(isStyled => {
      if (current != state) return;
      if (!isStyled) return current = null;
      const locale = pickLocale(survey), variant = pickVariant(survey);
      const texts = {};
      TEXTS[textLanguage(attributes.locale || script.dataset.locale || locale)].split('|')
        .forEach((text, i) => texts[TEXT_KEYS[i]] = text);
      // A translation wins over a variant: variants reword the form's own language only.
      survey = reword(survey, locale == survey.locale ? variant : survey.locales[locale]);
      Object.assign(state, {
        survey,
        questions: survey.questions,
        texts,
        locale,
        variant: variant && variant.id,
        history: [], // ids of the questions shown, in order
        answers: {},
        key: randomHex(16), // the answer's idempotency key
        returnFocus: doc.activeElement,
        asked,
        // The timing token of a survey that needs one; resolves once min_fill_seconds have passed.
        token: survey.needs_token && fetch(base + '/f/' + survey.id + '/token').then(r => r.json())
          .then(t => new Promise(resolve => setTimeout(resolve, t.min_fill_seconds * 1e3, t)), () => 0),
        startedAt: new Date().toISOString().replace(/\.\d+/, ''),
        page: loc.href,
        body: h('div'),
      });
      root.append(state.card = h('div', {
        class: 'card', role: 'dialog', 'aria-labelledby': 'es-title', lang: locale, onkeydown: onKeyDown,
      },
      h('div', { class: 'head' },
        h('h2', { id: 'es-title' }, survey.title),
        h('button', { type: 'button', class: 'x', 'aria-label': texts.close, onclick: () => close(1) }, '×')),
      survey.offer && h('p', { class: 'offer' }, survey.offer),
      state.body));
      if (!asked) live.textContent = survey.title;
      store('last', now());
      go((state.questions[0] || {}).id);
      countView(state);
    });
  };

  // One view per survey shown, for completion rates per variant (docs/http-api.md). A beacon with a
  // text/plain body needs no CORS preflight and still goes out when the page is being left.
  const countView = state => navigator.sendBeacon(base + '/api/v1/forms/' + state.survey.id + '/views',
    JSON.stringify({ meta: { page: state.page, variant: state.variant, locale: state.locale, device } }));

  // Branching (docs/forms.md): the next question after an answer, and moving to it.
  const following = (q, questions) => (questions[questions.indexOf(q) + 1] || { id: 'end' }).id;
  const nextId = (q, value, questions) => {
    for (const rule of q.next || []) if (!rule.if || holds(rule.if, value)) return rule.goto;
    return following(q, questions);
  };
  const holds = (condition, value) => {
    const answered = value !== undefined && value + '' !== '';
    const equals = x => answered && [].concat(value).some(y => y + '' == x + '');
    return 'answered' in condition ? answered == !!condition.answered
      : 'equals' in condition ? equals(condition.equals)
      : 'in' in condition ? [].concat(condition.in).some(equals)
      : typeof value == 'number' && ('lte' in condition ? value <= condition.lte : value >= condition.gte);
  };
  const question = (state, id) => state.questions.find(q => q.id == id);
  // A question already shown again means a loop: the answer is finished instead.
  const go = id => {
    const state = current, q = question(state, id);
    if (!q || state.history.includes(id)) return finish();
    state.history.push(id);
    render(q);
  };

  // Records the answer to the question on screen, or shows why it is refused.
  const step = (q, value) => {
    const state = current;
    if (!state || state.sent || state.history[state.history.length - 1] != q.id) return;
    const error = value === undefined || value === false ? q.required && 'req' : value !== value && 'bad';
    if (error) return fail(error);
    if (value === undefined) delete state.answers[q.id];
    else state.answers[q.id] = value;
    const next = nextId(q, value, state.questions);
    if (next == 'end') finish();
    else go(next);
  };
  const fail = error => {
    current.error.textContent = current.texts[error] || error;
    current.control.setAttribute('aria-invalid', 'true');
    current.control.focus();
  };

  // Draws one question, its progress hint and its button.
  const render = q => {
    const state = current, texts = state.texts, value = state.answers[q.id], type = q.type, rules = q.next || [];
    const why = q.why && h('p', { class: 'why', id: 'es-why' }, q.why);
    const describedBy = (why ? 'es-why ' : '') + 'es-err';
    const legend = h('legend', {}, q.label);
    let control, read, first;

    if (/^(nps|rating|single_choice)$/.test(type)) {
      const values = type == 'single_choice' ? q.options
        : [...Array(type == 'nps' ? 11 : q.scale || 5).keys()].map(i => i + (type != 'nps'));
      const buttons = values.map((x, i) => h('button', {
        type: 'button', 'aria-pressed': '' + (x === value), onclick: () => step(q, x),
      }, (q.shown || values)[i]));
      first = buttons[values.indexOf(value)] || buttons[0];
      // Scales have one tab stop (the chosen or first button); arrow keys move it.
      const scale = type != 'single_choice';
      const onArrow = scale && (e => {
        if (!/^Arrow/.test(e.key)) return;
        e.preventDefault();
        const to = buttons[buttons.indexOf(e.target) + (/^Arrow[RD]/.test(e.key) ? 1 : -1)];
        if (to) setTabStop(buttons, to).focus();
      });
      if (scale) setTabStop(buttons, first);
      control = h('fieldset', { 'aria-describedby': describedBy }, legend,
        h('div', { class: 'opts ' + type, onkeydown: onArrow }, ...buttons),
        type == 'nps' && h('div', { class: 'ends', 'aria-hidden': 'true' },
          h('span', {}, '0: ' + texts.lo), h('span', {}, '10: ' + texts.hi)));
      read = () => value;
    } else if (/^(multi_choice|consent)$/.test(type)) {
      const consent = type == 'consent';
      const boxes = (consent ? [q.label] : q.options).map(option => h('input', {
        type: 'checkbox', value: option, checked: consent ? value : [].concat(value).includes(option),
        'aria-describedby': consent && describedBy,
      }));
      const rows = boxes.map((box, i) => h('label', { class: 'check' }, box,
        h('span', {}, consent ? box.value : (q.shown || q.options)[i])));
      control = consent ? h('div', {}, ...rows) : h('fieldset', { 'aria-describedby': describedBy }, legend, ...rows);
      read = () => {
        const ticked = boxes.filter(box => box.checked).map(box => box.value);
        return consent ? !!ticked[0] : ticked[0] ? ticked : undefined;
      };
      first = boxes[0];
    } else {
      const long = type == 'long_text', text = long || type == 'text';
      first = h(long ? 'textarea' : 'input', {
        id: 'es-in',
        type: !long && ({ email: 'email', phone: 'tel', date: 'date', number: 'number' }[type] || 'text'),
        autocomplete: { email: 'email', phone: 'tel' }[type],
        maxlength: text && (q.max_length || 2e3),
        min: q.min, max: q.max, placeholder: q.hint, required: q.required, 'aria-describedby': describedBy,
      });
      if (value !== undefined) first.value = value;
      control = h('div', {}, h('label', { for: 'es-in' }, q.label), first);
      // NaN marks input the browser itself cannot read (a malformed email or number): refused as 'bad'.
      read = () => {
        const input = first.value, validity = first.validity;
        return validity.badInput || validity.typeMismatch ? NaN
          : !input.trim() ? undefined
          : type == 'number' ? +input
          : text ? input : input.trim();
      };
    }

    // Progress: the questions so far, plus those the known answers lead to.
    const sofar = state.history.length;
    let total = sofar, id = nextId(q, value, state.questions), later, guard = 0;
    while ((later = question(state, id)) && guard++ < 99) {
      total++;
      id = nextId(later, state.answers[later.id], state.questions);
    }
    state.error = h('p', { class: 'err', id: 'es-err', role: 'alert' });
    state.control = first;
    const moveFocus = focusMayMove(state);
    // "Next" while any rule or the order may lead to another question, else "Send".
    const more = [...rules.map(r => r.goto), rules.some(r => !r.if) || following(q, state.questions)]
      .some(to => question(state, to));
    state.body.textContent = '';
    state.body.append(h('form', { novalidate: true, onsubmit: e => { e.preventDefault(); step(q, read()); } },
      total > 1 && h('p', { class: 'prog' }, sofar + ' / ' + total),
      control, why, state.error,
      h('div', { class: 'nav' }, h('button', { type: 'submit' }, more ? texts.next : texts.send))));
    if (moveFocus) first.focus();
  };

  // Focus moves only when the visitor asked for the survey or is already inside it.
  const focusMayMove = state => state.asked || state.card.contains(root.activeElement);
  const setTabStop = (buttons, stop) => {
    buttons.forEach(b => b.tabIndex = b == stop ? 0 : -1);
    return stop;
  };
  const onKeyDown = e => {
    if (e.key == 'Escape') {
      e.stopPropagation();
      close(1);
    }
  };

  // Sends the whole answer; a 422 goes back to the first refused question.
  const finish = () => {
    const state = current;
    state.sent = 1;
    markDone(state.survey.id);
    submit(state).then(({ status, body }) => {
      if (current != state) return;
      if (status == 422) {
        state.sent = 0;
        state.key = randomHex(16); // the corrected answer is a new one
        const fields = body.fields || {}, id = state.history.find(x => fields[x]);
        if (id) {
          let x;
          while ((x = state.history.pop()) != id) delete state.answers[x];
          go(id);
        }
        fail(id ? fields[id] + '' : body.message || 'bad');
      } else if (status < 300 || retryable(status)) {
        thanks(body); // a retryable failure stays in the outbox: the visitor is done either way
      } else {
        fail(body.message || 'bad');
      }
    });
  };

  const thanks = body => {
    const state = current, texts = state.texts;
    const message = h('p', { class: 'thanks', tabindex: -1 }, body.thank_you || state.survey.thank_you);
    const moveFocus = focusMayMove(state);
    state.over = 1;
    state.body.textContent = '';
    state.body.append(message, ...(body.offers || []).map((offer, i) => {
      const code = h('input', { readonly: true, value: offer.code, 'aria-labelledby': 'es-o' + i });
      const said = h('span', { 'aria-live': 'polite' });
      return h('div', { class: 'offer' },
        h('p', { id: 'es-o' + i }, offer.text),
        h('div', {}, code, h('button', {
          type: 'button',
          onclick: () => navigator.clipboard.writeText(offer.code).then(() => said.textContent = '✓', () => code.select()),
        }, texts.copy)),
        said);
    }));
    if (moveFocus) message.focus();
  };

  // Closes the dialog. byVisitor: dismissed, so not shown again for the recontact days. Answers given
  // so far go out as a partial answer either way.
  const close = byVisitor => {
    const state = current;
    current = null;
    if (!state || !state.card) return;
    live.textContent = '';
    const moveFocus = focusMayMove(state);
    state.card.remove();
    const partial = !state.sent && !state.over && Object.keys(state.answers)[0];
    if (byVisitor || partial) markDone(state.survey.id);
    if (partial) submit(state, true);
    if (moveFocus && state.returnFocus && state.returnFocus.isConnected) state.returnFocus.focus();
  };

  // Delivery through the 'earshot:queue' outbox: [{u: URL, b: body, k: key, n: tries, t: queued, at: next try}].
  const retryable = status => !status || status == 408 || status == 429 || status > 499;
  const editQueue = edit => {
    const queue = edit(stored('queue') || []);
    store('queue', queue[0] && queue);
    return queue;
  };
  const submit = async (state, partial) => {
    const meta = Object.assign({}, attributes,
      { page: state.page, visitor, locale: state.locale, variant: state.variant, device, partial });
    const entry = {
      u: base + '/api/v1/forms/' + state.survey.id + '/responses',
      k: state.key,
      n: 0,
      t: now(),
      b: JSON.stringify({
        answers: state.answers, meta, started_at: state.startedAt, idempotency_key: state.key,
        timing_token: (await state.token || {}).token,
      }),
    };
    editQueue(queue => queue.filter(x => x.k != entry.k).concat(entry).slice(-50));
    return send(entry);
  };
  const inFlight = {};
  const send = entry => inFlight[entry.k] || (inFlight[entry.k] =
    fetch(entry.u, { method: 'POST', body: entry.b, keepalive: true })
      .then(r => r.json().catch(() => 0).then(body => ({ status: r.status, body })), () => ({ status: 0 }))
      .then(result => {
        delete inFlight[entry.k];
        const body = result.body = Object(result.body), retry = retryable(result.status);
        // Kept for a retry with jittered backoff (2 s doubling, at most 10 min; longer if the server
        // says retry_after), else dropped.
        editQueue(queue => queue.filter(x => x.k != entry.k || retry && Object.assign(x, {
          n: x.n + 1,
          at: now() + Math.max((body.retry_after || 0) * 1e3, Math.min(2e3 * 2 ** x.n, 6e5) * (.5 + Math.random())),
        })));
        scheduleFlush();
        return result;
      }));
  let flushTimer;
  const scheduleFlush = (queue = stored('queue')) => {
    clearTimeout(flushTimer);
    if (queue) flushTimer = setTimeout(flush, Math.max(1e3, Math.min(...queue.map(x => x.at || 0)) - now()));
  };
  // Sends what is due (all: everything, as when the browser comes online); drops entries a week old.
  const flush = all => {
    const time = now();
    editQueue(queue => queue.filter(x => time - x.t < 7 * DAY_MS))
      .forEach(x => (all === true || !(x.at > time)) && send(x));
    scheduleFlush();
  };

  const api = win.earshot = {
    version: 1,
    show: id => {
      const byId = surveys => surveys.find(s => s.id == id);
      pageSurveys.then(surveys => byId(surveys) || fetchSurveys('').then(byId)).then(s => s && open(s, 1));
    },
    identify: values => Object.assign(attributes, values),
    hide: () => close(),
    q: { push: call => run(call) },
  };
  const run = ([method, ...args]) => api[method] && api[method](...args);

  ['pushState', 'replaceState'].forEach(method => {
    const original = history[method];
    history[method] = function () {
      const result = original.apply(this, arguments);
      setTimeout(route);
      return result;
    };
  });
  addEventListener('popstate', route);
  addEventListener('online', () => flush(true));
  addEventListener('pagehide', () => close());
  doc.addEventListener('click', e => {
    const el = e.target.closest && e.target.closest('[data-earshot-show]');
    if (el) {
      e.preventDefault();
      api.show(el.dataset.earshotShow);
    }
  });
  route();
  flush(true);
  [].concat(previous && previous.q || []).forEach(run);
})();
