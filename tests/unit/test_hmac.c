/* Unit tests for the server's HMAC-SHA256 (hmac.c): RFC 4231's test vectors, keys changing between
 * calls on one thread's kept context, threads each with their own, and a message in parts. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hmac.h"

static void hex(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}

/* RFC 4231 test cases 1, 2, 4 and 6 (a key longer than SHA-256's block), in an order that changes the
 * key on every call, twice over, and an empty key (its value computed independently, with Python's hmac
 * module). */
typedef struct vector {
	unsigned char key[131];
	size_t key_len;
	const char *msg;
	const char *mac;
} vector;

static vector vectors[5];

static void make_vectors(void)
{
	memset(vectors, 0, sizeof vectors);
	memset(vectors[0].key, 0x0b, 20);
	vectors[0].key_len = 20;
	vectors[0].msg = "Hi There";
	vectors[0].mac = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
	memcpy(vectors[1].key, "Jefe", 4);
	vectors[1].key_len = 4;
	vectors[1].msg = "what do ya want for nothing?";
	vectors[1].mac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
	for (int i = 0; i < 25; i++)
		vectors[2].key[i] = (unsigned char)(i + 1);
	vectors[2].key_len = 25;
	static char cd[51];
	memset(cd, 0xcd, 50);
	vectors[2].msg = cd;
	vectors[2].mac = "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b";
	memset(vectors[3].key, 0xaa, 131);
	vectors[3].key_len = 131;
	vectors[3].msg = "Test Using Larger Than Block-Size Key - Hash Key First";
	vectors[3].mac = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
	vectors[4].key_len = 0;
	vectors[4].msg = "earshot";
	vectors[4].mac = "c3f1cdd387b7adcb9296046c8e17af17b72af01bbb51ff7e52541b14a61e9bb1";
}

static int check_vector(const vector *v)
{
	unsigned char mac[HMAC_SHA256_BYTES];
	char text[2 * HMAC_SHA256_BYTES + 1];
	hmac_sha256(v->key, v->key_len, v->msg, strlen(v->msg), mac);
	hex(mac, sizeof mac, text);
	return strcmp(text, v->mac);
}

static void test_rfc4231_vectors(void **state)
{
	(void)state;
	make_vectors();
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < 4; i++)
			assert_int_equal(check_vector(&vectors[i]), 0);
	/* the same key many times on the kept context */
	for (int i = 0; i < 100; i++)
		assert_int_equal(check_vector(&vectors[1]), 0);
}

static void *thread_main(void *arg)
{
	size_t first = *(size_t *)arg;
	intptr_t bad = 0;
	for (int i = 0; i < 2000; i++)
		bad += check_vector(&vectors[(first + (size_t)i / 7) % 4]) != 0;
	return (void *)bad;
}

static void test_threads_keep_their_own(void **state)
{
	(void)state;
	make_vectors();
	pthread_t threads[4];
	size_t firsts[4] = { 0, 1, 2, 3 };
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, thread_main, &firsts[i]), 0);
	for (int i = 0; i < 4; i++) {
		void *bad = NULL;
		pthread_join(threads[i], &bad);
		assert_int_equal((intptr_t)bad, 0);
	}
}

/* Keys of the same length, alternating: the kept context must notice the change of key, not only of
 * length. The reference is OpenSSL's one-shot HMAC(). */
static void test_same_length_keys(void **state)
{
	(void)state;
	unsigned char keys[2][32], mac[HMAC_SHA256_BYTES], want[EVP_MAX_MD_SIZE];
	memset(keys[0], 0x01, 32);
	memset(keys[1], 0x01, 32);
	keys[1][31] = 0x02;
	for (int i = 0; i < 6; i++) {
		const unsigned char *key = keys[i % 2];
		unsigned int want_len = 0;
		HMAC(EVP_sha256(), key, 32, (const unsigned char *)"message", 7, want, &want_len);
		hmac_sha256(key, 32, "message", 7, mac);
		assert_int_equal(want_len, HMAC_SHA256_BYTES);
		assert_memory_equal(mac, want, HMAC_SHA256_BYTES);
	}
}

/* A message given in parts, one of them empty, is the message joined. */
static void test_parts(void **state)
{
	(void)state;
	make_vectors();
	const vector *v = &vectors[1];
	const hmac_part parts[] = { { "what do ya", 10 }, { "", 0 }, { " want ", 6 }, { "for nothing?", 12 } };
	unsigned char mac[HMAC_SHA256_BYTES];
	char text[2 * HMAC_SHA256_BYTES + 1];
	hmac_sha256_parts(v->key, v->key_len, parts, 4, mac);
	hex(mac, sizeof mac, text);
	assert_string_equal(text, v->mac);
}

static void test_empty_key(void **state)
{
	(void)state;
	make_vectors();
	assert_int_equal(check_vector(&vectors[4]), 0);
	assert_int_equal(check_vector(&vectors[1]), 0);
	assert_int_equal(check_vector(&vectors[4]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4231_vectors),
		cmocka_unit_test(test_threads_keep_their_own),
		cmocka_unit_test(test_same_length_keys),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_empty_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
