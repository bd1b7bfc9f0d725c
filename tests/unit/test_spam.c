/* Unit tests for spam control: timing tokens (issue, minimum fill time at its boundary, expiry at
 * its boundary, every way a token can be forged or malformed, binding to the form and the key),
 * the honeypot, and single use of nonces in the database (replay, rollback, forgetting expired
 * ones). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spam.h"
#include "storage.h"
#include "util.h"

#define T0 INT64_C(1795640000000)

static spam_key key_of(const char *secret)
{
	spam_key k;
	spam_key_derive(secret, &k);
	return k;
}

static void test_token_round_trip(void **state)
{
	(void)state;
	spam_key k = key_of("0123abcd");
	char *t = spam_token_issue(&k, "newsletter", T0);
	assert_non_null(t);
	assert_true(strncmp(t, "t1.1795640000000.", 17) == 0);
	/* Only characters that need no escaping in HTML attributes or URLs. */
	assert_int_equal(strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"), strlen(t));
	spam_token tok;
	memset(&tok, 0, sizeof tok);
	assert_int_equal(spam_token_check(&k, t, "newsletter", T0 + 5000, 2, &tok), SPAM_TOKEN_OK);
	assert_int_equal(tok.issued_ms, T0);
	assert_int_equal(strlen(tok.nonce), 32);
	assert_non_null(strstr(t, tok.nonce));
	free(t);
}

static void test_nonces_differ(void **state)
{
	(void)state;
	spam_key k = key_of("s");
	char *a = spam_token_issue(&k, "f", T0), *b = spam_token_issue(&k, "f", T0);
	assert_string_not_equal(a, b);
	spam_token ta, tb;
	assert_int_equal(spam_token_check(&k, a, "f", T0, 0, &ta), SPAM_TOKEN_OK);
	assert_int_equal(spam_token_check(&k, b, "f", T0, 0, &tb), SPAM_TOKEN_OK);
	assert_string_not_equal(ta.nonce, tb.nonce);
	free(a);
	free(b);
}

static void test_min_fill_boundary(void **state)
{
	(void)state;
	spam_key k = key_of("s");
	char *t = spam_token_issue(&k, "f", T0);
	spam_token tok;
	assert_int_equal(spam_token_check(&k, t, "f", T0 + 1999, 2, &tok), SPAM_TOKEN_TOO_FAST);
	/* A too-fast token is still genuine: its nonce is known. */
	assert_int_equal(tok.issued_ms, T0);
	assert_int_equal(spam_token_check(&k, t, "f", T0 + 2000, 2, NULL), SPAM_TOKEN_OK);
	assert_int_equal(spam_token_check(&k, t, "f", T0, 0, NULL), SPAM_TOKEN_OK);
	assert_int_equal(spam_token_check(&k, t, "f", T0 + 2999, 3, NULL), SPAM_TOKEN_TOO_FAST);
	free(t);
}

static void test_expiry_boundary(void **state)
{
	(void)state;
	spam_key k = key_of("s");
	char *t = spam_token_issue(&k, "f", T0);
	assert_int_equal(spam_token_check(&k, t, "f", T0 + SPAM_TOKEN_LIFETIME_MS, 2, NULL), SPAM_TOKEN_OK);
	assert_int_equal(spam_token_check(&k, t, "f", T0 + SPAM_TOKEN_LIFETIME_MS + 1, 2, NULL), SPAM_TOKEN_EXPIRED);
	free(t);
}

static void test_future_tokens(void **state)
{
	(void)state;
	spam_key k = key_of("s");
	char *t = spam_token_issue(&k, "f", T0);
	/* A little clock skew is a token that is merely too young; more is forged. */
	assert_int_equal(spam_token_check(&k, t, "f", T0 - SPAM_TOKEN_SKEW_MS, 0, NULL), SPAM_TOKEN_TOO_FAST);
	assert_int_equal(spam_token_check(&k, t, "f", T0 - SPAM_TOKEN_SKEW_MS - 1, 0, NULL), SPAM_TOKEN_FORGED);
	free(t);
}

static void test_bound_to_form_and_key(void **state)
{
	(void)state;
	spam_key k = key_of("one"), other = key_of("two");
	assert_memory_not_equal(k.bytes, other.bytes, sizeof k.bytes);
	spam_key again = key_of("one");
	assert_memory_equal(k.bytes, again.bytes, sizeof k.bytes);
	char *t = spam_token_issue(&k, "newsletter", T0);
	assert_int_equal(spam_token_check(&k, t, "callback", T0 + 5000, 0, NULL), SPAM_TOKEN_FORGED);
	assert_int_equal(spam_token_check(&other, t, "newsletter", T0 + 5000, 0, NULL), SPAM_TOKEN_FORGED);
	free(t);
}

static void test_tampering(void **state)
{
	(void)state;
	spam_key k = key_of("s");
	char *t = spam_token_issue(&k, "f", T0);
	size_t len = strlen(t);
	/* Every single-character change anywhere is refused. */
	for (size_t i = 0; i < len; i++) {
		char *m = xstrdup(t);
		m[i] = m[i] == 'A' ? 'B' : 'A';
		assert_int_not_equal(spam_token_check(&k, m, "f", T0 + 5000, 0, NULL), SPAM_TOKEN_OK);
		free(m);
	}
	/* An earlier time with the same signature (to pass the fill time) is refused. */
	char *older = xasprintf("t1.%lld%s", (long long)(T0 - 10000), t + 16);
	assert_int_equal(spam_token_check(&k, older, "f", T0 + 1000, 2, NULL), SPAM_TOKEN_FORGED);
	free(older);
	free(t);
}

static void test_malformed(void **state)
{
	(void)state;
	spam_key k = key_of("s");
	char *t = spam_token_issue(&k, "f", T0);
	const char *mac = strrchr(t, '.') + 1;
	char *cases[] = {
		xstrdup("t1."),
		xstrdup("garbage"),
		xasprintf("t2%s", t + 2),                          /* another version */
		xasprintf("%s.", t),                               /* trailing dot */
		xasprintf("%s=", t),                               /* padded mac */
		xasprintf("%.*s", (int)strlen(t) - 1, t),          /* short mac */
		xasprintf("t1.12345678901234567.%s", t + 17),      /* 17-digit time */
		xasprintf("t1.-1.%s", t + 17),                     /* negative time */
		xasprintf("t1.%lld.ABCDEF0123456789abcdef0123456789.%s", (long long)T0, mac), /* upper-case nonce */
		xasprintf("t1.%lld.abc.%s", (long long)T0, mac),   /* short nonce */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(spam_token_check(&k, cases[i], "f", T0 + 5000, 0, NULL), SPAM_TOKEN_FORGED);
		free(cases[i]);
	}
	assert_int_equal(spam_token_check(&k, NULL, "f", T0, 0, NULL), SPAM_TOKEN_MISSING);
	assert_int_equal(spam_token_check(&k, "", "f", T0, 0, NULL), SPAM_TOKEN_MISSING);
	assert_string_equal(spam_verdict_name(SPAM_TOKEN_TOO_FAST), "too fast");
	free(t);
}

static void test_honeypot(void **state)
{
	(void)state;
	json_t *f = json_object();
	assert_false(spam_honeypot_filled(f));
	assert_false(spam_honeypot_filled(NULL));
	json_object_set_new(f, SPAM_HONEYPOT_FIELD, json_string(""));
	assert_false(spam_honeypot_filled(f));
	json_object_set_new(f, SPAM_HONEYPOT_FIELD, json_string(" \t\n"));
	assert_false(spam_honeypot_filled(f));
	json_object_set_new(f, SPAM_HONEYPOT_FIELD, json_string("http://spam.example"));
	assert_true(spam_honeypot_filled(f));
	json_object_set_new(f, SPAM_HONEYPOT_FIELD, json_pack("[s, s]", "", ""));
	assert_false(spam_honeypot_filled(f));
	json_object_set_new(f, SPAM_HONEYPOT_FIELD, json_pack("[s, s]", "", "x"));
	assert_true(spam_honeypot_filled(f));
	json_object_set_new(f, SPAM_HONEYPOT_FIELD, json_integer(1));
	assert_true(spam_honeypot_filled(f));
	/* The name can never be a question id, so a question cannot trip it. */
	json_object_set_new(f, SPAM_HONEYPOT_FIELD, json_string(""));
	json_object_set_new(f, "website_url", json_string("https://mine.example"));
	assert_false(spam_honeypot_filled(f));
	json_decref(f);
}

/* Opens an in-memory store with the current schema. */
static store *mem_store(void)
{
	store *st = NULL;
	char *err = NULL;
	if (store_open(":memory:", DURABILITY_NORMAL, false, &st, &err) != 0)
		fail_msg("store_open: %s", err);
	return st;
}

static void test_remember_once(void **state)
{
	(void)state;
	store *st = mem_store();
	char *err = NULL;
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(spam_token_remember(st, "aaaa", T0 + 1000, T0, &err), 0);
	assert_int_equal(spam_token_remember(st, "aaaa", T0 + 1000, T0, &err), 1);
	assert_int_equal(spam_token_remember(st, "bbbb", T0 + 1000, T0, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);
	/* Committed: still used in the next transaction. */
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(spam_token_remember(st, "aaaa", T0 + 1000, T0 + 1, &err), 1);
	assert_int_equal(store_commit(st, &err), 0);
	store_close(st);
}

static void test_remember_rolls_back(void **state)
{
	(void)state;
	store *st = mem_store();
	char *err = NULL;
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_savepoint(st, &err), 0);
	assert_int_equal(spam_token_remember(st, "cccc", T0 + 1000, T0, &err), 0);
	/* The answer carrying it was not stored: the token stays usable. */
	store_rollback_savepoint(st);
	assert_int_equal(spam_token_remember(st, "cccc", T0 + 1000, T0, &err), 0);
	store_rollback(st);
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(spam_token_remember(st, "cccc", T0 + 1000, T0, &err), 0);
	assert_int_equal(store_commit(st, &err), 0);
	store_close(st);
}

static void test_remember_forgets_expired(void **state)
{
	(void)state;
	store *st = mem_store();
	char *err = NULL;
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(spam_token_remember(st, "old", T0 + 100, T0, &err), 0);
	assert_int_equal(spam_token_remember(st, "young", T0 + 10000, T0, &err), 0);
	/* Later, past the first one's expiry: it is forgotten, the other one is not. */
	assert_int_equal(spam_token_remember(st, "new", T0 + 20000, T0 + 200, &err), 0);
	assert_int_equal(spam_token_remember(st, "old", T0 + 100, T0 + 200, &err), 0);
	assert_int_equal(spam_token_remember(st, "young", T0 + 10000, T0 + 200, &err), 1);
	assert_int_equal(store_commit(st, &err), 0);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_round_trip),
		cmocka_unit_test(test_nonces_differ),
		cmocka_unit_test(test_min_fill_boundary),
		cmocka_unit_test(test_expiry_boundary),
		cmocka_unit_test(test_future_tokens),
		cmocka_unit_test(test_bound_to_form_and_key),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_honeypot),
		cmocka_unit_test(test_remember_once),
		cmocka_unit_test(test_remember_rolls_back),
		cmocka_unit_test(test_remember_forgets_expired),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
