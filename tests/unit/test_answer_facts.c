/* Unit tests for the narrow facts behind summaries (answer_facts.c) and the in-memory counts they are
 * added up in (count_map.c). */
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
		cmocka_unit_test(test_page_path),
		cmocka_unit_test(test_text_contains),
		cmocka_unit_test(test_count_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
