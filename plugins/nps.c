/* nps: Net Promoter Score for earshot, built against the public plugin header only.
 *
 * Each answer to a 0-10 question gets a category — promoter 9-10, passive 7-8, detractor 0-6 — stored
 * as score {"nps": N, "category": "..."} and as a tag. GET /api/v1/forms/{form}/nps reports
 * NPS = % promoters - % detractors (one decimal), the counts, the 95% margin of error and a series by
 * day, week (starting Monday) or month, all in UTC.
 *
 * Config:
 *   question: ID   the 0-10 question to score (default: the first answered question of type nps)
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <earshot/plugin.h>

#define MS_PER_DAY INT64_C(86400000)

/* What init keeps; read-only afterwards, so on_response and on_route may share it. */
struct nps_state {
	const struct earshot_host *host; /* borrowed from the host until fini */
	char *question;                  /* owned; NULL = every question of type nps */
};

/* Counts of one report or one series bucket. */
struct tally {
	int64_t start_day;       /* bucket start, days since 1970-01-01 (series only) */
	int64_t promoters, passives, detractors;
};

enum interval { INTERVAL_DAY, INTERVAL_WEEK, INTERVAL_MONTH };

/* ---- Arithmetic --------------------------------------------------------------------------------- */

/* Category of a 0-10 score. */
static const char *nps_category(int score)
{
	return score >= 9 ? "promoter" : score >= 7 ? "passive" : "detractor";
}

/* Adds one score to t. */
static void tally_add(struct tally *t, int score)
{
	if (score >= 9)
		t->promoters++;
	else if (score >= 7)
		t->passives++;
	else
		t->detractors++;
}

static int64_t tally_total(const struct tally *t)
{
	return t->promoters + t->passives + t->detractors;
}

/* Rounds to one decimal. */
static double round1(double x)
{
	return round(x * 10.0) / 10.0;
}

/* NPS of t in points (-100..100), unrounded; t must not be empty. */
static double tally_nps(const struct tally *t)
{
	double n = (double)tally_total(t);
	return 100.0 * ((double)t->promoters - (double)t->detractors) / n;
}

/* Half-width of the 95% confidence interval of the NPS of t, in points: 1.96 * sqrt(var / n) with
 * var = p + d - (p - d)^2 (p, d: shares of promoters and detractors). t must not be empty. */
static double tally_margin(const struct tally *t)
{
	double n = (double)tally_total(t);
	double p = (double)t->promoters / n, d = (double)t->detractors / n;
	double var = p + d - (p - d) * (p - d);
	return 100.0 * 1.96 * sqrt(var > 0 ? var / n : 0);
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The date of a day number (days since 1970-01-01). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* First day (days since the epoch, UTC) of the bucket holding time ms. */
static int64_t bucket_start(int64_t ms, enum interval iv)
{
	int64_t day = ms >= 0 ? ms / MS_PER_DAY : -((-(ms + 1)) / MS_PER_DAY) - 1;
	if (iv == INTERVAL_WEEK) {
		int64_t since_monday = ((day + 3) % 7 + 7) % 7; /* 1970-01-01 was a Thursday */
		return day - since_monday;
	}
	if (iv == INTERVAL_MONTH) {
		int64_t y;
		int m, d;
		civil_from_days(day, &y, &m, &d);
		return days_from_civil(y, m, 1);
	}
	return day;
}

/* Writes "YYYY-MM-DD" of a day number into buf. */
static void format_day(int64_t day, char buf[32])
{
	int64_t y;
	int m, d;
	civil_from_days(day, &y, &m, &d);
	snprintf(buf, 32, "%04d-%02d-%02d", (int)(y < 0 ? 0 : y > 9999 ? 9999 : y), m % 100, d % 100);
}

/* A whole score 0..10 from a number, or -1. */
static int score_of(double v)
{
	return v >= 0 && v <= 10 && v == floor(v) ? (int)v : -1;
}

/* ---- Hooks -------------------------------------------------------------------------------------- */

static int nps_on_route(void *state, earshot_request *req);

/* Reads the config (only `question:` is known), registers the report route. */
static int nps_init(const struct earshot_host *host, const earshot_conf *config, void **state)
{
	for (size_t i = 0; i < host->config_length(config, NULL); i++) {
		const char *key = host->config_key(config, NULL, i);
		if (key && strcmp(key, "question") != 0) {
			host->set_error(config, "unknown setting \"%s\" (known: question)", key);
			return EARSHOT_ERROR;
		}
	}
	const char *question = NULL;
	if (host->config_string(config, "question", &question) < 0) {
		host->set_error(config, "%s", host->last_error(config));
		return EARSHOT_ERROR;
	}
	if (question && !*question) {
		host->set_error(config, "\"question\" must name a question id");
		return EARSHOT_ERROR;
	}
	if (host->add_route(config, "GET", "/api/v1/forms/{form}/nps") != EARSHOT_OK) {
		host->set_error(config, "%s", host->last_error(config));
		return EARSHOT_ERROR;
	}
	struct nps_state *st = calloc(1, sizeof *st);
	if (st && question && (st->question = malloc(strlen(question) + 1)))
		memcpy(st->question, question, strlen(question) + 1);
	if (!st || (question && !st->question)) {
		free(st);
		host->set_error(config, "out of memory");
		return EARSHOT_ERROR;
	}
	st->host = host;
	*state = st;
	return EARSHOT_OK;
}

/* The 0-10 score of the answer, or -1 when the response has none. */
static int response_score(const struct nps_state *st, const earshot_response *r)
{
	const struct earshot_host *host = st->host;
	double v;
	if (st->question)
		return host->answer_number(r, st->question, &v) == 1 ? score_of(v) : -1;
	for (size_t i = 0, n = host->answered_count(r); i < n; i++) {
		const char *id = host->answered_id(r, i);
		const char *type = id ? host->question_type(r, id) : NULL;
		if (type && strcmp(type, "nps") == 0 && host->answer_number(r, id, &v) == 1)
			return score_of(v);
	}
	return -1;
}

/* Scores the answer and tags it with its category. */
static int nps_on_response(void *state, earshot_response *r)
{
	const struct nps_state *st = state;
	int score = response_score(st, r);
	if (score < 0)
		return EARSHOT_OK;
	const char *category = nps_category(score);
	if (st->host->set_score(r, "nps", score, category) != EARSHOT_OK ||
	    st->host->add_tag(r, category) != EARSHOT_OK)
		return EARSHOT_ERROR;
	return EARSHOT_OK;
}

static void nps_fini(void *state)
{
	struct nps_state *st = state;
	if (st)
		free(st->question);
	free(st);
}

/* ---- The report --------------------------------------------------------------------------------- */

/* Buckets of a series, sorted by start_day. */
struct series {
	struct tally *b;
	size_t n, cap;
};

/* The bucket starting at day, created in order when missing; NULL when out of memory. */
static struct tally *series_bucket(struct series *s, int64_t day)
{
	size_t lo = 0, hi = s->n;
	if (s->n > 0 && s->b[s->n - 1].start_day == day)
		return &s->b[s->n - 1];
	if (s->n > 0 && s->b[s->n - 1].start_day < day) {
		lo = hi = s->n;
	} else {
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (s->b[mid].start_day < day)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < s->n && s->b[lo].start_day == day)
			return &s->b[lo];
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct tally *b = realloc(s->b, cap * sizeof *b);
		if (!b)
			return NULL;
		s->b = b;
		s->cap = cap;
	}
	memmove(&s->b[lo + 1], &s->b[lo], (s->n - lo) * sizeof *s->b);
	s->n++;
	memset(&s->b[lo], 0, sizeof *s->b);
	s->b[lo].start_day = day;
	return &s->b[lo];
}

/* The score of a stored response: its score.nps, else (with a configured question) its answer. */
static int stored_score(const struct nps_state *st, const earshot_query *q)
{
	double v;
	if (st->host->query_score(q, "nps", &v) == 1)
		return score_of(v);
	if (st->question && st->host->query_answer_number(q, st->question, &v) == 1)
		return score_of(v);
	return -1;
}

/* Reads the stored responses of form in [since, until) into total and series. Returns 0, or -1 with
 * the host's message. */
static int collect(const struct nps_state *st, earshot_request *req, const char *form, int64_t since,
                   int64_t until, enum interval iv, struct tally *total, struct series *series)
{
	const struct earshot_host *host = st->host;
	earshot_query *q = host->query_open(req, form, since, until);
	if (!q)
		return -1;
	int rc;
	while ((rc = host->query_next(q)) == 1) {
		int score = stored_score(st, q);
		if (score < 0)
			continue;
		struct tally *b = series_bucket(series, bucket_start(host->query_created_ms(q), iv));
		if (!b) {
			host->set_error(req, "out of memory");
			rc = -1;
			break;
		}
		tally_add(b, score);
		tally_add(total, score);
	}
	host->query_close(q);
	return rc < 0 ? -1 : 0;
}

/* Sets key to the rounded NPS (or margin) of t, null when t is empty. */
static void set_rounded(const struct earshot_host *host, earshot_json *o, const char *key,
                        const struct tally *t, double (*value)(const struct tally *))
{
	host->object_set(o, key, tally_total(t) > 0 ? host->new_number(round1(value(t))) : host->new_null());
}

/* The report as JSON (owned by the caller). */
static earshot_json *report_json(const struct earshot_host *host, const struct tally *total,
                                 const struct series *series)
{
	earshot_json *o = host->new_object();
	set_rounded(host, o, "nps", total, tally_nps);
	host->object_set(o, "responses", host->new_int(tally_total(total)));
	host->object_set(o, "promoters", host->new_int(total->promoters));
	host->object_set(o, "passives", host->new_int(total->passives));
	host->object_set(o, "detractors", host->new_int(total->detractors));
	set_rounded(host, o, "margin_of_error", total, tally_margin);
	earshot_json *arr = host->new_array();
	for (size_t i = 0; i < series->n; i++) {
		char day[32];
		format_day(series->b[i].start_day, day);
		earshot_json *b = host->new_object();
		host->object_set(b, "start", host->new_string(day));
		set_rounded(host, b, "nps", &series->b[i], tally_nps);
		host->object_set(b, "responses", host->new_int(tally_total(&series->b[i])));
		host->array_append(arr, b);
	}
	host->object_set(o, "series", arr);
	return o;
}

/* Reads a time parameter into *ms (untouched when absent). Returns 0, or -1 after a 400 reply. */
static int time_param(const struct earshot_host *host, earshot_request *req, const char *name,
                      int64_t *ms)
{
	const char *v = host->query_param(req, name);
	if (!v)
		return 0;
	if (host->parse_time(v, ms) != EARSHOT_OK) {
		char msg[160];
		snprintf(msg, sizeof msg, "%s must be an ISO-8601 date or date-time such as 2026-11-24", name);
		host->reply_error(req, 400, "invalid_parameter", msg);
		return -1;
	}
	return 0;
}

/* GET /api/v1/forms/{form}/nps?interval=day|week|month&since=&until= */
static int nps_on_route(void *state, earshot_request *req)
{
	const struct nps_state *st = state;
	const struct earshot_host *host = st->host;
	const char *form = host->path_param(req, "form");
	const char *iv_text = host->query_param(req, "interval");
	enum interval iv = INTERVAL_DAY;
	if (iv_text && strcmp(iv_text, "week") == 0)
		iv = INTERVAL_WEEK;
	else if (iv_text && strcmp(iv_text, "month") == 0)
		iv = INTERVAL_MONTH;
	else if (iv_text && strcmp(iv_text, "day") != 0)
		return host->reply_error(req, 400, "invalid_parameter", "interval must be day, week or month");
	int64_t since = INT64_MIN, until = INT64_MAX;
	if (time_param(host, req, "since", &since) != 0 || time_param(host, req, "until", &until) != 0)
		return EARSHOT_OK;
	if (since >= until)
		return host->reply_error(req, 400, "invalid_parameter", "since must be before until");
	struct tally total = { 0 };
	struct series series = { 0 };
	int rc = collect(st, req, form, since, until, iv, &total, &series);
	if (rc == 0)
		rc = host->reply(req, 200, report_json(host, &total, &series));
	free(series.b);
	return rc == 0 ? EARSHOT_OK : EARSHOT_ERROR;
}

EARSHOT_PLUGIN_REGISTER(
	.name = "nps",
	.version = "1.0.0",
	.init = nps_init,
	.on_response = nps_on_response,
	.on_route = nps_on_route,
	.fini = nps_fini,
);
