/* Unit tests for confirmed signups: the signed one-time link's token (genuine, forged, for another
 * form or answer, malformed) and the confirmation email's texts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "confirm.h"
#include "notice.h"

/* A token checks for its form and gives back the answer and the expiry; any change is refused. */
static void test_token(void **state)
{
	(void)state;
	confirm_configure(NULL, "server secret");
	char id[48];
	int64_t expires = 0;
	char *t = confirm_token_issue("signup", "r_abcdefghijklmnopqrstuvwxyz", 1800000000000);
	assert_int_equal(confirm_token_check(t, "signup", id, &expires), 0);
	assert_string_equal(id, "r_abcdefghijklmnopqrstuvwxyz");
	assert_true(expires == 1800000000000);
	assert_int_equal(confirm_token_check(t, "other", id, &expires), -1);
	char *changed = strdup(t);
	changed[strlen(changed) - 1] = changed[strlen(changed) - 1] == '0' ? '1' : '0';
	assert_int_equal(confirm_token_check(changed, "signup", id, &expires), -1);
	/* A later expiry with the same MAC is refused. */
	char *later = strdup(t);
	char *ms = strstr(later, ".18");
	ms[1] = '9';
	assert_int_equal(confirm_token_check(later, "signup", id, &expires), -1);
	assert_int_equal(confirm_token_check("c1.r_x.1.zz", "signup", id, &expires), -1);
	assert_int_equal(confirm_token_check("", "signup", id, &expires), -1);
	assert_int_equal(confirm_token_check(NULL, "signup", id, &expires), -1);
	/* Another server secret: the same token is forged. */
	confirm_configure(NULL, "another secret");
	assert_int_equal(confirm_token_check(t, "signup", id, &expires), -1);
	free(t);
	free(changed);
	free(later);
}

/* The confirmation email says what to do and carries the link; the HTML escapes it. */
static void test_notice(void **state)
{
	(void)state;
	json_t *n = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "confirm", "title", "News <weekly>",
	                      "subject", "Please confirm your address", "intro", "Open this link:", "button",
	                      "Confirm", "outro", "Ignore it otherwise.", "lang", "en", "link",
	                      "http://x.example/f/s/confirm?t=c1.a&b");
	char *subject = notice_subject(n), *text = notice_text(n), *html = notice_html(n);
	assert_string_equal(subject, "Please confirm your address: News <weekly>");
	assert_non_null(strstr(text, "Open this link:\nhttp://x.example/f/s/confirm?t=c1.a&b\n"));
	assert_non_null(strstr(html, "href=\"http://x.example/f/s/confirm?t=c1.a&amp;b\""));
	assert_non_null(strstr(html, "News &lt;weekly&gt;"));
	assert_non_null(strstr(html, "<html lang=\"en\">"));
	free(subject);
	free(text);
	free(html);
	json_decref(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_notice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
