/* complaint-router: sends answers that look like complaints to a person, fast. Built against the
 * public plugin header only.
 *
 * Config:
 *   rules:                               # every matching rule fires once per answer
 *     - when: {question: nps, lte: 6}    # lte, gte (numbers), equals, in (values), matches (phrases)
 *       route: support                   # a destination from earshot.yaml (checked at start)
 *       tag: detractor                   # optional: added to the answer's tags
 *       priority: high                   # optional: low | normal (default) | high | urgent
 *     - when: {any_text: {matches: [refund, broken, "never arrived"]}}
 *       route: support
 *     - when: {question: phone, answered: true}   # any valid answer: routes leads (call-backs)
 *       route: sales-email
 *
 * Conditions of one `when` must all hold. `matches` compares whole words and phrases after simple
 * case folding (ASCII, Latin-1 Supplement, Latin Extended-A, Greek, Cyrillic): "ПОВЕРНЕННЯ" matches
 * "повернення", "refund" matches "Refund!" but not "refunded" (no stemming). Between words, any run
 * of spaces and punctuation counts as one separator. `any_text` looks at every answer to a text or
 * long_text question.
 *
 * For each answer, the rules that match are grouped by destination: one `complaint` delivery per
 * destination, listing every rule that sent it there, the highest priority among them and the
 * contact fields (the first email and phone answers). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <earshot/plugin.h>

/* ---- Text: UTF-8, simple case folding, word normalisation ------------------------------------- */

/* Decodes one UTF-8 code point at s (at most n bytes). Returns its length and *cp, or 1 with
 * *cp = 0xFFFD for a malformed sequence (so the caller skips one byte). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
	if (len == 0 || len > n) {
		*cp = 0xFFFD;
		return 1;
	}
	uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = 0xFFFD;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3Fu);
	}
	static const uint32_t min_for_len[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (v < min_for_len[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
		*cp = 0xFFFD;
		return 1;
	}
	*cp = v;
	return len;
}

/* Appends the UTF-8 encoding of cp to out (room for 4 bytes is the caller's). Returns its length. */
static size_t utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* True for the upper-case member of a pair whose lower case is the next code point, in a range
 * where the upper case sits at even (even_upper) or odd offsets. */
static bool pair_upper(uint32_t cp, uint32_t lo, uint32_t hi, bool even_upper)
{
	return cp >= lo && cp <= hi && ((cp & 1) == 0) == even_upper;
}

/* Greek simple case folding (U+0370-U+03FF), or cp itself. */
static uint32_t fold_greek(uint32_t cp)
{
	if ((cp >= 0x0391 && cp <= 0x03A1) || (cp >= 0x03A3 && cp <= 0x03AB))
		return cp + 0x20;
	switch (cp) {
	case 0x0370: case 0x0372: case 0x0376: return cp + 1;
	case 0x037F: return 0x03F3;
	case 0x0386: return 0x03AC;
	case 0x0388: case 0x0389: case 0x038A: return cp + 0x25;
	case 0x038C: return 0x03CC;
	case 0x038E: case 0x038F: return cp + 0x3F;
	case 0x03C2: return 0x03C3; /* final sigma */
	case 0x03CF: return 0x03D7;
	case 0x03D0: return 0x03B2;
	case 0x03D1: return 0x03B8;
	case 0x03D5: return 0x03C6;
	case 0x03D6: return 0x03C0;
	case 0x03F0: return 0x03BA;
	case 0x03F1: return 0x03C1;
	case 0x03F4: return 0x03B8;
	case 0x03F5: return 0x03B5;
	case 0x03F7: case 0x03FA: return cp + 1;
	case 0x03F9: return 0x03F2;
	case 0x03FD: case 0x03FE: case 0x03FF: return cp - 0x82;
	default: break;
	}
	return pair_upper(cp, 0x03D8, 0x03EF, true) ? cp + 1 : cp;
}

/* Cyrillic simple case folding (U+0400-U+04FF), or cp itself. */
static uint32_t fold_cyrillic(uint32_t cp)
{
	if (cp >= 0x0400 && cp <= 0x040F)
		return cp + 0x50;
	if (cp >= 0x0410 && cp <= 0x042F)
		return cp + 0x20;
	if (cp == 0x04C0)
		return 0x04CF;
	if (pair_upper(cp, 0x0460, 0x0481, true) || pair_upper(cp, 0x048A, 0x04BF, true) ||
	    pair_upper(cp, 0x04C1, 0x04CE, false) || pair_upper(cp, 0x04D0, 0x04FF, true))
		return cp + 1;
	return cp;
}

/* Simple case folding (Unicode CaseFolding.txt, statuses C and S) for ASCII, Latin-1 Supplement,
 * Latin Extended-A, Greek and Cyrillic; every other code point folds to itself. */
static uint32_t case_fold(uint32_t cp)
{
	if (cp < 0x80)
		return cp >= 'A' && cp <= 'Z' ? cp + 0x20 : cp;
	if (cp < 0x100) {
		if (cp == 0x00B5)
			return 0x03BC; /* micro sign -> Greek mu */
		return cp >= 0x00C0 && cp <= 0x00DE && cp != 0x00D7 ? cp + 0x20 : cp;
	}
	if (cp < 0x180) {
		if (cp == 0x0178)
			return 0x00FF;
		if (cp == 0x017F)
			return 's'; /* long s */
		if (pair_upper(cp, 0x0100, 0x012F, true) || pair_upper(cp, 0x0132, 0x0137, true) ||
		    pair_upper(cp, 0x0139, 0x0148, false) || pair_upper(cp, 0x014A, 0x0177, true) ||
		    pair_upper(cp, 0x0179, 0x017E, false))
			return cp + 1;
		return cp; /* U+0130 and U+0149 have full foldings only */
	}
	if (cp == 0x0345)
		return 0x03B9;
	if (cp >= 0x0370 && cp <= 0x03FF)
		return fold_greek(cp);
	if (cp >= 0x0400 && cp <= 0x04FF)
		return fold_cyrillic(cp);
	return cp;
}

/* True when cp belongs to a word: ASCII letters and digits, and every code point from U+0080 on
 * except spaces, punctuation and symbols of the Latin-1, General Punctuation, arrows-to-dingbats,
 * CJK punctuation, full-width punctuation and emoji ranges (and the malformed-input marker). */
static bool is_word_char(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
	if (cp <= 0x00BF)
		return cp == 0x00AA || cp == 0x00B5 || cp == 0x00BA;
	if (cp == 0x00D7 || cp == 0x00F7 || cp == 0x037E || cp == 0x0387 || cp == 0x0482 ||
	    (cp >= 0x055A && cp <= 0x055F) || cp == 0x0589 || cp == 0xFFFD)
		return false;
	if ((cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x2190 && cp <= 0x2BFF) ||
	    (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
	    (cp >= 0xFF00 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
	    (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65) ||
	    (cp >= 0x1F000 && cp <= 0x1FAFF))
		return false;
	return true;
}

/* Returns text as a malloc'd " word word … " string: words case-folded, every run of other
 * characters one space, with one space at each end (so a phrase matches as a whole with strstr).
 * NULL when out of memory. */
static char *normalize_words(const char *text)
{
	size_t n = strlen(text);
	/* Folding within the covered blocks never lengthens a code point's encoding by more than one
	 * byte (U+00B5, 2 bytes -> U+03BC, 2 bytes; U+017F -> 's' shortens). */
	char *out = malloc(2 * n + 3);
	if (!out)
		return NULL;
	size_t o = 0;
	out[o++] = ' ';
	const unsigned char *s = (const unsigned char *)text;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		i += utf8_decode(s + i, n - i, &cp);
		if (is_word_char(cp))
			o += utf8_encode(case_fold(cp), out + o);
		else if (out[o - 1] != ' ')
			out[o++] = ' ';
	}
	if (out[o - 1] != ' ')
		out[o++] = ' ';
	out[o] = '\0';
	return out;
}

/* ---- Rules ------------------------------------------------------------------------------------- */

enum value_kind { VALUE_NUMBER, VALUE_STRING, VALUE_BOOL };

/* A value of equals / in. */
struct value {
	enum value_kind kind;
	double number;
	int boolean;
	char *string;            /* owned */
};

/* A phrase of matches: as written, and normalised. */
struct phrase {
	char *text;              /* owned, as configured */
	char *words;             /* owned, normalize_words(text) */
};

enum priority { PRIORITY_LOW, PRIORITY_NORMAL, PRIORITY_HIGH, PRIORITY_URGENT };
static const char *const priority_names[] = { "low", "normal", "high", "urgent", NULL };

struct rule {
	size_t index;            /* position in rules: */
	char *question;          /* owned; NULL for any_text */
	bool has_lte, has_gte;
	double lte, gte;
	bool answered;           /* answered: true — any valid answer to question */
	struct value *equals;    /* owned, may be NULL */
	struct value *in;        /* owned array */
	size_t n_in;
	struct phrase *phrases;  /* owned array */
	size_t n_phrases;
	char *route;             /* owned */
	char *tag;               /* owned, may be NULL */
	enum priority priority;
	char *description;       /* owned, e.g. "nps <= 6" */
};

struct router {
	const struct earshot_host *host; /* borrowed until fini */
	struct rule *rules;              /* owned */
	size_t n_rules;
};

/* Frees what a rule owns. */
static void rule_free(struct rule *r)
{
	free(r->question);
	if (r->equals)
		free(r->equals->string);
	free(r->equals);
	for (size_t i = 0; i < r->n_in; i++)
		free(r->in[i].string);
	free(r->in);
	for (size_t i = 0; i < r->n_phrases; i++) {
		free(r->phrases[i].text);
		free(r->phrases[i].words);
	}
	free(r->phrases);
	free(r->route);
	free(r->tag);
	free(r->description);
}

/* Frees the router and its rules. */
static void router_free(struct router *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_rules; i++)
		rule_free(&st->rules[i]);
	free(st->rules);
	free(st);
}

/* ---- A growable string, for descriptions and the delivery's JSON -------------------------------- */

struct buf {
	char *data;
	size_t len, cap;
	bool oom;
};

/* Appends n bytes. */
static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Appends a NUL-terminated string. */
static void buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Appends a number the way JSON and people write it (whole numbers without a fraction). */
static void buf_number(struct buf *b, double v)
{
	char tmp[40];
	snprintf(tmp, sizeof tmp, "%.17g", v);
	/* Shortest text that reads back the same. */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	buf_puts(b, tmp);
}

/* Appends s as a JSON string literal. */
static void buf_json_string(struct buf *b, const char *s)
{
	buf_add(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			buf_add(b, esc, 2);
		} else if (*p < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			buf_puts(b, esc);
		} else {
			buf_add(b, (const char *)p, 1);
		}
	}
	buf_add(b, "\"", 1);
}

/* Takes the string out of b (caller frees); NULL when it ran out of memory. */
static char *buf_take(struct buf *b)
{
	if (b->oom) {
		free(b->data);
		return NULL;
	}
	char *s = b->data ? b->data : strdup("");
	b->data = NULL;
	return s;
}

/* ---- Reading the config ------------------------------------------------------------------------- */

/* The init context: host, config handle, and a path buffer. */
struct reader {
	const struct earshot_host *host;
	const earshot_conf *config;
	char path[128];
};

/* Points r->path at "rules.<index>.<suffix>" and returns it. */
static const char *rule_path(struct reader *r, size_t index, const char *suffix)
{
	snprintf(r->path, sizeof r->path, "rules.%zu%s%s", index, *suffix ? "." : "", suffix);
	return r->path;
}

/* Refuses the config with "rules[i]: message". Returns EARSHOT_ERROR. */
static int refuse(struct reader *r, size_t index, const char *fmt, ...) EARSHOT_PRINTF(3, 4);
static int refuse(struct reader *r, size_t index, const char *fmt, ...)
{
	char msg[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r->host->set_error(r->config, "rules[%zu]: %s", index, msg);
	return EARSHOT_ERROR;
}

/* Checks that every key of the mapping at path is one of known (NULL-terminated). */
static int check_keys(struct reader *r, size_t index, const char *path, const char *const *known,
                      const char *known_text)
{
	const struct earshot_host *h = r->host;
	for (size_t i = 0, n = h->config_length(r->config, path); i < n; i++) {
		const char *key = h->config_key(r->config, path, i);
		bool ok = false;
		for (size_t k = 0; key && known[k]; k++)
			ok = ok || strcmp(key, known[k]) == 0;
		if (!ok) {
			return refuse(r, index, "unknown setting \"%s\" (known: %s)", key ? key : "?", known_text);
		}
	}
	return EARSHOT_OK;
}

/* Reads a scalar value (number, string or true/false) at path into v. */
static int read_value(struct reader *r, size_t index, const char *path, const char *what, struct value *v)
{
	const struct earshot_host *h = r->host;
	int type = h->config_type(r->config, path);
	memset(v, 0, sizeof *v);
	if (type == EARSHOT_TYPE_INT || type == EARSHOT_TYPE_NUMBER) {
		v->kind = VALUE_NUMBER;
		return h->config_number(r->config, path, &v->number) == 1 ? EARSHOT_OK : EARSHOT_ERROR;
	}
	if (type == EARSHOT_TYPE_BOOL) {
		v->kind = VALUE_BOOL;
		return h->config_bool(r->config, path, &v->boolean) == 1 ? EARSHOT_OK : EARSHOT_ERROR;
	}
	const char *s = NULL;
	if (type == EARSHOT_TYPE_STRING && h->config_string(r->config, path, &s) == 1 && s) {
		v->kind = VALUE_STRING;
		v->string = strdup(s);
		return v->string ? EARSHOT_OK : refuse(r, index, "out of memory");
	}
	return refuse(r, index, "\"%s\" must be a number, a string, true or false", what);
}

/* Reads a number at path into *out and sets *has. */
static int read_bound(struct reader *r, size_t index, const char *key, double *out, bool *has)
{
	const char *path = rule_path(r, index, key);
	int type = r->host->config_type(r->config, path);
	if (type == EARSHOT_TYPE_ABSENT)
		return EARSHOT_OK;
	if ((type != EARSHOT_TYPE_INT && type != EARSHOT_TYPE_NUMBER) ||
	    r->host->config_number(r->config, path, out) != 1)
		return refuse(r, index, "\"%s\" must be a number", strrchr(key, '.') + 1);
	*has = true;
	return EARSHOT_OK;
}

/* Reads `in:` — a non-empty list of values. */
static int read_in(struct reader *r, size_t index, struct rule *rule)
{
	const struct earshot_host *h = r->host;
	const char *path = rule_path(r, index, "when.in");
	int type = h->config_type(r->config, path);
	if (type == EARSHOT_TYPE_ABSENT)
		return EARSHOT_OK;
	size_t n = h->config_length(r->config, path);
	if (type != EARSHOT_TYPE_LIST || n == 0)
		return refuse(r, index, "\"in\" must be a non-empty list of values");
	rule->in = calloc(n, sizeof *rule->in);
	if (!rule->in)
		return refuse(r, index, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char item[48];
		snprintf(item, sizeof item, "when.in.%zu", i);
		if (read_value(r, index, rule_path(r, index, item), "in", &rule->in[i]) != EARSHOT_OK)
			return EARSHOT_ERROR;
		rule->n_in = i + 1;
	}
	return EARSHOT_OK;
}

/* Reads a list of phrases (or one phrase) at path ("when.matches" or "when.any_text.matches"). */
static int read_phrases(struct reader *r, size_t index, const char *key, struct rule *rule)
{
	const struct earshot_host *h = r->host;
	const char *path = rule_path(r, index, key);
	int type = h->config_type(r->config, path);
	if (type == EARSHOT_TYPE_ABSENT)
		return EARSHOT_OK;
	size_t n = type == EARSHOT_TYPE_STRING ? 1 : h->config_length(r->config, path);
	if ((type != EARSHOT_TYPE_LIST && type != EARSHOT_TYPE_STRING) || n == 0)
		return refuse(r, index, "\"matches\" must be a non-empty list of words or phrases");
	rule->phrases = calloc(n, sizeof *rule->phrases);
	if (!rule->phrases)
		return refuse(r, index, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char item[64];
		snprintf(item, sizeof item, "%s.%zu", key, i);
		const char *s = NULL;
		const char *item_path = type == EARSHOT_TYPE_STRING ? rule_path(r, index, key) : rule_path(r, index, item);
		if (h->config_string(r->config, item_path, &s) != 1 || !s)
			return refuse(r, index, "\"matches\" must list words or phrases (strings)");
		struct phrase *p = &rule->phrases[rule->n_phrases++];
		p->text = strdup(s);
		p->words = normalize_words(s);
		if (!p->text || !p->words)
			return refuse(r, index, "out of memory");
		if (strcmp(p->words, " ") == 0)
			return refuse(r, index, "\"%s\" in \"matches\" holds no word to look for", s);
	}
	return EARSHOT_OK;
}

/* Writes "v" of a value into b, for descriptions. */
static void describe_value(struct buf *b, const struct value *v)
{
	if (v->kind == VALUE_NUMBER)
		buf_number(b, v->number);
	else if (v->kind == VALUE_BOOL)
		buf_puts(b, v->boolean ? "true" : "false");
	else
		buf_json_string(b, v->string);
}

/* Starts one condition of a description: " and " unless it is the first, then subject and op. */
static void describe_condition(struct buf *b, bool *first, const char *subject, const char *op)
{
	buf_puts(b, *first ? "" : " and ");
	buf_puts(b, subject);
	buf_puts(b, op);
	*first = false;
}

/* Builds rule->description, e.g. "nps <= 6", "any text matches [refund, never arrived]". */
static int describe_rule(struct rule *rule)
{
	struct buf b = { 0 };
	const char *subject = rule->question ? rule->question : "any text";
	bool first = true;
	if (rule->has_gte) {
		describe_condition(&b, &first, subject, " >= ");
		buf_number(&b, rule->gte);
	}
	if (rule->has_lte) {
		describe_condition(&b, &first, subject, " <= ");
		buf_number(&b, rule->lte);
	}
	if (rule->equals) {
		describe_condition(&b, &first, subject, " = ");
		describe_value(&b, rule->equals);
	}
	if (rule->n_in) {
		describe_condition(&b, &first, subject, " in [");
		for (size_t i = 0; i < rule->n_in; i++) {
			buf_puts(&b, i ? ", " : "");
			describe_value(&b, &rule->in[i]);
		}
		buf_puts(&b, "]");
	}
	if (rule->answered)
		describe_condition(&b, &first, subject, " answered");
	if (rule->n_phrases) {
		describe_condition(&b, &first, subject, " matches [");
		for (size_t i = 0; i < rule->n_phrases; i++) {
			buf_puts(&b, i ? ", " : "");
			buf_puts(&b, rule->phrases[i].text);
		}
		buf_puts(&b, "]");
	}
	rule->description = buf_take(&b);
	return rule->description ? EARSHOT_OK : EARSHOT_ERROR;
}

/* Reads `when:` of rule index into rule. */
static int read_when(struct reader *r, size_t index, struct rule *rule)
{
	static const char *const when_keys[] = { "question", "lte", "gte", "equals", "in", "matches", "any_text",
		"answered", NULL };
	static const char *const any_keys[] = { "matches", NULL };
	const struct earshot_host *h = r->host;
	if (h->config_type(r->config, rule_path(r, index, "when")) != EARSHOT_TYPE_MAP)
		return refuse(r, index, "\"when\" is required: a mapping such as {question: nps, lte: 6} or "
		                        "{any_text: {matches: [refund]}}");
	if (check_keys(r, index, rule_path(r, index, "when"), when_keys,
	               "question, lte, gte, equals, in, matches, any_text, answered") != EARSHOT_OK)
		return EARSHOT_ERROR;
	bool any_text = h->config_type(r->config, rule_path(r, index, "when.any_text")) != EARSHOT_TYPE_ABSENT;
	const char *question = NULL;
	int q = h->config_string(r->config, rule_path(r, index, "when.question"), &question);
	if (q < 0 || (q == 1 && (!question || !*question)))
		return refuse(r, index, "\"question\" must be a question id");
	if (any_text == (q == 1))
		return refuse(r, index, "\"when\" needs either \"question\" or \"any_text\" (not both)");
	if (any_text) {
		if (h->config_type(r->config, rule_path(r, index, "when.any_text")) != EARSHOT_TYPE_MAP ||
		    check_keys(r, index, rule_path(r, index, "when.any_text"), any_keys, "matches") != EARSHOT_OK)
			return refuse(r, index, "\"any_text\" must be a mapping {matches: [words or phrases]}");
		if (h->config_length(r->config, rule_path(r, index, "when")) != 1)
			return refuse(r, index, "\"any_text\" takes no other condition beside it");
		if (read_phrases(r, index, "when.any_text.matches", rule) != EARSHOT_OK)
			return EARSHOT_ERROR;
		if (rule->n_phrases == 0)
			return refuse(r, index, "\"any_text\" needs \"matches\"");
		return describe_rule(rule) == EARSHOT_OK ? EARSHOT_OK : refuse(r, index, "out of memory");
	}
	rule->question = strdup(question);
	if (!rule->question)
		return refuse(r, index, "out of memory");
	if (read_bound(r, index, "when.lte", &rule->lte, &rule->has_lte) != EARSHOT_OK ||
	    read_bound(r, index, "when.gte", &rule->gte, &rule->has_gte) != EARSHOT_OK || read_in(r, index, rule) != EARSHOT_OK ||
	    read_phrases(r, index, "when.matches", rule) != EARSHOT_OK)
		return EARSHOT_ERROR;
	if (h->config_type(r->config, rule_path(r, index, "when.equals")) != EARSHOT_TYPE_ABSENT) {
		rule->equals = calloc(1, sizeof *rule->equals);
		if (!rule->equals)
			return refuse(r, index, "out of memory");
		if (read_value(r, index, rule_path(r, index, "when.equals"), "equals", rule->equals) != EARSHOT_OK)
			return EARSHOT_ERROR;
	}
	int answered_type = h->config_type(r->config, rule_path(r, index, "when.answered"));
	if (answered_type != EARSHOT_TYPE_ABSENT) {
		int yes = 0;
		if (answered_type != EARSHOT_TYPE_BOOL || h->config_bool(r->config, rule_path(r, index, "when.answered"), &yes) != 1 ||
		    !yes)
			return refuse(r, index, "\"answered\" must be true (the rule then fires on any valid answer)");
		rule->answered = true;
	}
	if (!rule->has_lte && !rule->has_gte && !rule->equals && !rule->n_in && !rule->n_phrases && !rule->answered)
		return refuse(r, index, "\"when\" on question \"%s\" needs a condition: lte, gte, equals, in, matches or "
		                        "answered: true", rule->question);
	return describe_rule(rule) == EARSHOT_OK ? EARSHOT_OK : refuse(r, index, "out of memory");
}

/* Reads an optional string setting of rule index into *out (copied). */
static int read_optional_string(struct reader *r, size_t index, const char *key, char **out)
{
	const char *s = NULL;
	int rc = r->host->config_string(r->config, rule_path(r, index, key), &s);
	if (rc < 0 || (rc == 1 && (!s || !*s)))
		return refuse(r, index, "\"%s\" must be a non-empty string", key);
	if (rc == 1 && !(*out = strdup(s)))
		return refuse(r, index, "out of memory");
	return EARSHOT_OK;
}

/* Reads route, tag and priority of rule index; the route must be a configured destination. */
static int read_action(struct reader *r, size_t index, struct rule *rule)
{
	const struct earshot_host *h = r->host;
	if (read_optional_string(r, index, "route", &rule->route) != EARSHOT_OK ||
	    read_optional_string(r, index, "tag", &rule->tag) != EARSHOT_OK)
		return EARSHOT_ERROR;
	if (!rule->route)
		return refuse(r, index, "\"route\" is required: the name of a destination from earshot.yaml");
	/* A server older than has_destination cannot tell: the route is then checked at delivery. */
	if (EARSHOT_HOST_HAS(h, has_destination) && h->has_destination(r->config, rule->route) != 1)
		return refuse(r, index, "\"route\" names the unknown destination \"%s\" (add it under "
		                        "destinations: in earshot.yaml)", rule->route);
	char *priority = NULL;
	if (read_optional_string(r, index, "priority", &priority) != EARSHOT_OK)
		return EARSHOT_ERROR;
	rule->priority = PRIORITY_NORMAL;
	if (priority) {
		int found = -1;
		for (int i = 0; priority_names[i]; i++)
			if (strcmp(priority, priority_names[i]) == 0)
				found = i;
		free(priority);
		if (found < 0)
			return refuse(r, index, "\"priority\" must be one of: low, normal, high, urgent");
		rule->priority = (enum priority)found;
	}
	return EARSHOT_OK;
}

/* Reads rules[index] into rule. */
static int read_rule(struct reader *r, size_t index, struct rule *rule)
{
	static const char *const rule_keys[] = { "when", "route", "tag", "priority", NULL };
	rule->index = index;
	if (r->host->config_type(r->config, rule_path(r, index, "")) != EARSHOT_TYPE_MAP)
		return refuse(r, index, "each rule must be a mapping with \"when\" and \"route\"");
	if (check_keys(r, index, rule_path(r, index, ""), rule_keys, "when, route, tag, priority") != EARSHOT_OK)
		return EARSHOT_ERROR;
	if (read_when(r, index, rule) != EARSHOT_OK || read_action(r, index, rule) != EARSHOT_OK)
		return EARSHOT_ERROR;
	return EARSHOT_OK;
}

/* ---- Hooks -------------------------------------------------------------------------------------- */

/* Reads and checks every rule. */
static int router_init(const struct earshot_host *host, const earshot_conf *config, void **state)
{
	struct reader r = { .host = host, .config = config };
	for (size_t i = 0; i < host->config_length(config, NULL); i++) {
		const char *key = host->config_key(config, NULL, i);
		if (key && strcmp(key, "rules") != 0) {
			host->set_error(config, "unknown setting \"%s\" (known: rules)", key);
			return EARSHOT_ERROR;
		}
	}
	size_t n = host->config_length(config, "rules");
	if (host->config_type(config, "rules") != EARSHOT_TYPE_LIST || n == 0) {
		host->set_error(config, "\"rules\" is required: a list of {when, route} rules");
		return EARSHOT_ERROR;
	}
	struct router *st = calloc(1, sizeof *st);
	if (st)
		st->rules = calloc(n, sizeof *st->rules);
	if (!st || !st->rules) {
		router_free(st);
		host->set_error(config, "out of memory");
		return EARSHOT_ERROR;
	}
	st->host = host;
	for (size_t i = 0; i < n; i++) {
		st->n_rules = i + 1;
		if (read_rule(&r, i, &st->rules[i]) != EARSHOT_OK) {
			router_free(st);
			return EARSHOT_ERROR;
		}
	}
	*state = st;
	return EARSHOT_OK;
}

/* True when the answer to id equals v (for a list answer: when one of its items does). */
static bool answer_equals(const struct earshot_host *h, earshot_response *resp, const char *id,
                          const struct value *v)
{
	if (v->kind == VALUE_NUMBER) {
		double x;
		return h->answer_number(resp, id, &x) == 1 && x == v->number;
	}
	if (v->kind == VALUE_BOOL) {
		int b;
		return h->answer_bool(resp, id, &b) == 1 && (b != 0) == (v->boolean != 0);
	}
	const char *s = h->answer_string(resp, id);
	if (s)
		return strcmp(s, v->string) == 0;
	for (size_t i = 0, n = h->answer_array_length(resp, id); i < n; i++) {
		const char *item = h->answer_array_item(resp, id, i);
		if (item && strcmp(item, v->string) == 0)
			return true;
	}
	return false;
}

/* The phrases of rule found in text, appended as a JSON array body to b (", "-separated literals).
 * Returns the number found; *oom on allocation failure. */
static size_t find_phrases(const struct rule *rule, const char *text, struct buf *b, bool *oom)
{
	char *words = normalize_words(text);
	if (!words) {
		*oom = true;
		return 0;
	}
	size_t found = 0;
	for (size_t i = 0; i < rule->n_phrases; i++) {
		if (strstr(words, rule->phrases[i].words)) {
			buf_puts(b, found ? "," : "");
			buf_json_string(b, rule->phrases[i].text);
			found++;
		}
	}
	free(words);
	return found;
}

/* Appends one piece of evidence {"question","answer","phrases"?} to b. */
static void add_evidence(struct buf *b, bool *first, const char *id, const char *answer, const char *phrases)
{
	buf_puts(b, *first ? "" : ",");
	*first = false;
	buf_puts(b, "{\"question\":");
	buf_json_string(b, id);
	buf_puts(b, ",\"answer\":");
	buf_json_string(b, answer ? answer : "");
	if (phrases) {
		buf_puts(b, ",\"phrases\":[");
		buf_puts(b, phrases);
		buf_puts(b, "]");
	}
	buf_puts(b, "}");
}

/* Checks a question rule. Returns 1 on a match (evidence appended to b), 0, or -1 out of memory. */
static int match_question(const struct earshot_host *h, const struct rule *rule, earshot_response *resp,
                          struct buf *b, bool *first)
{
	const char *id = rule->question;
	int type = h->answer_type(resp, id);
	if (type == EARSHOT_TYPE_ABSENT || (rule->answered && type == EARSHOT_TYPE_NULL))
		return 0;
	double x;
	if (rule->has_lte || rule->has_gte) {
		if (h->answer_number(resp, id, &x) != 1 || (rule->has_lte && !(x <= rule->lte)) ||
		    (rule->has_gte && !(x >= rule->gte)))
			return 0;
	}
	if (rule->equals && !answer_equals(h, resp, id, rule->equals))
		return 0;
	if (rule->n_in) {
		bool any = false;
		for (size_t i = 0; i < rule->n_in && !any; i++)
			any = answer_equals(h, resp, id, &rule->in[i]);
		if (!any)
			return 0;
	}
	const char *text = h->answer_text(resp, id);
	struct buf phrases = { 0 };
	bool oom = false;
	if (rule->n_phrases && (!text || find_phrases(rule, text, &phrases, &oom) == 0)) {
		free(phrases.data);
		return oom ? -1 : 0;
	}
	add_evidence(b, first, id, text, rule->n_phrases ? (phrases.data ? phrases.data : "") : NULL);
	free(phrases.data);
	return phrases.oom ? -1 : 1;
}

/* True for the question types any_text looks at. */
static bool is_text_type(const char *type)
{
	return type && (strcmp(type, "text") == 0 || strcmp(type, "long_text") == 0);
}

/* Checks an any_text rule against every text answer. 1 on a match (evidence appended), 0, -1. */
static int match_any_text(const struct earshot_host *h, const struct rule *rule, earshot_response *resp,
                          struct buf *b, bool *first)
{
	int matched = 0;
	for (size_t i = 0, n = h->answered_count(resp); i < n; i++) {
		const char *id = h->answered_id(resp, i);
		const char *text = id && is_text_type(h->question_type(resp, id)) ? h->answer_string(resp, id) : NULL;
		if (!text)
			continue;
		struct buf phrases = { 0 };
		bool oom = false;
		if (find_phrases(rule, text, &phrases, &oom) > 0) {
			add_evidence(b, first, id, text, phrases.data);
			matched = 1;
		}
		free(phrases.data);
		if (oom || phrases.oom)
			return -1;
	}
	return matched;
}

/* Evaluates one rule; on a match writes its JSON object into *json (malloc'd). 1, 0 or -1. */
static int rule_evaluate(const struct earshot_host *h, const struct rule *rule, earshot_response *resp,
                         char **json)
{
	struct buf ev = { 0 };
	bool first = true;
	int rc = rule->question ? match_question(h, rule, resp, &ev, &first)
	                        : match_any_text(h, rule, resp, &ev, &first);
	if (rc != 1) {
		free(ev.data);
		return rc;
	}
	struct buf b = { 0 };
	char num[24];
	snprintf(num, sizeof num, "%zu", rule->index);
	buf_puts(&b, "{\"index\":");
	buf_puts(&b, num);
	buf_puts(&b, ",\"when\":");
	buf_json_string(&b, rule->description);
	buf_puts(&b, ",\"route\":");
	buf_json_string(&b, rule->route);
	buf_puts(&b, ",\"tag\":");
	if (rule->tag)
		buf_json_string(&b, rule->tag);
	else
		buf_puts(&b, "null");
	buf_puts(&b, ",\"priority\":");
	buf_json_string(&b, priority_names[rule->priority]);
	buf_puts(&b, ",\"matched\":[");
	buf_puts(&b, ev.data ? ev.data : "");
	buf_puts(&b, "]}");
	bool oom = ev.oom;
	free(ev.data);
	*json = buf_take(&b);
	return *json && !oom ? 1 : -1;
}

/* Appends "contact":{"email":…,"phone":…} from the first answers to email and phone questions. */
static void add_contact(const struct earshot_host *h, earshot_response *resp, struct buf *b)
{
	static const char *const kinds[] = { "email", "phone" };
	bool first = true;
	buf_puts(b, "\"contact\":{");
	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0, n = h->answered_count(resp); i < n; i++) {
			const char *id = h->answered_id(resp, i);
			const char *type = id ? h->question_type(resp, id) : NULL;
			const char *value = type && strcmp(type, kinds[k]) == 0 ? h->answer_string(resp, id) : NULL;
			if (!value)
				continue;
			buf_puts(b, first ? "" : ",");
			first = false;
			buf_json_string(b, kinds[k]);
			buf_puts(b, ":");
			buf_json_string(b, value);
			break;
		}
	}
	buf_puts(b, "}");
}

/* Builds the extra members of the delivery to route: every matched rule sending there (rules with
 * matched[i] set and that route), the highest priority, their tags and the contact. */
static char *delivery_extra(const struct router *st, earshot_response *resp, char *const *matched,
                            const char *route)
{
	struct buf b = { 0 };
	enum priority top = PRIORITY_LOW;
	bool first = true;
	buf_puts(&b, "{\"rules\":[");
	for (size_t i = 0; i < st->n_rules; i++) {
		if (!matched[i] || strcmp(st->rules[i].route, route) != 0)
			continue;
		buf_puts(&b, first ? "" : ",");
		buf_puts(&b, matched[i]);
		first = false;
		if (st->rules[i].priority > top)
			top = st->rules[i].priority;
	}
	buf_puts(&b, "],\"priority\":");
	buf_json_string(&b, priority_names[top]);
	buf_puts(&b, ",");
	add_contact(st->host, resp, &b);
	buf_puts(&b, "}");
	return buf_take(&b);
}

/* Sends one delivery per destination of the matched rules. Returns EARSHOT_OK or EARSHOT_ERROR. */
static int send_complaints(const struct router *st, earshot_response *resp, char *const *matched)
{
	const struct earshot_host *h = st->host;
	for (size_t i = 0; i < st->n_rules; i++) {
		if (!matched[i])
			continue;
		bool seen = false; /* one delivery per destination: the first rule routing there sends it */
		for (size_t j = 0; j < i && !seen; j++)
			seen = matched[j] && strcmp(st->rules[j].route, st->rules[i].route) == 0;
		if (seen)
			continue;
		char *extra = delivery_extra(st, resp, matched, st->rules[i].route);
		if (!extra) {
			h->set_error(resp, "out of memory");
			return EARSHOT_ERROR;
		}
		int rc = h->enqueue_delivery(resp, st->rules[i].route, "complaint", extra);
		free(extra);
		if (rc != EARSHOT_OK) {
			h->set_error(resp, "cannot queue the complaint for %s: %s", st->rules[i].route,
			             h->last_error(resp) ? h->last_error(resp) : "unknown error");
			return EARSHOT_ERROR;
		}
	}
	return EARSHOT_OK;
}

/* Evaluates every rule; tags the answer and queues one complaint per destination. */
static int router_on_response(void *state, earshot_response *resp)
{
	const struct router *st = state;
	const struct earshot_host *h = st->host;
	char **matched = calloc(st->n_rules, sizeof *matched);
	int rc = EARSHOT_OK;
	size_t n_matched = 0;
	if (!matched) {
		h->set_error(resp, "out of memory");
		return EARSHOT_ERROR;
	}
	for (size_t i = 0; i < st->n_rules && rc == EARSHOT_OK; i++) {
		int m = rule_evaluate(h, &st->rules[i], resp, &matched[i]);
		if (m < 0) {
			h->set_error(resp, "out of memory");
			rc = EARSHOT_ERROR;
		} else if (m == 1) {
			n_matched++;
			/* Tags first: the delivery's copy of the answer then carries them. */
			if (st->rules[i].tag && h->add_tag(resp, st->rules[i].tag) != EARSHOT_OK) {
				h->set_error(resp, "%s", h->last_error(resp) ? h->last_error(resp) : "cannot add a tag");
				rc = EARSHOT_ERROR;
			}
		}
	}
	if (rc == EARSHOT_OK && n_matched)
		rc = send_complaints(st, resp, matched);
	for (size_t i = 0; i < st->n_rules; i++)
		free(matched[i]);
	free(matched);
	return rc;
}

/* Frees the rules. */
static void router_fini(void *state)
{
	router_free(state);
}

EARSHOT_PLUGIN_REGISTER(.name = "complaint-router", .version = "1.0.0", .init = router_init,
                        .on_response = router_on_response, .fini = router_fini);
