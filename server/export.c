/* export: CSV (RFC 4180 with a formula-injection guard), NDJSON and XLSX over a stream of responses.
 *
 * Memory stays constant whatever the number of responses: a writer holds one row at a time plus an
 * output buffer that goes to the sink once it passes EXPORT_FLUSH_AT bytes. XLSX rows go into a
 * streaming workbook (xlsx_writer.c) that hands the sink compressed pieces as they fill. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "json_scan.h"
#include "util.h"
#include "xlsx_writer.h"

#define EXPORT_FLUSH_AT 16384       /* CSV / NDJSON: bytes buffered before the sink is called */
#define XLSX_PIECE 65536            /* XLSX: bytes per sink call */
#define XLSX_SHEET_NAME "Responses"

/* Columns before and after the question columns. */
enum { COL_ID, COL_CREATED_AT, N_LEADING };
enum { TRAIL_SCORE, TRAIL_CATEGORY, TRAIL_TAGS, TRAIL_PAGE, N_TRAILING };
static const char *const trailing_names[N_TRAILING] = { "score", "category", "tags", "page" };

struct export_writer {
	export_format fmt;
	const form *form;            /* borrowed: outlives the writer */
	export_sink sink;
	void *sink_ctx;
	bool failed;                 /* a sink refusal or write error happened: every later call fails */
	bool finished;
	/* CSV / NDJSON output waiting for the sink */
	char *buf;
	size_t len, cap;
	char *scratch;               /* one cell's text (export_writer_row_raw) */
	size_t scratch_len, scratch_cap;
	/* XLSX */
	xlsx_writer *xlsx;           /* owned */
	const char **headers;        /* owned array of borrowed column names */
};

/* ---- formats ------------------------------------------------------------------------------------ */

/* Parses an export format name (exact, lower case). Returns 0, or -1 for an unknown name. */
int export_format_parse(const char *name, export_format *out)
{
	if (name == NULL)
		return -1;
	if (strcmp(name, "csv") == 0)
		*out = EXPORT_CSV;
	else if (strcmp(name, "ndjson") == 0)
		*out = EXPORT_NDJSON;
	else if (strcmp(name, "xlsx") == 0)
		*out = EXPORT_XLSX;
	else
		return -1;
	return 0;
}

/* The Content-Type of an export. */
const char *export_format_mime(export_format f)
{
	switch (f) {
	case EXPORT_CSV:
		return "text/csv; charset=utf-8";
	case EXPORT_NDJSON:
		return "application/x-ndjson";
	case EXPORT_XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
	}
	return "application/octet-stream";
}

/* The file name extension of an export, without the dot ("csv"). */
const char *export_format_ext(export_format f)
{
	switch (f) {
	case EXPORT_CSV:
		return "csv";
	case EXPORT_NDJSON:
		return "ndjson";
	case EXPORT_XLSX:
		return "xlsx";
	}
	return "bin";
}

/* ---- cell text ---------------------------------------------------------------------------------- */

/* Grows *buf so that n more bytes and a NUL fit after *len. */
static void reserve(char **buf, size_t *len, size_t *cap, size_t n)
{
	if (*len + n + 1 <= *cap)
		return;
	size_t want = *cap ? *cap : 256;
	while (want < *len + n + 1)
		want *= 2;
	*buf = xrealloc(*buf, want);
	*cap = want;
}

/* Appends n bytes of s to the growing buffer and keeps it NUL-terminated. */
static void append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	reserve(buf, len, cap, n);
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* Appends value as one CSV cell (quoted when needed, formula-guarded) to *buf, kept NUL-terminated.
 * The guard applies to every cell, numbers included: a negative number answer such as -5 is data,
 * but a spreadsheet opening the CSV would still parse "-5+A1" style text as a formula, and one rule for
 * every cell is easier to trust than a rule with exceptions. So -5 is written as '-5. */
void csv_append_cell(char **buf, size_t *len, size_t *cap, const char *value)
{
	if (value == NULL)
		value = "";
	size_t n = strlen(value);
	bool guard = value[0] != '\0' && strchr("=+-@\t\r", value[0]) != NULL;
	bool quote = strpbrk(value, ",\"\r\n") != NULL;
	reserve(buf, len, cap, 2 * n + 3);
	char *p = *buf + *len;
	if (quote)
		*p++ = '"';
	if (guard)
		*p++ = '\'';
	for (size_t i = 0; i < n; i++) {
		if (value[i] == '"')
			*p++ = '"';
		*p++ = value[i];
	}
	if (quote)
		*p++ = '"';
	*p = '\0';
	*len = (size_t)(p - *buf);
}

/* Shortest decimal text of d that reads back as d (caller frees). */
static char *real_text(double d)
{
	if (!isfinite(d))
		return xstrdup("");
	char tmp[40];
	snprintf(tmp, sizeof tmp, "%.15g", d);
	if (strtod(tmp, NULL) != d)
		snprintf(tmp, sizeof tmp, "%.17g", d);
	return xstrdup(tmp);
}

/* Text of an answer value for a cell; returns a malloc'd string (caller frees). Objects, which no
 * question type produces, are written as compact JSON. */
char *export_value_text(const json_t *value)
{
	if (value == NULL || json_is_null(value))
		return xstrdup("");
	if (json_is_string(value))
		return xstrdup(json_string_value(value));
	if (json_is_integer(value))
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(value));
	if (json_is_real(value))
		return real_text(json_real_value(value));
	if (json_is_boolean(value))
		return xstrdup(json_is_true(value) ? "true" : "false");
	if (json_is_array(value)) {
		char *out = NULL;
		size_t len = 0, cap = 0, i;
		const json_t *e;
		append(&out, &len, &cap, "", 0);
		json_array_foreach(value, i, e) {
			char *t = export_value_text(e);
			if (i > 0)
				append(&out, &len, &cap, "; ", 2);
			append(&out, &len, &cap, t, strlen(t));
			free(t);
		}
		return out;
	}
	char *dump = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
	return dump ? dump : xstrdup("");
}

/* ---- columns ------------------------------------------------------------------------------------ */

/* ---- the variant column: last, and only for forms with wording variants ---- */

/* True when f's exports end with a "variant" column (meta.variant). */
static bool has_variant_column(const form *f)
{
	return f->variants != NULL;
}

/* True when col is the variant column of f. */
static bool is_variant_column(const form *f, size_t col)
{
	return has_variant_column(f) && col == N_LEADING + f->n_questions + N_TRAILING;
}

/* ---- the confirmed column: after all others, only for forms with `confirm:` (confirm.h) ---- */

/* True when f's exports end with a "confirmed" column (true once the emailed link was opened). */
static bool has_confirmed_column(const form *f)
{
	return f->confirm_destination != NULL;
}

/* True when col is the confirmed column of f. */
static bool is_confirmed_column(const form *f, size_t col)
{
	return has_confirmed_column(f) &&
	       col == N_LEADING + f->n_questions + N_TRAILING + (has_variant_column(f) ? 1 : 0);
}

/* Number of columns: id, created_at, one per question, score, category, tags, page (, variant)
 * (, confirmed). */
static size_t column_count(const form *f)
{
	return N_LEADING + f->n_questions + N_TRAILING + (has_variant_column(f) ? 1 : 0) +
	       (has_confirmed_column(f) ? 1 : 0);
}

/* Header name of column col (borrowed). */
static const char *column_name(const form *f, size_t col)
{
	if (col == COL_ID)
		return "id";
	if (col == COL_CREATED_AT)
		return "created_at";
	if (col < N_LEADING + f->n_questions)
		return f->questions[col - N_LEADING].id;
	if (is_variant_column(f, col))
		return "variant";
	if (is_confirmed_column(f, col))
		return "confirmed";
	return trailing_names[col - N_LEADING - f->n_questions];
}

/* The score column: score.nps, or else the first numeric value of the score object (borrowed). */
static json_t *score_value(json_t *score)
{
	if (json_is_number(score))
		return score;
	if (!json_is_object(score))
		return NULL;
	json_t *nps = json_object_get(score, "nps");
	if (json_is_number(nps))
		return nps;
	const char *key;
	json_t *v;
	json_object_foreach(score, key, v)
		if (json_is_number(v))
			return v;
	return NULL;
}

/* The value of column col for record r: a new reference, or NULL for an empty cell. */
static json_t *column_value(const form *f, const response_record *r, size_t col)
{
	if (col == COL_ID)
		return json_string(r->id);
	if (col == COL_CREATED_AT) {
		char when[32];
		iso8601_format_ms(r->created_ms, when);
		return json_string(when);
	}
	json_t *v = NULL;
	if (is_confirmed_column(f, col))
		return json_boolean(r->confirmed == RESPONSE_CONFIRM_DONE);
	if (is_variant_column(f, col)) {
		v = json_object_get(r->meta, "variant");
	} else if (col < N_LEADING + f->n_questions) {
		v = json_object_get(r->answers, f->questions[col - N_LEADING].id);
	} else {
		switch (col - N_LEADING - f->n_questions) {
		case TRAIL_SCORE:
			v = score_value(r->score);
			break;
		case TRAIL_CATEGORY:
			v = json_object_get(r->score, "category");
			break;
		case TRAIL_TAGS:
			v = r->tags;
			break;
		case TRAIL_PAGE:
			v = json_object_get(r->meta, "page");
			break;
		}
	}
	return v ? json_incref(v) : NULL;
}

/* ---- output buffer and sink --------------------------------------------------------------------- */

/* Marks w failed and sets *err to msg (copied) when err is not NULL. Returns -1. */
static int fail(export_writer *w, char **err, const char *msg)
{
	w->failed = true;
	if (err)
		*err = xstrdup(msg);
	return -1;
}

/* Sends the whole buffer to the sink and empties it. Returns 0, or -1 with *err when refused. */
static int flush_buffer(export_writer *w, char **err)
{
	if (w->len == 0)
		return 0;
	int rc = w->sink(w->sink_ctx, w->buf, w->len);
	w->len = 0;
	if (rc != 0)
		return fail(w, err, "export stopped: the output refused more data");
	return 0;
}

/* Flushes when the buffer has reached EXPORT_FLUSH_AT. Returns 0 or -1 with *err. */
static int maybe_flush(export_writer *w, char **err)
{
	return w->len >= EXPORT_FLUSH_AT ? flush_buffer(w, err) : 0;
}

/* ---- CSV ---------------------------------------------------------------------------------------- */

/* Appends the header row (id,created_at,<questions>,score,category,tags,page CRLF). */
static void csv_header(export_writer *w)
{
	size_t n = column_count(w->form);
	for (size_t col = 0; col < n; col++) {
		if (col > 0)
			append(&w->buf, &w->len, &w->cap, ",", 1);
		csv_append_cell(&w->buf, &w->len, &w->cap, column_name(w->form, col));
	}
	append(&w->buf, &w->len, &w->cap, "\r\n", 2);
}

/* Appends the row of r. */
static void csv_row(export_writer *w, const response_record *r)
{
	size_t n = column_count(w->form);
	for (size_t col = 0; col < n; col++) {
		json_t *v = column_value(w->form, r, col);
		char *text = export_value_text(v);
		if (col > 0)
			append(&w->buf, &w->len, &w->cap, ",", 1);
		csv_append_cell(&w->buf, &w->len, &w->cap, text);
		free(text);
		json_decref(v);
	}
	append(&w->buf, &w->len, &w->cap, "\r\n", 2);
}

/* ---- NDJSON ------------------------------------------------------------------------------------- */

/* json_dump_callback target: appends to the writer's buffer. */
static int ndjson_append(const char *data, size_t size, void *ctx)
{
	export_writer *w = ctx;
	append(&w->buf, &w->len, &w->cap, data, size);
	return 0;
}

/* Appends r as one compact JSON line. Returns 0, or -1 when it cannot be encoded. */
static int ndjson_row(export_writer *w, const response_record *r)
{
	json_t *o = response_record_to_json(r);
	size_t mark = w->len;
	int rc = json_dump_callback(o, ndjson_append, w, JSON_COMPACT);
	json_decref(o);
	if (rc != 0) {
		w->len = mark;
		return -1;
	}
	append(&w->buf, &w->len, &w->cap, "\n", 1);
	return 0;
}

/* ---- XLSX --------------------------------------------------------------------------------------- */

/* Sets *err to "what: <the workbook's reason>" and fails w. Returns -1. */
static int xlsx_fail(export_writer *w, char **err, const char *what)
{
	const char *why = xlsx_writer_error(w->xlsx);
	char *msg = xasprintf("%s: %s", what, why ? why : "unknown error");
	fail(w, err, msg);
	free(msg);
	return -1;
}

/* Writes cell col of the current row from the text of a value (export_value_text's, or the raw path's
 * span_text): a number cell when is_number and the text is a finite number, else a string cell. */
static void xlsx_text_or_number(export_writer *w, size_t col, const char *text, size_t n, bool is_number)
{
	if (is_number) {
		if (n > 0)
			xlsx_cell_number(w->xlsx, col, text, n);
	} else {
		xlsx_cell_string(w->xlsx, col, text, n);
	}
}

/* Writes r as the next row: numbers as numbers, booleans as booleans, everything else as a string
 * (never as a formula), nulls and empty texts as no cell. */
static int xlsx_row(export_writer *w, const response_record *r, char **err)
{
	if (xlsx_row_start(w->xlsx) != 0)
		return xlsx_fail(w, err, "cannot write a spreadsheet row");
	size_t n = column_count(w->form);
	for (size_t col = 0; col < n; col++) {
		json_t *v = column_value(w->form, r, col);
		if (v != NULL && json_is_boolean(v)) {
			xlsx_cell_bool(w->xlsx, col, json_is_true(v));
		} else if (v != NULL && !json_is_null(v)) {
			char *text = export_value_text(v);
			xlsx_text_or_number(w, col, text, strlen(text), json_is_number(v));
			free(text);
		}
		json_decref(v);
	}
	if (xlsx_row_end(w->xlsx) != 0)
		return xlsx_fail(w, err, "cannot write a spreadsheet row");
	return 0;
}

/* Starts the workbook with its first worksheet. Returns 0 or -1 with *err. */
static int xlsx_start(export_writer *w, char **err)
{
	size_t n = column_count(w->form);
	w->headers = xmalloc(n * sizeof *w->headers);
	for (size_t col = 0; col < n; col++)
		w->headers[col] = column_name(w->form, col);
	const char *why = NULL;
	w->xlsx = xlsx_writer_new(XLSX_SHEET_NAME, w->headers, n, XLSX_PIECE, w->sink, w->sink_ctx, &why);
	if (w->xlsx == NULL) {
		char *msg = xasprintf("cannot start the spreadsheet: %s", why);
		fail(w, err, msg);
		free(msg);
		return -1;
	}
	return 0;
}

/* Ends the workbook; its last pieces go to the sink. Returns 0 or -1. */
static int xlsx_finish(export_writer *w, char **err)
{
	if (xlsx_writer_finish(w->xlsx) != 0)
		return xlsx_fail(w, err, "cannot write the spreadsheet");
	return 0;
}

void export_writer_set_sheet_rows(export_writer *w, unsigned rows)
{
	if (w->xlsx)
		xlsx_writer_set_sheet_rows(w->xlsx, rows);
}

/* ---- writer ------------------------------------------------------------------------------------- */

/* Starts an export; f and sink_ctx are borrowed and must outlive the writer. Returns a writer (caller
 * frees with export_writer_free), or NULL with *err (malloc'd). */
export_writer *export_writer_new(export_format fmt, const form *f, bool bom, export_sink sink,
                                 void *sink_ctx, char **err)
{
	if (fmt == EXPORT_XLSX && column_count(f) > XLSX_COLS_MAX) {
		if (err)
			*err = xstrdup("the form has too many questions for a spreadsheet");
		return NULL;
	}
	export_writer *w = xcalloc(1, sizeof *w);
	w->fmt = fmt;
	w->form = f;
	w->sink = sink;
	w->sink_ctx = sink_ctx;
	if (fmt == EXPORT_CSV) {
		if (bom)
			append(&w->buf, &w->len, &w->cap, "\xEF\xBB\xBF", 3);
		csv_header(w);
	} else if (fmt == EXPORT_XLSX && xlsx_start(w, err) != 0) {
		export_writer_free(w);
		return NULL;
	}
	return w;
}

/* Adds one response (borrowed). Returns 0, or -1 with *err (malloc'd); after a failure the writer
 * refuses every further call. */
int export_writer_row(export_writer *w, const response_record *r, char **err)
{
	if (w->failed || w->finished) {
		if (err)
			*err = xstrdup(w->failed ? "the export has already failed" : "the export is finished");
		return -1;
	}
	switch (w->fmt) {
	case EXPORT_CSV:
		csv_row(w, r);
		return maybe_flush(w, err);
	case EXPORT_NDJSON:
		if (ndjson_row(w, r) != 0)
			return fail(w, err, "cannot encode a response as JSON");
		return maybe_flush(w, err);
	case EXPORT_XLSX:
		return xlsx_row(w, r, err);
	}
	return fail(w, err, "unknown export format");
}

/* ---- rows from stored texts ---------------------------------------------------------------------
 * export_writer_row_raw reads the store's JSON texts with json_scan instead of building jansson
 * trees: the same cell texts as export_value_text, the same NDJSON bytes as response_record_to_json
 * dumped compact (the store writes its JSON compact with jansson, and a compact jansson dump of a
 * parsed compact dump is the same text). tests/unit/test_export.c checks both paths give the same
 * bytes. */

/* Appends the cell text of the JSON value v (export_value_text's rules) to the growing buffer.
 * Returns 0, or -1 for malformed text. */
static int span_text(json_span v, char **buf, size_t *len, size_t *cap);

/* Walk state for joining an array's elements with "; ". */
typedef struct join_ctx {
	char **buf;
	size_t *len, *cap;
	bool first;
} join_ctx;

static int join_element(json_span v, void *arg)
{
	join_ctx *j = arg;
	if (!j->first)
		append(j->buf, j->len, j->cap, "; ", 2);
	j->first = false;
	return span_text(v, j->buf, j->len, j->cap) == 0 ? 0 : -2;
}

/* Appends the decimal text of integer v. */
static void append_int(char **buf, size_t *len, size_t *cap, long long v)
{
	char tmp[24], *p = tmp + sizeof tmp;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	append(buf, len, cap, p, (size_t)(tmp + sizeof tmp - p));
}

/* A number's cell text: integers as jansson reads them, reals by real_text. -1 when out of range. */
static int number_text(json_span v, char **buf, size_t *len, size_t *cap)
{
	char tmp[64];
	if (v.len >= sizeof tmp)
		return -1;
	memcpy(tmp, v.p, v.len);
	tmp[v.len] = '\0';
	if (!memchr(v.p, '.', v.len) && !memchr(v.p, 'e', v.len) && !memchr(v.p, 'E', v.len)) {
		errno = 0;
		long long n = strtoll(tmp, NULL, 10);
		if (errno == ERANGE)
			return -1;  /* jansson refuses such an integer */
		append_int(buf, len, cap, n);
		return 0;
	}
	errno = 0;
	double d = strtod(tmp, NULL);
	if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
		return -1;
	char *t = real_text(d);
	append(buf, len, cap, t, strlen(t));
	free(t);
	return 0;
}

static int span_text(json_span v, char **buf, size_t *len, size_t *cap)
{
	switch (v.p[0]) {
	case '"':
		return json_scan_string(v, buf, len, cap);
	case 't':
		append(buf, len, cap, "true", 4);
		return 0;
	case 'f':
		append(buf, len, cap, "false", 5);
		return 0;
	case 'n':
		return 0;
	case '[': {
		join_ctx j = { buf, len, cap, true };
		return json_scan_array(v.p, v.len, join_element, &j) == 0 ? 0 : -1;
	}
	case '{': {
		json_t *o = json_loadb(v.p, v.len, JSON_ALLOW_NUL, NULL);
		char *dump = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(o);
		if (!dump)
			return -1;
		append(buf, len, cap, dump, strlen(dump));
		free(dump);
		return 0;
	}
	default:
		return number_text(v, buf, len, cap);
	}
}

/* Per-row scratch: the value of each column found in the row's texts. */
typedef struct raw_row {
	const form *form;
	json_span *cols;             /* one per column; p == NULL: empty cell */
	size_t n_cols;
} raw_row;

/* json_scan_object callback over answers: puts each question's value in its column (the last
 * occurrence of a key wins, as with jansson). */
static int answer_member(const char *key, size_t key_len, json_span v, void *arg)
{
	raw_row *row = arg;
	const form *f = row->form;
	for (size_t q = 0; q < f->n_questions; q++) {
		const char *id = f->questions[q].id;
		if (strlen(id) == key_len && memcmp(id, key, key_len) == 0) {
			row->cols[N_LEADING + q] = v;
			break;
		}
	}
	return 0;
}

/* Finds member "name" (written without escapes) of an object: the last occurrence. */
typedef struct member_find {
	const char *name;
	json_span found;
	json_span first_number;      /* the first member whose value is a number */
} member_find;

static int find_member(const char *key, size_t key_len, json_span v, void *arg)
{
	member_find *m = arg;
	if (strlen(m->name) == key_len && memcmp(m->name, key, key_len) == 0)
		m->found = v;
	if (!m->first_number.p && (v.p[0] == '-' || (v.p[0] >= '0' && v.p[0] <= '9')))
		m->first_number = v;
	return 0;
}

/* True when v is a JSON number. */
static bool span_is_number(json_span v)
{
	return v.p && (v.p[0] == '-' || (v.p[0] >= '0' && v.p[0] <= '9'));
}

/* Fills row->cols from r's texts. Returns 0, or -1 with *err for malformed JSON. */
static int raw_columns(export_writer *w, const response_raw *r, raw_row *row, char **err)
{
	const form *f = w->form;
	size_t q0 = N_LEADING + f->n_questions;
	memset(row->cols, 0, row->n_cols * sizeof *row->cols);
	if (json_scan_object(r->answers, r->answers_len, answer_member, row) != 0)
		return fail(w, err, "a stored answer is not valid JSON");
	member_find page = { .name = "page" };
	if (json_scan_object(r->meta, r->meta_len, find_member, &page) != 0)
		return fail(w, err, "a stored answer's meta is not valid JSON");
	row->cols[q0 + TRAIL_PAGE] = page.found;
	if (has_variant_column(f)) {
		member_find variant = { .name = "variant" };
		json_scan_object(r->meta, r->meta_len, find_member, &variant);
		row->cols[q0 + N_TRAILING] = variant.found;
	}
	if (has_confirmed_column(f)) {
		bool yes = r->confirmed == RESPONSE_CONFIRM_DONE;
		row->cols[q0 + N_TRAILING + (has_variant_column(f) ? 1 : 0)] =
			(json_span){ .p = yes ? "true" : "false", .len = yes ? 4 : 5 };
	}
	if (r->score) {
		size_t i = 0;
		json_span score;
		if (json_scan_value(r->score, r->score_len, &i, &score) != 0)
			return fail(w, err, "a stored score is not valid JSON");
		if (span_is_number(score)) {
			row->cols[q0 + TRAIL_SCORE] = score;
		} else if (score.p[0] == '{') {
			member_find nps = { .name = "nps" }, cat = { .name = "category" };
			json_scan_object(score.p, score.len, find_member, &nps);
			json_scan_object(score.p, score.len, find_member, &cat);
			row->cols[q0 + TRAIL_SCORE] = span_is_number(nps.found) ? nps.found : nps.first_number;
			row->cols[q0 + TRAIL_CATEGORY] = cat.found;
		}
	}
	size_t i = 0;
	json_span tags;
	if (json_scan_value(r->tags, r->tags_len, &i, &tags) != 0)
		return fail(w, err, "stored tags are not valid JSON");
	row->cols[q0 + TRAIL_TAGS] = tags;
	return 0;
}

/* Appends the CSV row of r. Returns 0, or -1 with *err. */
static int csv_row_raw(export_writer *w, const response_raw *r, char **err)
{
	size_t n = column_count(w->form);
	json_span cols_small[64];
	json_span *cols = n <= 64 ? cols_small : xmalloc(n * sizeof *cols);
	raw_row row = { w->form, cols, n };
	int rc = raw_columns(w, r, &row, err);
	char when[32];
	iso8601_format_ms(r->created_ms, when);
	for (size_t col = 0; rc == 0 && col < n; col++) {
		if (col > 0)
			append(&w->buf, &w->len, &w->cap, ",", 1);
		const char *text = col == COL_ID ? r->id : col == COL_CREATED_AT ? when : NULL;
		if (!text) {
			w->scratch_len = 0;
			append(&w->scratch, &w->scratch_len, &w->scratch_cap, "", 0);
			if (cols[col].p && span_text(cols[col], &w->scratch, &w->scratch_len, &w->scratch_cap) != 0)
				rc = fail(w, err, "a stored answer is not valid JSON");
			text = w->scratch;
		}
		csv_append_cell(&w->buf, &w->len, &w->cap, text);
	}
	append(&w->buf, &w->len, &w->cap, "\r\n", 2);
	if (cols != cols_small)
		free(cols);
	return rc;
}

/* Appends r as one NDJSON line, the stored JSON texts copied as they are. 0, or -1 with *err. */
static int ndjson_row_raw(export_writer *w, const response_raw *r, char **err)
{
	if (!json_scan_valid(r->answers, r->answers_len) || !json_scan_valid(r->meta, r->meta_len) ||
	    !json_scan_valid(r->tags, r->tags_len) || (r->score && !json_scan_valid(r->score, r->score_len)))
		return fail(w, err, "a stored answer is not valid JSON");
	char when[32];
	iso8601_format_ms(r->created_ms, when);
	append(&w->buf, &w->len, &w->cap, "{\"id\":", 6);
	json_append_string(&w->buf, &w->len, &w->cap, r->id, strlen(r->id));
	append(&w->buf, &w->len, &w->cap, ",\"form\":", 8);
	json_append_string(&w->buf, &w->len, &w->cap, r->form, strlen(r->form));
	append(&w->buf, &w->len, &w->cap, ",\"created_at\":\"", 15);
	append(&w->buf, &w->len, &w->cap, when, strlen(when));
	append(&w->buf, &w->len, &w->cap, "\",\"answers\":", 12);
	append(&w->buf, &w->len, &w->cap, r->answers, r->answers_len);
	append(&w->buf, &w->len, &w->cap, ",\"meta\":", 8);
	append(&w->buf, &w->len, &w->cap, r->meta, r->meta_len);
	append(&w->buf, &w->len, &w->cap, ",\"tags\":", 8);
	append(&w->buf, &w->len, &w->cap, r->tags, r->tags_len);
	if (r->score) {
		append(&w->buf, &w->len, &w->cap, ",\"score\":", 9);
		append(&w->buf, &w->len, &w->cap, r->score, r->score_len);
	}
	if (r->confirmed != RESPONSE_CONFIRM_NONE) {
		const char *c = r->confirmed == RESPONSE_CONFIRM_DONE ? ",\"confirmed\":true" : ",\"confirmed\":false";
		append(&w->buf, &w->len, &w->cap, c, strlen(c));
	}
	append(&w->buf, &w->len, &w->cap, "}\n", 2);
	return 0;
}

/* Writes r as the next XLSX row from the stored texts, cell for cell as xlsx_row would. */
static int xlsx_row_raw(export_writer *w, const response_raw *r, char **err)
{
	size_t n = column_count(w->form);
	json_span cols_small[64];
	json_span *cols = n <= 64 ? cols_small : xmalloc(n * sizeof *cols);
	raw_row row = { w->form, cols, n };
	int rc = raw_columns(w, r, &row, err);
	if (rc == 0 && xlsx_row_start(w->xlsx) != 0)
		rc = xlsx_fail(w, err, "cannot write a spreadsheet row");
	char when[32];
	iso8601_format_ms(r->created_ms, when);
	for (size_t col = 0; rc == 0 && col < n; col++) {
		json_span v = cols[col];
		if (col == COL_ID || col == COL_CREATED_AT) {
			const char *text = col == COL_ID ? r->id : when;
			xlsx_cell_string(w->xlsx, col, text, strlen(text));
		} else if (!v.p || v.p[0] == 'n') {
			continue;
		} else if (v.p[0] == 't' || v.p[0] == 'f') {
			xlsx_cell_bool(w->xlsx, col, v.p[0] == 't');
		} else {
			w->scratch_len = 0;
			append(&w->scratch, &w->scratch_len, &w->scratch_cap, "", 0);
			if (span_text(v, &w->scratch, &w->scratch_len, &w->scratch_cap) != 0)
				rc = fail(w, err, "a stored answer is not valid JSON");
			else
				xlsx_text_or_number(w, col, w->scratch, w->scratch_len, span_is_number(v));
		}
	}
	if (rc == 0 && xlsx_row_end(w->xlsx) != 0)
		rc = xlsx_fail(w, err, "cannot write a spreadsheet row");
	if (cols != cols_small)
		free(cols);
	return rc;
}

/* Adds one response from the store's texts (see export.h). */
int export_writer_row_raw(export_writer *w, const response_raw *r, char **err)
{
	if (w->failed || w->finished) {
		if (err)
			*err = xstrdup(w->failed ? "the export has already failed" : "the export is finished");
		return -1;
	}
	switch (w->fmt) {
	case EXPORT_CSV:
		if (csv_row_raw(w, r, err) != 0)
			return -1;
		return maybe_flush(w, err);
	case EXPORT_NDJSON:
		if (ndjson_row_raw(w, r, err) != 0)
			return -1;
		return maybe_flush(w, err);
	case EXPORT_XLSX:
		return xlsx_row_raw(w, r, err);
	}
	return fail(w, err, "unknown export format");
}

/* Sends what is left (the header of an empty CSV, the end of the XLSX workbook). Returns 0 or -1 with *err. */
int export_writer_finish(export_writer *w, char **err)
{
	if (w->failed || w->finished) {
		if (err)
			*err = xstrdup(w->failed ? "the export has already failed" : "the export is finished");
		return -1;
	}
	w->finished = true;
	if (w->fmt == EXPORT_XLSX)
		return xlsx_finish(w, err);
	return flush_buffer(w, err);
}

/* Frees w, a workbook not finished included. */
void export_writer_free(export_writer *w)
{
	if (w == NULL)
		return;
	xlsx_writer_free(w->xlsx);
	free(w->headers);
	free(w->buf);
	free(w->scratch);
	free(w);
}
