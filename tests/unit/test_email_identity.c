/* Unit tests for email identities (incentive's `one_per: email`): canonical mode folds letter case,
 * "+tag" sub-addresses and Gmail's dots and googlemail.com; exact mode folds letter case only; odd
 * inputs (quoted local parts, a leading '+', only dots, no '@') are left alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "email_identity.h"

static void expect_identity(const char *in, enum email_identity_mode mode, const char *want)
{
	char *got = email_identity(in, mode);
	assert_string_equal(got, want);
	free(got);
}

static void test_canonical(void **state)
{
	(void)state;
	const enum email_identity_mode c = EMAIL_IDENTITY_CANONICAL;
	expect_identity("ann@example.com", c, "ann@example.com");
	expect_identity("Ann@Example.COM", c, "ann@example.com");
	expect_identity("ann+1@example.com", c, "ann@example.com");
	expect_identity("ann+shop+x@example.com", c, "ann@example.com");
	expect_identity("a.n.n@example.com", c, "a.n.n@example.com");
	expect_identity("a.n.n+2@gmail.com", c, "ann@gmail.com");
	expect_identity("A.Nn@GoogleMail.com", c, "ann@gmail.com");
	expect_identity("ann+@example.com", c, "ann@example.com");
	expect_identity("ann@mail.gmail.com", c, "ann@mail.gmail.com");
	expect_identity("ann@gmail.com.example", c, "ann@gmail.com.example");
}

static void test_same_person(void **state)
{
	(void)state;
	const char *same[] = { "ann@gmail.com", "a.nn@gmail.com", "ann+1@gmail.com", "ANN+2@googlemail.com",
	                       "a.n.n+promo@GMAIL.COM" };
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
		expect_identity(same[i], EMAIL_IDENTITY_CANONICAL, "ann@gmail.com");
}

static void test_exact(void **state)
{
	(void)state;
	const enum email_identity_mode e = EMAIL_IDENTITY_EXACT;
	expect_identity("Ann+1@Example.com", e, "ann+1@example.com");
	expect_identity("a.n.n@gmail.com", e, "a.n.n@gmail.com");
	expect_identity("ann@googlemail.com", e, "ann@googlemail.com");
}

static void test_left_alone(void **state)
{
	(void)state;
	const enum email_identity_mode c = EMAIL_IDENTITY_CANONICAL;
	expect_identity("\"a+b\"@example.com", c, "\"a+b\"@example.com");
	expect_identity("+ann@example.com", c, "+ann@example.com");
	expect_identity("...@gmail.com", c, "...@gmail.com");
	expect_identity("no-at-sign", c, "no-at-sign");
	expect_identity("@example.com", c, "@example.com");
	expect_identity("", c, "");
	/* Letters beyond ASCII are kept as they are. */
	expect_identity("Žan+1@Example.si", c, "Žan@example.si");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_same_person),
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_left_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
