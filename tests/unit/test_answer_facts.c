/* Unit tests for the narrow facts behind summaries (answer_facts.c), the facts kept for the fold
 * (fresh_facts.c) and the in-memory counts they are added up in (count_map.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "answer_facts.h"
#include "count_map.h"
#include "fresh_facts.h"

/* The entries of a vals list as "q=v" / "q[]=v" words, numbers as written, null as ~. */
typedef struct words {
	char text[1024];
} words;

static int add_word(void *ctx, const char *q, size_t qlen, int part, const fact_value *v)
{
	words *w = ctx;
	char value[256];
	if (v->type == FACT_NULL)
		snprintf(value, sizeof value, "~");
	else
		snprintf(value, sizeof value, "%s%.*s", v->type == FACT_TEXT ? "'" : "#", (int)v->len, v->text);
	size_t at = strlen(w->text);
	snprintf(w->text + at, sizeof w->text - at, "%s%.*s%s=%s", at ? " " : "", (int)qlen, q, part ? "[]" : "", value);
	return 0;
}

static void test_facts_of_an_answer(void **state)
{
	(void)state;
	char long_text[256] = "\"", accented[512] = "\"";
	for (int i = 0; i < 101; i++)
		strcat(long_text, "x");
	for (int i = 0; i < 100; i++)
		strcat(accented, "\xc3\xa9"); /* 100 characters, 200 bytes: kept */
	char answers[1024];
	snprintf(answers, sizeof answers,
	         "{\"c\":\"Price\",\"m\":[\"a\",2,null,[1],{}],\"n\":9,\"r\":2.5,\"ok\":true,\"no\":false,\"z\":null,"
	         "\"o\":{\"k\":1},\"long\":%s\",\"acc\":%s\",\"esc\":\"a\\\"b\"}",
	         long_text, accented);
	answer_facts f;
	answer_facts_compute_text(answers,
	                          "{\"variant\":\"b\",\"page\":\"https://shop.example/cart/2?x=1#top\",\"device\":\"mobile\","
	                          "\"plan\":\"pro\",\"gone\":null,\"bad name\":1,\"n\":3}",
	                          "{\"nps\":9,\"category\":\"promoter\"}", "[\"vip\",\"a\\u001fb\",7,\"late\"]", &f);
	assert_string_equal(f.variant, "b");
	assert_string_equal(f.page, "https://shop.example/cart/2?x=1#top");
	assert_string_equal(f.path, "/cart/2");
	assert_string_equal(f.device, "mobile");
	assert_string_equal(f.category, "promoter");
	assert_string_equal(f.attrs, " variant page device plan n ");
	assert_string_equal(f.tags, "\x1fvip\x1flate\x1f");
	words w = { "" };
	assert_int_equal(answer_facts_each(f.vals, strlen(f.vals), add_word, &w), 0);
	char want[1024];
	snprintf(want, sizeof want,
	         "c='Price m=~ m[]='a m[]=#2 m[]=~ n=#9 r=#2.5 ok=#1 no=#0 z=~ o=~ long=~ acc='%s esc='a\"b",
	         accented + 1);
	assert_string_equal(w.text, want);
	answer_facts_clear(&f);
}

static void test_facts_of_malformed_parts(void **state)
{
	(void)state;
	answer_facts f;
	answer_facts_compute_text("{not json", "[1,2]", "\"x\"", "{}", &f);
	assert_null(f.variant);
	assert_null(f.page);
	assert_null(f.path);
	assert_null(f.category);
	assert_string_equal(f.attrs, "");
	assert_string_equal(f.tags, "");
	assert_string_equal(f.vals, "[]");
	words w = { "" };
	assert_int_equal(answer_facts_each(f.vals, strlen(f.vals), add_word, &w), 0);
	assert_string_equal(w.text, "");
	answer_facts_clear(&f);
	answer_facts_compute_text(NULL, NULL, NULL, NULL, &f);
	assert_string_equal(f.vals, "[]");
	answer_facts_clear(&f);
	const char *bad[] = { "", "[", "[[\"a\"]]", "[[\"a\",1,2]]", "[[\"a\",tru]]", "[[1,1]]", "[[\"a\",1]" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(answer_facts_each(bad[i], strlen(bad[i]), add_word, &w), -1);
}

/* vals as building the list with jansson and dumping it compact makes it: the text vals_of must
 * write, byte for byte. */
static char *vals_by_jansson(const json_t *answers)
{
	json_t *list = json_array();
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)answers, key, v) {
		json_t *value;
		if (json_is_string(v)) {
			size_t chars = 0;
			for (size_t i = 0; i < json_string_length(v); i++)
				chars += ((unsigned char)json_string_value(v)[i] & 0xC0) != 0x80;
			value = chars > ANSWER_FACTS_TEXT_MAX ? json_null() : json_incref(v);
		} else if (json_is_boolean(v)) {
			value = json_integer(json_is_true(v));
		} else if (json_is_array(v) || json_is_object(v)) {
			value = json_null();
		} else {
			value = json_incref(v);
		}
		json_array_append_new(list, json_pack("[s,o]", key, value));
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			if (json_is_array(e) || json_is_object(e))
				continue;
			json_t *element = json_is_boolean(e) ? json_integer(json_is_true(e)) : json_incref(e);
			json_array_append_new(list, json_pack("[s,o,i]", key, element, 1));
		}
	}
	char *text = json_dumps(list, JSON_COMPACT);
	json_decref(list);
	return text;
}

static void test_vals_text_is_jansson_compact(void **state)
{
	(void)state;
	const char *cases[] = {
		"{}",
		"{\"a\":1}",
		"{\"q\\\"uote\":\"back\\\\slash \\b\\f\\n\\r\\t \\u0001\\u001f\\u007f / \\u00e9 \\u2028 \\ud83d\\ude00\"}",
		"{\"r\":2.5,\"e\":1e300,\"t\":-0.0001,\"w\":0.1,\"i\":-9223372036854775807,\"big\":12345678901234567890.5}",
		"{\"m\":[\"x\\ny\",true,false,null,1.5,[2],{\"k\":3},\"" /* an element longer than the text limit */
		"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\"],"
		"\"e\":[],\"o\":{},\"n\":null,\"b\":true,\"f\":false}",
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		json_error_t jerr;
		json_t *answers = json_loads(cases[i], 0, &jerr);
		assert_non_null(answers);
		char *want = vals_by_jansson(answers);
		answer_facts f;
		answer_facts_compute(answers, NULL, NULL, NULL, &f);
		assert_string_equal(f.vals, want);
		answer_facts_clear(&f);
		free(want);
		json_decref(answers);
	}
}

/* Keeps the facts of a stored answer whose texts are answers and "{}" / no score / "[]". */
static void keep(fresh_facts *ff, int64_t seq, const char *answers)
{
	answer_facts f;
	answer_facts_compute_text(answers, "{}", NULL, "[]", &f);
	stored_texts t = { strdup(answers), strdup("{}"), NULL, strdup("[]") };
	fresh_facts_add(ff, seq, &t, &f);
	assert_null(t.answers);
	assert_null(f.vals);
}

/* True when the facts of row seq, stored as answers, are taken; checks they are those answers'. */
static bool take(fresh_facts *ff, int64_t seq, const char *answers)
{
	answer_facts f;
	if (!fresh_facts_take(ff, seq, answers, "{}", NULL, "[]", &f))
		return false;
	answer_facts want;
	answer_facts_compute_text(answers, "{}", NULL, "[]", &want);
	assert_string_equal(f.vals, want.vals);
	answer_facts_clear(&want);
	answer_facts_clear(&f);
	return true;
}

static void test_fresh_facts(void **state)
{
	(void)state;
	fresh_facts *ff = fresh_facts_new();
	keep(ff, 1, "{\"a\":1}");
	keep(ff, 2, "{\"a\":2}");
	keep(ff, 3, "{\"a\":3}");
	/* row 3 was undone and its number went to another answer: the first facts are dropped */
	keep(ff, 3, "{\"a\":33}");
	assert_true(take(ff, 1, "{\"a\":1}"));
	assert_false(take(ff, 1, "{\"a\":1}")); /* taken once */
	/* the row holds other texts than were kept (tags changed since): not taken */
	answer_facts f;
	assert_false(fresh_facts_take(ff, 2, "{\"a\":2}", "{}", NULL, "[\"late\"]", &f));
	assert_false(take(ff, 3, "{\"a\":3}"));
	keep(ff, 4, "{\"a\":4}");
	keep(ff, 5, "{\"a\":5}");
	assert_true(take(ff, 5, "{\"a\":5}")); /* row 4 was deleted before the fold: skipped */
	assert_false(take(ff, 4, "{\"a\":4}"));
	/* a backlog longer than the ring: the oldest are given up */
	for (int64_t seq = 10; seq < 10 + FRESH_FACTS_MAX + 5; seq++)
		keep(ff, seq, "{\"b\":true}");
	for (int64_t seq = 10; seq < 15; seq++)
		assert_false(take(ff, seq, "{\"b\":true}"));
	for (int64_t seq = 15; seq < 10 + FRESH_FACTS_MAX + 5; seq++)
		assert_true(take(ff, seq, "{\"b\":true}"));
	/* long answers: about FRESH_FACTS_MAX_BYTES of them are kept, the oldest given up */
	size_t long_len = FRESH_FACTS_MAX_BYTES / 8;
	char *long_answer = malloc(long_len + 16);
	snprintf(long_answer, 9, "{\"t\":\"");
	memset(long_answer + 6, 'x', long_len);
	strcpy(long_answer + 6 + long_len, "\"}");
	for (int64_t seq = 5000; seq < 5010; seq++)
		keep(ff, seq, long_answer);
	int kept = 0;
	for (int64_t seq = 5000; seq < 5010; seq++)
		kept += take(ff, seq, long_answer);
	assert_int_equal(kept, 7); /* 8 answers of long_len and their facts are just over the bytes */
	free(long_answer);
	keep(ff, 20000, "{\"left\":1}"); /* freed with the ring */
	fresh_facts_free(ff);
}

static void test_page_path(void **state)
{
	(void)state;
	const char *cases[][2] = {
		{ "/cart", "/cart" }, { "/cart?x#y", "/cart" }, { "https://a.example", "/" },
		{ "https://a.example/b/c?d", "/b/c" }, { "http://a.example#frag", "/" }, { "x#y?z", "x" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *p = answer_facts_page_path(cases[i][0]);
		assert_string_equal(p, cases[i][1]);
		free(p);
	}
}

static void test_text_contains(void **state)
{
	(void)state;
	const char *a = "{\"c\":\"Shipping was SLOW\",\"n\":12,\"m\":[\"needle\"],\"e\":\"\\u00e9t\\u00c9\"}";
	assert_true(answer_facts_text_contains(a, strlen(a), "slow"));
	assert_true(answer_facts_text_contains(a, strlen(a), "ping WAS"));
	assert_false(answer_facts_text_contains(a, strlen(a), "12"));     /* not a text */
	assert_false(answer_facts_text_contains(a, strlen(a), "needle")); /* inside an array */
	assert_true(answer_facts_text_contains(a, strlen(a), "\xc3\xa9t"));
	assert_false(answer_facts_text_contains(a, strlen(a), "\xc3\x89t\xc3\x89")); /* only ASCII folds */
	assert_false(answer_facts_text_contains("{not json", 9, "not"));
}

static void test_count_map(void **state)
{
	(void)state;
	count_map *m = count_map_new();
	count_key k = { .form = "", .question = "score", .question_len = 5, .type = COUNT_NUMBER, .number = 5 };
	count_map_add(m, &k, 1);
	k.number = 5.0;
	count_map_add(m, &k, 2);
	k.variant = "a";
	count_map_add(m, &k, 4);
	k.variant = "";
	count_map_add(m, &k, 8);
	k = (count_key){ .form = "", .question = "reason", .question_len = 6, .type = COUNT_TEXT, .text = "Price",
		         .text_len = 5, .device = "mobile", .day = 3 };
	for (int i = 0; i < 1000; i++)
		count_map_add(m, &k, 1);
	k.type = COUNT_NUMBER;
	k.number = -0.0;
	count_map_add(m, &k, 1);
	k.number = 0.0;
	count_map_add(m, &k, 1);
	assert_int_equal(count_map_size(m), 5);
	count_key got;
	assert_int_equal(count_map_get(m, 0, &got), 3);
	assert_null(got.variant);
	assert_int_equal(count_map_get(m, 1, &got), 4);
	assert_string_equal(got.variant, "a");
	assert_int_equal(count_map_get(m, 2, &got), 8);
	assert_string_equal(got.variant, "");
	assert_int_equal(count_map_get(m, 3, &got), 1000);
	assert_int_equal(got.type, COUNT_TEXT);
	assert_int_equal(got.text_len, 5);
	assert_string_equal(got.text, "Price");
	assert_string_equal(got.question, "reason");
	assert_string_equal(got.device, "mobile");
	assert_null(got.category);
	assert_int_equal(got.day, 3);
	assert_int_equal(count_map_get(m, 4, &got), 2);
	for (int i = 0; i < 5000; i++) {
		char q[16];
		snprintf(q, sizeof q, "q%d", i);
		count_key x = { .question = q, .question_len = strlen(q), .type = COUNT_ANY };
		count_map_add(m, &x, i);
	}
	assert_int_equal(count_map_size(m), 5005);
	assert_int_equal(count_map_get(m, 5004, &got), 4999);
	assert_string_equal(got.question, "q4999");
	assert_string_equal(got.form, "");
	count_map_free(m);
	char buf[32];
	assert_string_equal(count_number_text(7, buf), "7");
	assert_string_equal(count_number_text(2.5, buf), "2.5");
	assert_string_equal(count_number_text(-3, buf), "-3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_facts_of_an_answer),
		cmocka_unit_test(test_facts_of_malformed_parts),
		cmocka_unit_test(test_vals_text_is_jansson_compact),
		cmocka_unit_test(test_fresh_facts),
		cmocka_unit_test(test_page_path),
		cmocka_unit_test(test_text_contains),
		cmocka_unit_test(test_count_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
