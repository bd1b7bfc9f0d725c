/* csv-fuzzer: fuzzed answer values through the CSV cell writer and the CSV and NDJSON export writers.
 * The input is a list of values separated by NUL bytes. Each value must come back from its CSV cell
 * exactly (RFC 4180), with a leading "'" when it starts with = + - @ tab or CR, and no cell may start
 * with one of those once unquoted. Values are then grouped into stored responses and exported: the CSV
 * must parse as one header and one record per response, every record as wide as the header, each
 * cell the guarded text of its value; the NDJSON must be one JSON object per response. */
#include <string.h>

#include "export.h"
#include "fuzz.h"
#include "util.h"

#define MAX_VALUES 256
#define VALUES_PER_ROW 8
#define N_COLUMNS 10      /* id, created_at, 4 questions, score, category, tags, page */
#define MAX_CREATED_MS 253402300799999LL   /* 9999-12-31T23:59:59.999Z */

static const char *const formula_starts = "=+-@\t\r";

/* ---- an RFC 4180 reader --------------------------------------------------------------------------- */

typedef struct csv_field {
	char *text;   /* owned, NUL-terminated */
	size_t len;
} csv_field;

/* Reads one field of s[*pos..len) into *out; stops before the ',' or CRLF that ends it.
 * Returns 0, or -1 when the field is malformed (a stray quote, an unterminated quoted field, a bare
 * CR or LF outside quotes). */
static int csv_read_field(const char *s, size_t len, size_t *pos, csv_field *out)
{
	size_t i = *pos;
	char *buf = xmalloc(len - i + 1);
	size_t n = 0;
	if (i < len && s[i] == '"') {
		i++;
		for (;;) {
			if (i >= len)
				goto bad;
			if (s[i] == '"') {
				if (i + 1 < len && s[i + 1] == '"') {
					buf[n++] = '"';
					i += 2;
					continue;
				}
				i++;
				break;
			}
			buf[n++] = s[i++];
		}
		if (i < len && s[i] != ',' && s[i] != '\r')
			goto bad;
	} else {
		while (i < len && s[i] != ',' && s[i] != '\r') {
			if (s[i] == '"' || s[i] == '\n')
				goto bad;
			buf[n++] = s[i++];
		}
	}
	buf[n] = '\0';
	out->text = buf;
	out->len = n;
	*pos = i;
	return 0;
bad:
	free(buf);
	return -1;
}

/* Reads one CRLF-ended record of s[*pos..len) into fields (at most max, caller frees each text).
 * Returns the number of fields, or -1 when malformed or wider than max. */
static int csv_read_record(const char *s, size_t len, size_t *pos, csv_field *fields, size_t max)
{
	size_t n = 0;
	for (;;) {
		if (n == max)
			goto bad;
		if (csv_read_field(s, len, pos, &fields[n]) != 0)
			goto bad;
		n++;
		if (*pos < len && s[*pos] == ',') {
			(*pos)++;
			continue;
		}
		if (*pos + 1 < len && s[*pos] == '\r' && s[*pos + 1] == '\n') {
			*pos += 2;
			return (int)n;
		}
		goto bad;
	}
bad:
	for (size_t i = 0; i < n; i++)
		free(fields[i].text);
	return -1;
}

/* Frees the texts of n fields. */
static void csv_fields_free(csv_field *fields, int n)
{
	for (int i = 0; i < n; i++)
		free(fields[i].text);
}

/* The text a cell must read back as for value: a "'" in front of a formula start. Caller frees. */
static char *guarded(const char *value)
{
	if (value[0] != '\0' && strchr(formula_starts, value[0]))
		return xasprintf("'%s", value);
	return xstrdup(value);
}

/* ---- single cells ------------------------------------------------------------------------------- */

/* Writes value as one cell and reads it back. */
static void check_cell(const char *value)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	csv_append_cell(&buf, &len, &cap, value);
	FUZZ_CHECK(buf != NULL && strlen(buf) == len);
	char *want = guarded(value);
	char *record = xasprintf("%s\r\n", buf);
	size_t pos = 0;
	csv_field field;
	int n = csv_read_record(record, len + 2, &pos, &field, 1);
	FUZZ_CHECK(n == 1 && pos == len + 2);
	FUZZ_CHECK(field.len == strlen(want) && memcmp(field.text, want, field.len) == 0);
	FUZZ_CHECK(field.text[0] == '\0' || !strchr(formula_starts, field.text[0]));
	csv_fields_free(&field, n);
	free(record);
	free(want);
	free(buf);
}

/* ---- whole exports ------------------------------------------------------------------------------ */

typedef struct sink_buf {
	char *data;
	size_t len, cap;
} sink_buf;

/* export_sink that keeps every byte. */
static int collect(void *ctx, const char *data, size_t len)
{
	sink_buf *s = ctx;
	if (s->len + len + 1 > s->cap) {
		s->cap = (s->len + len + 1) * 2;
		s->data = xrealloc(s->data, s->cap);
	}
	memcpy(s->data + s->len, data, len);
	s->len += len;
	s->data[s->len] = '\0';
	return 0;
}

static char *colour_options[] = { "Red", "Green", "Blue" };

/* The exported form: reason (text), colours (multi_choice), qty (number), likely (nps). */
static const form *export_form(void)
{
	static question qs[4];
	static form f;
	if (f.id)
		return &f;
	const char *ids[] = { "reason", "colours", "qty", "likely" };
	question_type types[] = { Q_TEXT, Q_MULTI_CHOICE, Q_NUMBER, Q_NPS };
	for (size_t i = 0; i < 4; i++) {
		qs[i].id = (char *)ids[i];
		qs[i].label = (char *)ids[i];
		qs[i].type = types[i];
	}
	qs[1].options = colour_options;
	qs[1].n_options = 3;
	f.id = (char *)"shop";
	f.questions = qs;
	f.n_questions = 4;
	return &f;
}

/* A JSON string of value, or NULL when value is not UTF-8 (stored answers always are). */
static json_t *text_value(const char *value)
{
	return json_string(value);
}

/* Any JSON value value parses as (a number, an object, ...), else its text; new reference or NULL. */
static json_t *any_value(const char *value)
{
	json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);
	return v ? v : text_value(value);
}

/* Sets key of obj to v (a new reference) when v is not NULL. */
static void set_maybe(json_t *obj, const char *key, json_t *v)
{
	if (v)
		json_object_set_new(obj, key, v);
}

/* Builds response number row from the values v[0..VALUES_PER_ROW). */
static void build_record(response_record *r, size_t row, const char *const *v, int64_t created_ms)
{
	memset(r, 0, sizeof *r);
	r->seq = (int64_t)row + 1;
	snprintf(r->id, sizeof r->id, "r_fuzz%zu", row);
	snprintf(r->form, sizeof r->form, "shop");
	r->created_ms = created_ms;
	r->answers = json_object();
	set_maybe(r->answers, "reason", text_value(v[0]));
	json_t *colours = json_array();
	for (size_t i = 1; i <= 2; i++) {
		json_t *c = text_value(v[i]);
		if (c)
			json_array_append_new(colours, c);
	}
	json_object_set_new(r->answers, "colours", colours);
	set_maybe(r->answers, "qty", any_value(v[3]));
	set_maybe(r->answers, "likely", any_value(v[4]));
	r->score = json_object();
	set_maybe(r->score, "nps", any_value(v[5]));
	set_maybe(r->score, "category", text_value(v[6]));
	r->tags = json_array();
	json_t *tag = text_value(v[7]);
	if (tag)
		json_array_append_new(r->tags, tag);
	r->meta = json_object();
	set_maybe(r->meta, "page", text_value(v[0]));
}

/* Checks one CSV record: N_COLUMNS wide, no formula start, answer cells equal to their guarded text. */
static void check_csv_record(const csv_field *fields, int n, const response_record *r)
{
	FUZZ_CHECK(n == N_COLUMNS);
	for (int i = 0; i < n; i++)
		FUZZ_CHECK(fields[i].text[0] == '\0' || !strchr(formula_starts, fields[i].text[0]));
	FUZZ_CHECK(strcmp(fields[0].text, r->id) == 0);
	const char *qids[] = { "reason", "colours", "qty", "likely" };
	for (size_t q = 0; q < 4; q++) {
		char *text = export_value_text(json_object_get(r->answers, qids[q]));
		char *want = guarded(text);
		FUZZ_CHECK(strcmp(fields[2 + q].text, want) == 0);
		free(want);
		free(text);
	}
}

/* Exports rows as CSV and reads the output back. */
static void check_csv_export(const response_record *rows, size_t n_rows, bool bom)
{
	sink_buf out = { 0 };
	char *err = NULL;
	export_writer *w = export_writer_new(EXPORT_CSV, export_form(), bom, collect, &out, &err);
	FUZZ_CHECK(w != NULL);
	for (size_t i = 0; i < n_rows; i++)
		FUZZ_CHECK(export_writer_row(w, &rows[i], &err) == 0);
	FUZZ_CHECK(export_writer_finish(w, &err) == 0);
	export_writer_free(w);
	size_t pos = 0;
	if (bom) {
		FUZZ_CHECK(out.len >= 3 && memcmp(out.data, "\xEF\xBB\xBF", 3) == 0);
		pos = 3;
	}
	csv_field fields[N_COLUMNS + 1];
	int n = csv_read_record(out.data, out.len, &pos, fields, N_COLUMNS + 1);
	FUZZ_CHECK(n == N_COLUMNS && strcmp(fields[0].text, "id") == 0 && strcmp(fields[9].text, "page") == 0);
	csv_fields_free(fields, n);
	for (size_t i = 0; i < n_rows; i++) {
		n = csv_read_record(out.data, out.len, &pos, fields, N_COLUMNS + 1);
		check_csv_record(fields, n, &rows[i]);
		csv_fields_free(fields, n);
	}
	FUZZ_CHECK(pos == out.len);
	free(out.data);
}

/* Exports rows as NDJSON: one JSON object per line, in order. */
static void check_ndjson_export(const response_record *rows, size_t n_rows)
{
	sink_buf out = { 0 };
	char *err = NULL;
	export_writer *w = export_writer_new(EXPORT_NDJSON, export_form(), false, collect, &out, &err);
	FUZZ_CHECK(w != NULL);
	for (size_t i = 0; i < n_rows; i++)
		FUZZ_CHECK(export_writer_row(w, &rows[i], &err) == 0);
	FUZZ_CHECK(export_writer_finish(w, &err) == 0);
	export_writer_free(w);
	size_t pos = 0;
	for (size_t i = 0; i < n_rows; i++) {
		const char *nl = memchr(out.data + pos, '\n', out.len - pos);
		FUZZ_CHECK(nl != NULL);
		size_t line = (size_t)(nl - (out.data + pos));
		json_t *o = json_loadb(out.data + pos, line, 0, NULL);
		FUZZ_CHECK(json_is_object(o));
		FUZZ_CHECK(json_equal(json_object_get(o, "answers"), rows[i].answers));
		FUZZ_CHECK(strcmp(json_string_value(json_object_get(o, "id")), rows[i].id) == 0);
		json_decref(o);
		pos += line + 1;
	}
	FUZZ_CHECK(pos == out.len);
	free(out.data);
}

/* Splits the input into values, checks each as a cell, then exports them as rows in both formats. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	const char *values[MAX_VALUES];
	size_t n = 0;
	uint64_t hash = 1469598103934665603ULL;
	for (size_t i = 0; i < size; i++)
		hash = (hash ^ data[i]) * 1099511628211ULL;
	/* NUL bytes split the input into values (each a C string). */
	for (size_t i = 0; i <= size && n < MAX_VALUES; i += strlen(text + i) + 1)
		values[n++] = text + i;
	for (size_t i = 0; i < n; i++)
		check_cell(values[i]);

	size_t n_rows = (n + VALUES_PER_ROW - 1) / VALUES_PER_ROW;
	response_record *rows = xcalloc(n_rows ? n_rows : 1, sizeof *rows);
	for (size_t row = 0; row < n_rows; row++) {
		const char *v[VALUES_PER_ROW];
		for (size_t j = 0; j < VALUES_PER_ROW; j++) {
			size_t k = row * VALUES_PER_ROW + j;
			v[j] = k < n ? values[k] : "";
		}
		build_record(&rows[row], row, v, (int64_t)((hash >> 1) % (uint64_t)MAX_CREATED_MS));
	}
	check_csv_export(rows, n_rows, (hash & 1) != 0);
	check_ndjson_export(rows, n_rows);
	for (size_t row = 0; row < n_rows; row++)
		response_record_clear(&rows[row]);
	free(rows);
	free(text);
	return 0;
}
