/* spam: keeping bots out without a CAPTCHA. Three signals, none of which a visitor ever sees:
 *   - a honeypot field on the hosted page that people leave empty and form-filling bots do not;
 *   - a timing token, signed with a server secret (HMAC-SHA256), that records when the page was
 *     rendered: a submit sooner than limits.min_fill_seconds is a bot;
 *   - single use: a token's nonce is remembered in the database, inside the answer's transaction,
 *     until the token expires, so a replayed token stores nothing.
 * The routes drop what these catch silently (a normal-looking success), so that bots learn nothing.
 * The per-address token bucket (ratelimit.h) is the fourth line, shared with the JSON route. */
#ifndef EARSHOT_SPAM_H
#define EARSHOT_SPAM_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "storage.h"

/* Names of the hosted page's own fields. Neither can be a question id ([a-z][a-z0-9_]*). */
#define SPAM_TOKEN_FIELD "_t"
#define SPAM_HONEYPOT_FIELD "website-url"

/* How long a timing token is accepted (and its nonce remembered) after it was issued. */
#define SPAM_TOKEN_LIFETIME_MS (24 * 3600 * INT64_C(1000))
/* Tokens dated further ahead than this (clock skew) are refused as forged. */
#define SPAM_TOKEN_SKEW_MS (60 * INT64_C(1000))

/* The key timing tokens are signed with. */
typedef struct spam_key {
	unsigned char bytes[32];
} spam_key;

/* What a token check found. */
typedef enum {
	SPAM_TOKEN_OK,        /* genuine, old enough, not expired */
	SPAM_TOKEN_MISSING,   /* no token at all */
	SPAM_TOKEN_FORGED,    /* malformed, wrong signature, another form's, or dated in the future */
	SPAM_TOKEN_TOO_FAST,  /* genuine but younger than min_fill_seconds */
	SPAM_TOKEN_EXPIRED    /* genuine but older than SPAM_TOKEN_LIFETIME_MS */
} spam_verdict;

/* A checked token: when it was issued and its nonce (32 lower-case hex digits). */
typedef struct spam_token {
	int64_t issued_ms;
	char nonce[33];
} spam_token;

/* Derives the token key from the server's secret (the salt text kept in the database), with a
 * label of its own so that the secret's other uses never see the same key. secret: borrowed. */
void spam_key_derive(const char *secret, spam_key *out);

/* Issues a token for form_id, rendered at now_ms: "t1.<ms>.<nonce>.<mac>" (a malloc'd string the
 * caller frees; only [a-zA-Z0-9._-], safe in HTML attributes and URLs). */
char *spam_token_issue(const spam_key *key, const char *form_id, int64_t now_ms);

/* Checks token (may be NULL or empty) for form_id at now_ms. out (may be NULL) receives the issue
 * time and nonce whenever the signature is genuine (OK, TOO_FAST, EXPIRED). */
spam_verdict spam_token_check(const spam_key *key, const char *token, const char *form_id, int64_t now_ms,
                              int min_fill_seconds, spam_token *out);

/* A short name of a verdict for log lines ("too fast"). */
const char *spam_verdict_name(spam_verdict v);

/* True when the honeypot field of a hosted-page submit (name -> string or array of strings,
 * borrowed) holds anything but white space. */
bool spam_honeypot_filled(const json_t *fields);

/* Remembers nonce as used until expires_ms, inside the caller's transaction on st, and forgets a
 * few tokens that expired before now_ms. Returns 0 when the nonce was new, 1 when it was used
 * before (nothing written), -1 with *err (caller frees). */
int spam_token_remember(store *st, const char *nonce, int64_t expires_ms, int64_t now_ms, char **err);

#endif
