/* hmac: HMAC-SHA256 for the server's own signatures (timing tokens, confirmation links, webhooks).
 * OpenSSL 3's one-shot HMAC() looks the MAC and the digest up by name on every call; here each thread
 * keeps one MAC context, keyed again only when the key changes. Thread: any. */
#ifndef EARSHOT_HMAC_H
#define EARSHOT_HMAC_H

#include <stddef.h>

#define HMAC_SHA256_BYTES 32

/* One piece of a message. */
typedef struct hmac_part {
	const void *data;
	size_t len;
} hmac_part;

/* The HMAC-SHA256 of msg[0..msg_len) keyed with key[0..key_len) (an empty key is allowed). */
void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                 unsigned char mac[HMAC_SHA256_BYTES]);
/* The same of the message made of parts[0..n) one after another, without joining them first. */
void hmac_sha256_parts(const void *key, size_t key_len, const hmac_part *parts, size_t n,
                       unsigned char mac[HMAC_SHA256_BYTES]);

#endif
