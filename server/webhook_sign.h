/* webhook_sign: Standard Webhooks signatures (https://www.standardwebhooks.com/). A delivery is
 * signed with HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>", keyed with the bytes
 * that the base64 part of a "whsec_<base64>" secret decodes to, and sent as the header
 * `webhook-signature: v1,<base64 of the MAC>`. */
#ifndef EARSHOT_WEBHOOK_SIGN_H
#define EARSHOT_WEBHOOK_SIGN_H

#include <stddef.h>
#include <stdint.h>

/* Decodes standard base64 ('=' padding optional, but only at the end and only to a multiple of 4;
 * no whitespace). Returns a malloc'd buffer of *len bytes (caller frees), or NULL
 * when text is not base64. */
unsigned char *webhook_base64_decode(const char *text, size_t *len);
/* Encodes len bytes as padded standard base64: a malloc'd string (caller frees). */
char *webhook_base64_encode(const unsigned char *data, size_t len);

/* Decodes the key of a "whsec_<base64>" secret. Returns 0 with *key (malloc'd, caller frees) and
 * *key_len, or -1 with *err (caller frees) when the secret is malformed or its key empty. */
int webhook_secret_key(const char *secret, unsigned char **key, size_t *key_len, char **err);

/* The webhook-signature header value "v1,<base64>" for one attempt: HMAC-SHA256 with key over
 * id "." timestamp "." body. Returns a malloc'd string (caller frees). */
char *webhook_signature(const unsigned char *key, size_t key_len, const char *id, int64_t timestamp,
                        const char *body, size_t body_len);

/* Both steps from the secret as configured. Returns 0 with *signature (malloc'd, caller frees), or
 * -1 with *err (caller frees). */
int webhook_sign(const char *secret, const char *id, int64_t timestamp, const char *body,
                 size_t body_len, char **signature, char **err);

#endif
