/* answer_facts: computes an answer's narrow facts from its parts and reads a vals list back with the
 * tree-less scanner (json_scan.h). */
#include <stdlib.h>
#include <string.h>

#include "answer_facts.h"
#include "json_scan.h"
#include "util.h"

void answer_facts_clear(answer_facts *f)
{
	free(f->variant);
	free(f->page);
	free(f->path);
	free(f->device);
	free(f->category);
	free(f->attrs);
	free(f->tags);
	free(f->vals);
	memset(f, 0, sizeof *f);
}

/* A growing NUL-terminated text. */
typedef struct strbuf {
	char *buf;
	size_t len, cap;
} strbuf;

static void strbuf_put(strbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->buf = xrealloc(b->buf, b->cap);
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void strbuf_puts(strbuf *b, const char *s)
{
	strbuf_put(b, s, strlen(s));
}

/* Characters (not bytes) of UTF-8 text, as SQL's length() counts them. */
static size_t utf8_chars(const char *s, size_t n)
{
	size_t chars = 0;
	for (size_t i = 0; i < n; i++)
		chars += ((unsigned char)s[i] & 0xC0) != 0x80;
	return chars;
}

/* Appends a scalar as vals stores it: true and false as 1 and 0, texts longer than
 * ANSWER_FACTS_TEXT_MAX (when limit) as null. Returns false, appending nothing, for arrays and
 * objects. */
static bool strbuf_put_scalar(strbuf *b, const json_t *v, bool limit)
{
	char num[64];
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (limit && utf8_chars(json_string_value(v), json_string_length(v)) > ANSWER_FACTS_TEXT_MAX)
			strbuf_put(b, "null", 4);
		else
			json_append_string(&b->buf, &b->len, &b->cap, json_string_value(v), json_string_length(v));
		return true;
	case JSON_INTEGER:
	case JSON_REAL: {
		/* jansson's own number text, without a tree or an allocation */
		size_t n = json_dumpb(v, num, sizeof num, JSON_ENCODE_ANY | JSON_COMPACT);
		if (n == 0 || n > sizeof num)
			strbuf_put(b, "null", 4);
		else
			strbuf_put(b, num, n);
		return true;
	}
	case JSON_NULL:
		strbuf_put(b, "null", 4);
		return true;
	case JSON_TRUE:
		strbuf_put(b, "1", 1);
		return true;
	case JSON_FALSE:
		strbuf_put(b, "0", 1);
		return true;
	default:
		return false;
	}
}

/* The vals list of an answers object (a new string), written directly: the same text as building
 * the list with jansson and dumping it compact, at a fraction of the allocations. */
static char *vals_of(const json_t *answers)
{
	strbuf b = { 0 };
	strbuf_put(&b, "[", 1);
	bool first = true;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)answers, key, v) {
		size_t key_len = strlen(key);
		strbuf_put(&b, first ? "[" : ",[", first ? 1 : 2);
		first = false;
		json_append_string(&b.buf, &b.len, &b.cap, key, key_len);
		strbuf_put(&b, ",", 1);
		if (!strbuf_put_scalar(&b, v, true))
			strbuf_put(&b, "null", 4);
		strbuf_put(&b, "]", 1);
		if (!json_is_array(v))
			continue;
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			if (!json_is_array(e) && !json_is_object(e)) {
				strbuf_put(&b, ",[", 2);
				json_append_string(&b.buf, &b.len, &b.cap, key, key_len);
				strbuf_put(&b, ",", 1);
				strbuf_put_scalar(&b, e, false);
				strbuf_put(&b, ",1]", 3);
			}
		}
	}
	strbuf_put(&b, "]", 1);
	return b.buf;
}

/* The value of o's member name when it is a string (a new string), else NULL. */
static char *string_member(const json_t *o, const char *name)
{
	const char *s = json_string_value(json_object_get(o, name));
	return s ? xstrdup(s) : NULL;
}

/* True for 1 to 64 of [A-Za-z0-9_-]: the names an attr filter can ask for. */
static bool filter_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Joins the names of meta's present members as " a b " ("" when none). */
static char *attrs_of(const json_t *meta)
{
	strbuf b = { 0 };
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)meta, key, v) {
		if (json_is_null(v) || !filter_name(key))
			continue;
		strbuf_puts(&b, " ");
		strbuf_puts(&b, key);
	}
	if (b.len)
		strbuf_puts(&b, " ");
	return b.buf ? b.buf : xstrdup("");
}

/* Joins the text tags as "\x1f" "a" "\x1f" "b" "\x1f" ("" when none). A tag holding \x1f is left out:
 * no filter value can contain it. */
static char *tags_of(const json_t *tags)
{
	strbuf b = { 0 };
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t) {
		const char *s = json_string_value(t);
		if (!s || memchr(s, 0x1f, json_string_length(t)))
			continue;
		strbuf_puts(&b, "\x1f");
		strbuf_puts(&b, s);
	}
	if (b.len)
		strbuf_puts(&b, "\x1f");
	return b.buf ? b.buf : xstrdup("");
}

char *answer_facts_page_path(const char *page)
{
	const char *scheme = strstr(page, "://");
	const char *q = page;
	if (scheme) {
		const char *slash = strchr(scheme + 3, '/');
		q = slash ? slash : "/";
	}
	size_t n = strcspn(q, "#");
	const char *mark = memchr(q, '?', n);
	return xstrndup(q, mark ? (size_t)(mark - q) : n);
}

void answer_facts_compute(const json_t *answers, const json_t *meta, const json_t *score, const json_t *tags,
                          answer_facts *out)
{
	memset(out, 0, sizeof *out);
	json_t *no_object = NULL, *no_array = NULL;
	if (!json_is_object(answers) || !json_is_object(meta))
		no_object = json_object();
	if (!json_is_array(tags))
		no_array = json_array();
	const json_t *a = json_is_object(answers) ? answers : no_object;
	const json_t *m = json_is_object(meta) ? meta : no_object;
	out->vals = vals_of(a);
	out->variant = string_member(m, "variant");
	out->page = string_member(m, "page");
	out->path = out->page ? answer_facts_page_path(out->page) : NULL;
	out->device = string_member(m, "device");
	out->category = json_is_object(score) ? string_member(score, "category") : NULL;
	out->attrs = attrs_of(m);
	out->tags = tags_of(json_is_array(tags) ? tags : no_array);
	json_decref(no_object);
	json_decref(no_array);
}

/* Parses a stored JSON text, or NULL for NULL or malformed text (a new reference). */
static json_t *load(const char *text)
{
	return text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
}

void answer_facts_compute_text(const char *answers, const char *meta, const char *score, const char *tags,
                               answer_facts *out)
{
	json_t *a = load(answers), *m = load(meta), *s = load(score), *t = load(tags);
	answer_facts_compute(a, m, s, t, out);
	json_decref(a);
	json_decref(m);
	json_decref(s);
	json_decref(t);
}

/* ---- reading vals --------------------------------------------------------------------------------- */

/* Skips white space; true when s[*i] is then c (and steps over it). */
static bool expect(const char *s, size_t n, size_t *i, char c)
{
	while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r'))
		(*i)++;
	if (*i < n && s[*i] == c) {
		(*i)++;
		return true;
	}
	return false;
}

/* The text of a string span: borrowed from the span when it has no escape, else decoded into *buf. */
static int span_text(json_span v, char **buf, size_t *cap, const char **text, size_t *len)
{
	if (v.len < 2 || v.p[0] != '"')
		return -1;
	if (!memchr(v.p, '\\', v.len)) {
		*text = v.p + 1;
		*len = v.len - 2;
		return 0;
	}
	size_t used = 0;
	if (json_scan_string(v, buf, &used, cap) != 0)
		return -1;
	*text = *buf;
	*len = used;
	return 0;
}

int answer_facts_each(const char *vals, size_t n, fact_fn fn, void *ctx)
{
	char *kbuf = NULL, *vbuf = NULL;
	size_t kcap = 0, vcap = 0, i = 0;
	int rc = -1;
	if (!expect(vals, n, &i, '['))
		return -1;
	if (expect(vals, n, &i, ']'))
		return 0;
	for (;;) {
		json_span k, v, p;
		const char *key;
		size_t klen;
		if (!expect(vals, n, &i, '[') || json_scan_value(vals, n, &i, &k) != 0 ||
		    span_text(k, &kbuf, &kcap, &key, &klen) != 0 || !expect(vals, n, &i, ',') ||
		    json_scan_value(vals, n, &i, &v) != 0)
			goto out;
		int part = 0;
		if (expect(vals, n, &i, ',')) {
			if (json_scan_value(vals, n, &i, &p) != 0 || p.len != 1 || p.p[0] != '1')
				goto out;
			part = 1;
		}
		if (!expect(vals, n, &i, ']'))
			goto out;
		fact_value value = { .type = FACT_NULL };
		if (v.p[0] == '"') {
			value.type = FACT_TEXT;
			if (span_text(v, &vbuf, &vcap, &value.text, &value.len) != 0)
				goto out;
		} else if (v.p[0] == '-' || (v.p[0] >= '0' && v.p[0] <= '9')) {
			value.type = FACT_NUMBER;
			value.text = v.p;
			value.len = v.len;
			value.number = strtod(v.p, NULL);
		} else if (v.len != 4 || memcmp(v.p, "null", 4) != 0) {
			goto out;
		}
		if (fn(ctx, key, klen, part, &value) != 0)
			break;
		if (expect(vals, n, &i, ','))
			continue;
		if (!expect(vals, n, &i, ']'))
			goto out;
		break;
	}
	rc = 0;
out:
	free(kbuf);
	free(vbuf);
	return rc;
}

/* ---- the text filter ----------------------------------------------------------------------------- */

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* True when needle occurs in hay[0..n), ASCII letters without case. */
static bool contains_nocase(const char *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = 0; m <= n && i <= n - m; i++) {
		size_t j = 0;
		while (j < m && ascii_lower(hay[i + j]) == ascii_lower(needle[j]))
			j++;
		if (j == m)
			return true;
	}
	return false;
}

typedef struct contains_ctx {
	const char *needle;
	char *buf;
	size_t cap;
} contains_ctx;

static int member_contains(const char *key, size_t key_len, json_span value, void *arg)
{
	(void)key;
	(void)key_len;
	contains_ctx *c = arg;
	const char *text;
	size_t len;
	if (value.p[0] != '"' || span_text(value, &c->buf, &c->cap, &text, &len) != 0)
		return 0;
	return contains_nocase(text, len, c->needle);
}

bool answer_facts_text_contains(const char *answers, size_t n, const char *needle)
{
	contains_ctx c = { .needle = needle };
	int rc = json_scan_object(answers, n, member_contains, &c);
	free(c.buf);
	return rc > 0;
}
