/* hmac: HMAC-SHA256 for the server's own signatures (timing tokens, confirmation links, webhooks).
 * OpenSSL 3's one-shot HMAC() looks the MAC and the digest up by name on every call; here each thread
 * keeps one MAC context, keyed again only when the key changes. Thread: any. */
#ifndef EARSHOT_HMAC_H
#define EARSHOT_HMAC_H

#include <stddef.h>

#define HMAC_SHA256_BYTES 32

/* The HMAC-SHA256 of msg[0..msg_len) keyed with key[0..key_len) (an empty key is allowed). */
void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                 unsigned char mac[HMAC_SHA256_BYTES]);

#endif
