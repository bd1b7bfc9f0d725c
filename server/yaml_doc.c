/* yaml_doc: libyaml documents with positioned, collected problems and typed readers. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "yaml_doc.h"

#define YDOC_MAX_DEPTH 64
#define YDOC_MAX_NODES 100000
#define YDOC_SHOW_MAX 60

/* ---- problems ------------------------------------------------------------------------------- */

/* Appends a problem at line/col (1-based), taking ownership of msg. */
static void add_problem(ydoc *d, size_t line, size_t col, char *msg)
{
	if (d->n_problems == d->cap_problems) {
		d->cap_problems = d->cap_problems ? d->cap_problems * 2 : 8;
		d->problems = xrealloc(d->problems, d->cap_problems * sizeof *d->problems);
	}
	ydoc_problem *p = &d->problems[d->n_problems];
	p->line = line;
	p->col = col;
	p->seq = d->n_flushed + d->n_problems;
	p->msg = msg;
	d->n_problems++;
}

/* 1-based line of a node (1 for NULL). */
size_t ydoc_line(const yaml_node_t *n)
{
	return n ? n->start_mark.line + 1 : 1;
}

/* 1-based column of a node (1 for NULL). */
size_t ydoc_col(const yaml_node_t *n)
{
	return n ? n->start_mark.column + 1 : 1;
}

/* Records a formatted problem at node `at` (line 1, column 1 when NULL). */
void ydoc_error(ydoc *d, const yaml_node_t *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	add_problem(d, ydoc_line(at), ydoc_col(at), msg);
}

/* Describes a node for "must be X, not Y" messages; returns a malloc'd string (caller frees). */
static char *describe(const yaml_node_t *n)
{
	if (ydoc_is_mapping(n))
		return xstrdup("a mapping");
	if (ydoc_is_sequence(n))
		return xstrdup("a sequence");
	if (!n || ydoc_is_null(n))
		return xstrdup("empty");
	char *shown = ydoc_show((const char *)n->data.scalar.value, n->data.scalar.length);
	char *out = xasprintf("\"%s\"", shown);
	free(shown);
	return out;
}

/* Records `invalid value "<text of at>" for "<name>", <tail>`. */
void ydoc_invalid(ydoc *d, const yaml_node_t *at, const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *tail = xvasprintf(fmt, ap);
	va_end(ap);
	char *what = describe(at);
	if (ydoc_is_scalar(at) && !ydoc_is_null(at))
		ydoc_error(d, at, "invalid value %s for \"%s\", %s", what, name, tail);
	else
		ydoc_error(d, at, "invalid value (%s) for \"%s\", %s", what, name, tail);
	free(what);
	free(tail);
}

/* Problems recorded so far, flushed ones included. */
size_t ydoc_problem_count(const ydoc *d)
{
	return d->n_flushed + d->n_problems;
}

/* qsort order of problems: by line, then column, then order of discovery. */
static int problem_cmp(const void *a, const void *b)
{
	const ydoc_problem *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Moves the pending problems into diags, sorted by position; the count is kept. */
void ydoc_flush(ydoc *d, diag_list *diags)
{
	if (d->n_problems)
		qsort(d->problems, d->n_problems, sizeof *d->problems, problem_cmp);
	for (size_t i = 0; i < d->n_problems; i++) {
		diag_add(diags, d->path, d->problems[i].line, d->problems[i].col, "%s", d->problems[i].msg);
		free(d->problems[i].msg);
	}
	d->n_flushed += d->n_problems;
	d->n_problems = 0;
}

/* Returns a malloc'd "path:line:col" of node n (caller frees). */
char *ydoc_where(const ydoc *d, const yaml_node_t *n)
{
	return xasprintf("%s:%zu:%zu", d->path, ydoc_line(n), ydoc_col(n));
}

/* Returns a malloc'd one-line, escaped, length-capped copy of s[0..len) (caller frees). */
char *ydoc_show(const char *s, size_t len)
{
	bool cut = false;
	if (len > YDOC_SHOW_MAX) {
		len = YDOC_SHOW_MAX;
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--; /* do not split a UTF-8 sequence */
		cut = true;
	}
	char *out = xmalloc(len * 4 + 4), *p = out;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c == '\n') {
			*p++ = '\\';
			*p++ = 'n';
		} else if (c == '\t') {
			*p++ = '\\';
			*p++ = 't';
		} else if (c < 0x20 || c == 0x7f) {
			p += sprintf(p, "\\x%02x", c);
		} else {
			*p++ = (char)c;
		}
	}
	if (cut) {
		memcpy(p, "...", 3);
		p += 3;
	}
	*p = '\0';
	return out;
}

/* ---- document ------------------------------------------------------------------------------- */

/* Records a libyaml reader error, which carries a byte offset rather than a mark. */
static void reader_error(ydoc *d, const yaml_parser_t *parser, const char *text, size_t len)
{
	size_t line = 1, col = 1, end = parser->problem_offset < len ? parser->problem_offset : len;
	for (size_t i = 0; i < end; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			col++;
		}
	}
	add_problem(d, line, col, xasprintf("syntax error: %s", parser->problem ? parser->problem : "unreadable text"));
}

/* Records the parser's error at its problem mark. */
static void syntax_error(ydoc *d, const yaml_parser_t *parser, const char *text, size_t len)
{
	if (parser->error == YAML_READER_ERROR) {
		reader_error(d, parser, text, len);
		return;
	}
	if (parser->error == YAML_MEMORY_ERROR) {
		add_problem(d, 1, 1, xstrdup("out of memory while reading YAML"));
		return;
	}
	const char *problem = parser->problem ? parser->problem : "malformed YAML";
	char *msg;
	if (parser->context)
		msg = xasprintf("syntax error: %s (%s at line %zu)", problem, parser->context,
		                (size_t)parser->context_mark.line + 1);
	else
		msg = xasprintf("syntax error: %s", problem);
	add_problem(d, parser->problem_mark.line + 1, parser->problem_mark.column + 1, msg);
}

/* Loads a second document from the stream, if any, and records that only one is allowed. */
static int refuse_second_document(ydoc *d, yaml_parser_t *parser, const char *text, size_t len)
{
	yaml_document_t extra;
	if (!yaml_parser_load(parser, &extra)) {
		syntax_error(d, parser, text, len);
		return -1;
	}
	yaml_node_t *root = yaml_document_get_root_node(&extra);
	int rc = 0;
	if (root) {
		add_problem(d, root->start_mark.line + 1, root->start_mark.column + 1,
		            xstrdup("only one YAML document is allowed in this file"));
		rc = -1;
	}
	yaml_document_delete(&extra);
	return rc;
}

/* Parses text into d (always initialised); returns 0, or -1 after recording a syntax error. */
int ydoc_load(ydoc *d, const char *text, size_t len, const char *path)
{
	memset(d, 0, sizeof *d);
	d->path = xstrdup(path);
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	int rc = 0;
	if (!yaml_parser_load(&parser, &d->doc)) {
		syntax_error(d, &parser, text, len);
		rc = -1;
	} else {
		d->loaded = true;
		if (yaml_document_get_root_node(&d->doc))
			rc = refuse_second_document(d, &parser, text, len);
	}
	yaml_parser_delete(&parser);
	return rc;
}

/* Frees the document, the path and any problems not flushed. */
void ydoc_free(ydoc *d)
{
	if (d->loaded)
		yaml_document_delete(&d->doc);
	for (size_t i = 0; i < d->n_problems; i++)
		free(d->problems[i].msg);
	free(d->problems);
	free(d->path);
	memset(d, 0, sizeof *d);
}

/* The root node (borrowed), or NULL for an empty or unparsed document. */
yaml_node_t *ydoc_root(ydoc *d)
{
	return d->loaded ? yaml_document_get_root_node(&d->doc) : NULL;
}

/* The node with libyaml index `index` (borrowed), or NULL. */
yaml_node_t *ydoc_node(ydoc *d, int index)
{
	return d->loaded ? yaml_document_get_node(&d->doc, index) : NULL;
}

/* ---- nodes ---------------------------------------------------------------------------------- */

/* True when n is a mapping node. */
bool ydoc_is_mapping(const yaml_node_t *n)
{
	return n && n->type == YAML_MAPPING_NODE;
}

/* True when n is a sequence node. */
bool ydoc_is_sequence(const yaml_node_t *n)
{
	return n && n->type == YAML_SEQUENCE_NODE;
}

/* True when n is a scalar node. */
bool ydoc_is_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE;
}

/* The text of a scalar (borrowed), or NULL for other nodes. */
const char *ydoc_scalar(const yaml_node_t *n)
{
	return ydoc_is_scalar(n) ? (const char *)n->data.scalar.value : NULL;
}

/* True when s is one of the NULL-terminated words. */
static bool is_one_of(const char *s, const char *const words[])
{
	for (size_t i = 0; words[i]; i++)
		if (strcmp(s, words[i]) == 0)
			return true;
	return false;
}

static const char *const null_words[] = { "", "~", "null", "Null", "NULL", NULL };
static const char *const true_words[] = { "true", "True", "TRUE", NULL };
static const char *const false_words[] = { "false", "False", "FALSE", NULL };

/* True for a plain scalar that the core schema reads as null. */
bool ydoc_is_null(const yaml_node_t *n)
{
	return ydoc_is_scalar(n) && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       is_one_of((const char *)n->data.scalar.value, null_words);
}

/* True when s is a run of at least one character of the set. */
static bool all_of(const char *s, const char *set)
{
	if (!*s)
		return false;
	return strspn(s, set) == strlen(s);
}

/* Core-schema integer: [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+. Sets *v (or *overflow). */
static bool core_int(const char *s, long long *v, bool *overflow)
{
	int base = 10;
	const char *digits = s;
	if (s[0] == '0' && s[1] == 'o') {
		base = 8;
		digits = s + 2;
		if (!all_of(digits, "01234567"))
			return false;
	} else if (s[0] == '0' && s[1] == 'x') {
		base = 16;
		digits = s + 2;
		if (!all_of(digits, "0123456789abcdefABCDEF"))
			return false;
	} else {
		const char *p = (*s == '-' || *s == '+') ? s + 1 : s;
		if (!all_of(p, "0123456789"))
			return false;
	}
	errno = 0;
	*v = strtoll(digits, NULL, base);
	*overflow = errno == ERANGE;
	return true;
}

/* Core-schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, [-+]?.inf, .nan. */
static bool core_float(const char *s, double *v)
{
	const char *p = s;
	bool neg = false;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	static const char *const inf_words[] = { ".inf", ".Inf", ".INF", NULL };
	static const char *const nan_words[] = { ".nan", ".NaN", ".NAN", NULL };
	if (is_one_of(p, inf_words)) {
		*v = neg ? -INFINITY : INFINITY;
		return true;
	}
	if (p == s && is_one_of(p, nan_words)) {
		*v = NAN;
		return true;
	}
	size_t int_digits = strspn(p, "0123456789");
	p += int_digits;
	size_t frac_digits = 0;
	if (*p == '.') {
		p++;
		frac_digits = strspn(p, "0123456789");
		p += frac_digits;
	}
	if (int_digits == 0 && frac_digits == 0)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		size_t exp_digits = strspn(p, "0123456789");
		if (exp_digits == 0)
			return false;
		p += exp_digits;
	}
	if (*p)
		return false;
	*v = strtod(s, NULL);
	return true;
}

/* Resolves a scalar per the YAML 1.2 core schema (quoted and block scalars are strings). */
yscalar_kind ydoc_scalar_kind(const yaml_node_t *n)
{
	if (!ydoc_is_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return YSCALAR_STRING;
	const char *s = (const char *)n->data.scalar.value;
	long long iv;
	bool overflow;
	double dv;
	if (is_one_of(s, null_words))
		return YSCALAR_NULL;
	if (is_one_of(s, true_words) || is_one_of(s, false_words))
		return YSCALAR_BOOL;
	if (core_int(s, &iv, &overflow))
		return overflow ? YSCALAR_FLOAT : YSCALAR_INT;
	if (core_float(s, &dv))
		return YSCALAR_FLOAT;
	return YSCALAR_STRING;
}

/* Number of pairs of a mapping (0 for other nodes). */
size_t ydoc_map_size(const yaml_node_t *map)
{
	if (!ydoc_is_mapping(map))
		return 0;
	return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

/* Key node of pair i (borrowed), or NULL. */
yaml_node_t *ydoc_map_key(ydoc *d, const yaml_node_t *map, size_t i)
{
	if (i >= ydoc_map_size(map))
		return NULL;
	return ydoc_node(d, map->data.mapping.pairs.start[i].key);
}

/* Value node of pair i (borrowed), or NULL. */
yaml_node_t *ydoc_map_value(ydoc *d, const yaml_node_t *map, size_t i)
{
	if (i >= ydoc_map_size(map))
		return NULL;
	return ydoc_node(d, map->data.mapping.pairs.start[i].value);
}

/* Number of items of a sequence (0 for other nodes). */
size_t ydoc_seq_size(const yaml_node_t *seq)
{
	if (!ydoc_is_sequence(seq))
		return 0;
	return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

/* Item i of a sequence (borrowed), or NULL. */
yaml_node_t *ydoc_seq_item(ydoc *d, const yaml_node_t *seq, size_t i)
{
	if (i >= ydoc_seq_size(seq))
		return NULL;
	return ydoc_node(d, seq->data.sequence.items.start[i]);
}

/* Returns a malloc'd "a, b, c" of the NULL-terminated names (caller frees). */
static char *join_names(const char *const names[])
{
	size_t total = 1;
	for (size_t i = 0; names[i]; i++)
		total += strlen(names[i]) + 2;
	char *out = xmalloc(total), *p = out;
	for (size_t i = 0; names[i]; i++) {
		if (i) {
			memcpy(p, ", ", 2);
			p += 2;
		}
		size_t len = strlen(names[i]);
		memcpy(p, names[i], len);
		p += len;
	}
	*p = '\0';
	return out;
}

/* True when a key scalar equals name exactly (no embedded NUL). */
static bool key_is(const yaml_node_t *key, const char *name)
{
	return ydoc_is_scalar(key) && key->data.scalar.length == strlen(name) &&
	       memcmp(key->data.scalar.value, name, key->data.scalar.length) == 0;
}

/* Checks one key against those before it and the allowed names; returns 1 when it is a problem. */
static size_t check_one_key(ydoc *d, const yaml_node_t *map, size_t i, const char *const allowed[])
{
	yaml_node_t *key = ydoc_map_key(d, map, i);
	if (!ydoc_is_scalar(key)) {
		ydoc_error(d, key, "keys must be plain names, not %s", ydoc_is_mapping(key) ? "a mapping" : "a sequence");
		return 1;
	}
	for (size_t j = 0; j < i; j++) {
		yaml_node_t *earlier = ydoc_map_key(d, map, j);
		if (ydoc_is_scalar(earlier) && earlier->data.scalar.length == key->data.scalar.length &&
		    memcmp(earlier->data.scalar.value, key->data.scalar.value, key->data.scalar.length) == 0) {
			char *shown = ydoc_show((const char *)key->data.scalar.value, key->data.scalar.length);
			ydoc_error(d, key, "duplicate key \"%s\", first given at line %zu", shown, ydoc_line(earlier));
			free(shown);
			return 1;
		}
	}
	if (!allowed)
		return 0;
	for (size_t j = 0; allowed[j]; j++)
		if (key_is(key, allowed[j]))
			return 0;
	char *shown = ydoc_show((const char *)key->data.scalar.value, key->data.scalar.length);
	char *list = join_names(allowed);
	ydoc_error(d, key, "unknown key \"%s\", expected one of: %s", shown, list);
	free(list);
	free(shown);
	return 1;
}

/* Records non-scalar, duplicate and (with allowed) unknown keys; returns how many. */
size_t ydoc_check_keys(ydoc *d, const yaml_node_t *map, const char *const allowed[])
{
	size_t problems = 0, n = ydoc_map_size(map);
	for (size_t i = 0; i < n; i++)
		problems += check_one_key(d, map, i, allowed);
	return problems;
}

/* Value node of the first pair whose key is `key` (borrowed), or NULL. */
yaml_node_t *ydoc_get(ydoc *d, const yaml_node_t *map, const char *key)
{
	size_t n = ydoc_map_size(map);
	for (size_t i = 0; i < n; i++)
		if (key_is(ydoc_map_key(d, map, i), key))
			return ydoc_map_value(d, map, i);
	return NULL;
}

/* Key node named `key` (borrowed), or NULL. */
yaml_node_t *ydoc_get_key(ydoc *d, const yaml_node_t *map, const char *key)
{
	size_t n = ydoc_map_size(map);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *k = ydoc_map_key(d, map, i);
		if (key_is(k, key))
			return k;
	}
	return NULL;
}

/* Value node of a required key, or NULL after recording that it is missing. */
yaml_node_t *ydoc_require(ydoc *d, const yaml_node_t *map, const char *key)
{
	yaml_node_t *v = ydoc_get(d, map, key);
	if (!v)
		ydoc_error(d, map, "missing required key \"%s\"", key);
	return v;
}

/* ---- typed reading -------------------------------------------------------------------------- */

/* Records `"name" must be <what>, not <n>` for a non-scalar, or `missing value for "name"` for a
 * null; returns 0 when n is a non-null scalar, else -1. */
static int expect_value(ydoc *d, const yaml_node_t *n, const char *name, const char *what)
{
	if (ydoc_is_scalar(n) && !ydoc_is_null(n))
		return 0;
	if (!n || ydoc_is_null(n)) {
		ydoc_error(d, n, "missing value for \"%s\"", name);
	} else {
		char *found = describe(n);
		ydoc_error(d, n, "\"%s\" must be %s, not %s", name, what, found);
		free(found);
	}
	return -1;
}

/* True when n is a mapping; otherwise records `"name" must be a mapping, not ...`. */
bool ydoc_expect_mapping(ydoc *d, const yaml_node_t *n, const char *name)
{
	if (ydoc_is_mapping(n))
		return true;
	char *found = describe(n);
	ydoc_error(d, n, "\"%s\" must be a mapping, not %s", name, found);
	free(found);
	return false;
}

/* True when n is a sequence; otherwise records `"name" must be a sequence, not ...`. */
bool ydoc_expect_sequence(ydoc *d, const yaml_node_t *n, const char *name)
{
	if (ydoc_is_sequence(n))
		return true;
	char *found = describe(n);
	ydoc_error(d, n, "\"%s\" must be a sequence, not %s", name, found);
	free(found);
	return false;
}

/* Reads a non-null scalar into *out (old value freed); 0, or -1 after recording a problem. */
int ydoc_read_string(ydoc *d, const yaml_node_t *n, const char *name, char **out)
{
	if (expect_value(d, n, name, "a string") < 0)
		return -1;
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		ydoc_error(d, n, "\"%s\" must not contain a NUL character", name);
		return -1;
	}
	free(*out);
	*out = xstrdup((const char *)n->data.scalar.value);
	return 0;
}

/* Returns a malloc'd description of an integer range, e.g. "an integer from 2 to 10". */
static char *int_range_text(int lo, int hi)
{
	if (lo == INT_MIN && hi == INT_MAX)
		return xstrdup("an integer");
	if (hi == INT_MAX)
		return xasprintf("an integer >= %d", lo);
	if (lo == INT_MIN)
		return xasprintf("an integer <= %d", hi);
	return xasprintf("an integer from %d to %d", lo, hi);
}

/* Reads a core-schema integer within [lo, hi] into *out; 0, or -1 after recording a problem. */
int ydoc_read_int(ydoc *d, const yaml_node_t *n, const char *name, int lo, int hi, int *out)
{
	char *what = int_range_text(lo, hi);
	int rc = expect_value(d, n, name, what);
	if (rc == 0) {
		long long v;
		bool overflow;
		if (!core_int((const char *)n->data.scalar.value, &v, &overflow) || overflow || v < lo || v > hi) {
			ydoc_invalid(d, n, name, "it must be %s", what);
			rc = -1;
		} else {
			*out = (int)v;
		}
	}
	free(what);
	return rc;
}

/* Reads true/false into *out; 0, or -1 after recording a problem. */
int ydoc_read_bool(ydoc *d, const yaml_node_t *n, const char *name, bool *out)
{
	if (expect_value(d, n, name, "true or false") < 0)
		return -1;
	const char *s = (const char *)n->data.scalar.value;
	if (is_one_of(s, true_words)) {
		*out = true;
	} else if (is_one_of(s, false_words)) {
		*out = false;
	} else {
		ydoc_invalid(d, n, name, "it must be true or false");
		return -1;
	}
	return 0;
}

/* Reads a finite integer or float into *out; 0, or -1 after recording a problem. */
int ydoc_read_number(ydoc *d, const yaml_node_t *n, const char *name, double *out)
{
	if (expect_value(d, n, name, "a number") < 0)
		return -1;
	const char *s = (const char *)n->data.scalar.value;
	long long iv;
	bool overflow;
	double v;
	if (core_int(s, &iv, &overflow) && !overflow) {
		v = (double)iv;
	} else if (!core_float(s, &v) || !isfinite(v)) {
		ydoc_invalid(d, n, name, "it must be a number");
		return -1;
	}
	*out = v;
	return 0;
}

/* Reads one of the names, storing its index in *out; 0, or -1 after recording a problem. */
int ydoc_read_enum(ydoc *d, const yaml_node_t *n, const char *name, const char *const names[], int *out)
{
	char *list = join_names(names);
	char *what = xasprintf("one of: %s", list);
	int rc = expect_value(d, n, name, what);
	if (rc == 0) {
		rc = -1;
		for (int i = 0; names[i]; i++) {
			if (key_is(n, names[i])) {
				*out = i;
				rc = 0;
				break;
			}
		}
		if (rc < 0)
			ydoc_invalid(d, n, name, "it must be %s", what);
	}
	free(what);
	free(list);
	return rc;
}

/* Frees n strings and the array holding them. */
void ydoc_strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Reads a sequence of strings into *out / *n_out (old array freed); 0, or -1 after problems. */
int ydoc_read_strings(ydoc *d, const yaml_node_t *n, const char *name, char ***out, size_t *n_out)
{
	if (!ydoc_is_sequence(n)) {
		char *found = describe(n);
		ydoc_error(d, n, "\"%s\" must be a sequence of strings, not %s", name, found);
		free(found);
		return -1;
	}
	size_t count = ydoc_seq_size(n);
	char **v = xcalloc(count ? count : 1, sizeof *v);
	int rc = 0;
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = ydoc_seq_item(d, n, i);
		if (!ydoc_is_scalar(item) || ydoc_is_null(item)) {
			char *found = describe(item);
			ydoc_error(d, item, "each item of \"%s\" must be a string, not %s", name, found);
			free(found);
			rc = -1;
		} else if (ydoc_read_string(d, item, name, &v[i]) < 0) {
			rc = -1;
		}
	}
	if (rc < 0) {
		ydoc_strings_free(v, count);
		return -1;
	}
	ydoc_strings_free(*out, *n_out);
	*out = v;
	*n_out = count;
	return 0;
}

/* ydoc_read_string on the value of key: 1 read, 0 absent, -1 problem. */
int ydoc_get_string(ydoc *d, const yaml_node_t *map, const char *key, char **out)
{
	yaml_node_t *n = ydoc_get(d, map, key);
	return n ? (ydoc_read_string(d, n, key, out) == 0 ? 1 : -1) : 0;
}

/* ydoc_read_int on the value of key: 1 read, 0 absent, -1 problem. */
int ydoc_get_int(ydoc *d, const yaml_node_t *map, const char *key, int lo, int hi, int *out)
{
	yaml_node_t *n = ydoc_get(d, map, key);
	return n ? (ydoc_read_int(d, n, key, lo, hi, out) == 0 ? 1 : -1) : 0;
}

/* ydoc_read_bool on the value of key: 1 read, 0 absent, -1 problem. */
int ydoc_get_bool(ydoc *d, const yaml_node_t *map, const char *key, bool *out)
{
	yaml_node_t *n = ydoc_get(d, map, key);
	return n ? (ydoc_read_bool(d, n, key, out) == 0 ? 1 : -1) : 0;
}

/* ydoc_read_number on the value of key: 1 read, 0 absent, -1 problem. */
int ydoc_get_number(ydoc *d, const yaml_node_t *map, const char *key, double *out)
{
	yaml_node_t *n = ydoc_get(d, map, key);
	return n ? (ydoc_read_number(d, n, key, out) == 0 ? 1 : -1) : 0;
}

/* ydoc_read_enum on the value of key: 1 read, 0 absent, -1 problem. */
int ydoc_get_enum(ydoc *d, const yaml_node_t *map, const char *key, const char *const names[], int *out)
{
	yaml_node_t *n = ydoc_get(d, map, key);
	return n ? (ydoc_read_enum(d, n, key, names, out) == 0 ? 1 : -1) : 0;
}

/* ydoc_read_strings on the value of key: 1 read, 0 absent, -1 problem. */
int ydoc_get_strings(ydoc *d, const yaml_node_t *map, const char *key, char ***out, size_t *n_out)
{
	yaml_node_t *n = ydoc_get(d, map, key);
	return n ? (ydoc_read_strings(d, n, key, out, n_out) == 0 ? 1 : -1) : 0;
}

/* ---- JSON ----------------------------------------------------------------------------------- */

/* Returns a new JSON value for a scalar per the core schema; NULL for non-scalars or bad UTF-8. */
json_t *ydoc_scalar_json(const yaml_node_t *n)
{
	if (!ydoc_is_scalar(n))
		return NULL;
	const char *s = (const char *)n->data.scalar.value;
	long long iv;
	bool overflow;
	double dv;
	switch (ydoc_scalar_kind(n)) {
	case YSCALAR_NULL:
		return json_null();
	case YSCALAR_BOOL:
		return json_boolean(is_one_of(s, true_words));
	case YSCALAR_INT:
		core_int(s, &iv, &overflow);
		return json_integer(iv);
	case YSCALAR_FLOAT:
		if (core_int(s, &iv, &overflow))
			dv = strtod(s, NULL); /* a decimal integer too large for 64 bits */
		else
			core_float(s, &dv);
		if (isfinite(dv))
			return json_real(dv);
		break; /* JSON has no infinity or NaN: keep the text */
	case YSCALAR_STRING:
		break;
	}
	return json_stringn(s, n->data.scalar.length);
}

/* Recursive worker of ydoc_to_json; *budget counts down the nodes still allowed. */
static json_t *to_json(ydoc *d, const yaml_node_t *n, int depth, size_t *budget);

/* Converts a mapping to a JSON object, reporting non-string and duplicate keys. */
static json_t *mapping_to_json(ydoc *d, const yaml_node_t *n, int depth, size_t *budget)
{
	json_t *obj = json_object();
	size_t count = ydoc_map_size(n);
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *key = ydoc_map_key(d, n, i);
		if (!ydoc_is_scalar(key) || strlen((const char *)key->data.scalar.value) != key->data.scalar.length) {
			ydoc_error(d, key, "keys must be plain names");
			goto fail;
		}
		const char *k = (const char *)key->data.scalar.value;
		if (json_object_get(obj, k)) {
			ydoc_error(d, key, "duplicate key \"%s\"", k);
			goto fail;
		}
		json_t *v = to_json(d, ydoc_map_value(d, n, i), depth + 1, budget);
		if (!v)
			goto fail;
		if (json_object_set_new(obj, k, v) < 0) {
			ydoc_error(d, key, "key is not valid UTF-8");
			goto fail;
		}
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

/* Converts node n at nesting depth `depth`; returns a new reference or NULL after recording a problem. */
static json_t *to_json(ydoc *d, const yaml_node_t *n, int depth, size_t *budget)
{
	if (!n) {
		ydoc_error(d, NULL, "missing node");
		return NULL;
	}
	if (depth > YDOC_MAX_DEPTH) {
		ydoc_error(d, n, "nested deeper than %d levels", YDOC_MAX_DEPTH);
		return NULL;
	}
	if (*budget == 0) {
		ydoc_error(d, n, "more than %d values (through aliases)", YDOC_MAX_NODES);
		return NULL;
	}
	(*budget)--;
	if (ydoc_is_mapping(n))
		return mapping_to_json(d, n, depth, budget);
	if (ydoc_is_sequence(n)) {
		json_t *arr = json_array();
		size_t count = ydoc_seq_size(n);
		for (size_t i = 0; i < count; i++) {
			json_t *v = to_json(d, ydoc_seq_item(d, n, i), depth + 1, budget);
			if (!v) {
				json_decref(arr);
				return NULL;
			}
			json_array_append_new(arr, v);
		}
		return arr;
	}
	json_t *v = ydoc_scalar_json(n);
	if (!v)
		ydoc_error(d, n, "value is not valid UTF-8");
	return v;
}

/* Returns a new JSON value for any node, or NULL after recording a problem. */
json_t *ydoc_to_json(ydoc *d, const yaml_node_t *n)
{
	size_t budget = YDOC_MAX_NODES;
	return to_json(d, n, 0, &budget);
}
