/* webhook_sign: base64 and the Standard Webhooks HMAC-SHA256 signature (OpenSSL libcrypto). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "hmac.h"
#include "util.h"
#include "webhook_sign.h"

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value 0..63 of a base64 character, or -1. */
static int b64_value(unsigned char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;
	return p ? (int)(p - b64_alphabet) : -1;
}

/* Decodes base64 into a new buffer; NULL on any character outside the alphabet, misplaced padding
 * or a length that cannot be base64 (a lone trailing character). */
unsigned char *webhook_base64_decode(const char *text, size_t *len)
{
	size_t n = strlen(text), pad = 0;
	while (pad < 2 && n > pad && text[n - 1 - pad] == '=')
		pad++;
	size_t body = n - pad;
	if ((pad && n % 4 != 0) || body % 4 == 1)
		return NULL;
	unsigned char *out = xmalloc(body * 3 / 4 + 1);
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < body; i++) {
		int v = b64_value((unsigned char)text[i]);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*len = o;
	return out;
}

/* Padded base64 of data (malloc'd). */
char *webhook_base64_encode(const unsigned char *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t chunk = (uint32_t)data[i] << 16;
		if (i + 1 < len)
			chunk |= (uint32_t)data[i + 1] << 8;
		if (i + 2 < len)
			chunk |= data[i + 2];
		out[o++] = b64_alphabet[(chunk >> 18) & 63];
		out[o++] = b64_alphabet[(chunk >> 12) & 63];
		out[o++] = i + 1 < len ? b64_alphabet[(chunk >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64_alphabet[chunk & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

/* Decodes the key of "whsec_<base64>". 0 with *key and *key_len, or -1 with *err. */
int webhook_secret_key(const char *secret, unsigned char **key, size_t *key_len, char **err)
{
	*key = NULL;
	*key_len = 0;
	if (!secret || strncmp(secret, "whsec_", 6) != 0) {
		*err = xstrdup("the webhook secret must start with \"whsec_\"");
		return -1;
	}
	size_t n = 0;
	unsigned char *k = webhook_base64_decode(secret + 6, &n);
	if (!k || n == 0) {
		free(k);
		*err = xstrdup("the webhook secret must be \"whsec_\" followed by base64 (a non-empty key)");
		return -1;
	}
	*key = k;
	*key_len = n;
	return 0;
}

/* "v1," + base64(HMAC-SHA256(key, id "." timestamp "." body)), malloc'd. */
char *webhook_signature(const unsigned char *key, size_t key_len, const char *id, int64_t timestamp,
                        const char *body, size_t body_len)
{
	char stamp[24];
	int stamp_len = snprintf(stamp, sizeof stamp, "%" PRId64, timestamp);
	const hmac_part parts[] = { { id, strlen(id) }, { ".", 1 }, { stamp, (size_t)stamp_len }, { ".", 1 },
		                    { body, body_len } };
	unsigned char mac[HMAC_SHA256_BYTES];
	hmac_sha256_parts(key, key_len, parts, sizeof parts / sizeof parts[0], mac);
	char *b64 = webhook_base64_encode(mac, sizeof mac);
	char *sig = xasprintf("v1,%s", b64);
	free(b64);
	OPENSSL_cleanse(mac, sizeof mac);
	return sig;
}

/* Signs one attempt with the configured secret. 0 with *signature, or -1 with *err. */
int webhook_sign(const char *secret, const char *id, int64_t timestamp, const char *body,
                 size_t body_len, char **signature, char **err)
{
	unsigned char *key = NULL;
	size_t key_len = 0;
	*signature = NULL;
	if (webhook_secret_key(secret, &key, &key_len, err) != 0)
		return -1;
	*signature = webhook_signature(key, key_len, id, timestamp, body, body_len);
	OPENSSL_cleanse(key, key_len);
	free(key);
	return 0;
}
