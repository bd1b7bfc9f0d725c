/* Unit tests for server/export.c: CSV cells and rows (RFC 4180, formula guard, BOM), an RFC 4180
 * round trip through a parser written here, NDJSON lines read back with jansson, XLSX output shape,
 * the workbook equal to the CSV export cell for cell over worksheets split at a small row limit,
 * streaming in bounded pieces and sink refusals. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "export.h"
#include "xlsx_text.h"
#include "util.h"

/* ---- fixtures ----------------------------------------------------------------------------------- */

/* Collects what the writer sends; refuses once more than limit bytes would have been taken. */
typedef struct sink_buf {
	char *data;
	size_t len, cap;
	size_t calls;
	size_t max_piece;
	size_t calls_before_finish;
	size_t limit;            /* 0: no limit */
} sink_buf;

static int collect(void *ctx, const char *data, size_t len)
{
	sink_buf *s = ctx;
	if (s->limit && s->len + len > s->limit)
		return -1;
	if (s->len + len + 1 > s->cap) {
		s->cap = (s->len + len + 1) * 2;
		s->data = xrealloc(s->data, s->cap);
	}
	memcpy(s->data + s->len, data, len);
	s->len += len;
	s->data[s->len] = '\0';
	s->calls++;
	if (len > s->max_piece)
		s->max_piece = len;
	return 0;
}

static char *colour_options[] = { "Red", "Green", "Blue" };
static question test_questions[4];
static form test_form;
static char tmp_dir[64];

/* A form "shop" with questions reason (text), colours (multi_choice), qty (number), likely (nps). */
static void build_form(void)
{
	const char *ids[] = { "reason", "colours", "qty", "likely" };
	question_type types[] = { Q_TEXT, Q_MULTI_CHOICE, Q_NUMBER, Q_NPS };
	memset(test_questions, 0, sizeof test_questions);
	for (size_t i = 0; i < 4; i++) {
		test_questions[i].id = (char *)ids[i];
		test_questions[i].label = (char *)ids[i];
		test_questions[i].type = types[i];
	}
	test_questions[1].options = colour_options;
	test_questions[1].n_options = 3;
	memset(&test_form, 0, sizeof test_form);
	test_form.id = (char *)"shop";
	test_form.questions = test_questions;
	test_form.n_questions = 4;
}

/* Number of entries (besides . and ..) in the test's private TMPDIR. */
static int tmp_entries(void)
{
	DIR *d = opendir(tmp_dir);
	int n = 0;
	struct dirent *e;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int group_setup(void **state)
{
	(void)state;
	build_form();
	strcpy(tmp_dir, "/tmp/earshot-export-test-XXXXXX");
	if (mkdtemp(tmp_dir) == NULL)
		return -1;
	setenv("TMPDIR", tmp_dir, 1);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	rmdir(tmp_dir);
	return 0;
}

/* Fills r with answers (JSON text), meta, score and tags (JSON texts or NULL). */
static void make_record(response_record *r, const char *id, int64_t ms, const char *answers,
                        const char *meta, const char *score, const char *tags)
{
	memset(r, 0, sizeof *r);
	snprintf(r->id, sizeof r->id, "%s", id);
	snprintf(r->form, sizeof r->form, "shop");
	r->seq = 1;
	r->created_ms = ms;
	r->answers = json_loads(answers, 0, NULL);
	r->meta = meta ? json_loads(meta, 0, NULL) : json_object();
	r->score = score ? json_loads(score, 0, NULL) : NULL;
	r->tags = tags ? json_loads(tags, 0, NULL) : json_array();
	assert_non_null(r->answers);
	assert_non_null(r->meta);
	assert_non_null(r->tags);
}

/* Runs a whole export of n records; returns what the sink received (s owned by caller). */
static void export_all(export_format fmt, bool bom, response_record *recs, size_t n, sink_buf *s)
{
	char *err = NULL;
	export_writer *w = export_writer_new(fmt, &test_form, bom, collect, s, &err);
	if (w == NULL)
		fail_msg("export_writer_new: %s", err);
	for (size_t i = 0; i < n; i++)
		if (export_writer_row(w, &recs[i], &err) != 0)
			fail_msg("export_writer_row: %s", err);
	s->calls_before_finish = s->calls;
	if (export_writer_finish(w, &err) != 0)
		fail_msg("export_writer_finish: %s", err);
	export_writer_free(w);
}

/* ---- CSV cells ---------------------------------------------------------------------------------- */

/* The text csv_append_cell makes of value (caller frees). */
static char *cell(const char *value)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	csv_append_cell(&buf, &len, &cap, value);
	assert_int_equal(strlen(buf), len);
	return buf;
}

/* Asserts that value becomes want as a CSV cell. */
static void assert_cell(const char *value, const char *want)
{
	char *got = cell(value);
	if (strcmp(got, want) != 0)
		fail_msg("cell(\"%s\") = [%s], want [%s]", value ? value : "(null)", got, want);
	free(got);
}

static void test_csv_cell_quoting(void **state)
{
	(void)state;
	assert_cell("plain", "plain");
	assert_cell("", "");
	assert_cell(NULL, "");
	assert_cell("a,b", "\"a,b\"");
	assert_cell("say \"hi\"", "\"say \"\"hi\"\"\"");
	assert_cell("\"", "\"\"\"\"");
	assert_cell("line1\nline2", "\"line1\nline2\"");
	assert_cell("line1\r\nline2", "\"line1\r\nline2\"");
	assert_cell("caf\xc3\xa9; ok", "caf\xc3\xa9; ok");
	assert_cell("in'side", "in'side");
	assert_cell("a\tb", "a\tb");
}

static void test_csv_cell_formula_guard(void **state)
{
	(void)state;
	assert_cell("=1+1", "'=1+1");
	assert_cell("+386 40 123 456", "'+386 40 123 456");
	assert_cell("-5", "'-5");
	assert_cell("@SUM(A1:A2)", "'@SUM(A1:A2)");
	assert_cell("\tcmd", "'\tcmd");
	assert_cell("\r=cmd", "\"'\r=cmd\"");
	assert_cell("=HYPERLINK(\"http://x\",\"a,b\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"a,b\"\")\"");
	/* only the first character matters */
	assert_cell("a=b", "a=b");
	assert_cell(" =b", " =b");
	/* cells append after what is there */
	char *buf = NULL;
	size_t len = 0, cap = 0;
	csv_append_cell(&buf, &len, &cap, "x");
	csv_append_cell(&buf, &len, &cap, "=y");
	assert_string_equal(buf, "x'=y");
	free(buf);
}

static void test_value_text(void **state)
{
	(void)state;
	const char *cases[][2] = {
		{ "\"text\"", "text" }, { "42", "42" }, { "-7", "-7" }, { "7.5", "7.5" }, { "0.1", "0.1" },
		{ "true", "true" }, { "false", "false" }, { "null", "" }, { "[\"Red\",\"Blue\"]", "Red; Blue" },
		{ "[]", "" }, { "[1,[2,3]]", "1; 2; 3" }, { "{\"b\":1,\"a\":2}", "{\"a\":2,\"b\":1}" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *v = json_loads(cases[i][0], JSON_DECODE_ANY, NULL);
		assert_non_null(v);
		char *t = export_value_text(v);
		if (strcmp(t, cases[i][1]) != 0)
			fail_msg("%s -> [%s], want [%s]", cases[i][0], t, cases[i][1]);
		free(t);
		json_decref(v);
	}
	char *t = export_value_text(NULL);
	assert_string_equal(t, "");
	free(t);
}

static void test_formats(void **state)
{
	(void)state;
	export_format f;
	assert_int_equal(export_format_parse("csv", &f), 0);
	assert_int_equal(f, EXPORT_CSV);
	assert_int_equal(export_format_parse("ndjson", &f), 0);
	assert_int_equal(f, EXPORT_NDJSON);
	assert_int_equal(export_format_parse("xlsx", &f), 0);
	assert_int_equal(f, EXPORT_XLSX);
	assert_int_equal(export_format_parse("xls", &f), -1);
	assert_int_equal(export_format_parse("CSV ", &f), -1);
	assert_int_equal(export_format_parse("", &f), -1);
	assert_string_equal(export_format_mime(EXPORT_CSV), "text/csv; charset=utf-8");
	assert_string_equal(export_format_mime(EXPORT_NDJSON), "application/x-ndjson");
	assert_string_equal(export_format_mime(EXPORT_XLSX),
	                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
	assert_string_equal(export_format_ext(EXPORT_CSV), "csv");
	assert_string_equal(export_format_ext(EXPORT_XLSX), "xlsx");
}

/* ---- CSV exports -------------------------------------------------------------------------------- */

static const char HEADER[] = "id,created_at,reason,colours,qty,likely,score,category,tags,page\r\n";

static void test_csv_empty_has_header(void **state)
{
	(void)state;
	sink_buf s = { 0 };
	export_all(EXPORT_CSV, false, NULL, 0, &s);
	assert_string_equal(s.data, HEADER);
	free(s.data);

	sink_buf b = { 0 };
	export_all(EXPORT_CSV, true, NULL, 0, &b);
	assert_int_equal(b.len, 3 + strlen(HEADER));
	assert_memory_equal(b.data, "\xEF\xBB\xBF", 3);
	assert_string_equal(b.data + 3, HEADER);
	free(b.data);
}

static void test_csv_rows(void **state)
{
	(void)state;
	response_record r[2];
	make_record(&r[0], "r_one", 1764000000123LL,
	            "{\"reason\":\"Too \\\"pricey\\\", sorry\",\"colours\":[\"Red\",\"Blue\"],"
	            "\"qty\":-5,\"likely\":3}",
	            "{\"page\":\"/cart?a=1,2\",\"ua\":\"x\"}", "{\"nps\":3,\"category\":\"detractor\"}",
	            "[\"price\",\"urgent\"]");
	make_record(&r[1], "r_two", 0, "{\"reason\":\"=cmd|' /C calc'!A0\"}", NULL,
	            "{\"sentiment\":-0.5,\"weight\":2}", NULL);
	sink_buf s = { 0 };
	export_all(EXPORT_CSV, false, r, 2, &s);
	const char *want =
		"id,created_at,reason,colours,qty,likely,score,category,tags,page\r\n"
		"r_one,2025-11-24T16:00:00.123Z,\"Too \"\"pricey\"\", sorry\",Red; Blue,'-5,3,3,detractor,"
		"price; urgent,\"/cart?a=1,2\"\r\n"
		"r_two,1970-01-01T00:00:00.000Z,'=cmd|' /C calc'!A0,,,,'-0.5,,,\r\n";
	if (strcmp(s.data, want) != 0)
		fail_msg("got:\n%s\nwant:\n%s", s.data, want);
	free(s.data);
	response_record_clear(&r[0]);
	response_record_clear(&r[1]);
}

/* Appends c to the growing NUL-terminated string *out. */
static void push(char **out, size_t *len, char c)
{
	*out = xrealloc(*out, *len + 2);
	(*out)[(*len)++] = c;
	(*out)[*len] = '\0';
}

/* A small RFC 4180 parser: splits text into rows of fields. Returns the number of rows; fields[i][j]
 * are malloc'd, nfields[i] counts them. Fails the test on malformed input (a bare CR or LF outside
 * quotes, a quote inside an unquoted field, text after a closing quote, a row not ended by CRLF). */
#define MAX_ROWS 16
#define MAX_FIELDS 16
static size_t parse_csv(const char *p, char *fields[MAX_ROWS][MAX_FIELDS], size_t nfields[MAX_ROWS])
{
	size_t rows = 0;
	while (*p) {
		assert_true(rows < MAX_ROWS);
		size_t nf = 0;
		for (;;) {
			char *out = xstrdup("");
			size_t len = 0;
			if (*p == '"') {
				for (p++;; p++) {
					assert_true(*p != '\0');
					if (*p == '"' && p[1] == '"')
						push(&out, &len, *p++);
					else if (*p == '"')
						break;
					else
						push(&out, &len, *p);
				}
				p++;
				assert_true(*p == ',' || *p == '\r');
			} else {
				for (; *p != ',' && *p != '\r' && *p != '\0'; p++) {
					assert_true(*p != '"' && *p != '\n');
					push(&out, &len, *p);
				}
			}
			assert_true(nf < MAX_FIELDS);
			fields[rows][nf++] = out;
			if (*p == ',') {
				p++;
				continue;
			}
			assert_int_equal(p[0], '\r');
			assert_int_equal(p[1], '\n');
			p += 2;
			break;
		}
		nfields[rows++] = nf;
	}
	return rows;
}

static void test_csv_round_trip(void **state)
{
	(void)state;
	const char *texts[] = {
		"plain", "comma, inside", "quote \" inside", "\"fully quoted\"", "multi\nline", "crlf\r\nline",
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "trailing space ", "", "=2+3", "\tindent",
	};
	size_t n = sizeof texts / sizeof texts[0];
	assert_true(n + 1 <= MAX_ROWS);
	response_record *r = xcalloc(n, sizeof *r);
	for (size_t i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof id, "r_%zu", i);
		make_record(&r[i], id, 1000 * (int64_t)i, "{}", NULL, NULL, NULL);
		json_object_set_new(r[i].answers, "reason", json_string(texts[i]));
		json_object_set_new(r[i].meta, "page", json_string(texts[n - 1 - i]));
	}
	sink_buf s = { 0 };
	export_all(EXPORT_CSV, false, r, n, &s);

	char *fields[MAX_ROWS][MAX_FIELDS];
	size_t nfields[MAX_ROWS];
	size_t rows = parse_csv(s.data, fields, nfields);
	assert_int_equal(rows, n + 1);
	for (size_t i = 0; i < rows; i++)
		assert_int_equal(nfields[i], 10);
	assert_string_equal(fields[0][2], "reason");
	for (size_t i = 0; i < n; i++) {
		/* what a spreadsheet shows: the text, behind a ' when it could be a formula */
		const char *t = texts[i], *page = texts[n - 1 - i];
		char *want = xasprintf("%s%s", (t[0] == '=' || t[0] == '\t') ? "'" : "", t);
		char *want_page = xasprintf("%s%s", (page[0] == '=' || page[0] == '\t') ? "'" : "", page);
		assert_string_equal(fields[i + 1][2], want);
		assert_string_equal(fields[i + 1][9], want_page);
		free(want);
		free(want_page);
	}
	for (size_t i = 0; i < rows; i++)
		for (size_t j = 0; j < nfields[i]; j++)
			free(fields[i][j]);
	for (size_t i = 0; i < n; i++)
		response_record_clear(&r[i]);
	free(r);
	free(s.data);
}

/* Records with a long answer each, to make the writer flush several times. */
static response_record *big_records(size_t n, size_t text_len)
{
	response_record *r = xcalloc(n, sizeof *r);
	char *text = xmalloc(text_len + 1);
	for (size_t i = 0; i < text_len; i++)
		text[i] = (char)('a' + i % 26);
	text[text_len] = '\0';
	for (size_t i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof id, "r_%06zu", i);
		make_record(&r[i], id, 1764000000000LL + (int64_t)i, "{}", NULL, "{\"nps\":9}", NULL);
		json_object_set_new(r[i].answers, "reason", json_string(text));
		json_object_set_new(r[i].answers, "likely", json_integer((json_int_t)(i % 11)));
	}
	free(text);
	return r;
}

static void free_records(response_record *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		response_record_clear(&r[i]);
	free(r);
}

static void test_csv_streams_in_bounded_pieces(void **state)
{
	(void)state;
	size_t n = 400;
	response_record *r = big_records(n, 1000);
	sink_buf s = { 0 };
	export_all(EXPORT_CSV, false, r, n, &s);
	/* 400 rows of ~1 KiB: the sink is called while rows are written, never with much more than
	 * 16 KiB plus one row */
	assert_true(s.len > 400 * 1000);
	assert_true(s.calls_before_finish >= 20);
	assert_true(s.max_piece <= 16384 + 1100);
	/* every row is there, in order */
	assert_non_null(strstr(s.data, "\r\nr_000000,"));
	assert_non_null(strstr(s.data, "\r\nr_000399,"));
	assert_true(strstr(s.data, "\r\nr_000398,") < strstr(s.data, "\r\nr_000399,"));
	free(s.data);
	free_records(r, n);
}

/* ---- NDJSON ------------------------------------------------------------------------------------- */

static void test_ndjson(void **state)
{
	(void)state;
	response_record r[3];
	make_record(&r[0], "r_a", 1764000000000LL, "{\"reason\":\"line\\nbreak \\\"q\\\"\",\"colours\":[\"Red\"]}",
	            "{\"page\":\"/x\"}", "{\"nps\":9,\"category\":\"promoter\"}", "[\"t\"]");
	make_record(&r[1], "r_b", 1764000001000LL, "{\"qty\":-2.5}", NULL, NULL, NULL);
	make_record(&r[2], "r_c", 1764000002000LL, "{\"reason\":\"caf\xc3\xa9\"}", NULL, NULL, NULL);
	sink_buf s = { 0 };
	export_all(EXPORT_NDJSON, true /* ignored for NDJSON */, r, 3, &s);
	assert_int_equal(s.data[s.len - 1], '\n');
	assert_null(strchr(s.data, '\r'));
	char *line = s.data;
	for (size_t i = 0; i < 3; i++) {
		char *nl = strchr(line, '\n');
		assert_non_null(nl);
		json_error_t e;
		json_t *got = json_loadb(line, (size_t)(nl - line), 0, &e);
		if (got == NULL)
			fail_msg("line %zu: %s", i + 1, e.text);
		json_t *want = response_record_to_json(&r[i]);
		assert_true(json_equal(got, want));
		/* compact and in a stable order: the id comes first */
		assert_memory_equal(line, "{\"id\":\"r_", 9);
		if (i == 1) /* no text with spaces in this one: a compact dump has none at all */
			assert_null(memchr(line, ' ', (size_t)(nl - line)));
		json_decref(got);
		json_decref(want);
		line = nl + 1;
	}
	assert_int_equal(*line, '\0');
	assert_non_null(strstr(s.data, "\"score\":{\"nps\":9,\"category\":\"promoter\"}"));
	assert_non_null(strstr(s.data, "\"created_at\":\"2025-11-24T16:00:00.000Z\""));
	free(s.data);
	for (size_t i = 0; i < 3; i++)
		response_record_clear(&r[i]);
}

/* ---- rows from stored texts ------------------------------------------------------------------ */

/* The text of xl/worksheets/sheet1.xml in the zip data[0..len), read with Python's zipfile (the
 * tests already need python3). Caller frees. */
static char *sheet_xml(const char *data, size_t len)
{
	char path[128];
	snprintf(path, sizeof path, "%s/book.xlsx", tmp_dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "python3 -c 'import sys,zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1])"
	         ".read(\"xl/worksheets/sheet1.xml\"))' %s", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	sink_buf out = { 0 };
	char piece[4096];
	size_t got;
	while ((got = fread(piece, 1, sizeof piece, p)) > 0)
		collect(&out, piece, got);
	assert_int_equal(pclose(p), 0);
	unlink(path);
	return out.data;
}

/* Exports r[0..n) through export_writer_row_raw, each record first written as the store writes it
 * (compact jansson dumps), XLSX worksheets holding at most sheet_rows rows (0: the default), and returns
 * the output (caller frees) with its length in *len (may be NULL). */
static char *export_raw_split(export_format fmt, const response_record *r, size_t n, unsigned sheet_rows,
                              size_t *len)
{
	sink_buf s = { 0 };
	char *err = NULL;
	export_writer *w = export_writer_new(fmt, &test_form, false, collect, &s, &err);
	assert_non_null(w);
	if (sheet_rows)
		export_writer_set_sheet_rows(w, sheet_rows);
	for (size_t i = 0; i < n; i++) {
		char *answers = json_dumps(r[i].answers, JSON_COMPACT | JSON_ENCODE_ANY);
		char *meta = json_dumps(r[i].meta, JSON_COMPACT | JSON_ENCODE_ANY);
		char *tags = json_dumps(r[i].tags, JSON_COMPACT | JSON_ENCODE_ANY);
		char *score = r[i].score ? json_dumps(r[i].score, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		response_raw raw = { .id = r[i].id, .form = r[i].form, .created_ms = r[i].created_ms,
		                     .answers = answers, .answers_len = strlen(answers),
		                     .meta = meta, .meta_len = strlen(meta), .tags = tags, .tags_len = strlen(tags),
		                     .score = score, .score_len = score ? strlen(score) : 0 };
		assert_int_equal(export_writer_row_raw(w, &raw, &err), 0);
		free(answers);
		free(meta);
		free(tags);
		free(score);
	}
	assert_int_equal(export_writer_finish(w, &err), 0);
	export_writer_free(w);
	if (len)
		*len = s.len;
	return s.data;
}

static char *export_raw(export_format fmt, const response_record *r, size_t n, size_t *len)
{
	return export_raw_split(fmt, r, n, 0, len);
}

/* Exports r[0..n) through export_writer_row; returns the output (caller frees). */
static char *export_records(export_format fmt, response_record *r, size_t n)
{
	sink_buf s = { 0 };
	export_all(fmt, false, r, n, &s);
	return s.data;
}

static void test_raw_rows_match_records(void **state)
{
	(void)state;
	static const char *const cases[][4] = {
		/* answers, meta, score, tags */
		{ "{\"reason\":\"plain\",\"colours\":[\"Red\",\"Blue\"],\"qty\":3,\"likely\":10}", "{\"page\":\"/cart\"}",
		  "{\"nps\":10,\"category\":\"promoter\"}", "[\"promoter\",\"vip\"]" },
		{ "{\"reason\":\"=1+1, \\\"quoted\\\"\\nnew line\\t\\u00e9\\u20ac\\ud83d\\ude00 \\/ \\\\\"}", "{}", NULL, NULL },
		{ "{\"qty\":-5,\"likely\":0,\"reason\":\"-starts with minus\"}", "{\"page\":\"https://x.example/a?b=1\"}",
		  "7", "[]" },
		{ "{\"qty\":2.5,\"reason\":\"x\"}", "{\"page\":\"/p\",\"visitor\":\"v\"}", "{\"nps\":\"nope\",\"other\":4.25}", "[]" },
		{ "{\"qty\":1e300,\"reason\":null,\"colours\":[]}", "{\"page\":null}", "{\"category\":\"detractor\"}", "[1,true,null]" },
		{ "{\"qty\":0.1,\"reason\":true,\"likely\":false}", "{}", "null", "[[\"a\",\"b\"],{\"z\":1,\"a\":[2]}]" },
		{ "{\"reason\":{\"b\":1,\"a\":\"x\"},\"qty\":-0,\"unknown\":\"ignored\",\"reason\":\"last wins\"}", "{}", "\"text\"", "[]" },
		{ "{\"reason\":\"a\\u001fb\",\"qty\":9007199254740993}", "{}", "{\"nps\":-3}", "[\"\\u0001\"]" },
		{ "{}", "{}", NULL, "[]" },
	};
	size_t n = sizeof cases / sizeof cases[0];
	response_record r[sizeof cases / sizeof cases[0]];
	for (size_t i = 0; i < n; i++) {
		char id[16];
		snprintf(id, sizeof id, "r_%zu", i);
		make_record(&r[i], id, 1764000000000LL + (int64_t)i * 86400123LL, cases[i][0], cases[i][1], cases[i][2],
		            cases[i][3]);
	}
	export_format fmts[] = { EXPORT_CSV, EXPORT_NDJSON };
	for (size_t f = 0; f < 2; f++) {
		char *want = export_records(fmts[f], r, n);
		char *got = export_raw(fmts[f], r, n, NULL);
		assert_string_equal(got, want);
		free(want);
		free(got);
	}
	/* XLSX: the worksheets (the workbook's other parts carry creation times) */
	sink_buf xs = { 0 };
	export_all(EXPORT_XLSX, false, r, n, &xs);
	char *want = sheet_xml(xs.data, xs.len);
	free(xs.data);
	xs.data = export_raw(EXPORT_XLSX, r, n, &xs.len);
	char *got = sheet_xml(xs.data, xs.len);
	assert_non_null(strstr(want, "<sheetData>"));
	assert_string_equal(got, want);
	free(want);
	free(got);
	free(xs.data);
	for (size_t i = 0; i < n; i++)
		response_record_clear(&r[i]);
}

static void test_raw_rows_refuse_malformed_json(void **state)
{
	(void)state;
	static const char *const bad[] = { "{\"reason\":}", "{\"reason\":\"x\"", "[1,2]", "{\"a\":tru}",
	                                   "{\"a\":\"\\x\"}", "{\"a\":01}", "", "{\"a\":1}}" };
	export_format fmts[] = { EXPORT_CSV, EXPORT_NDJSON };
	for (size_t f = 0; f < 2; f++) {
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			sink_buf s = { 0 };
			char *err = NULL;
			export_writer *w = export_writer_new(fmts[f], &test_form, false, collect, &s, &err);
			response_raw raw = { .id = "r_1", .form = "shop", .answers = bad[i], .answers_len = strlen(bad[i]),
			                     .meta = "{}", .meta_len = 2, .tags = "[]", .tags_len = 2 };
			/* "[1,2]" is well-formed JSON: NDJSON copies it, CSV needs an object */
			int want = (fmts[f] == EXPORT_NDJSON && strcmp(bad[i], "[1,2]") == 0) ? 0 : -1;
			assert_int_equal(export_writer_row_raw(w, &raw, &err), want);
			if (want != 0) {
				assert_non_null(err);
				free(err);
			}
			export_writer_free(w);
			free(s.data);
		}
	}
}

/* ---- XLSX --------------------------------------------------------------------------------------- */

/* True when the bytes of needle occur in hay[0..len). */
static bool contains(const char *hay, size_t len, const char *needle)
{
	return memmem(hay, len, needle, strlen(needle)) != NULL;
}

static void test_xlsx(void **state)
{
	(void)state;
	response_record r[2];
	make_record(&r[0], "r_x", 1764000000000LL,
	            "{\"reason\":\"=1+1\",\"colours\":[\"Red\",\"Green\"],\"qty\":-5}",
	            "{\"page\":\"/p\"}", "{\"nps\":10,\"category\":\"promoter\"}", "[\"a\",\"b\"]");
	make_record(&r[1], "r_y", 1764000000001LL, "{\"likely\":0}", NULL, NULL, NULL);
	int before = tmp_entries();
	sink_buf s = { 0 };
	export_all(EXPORT_XLSX, false, r, 2, &s);
	/* a zip: local file header signature, end-of-central-directory record, the sheet inside */
	assert_true(s.len > 1000);
	assert_memory_equal(s.data, "PK\x03\x04", 4);
	assert_true(contains(s.data, s.len, "PK\x05\x06"));
	assert_true(contains(s.data, s.len, "xl/worksheets/sheet1.xml"));
	assert_true(contains(s.data, s.len, "[Content_Types].xml"));
	/* no temporary file at any point */
	assert_int_equal(tmp_entries(), before);
	free(s.data);
	response_record_clear(&r[0]);
	response_record_clear(&r[1]);
}

/* Cleans s with a generous limit, compares with want and frees. */
static void expect_cell_text(const char *s, const char *want)
{
	char *got = xlsx_cell_text(s, 32767);
	assert_string_equal(got, want);
	free(got);
}

static void test_xlsx_cell_text(void **state)
{
	(void)state;
	expect_cell_text("plain, text & <tags>", "plain, text & <tags>");
	expect_cell_text("tab\tnl\ncr\r", "tab\tnl\ncr\r");
	/* characters XML 1.0 forbids become U+FFFD */
	expect_cell_text("a\xEF\xBF\xBE" "b\xEF\xBF\xBF" "c", "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c");
	expect_cell_text("bell\x07" "esc\x1B", "bell\xEF\xBF\xBD" "esc\xEF\xBF\xBD");
	/* bytes that are not UTF-8 (a stray continuation byte, a surrogate, a truncated sequence) too */
	expect_cell_text("x\x80y", "x\xEF\xBF\xBDy");
	expect_cell_text("\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	expect_cell_text("end\xE2\x82", "end\xEF\xBF\xBD\xEF\xBF\xBD");
	/* allowed non-ASCII stays */
	expect_cell_text("caf\xC3\xA9 \xF0\x9F\x98\x80 \xEF\xBF\xBD", "caf\xC3\xA9 \xF0\x9F\x98\x80 \xEF\xBF\xBD");
	/* an escape look-alike stays literal; near misses are left alone */
	expect_cell_text("_x003D_", "_x005F_x003D_");
	expect_cell_text("a_x00aF_b_X003D__x003D", "a_x005F_x00aF_b_X003D__x003D");
	expect_cell_text("_x005F_x0041_", "_x005F_x005F_x005F_x0041_");
	/* the limit cuts on a character boundary */
	char *cut = xlsx_cell_text("ab\xC3\xA9" "cd", 3);
	assert_string_equal(cut, "ab");
	free(cut);
}

static void test_xlsx_large_streams_in_pieces(void **state)
{
	(void)state;
	size_t n = 3000;
	/* incompressible-ish text so that the file is well past one 64 KiB piece */
	response_record *r = big_records(n, 200);
	for (size_t i = 0; i < n; i++) {
		char id[40];
		snprintf(id, sizeof id, "%08zx-%08zx", i * 2654435761u, i * 40503u);
		json_object_set_new(r[i].answers, "reason", json_string(id));
	}
	sink_buf s = { 0 };
	export_all(EXPORT_XLSX, false, r, n, &s);
	assert_true(s.len > 65536);
	assert_true(s.calls >= 2);
	assert_int_equal(s.max_piece, 65536);
	assert_true(s.calls_before_finish >= 1); /* pieces go out while rows are written */
	assert_memory_equal(s.data, "PK", 2);
	free(s.data);
	free_records(r, n);
}

static void test_xlsx_free_without_finish_cleans_up(void **state)
{
	(void)state;
	int before = tmp_entries();
	sink_buf s = { 0 };
	char *err = NULL;
	export_writer *w = export_writer_new(EXPORT_XLSX, &test_form, false, collect, &s, &err);
	assert_non_null(w);
	assert_int_equal(tmp_entries(), before);
	response_record r;
	make_record(&r, "r_z", 0, "{\"qty\":1}", NULL, NULL, NULL);
	assert_int_equal(export_writer_row(w, &r, &err), 0);
	export_writer_free(w);
	assert_int_equal(tmp_entries(), before);
	assert_int_equal(s.calls, 0);
	response_record_clear(&r);
}

/* Writes len bytes of data to the file name in the test's directory; returns its path (static). */
static const char *save(const char *name, const char *data, size_t len)
{
	static char path[2][160];
	static int k;
	char *p = path[k++ % 2];
	snprintf(p, sizeof path[0], "%s/%s", tmp_dir, name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return p;
}

/* The workbook of n records, its worksheets split every sheet_rows rows, against the CSV export of
 * the same records, compared by tests/integration/xlsx_read.py (zipfile, an XML parser, openpyxl). */
static void expect_xlsx_equals_csv(const response_record *r, size_t n, unsigned sheet_rows)
{
	size_t csv_len, xlsx_len;
	char *csv = export_raw_split(EXPORT_CSV, r, n, 0, &csv_len);
	char *xlsx = export_raw_split(EXPORT_XLSX, r, n, sheet_rows, &xlsx_len);
	const char *srcdir = getenv("EARSHOT_SRCDIR");
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "python3 %s/tests/integration/xlsx_read.py %s", srcdir ? srcdir : ".",
	         save("book.csv", csv, csv_len));
	snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " %s %u >&2", save("book.xlsx", xlsx, xlsx_len),
	         sheet_rows);
	assert_int_equal(system(cmd), 0);
	char path[160];
	snprintf(path, sizeof path, "%s/book.csv", tmp_dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/book.xlsx", tmp_dir);
	unlink(path);
	free(csv);
	free(xlsx);
}

static void test_xlsx_equals_csv_over_split_sheets(void **state)
{
	(void)state;
	static const char *const cases[][4] = {
		/* answers, meta, score, tags */
		{ "{\"reason\":\"plain\",\"colours\":[\"Red\",\"Blue\"],\"qty\":3,\"likely\":10}", "{\"page\":\"/cart\"}",
		  "{\"nps\":10,\"category\":\"promoter\"}", "[\"promoter\",\"vip\"]" },
		{ "{\"reason\":\"=1+1, \\\"quoted\\\"\\nnew line\\t\\u00e9\\u20ac\\ud83d\\ude00 & <b> \\/ \\\\\"}", "{}", NULL, NULL },
		{ "{\"qty\":-5,\"likely\":0,\"reason\":\"-starts with minus\"}", "{\"page\":\"https://x.example/a?b=1&c=2\"}",
		  "7", "[]" },
		{ "{\"qty\":2.5,\"reason\":\" spaces around \"}", "{\"page\":\"/p\"}", "{\"nps\":\"nope\",\"other\":4.25}", "[]" },
		{ "{\"qty\":1e300,\"reason\":null,\"colours\":[]}", "{\"page\":null}", "{\"category\":\"detractor\"}",
		  "[1,true,null]" },
		{ "{\"qty\":0.1,\"reason\":true,\"likely\":false}", "{}", "null", "[[\"a\",\"b\"],{\"z\":1,\"a\":[2]}]" },
		{ "{\"reason\":\"a\\u001fb\\u0001 \\uffff _x0041_\",\"qty\":9007199254740993}", "{}", "{\"nps\":-3}",
		  "[\"\\u0001\"]" },
		{ "{}", "{}", NULL, "[]" },
	};
	size_t n = sizeof cases / sizeof cases[0];
	response_record r[sizeof cases / sizeof cases[0] + 1];
	for (size_t i = 0; i < n; i++) {
		char id[16];
		snprintf(id, sizeof id, "r_%zu", i);
		make_record(&r[i], id, 1764000000000LL + (int64_t)i * 86400123LL, cases[i][0], cases[i][1], cases[i][2],
		            cases[i][3]);
	}
	/* a text past a cell's 32,767 bytes, two-byte characters across the cut */
	make_record(&r[n], "r_long", 1764000000000LL, "{}", NULL, NULL, NULL);
	size_t long_len = 40001;
	char *text = xmalloc(long_len + 1);
	for (size_t i = 0; i < long_len; i += 2)
		memcpy(text + i, i + 1 < long_len ? "\xC3\xA9" : "x", i + 1 < long_len ? 2 : 1);
	text[long_len] = '\0';
	json_object_set_new(r[n].answers, "reason", json_string(text));
	free(text);
	n++;
	expect_xlsx_equals_csv(r, n, 4);         /* three rows a sheet: Responses, Responses 2, Responses 3 */
	expect_xlsx_equals_csv(r, n, n + 1);     /* exactly full: one sheet */
	expect_xlsx_equals_csv(r, n, 1048576);   /* the default */
	expect_xlsx_equals_csv(r, 0, 4);         /* no answers: the header alone */
	for (size_t i = 0; i < n; i++)
		response_record_clear(&r[i]);
}

/* ---- sink refusal ------------------------------------------------------------------------------- */

static void test_sink_refusal_during_rows(void **state)
{
	(void)state;
	size_t n = 200;
	response_record *r = big_records(n, 1000);
	export_format fmts[] = { EXPORT_CSV, EXPORT_NDJSON };
	for (size_t k = 0; k < 2; k++) {
		sink_buf s = { .limit = 20000 };
		char *err = NULL;
		export_writer *w = export_writer_new(fmts[k], &test_form, false, collect, &s, &err);
		assert_non_null(w);
		int rc = 0;
		size_t i;
		for (i = 0; i < n && rc == 0; i++)
			rc = export_writer_row(w, &r[i], &err);
		assert_int_equal(rc, -1);
		assert_true(i < n); /* stopped early */
		assert_non_null(err);
		assert_non_null(strstr(err, "refused"));
		free(err);
		err = NULL;
		/* the writer stays failed */
		assert_int_equal(export_writer_row(w, &r[0], &err), -1);
		free(err);
		err = NULL;
		assert_int_equal(export_writer_finish(w, &err), -1);
		free(err);
		export_writer_free(w);
		free(s.data);
	}
	free_records(r, n);
}

static void test_sink_refusal_at_finish(void **state)
{
	(void)state;
	response_record r;
	make_record(&r, "r_f", 0, "{\"qty\":1}", NULL, NULL, NULL);
	export_format fmts[] = { EXPORT_CSV, EXPORT_NDJSON, EXPORT_XLSX };
	for (size_t k = 0; k < 3; k++) {
		int before = tmp_entries();
		sink_buf s = { .limit = 10 };
		char *err = NULL;
		export_writer *w = export_writer_new(fmts[k], &test_form, false, collect, &s, &err);
		assert_non_null(w);
		assert_int_equal(export_writer_row(w, &r, &err), 0);
		assert_int_equal(export_writer_finish(w, &err), -1);
		assert_non_null(err);
		free(err);
		export_writer_free(w);
		assert_int_equal(tmp_entries(), before);
		assert_int_equal(s.len, 0);
		free(s.data);
	}
	response_record_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_cell_quoting),
		cmocka_unit_test(test_csv_cell_formula_guard),
		cmocka_unit_test(test_value_text),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_csv_empty_has_header),
		cmocka_unit_test(test_csv_rows),
		cmocka_unit_test(test_csv_round_trip),
		cmocka_unit_test(test_csv_streams_in_bounded_pieces),
		cmocka_unit_test(test_ndjson),
		cmocka_unit_test(test_raw_rows_match_records),
		cmocka_unit_test(test_raw_rows_refuse_malformed_json),
		cmocka_unit_test(test_xlsx),
		cmocka_unit_test(test_xlsx_cell_text),
		cmocka_unit_test(test_xlsx_large_streams_in_pieces),
		cmocka_unit_test(test_xlsx_free_without_finish_cleans_up),
		cmocka_unit_test(test_xlsx_equals_csv_over_split_sheets),
		cmocka_unit_test(test_sink_refusal_during_rows),
		cmocka_unit_test(test_sink_refusal_at_finish),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
