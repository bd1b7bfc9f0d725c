/* hmac: a kept EVP_MAC context per thread, in thread-specific data freed when the thread ends. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hmac.h"
#include "util.h"

/* Keys up to this long are remembered (the server's are 32 bytes); a longer one is set on every call. */
#define KEPT_KEY_MAX 128

typedef struct mac_context {
	EVP_MAC_CTX *ctx;             /* owned */
	unsigned char key[KEPT_KEY_MAX];
	size_t key_len;
	bool keyed;                   /* ctx holds key[0..key_len) */
} mac_context;

/* An empty key is valid HMAC input; OpenSSL wants a non-NULL pointer for it. */
static const unsigned char no_key[1];

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t context_key;
static EVP_MAC *hmac_algorithm; /* fetched once, for the process's life; NULL: HMAC() is used */

static void context_free(void *arg)
{
	mac_context *c = arg;
	EVP_MAC_CTX_free(c->ctx);
	OPENSSL_cleanse(c->key, sizeof c->key);
	free(c);
}

static void init_once(void)
{
	if (pthread_key_create(&context_key, context_free) == 0)
		hmac_algorithm = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

/* The calling thread's context (made on first use), or NULL when OpenSSL gives none. */
static mac_context *thread_context(void)
{
	pthread_once(&once, init_once);
	if (!hmac_algorithm)
		return NULL;
	mac_context *c = pthread_getspecific(context_key);
	if (c)
		return c;
	c = xcalloc(1, sizeof *c);
	c->ctx = EVP_MAC_CTX_new(hmac_algorithm);
	if (!c->ctx || pthread_setspecific(context_key, c) != 0) {
		EVP_MAC_CTX_free(c->ctx);
		free(c);
		return NULL;
	}
	return c;
}

/* Starts a MAC on c keyed with key: keyed anew only when c holds another key. */
static bool context_start(mac_context *c, const unsigned char *key, size_t key_len)
{
	if (c->keyed && c->key_len == key_len && CRYPTO_memcmp(c->key, key, key_len) == 0)
		return EVP_MAC_init(c->ctx, NULL, 0, NULL) == 1;
	OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
		                OSSL_PARAM_construct_end() };
	c->keyed = false;
	if (EVP_MAC_init(c->ctx, key_len ? key : no_key, key_len, params) != 1)
		return false;
	if (key_len <= KEPT_KEY_MAX) {
		memcpy(c->key, key, key_len);
		c->key_len = key_len;
		c->keyed = true;
	}
	return true;
}

/* The one-shot form, when OpenSSL refused the kept context: the parts joined, then HMAC(). */
static void one_shot(const void *key, size_t key_len, const hmac_part *parts, size_t n,
                     unsigned char mac[HMAC_SHA256_BYTES])
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += parts[i].len;
	unsigned char *msg = xmalloc(len ? len : 1);
	for (size_t i = 0, at = 0; i < n; at += parts[i].len, i++)
		if (parts[i].len)
			memcpy(msg + at, parts[i].data, parts[i].len);
	unsigned int mac_len = 0;
	HMAC(EVP_sha256(), key_len ? key : no_key, (int)key_len, msg, len, mac, &mac_len);
	OPENSSL_cleanse(msg, len);
	free(msg);
}

void hmac_sha256_parts(const void *key, size_t key_len, const hmac_part *parts, size_t n,
                       unsigned char mac[HMAC_SHA256_BYTES])
{
	mac_context *c = thread_context();
	bool ok = c && context_start(c, key, key_len);
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_MAC_update(c->ctx, parts[i].data, parts[i].len) == 1;
	size_t len = 0;
	if (ok && EVP_MAC_final(c->ctx, mac, &len, HMAC_SHA256_BYTES) == 1 && len == HMAC_SHA256_BYTES)
		return;
	if (c)
		c->keyed = false;
	one_shot(key, key_len, parts, n, mac);
}

void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                 unsigned char mac[HMAC_SHA256_BYTES])
{
	hmac_part part = { msg, msg_len };
	hmac_sha256_parts(key, key_len, &part, 1, mac);
}
