/* Unit tests for the complaint-router plugin, driven through its descriptor with a fake host table
 * (config from JSON, answers the test chooses, deliveries captured): numeric bounds, equals and in,
 * whole-word and phrase matching across scripts and cases (Cyrillic, Greek, Latin with diacritics),
 * no match inside longer words, which answers any_text reads, several rules on one answer grouped by
 * destination, the delivery's extra members, refused configs (unknown destination included), an
 * older host without has_destination, and a failing enqueue. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <earshot/plugin.h>

extern const struct earshot_plugin earshot_plugin;

/* ---- The fake host ------------------------------------------------------------------------------- */

#include "fake_host_config.h"

struct earshot_response {
	json_t *answers;         /* question id -> value (borrowed) */
	json_t *types;           /* question id -> type (borrowed) */
	json_t *tags;            /* what add_tag added */
	json_t *deliveries;      /* [{"destination","type","extra"}] */
	bool fail_enqueue;
	char *scratch[64];       /* strings handed out (answer_text), freed by response_clear */
	size_t n_scratch;
};

/* Destinations the fake earshot.yaml defines. */
static int fake_has_destination(const void *h, const char *name)
{
	(void)h;
	return name && (strcmp(name, "support") == 0 || strcmp(name, "log") == 0);
}

static const char *fake_response_id(const earshot_response *r)
{
	(void)r;
	return "r_1";
}

static size_t fake_answered_count(const earshot_response *r)
{
	return json_object_size(r->answers);
}

static const char *fake_answered_id(const earshot_response *r, size_t i)
{
	void *it = json_object_iter(r->answers);
	while (it && i--)
		it = json_object_iter_next(r->answers, it);
	return it ? json_object_iter_key(it) : NULL;
}

static const char *fake_question_type(const earshot_response *r, const char *id)
{
	return json_string_value(json_object_get(r->types, id));
}

static int fake_answer_type(const earshot_response *r, const char *id)
{
	json_t *v = json_object_get(r->answers, id);
	if (!v)
		return EARSHOT_TYPE_ABSENT;
	return json_is_string(v) ? EARSHOT_TYPE_STRING : json_is_integer(v) ? EARSHOT_TYPE_INT
	       : json_is_real(v) ? EARSHOT_TYPE_NUMBER : json_is_array(v) ? EARSHOT_TYPE_LIST
	       : json_is_boolean(v) ? EARSHOT_TYPE_BOOL : EARSHOT_TYPE_NULL;
}

static const char *fake_answer_string(const earshot_response *r, const char *id)
{
	return json_string_value(json_object_get(r->answers, id));
}

static int fake_answer_number(const earshot_response *r, const char *id, double *out)
{
	json_t *v = json_object_get(r->answers, id);
	if (!json_is_number(v))
		return 0;
	*out = json_number_value(v);
	return 1;
}

static int fake_answer_bool(const earshot_response *r, const char *id, int *out)
{
	json_t *v = json_object_get(r->answers, id);
	if (!json_is_boolean(v))
		return 0;
	*out = json_is_true(v);
	return 1;
}

static size_t fake_answer_array_length(const earshot_response *r, const char *id)
{
	return json_array_size(json_object_get(r->answers, id));
}

static const char *fake_answer_array_item(const earshot_response *r, const char *id, size_t i)
{
	return json_string_value(json_array_get(json_object_get(r->answers, id), i));
}

/* Strings as given, numbers in decimal, lists joined with "; " (as the host does). */
static const char *fake_answer_text(const earshot_response *cr, const char *id)
{
	earshot_response *r = (earshot_response *)cr;
	json_t *v = json_object_get(r->answers, id);
	if (!v)
		return NULL;
	if (json_is_string(v))
		return json_string_value(v);
	char *s = NULL;
	if (json_is_integer(v)) {
		if (asprintf(&s, "%lld", (long long)json_integer_value(v)) < 0)
			s = NULL;
	} else if (json_is_real(v)) {
		if (asprintf(&s, "%g", json_real_value(v)) < 0)
			s = NULL;
	} else if (json_is_array(v)) {
		size_t len = 1;
		for (size_t i = 0; i < json_array_size(v); i++)
			len += strlen(json_string_value(json_array_get(v, i))) + 2;
		s = calloc(1, len);
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				strcat(s, "; ");
			strcat(s, json_string_value(json_array_get(v, i)));
		}
	} else {
		s = strdup(json_is_true(v) ? "true" : "false");
	}
	assert_true(r->n_scratch < 64);
	r->scratch[r->n_scratch++] = s;
	return s;
}

static int fake_add_tag(earshot_response *r, const char *tag)
{
	json_array_append_new(r->tags, json_string(tag));
	return EARSHOT_OK;
}

static int fake_enqueue_delivery(earshot_response *r, const char *dest, const char *type, const char *extra)
{
	if (r->fail_enqueue) {
		fake_set_error(r, "database is locked");
		return EARSHOT_ERROR;
	}
	json_error_t jerr;
	json_t *parsed = json_loads(extra, 0, &jerr);
	if (!json_is_object(parsed))
		fail_msg("extra_json is not a JSON object: %s (%s)", extra, jerr.text);
	json_array_append_new(r->deliveries, json_pack("{s:s, s:s, s:o}", "destination", dest, "type", type,
	                                               "extra", parsed));
	return EARSHOT_OK;
}

static struct earshot_host host = {
	.size = sizeof(struct earshot_host),
	.abi_major = EARSHOT_PLUGIN_ABI_MAJOR,
	.abi_minor = EARSHOT_PLUGIN_ABI_MINOR,
	.server_version = "test",
	.log = fake_log,
	.set_error = fake_set_error,
	.last_error = fake_last_error,
	.config_type = fake_config_type,
	.config_string = fake_config_string,
	.config_number = fake_config_number,
	.config_bool = fake_config_bool,
	.config_length = fake_config_length,
	.config_key = fake_config_key,
	.response_id = fake_response_id,
	.answered_count = fake_answered_count,
	.answered_id = fake_answered_id,
	.question_type = fake_question_type,
	.answer_type = fake_answer_type,
	.answer_string = fake_answer_string,
	.answer_number = fake_answer_number,
	.answer_bool = fake_answer_bool,
	.answer_array_length = fake_answer_array_length,
	.answer_array_item = fake_answer_array_item,
	.answer_text = fake_answer_text,
	.add_tag = fake_add_tag,
	.enqueue_delivery = fake_enqueue_delivery,
	.has_destination = fake_has_destination,
};

/* ---- Helpers ------------------------------------------------------------------------------------ */

/* Runs init on a JSON config; returns the state, or NULL (last_err says why). */
static void *init_with(const char *config_json)
{
	json_error_t jerr;
	earshot_conf conf = { .root = json_loads(config_json, 0, &jerr) };
	if (!conf.root)
		fail_msg("bad test config: %s", jerr.text);
	void *state = NULL;
	free(last_err);
	last_err = NULL;
	int rc = earshot_plugin.init(&host, &conf, &state);
	json_decref(conf.root);
	if (rc != EARSHOT_OK) {
		assert_null(state);
		return NULL;
	}
	assert_non_null(state);
	return state;
}

/* Asserts that init refuses the config with a message containing want. */
static void assert_refused(const char *config_json, const char *want)
{
	void *state = init_with(config_json);
	if (state) {
		earshot_plugin.fini(state);
		fail_msg("config accepted: %s", config_json);
	}
	assert_non_null(last_err);
	if (!strstr(last_err, want))
		fail_msg("message \"%s\" lacks \"%s\"", last_err, want);
}

/* A response with answers (JSON object) and question types (JSON object). */
static void response_init(earshot_response *r, const char *answers, const char *types)
{
	memset(r, 0, sizeof *r);
	r->answers = json_loads(answers, 0, NULL);
	r->types = json_loads(types, 0, NULL);
	assert_non_null(r->answers);
	assert_non_null(r->types);
	r->tags = json_array();
	r->deliveries = json_array();
}

static void response_clear(earshot_response *r)
{
	json_decref(r->answers);
	json_decref(r->types);
	json_decref(r->tags);
	json_decref(r->deliveries);
	for (size_t i = 0; i < r->n_scratch; i++)
		free(r->scratch[i]);
}

/* Runs on_response for one answer and returns the number of deliveries (tags and deliveries stay in
 * *r for the caller, who clears it). */
static size_t run(void *state, earshot_response *r, const char *answers, const char *types)
{
	response_init(r, answers, types);
	assert_int_equal(earshot_plugin.on_response(state, r), EARSHOT_OK);
	return json_array_size(r->deliveries);
}

/* True when one rule with text matching `phrases` fires on a long_text answer `text`. */
static bool text_matches(const char *phrases_json, const char *text)
{
	char *config = NULL;
	assert_true(asprintf(&config, "{\"rules\":[{\"when\":{\"any_text\":{\"matches\":%s}},\"route\":\"support\"}]}",
	                     phrases_json) > 0);
	void *state = init_with(config);
	free(config);
	if (!state)
		fail_msg("refused: %s", last_err);
	json_t *answers = json_pack("{s:s}", "comment", text);
	char *answers_text = json_dumps(answers, 0);
	json_decref(answers);
	earshot_response r;
	size_t n = run(state, &r, answers_text, "{\"comment\":\"long_text\"}");
	free(answers_text);
	response_clear(&r);
	earshot_plugin.fini(state);
	return n == 1;
}

/* ---- Tests -------------------------------------------------------------------------------------- */

/* lte / gte bounds at their edges, both together, unanswered and non-numeric answers. */
static void test_numeric_bounds(void **state_)
{
	(void)state_;
	void *st = init_with("{\"rules\":[{\"when\":{\"question\":\"nps\",\"lte\":6},\"route\":\"support\"},"
	                     "{\"when\":{\"question\":\"nps\",\"gte\":9},\"route\":\"log\"},"
	                     "{\"when\":{\"question\":\"rating\",\"gte\":2,\"lte\":3.5},\"route\":\"support\"}]}");
	assert_non_null(st);
	static const struct { const char *answers; const char *dest; } cases[] = {
		{ "{\"nps\":0}", "support" }, { "{\"nps\":6}", "support" }, { "{\"nps\":7}", NULL },
		{ "{\"nps\":8}", NULL }, { "{\"nps\":9}", "log" }, { "{\"nps\":10}", "log" },
		{ "{\"nps\":6.5}", NULL }, { "{\"nps\":\"3\"}", NULL }, { "{}", NULL },
		{ "{\"rating\":1}", NULL }, { "{\"rating\":2}", "support" }, { "{\"rating\":3.5}", "support" },
		{ "{\"rating\":4}", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		earshot_response r;
		size_t n = run(st, &r, cases[i].answers, "{\"nps\":\"nps\",\"rating\":\"rating\"}");
		if (!cases[i].dest) {
			if (n != 0)
				fail_msg("%s matched", cases[i].answers);
		} else {
			assert_int_equal(n, 1);
			json_t *d = json_array_get(r.deliveries, 0);
			assert_string_equal(json_string_value(json_object_get(d, "destination")), cases[i].dest);
			assert_string_equal(json_string_value(json_object_get(d, "type")), "complaint");
		}
		response_clear(&r);
	}
	earshot_plugin.fini(st);
}

/* equals and in: strings exactly, numbers, booleans, and items of a multi_choice list. */
static void test_equals_and_in(void **state_)
{
	(void)state_;
	void *st = init_with("{\"rules\":["
	                     "{\"when\":{\"question\":\"reason\",\"equals\":\"Other\"},\"route\":\"support\",\"tag\":\"other\"},"
	                     "{\"when\":{\"question\":\"nps\",\"in\":[0,1,2]},\"route\":\"support\",\"tag\":\"low\"},"
	                     "{\"when\":{\"question\":\"topics\",\"in\":[\"Billing\",\"Refunds\"]},\"route\":\"support\",\"tag\":\"money\"},"
	                     "{\"when\":{\"question\":\"contact_me\",\"equals\":true},\"route\":\"support\",\"tag\":\"call\"}]}");
	assert_non_null(st);
	const char *types = "{\"reason\":\"single_choice\",\"nps\":\"nps\",\"topics\":\"multi_choice\",\"contact_me\":\"consent\"}";
	static const struct { const char *answers; const char *tags; } cases[] = {
		{ "{\"reason\":\"Other\"}", "[\"other\"]" },
		{ "{\"reason\":\"other\"}", "[]" },
		{ "{\"reason\":\"Other stuff\"}", "[]" },
		{ "{\"nps\":2}", "[\"low\"]" },
		{ "{\"nps\":3}", "[]" },
		{ "{\"topics\":[\"Shipping\",\"Refunds\"]}", "[\"money\"]" },
		{ "{\"topics\":[\"Shipping\"]}", "[]" },
		{ "{\"contact_me\":true}", "[\"call\"]" },
		{ "{\"contact_me\":false}", "[]" },
		{ "{\"reason\":\"Other\",\"nps\":0,\"topics\":[\"Billing\"],\"contact_me\":true}",
		  "[\"other\",\"low\",\"money\",\"call\"]" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		earshot_response r;
		size_t n = run(st, &r, cases[i].answers, types);
		json_t *want = json_loads(cases[i].tags, 0, NULL);
		if (!json_equal(r.tags, want)) {
			char *got = json_dumps(r.tags, 0);
			fail_msg("%s: tags %s, want %s", cases[i].answers, got, cases[i].tags);
		}
		/* Every rule routes to support: one delivery whenever any matched. */
		assert_int_equal(n, json_array_size(want) ? 1 : 0);
		if (n)
			assert_int_equal(json_array_size(json_object_get(json_object_get(json_array_get(r.deliveries, 0), "extra"), "rules")),
			                 json_array_size(want));
		json_decref(want);
		response_clear(&r);
	}
	earshot_plugin.fini(st);
}

/* Case-insensitive, whole words, across scripts. */
static void test_matches_scripts_and_cases(void **state_)
{
	(void)state_;
	assert_true(text_matches("[\"повернення\"]", "Хочу ПОВЕРНЕННЯ коштів"));
	assert_true(text_matches("[\"ПОВЕРНЕННЯ\"]", "хочу повернення коштів"));
	assert_true(text_matches("[\"Reklamacija\"]", "ovo je reklamacija."));
	assert_true(text_matches("[\"reklamacija\"]", "REKLAMACIJA!!!"));
	assert_true(text_matches("[\"défectueux\"]", "Produit DÉFECTUEUX"));
	assert_true(text_matches("[\"łódź\"]", "Dostawa do ŁÓDŹ"));
	assert_true(text_matches("[\"škoda\"]", "ŠKODA"));
	assert_true(text_matches("[\"größe\"]", "falsche GRÖßE"));
	assert_true(text_matches("[\"σπασμενος\"]", "ΣΠΑΣΜΕΝΟΣ"));      /* final sigma folds to sigma */
	assert_true(text_matches("[\"ўсё\"]", "ЎСЁ"));                  /* U+040E, U+0401 */
	assert_true(text_matches("[\"refund\"]", "I want a REFUND."));
	assert_true(text_matches("[\"refund\"]", "(refund)"));
	assert_true(text_matches("[\"order 1234\"]", "about order 1234, again"));
	/* Different letters stay different. */
	assert_false(text_matches("[\"defectueux\"]", "défectueux"));
	assert_false(text_matches("[\"повернення\"]", "поверненя"));
}

/* No match inside longer words; phrases need their words in order, separators collapse. */
static void test_matches_whole_words(void **state_)
{
	(void)state_;
	assert_false(text_matches("[\"refund\"]", "It was refunded already"));
	assert_false(text_matches("[\"refund\"]", "nonrefundable"));
	assert_false(text_matches("[\"refund\"]", "prerefund"));
	assert_false(text_matches("[\"повернення\"]", "з поверненням проблем немає"));
	assert_false(text_matches("[\"broken\"]", "unbroken"));
	assert_true(text_matches("[\"never arrived\"]", "The parcel NEVER   arrived"));
	assert_true(text_matches("[\"never arrived\"]", "never\narrived"));
	assert_true(text_matches("[\"never arrived\"]", "never, arrived"));
	assert_false(text_matches("[\"never arrived\"]", "never really arrived"));
	assert_false(text_matches("[\"never arrived\"]", "arrived never"));
	assert_false(text_matches("[\"never arrived\"]", "never arrivedx"));
	/* Apostrophes (ASCII or typographic) separate words alike. */
	assert_true(text_matches("[\"don't work\"]", "It don’t work"));
	/* A single phrase may be given as a string instead of a list. */
	assert_true(text_matches("\"broken\"", "it is Broken"));
	/* Any phrase of the list suffices. */
	assert_true(text_matches("[\"refund\", \"broken\"]", "arrived broken"));
	assert_false(text_matches("[\"refund\", \"broken\"]", "all good"));
}

/* any_text reads text and long_text answers only; a question rule's matches reads that answer. */
static void test_any_text_scope(void **state_)
{
	(void)state_;
	void *st = init_with("{\"rules\":[{\"when\":{\"any_text\":{\"matches\":[\"refund\"]}},\"route\":\"support\"},"
	                     "{\"when\":{\"question\":\"reason\",\"matches\":[\"refund\"]},\"route\":\"log\"}]}");
	assert_non_null(st);
	const char *types = "{\"email\":\"email\",\"reason\":\"single_choice\",\"short\":\"text\",\"long\":\"long_text\"}";
	earshot_response r;
	assert_int_equal(run(st, &r, "{\"email\":\"refund@example.com\"}", types), 0);
	response_clear(&r);
	assert_int_equal(run(st, &r, "{\"reason\":\"Refund please\"}", types), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(r.deliveries, 0), "destination")), "log");
	response_clear(&r);
	assert_int_equal(run(st, &r, "{\"short\":\"refund\"}", types), 1);
	response_clear(&r);
	/* Two text answers matching: one rule, one delivery, both pieces of evidence. */
	assert_int_equal(run(st, &r, "{\"short\":\"refund\",\"long\":\"a REFUND now\"}", types), 1);
	json_t *rule = json_array_get(json_object_get(json_object_get(json_array_get(r.deliveries, 0), "extra"), "rules"), 0);
	assert_int_equal(json_array_size(json_object_get(rule, "matched")), 2);
	response_clear(&r);
	earshot_plugin.fini(st);
}

/* Several rules on one answer: every matching rule fires once; deliveries are grouped by
 * destination with their rules, the highest priority and the contact. */
static void test_several_rules(void **state_)
{
	(void)state_;
	void *st = init_with("{\"rules\":["
	                     "{\"when\":{\"question\":\"nps\",\"lte\":6},\"route\":\"support\",\"tag\":\"detractor\"},"
	                     "{\"when\":{\"any_text\":{\"matches\":[\"refund\",\"never arrived\",\"повернення\"]}},"
	                     "\"route\":\"support\",\"priority\":\"urgent\"},"
	                     "{\"when\":{\"any_text\":{\"matches\":[\"refund\"]}},\"route\":\"log\",\"tag\":\"refund\",\"priority\":\"low\"},"
	                     "{\"when\":{\"question\":\"nps\",\"gte\":9},\"route\":\"log\",\"tag\":\"promoter\"}]}");
	assert_non_null(st);
	earshot_response r;
	size_t n = run(st, &r,
	               "{\"nps\":2,\"comment\":\"It never arrived. Refund! Повернення.\",\"email\":\"ann@example.com\","
	               "\"phone\":\"+4915112345678\",\"email2\":\"second@example.com\"}",
	               "{\"nps\":\"nps\",\"comment\":\"long_text\",\"email\":\"email\",\"phone\":\"phone\",\"email2\":\"email\"}");
	assert_int_equal(n, 2);
	json_t *want_tags = json_pack("[s,s]", "detractor", "refund");
	assert_true(json_equal(r.tags, want_tags));
	json_decref(want_tags);
	json_t *support = json_object_get(json_array_get(r.deliveries, 0), "extra");
	json_t *log = json_object_get(json_array_get(r.deliveries, 1), "extra");
	assert_string_equal(json_string_value(json_object_get(json_array_get(r.deliveries, 0), "destination")), "support");
	assert_string_equal(json_string_value(json_object_get(json_array_get(r.deliveries, 1), "destination")), "log");
	json_t *rules = json_object_get(support, "rules");
	assert_int_equal(json_array_size(rules), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rules, 0), "index")), 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rules, 0), "when")), "nps <= 6");
	assert_string_equal(json_string_value(json_object_get(json_array_get(rules, 0), "tag")), "detractor");
	json_t *second = json_array_get(rules, 1);
	assert_int_equal(json_integer_value(json_object_get(second, "index")), 1);
	assert_true(json_is_null(json_object_get(second, "tag")));
	json_t *phrases = json_object_get(json_array_get(json_object_get(second, "matched"), 0), "phrases");
	json_t *want_phrases = json_pack("[s,s,s]", "refund", "never arrived", "повернення");
	assert_true(json_equal(phrases, want_phrases));
	json_decref(want_phrases);
	assert_string_equal(json_string_value(json_object_get(support, "priority")), "urgent");
	json_t *want_contact = json_pack("{s:s, s:s}", "email", "ann@example.com", "phone", "+4915112345678");
	assert_true(json_equal(json_object_get(support, "contact"), want_contact));
	assert_true(json_equal(json_object_get(log, "contact"), want_contact));
	json_decref(want_contact);
	assert_int_equal(json_array_size(json_object_get(log, "rules")), 1);
	assert_string_equal(json_string_value(json_object_get(log, "priority")), "low");
	response_clear(&r);

	/* Nothing matches: no delivery, no tag. */
	assert_int_equal(run(st, &r, "{\"nps\":8,\"comment\":\"fine\"}", "{\"nps\":\"nps\",\"comment\":\"text\"}"), 0);
	assert_int_equal(json_array_size(r.tags), 0);
	response_clear(&r);
	/* No contact answered: an empty contact object. */
	assert_int_equal(run(st, &r, "{\"nps\":1}", "{\"nps\":\"nps\"}"), 1);
	assert_int_equal(json_object_size(json_object_get(json_object_get(json_array_get(r.deliveries, 0), "extra"), "contact")), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(r.deliveries, 0), "extra"), "priority")), "normal");
	response_clear(&r);
	earshot_plugin.fini(st);
}

/* A delivery that cannot be queued fails the hook with the host's reason. */
static void test_enqueue_failure(void **state_)
{
	(void)state_;
	void *st = init_with("{\"rules\":[{\"when\":{\"question\":\"nps\",\"lte\":6},\"route\":\"support\"}]}");
	earshot_response r;
	response_init(&r, "{\"nps\":1}", "{\"nps\":\"nps\"}");
	r.fail_enqueue = true;
	assert_int_equal(earshot_plugin.on_response(st, &r), EARSHOT_ERROR);
	assert_non_null(strstr(last_err, "cannot queue the complaint for support: database is locked"));
	response_clear(&r);
	earshot_plugin.fini(st);
}

/* answered: true fires on any answer to the question (a call-back's phone), never on an absent one. */
static void test_answered(void **state_)
{
	(void)state_;
	void *st = init_with("{\"rules\":[{\"when\":{\"question\":\"phone\",\"answered\":true},\"route\":\"support\"}]}");
	assert_non_null(st);
	static const struct { const char *answers; size_t n; } cases[] = {
		{ "{\"phone\":\"+38612345678\"}", 1 }, { "{}", 0 }, { "{\"phone\":null}", 0 },
		{ "{\"other\":\"+38612345678\"}", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		earshot_response r;
		size_t n = run(st, &r, cases[i].answers, "{\"phone\":\"phone\",\"other\":\"text\"}");
		if (n != cases[i].n)
			fail_msg("%s: %zu deliveries", cases[i].answers, n);
		if (n) {
			json_t *rule = json_array_get(json_object_get(json_object_get(json_array_get(r.deliveries, 0), "extra"),
			                                              "rules"), 0);
			assert_string_equal(json_string_value(json_object_get(rule, "when")), "phone answered");
		}
		response_clear(&r);
	}
	earshot_plugin.fini(st);
	assert_refused("{\"rules\":[{\"when\":{\"question\":\"phone\",\"answered\":false},\"route\":\"support\"}]}",
	               "\"answered\" must be true");
	assert_refused("{\"rules\":[{\"when\":{\"question\":\"phone\",\"answered\":\"yes\"},\"route\":\"support\"}]}",
	               "\"answered\" must be true");
}

/* Every refused config names what is wrong. */
static void test_config_refusals(void **state_)
{
	(void)state_;
	assert_refused("{}", "\"rules\" is required");
	assert_refused("{\"rules\":[]}", "\"rules\" is required");
	assert_refused("{\"rules\":{}}", "\"rules\" is required");
	assert_refused("{\"rules\":[{\"when\":{\"question\":\"nps\",\"lte\":6},\"route\":\"support\"}],\"x\":1}",
	               "unknown setting \"x\"");
	assert_refused("{\"rules\":[\"nps\"]}", "rules[0]: each rule must be a mapping");
	assert_refused("{\"rules\":[{\"route\":\"support\"}]}", "rules[0]: \"when\" is required");
	assert_refused("{\"rules\":[{\"when\":{\"question\":\"nps\",\"lte\":6}}]}", "rules[0]: \"route\" is required");
	assert_refused("{\"rules\":[{\"when\":{\"question\":\"nps\",\"lte\":6},\"route\":\"support\"},"
	               "{\"when\":{\"question\":\"nps\",\"lte\":6},\"route\":\"suport\"}]}",
	               "rules[1]: \"route\" names the unknown destination \"suport\"");
	assert_refused("{\"rules\":[{\"when\":{\"question\":\"nps\",\"lte\":6},\"route\":\"support\",\"prio\":1}]}",
	               "unknown setting \"prio\"");
	assert_refused("{\"rules\":[{\"when\":{\"question\":\"nps\",\"below\":6},\"route\":\"support\"}]}",
	               "unknown setting \"below\"");
	assert_refused("{\"rules\":[{\"when\":{\"question\":\"nps\"},\"route\":\"support\"}]}", "needs a condition");
	assert_refused("{\"rules\":[{\"when\":{\"lte\":6},\"route\":\"support\"}]}", "either \"question\" or \"any_text\"");
	assert_refused("{\"rules\":[{\"when\":{\"question\":\"q\",\"any_text\":{\"matches\":[\"x\"]}},\"route\":\"support\"}]}",
	               "either \"question\" or \"any_text\"");
	assert_refused("{\"rules\":[{\"when\":{\"question\":\"nps\",\"lte\":\"six\"},\"route\":\"support\"}]}",
	               "\"lte\" must be a number");
	assert_refused("{\"rules\":[{\"when\":{\"question\":\"nps\",\"in\":[]},\"route\":\"support\"}]}",
	               "\"in\" must be a non-empty list");
	assert_refused("{\"rules\":[{\"when\":{\"question\":\"nps\",\"in\":[[1]]},\"route\":\"support\"}]}",
	               "\"in\" must be a number, a string, true or false");
	assert_refused("{\"rules\":[{\"when\":{\"any_text\":{\"matches\":[\"!!!\"]}},\"route\":\"support\"}]}",
	               "holds no word");
	assert_refused("{\"rules\":[{\"when\":{\"any_text\":{\"matches\":[]}},\"route\":\"support\"}]}",
	               "\"matches\" must be a non-empty list");
	assert_refused("{\"rules\":[{\"when\":{\"any_text\":{\"matches\":[1]}},\"route\":\"support\"}]}",
	               "must list words or phrases");
	assert_refused("{\"rules\":[{\"when\":{\"any_text\":{\"words\":[\"x\"]}},\"route\":\"support\"}]}",
	               "\"any_text\" must be a mapping");
	assert_refused("{\"rules\":[{\"when\":{\"question\":\"nps\",\"lte\":6},\"route\":\"support\",\"priority\":\"asap\"}]}",
	               "\"priority\" must be one of: low, normal, high, urgent");
	assert_refused("{\"rules\":[{\"when\":{\"question\":\"nps\",\"lte\":6},\"route\":\"support\",\"tag\":\"\"}]}",
	               "\"tag\" must be a non-empty string");
	assert_refused("{\"rules\":[{\"when\":{\"question\":\"\",\"lte\":6},\"route\":\"support\"}]}",
	               "\"question\" must be a question id");
}

/* A host without has_destination (an older table) cannot check routes: init accepts them. */
static void test_old_host_without_has_destination(void **state_)
{
	(void)state_;
	uint32_t size = host.size;
	host.size = (uint32_t)offsetof(struct earshot_host, has_destination);
	void *st = init_with("{\"rules\":[{\"when\":{\"question\":\"nps\",\"lte\":6},\"route\":\"elsewhere\"}]}");
	host.size = size;
	assert_non_null(st);
	earshot_plugin.fini(st);
}

/* The descriptor as the loader sees it. */
static void test_descriptor(void **state_)
{
	(void)state_;
	assert_string_equal(earshot_plugin.name, "complaint-router");
	assert_int_equal(earshot_plugin.abi_major, EARSHOT_PLUGIN_ABI_MAJOR);
	assert_non_null(earshot_plugin.init);
	assert_non_null(earshot_plugin.on_response);
	assert_null(earshot_plugin.on_route);
	assert_non_null(earshot_plugin.fini);
}

static int group_teardown(void **state_)
{
	(void)state_;
	free(last_err);
	last_err = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptor),
		cmocka_unit_test(test_numeric_bounds),
		cmocka_unit_test(test_equals_and_in),
		cmocka_unit_test(test_matches_scripts_and_cases),
		cmocka_unit_test(test_matches_whole_words),
		cmocka_unit_test(test_any_text_scope),
		cmocka_unit_test(test_several_rules),
		cmocka_unit_test(test_enqueue_failure),
		cmocka_unit_test(test_config_refusals),
		cmocka_unit_test(test_answered),
		cmocka_unit_test(test_old_host_without_has_destination),
	};
	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
