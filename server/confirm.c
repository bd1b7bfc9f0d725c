/* confirm: confirmed signups — tokens, the check of confirm.destination, the pending row and the
 * email (see confirm.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirm.h"
#include "hmac.h"
#include "i18n.h"
#include "outbox.h"
#include "contacts.h"
#include "util.h"

#define TOKEN_VERSION "c1"
#define MAC_HEX_LEN 64

static const earshot_config *confirm_cfg; /* set once at start, read by the writer thread */
static unsigned char confirm_key[32];

/* Derives the link key from the server secret: HMAC-SHA256 of a fixed label. */
void confirm_configure(const earshot_config *cfg, const char *secret)
{
	static const char label[] = "earshot signup confirmation key v1";
	confirm_cfg = cfg;
	hmac_sha256(secret, strlen(secret), label, sizeof label - 1, confirm_key);
}

/* Checks each form's confirm.destination against the config's destinations. */
size_t confirm_check_forms(const form_registry *forms, const earshot_config *cfg, diag_list *diags)
{
	size_t problems = 0;
	for (size_t i = 0; forms && cfg && i < forms->n; i++) {
		const form *f = forms->forms[i];
		if (!f->confirm_destination)
			continue;
		const destination *d = config_find_destination(cfg, f->confirm_destination);
		if (!d)
			diag_add(diags, f->path, f->confirm_line, f->confirm_col,
			         "confirm.destination: unknown destination \"%s\" (it is not listed under destinations: "
			         "in %s)", f->confirm_destination, cfg->source);
		else if (d->type != DEST_EMAIL)
			diag_add(diags, f->path, f->confirm_line, f->confirm_col,
			         "confirm.destination: \"%s\" is not an email destination (type: email is needed to "
			         "send the confirmation link)", f->confirm_destination);
		else
			continue;
		problems++;
	}
	return problems;
}

/* The first answered email question's address of job (borrowed), or NULL. */
const char *confirm_address(const writer_job *job)
{
	const form *f = job->form;
	for (size_t i = 0; f && i < f->n_questions; i++) {
		if (f->questions[i].type != Q_EMAIL)
			continue;
		const json_t *v = json_object_get(job->answers, f->questions[i].id);
		if (json_is_string(v) && json_string_length(v) > 0)
			return json_string_value(v);
	}
	return NULL;
}

/* The form asks a confirmation and the answer names an address. */
bool confirm_wanted(const writer_job *job)
{
	return job->form && job->form->confirm_destination && !job->confirming[0] && confirm_address(job);
}

/* The hex MAC of a token's fields. */
static void token_mac(const char *form_id, const char *response_id, int64_t expires_ms, char out[MAC_HEX_LEN + 1])
{
	char *msg = xasprintf(TOKEN_VERSION "\n%s\n%s\n%" PRId64, form_id, response_id, expires_ms);
	unsigned char mac[HMAC_SHA256_BYTES];
	hmac_sha256(confirm_key, sizeof confirm_key, msg, strlen(msg), mac);
	free(msg);
	for (size_t i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

char *confirm_token_issue(const char *form_id, const char *response_id, int64_t expires_ms)
{
	char mac[MAC_HEX_LEN + 1];
	token_mac(form_id, response_id, expires_ms, mac);
	return xasprintf(TOKEN_VERSION ".%s.%" PRId64 ".%s", response_id, expires_ms, mac);
}

int confirm_token_check(const char *token, const char *form_id, char response_id[48], int64_t *expires_ms)
{
	if (!token || strncmp(token, TOKEN_VERSION ".", 3) != 0)
		return -1;
	const char *id = token + 3;
	size_t id_len = strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789_");
	if (id_len == 0 || id_len >= 48 || id[id_len] != '.')
		return -1;
	const char *ms = id + id_len + 1;
	size_t digits = strspn(ms, "0123456789");
	if (digits == 0 || digits > 15 || ms[digits] != '.')
		return -1;
	const char *mac = ms + digits + 1;
	if (strlen(mac) != MAC_HEX_LEN || strspn(mac, "0123456789abcdef") != MAC_HEX_LEN)
		return -1;
	memcpy(response_id, id, id_len);
	response_id[id_len] = '\0';
	*expires_ms = strtoll(ms, NULL, 10);
	char want[MAC_HEX_LEN + 1];
	token_mac(form_id, response_id, *expires_ms, want);
	return ct_equal(mac, want, MAC_HEX_LEN) ? 0 : -1;
}

/* The language of the email: the answer's, when the server speaks it; else the form's; else "en". */
static const char *mail_language(const writer_job *job)
{
	const char *want[2] = { json_string_value(json_object_get(job->meta, "locale")), job->form->locale };
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; want[k] && i18n_languages[i]; i++)
			if (strcmp(want[k], i18n_languages[i]) == 0)
				return i18n_languages[i];
	return "en";
}

/* Sets key of o to english translated into lang. */
static void set_sentence(json_t *o, const char *key, const char *lang, const char *english)
{
	char *s = i18n_sentence(lang, english);
	json_object_set_new(o, key, json_string(s));
	free(s);
}

/* The notice of the confirmation email (notice.h, kind "confirm"): a new object. */
static json_t *confirm_notice(const writer_job *job, const char *address, const char *link)
{
	const char *lang = mail_language(job);
	json_t *n = json_object();
	json_object_set_new(n, "kind", json_string("confirm"));
	json_object_set_new(n, "form", json_string(job->form->id));
	json_object_set_new(n, "title", json_string(job->form->title ? job->form->title : job->form->id));
	json_object_set_new(n, "recipient", json_string(address));
	json_object_set_new(n, "lang", json_string(lang));
	set_sentence(n, "subject", lang, "Please confirm your address");
	set_sentence(n, "intro", lang, "Open this link to confirm your signup:");
	set_sentence(n, "button", lang, "Confirm my address");
	set_sentence(n, "outro", lang, "If you did not sign up, ignore this email: your address is not confirmed and nothing more is sent.");
	json_object_set_new(n, "link", json_string(link));
	json_object_set_new(n, "answers", json_array());
	json_object_set_new(n, "contact", json_object());
	return n;
}

int confirm_on_store(store *st, writer_job *job, char **err)
{
	const char *address = confirm_address(job);
	const form *f = job->form;
	const destination *dst = confirm_cfg ? config_find_destination(confirm_cfg, f->confirm_destination) : NULL;
	if (!address || !dst) {
		if (err)
			*err = xasprintf("confirm: the destination \"%s\" is not configured", f->confirm_destination);
		return -1;
	}
	int64_t expires = job->created_ms + (int64_t)f->confirm_expires_hours * 3600 * 1000;
	/* NULL (no plugin waits) is stored as []. */
	char *plugins = job->confirm_plugins ? json_dumps(job->confirm_plugins, JSON_COMPACT) : NULL;
	int put = store_confirmation_put(st, job->id, expires, plugins ? plugins : "[]", err);
	free(plugins);
	if (put != 0)
		return -1;
	char *token = confirm_token_issue(f->id, job->id, expires);
	const char *base = confirm_cfg->public_url ? confirm_cfg->public_url : "";
	size_t blen = strlen(base);
	char *link = xasprintf("%.*s/f/%s/confirm?t=%s", (int)(blen && base[blen - 1] == '/' ? blen - 1 : blen), base,
	                       f->id, token);
	free(token);
	json_t *extra = json_object();
	json_object_set_new(extra, "notice", confirm_notice(job, address, link));
	free(link);
	delivery_record d;
	memset(&d, 0, sizeof d);
	random_id("d_", d.id, sizeof d.id);
	json_t *doc = outbox_document(job, d.id, "confirm", extra, err);
	json_decref(extra);
	if (!doc)
		return -1;
	d.body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	d.destination = xstrdup(dst->name);
	d.type = xstrdup("confirm");
	d.response_id = xstrdup(job->id);
	d.state = DELIVERY_PENDING;
	d.created_ms = d.retry_from_ms = d.next_attempt_ms = now_ms();
	int rc = store_outbox_insert(st, &d, err);
	delivery_record_clear(&d);
	if (rc == 0)
		outbox_notify();
	return rc;
}

int confirm_apply(store *st, writer_job *job, json_t **plugins, char **err)
{
	*plugins = NULL;
	char *answers = NULL, *meta = NULL, *waiting = NULL;
	int outcome = store_confirmation_take(st, job->confirming, job->form->id, now_ms(), &answers, &meta, &waiting,
	                                      err);
	if (outcome != STORE_CONFIRMED)
		return outcome < 0 ? -1 : outcome;
	json_decref(job->answers);
	json_decref(job->meta);
	job->answers = answers ? json_loads(answers, 0, NULL) : NULL;
	job->meta = meta ? json_loads(meta, 0, NULL) : NULL;
	*plugins = waiting ? json_loads(waiting, 0, NULL) : NULL;
	free(answers);
	free(meta);
	free(waiting);
	if (!json_is_array(*plugins)) {
		json_decref(*plugins);
		*plugins = json_array();
	}
	if (!job->answers)
		job->answers = json_object();
	if (!job->meta)
		job->meta = json_object();
	return CONFIRM_OK;
}

int confirm_store_offers(store *st, const writer_job *job, char **err)
{
	int next = 0;
	if (store_offer_next_seq(st, job->id, &next, err) != 0)
		return -1;
	size_t i;
	json_t *offer;
	json_array_foreach(job->offers, i, offer) {
		const char *text = json_string_value(json_object_get(offer, "text"));
		const char *code = json_string_value(json_object_get(offer, "code"));
		if (store_offer_insert(st, job->id, job->form->id, next + (int)i, text ? text : "", code, err) != 0)
			return -1;
	}
	return 0;
}
