/* Unit tests for the nps plugin, driven through its descriptor with a fake host table (as the server
 * would, but with answers and stored rows the test chooses): categories at every boundary, which
 * question is scored, config refusals, the report on a known data set, the margin of error, and the
 * series bucketing by day, week and month across UTC boundaries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <earshot/plugin.h>

extern const struct earshot_plugin earshot_plugin;

/* ---- The fake host ------------------------------------------------------------------------------- */

#include "fake_host_config.h"

/* One answer: a question of a type, with a number (or a string when text is set). */
typedef struct fake_answer {
	const char *id;
	const char *type;
	double number;
	const char *text;
} fake_answer;

struct earshot_response {
	const fake_answer *answers;
	size_t n;
	json_t *score;           /* what set_score produced */
	json_t *tags;
};

/* One stored row: created time, score.nps (or none when < 0) and an answer "score" (or none). */
typedef struct fake_row {
	int64_t created_ms;
	double nps;
	double answer;
} fake_row;

#define NONE (-1.0)

struct earshot_request {
	const char *form;
	const char *interval, *since, *until;
	const fake_row *rows;
	size_t n_rows;
	int status;
	char *body;              /* the reply, compact JSON */
	int64_t opened_since, opened_until;
	int queries_open;
};

struct earshot_query {
	earshot_request *req;
	size_t next;             /* index of the next row; the current is next - 1 */
};

static char *route_registered;

static int fake_add_route(const earshot_conf *c, const char *method, const char *pattern)
{
	(void)c;
	free(route_registered);
	if (asprintf(&route_registered, "%s %s", method, pattern) < 0)
		route_registered = NULL;
	return EARSHOT_OK;
}

static const fake_answer *answer_find(const earshot_response *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->answers[i].id, id) == 0)
			return &r->answers[i];
	return NULL;
}

static size_t fake_answered_count(const earshot_response *r)
{
	return r->n;
}

static const char *fake_answered_id(const earshot_response *r, size_t i)
{
	return i < r->n ? r->answers[i].id : NULL;
}

static const char *fake_question_type(const earshot_response *r, const char *id)
{
	const fake_answer *a = answer_find(r, id);
	return a ? a->type : NULL;
}

static int fake_answer_number(const earshot_response *r, const char *id, double *out)
{
	const fake_answer *a = answer_find(r, id);
	if (!a || a->text)
		return 0;
	*out = a->number;
	return 1;
}

static int fake_set_score(earshot_response *r, const char *name, double value, const char *category)
{
	if (!r->score)
		r->score = json_object();
	json_object_set_new(r->score, name, value == floor(value) ? json_integer((json_int_t)value)
	                                                          : json_real(value));
	if (category)
		json_object_set_new(r->score, "category", json_string(category));
	return EARSHOT_OK;
}

static int fake_add_tag(earshot_response *r, const char *tag)
{
	if (!r->tags)
		r->tags = json_array();
	json_array_append_new(r->tags, json_string(tag));
	return EARSHOT_OK;
}

static const char *fake_path_param(const earshot_request *q, const char *name)
{
	return strcmp(name, "form") == 0 ? q->form : NULL;
}

static const char *fake_query_param(const earshot_request *q, const char *name)
{
	return strcmp(name, "interval") == 0 ? q->interval
	       : strcmp(name, "since") == 0  ? q->since
	       : strcmp(name, "until") == 0  ? q->until
	                                     : NULL;
}

static int fake_reply(earshot_request *q, int status, earshot_json *body)
{
	assert_null(q->body);
	q->status = status;
	q->body = json_dumps((json_t *)body, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref((json_t *)body);
	return EARSHOT_OK;
}

static int fake_reply_error(earshot_request *q, int status, const char *code, const char *message)
{
	json_t *o = json_object();
	json_object_set_new(o, "error", json_string(code));
	json_object_set_new(o, "message", json_string(message));
	return fake_reply(q, status, (earshot_json *)o);
}

static earshot_json *fake_new_object(void) { return (earshot_json *)json_object(); }
static earshot_json *fake_new_array(void) { return (earshot_json *)json_array(); }
static earshot_json *fake_new_string(const char *s) { return (earshot_json *)json_string(s); }
static earshot_json *fake_new_int(int64_t v) { return (earshot_json *)json_integer((json_int_t)v); }
static earshot_json *fake_new_number(double v) { return (earshot_json *)json_real(v); }
static earshot_json *fake_new_null(void) { return (earshot_json *)json_null(); }

static int fake_object_set(earshot_json *o, const char *key, earshot_json *v)
{
	return json_object_set_new((json_t *)o, key, (json_t *)v) == 0 ? EARSHOT_OK : EARSHOT_ERROR;
}

static int fake_array_append(earshot_json *a, earshot_json *v)
{
	return json_array_append_new((json_t *)a, (json_t *)v) == 0 ? EARSHOT_OK : EARSHOT_ERROR;
}

static void fake_json_free(earshot_json *v)
{
	json_decref((json_t *)v);
}

/* Returns the rows in [since, until), as the store would. */
static earshot_query *fake_query_open(earshot_request *q, const char *form, int64_t since, int64_t until)
{
	assert_string_equal(form, q->form);
	q->opened_since = since;
	q->opened_until = until;
	q->queries_open++;
	earshot_query *qq = calloc(1, sizeof *qq);
	qq->req = q;
	return qq;
}

static const fake_row *current_row(const earshot_query *qq)
{
	return &qq->req->rows[qq->next - 1];
}

static int fake_query_next(earshot_query *qq)
{
	const earshot_request *q = qq->req;
	while (qq->next < q->n_rows) {
		const fake_row *r = &q->rows[qq->next++];
		if (r->created_ms >= q->opened_since && r->created_ms < q->opened_until)
			return 1;
	}
	return 0;
}

static int64_t fake_query_created_ms(const earshot_query *qq)
{
	return current_row(qq)->created_ms;
}

static int fake_query_score(const earshot_query *qq, const char *name, double *out)
{
	if (strcmp(name, "nps") != 0 || current_row(qq)->nps < 0)
		return 0;
	*out = current_row(qq)->nps;
	return 1;
}

static int fake_query_answer_number(const earshot_query *qq, const char *id, double *out)
{
	if (strcmp(id, "score") != 0 || current_row(qq)->answer < 0)
		return 0;
	*out = current_row(qq)->answer;
	return 1;
}

static void fake_query_close(earshot_query *qq)
{
	qq->req->queries_open--;
	free(qq);
}

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (UTC) to ms. */
static int fake_parse_time(const char *text, int64_t *ms)
{
	struct tm tm = { 0 };
	int n = 0;
	if (sscanf(text, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3)
		return EARSHOT_ERROR;
	if (text[n] == 'T' && sscanf(text + n, "T%2d:%2d:%2dZ", &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 3)
		return EARSHOT_ERROR;
	if (text[n] != 'T' && text[n] != '\0')
		return EARSHOT_ERROR;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31)
		return EARSHOT_ERROR;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ms = (int64_t)timegm(&tm) * 1000;
	return EARSHOT_OK;
}

static const struct earshot_host host = {
	.size = sizeof(struct earshot_host),
	.abi_major = EARSHOT_PLUGIN_ABI_MAJOR,
	.abi_minor = EARSHOT_PLUGIN_ABI_MINOR,
	.server_version = "test",
	.log = fake_log,
	.set_error = fake_set_error,
	.last_error = fake_last_error,
	.config_type = fake_config_type,
	.config_string = fake_config_string,
	.config_length = fake_config_length,
	.config_key = fake_config_key,
	.add_route = fake_add_route,
	.answered_count = fake_answered_count,
	.answered_id = fake_answered_id,
	.question_type = fake_question_type,
	.answer_number = fake_answer_number,
	.set_score = fake_set_score,
	.add_tag = fake_add_tag,
	.path_param = fake_path_param,
	.query_param = fake_query_param,
	.reply = fake_reply,
	.reply_error = fake_reply_error,
	.new_object = fake_new_object,
	.new_array = fake_new_array,
	.new_string = fake_new_string,
	.new_int = fake_new_int,
	.new_number = fake_new_number,
	.new_null = fake_new_null,
	.object_set = fake_object_set,
	.array_append = fake_array_append,
	.json_free = fake_json_free,
	.query_open = fake_query_open,
	.query_next = fake_query_next,
	.query_created_ms = fake_query_created_ms,
	.query_score = fake_query_score,
	.query_answer_number = fake_query_answer_number,
	.query_close = fake_query_close,
	.parse_time = fake_parse_time,
};

/* ---- Helpers ------------------------------------------------------------------------------------- */

/* Runs init with config (JSON text); returns its result and the state in *state. */
static int plugin_init(const char *config, void **state)
{
	earshot_conf c = { json_loads(config, 0, NULL) };
	assert_non_null(c.root);
	*state = NULL;
	int rc = earshot_plugin.init(&host, &c, state);
	json_decref(c.root);
	return rc;
}

/* Scores one response; returns its score JSON text ("" when none) and checks the tag. */
static char *score_of(void *state, const fake_answer *answers, size_t n)
{
	earshot_response r = { .answers = answers, .n = n };
	assert_int_equal(earshot_plugin.on_response(state, &r), EARSHOT_OK);
	char *out = r.score ? json_dumps(r.score, JSON_COMPACT) : strdup("");
	if (r.score) {
		/* The category is also the one tag. */
		assert_int_equal(json_array_size(r.tags), 1);
		assert_string_equal(json_string_value(json_array_get(r.tags, 0)),
		                    json_string_value(json_object_get(r.score, "category")));
	} else {
		assert_null(r.tags);
	}
	json_decref(r.score);
	json_decref(r.tags);
	return out;
}

/* Runs the report route; returns the status, and the body in *body (caller frees). */
static int report(void *state, const char *interval, const char *since, const char *until,
                  const fake_row *rows, size_t n, char **body)
{
	earshot_request q = { .form = "exit", .interval = interval, .since = since, .until = until,
	                      .rows = rows, .n_rows = n };
	assert_int_equal(earshot_plugin.on_route(state, &q), EARSHOT_OK);
	assert_int_equal(q.queries_open, 0);
	*body = q.body;
	return q.status;
}

/* Milliseconds of a UTC date-time given as text. */
static int64_t at(const char *text)
{
	int64_t ms;
	assert_int_equal(fake_parse_time(text, &ms), EARSHOT_OK);
	return ms;
}

static int teardown_all(void **state)
{
	(void)state;
	free(last_err);
	free(route_registered);
	return 0;
}

/* ---- Tests --------------------------------------------------------------------------------------- */

static void test_descriptor(void **state)
{
	(void)state;
	assert_int_equal(earshot_plugin.struct_size, sizeof(struct earshot_plugin));
	assert_int_equal(earshot_plugin.abi_major, EARSHOT_PLUGIN_ABI_MAJOR);
	assert_int_equal(earshot_plugin.abi_minor, EARSHOT_PLUGIN_ABI_MINOR);
	assert_string_equal(earshot_plugin.name, "nps");
	void *st;
	assert_int_equal(plugin_init("{}", &st), EARSHOT_OK);
	assert_string_equal(route_registered, "GET /api/v1/forms/{form}/nps");
	earshot_plugin.fini(st);
}

static void test_categories_at_every_boundary(void **state)
{
	(void)state;
	void *st;
	assert_int_equal(plugin_init("{}", &st), EARSHOT_OK);
	static const struct {
		int score;
		const char *category;
	} cases[] = { { 0, "detractor" }, { 6, "detractor" }, { 7, "passive" }, { 8, "passive" },
		      { 9, "promoter" }, { 10, "promoter" } };
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		fake_answer a = { "nps", "nps", cases[i].score, NULL };
		char *got = score_of(st, &a, 1);
		char want[64];
		snprintf(want, sizeof want, "{\"nps\":%d,\"category\":\"%s\"}", cases[i].score, cases[i].category);
		assert_string_equal(got, want);
		free(got);
	}
	/* Not a whole 0-10 number, or no answer: no score. */
	static const double odd[] = { 7.5, 11, -1 };
	for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
		fake_answer a = { "nps", "nps", odd[i], NULL };
		char *got = score_of(st, &a, 1);
		assert_string_equal(got, "");
		free(got);
	}
	char *got = score_of(st, NULL, 0);
	assert_string_equal(got, "");
	free(got);
	earshot_plugin.fini(st);
}

static void test_which_question_is_scored(void **state)
{
	(void)state;
	const fake_answer answers[] = {
		{ "stars", "rating", 5, NULL },
		{ "first", "nps", 3, NULL },
		{ "second", "nps", 10, NULL },
	};
	void *st;
	/* Default: the first answered question of type nps (a rating is not one). */
	assert_int_equal(plugin_init("{}", &st), EARSHOT_OK);
	char *got = score_of(st, answers, 3);
	assert_string_equal(got, "{\"nps\":3,\"category\":\"detractor\"}");
	free(got);
	earshot_plugin.fini(st);
	/* `question:` names the one to score. */
	assert_int_equal(plugin_init("{\"question\":\"second\"}", &st), EARSHOT_OK);
	got = score_of(st, answers, 3);
	assert_string_equal(got, "{\"nps\":10,\"category\":\"promoter\"}");
	free(got);
	got = score_of(st, answers, 2); /* that question unanswered */
	assert_string_equal(got, "");
	free(got);
	earshot_plugin.fini(st);
}

static void test_config_refused(void **state)
{
	(void)state;
	void *st;
	assert_int_equal(plugin_init("{\"question\": 5}", &st), EARSHOT_ERROR);
	assert_string_equal(last_err, "\"question\" must be a string");
	assert_int_equal(plugin_init("{\"question\": \"\"}", &st), EARSHOT_ERROR);
	assert_string_equal(last_err, "\"question\" must name a question id");
	assert_int_equal(plugin_init("{\"question\": \"q\", \"interval\": \"day\"}", &st), EARSHOT_ERROR);
	assert_string_equal(last_err, "unknown setting \"interval\" (known: question)");
}

static void test_report_known_data_set(void **state)
{
	(void)state;
	static const int scores[] = { 10, 9, 9, 8, 7, 6, 3, 0, 10, 10, 5, 9 };
	fake_row rows[12];
	for (size_t i = 0; i < 12; i++)
		rows[i] = (fake_row){ at("2026-11-24T08:00:00Z") + (int64_t)i * 60000, scores[i], NONE };
	void *st;
	assert_int_equal(plugin_init("{}", &st), EARSHOT_OK);
	char *body;
	assert_int_equal(report(st, NULL, NULL, NULL, rows, 12, &body), 200);
	/* 6 promoters, 2 passives, 4 detractors: 50% - 33.3% = 16.7; p=.5, d=1/3,
	 * var = .5 + .3333 - (.1667)^2 = .80556, 1.96 * sqrt(.80556 / 12) = 50.8 points. */
	assert_string_equal(body, "{\"nps\":16.7,\"responses\":12,\"promoters\":6,\"passives\":2,"
	                          "\"detractors\":4,\"margin_of_error\":50.8,"
	                          "\"series\":[{\"start\":\"2026-11-24\",\"nps\":16.7,\"responses\":12}]}");
	free(body);
	earshot_plugin.fini(st);
}

static void test_margin_of_error(void **state)
{
	(void)state;
	void *st;
	assert_int_equal(plugin_init("{}", &st), EARSHOT_OK);
	int64_t t = at("2026-01-05T12:00:00Z");
	char *body;
	/* Half promoters, half detractors, n = 4: var = 1, 1.96 * sqrt(1/4) = 98.0 points. */
	const fake_row split[] = { { t, 10, NONE }, { t, 0, NONE }, { t, 9, NONE }, { t, 6, NONE } };
	assert_int_equal(report(st, NULL, NULL, NULL, split, 4, &body), 200);
	assert_non_null(strstr(body, "\"nps\":0.0,\"responses\":4,\"promoters\":2,\"passives\":0,"
	                             "\"detractors\":2,\"margin_of_error\":98.0,"));
	free(body);
	/* Everyone a promoter: no variance, no margin. */
	const fake_row all[] = { { t, 10, NONE }, { t, 9, NONE }, { t, 10, NONE } };
	assert_int_equal(report(st, NULL, NULL, NULL, all, 3, &body), 200);
	assert_non_null(strstr(body, "\"nps\":100.0,\"responses\":3,"));
	assert_non_null(strstr(body, "\"margin_of_error\":0.0,"));
	free(body);
	/* 1 promoter, 3 passives, 1 detractor, n = 5: var = .4, 1.96 * sqrt(.08) = 55.4 points. */
	const fake_row mixed[] = { { t, 9, NONE }, { t, 7, NONE }, { t, 8, NONE }, { t, 8, NONE },
		                   { t, 2, NONE } };
	assert_int_equal(report(st, NULL, NULL, NULL, mixed, 5, &body), 200);
	assert_non_null(strstr(body, "\"nps\":0.0,\"responses\":5,"));
	assert_non_null(strstr(body, "\"margin_of_error\":55.4,"));
	free(body);
	/* Nothing yet: null figures, not a misleading 0. */
	assert_int_equal(report(st, NULL, NULL, NULL, NULL, 0, &body), 200);
	assert_string_equal(body, "{\"nps\":null,\"responses\":0,\"promoters\":0,\"passives\":0,"
	                          "\"detractors\":0,\"margin_of_error\":null,\"series\":[]}");
	free(body);
	earshot_plugin.fini(st);
}

static void test_series_by_day(void **state)
{
	(void)state;
	void *st;
	assert_int_equal(plugin_init("{}", &st), EARSHOT_OK);
	const fake_row rows[] = {
		{ at("2026-11-24T00:00:00Z"), 10, NONE },     /* first instant of the 24th */
		{ at("2026-11-23T23:59:59Z") + 999, 0, NONE }, /* last instant of the 23rd */
		{ at("2026-11-24T23:59:59Z"), 9, NONE },
		{ at("2026-11-21T10:00:00Z"), 7, NONE },      /* out of order: the series is sorted */
		{ at("1969-12-31T23:00:00Z"), 3, NONE },      /* before the epoch */
	};
	char *body;
	assert_int_equal(report(st, "day", NULL, NULL, rows, 5, &body), 200);
	assert_non_null(strstr(body, "\"series\":[{\"start\":\"1969-12-31\",\"nps\":-100.0,\"responses\":1},"
	                             "{\"start\":\"2026-11-21\",\"nps\":0.0,\"responses\":1},"
	                             "{\"start\":\"2026-11-23\",\"nps\":-100.0,\"responses\":1},"
	                             "{\"start\":\"2026-11-24\",\"nps\":100.0,\"responses\":2}]}"));
	free(body);
	earshot_plugin.fini(st);
}

static void test_series_by_week(void **state)
{
	(void)state;
	void *st;
	assert_int_equal(plugin_init("{}", &st), EARSHOT_OK);
	const fake_row rows[] = {
		{ at("2026-11-22T23:59:59Z"), 10, NONE }, /* Sunday: the week of Monday the 16th */
		{ at("2026-11-23T00:00:00Z"), 0, NONE },  /* Monday: a new week */
		{ at("2026-11-29T12:00:00Z"), 8, NONE },  /* Sunday of that week */
		{ at("2026-10-29T09:00:00Z"), 9, NONE },  /* Thursday; the week of Monday 26 October ... */
		{ at("2026-11-01T18:00:00Z"), 3, NONE },  /* ... runs across the month end to Sunday 1 November */
		{ at("2026-12-31T10:00:00Z"), 9, NONE },  /* Thursday; the week of Monday 28 December ... */
		{ at("2027-01-03T10:00:00Z"), 9, NONE },  /* ... runs across the year end */
		{ at("1970-01-01T00:00:00Z"), 9, NONE },  /* a Thursday: the week of Monday 29 December 1969 */
	};
	char *body;
	assert_int_equal(report(st, "week", NULL, NULL, rows, 8, &body), 200);
	assert_non_null(strstr(body, "\"series\":[{\"start\":\"1969-12-29\",\"nps\":100.0,\"responses\":1},"
	                             "{\"start\":\"2026-10-26\",\"nps\":0.0,\"responses\":2},"
	                             "{\"start\":\"2026-11-16\",\"nps\":100.0,\"responses\":1},"
	                             "{\"start\":\"2026-11-23\",\"nps\":-50.0,\"responses\":2},"
	                             "{\"start\":\"2026-12-28\",\"nps\":100.0,\"responses\":2}]}"));
	free(body);
	earshot_plugin.fini(st);
}

static void test_series_by_month(void **state)
{
	(void)state;
	void *st;
	assert_int_equal(plugin_init("{}", &st), EARSHOT_OK);
	const fake_row rows[] = {
		{ at("2027-01-31T23:59:59Z") + 999, 10, NONE }, /* last instant of January */
		{ at("2027-02-01T00:00:00Z"), 6, NONE },         /* first of February */
		{ at("2027-02-28T12:00:00Z"), 8, NONE },
		{ at("2028-02-29T12:00:00Z"), 9, NONE },         /* a leap day */
		{ at("2026-12-31T23:00:00Z"), 0, NONE },
	};
	char *body;
	assert_int_equal(report(st, "month", NULL, NULL, rows, 5, &body), 200);
	assert_non_null(strstr(body, "\"series\":[{\"start\":\"2026-12-01\",\"nps\":-100.0,\"responses\":1},"
	                             "{\"start\":\"2027-01-01\",\"nps\":100.0,\"responses\":1},"
	                             "{\"start\":\"2027-02-01\",\"nps\":-50.0,\"responses\":2},"
	                             "{\"start\":\"2028-02-01\",\"nps\":100.0,\"responses\":1}]}"));
	free(body);
	earshot_plugin.fini(st);
}

static void test_since_until_and_bad_parameters(void **state)
{
	(void)state;
	void *st;
	assert_int_equal(plugin_init("{}", &st), EARSHOT_OK);
	const fake_row rows[] = {
		{ at("2026-11-01T00:00:00Z"), 10, NONE },
		{ at("2026-11-15T00:00:00Z"), 0, NONE },
		{ at("2026-11-30T00:00:00Z"), 9, NONE },
	};
	earshot_request q = { .form = "exit", .interval = "month", .since = "2026-11-02",
	                      .until = "2026-11-30T00:00:00Z", .rows = rows, .n_rows = 3 };
	assert_int_equal(earshot_plugin.on_route(st, &q), EARSHOT_OK);
	assert_int_equal(q.status, 200);
	assert_true(q.opened_since == at("2026-11-02T00:00:00Z"));
	assert_true(q.opened_until == at("2026-11-30T00:00:00Z"));
	assert_non_null(strstr(q.body, "\"responses\":1,\"promoters\":0,\"passives\":0,\"detractors\":1,"));
	free(q.body);

	static const struct {
		const char *interval, *since, *until, *message;
	} bad[] = {
		{ "year", NULL, NULL, "interval must be day, week or month" },
		{ "", NULL, NULL, "interval must be day, week or month" },
		{ NULL, "yesterday", NULL, "since must be an ISO-8601 date or date-time such as 2026-11-24" },
		{ NULL, NULL, "2026-13-01", "until must be an ISO-8601 date or date-time such as 2026-11-24" },
		{ NULL, "2026-11-02", "2026-11-02", "since must be before until" },
		{ NULL, "2026-11-03", "2026-11-02", "since must be before until" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char *body;
		int status = report(st, bad[i].interval, bad[i].since, bad[i].until, rows, 3, &body);
		assert_int_equal(status, 400);
		char want[256];
		snprintf(want, sizeof want, "{\"error\":\"invalid_parameter\",\"message\":\"%s\"}", bad[i].message);
		assert_string_equal(body, want);
		free(body);
	}
	earshot_plugin.fini(st);
}

static void test_rows_without_score(void **state)
{
	(void)state;
	int64_t t = at("2026-11-24T08:00:00Z");
	/* Stored before the plugin was enabled: no score.nps, only the answer. */
	const fake_row rows[] = { { t, NONE, 10 }, { t, NONE, 2 }, { t, 8, 0 } };
	void *st;
	char *body;
	/* Without `question:` the plugin cannot tell which answer was the 0-10 one: such rows are skipped. */
	assert_int_equal(plugin_init("{}", &st), EARSHOT_OK);
	assert_int_equal(report(st, NULL, NULL, NULL, rows, 3, &body), 200);
	assert_non_null(strstr(body, "\"responses\":1,\"promoters\":0,\"passives\":1,"));
	free(body);
	earshot_plugin.fini(st);
	/* With it, their answers count; a stored score wins over the answer. */
	assert_int_equal(plugin_init("{\"question\":\"score\"}", &st), EARSHOT_OK);
	assert_int_equal(report(st, NULL, NULL, NULL, rows, 3, &body), 200);
	assert_non_null(strstr(body, "\"responses\":3,\"promoters\":1,\"passives\":1,\"detractors\":1,"));
	free(body);
	earshot_plugin.fini(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptor),
		cmocka_unit_test(test_categories_at_every_boundary),
		cmocka_unit_test(test_which_question_is_scored),
		cmocka_unit_test(test_config_refused),
		cmocka_unit_test(test_report_known_data_set),
		cmocka_unit_test(test_margin_of_error),
		cmocka_unit_test(test_series_by_day),
		cmocka_unit_test(test_series_by_week),
		cmocka_unit_test(test_series_by_month),
		cmocka_unit_test(test_since_until_and_bad_parameters),
		cmocka_unit_test(test_rows_without_score),
	};
	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
