// earshot hosted form pages (/f/{form}): progressive enhancement. The page works without this
// script; with it, each field is checked as the visitor goes, with the server's own rules and the
// server's own sentences (server/validate.c), a check mark shows on every valid field, a submit that
// comes sooner than the form's minimum fill time is held back until then (instead of being taken for
// a bot), and a second click cannot send the form twice.
(function () {
  'use strict';

  var form = document.querySelector('form.es-form');
  if (!form) return;

  var loadedAt = Date.now();
  var minFillMs = (parseInt(form.getAttribute('data-min-fill'), 10) || 0) * 1000;
  var sending = false;

  // ---- the server's rules ----------------------------------------------------------------------

  var M = {
    required: 'is required',
    accept: 'must be accepted',
    email: 'must look like name@example.com',
    emailLong: 'must be at most 254 characters',
    emailLocal: 'must have at most 64 characters before the @',
    phoneChars: 'must contain only digits, spaces, dashes, dots and parentheses',
    phoneDigits: 'must have 8 to 15 digits including the country code',
    phoneCountry: 'must start with + and the country code',
    dateShape: 'must be a date written as YYYY-MM-DD',
    dateYear: 'must be a date with a year from 1900 to 2100',
    dateReal: 'must be a real calendar date',
    number: 'must be a number',
    nul: 'must not contain NUL characters'
  };

  function isSpace(c) {
    return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
  }

  function trim(s) {
    var a = 0, b = s.length;
    while (a < b && isSpace(s.charAt(a))) a++;
    while (b > a && isSpace(s.charAt(b - 1))) b--;
    return s.slice(a, b);
  }

  function utf8Length(s) {
    return new TextEncoder().encode(s).length;
  }

  function isAlnum(c) {
    return /^[A-Za-z0-9]$/.test(c);
  }

  function localPartOk(s) {
    if (s.length === 0 || s.charAt(0) === '.' || s.charAt(s.length - 1) === '.') return false;
    for (var i = 0; i < s.length; i++) {
      var c = s.charAt(i);
      if (c === '.') {
        if (s.charAt(i + 1) === '.') return false;
      } else if (!isAlnum(c) && "!#$%&'*+-/=?^_`{|}~".indexOf(c) < 0) {
        return false;
      }
    }
    return true;
  }

  function domainOk(s) {
    var labels = s.split('.');
    if (labels.length < 2) return false;
    for (var i = 0; i < labels.length; i++) {
      var l = labels[i];
      if (l.length === 0 || l.length > 63 || l.charAt(0) === '-' || l.charAt(l.length - 1) === '-') return false;
      if (!/^[A-Za-z0-9-]+$/.test(l)) return false;
    }
    return !/^[0-9]+$/.test(labels[labels.length - 1]);
  }

  function checkEmail(value) {
    var s = trim(value);
    if (utf8Length(s) > 254) return M.emailLong;
    var at = s.lastIndexOf('@');
    if (at < 0) return M.email;
    if (utf8Length(s.slice(0, at)) > 64) return M.emailLocal;
    if (!localPartOk(s.slice(0, at)) || !domainOk(s.slice(at + 1))) return M.email;
    return null;
  }

  function countryOk(cc) {
    return /^[1-9][0-9]{0,2}$/.test(cc || '');
  }

  function checkPhone(value, country) {
    var digits = '', plus = false, seen = false;
    for (var i = 0; i < value.length; i++) {
      var c = value.charAt(i);
      if (c >= '0' && c <= '9') {
        if (digits.length === 63) return M.phoneDigits;
        digits += c;
        seen = true;
      } else if (c === '+' && !seen && !plus) {
        plus = true;
        seen = true;
      } else if (!(c === ' ' || c === '.' || c === '-' || c === '(' || c === ')' || c === '\t')) {
        return M.phoneChars;
      }
    }
    if (country && country.charAt(0) === '+') country = country.slice(1);
    var e164;
    if (plus) {
      e164 = digits;
    } else if (digits.length >= 2 && digits.slice(0, 2) === '00') {
      e164 = digits.slice(2);
    } else if (countryOk(country)) {
      e164 = country + (digits.charAt(0) === '0' ? digits.slice(1) : digits);
    } else {
      return M.phoneCountry;
    }
    if (e164.length < 8 || e164.length > 15) return M.phoneDigits;
    if (e164.charAt(0) === '0') return M.phoneCountry;
    return null;
  }

  function monthDays(y, m) {
    var leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    return m === 2 && leap ? 29 : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  }

  function checkDate(value) {
    var s = trim(value);
    if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(s)) return M.dateShape;
    var y = parseInt(s.slice(0, 4), 10), m = parseInt(s.slice(5, 7), 10), d = parseInt(s.slice(8, 10), 10);
    if (y < 1900 || y > 2100) return M.dateYear;
    if (m < 1 || m > 12 || d < 1 || d > monthDays(y, m)) return M.dateReal;
    return null;
  }

  // A number as the server reads a form field: a whole number, or plain decimal notation.
  function parseNumber(value) {
    var s = trim(value);
    if (s === '' || !/^[0-9+\-.eE]+$/.test(s)) return null;
    if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(s)) return null;
    var n = Number(s);
    return isFinite(n) ? n : null;
  }

  function checkNumber(value, field) {
    var n = parseNumber(value);
    if (n === null) return M.number;
    var lo = field.getAttribute('data-min'), hi = field.getAttribute('data-max');
    if (lo !== null && hi !== null && (n < Number(lo) || n > Number(hi))) {
      return 'must be a number from ' + lo + ' to ' + hi;
    }
    if (lo !== null && n < Number(lo)) return 'must be at least ' + lo;
    if (hi !== null && n > Number(hi)) return 'must be at most ' + hi;
    return null;
  }

  function checkText(value, field) {
    if (value.indexOf('\u0000') >= 0) return M.nul;
    var max = parseInt(field.getAttribute('data-max-length'), 10) || 2000;
    if (Array.from(value).length > max) return 'must be at most ' + max + ' characters';
    return null;
  }

  // ---- fields ----------------------------------------------------------------------------------

  var fields = Array.prototype.slice.call(form.querySelectorAll('.es-field[data-q]'));

  function controls(field) {
    return Array.prototype.slice.call(field.querySelectorAll('input, textarea'));
  }

  // What the visitor gave for a field: {empty, problem, value (for branching)}.
  function read(field) {
    var type = field.getAttribute('data-type');
    var ctl = controls(field);
    if (type === 'consent') {
      return { empty: !ctl[0].checked, problem: null, value: ctl[0].checked ? true : undefined };
    }
    if (type === 'single_choice' || type === 'nps' || type === 'rating' || type === 'multi_choice') {
      var chosen = ctl.filter(function (c) { return c.checked; }).map(function (c) {
        return type === 'nps' || type === 'rating' ? Number(c.value) : c.value;
      });
      if (chosen.length === 0) return { empty: true, problem: null };
      return { empty: false, problem: null, value: type === 'multi_choice' ? chosen : chosen[0] };
    }
    var raw = ctl[0].value;
    if (trim(raw) === '') return { empty: true, problem: null };
    var problem = null, value = raw;
    if (type === 'email') problem = checkEmail(raw);
    else if (type === 'phone') problem = checkPhone(raw, field.getAttribute('data-country'));
    else if (type === 'date') problem = checkDate(raw);
    else if (type === 'number') { problem = checkNumber(raw, field); value = parseNumber(raw); }
    else problem = checkText(raw, field);
    return { empty: false, problem: problem, value: value };
  }

  // Branching, as the server follows it: which questions the visitor's answers lead to.
  function equal(a, b) {
    if (Array.isArray(a)) return a.some(function (x) { return equal(x, b); });
    return a === b;
  }

  function ruleMatches(rule, answer) {
    switch (rule.op) {
      case 'always': return true;
      case 'answered': return answer !== undefined;
      case 'equals': return answer !== undefined && equal(answer, rule.value);
      case 'in': return answer !== undefined && Array.isArray(rule.value) &&
        rule.value.some(function (v) { return equal(answer, v); });
      case 'lte': return typeof answer === 'number' && answer <= rule.value;
      case 'gte': return typeof answer === 'number' && answer >= rule.value;
    }
    return false;
  }

  function onPath(states) {
    var ids = fields.map(function (f) { return f.getAttribute('data-q'); });
    var seen = fields.map(function () { return false; });
    var i = 0;
    while (i >= 0 && i < fields.length && !seen[i]) {
      seen[i] = true;
      var rules = [];
      try { rules = JSON.parse(fields[i].getAttribute('data-next') || '[]'); } catch (e) { rules = []; }
      var answer = states[i].problem ? undefined : states[i].value;
      var next = i + 1;
      for (var r = 0; r < rules.length; r++) {
        if (states[i].problem && rules[r].op !== 'always') { next = -1; break; }
        if (!ruleMatches(rules[r], answer)) continue;
        next = rules[r].goto === 'end' ? fields.length : ids.indexOf(rules[r].goto);
        if (next < 0) next = fields.length;
        break;
      }
      i = next;
    }
    return seen;
  }

  // The sentence beside a field, composed as the server composes it, in the page's language: the
  // server lists the translation of every sentence this page's script may show in data-i18n.
  var translated = {};
  try { translated = JSON.parse(form.getAttribute('data-i18n') || '{}'); } catch (e) { translated = {}; }
  function sentence(problem) {
    var english = 'This field ' + problem;
    return Object.prototype.hasOwnProperty.call(translated, english) ? translated[english] : english;
  }

  function errorElement(field, create) {
    var id = 'q-' + field.getAttribute('data-q') + '-error';
    var el = document.getElementById(id);
    if (!el && create) {
      el = document.createElement('p');
      el.className = 'es-error';
      el.id = id;
      el.setAttribute('aria-live', 'polite');
      field.appendChild(el);
    }
    return el;
  }

  function describe(ctl, id, on) {
    var list = (ctl.getAttribute('aria-describedby') || '').split(/\s+/).filter(function (x) { return x && x !== id; });
    if (on) list.push(id);
    if (list.length) ctl.setAttribute('aria-describedby', list.join(' '));
    else ctl.removeAttribute('aria-describedby');
  }

  function show(field, problem, valid) {
    var errId = 'q-' + field.getAttribute('data-q') + '-error';
    var el = errorElement(field, !!problem);
    if (el) {
      if (problem) { el.textContent = sentence(problem); el.hidden = false; }
      else { el.textContent = ''; el.hidden = true; }
    }
    controls(field).forEach(function (ctl) {
      if (problem) ctl.setAttribute('aria-invalid', 'true');
      else ctl.removeAttribute('aria-invalid');
      describe(ctl, errId, !!problem);
    });
    field.classList.toggle('es-valid', !!valid && !problem);
  }

  // Checks every field. shown: the fields whose problems are displayed now (all on submit).
  // Returns the first field with a problem, or null.
  function check(shown) {
    var states = fields.map(read);
    var path = onPath(states);
    var first = null;
    fields.forEach(function (field, i) {
      var st = states[i];
      var problem = st.problem;
      if (!problem && st.empty && path[i] && field.getAttribute('data-required') === 'true') {
        problem = field.getAttribute('data-type') === 'consent' ? M.accept : M.required;
      }
      if (problem && !first) first = field;
      // A field's problem shows once the visitor has been there; "is required" only after a
      // submit attempt, never merely for passing by.
      var display = shown === 'all' || field === shown || field.classList.contains('es-touched');
      var nag = !st.empty || shown === 'all' || field.classList.contains('es-submitted');
      if (display) show(field, problem && nag ? problem : null, !st.empty && !problem);
      else field.classList.toggle('es-valid', !st.empty && !problem);
    });
    return first;
  }

  form.setAttribute('novalidate', '');

  fields.forEach(function (field) {
    controls(field).forEach(function (ctl) {
      // While typing: the check mark appears as soon as the value is valid, and a shown error
      // goes away once fixed; a new error waits until the visitor leaves the field.
      ctl.addEventListener('input', function () {
        if (!field.classList.contains('es-touched')) {
          var st = read(field);
          field.classList.toggle('es-valid', !st.empty && !st.problem);
          return;
        }
        check(field);
      });
      ctl.addEventListener('change', function () {
        field.classList.add('es-touched');
        check(field);
      });
      ctl.addEventListener('blur', function () {
        if (read(field).empty) return;
        field.classList.add('es-touched');
        check(field);
      });
    });
    // Errors the server rendered stay marked as shown.
    if (errorElement(field, false)) field.classList.add('es-touched', 'es-submitted');
  });

  var button = form.querySelector('.es-submit');

  form.addEventListener('submit', function (event) {
    if (sending) {
      event.preventDefault();
      return;
    }
    fields.forEach(function (f) { f.classList.add('es-touched', 'es-submitted'); });
    var bad = check('all');
    if (bad) {
      event.preventDefault();
      var ctl = controls(bad)[0];
      if (ctl) ctl.focus();
      return;
    }
    sending = true;
    if (button) {
      button.textContent = 'Sending\u2026';
      // Disabled after this event: a disabled button would stop the submit itself.
      setTimeout(function () { button.disabled = true; }, 0);
    }
    var wait = minFillMs - (Date.now() - loadedAt);
    if (wait > 0) {
      // Faster than the form's minimum fill time: wait the rest rather than look like a bot.
      event.preventDefault();
      setTimeout(function () { form.submit(); }, wait + 100);
    }
  });
})();
