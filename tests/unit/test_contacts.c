/* Unit tests for contacts: identity keys (whole-address case folding, E.164), one person recognised
 * across forms, keys joining the contact already known, answers naming two known people linked to
 * both, offers stored with their answer and read back only for it, and everything tied to an answer
 * going with it when it is purged. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contacts.h"
#include "form.h"
#include "storage.h"
#include "util.h"
#include "writer.h"

static const char signup_yaml[] =
	"id: signup\nkind: signup\ntitle: Sign up\nquestions:\n"
	"  - {id: email, type: email, label: Email}\n"
	"  - {id: phone, type: phone, label: Phone}\n"
	"  - {id: work_email, type: email, label: Work email}\n";
static const char other_yaml[] =
	"id: other\nkind: survey\ntitle: Other\nquestions:\n"
	"  - {id: mail, type: email, label: Email}\n"
	"  - {id: note, type: text, label: Note}\n";

typedef struct fx {
	store *st;
	form *signup, *other;
	int n;
} fx;

static form *load(const char *yaml)
{
	diag_list d;
	diag_init(&d);
	form *f = form_load_string(yaml, strlen(yaml), "forms/x.yaml", &d);
	diag_free(&d);
	return f;
}

static int setup(void **state)
{
	fx *f = xcalloc(1, sizeof *f);
	char *err = NULL;
	if (store_open(":memory:", DURABILITY_NORMAL, false, &f->st, &err) != 0)
		return -1;
	f->signup = load(signup_yaml);
	f->other = load(other_yaml);
	if (!f->signup || !f->other || store_begin(f->st, &err) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	store_rollback(f->st);
	store_close(f->st);
	form_free(f->signup);
	form_free(f->other);
	free(f);
	return 0;
}

/* Stores an answer to form with answers (stolen) and offers (stolen, may be NULL) the way the writer
 * does: insert, then link. Returns the job (caller frees) so the test can read its id. */
static writer_job *store_answer(fx *f, const form *fm, json_t *answers, json_t *offers)
{
	writer_job *job = writer_job_new();
	writer_job_prepare(job);
	job->form = fm;
	job->answers = answers;
	job->created_ms = 1000 + f->n;
	if (offers) {
		json_decref(job->offers);
		job->offers = offers;
	}
	snprintf(job->id, sizeof job->id, "r_test%03d", f->n++);
	response_record r = { .created_ms = job->created_ms, .answers = answers };
	snprintf(r.id, sizeof r.id, "%s", job->id);
	snprintf(r.form, sizeof r.form, "%s", fm->id);
	char *err = NULL;
	if (store_response_insert(f->st, &r, NULL, &err) != 0)
		fail_msg("insert: %s", err);
	if (contacts_link_answer(f->st, job, &err) != 0)
		fail_msg("link: %s", err);
	return job;
}

static int64_t contact_of(fx *f, contact_kind kind, const char *key)
{
	int64_t id = 0;
	char *err = NULL;
	assert_int_equal(store_contact_find(f->st, kind, key, &id, &err), 1);
	return id;
}

static int64_t answers_of(fx *f, int64_t contact)
{
	int64_t n = -1;
	char *err = NULL;
	assert_int_equal(store_contact_response_count(f->st, contact, &n, &err), 0);
	return n;
}

static void test_email_key(void **state)
{
	(void)state;
	char *k = contact_email_key("  Ann.Lee@Example.COM ");
	assert_string_equal(k, "ann.lee@example.com");
	free(k);
	assert_null(contact_email_key("not an address"));
	assert_null(contact_email_key("a@b"));
}

static void test_identity_parse(void **state)
{
	(void)state;
	contact_kind kind;
	char *key = NULL;
	const char *why = NULL;
	assert_int_equal(contact_identity_parse("Ann@Example.com", &kind, &key, &why), 0);
	assert_int_equal(kind, CONTACT_EMAIL);
	assert_string_equal(key, "ann@example.com");
	free(key);
	assert_int_equal(contact_identity_parse("+386 (40) 123-456", &kind, &key, &why), 0);
	assert_int_equal(kind, CONTACT_PHONE);
	assert_string_equal(key, "+38640123456");
	free(key);
	assert_int_equal(contact_identity_parse("0038640123456", &kind, &key, &why), 0);
	assert_string_equal(key, "+38640123456");
	free(key);
	assert_int_equal(contact_identity_parse("ann@", &kind, &key, &why), -1);
	assert_string_equal(why, "must look like name@example.com");
	assert_int_equal(contact_identity_parse("040 123 456", &kind, &key, &why), -1);
	assert_null(key);
	assert_string_equal(contact_kind_name(CONTACT_PHONE), "phone");
}

static void test_same_person_across_forms(void **state)
{
	fx *f = *state;
	/* Answers arrive normalised: the domain is lower-case, the local part as typed. */
	writer_job *a = store_answer(f, f->signup, json_pack("{s:s}", "email", "Ann@example.com"), NULL);
	writer_job *b = store_answer(f, f->other, json_pack("{s:s, s:s}", "mail", "ann@example.com", "note", "hi"),
	                             NULL);
	writer_job *c = store_answer(f, f->other, json_pack("{s:s}", "mail", "bob@example.com"), NULL);
	int64_t ann = contact_of(f, CONTACT_EMAIL, "ann@example.com");
	int64_t bob = contact_of(f, CONTACT_EMAIL, "bob@example.com");
	assert_int_not_equal(ann, bob);
	assert_int_equal(answers_of(f, ann), 2);
	assert_int_equal(answers_of(f, bob), 1);
	int64_t id;
	char *err = NULL;
	assert_int_equal(store_contact_find(f->st, CONTACT_EMAIL, "Ann@example.com", &id, &err), 0);
	writer_job_free(a);
	writer_job_free(b);
	writer_job_free(c);
}

static void test_keys_join_known_contact(void **state)
{
	fx *f = *state;
	writer_job *a = store_answer(f, f->signup, json_pack("{s:s}", "phone", "+38640123456"), NULL);
	int64_t p = contact_of(f, CONTACT_PHONE, "+38640123456");
	/* A known phone with a new email: the email becomes another key of the same person. */
	writer_job *b = store_answer(f, f->signup, json_pack("{s:s, s:s, s:s}", "email", "Cid@example.com", "phone",
	                                                     "+38640123456", "work_email", "cid@WORK.example"), NULL);
	assert_int_equal(contact_of(f, CONTACT_EMAIL, "cid@example.com"), p);
	assert_int_equal(contact_of(f, CONTACT_EMAIL, "cid@work.example"), p);
	assert_int_equal(answers_of(f, p), 2);
	/* The same address twice in one answer is one key, one link. */
	writer_job *c = store_answer(f, f->signup, json_pack("{s:s, s:s}", "email", "dee@example.com", "work_email",
	                                                     "DEE@example.com"), NULL);
	assert_int_equal(answers_of(f, contact_of(f, CONTACT_EMAIL, "dee@example.com")), 1);
	writer_job_free(a);
	writer_job_free(b);
	writer_job_free(c);
}

static void test_two_known_people_not_merged(void **state)
{
	fx *f = *state;
	writer_job *a = store_answer(f, f->signup, json_pack("{s:s}", "email", "eve@example.com"), NULL);
	writer_job *b = store_answer(f, f->signup, json_pack("{s:s}", "phone", "+14155550100"), NULL);
	int64_t eve = contact_of(f, CONTACT_EMAIL, "eve@example.com");
	int64_t tel = contact_of(f, CONTACT_PHONE, "+14155550100");
	assert_int_not_equal(eve, tel);
	writer_job *c = store_answer(f, f->signup, json_pack("{s:s, s:s}", "email", "eve@example.com", "phone",
	                                                     "+14155550100"), NULL);
	assert_int_equal(contact_of(f, CONTACT_EMAIL, "eve@example.com"), eve);
	assert_int_equal(contact_of(f, CONTACT_PHONE, "+14155550100"), tel);
	assert_int_equal(answers_of(f, eve), 2);
	assert_int_equal(answers_of(f, tel), 2);
	writer_job_free(a);
	writer_job_free(b);
	writer_job_free(c);
}

static void test_no_contact_fields(void **state)
{
	fx *f = *state;
	writer_job *a = store_answer(f, f->other, json_pack("{s:s}", "note", "anonymous"), NULL);
	int64_t id;
	char *err = NULL;
	json_t *offers = NULL;
	assert_int_equal(store_offers_for_response(f->st, a->id, "other", &offers, &err), 0);
	assert_int_equal(json_array_size(offers), 0);
	json_decref(offers);
	assert_int_equal(store_contact_find(f->st, CONTACT_EMAIL, "anonymous", &id, &err), 0);
	writer_job_free(a);
}

static void test_offers(void **state)
{
	fx *f = *state;
	json_t *given = json_pack("[{s:s, s:s}, {s:s}]", "text", "10% off", "code", "EAR-AAAA-BBBB", "text",
	                          "A gift");
	writer_job *a = store_answer(f, f->signup, json_pack("{s:s}", "email", "fay@example.com"), given);
	writer_job *b = store_answer(f, f->signup, json_pack("{s:s}", "email", "gus@example.com"), NULL);
	char *err = NULL;
	json_t *offers = NULL;
	assert_int_equal(store_offers_for_response(f->st, a->id, "signup", &offers, &err), 0);
	assert_int_equal(json_array_size(offers), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(offers, 0), "code")), "EAR-AAAA-BBBB");
	assert_string_equal(json_string_value(json_object_get(json_array_get(offers, 1), "text")), "A gift");
	assert_null(json_object_get(json_array_get(offers, 1), "code"));
	json_decref(offers);
	/* Another answer, another form's id, an unknown id: nothing. */
	const char *ids[3][2] = { { b->id, "signup" }, { a->id, "other" }, { "r_unknown", "signup" } };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(store_offers_for_response(f->st, ids[i][0], ids[i][1], &offers, &err), 0);
		assert_int_equal(json_array_size(offers), 0);
		json_decref(offers);
	}
	/* A purge takes the offers and links with the answers. */
	int64_t fay = contact_of(f, CONTACT_EMAIL, "fay@example.com"), deleted = 0;
	assert_int_equal(store_purge_before(f->st, INT64_MAX, &deleted, &err), 0);
	assert_int_equal(deleted, 2);
	assert_int_equal(store_offers_for_response(f->st, a->id, "signup", &offers, &err), 0);
	assert_int_equal(json_array_size(offers), 0);
	json_decref(offers);
	assert_int_equal(answers_of(f, fay), 0);
	writer_job_free(a);
	writer_job_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_email_key),
		cmocka_unit_test(test_identity_parse),
		cmocka_unit_test_setup_teardown(test_same_person_across_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_join_known_contact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_known_people_not_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_contact_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
