/* Fixture: a well-behaved plugin whose behaviour is chosen by its config, for the host's tests.
 *
 *   tag: T             add tag T to every answer
 *   score: N           set score "fixture" = N (category from `category:` when given)
 *   offer: TEXT        attach an offer TEXT with code "C-<n>", n counted in the key-value store
 *   count: true        kv_incr("count") and kv_put("last", response id)
 *   echo: true         add tags describing what it reads (form, answered ids and types, texts, meta)
 *   reject: {question: Q, word: W, message: M}   reject Q when its answer contains W
 *   fail: true         fail on_response with a message
 *   deliver: DEST      enqueue_delivery(DEST, "test", {"x":1}); fail with the host's message
 *   route: PATTERN     register GET PATTERN; answers {"form","key","q","responses","ids","fixture_sum"}
 *                      ("key", path_param "key", only when the pattern has a {key}),
 *                      with count: true also "kv_count" (request_kv_get) and "questions" (the form's
 *                      question ids, from form_question_*)
 *   version: true      add tag "server:<server_version>"
 *   forms: true        add tag "forms:<ids of the forms it sees, from form_count/form_id>"
 *   sleep_ms: N        sleep N ms in on_response (a stalled plugin)
 *   crash: true        segfault in on_response
 *   tags: N            add N distinct tags "t0".."tN-1"; fail with the host's message when one is refused
 *   tag_calls: N       call add_tag N times over 200 distinct tags (for bench/plugin_tags.py)
 *   deliveries: N      with deliver: DEST, enqueue N deliveries (default 1)
 *   delivery_bytes: N  each delivery's extra_json carries a string of N bytes
 * Any other key is refused (config_check_keys).
 */
#include <signal.h>
#include <time.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <earshot/plugin.h>

struct behave {
	const struct earshot_host *host;       /* borrowed until fini */
	const char *tag, *category, *offer;    /* owned by the host (config strings) */
	const char *reject_question, *reject_word, *reject_message, *deliver;
	double score;
	int has_score, count, echo, fail, version, forms, crash;
	int64_t sleep_ms, tags, tag_calls, deliveries, delivery_bytes;
};

static const char *const known_keys[] = { "tag", "score", "category", "offer", "count", "echo", "reject",
	                                  "fail", "deliver", "route", "version", "forms", "sleep_ms", "crash",
	                                  "tags", "tag_calls", "deliveries", "delivery_bytes", NULL };

static int behave_init(const struct earshot_host *host, const earshot_conf *config, void **state)
{
	struct behave *b = calloc(1, sizeof *b);
	if (!b)
		return EARSHOT_ERROR;
	b->host = host;
	b->deliveries = 1;
	if (host->config_check_keys(config, NULL, known_keys) != EARSHOT_OK) {
		host->set_error(config, "%s", host->last_error(config));
		free(b);
		return EARSHOT_ERROR;
	}
	const earshot_conf *reject = host->config_node(config, "reject");
	int bad = host->config_string(config, "tag", &b->tag) < 0 ||
	          host->config_string(config, "category", &b->category) < 0 ||
	          host->config_string(config, "offer", &b->offer) < 0 ||
	          host->config_string(config, "deliver", &b->deliver) < 0 ||
	          (b->has_score = host->config_number(config, "score", &b->score)) < 0 ||
	          host->config_bool(config, "count", &b->count) < 0 ||
	          host->config_bool(config, "echo", &b->echo) < 0 ||
	          host->config_bool(config, "fail", &b->fail) < 0 ||
	          host->config_bool(config, "version", &b->version) < 0 ||
	          host->config_bool(config, "forms", &b->forms) < 0 ||
	          host->config_bool(config, "crash", &b->crash) < 0 ||
	          host->config_int(config, "sleep_ms", &b->sleep_ms) < 0 ||
	          host->config_int(config, "tags", &b->tags) < 0 ||
	          host->config_int(config, "tag_calls", &b->tag_calls) < 0 ||
	          host->config_int(config, "deliveries", &b->deliveries) < 0 ||
	          host->config_int(config, "delivery_bytes", &b->delivery_bytes) < 0 ||
	          (reject && (host->config_string(reject, "question", &b->reject_question) != 1 ||
	                      host->config_string(reject, "word", &b->reject_word) != 1 ||
	                      host->config_string(reject, "message", &b->reject_message) != 1));
	const char *route = NULL;
	if (!bad && host->config_string(config, "route", &route) == 1 &&
	    host->add_route(config, "GET", route) != EARSHOT_OK)
		bad = 1;
	if (bad) {
		const char *why = host->last_error(config);
		host->set_error(config, "%s", why ? why : "reject needs question, word and message");
		free(b);
		return EARSHOT_ERROR;
	}
	*state = b;
	return EARSHOT_OK;
}

/* Adds a tag "PREFIX:TEXT". */
static void tag2(struct behave *b, earshot_response *r, const char *prefix, const char *text)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s:%s", prefix, text ? text : "(null)");
	b->host->add_tag(r, buf);
}

/* Tags describing what the host lets the plugin read. */
static void echo(struct behave *b, earshot_response *r)
{
	const struct earshot_host *h = b->host;
	char buf[128];
	tag2(b, r, "form", h->response_form(r));
	snprintf(buf, sizeof buf, "%zu/%zu", h->answered_count(r), h->question_count(r));
	tag2(b, r, "answered", buf);
	for (size_t i = 0; i < h->answered_count(r); i++) {
		const char *id = h->answered_id(r, i);
		snprintf(buf, sizeof buf, "%s=%s/%d", id, h->question_type(r, id), h->answer_type(r, id));
		tag2(b, r, "q", buf);
		snprintf(buf, sizeof buf, "%s=%s", id, h->answer_text(r, id));
		tag2(b, r, "text", buf);
	}
	tag2(b, r, "page", h->meta_string(r, "page"));
	tag2(b, r, "id", h->response_id(r)[0] ? "set" : "empty");
}

static int behave_response(void *state, earshot_response *r)
{
	struct behave *b = state;
	const struct earshot_host *h = b->host;
	if (b->fail) {
		h->set_error(r, "asked to fail");
		return EARSHOT_ERROR;
	}
	if (b->sleep_ms > 0) {
		struct timespec ts = { (time_t)(b->sleep_ms / 1000), (long)(b->sleep_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (b->crash)
		raise(SIGSEGV);
	if (b->echo)
		echo(b, r);
	if (b->version)
		tag2(b, r, "server", h->server_version);
	if (b->forms) {
		char buf[200] = "";
		for (size_t i = 0; i < h->form_count(r); i++) {
			strncat(buf, i ? "," : "", sizeof buf - strlen(buf) - 1);
			strncat(buf, h->form_id(r, i), sizeof buf - strlen(buf) - 1);
		}
		tag2(b, r, "forms", buf);
	}
	for (int64_t i = 0; i < b->tag_calls; i++) {
		char t[32];
		snprintf(t, sizeof t, "c%lld", (long long)(i % 200));
		if (h->add_tag(r, t) != EARSHOT_OK) {
			h->set_error(r, "%s", h->last_error(r));
			return EARSHOT_ERROR;
		}
	}
	for (int64_t i = 0; i < b->tags; i++) {
		char t[32];
		snprintf(t, sizeof t, "t%lld", (long long)i);
		if (h->add_tag(r, t) != EARSHOT_OK) {
			h->set_error(r, "%s", h->last_error(r));
			return EARSHOT_ERROR;
		}
	}
	if (b->tag && h->add_tag(r, b->tag) != EARSHOT_OK)
		return EARSHOT_ERROR;
	if (b->has_score && h->set_score(r, "fixture", b->score, b->category) != EARSHOT_OK)
		return EARSHOT_ERROR;
	if (b->count) {
		int64_t n = 0;
		if (h->kv_incr(r, "count", 1, &n) != EARSHOT_OK)
			return EARSHOT_ERROR;
		const char *id = h->response_id(r);
		if (h->kv_put(r, "last", id, strlen(id)) != EARSHOT_OK)
			return EARSHOT_ERROR;
	}
	if (b->offer) {
		int64_t n = 0;
		char code[32];
		if (h->kv_incr(r, "codes", 1, &n) != EARSHOT_OK)
			return EARSHOT_ERROR;
		snprintf(code, sizeof code, "C-%lld", (long long)n);
		if (h->add_offer(r, b->offer, code) != EARSHOT_OK)
			return EARSHOT_ERROR;
	}
	if (b->reject_question) {
		const char *text = h->answer_text(r, b->reject_question);
		if (text && strstr(text, b->reject_word))
			h->reject(r, b->reject_question, b->reject_message);
	}
	if (b->deliver) {
		char *extra = NULL;
		if (b->delivery_bytes > 0) {
			extra = malloc((size_t)b->delivery_bytes + 16);
			if (!extra)
				return EARSHOT_ERROR;
			strcpy(extra, "{\"x\":\"");
			memset(extra + 6, 'x', (size_t)b->delivery_bytes);
			strcpy(extra + 6 + b->delivery_bytes, "\"}");
		}
		for (int64_t i = 0; i < b->deliveries; i++) {
			if (h->enqueue_delivery(r, b->deliver, "test", extra ? extra : "{\"x\":1}") != EARSHOT_OK) {
				h->set_error(r, "%s", h->last_error(r));
				free(extra);
				return EARSHOT_ERROR;
			}
		}
		free(extra);
	}
	return EARSHOT_OK;
}

static int behave_route(void *state, earshot_request *req)
{
	struct behave *b = state;
	const struct earshot_host *h = b->host;
	const char *form = h->path_param(req, "form");
	const char *q = h->query_param(req, "q");
	earshot_json *o = h->new_object();
	h->object_set(o, "form", form ? h->new_string(form) : h->new_null());
	h->object_set(o, "q", q ? h->new_string(q) : h->new_null());
	const char *key = h->path_param(req, "key");
	if (key)
		h->object_set(o, "key", h->new_string(key));
	if (form) {
		earshot_query *query = h->query_open(req, form, INT64_MIN, INT64_MAX);
		if (!query) {
			h->json_free(o);
			h->set_error(req, "%s", h->last_error(req));
			return EARSHOT_ERROR;
		}
		int64_t n = 0;
		double sum = 0, v;
		earshot_json *ids = h->new_array();
		while (h->query_next(query) == 1) {
			n++;
			h->array_append(ids, h->new_string(h->query_response_id(query)));
			if (h->query_score(query, "fixture", &v) == 1)
				sum += v;
		}
		h->query_close(query);
		h->object_set(o, "responses", h->new_int(n));
		h->object_set(o, "ids", ids);
		h->object_set(o, "fixture_sum", h->new_number(sum));
		if (b->count) {
			const void *value = NULL;
			size_t len = 0;
			int rc = h->request_kv_get(req, "count", &value, &len);
			h->object_set(o, "kv_count", rc == 1 ? h->new_string(value) : h->new_null());
			earshot_json *qs = h->new_array();
			for (size_t i = 0; i < h->form_question_count(req, form); i++) {
				const char *id = h->form_question_id(req, form, i);
				char buf[128];
				snprintf(buf, sizeof buf, "%s:%s", id, h->form_question_type(req, form, id));
				h->array_append(qs, h->new_string(buf));
			}
			h->object_set(o, "questions", qs);
		}
	}
	return h->reply(req, 200, o);
}

static void behave_fini(void *state)
{
	free(state);
}

EARSHOT_PLUGIN_REGISTER(.name = "behave", .version = "1.0", .init = behave_init,
                        .on_response = behave_response, .on_route = behave_route,
                        .fini = behave_fini);
