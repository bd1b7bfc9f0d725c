/* contacts: identity keys of email and phone answers, and linking answers to contacts. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "contacts.h"
#include "util.h"
#include "validate.h"

/* The whole-address, lower-cased key of a valid email; malloc'd, or NULL when invalid. */
char *contact_email_key(const char *email)
{
	while (isspace((unsigned char)*email))
		email++;
	size_t len = strlen(email);
	while (len > 0 && isspace((unsigned char)email[len - 1]))
		len--;
	char *trimmed = xstrndup(email, len), *norm = NULL;
	const char *why = NULL;
	int rc = validate_email(trimmed, &norm, &why);
	free(trimmed);
	if (rc != 0)
		return NULL;
	for (char *p = norm; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return norm;
}

/* Reads an email (it has an @) or a phone number with its country code into a key. */
int contact_identity_parse(const char *text, contact_kind *kind, char **key, const char **why)
{
	*key = NULL;
	if (strchr(text, '@')) {
		*kind = CONTACT_EMAIL;
		*key = contact_email_key(text);
		if (!*key) {
			*why = "must look like name@example.com";
			return -1;
		}
		return 0;
	}
	*kind = CONTACT_PHONE;
	return validate_phone(text, NULL, key, why);
}

/* One identity key of an answer, and the contact it belongs to (0 until known). */
typedef struct identity {
	contact_kind kind;
	char *key;               /* owned */
	int64_t contact;
} identity;

/* Collects the identity keys of job's email and phone answers (distinct) into *out (malloc'd array,
 * caller frees each key and the array). Returns the count. */
static size_t collect_identities(const writer_job *job, identity **out)
{
	const form *f = job->form;
	identity *ids = xcalloc(f->n_questions ? f->n_questions : 1, sizeof *ids);
	size_t n = 0;
	for (size_t i = 0; i < f->n_questions; i++) {
		const question *q = &f->questions[i];
		if (q->type != Q_EMAIL && q->type != Q_PHONE)
			continue;
		const char *value = json_string_value(json_object_get(job->answers, q->id));
		if (!value)
			continue;
		contact_kind kind = q->type == Q_EMAIL ? CONTACT_EMAIL : CONTACT_PHONE;
		/* Answers are normalised already: a phone is E.164; an email needs its whole-address key. */
		char *key = kind == CONTACT_EMAIL ? contact_email_key(value) : xstrdup(value);
		if (!key)
			continue;
		bool dup = false;
		for (size_t k = 0; k < n && !dup; k++)
			dup = ids[k].kind == kind && strcmp(ids[k].key, key) == 0;
		if (dup) {
			free(key);
			continue;
		}
		ids[n].kind = kind;
		ids[n].key = key;
		n++;
	}
	*out = ids;
	return n;
}

/* Finds the contact of every identity; the unknown ones join the first contact found, or a new
 * one. Then links the answer to every distinct contact. Returns 0, or -1 with *err. */
static int link_identities(store *st, const writer_job *job, identity *ids, size_t n, char **err)
{
	int64_t first = 0;
	for (size_t i = 0; i < n; i++) {
		int found = store_contact_find(st, ids[i].kind, ids[i].key, &ids[i].contact, err);
		if (found < 0)
			return -1;
		if (found == 1 && first == 0)
			first = ids[i].contact;
	}
	if (n > 0 && first == 0 && store_contact_create(st, job->created_ms, &first, err) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (ids[i].contact != 0)
			continue;
		if (store_contact_add_key(st, first, ids[i].kind, ids[i].key, err) != 0)
			return -1;
		ids[i].contact = first;
	}
	for (size_t i = 0; i < n; i++)
		if (store_contact_link(st, job->id, ids[i].contact, err) != 0)
			return -1;
	return 0;
}

/* Stores every offer of job (in order). Returns 0, or -1 with *err. */
static int store_offers(store *st, const writer_job *job, char **err)
{
	size_t i;
	json_t *offer;
	json_array_foreach(job->offers, i, offer) {
		const char *text = json_string_value(json_object_get(offer, "text"));
		const char *code = json_string_value(json_object_get(offer, "code"));
		if (store_offer_insert(st, job->id, job->form->id, (int)i, text ? text : "", code, err) != 0)
			return -1;
	}
	return 0;
}

/* Links the stored answer to its contacts, then stores its offers. 0 or -1 with *err. */
int contacts_link_answer(store *st, const writer_job *job, char **err)
{
	identity *ids = NULL;
	size_t n = collect_identities(job, &ids);
	int rc = link_identities(st, job, ids, n, err);
	for (size_t i = 0; i < n; i++)
		free(ids[i].key);
	free(ids);
	if (rc != 0)
		return -1;
	return json_is_array(job->offers) ? store_offers(st, job, err) : 0;
}
