/* incentive: an offer in exchange for an answer, built against the public plugin header only.
 *
 * Once the answers named in `requires` are given, the answer gets the offer {"text","code"}: the
 * visitor sees it in the JSON 201 and on the hosted thank-you page. Codes come from one of two
 * sources:
 *   generate  unguessable codes such as EAR-7Q2M-K9XH: an HMAC-SHA256 (with a secret this plugin keeps
 *             in its key-value store) of the contact, or of the answer when there is no one_per;
 *   file      one code per line of a file, each handed out exactly once: the file's codes are loaded
 *             into the key-value store once per file content, and each answer takes one with kv_take
 *             inside its own transaction, so two answers (on one server, or on several nodes sharing a
 *             PostgreSQL) never get the same code nor wait for each other, and an answer that is not
 *             stored gives its code back.
 * With `one_per: email` (or phone) a returning person — the same address in any letter case, the
 * same number in any formatting — gets the code they got before, never a second one. By default
 * (`email_identity: canonical`) "+tag" sub-addresses and Gmail's dots count as the same address too
 * (ann+1@x and ann@x, a.n.n@gmail.com and ann@googlemail.com); `exact` compares whole addresses. The
 * plugin declares its offers to the server, which then takes JSON submits of its forms only with a
 * valid timing token, so that a bot cannot collect a code per made-up address. An empty pool
 * never fails a visitor's answer: the answer is stored without an offer, the plugin logs it, and
 * GET /healthz reports it (the key "health" of the key-value store, read by the server).
 *
 * Config:
 *   offer: "10% off your next order"        the text shown with the code (required)
 *   requires: [email]                       answered questions that earn the offer (default: none)
 *   codes: {source: generate, prefix: EAR, length: 8}   or {source: file, path: coupons.txt}
 *   one_per: email                          email | phone (default: every answer gets its own code)
 *   email_identity: canonical               canonical | exact: who counts as the same email address
 *   requires_confirmed: false               true: on a form with `confirm:`, the code is made only
 *                                           when the visitor opens the emailed link, and shown on
 *                                           the confirmation page (an answer without confirmation
 *                                           gets it at once)
 * A relative file path is resolved against the directory of earshot.yaml. Lines that are empty or start
 * with '#' are skipped.
 *
 * Key-value store: "secret" (32 random bytes), "contact:<hmac>" -> code, "code:<code>" -> the
 * answer or contact holding it, "file:pool" (the fingerprint of the file whose codes are loaded),
 * "pool:<fingerprint>:<line number>" -> a code not handed out yet, and "health" (empty, or the
 * sentence /healthz shows). Versions before 1.1 kept "file:cursor" and "file:fingerprint" instead: the
 * pool is then loaded once from the file and the codes they gave out are skipped. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <earshot/plugin.h>

#include "email_identity.h"

#define SECRET_BYTES 32
#define CODE_LINE_MAX 200
#define PREFIX_MAX 16
#define LENGTH_DEFAULT 8
#define LENGTH_MIN 6
#define LENGTH_MAX 16
/* Crockford's base32: digits and capitals without I, L, O and U, so that codes read back unambiguously. */
static const char code_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

enum source { SOURCE_GENERATE, SOURCE_FILE };
enum one_per { ONE_PER_NONE, ONE_PER_EMAIL, ONE_PER_PHONE };

/* An HMAC-SHA256 context kept between answers. OpenSSL's one-shot HMAC() looks the MAC and the digest
 * up by name on every call (1.3 µs against 0.2 µs here); the context is keyed again only when the
 * secret changes. */
struct mac_cache {
	EVP_MAC *mac;                    /* owned; NULL when OpenSSL could not give one (HMAC() is used) */
	EVP_MAC_CTX *ctx;                /* owned */
	unsigned char key[SECRET_BYTES]; /* the secret ctx is keyed with */
	bool keyed;
};

/* What init keeps; read-only afterwards (on_response runs on the writer thread, one at a time), but
 * for the MAC context its calls share. */
struct incentive {
	const struct earshot_host *host; /* borrowed until fini */
	const char *offer;               /* the host's config string */
	const char **requires;           /* owned array of the host's strings */
	size_t n_requires;
	enum source source;
	char prefix[PREFIX_MAX + 1];
	int length;                      /* symbols of a generated code */
	char *path;                      /* owned: the pool file, resolved against the config's directory */
	char **codes;                    /* owned: the pool, in file order */
	size_t n_codes;
	char fingerprint[65];            /* hex SHA-256 of the pool file */
	enum one_per one_per;
	enum email_identity_mode email_identity;
	bool requires_confirmed;         /* the offer waits for the signup's confirmation */
	struct mac_cache *mac;           /* owned; used by on_response only */
};

/* ---- small helpers -------------------------------------------------------------------------- */

/* A relative path of the config resolved as the server resolves its own: against the directory of
 * earshot.yaml. Returns a malloc'd path (caller frees). */
static char *resolve_against_config(const struct earshot_host *host, const earshot_conf *config,
                                    const char *path)
{
	const char *dir = path[0] != '/' && EARSHOT_HOST_HAS(host, config_dir) ? host->config_dir(config) : NULL;
	size_t dlen = dir ? strlen(dir) : 0, plen = strlen(path);
	char *out = malloc(dlen + plen + 2);
	if (!out)
		abort();
	if (dir && dlen)
		memcpy(out, dir, dlen);
	if (dir && dlen)
		out[dlen++] = '/';
	memcpy(out + dlen, path, plen + 1);
	return out;
}

/* Writes the lower-case hex of n bytes into out (2n + 1 bytes). */
static void hex_encode(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}

/* Makes the MAC context (a cache without one falls back to HMAC()). Returns a new cache. */
static struct mac_cache *mac_cache_new(void)
{
	struct mac_cache *c = calloc(1, sizeof *c);
	if (!c)
		abort();
	c->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	c->ctx = c->mac ? EVP_MAC_CTX_new(c->mac) : NULL;
	if (!c->ctx) {
		EVP_MAC_free(c->mac);
		c->mac = NULL;
	}
	return c;
}

static void mac_cache_free(struct mac_cache *c)
{
	if (!c)
		return;
	EVP_MAC_CTX_free(c->ctx);
	EVP_MAC_free(c->mac);
	OPENSSL_cleanse(c->key, sizeof c->key);
	free(c);
}

/* Starts a MAC with secret on c's context: keyed anew when the secret is not the one it holds. */
static bool mac_cache_start(struct mac_cache *c, const unsigned char *secret)
{
	if (!c->ctx)
		return false;
	if (c->keyed && memcmp(c->key, secret, SECRET_BYTES) == 0)
		return EVP_MAC_init(c->ctx, NULL, 0, NULL) == 1;
	OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
		                OSSL_PARAM_construct_end() };
	c->keyed = EVP_MAC_init(c->ctx, secret, SECRET_BYTES, params) == 1;
	if (c->keyed)
		memcpy(c->key, secret, SECRET_BYTES);
	return c->keyed;
}

/* HMAC-SHA256 of label "\n" text, keyed with secret. */
static void mac(struct mac_cache *c, const unsigned char *secret, const char *label, const char *text,
                unsigned char out[32])
{
	size_t ll = strlen(label), tl = strlen(text), len = 0;
	if (mac_cache_start(c, secret) && EVP_MAC_update(c->ctx, (const unsigned char *)label, ll) == 1 &&
	    EVP_MAC_update(c->ctx, (const unsigned char *)"\n", 1) == 1 &&
	    EVP_MAC_update(c->ctx, (const unsigned char *)text, tl) == 1 && EVP_MAC_final(c->ctx, out, &len, 32) == 1 &&
	    len == 32)
		return;
	c->keyed = false;
	char *msg = malloc(ll + tl + 2);
	if (!msg)
		abort();
	memcpy(msg, label, ll);
	msg[ll] = '\n';
	memcpy(msg + ll + 1, text, tl + 1);
	unsigned int one_shot_len = 0;
	HMAC(EVP_sha256(), secret, SECRET_BYTES, (const unsigned char *)msg, ll + tl + 1, out, &one_shot_len);
	free(msg);
}

/* Returns a malloc'd "a" + "b". */
static char *concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);
	if (!s)
		abort();
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return s;
}

/* ---- config --------------------------------------------------------------------------------- */

/* Refuses keys of the mapping at path that are not in allowed (NULL-terminated). */
static int check_keys(const struct earshot_host *host, const earshot_conf *config, const char *path,
                      const char *const *allowed)
{
	size_t n = host->config_length(config, path);
	for (size_t i = 0; i < n; i++) {
		const char *key = host->config_key(config, path, i);
		bool ok = false;
		for (size_t k = 0; key && allowed[k] && !ok; k++)
			ok = strcmp(key, allowed[k]) == 0;
		if (!ok) {
			host->set_error(config, "unknown key \"%s%s%s\"", path && *path ? path : "",
			                path && *path ? "." : "", key ? key : "?");
			return -1;
		}
	}
	return 0;
}

/* Reads a required non-empty string at path into *out. */
static int required_string(const struct earshot_host *host, const earshot_conf *config, const char *path,
                           const char **out)
{
	int rc = host->config_string(config, path, out);
	if (rc < 0) {
		host->set_error(config, "%s", host->last_error(config));
		return -1;
	}
	if (rc == 0 || !**out) {
		host->set_error(config, "\"%s\" is required", path);
		return -1;
	}
	return 0;
}

/* Reads `requires:` (a list of question ids). */
static int read_requires(struct incentive *s, const earshot_conf *config)
{
	const struct earshot_host *host = s->host;
	int type = host->config_type(config, "requires");
	if (type == EARSHOT_TYPE_ABSENT)
		return 0;
	if (type != EARSHOT_TYPE_LIST) {
		host->set_error(config, "\"requires\" must be a list of question ids");
		return -1;
	}
	s->n_requires = host->config_length(config, "requires");
	s->requires = calloc(s->n_requires ? s->n_requires : 1, sizeof *s->requires);
	if (!s->requires)
		abort();
	for (size_t i = 0; i < s->n_requires; i++) {
		char path[48];
		snprintf(path, sizeof path, "requires.%zu", i);
		if (host->config_string(config, path, &s->requires[i]) != 1 || !*s->requires[i]) {
			host->set_error(config, "\"requires\" must be a list of question ids");
			return -1;
		}
	}
	return 0;
}

/* Reads `one_per:`. */
static int read_one_per(struct incentive *s, const earshot_conf *config)
{
	const char *v = NULL;
	int rc = s->host->config_string(config, "one_per", &v);
	if (rc == 0)
		return 0;
	if (rc == 1 && strcmp(v, "email") == 0)
		s->one_per = ONE_PER_EMAIL;
	else if (rc == 1 && strcmp(v, "phone") == 0)
		s->one_per = ONE_PER_PHONE;
	else {
		s->host->set_error(config, "invalid value for \"one_per\", it must be \"email\" or \"phone\"");
		return -1;
	}
	return 0;
}

/* Reads `email_identity:` (canonical, the default, or exact). */
static int read_email_identity(struct incentive *s, const earshot_conf *config)
{
	const char *v = NULL;
	int rc = s->host->config_string(config, "email_identity", &v);
	if (rc == 0)
		return 0;
	if (rc == 1 && strcmp(v, "canonical") == 0)
		s->email_identity = EMAIL_IDENTITY_CANONICAL;
	else if (rc == 1 && strcmp(v, "exact") == 0)
		s->email_identity = EMAIL_IDENTITY_EXACT;
	else {
		s->host->set_error(config, "invalid value for \"email_identity\", it must be \"canonical\" or \"exact\"");
		return -1;
	}
	return 0;
}

/* Reads the codes: {source: generate, prefix, length} settings. */
static int read_generate(struct incentive *s, const earshot_conf *config)
{
	const struct earshot_host *host = s->host;
	const char *prefix = "EAR";
	if (host->config_string(config, "codes.prefix", &prefix) < 0 || strlen(prefix) > PREFIX_MAX) {
		host->set_error(config, "\"codes.prefix\" must be up to %d letters and digits", PREFIX_MAX);
		return -1;
	}
	for (const char *p = prefix; *p; p++) {
		if (!isalnum((unsigned char)*p) || (unsigned char)*p > 127) {
			host->set_error(config, "\"codes.prefix\" must be up to %d letters and digits", PREFIX_MAX);
			return -1;
		}
	}
	for (size_t i = 0; prefix[i]; i++)
		s->prefix[i] = (char)toupper((unsigned char)prefix[i]);
	int64_t length = LENGTH_DEFAULT;
	if (host->config_int(config, "codes.length", &length) < 0 || length < LENGTH_MIN || length > LENGTH_MAX) {
		host->set_error(config, "\"codes.length\" must be a whole number from %d to %d", LENGTH_MIN, LENGTH_MAX);
		return -1;
	}
	s->length = (int)length;
	return 0;
}

/* Adds one code to the pool. */
static void pool_add(struct incentive *s, const char *code, size_t *cap)
{
	if (s->n_codes == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		s->codes = realloc(s->codes, *cap * sizeof *s->codes);
		if (!s->codes)
			abort();
	}
	s->codes[s->n_codes] = strdup(code);
	if (!s->codes[s->n_codes])
		abort();
	s->n_codes++;
}

/* Reads the pool file: one code per line, surrounding white space dropped, empty lines and '#'
 * comments skipped. Computes its fingerprint. */
static int read_pool(struct incentive *s, const earshot_conf *config)
{
	const struct earshot_host *host = s->host;
	FILE *fp = fopen(s->path, "rb");
	if (!fp) {
		host->set_error(config, "cannot read the coupon file %s: %s", s->path, strerror(errno));
		return -1;
	}
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	char line[CODE_LINE_MAX + 2];
	size_t cap = 0, lineno = 0;
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof line, fp)) {
		lineno++;
		size_t len = strlen(line);
		EVP_DigestUpdate(md, line, len);
		if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(fp)) {
			host->set_error(config, "%s:%zu: a code may have at most %d characters", s->path, lineno,
			                CODE_LINE_MAX);
			rc = -1;
			break;
		}
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		char *end = p + strlen(p);
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*p && *p != '#')
			pool_add(s, p, &cap);
	}
	if (rc == 0 && ferror(fp)) {
		host->set_error(config, "cannot read the coupon file %s: %s", s->path, strerror(errno));
		rc = -1;
	}
	unsigned char digest[32];
	unsigned int dlen = 0;
	EVP_DigestFinal_ex(md, digest, &dlen);
	EVP_MD_CTX_free(md);
	fclose(fp);
	hex_encode(digest, 32, s->fingerprint);
	if (rc == 0 && s->n_codes == 0)
		host->log(config, EARSHOT_LOG_WARNING, "the coupon file %s holds no codes: answers get no offer", s->path);
	return rc;
}

/* Reads `codes:`. */
static int read_codes(struct incentive *s, const earshot_conf *config)
{
	const struct earshot_host *host = s->host;
	static const char *const keys[] = { "source", "prefix", "length", "path", NULL };
	const char *source = NULL;
	if (host->config_type(config, "codes") != EARSHOT_TYPE_MAP) {
		host->set_error(config, "\"codes\" is required: {source: generate, prefix: EAR} or "
		                        "{source: file, path: coupons.txt}");
		return -1;
	}
	if (check_keys(host, config, "codes", keys) != 0 ||
	    required_string(host, config, "codes.source", &source) != 0)
		return -1;
	if (strcmp(source, "generate") == 0) {
		s->source = SOURCE_GENERATE;
		return read_generate(s, config);
	}
	if (strcmp(source, "file") == 0) {
		s->source = SOURCE_FILE;
		const char *configured;
		if (required_string(host, config, "codes.path", &configured) != 0)
			return -1;
		s->path = resolve_against_config(host, config, configured);
		return read_pool(s, config);
	}
	host->set_error(config, "invalid value \"%s\" for \"codes.source\", it must be \"generate\" or \"file\"",
	                source);
	return -1;
}

/* Reads `requires_confirmed:` (default false); it needs a host that confirms signups (ABI 1.1). */
static int read_requires_confirmed(struct incentive *s, const earshot_conf *config)
{
	int yes = 0;
	int rc = s->host->config_bool(config, "requires_confirmed", &yes);
	if (rc < 0) {
		s->host->set_error(config, "\"requires_confirmed\" must be true or false");
		return -1;
	}
	s->requires_confirmed = rc == 1 && yes;
	if (s->requires_confirmed && !EARSHOT_HOST_HAS(s->host, response_confirmed)) {
		s->host->set_error(config, "\"requires_confirmed\" needs a server that confirms signups (plugin ABI 1.1)");
		return -1;
	}
	return 0;
}

/* Frees what init built. */
static void incentive_fini(void *state);

/* Reads and checks the config (and the pool file); refuses it with a message. */
static int incentive_init(const struct earshot_host *host, const earshot_conf *config, void **state)
{
	static const char *const keys[] = { "offer", "requires", "codes", "one_per", "email_identity",
		                            "requires_confirmed", NULL };
	struct incentive *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->host = host;
	s->mac = mac_cache_new();
	if (check_keys(host, config, NULL, keys) != 0 || required_string(host, config, "offer", &s->offer) != 0 ||
	    read_requires(s, config) != 0 || read_one_per(s, config) != 0 || read_email_identity(s, config) != 0 ||
	    read_codes(s, config) != 0 || read_requires_confirmed(s, config) != 0) {
		incentive_fini(s);
		return EARSHOT_ERROR;
	}
	/* Offers are worth collecting: the server takes JSON submits of these forms only with a timing
	 * token. */
	if (EARSHOT_HOST_HAS(host, declare_offers) && host->declare_offers(config) != EARSHOT_OK) {
		host->set_error(config, "%s", host->last_error(config));
		incentive_fini(s);
		return EARSHOT_ERROR;
	}
	*state = s;
	return EARSHOT_OK;
}

/* Frees what init built. */
static void incentive_fini(void *state)
{
	struct incentive *s = state;
	if (!s)
		return;
	for (size_t i = 0; i < s->n_codes; i++)
		free(s->codes[i]);
	free(s->codes);
	free(s->requires);
	free(s->path);
	mac_cache_free(s->mac);
	free(s);
}

/* ---- one answer ----------------------------------------------------------------------------- */

/* True when every `requires` question is answered (a consent: with true). */
static bool requirements_met(const struct incentive *s, earshot_response *r)
{
	for (size_t i = 0; i < s->n_requires; i++) {
		int type = s->host->answer_type(r, s->requires[i]);
		int yes = 0;
		if (type == EARSHOT_TYPE_ABSENT || type == EARSHOT_TYPE_NULL)
			return false;
		if (type == EARSHOT_TYPE_BOOL && (s->host->answer_bool(r, s->requires[i], &yes) != 1 || !yes))
			return false;
	}
	return true;
}

/* The person's identity for one_per: "email:<address per email_identity>" or "phone:<E.164>" from
 * the first answered question of that type (answers arrive normalised). Returns a malloc'd string,
 * or NULL when the answer has none. */
static char *contact_identity(const struct incentive *s, earshot_response *r)
{
	const char *want = s->one_per == ONE_PER_EMAIL ? "email" : "phone";
	size_t n = s->host->question_count(r);
	for (size_t i = 0; i < n; i++) {
		const char *id = s->host->question_id(r, i);
		const char *type = id ? s->host->question_type(r, id) : NULL;
		const char *value = type && strcmp(type, want) == 0 ? s->host->answer_string(r, id) : NULL;
		if (!value || !*value)
			continue;
		if (s->one_per == ONE_PER_PHONE)
			return concat("phone:", value);
		char *address = email_identity(value, s->email_identity);
		char *identity = concat("email:", address);
		free(address);
		return identity;
	}
	return NULL;
}

/* Reads the plugin's secret from the store, creating it on first use. */
static int load_secret(const struct incentive *s, earshot_response *r, unsigned char secret[SECRET_BYTES])
{
	const void *value = NULL;
	size_t len = 0;
	int rc = s->host->kv_get(r, "secret", &value, &len);
	if (rc < 0)
		return -1;
	if (rc == 1 && len == SECRET_BYTES) {
		memcpy(secret, value, SECRET_BYTES);
		return 0;
	}
	if (RAND_bytes(secret, SECRET_BYTES) != 1) {
		s->host->set_error(r, "no randomness available for the code secret");
		return -1;
	}
	return s->host->kv_put(r, "secret", secret, SECRET_BYTES) == EARSHOT_OK ? 0 : -1;
}

/* kv_get of key as a malloc'd NUL-terminated string; NULL when absent. *rc gets kv_get's result. */
static char *kv_string(const struct incentive *s, earshot_response *r, const char *key, int *rc)
{
	const void *value = NULL;
	size_t len = 0;
	*rc = s->host->kv_get(r, key, &value, &len);
	if (*rc != 1)
		return NULL;
	char *copy = malloc(len + 1);
	if (!copy)
		abort();
	memcpy(copy, value, len);
	copy[len] = '\0';
	return copy;
}

/* kv_put of a string. */
static int kv_put_string(const struct incentive *s, earshot_response *r, const char *key, const char *value)
{
	return s->host->kv_put(r, key, value, strlen(value)) == EARSHOT_OK ? 0 : -1;
}

/* A generated code for input: prefix, then `length` base32 symbols of its HMAC in groups of four. */
static void generated_code(const struct incentive *s, const unsigned char *secret, const char *input,
                           char out[PREFIX_MAX + LENGTH_MAX + 8])
{
	unsigned char digest[32];
	mac(s->mac, secret, "code", input, digest);
	size_t o = 0;
	if (s->prefix[0]) {
		o = strlen(s->prefix);
		memcpy(out, s->prefix, o);
		out[o++] = '-';
	}
	for (int i = 0; i < s->length; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = '-';
		int bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned v = ((unsigned)digest[byte] << 8 | digest[byte + 1]) >> (11 - shift);
		out[o++] = code_alphabet[v & 31];
	}
	out[o] = '\0';
}

/* Makes a new generated code for owner (the contact's or the answer's key) that no one else holds,
 * and records it. Returns 0 with out set, or -1. */
static int take_generated(const struct incentive *s, earshot_response *r, const unsigned char *secret,
                          const char *owner, char out[PREFIX_MAX + LENGTH_MAX + 8])
{
	for (int attempt = 0; attempt < 100; attempt++) {
		char input[160];
		snprintf(input, sizeof input, "%s#%d", owner, attempt);
		generated_code(s, secret, attempt == 0 ? owner : input, out);
		char *key = concat("code:", out);
		int rc;
		char *holder = kv_string(s, r, key, &rc);
		bool free_to_take = rc == 0 || (holder && strcmp(holder, owner) == 0);
		free(holder);
		int put = rc >= 0 && free_to_take ? kv_put_string(s, r, key, owner) : 0;
		free(key);
		if (rc < 0 || put < 0)
			return -1;
		if (free_to_take)
			return 0;
	}
	s->host->set_error(r, "no unused code could be generated");
	return -1;
}

/* Sets or clears the sentence GET /healthz shows for this plugin. */
static int set_health(const struct incentive *s, earshot_response *r, const char *sentence)
{
	int rc;
	char *now = kv_string(s, r, "health", &rc);
	if (rc < 0)
		return -1;
	bool same = now ? strcmp(now, sentence) == 0 : sentence[0] == '\0';
	free(now);
	if (same)
		return 0;
	if (sentence[0])
		s->host->log(r, EARSHOT_LOG_WARNING, "%s", sentence);
	return kv_put_string(s, r, "health", sentence);
}

/* The pool's key prefix for a file fingerprint: "pool:<fingerprint>:". */
static void pool_prefix(const char *fingerprint, char out[80])
{
	snprintf(out, 80, "pool:%s:", fingerprint);
}

/* Loads the file's codes into the pool once per file content: "pool:<fingerprint>:<index>" -> code,
 * the zero-padded index keeping file order. What is left of the pool of an earlier file goes. Codes
 * handed out before stay in the pool and are skipped when taken (their "code:" key is held). */
static int pool_load(const struct incentive *s, earshot_response *r)
{
	int rc;
	char *loaded = kv_string(s, r, "file:pool", &rc);
	if (rc < 0)
		return -1;
	if (loaded && strcmp(loaded, s->fingerprint) == 0) {
		free(loaded);
		return 0;
	}
	/* Marked first: answers on other nodes then wait until this pool is committed, and a second node
	 * loading it at the same time deadlocks with this one, is undone and finds it loaded. */
	if (kv_put_string(s, r, "file:pool", s->fingerprint) != 0) {
		free(loaded);
		return -1;
	}
	char prefix[80];
	int took = 0;
	if (loaded) {
		pool_prefix(loaded, prefix);
		const char *key;
		const void *value;
		size_t len;
		while ((took = s->host->kv_take(r, prefix, &key, &value, &len)) == 1)
			;
	}
	free(loaded);
	if (took < 0)
		return -1;
	for (size_t i = 0; i < s->n_codes; i++) {
		char key[96];
		snprintf(key, sizeof key, "pool:%s:%09zu", s->fingerprint, i);
		if (kv_put_string(s, r, key, s->codes[i]) != 0)
			return -1;
	}
	return 0;
}

/* Takes an unused code of the pool for owner and records it. Returns 1 with *code (the pool's
 * string), 0 when the pool is empty, -1 on an error. */
static int take_from_pool(const struct incentive *s, earshot_response *r, const char *owner,
                          const char **code)
{
	if (pool_load(s, r) != 0)
		return -1;
	char prefix[80];
	pool_prefix(s->fingerprint, prefix);
	size_t plen = strlen(prefix), index = 0;
	int found = 0;
	while (!found) {
		const char *key;
		const void *value;
		size_t len;
		int took = s->host->kv_take(r, prefix, &key, &value, &len);
		if (took < 0)
			return -1;
		if (took == 0)
			break;
		index = (size_t)strtoull(key + plen, NULL, 10);
		if (index >= s->n_codes || strlen(s->codes[index]) != len || memcmp(s->codes[index], value, len) != 0)
			continue; /* not a line of this file: dropped */
		char *held_key = concat("code:", s->codes[index]);
		const void *held;
		size_t hlen;
		int used = s->host->kv_get(r, held_key, &held, &hlen);
		int put = used == 0 ? kv_put_string(s, r, held_key, owner) : 0;
		free(held_key);
		if (used < 0 || put < 0)
			return -1;
		if (used == 0) {
			*code = s->codes[index];
			found = 1;
		}
	}
	/* Codes go in file order, so the last line's code means the pool is empty (unless an earlier one
	 * comes back from an answer that was not stored: the next answer takes it and clears this). */
	char sentence[512] = "";
	if (!found || index + 1 == s->n_codes)
		snprintf(sentence, sizeof sentence, "the coupon pool %s is empty: %s", s->path,
		         found ? "the last code was just handed out" : "an answer got no code");
	if (set_health(s, r, sentence) != 0)
		return -1;
	return found;
}

/* Attaches the offer when earned: the person's earlier code, or a new one from the source. */
static int incentive_response(void *state, earshot_response *r)
{
	const struct incentive *s = state;
	const struct earshot_host *host = s->host;
	if (!requirements_met(s, r))
		return EARSHOT_OK;
	/* Waiting for the confirmation: asking registers this plugin, which runs again for this answer
	 * when the emailed link is opened; no code is taken before. */
	if (s->requires_confirmed && host->response_confirmed(r) == 0)
		return EARSHOT_OK;
	char *identity = NULL;
	if (s->one_per != ONE_PER_NONE && !(identity = contact_identity(s, r)))
		return EARSHOT_OK; /* one per person, and this answer names no person */
	unsigned char secret[SECRET_BYTES];
	if (load_secret(s, r, secret) != 0)
		goto fail;
	/* Who holds the code: the contact (as an HMAC, so the store never keeps the address itself in
	 * its keys), or this answer. */
	char owner[80];
	if (identity) {
		unsigned char digest[32];
		char hex[65];
		mac(s->mac, secret, "contact", identity, digest);
		hex_encode(digest, 32, hex);
		snprintf(owner, sizeof owner, "contact:%s", hex);
		int rc;
		char *given = kv_string(s, r, owner, &rc);
		if (rc < 0)
			goto fail;
		if (given) {
			int ok = host->add_offer(r, s->offer, given);
			free(given);
			free(identity);
			return ok == EARSHOT_OK ? EARSHOT_OK : EARSHOT_ERROR;
		}
	} else {
		snprintf(owner, sizeof owner, "response:%s", host->response_id(r));
	}
	char generated[PREFIX_MAX + LENGTH_MAX + 8];
	const char *code = NULL;
	if (s->source == SOURCE_GENERATE) {
		if (take_generated(s, r, secret, owner, generated) != 0)
			goto fail;
		code = generated;
	} else {
		int found = take_from_pool(s, r, owner, &code);
		if (found < 0)
			goto fail;
		if (found == 0) {
			free(identity);
			return EARSHOT_OK; /* the pool is empty: reported, and the answer is kept without an offer */
		}
	}
	if ((identity && kv_put_string(s, r, owner, code) != 0) || host->add_offer(r, s->offer, code) != EARSHOT_OK)
		goto fail;
	free(identity);
	return EARSHOT_OK;
fail:
	free(identity);
	if (!host->last_error(r))
		host->set_error(r, "the offer could not be recorded");
	return EARSHOT_ERROR;
}

EARSHOT_PLUGIN_REGISTER(.name = "incentive", .version = "1.1.0", .init = incentive_init,
                        .on_response = incentive_response, .fini = incentive_fini);
