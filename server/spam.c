/* spam: honeypot, signed timing tokens with a minimum fill time, single-use nonces. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contacts.h"
#include "hmac.h"
#include "spam.h"
#include "util.h"

#define TOKEN_VERSION "t1"
#define NONCE_BYTES 16
#define MAC_B64_LEN 43 /* 32 bytes in unpadded base64url */
#define MS_DIGITS_MAX 15

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Unpadded base64url of 32 bytes into out (MAC_B64_LEN characters and a NUL). */
static void b64url_32(const unsigned char in[32], char out[MAC_B64_LEN + 1])
{
	size_t o = 0;
	for (size_t i = 0; i < 32; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t n = 32 - i < 3 ? 32 - i : 3;
		if (n > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (n > 2)
			v |= in[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (n > 1)
			out[o++] = b64url[(v >> 6) & 63];
		if (n > 2)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
}

/* Derives the token key: HMAC-SHA256 of a fixed label, keyed with the server secret. */
void spam_key_derive(const char *secret, spam_key *out)
{
	static const char label[] = "earshot form timing token key v1";
	hmac_sha256(secret, strlen(secret), label, sizeof label - 1, out->bytes);
}

/* The MAC of a token's fields, as base64url text: the form id is signed but not carried. */
static void token_mac(const spam_key *key, const char *form_id, int64_t ms, const char *nonce,
                      char out[MAC_B64_LEN + 1])
{
	char *msg = xasprintf(TOKEN_VERSION "\n%s\n%" PRId64 "\n%s", form_id, ms, nonce);
	unsigned char mac[32];
	hmac_sha256(key->bytes, sizeof key->bytes, msg, strlen(msg), mac);
	free(msg);
	b64url_32(mac, out);
}

/* Issues a new token with a random nonce; returns it malloc'd (caller frees). */
char *spam_token_issue(const spam_key *key, const char *form_id, int64_t now_ms)
{
	unsigned char raw[NONCE_BYTES];
	char nonce[2 * NONCE_BYTES + 1], mac[MAC_B64_LEN + 1];
	if (random_bytes(raw, sizeof raw) != 0) {
		/* Without randomness a nonce would repeat: fail loudly rather than issue one. */
		fputs("earshot: no randomness available for a form token\n", stderr);
		abort();
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(nonce + 2 * i, 3, "%02x", raw[i]);
	token_mac(key, form_id, now_ms, nonce, mac);
	return xasprintf(TOKEN_VERSION ".%" PRId64 ".%s.%s", now_ms, nonce, mac);
}

/* Splits "t1.<ms>.<nonce>.<mac>" strictly. Returns 0 with the parts, -1 when malformed. */
static int token_parse(const char *token, int64_t *ms, char nonce[33], char mac[MAC_B64_LEN + 1])
{
	const char *p = token;
	if (strncmp(p, TOKEN_VERSION ".", sizeof TOKEN_VERSION) != 0)
		return -1;
	p += sizeof TOKEN_VERSION;
	size_t digits = strspn(p, "0123456789");
	if (digits == 0 || digits > MS_DIGITS_MAX || p[digits] != '.')
		return -1;
	*ms = strtoll(p, NULL, 10);
	p += digits + 1;
	size_t hex = strspn(p, "0123456789abcdef");
	if (hex != 2 * NONCE_BYTES || p[hex] != '.')
		return -1;
	memcpy(nonce, p, hex);
	nonce[hex] = '\0';
	p += hex + 1;
	size_t len = strlen(p);
	if (len != MAC_B64_LEN)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!strchr(b64url, p[i]))
			return -1;
	memcpy(mac, p, len + 1);
	return 0;
}

/* Checks a token's shape, signature, form and age; fills out for genuine tokens. */
spam_verdict spam_token_check(const spam_key *key, const char *token, const char *form_id, int64_t now_ms,
                              int min_fill_seconds, spam_token *out)
{
	if (!token || !*token)
		return SPAM_TOKEN_MISSING;
	int64_t ms;
	char nonce[33], mac[MAC_B64_LEN + 1], want[MAC_B64_LEN + 1];
	if (token_parse(token, &ms, nonce, mac) != 0)
		return SPAM_TOKEN_FORGED;
	token_mac(key, form_id, ms, nonce, want);
	if (!ct_equal(mac, want, MAC_B64_LEN))
		return SPAM_TOKEN_FORGED;
	if (ms > now_ms + SPAM_TOKEN_SKEW_MS)
		return SPAM_TOKEN_FORGED;
	if (out) {
		out->issued_ms = ms;
		memcpy(out->nonce, nonce, sizeof out->nonce);
	}
	int64_t age = now_ms - ms;
	if (age > SPAM_TOKEN_LIFETIME_MS)
		return SPAM_TOKEN_EXPIRED;
	if (age < (int64_t)min_fill_seconds * 1000)
		return SPAM_TOKEN_TOO_FAST;
	return SPAM_TOKEN_OK;
}

/* A static short name of v for log lines. */
const char *spam_verdict_name(spam_verdict v)
{
	switch (v) {
	case SPAM_TOKEN_OK: return "ok";
	case SPAM_TOKEN_MISSING: return "no timing token";
	case SPAM_TOKEN_FORGED: return "forged timing token";
	case SPAM_TOKEN_TOO_FAST: return "too fast";
	case SPAM_TOKEN_EXPIRED: return "expired timing token";
	}
	return "?";
}

/* True when s holds a character other than white space. */
static bool has_content(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return true;
	return false;
}

/* True when the honeypot field holds anything but white space (any non-string counts). */
bool spam_honeypot_filled(const json_t *fields)
{
	const json_t *v = json_is_object(fields) ? json_object_get(fields, SPAM_HONEYPOT_FIELD) : NULL;
	if (json_is_string(v))
		return has_content(json_string_value(v), json_string_length(v));
	if (json_is_array(v)) {
		size_t i;
		const json_t *e;
		json_array_foreach(v, i, e)
			if (!json_is_string(e) || has_content(json_string_value(e), json_string_length(e)))
				return true;
	}
	return v != NULL && !json_is_array(v);
}

/* Records nonce as used inside the caller's transaction: 0 new, 1 used before, -1 error. */
int spam_token_remember(store *st, const char *nonce, int64_t expires_ms, int64_t now_ms, char **err)
{
	return store_token_use(st, nonce, expires_ms, now_ms, err);
}
