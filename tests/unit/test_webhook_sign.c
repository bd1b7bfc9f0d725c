/* Unit tests for webhook_sign: base64 both ways (RFC 4648 vectors, malformed input), whsec_ secrets,
 * and the Standard Webhooks signature against the specification's published example and a value
 * computed independently (Python's hmac), including an empty body. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "webhook_sign.h"

static const char example_secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/* RFC 4648 section 10 vectors, both directions. */
static void test_base64_vectors(void **state)
{
	(void)state;
	static const struct { const char *plain, *b64; } v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char *enc = webhook_base64_encode((const unsigned char *)v[i].plain, strlen(v[i].plain));
		assert_string_equal(enc, v[i].b64);
		free(enc);
		size_t len = 99;
		unsigned char *dec = webhook_base64_decode(v[i].b64, &len);
		assert_non_null(dec);
		assert_int_equal(len, strlen(v[i].plain));
		assert_memory_equal(dec, v[i].plain, len);
		free(dec);
	}
}

/* Every byte value survives a round trip, and unpadded input decodes like padded input. */
static void test_base64_round_trip_and_unpadded(void **state)
{
	(void)state;
	unsigned char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	for (size_t n = 0; n <= sizeof all; n += 37) {
		char *enc = webhook_base64_encode(all, n);
		size_t len = 0;
		unsigned char *dec = webhook_base64_decode(enc, &len);
		assert_non_null(dec);
		assert_int_equal(len, n);
		assert_memory_equal(dec, all, n);
		free(dec);
		free(enc);
	}
	size_t len = 0;
	unsigned char *dec = webhook_base64_decode("Zm9vYg", &len);
	assert_non_null(dec);
	assert_int_equal(len, 4);
	assert_memory_equal(dec, "foob", 4);
	free(dec);
}

/* Characters outside the alphabet, padding in the middle, too much padding and impossible lengths
 * are refused. */
static void test_base64_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = { "Zm9v!", "Zm=v", "Z", "Zm9vY", "Zg===", "=Zg=", "Zm9 v", "Zg=", "Zm9v\n" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t len = 0;
		unsigned char *dec = webhook_base64_decode(bad[i], &len);
		if (dec)
			fail_msg("\"%s\" decoded", bad[i]);
	}
}

/* The key is the decoded base64 after whsec_; anything else is refused with a message. */
static void test_secret_key(void **state)
{
	(void)state;
	unsigned char *key = NULL;
	size_t key_len = 0;
	char *err = NULL;
	assert_int_equal(webhook_secret_key(example_secret, &key, &key_len, &err), 0);
	assert_int_equal(key_len, 24);
	assert_int_equal(key[0], 0x31);
	assert_int_equal(key[23], 0xB0);
	free(key);
	static const char *const bad[] = { "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_***", "WHSEC_Zm9v", NULL };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err = NULL;
		key = (unsigned char *)"untouched";
		assert_int_equal(webhook_secret_key(bad[i], &key, &key_len, &err), -1);
		assert_null(key);
		assert_non_null(err);
		assert_non_null(strstr(err, "whsec_"));
		free(err);
	}
}

/* The example of the Standard Webhooks specification. */
static void test_signature_spec_example(void **state)
{
	(void)state;
	const char body[] = "{\"test\": 2432232314}";
	char *sig = NULL, *err = NULL;
	assert_int_equal(webhook_sign(example_secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
	                              strlen(body), &sig, &err), 0);
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	free(sig);
}

/* An empty body, checked against Python: hmac.new(key, b"d_x.0.", sha256). The timestamp and the
 * id are part of what is signed: changing either changes the signature. */
static void test_signature_inputs(void **state)
{
	(void)state;
	char *a = NULL, *b = NULL, *c = NULL, *err = NULL;
	assert_int_equal(webhook_sign(example_secret, "d_x", 0, "", 0, &a, &err), 0);
	assert_string_equal(a, "v1,LRehY4Hyfh9OB8FCXFykD89GnExmwN+RaClnKgIbMUw=");
	assert_int_equal(webhook_sign(example_secret, "d_x", 1, "", 0, &b, &err), 0);
	assert_int_equal(webhook_sign(example_secret, "d_y", 0, "", 0, &c, &err), 0);
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
	free(a);
	free(b);
	free(c);
	/* A body with a NUL byte is signed over its full length. */
	unsigned char *key = NULL;
	size_t key_len = 0;
	assert_int_equal(webhook_secret_key(example_secret, &key, &key_len, &err), 0);
	char *s1 = webhook_signature(key, key_len, "id", 5, "a\0b", 3);
	char *s2 = webhook_signature(key, key_len, "id", 5, "a\0c", 3);
	assert_string_not_equal(s1, s2);
	assert_int_equal(strncmp(s1, "v1,", 3), 0);
	assert_int_equal(strlen(s1), 3 + 44);
	free(s1);
	free(s2);
	free(key);
}

/* A malformed secret fails signing with a message and no signature. */
static void test_sign_bad_secret(void **state)
{
	(void)state;
	char *sig = (char *)"untouched", *err = NULL;
	assert_int_equal(webhook_sign("secret", "id", 1, "{}", 2, &sig, &err), -1);
	assert_null(sig);
	assert_non_null(err);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_base64_round_trip_and_unpadded),
		cmocka_unit_test(test_base64_malformed),
		cmocka_unit_test(test_secret_key),
		cmocka_unit_test(test_signature_spec_example),
		cmocka_unit_test(test_signature_inputs),
		cmocka_unit_test(test_sign_bad_secret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
