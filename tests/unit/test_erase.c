/* Unit tests for erasure by contact: a person's answers across forms go with their offers,
 * idempotency replies and deliveries in every state, their keys and the contact itself, found by any
 * key; nothing of them is left in any table (every column of every table is searched), while other
 * people's answers, an answer's shared second contact, deliveries about no answer and plugin data
 * stay; unknown contacts erase nothing; a failure part-way leaves everything as it was; the wrapper
 * reads contacts as people type them and works on a file another connection has open. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "contacts.h"
#include "erase.h"
#include "form.h"
#include "outbox.h"
#include "storage.h"
#include "store_internal.h"
#include "util.h"
#include "writer.h"

static const char signup_yaml[] =
	"id: signup\nkind: signup\ntitle: Sign up\nquestions:\n"
	"  - {id: email, type: email, label: Email}\n"
	"  - {id: phone, type: phone, label: Phone}\n";
static const char shop_yaml[] =
	"id: shop\nkind: survey\ntitle: Shop\nquestions:\n"
	"  - {id: mail, type: email, label: Email}\n"
	"  - {id: note, type: text, label: Note}\n";

typedef struct fx {
	store *st;
	form *signup, *shop;
	int n;
	char path[64]; /* a temporary database file, or "" for :memory: */
} fx;

static form *load(const char *yaml)
{
	diag_list d;
	diag_init(&d);
	form *f = form_load_string(yaml, strlen(yaml), "forms/x.yaml", &d);
	diag_free(&d);
	return f;
}

/* Opens the fixture's store on path (":memory:" or a new temporary file) and loads the forms. */
static int open_fixture(void **state, bool on_file)
{
	fx *f = xcalloc(1, sizeof *f);
	char *err = NULL;
	snprintf(f->path, sizeof f->path, ":memory:");
	if (on_file) {
		snprintf(f->path, sizeof f->path, "/tmp/earshot-erase-XXXXXX");
		int fd = mkstemp(f->path);
		if (fd < 0)
			return -1;
		close(fd);
		unlink(f->path);
	}
	if (store_open(f->path, DURABILITY_NORMAL, false, &f->st, &err) != 0) {
		free(err);
		return -1;
	}
	f->signup = load(signup_yaml);
	f->shop = load(shop_yaml);
	*state = f;
	return f->signup && f->shop ? 0 : -1;
}

static int setup(void **state)
{
	return open_fixture(state, false);
}

static int setup_file(void **state)
{
	return open_fixture(state, true);
}

static int teardown(void **state)
{
	fx *f = *state;
	store_close(f->st);
	if (strcmp(f->path, ":memory:") != 0) {
		char side[80];
		unlink(f->path);
		snprintf(side, sizeof side, "%s-wal", f->path);
		unlink(side);
		snprintf(side, sizeof side, "%s-shm", f->path);
		unlink(side);
	}
	form_free(f->signup);
	form_free(f->shop);
	free(f);
	return 0;
}

/* Stores an answer to fm (answers stolen, offers stolen or NULL) as the writer does — insert, link,
 * in one transaction — with an idempotency reply. Copies the new id into id_out (48 bytes). */
static void store_answer(fx *f, const form *fm, json_t *answers, json_t *offers, char *id_out)
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
	snprintf(job->id, sizeof job->id, "r_erase%03d", f->n++);
	response_record r = { .created_ms = job->created_ms, .answers = answers };
	snprintf(r.id, sizeof r.id, "%s", job->id);
	snprintf(r.form, sizeof r.form, "%s", fm->id);
	char key[64], *err = NULL;
	snprintf(key, sizeof key, "idem-%s", job->id);
	if (store_begin(f->st, &err) != 0 || store_response_insert(f->st, &r, NULL, &err) != 0 ||
	    contacts_link_answer(f->st, job, &err) != 0 ||
	    store_idempotency_put(f->st, key, fm->id, job->id, 201, "{\"id\":\"x\"}", job->created_ms, &err) != 0 ||
	    store_commit(f->st, &err) != 0)
		fail_msg("store answer: %s", err);
	snprintf(id_out, 48, "%s", job->id);
	writer_job_free(job);
}

/* Queues a delivery about response_id (NULL: about no answer) in state s, its document naming who. */
static void queue_delivery(fx *f, const char *response_id, delivery_state s, const char *who)
{
	delivery_record d;
	memset(&d, 0, sizeof d);
	snprintf(d.id, sizeof d.id, "d_erase%03d", f->n++);
	char *body = xasprintf("{\"answers\":{\"mail\":\"%s\"}}", who);
	d.destination = (char *)"support";
	d.type = (char *)"complaint";
	d.response_id = (char *)response_id;
	d.body = body;
	d.state = s;
	d.created_ms = d.retry_from_ms = d.next_attempt_ms = 5;
	if (s == DELIVERY_DELIVERED)
		d.delivered_ms = 6;
	char *err = NULL;
	if (store_outbox_insert(f->st, &d, &err) != 0)
		fail_msg("queue delivery: %s", err);
	free(body);
}

/* One integer from sql on the fixture's connection. */
static int64_t count(fx *f, const char *sql)
{
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(store_sqlite(f->st), sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* Rows of every table of the schema in which any column holds needle (case-insensitively). */
static int64_t rows_mentioning(fx *f, const char *needle)
{
	sqlite3 *db = store_sqlite(f->st);
	sqlite3_stmt *tables = NULL, *cols = NULL;
	int64_t total = 0;
	int ntables = 0;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name "
	                                        "NOT LIKE 'sqlite_%'", -1, &tables, NULL), SQLITE_OK);
	while (sqlite3_step(tables) == SQLITE_ROW) {
		char *table = xstrdup((const char *)sqlite3_column_text(tables, 0));
		char *sql = xasprintf("SELECT * FROM \"%s\"", table);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &cols, NULL), SQLITE_OK);
		while (sqlite3_step(cols) == SQLITE_ROW) {
			bool hit = false;
			for (int c = 0; c < sqlite3_column_count(cols) && !hit; c++) {
				const char *v = (const char *)sqlite3_column_text(cols, c);
				hit = v && strcasestr(v, needle) != NULL;
			}
			total += hit;
		}
		sqlite3_finalize(cols);
		free(sql);
		free(table);
		ntables++;
	}
	sqlite3_finalize(tables);
	assert_true(ntables >= 9); /* the search really covered the schema */
	return total;
}

/* Ann: two answers on two forms (email in two spellings, then email and phone in one answer), offers,
 * deliveries in all four states. Bob: one answer, an offer, a pending delivery. A delivery about no
 * answer, and plugin data. Fills ann[2] and bob with the answer ids. */
static void populate(fx *f, char ann[2][48], char bob[48])
{
	store_answer(f, f->shop, json_pack("{s:s, s:s}", "mail", "Ann@example.com", "note", "late parcel"),
	             json_pack("[{s:s, s:s}]", "text", "10% off", "code", "EAR-ANN1"), ann[0]);
	store_answer(f, f->signup, json_pack("{s:s, s:s}", "email", "ann@example.com", "phone", "+38640123456"),
	             json_pack("[{s:s}, {s:s}]", "text", "a gift", "text", "a second gift"), ann[1]);
	store_answer(f, f->shop, json_pack("{s:s}", "mail", "bob@example.com"),
	             json_pack("[{s:s, s:s}]", "text", "5% off", "code", "EAR-BOB1"), bob);
	queue_delivery(f, ann[0], DELIVERY_PENDING, "Ann@example.com");
	queue_delivery(f, ann[0], DELIVERY_FAILED, "Ann@example.com");
	queue_delivery(f, ann[1], DELIVERY_DEAD, "ann@example.com");
	queue_delivery(f, ann[1], DELIVERY_DELIVERED, "ann@example.com");
	queue_delivery(f, bob, DELIVERY_PENDING, "bob@example.com");
	queue_delivery(f, NULL, DELIVERY_PENDING, "nobody");
	char *err = NULL;
	assert_int_equal(store_kv_put(f->st, "incentive", "seen:abc", "1", 1, &err), 0);
}

/* Bob's answer, offer, delivery, idempotency reply, key and contact, the delivery about no answer and
 * the plugin data are all still there. */
static void assert_bob_untouched(fx *f, const char *bob)
{
	char *sql = xasprintf("SELECT count(*) FROM responses WHERE id = '%s'", bob);
	assert_int_equal(count(f, sql), 1);
	free(sql);
	assert_int_equal(count(f, "SELECT count(*) FROM offers WHERE code = 'EAR-BOB1'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE body LIKE '%bob@example.com%'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE response_id IS NULL"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM idempotency"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM contact_keys WHERE key = 'bob@example.com'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM response_contacts"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM plugin_kv"), 1);
}

/* Nothing of Ann is left anywhere: not her addresses, not her answers' ids. */
static void assert_ann_gone(fx *f, char ann[2][48])
{
	assert_int_equal(rows_mentioning(f, "ann@example.com"), 0);
	assert_int_equal(rows_mentioning(f, "+38640123456"), 0);
	assert_int_equal(rows_mentioning(f, ann[0]), 0);
	assert_int_equal(rows_mentioning(f, ann[1]), 0);
	assert_int_equal(rows_mentioning(f, "EAR-ANN1"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM contacts"), 1);
}

static void test_erase_by_email(void **state)
{
	fx *f = *state;
	char ann[2][48], bob[48];
	populate(f, ann, bob);
	assert_true(rows_mentioning(f, "ann@example.com") > 0);
	erase_counts c;
	char *err = NULL;
	assert_int_equal(store_erase_contact(f->st, CONTACT_EMAIL, "ann@example.com", &c, &err), 0);
	assert_int_equal(c.responses, 2);
	assert_int_equal(c.offers, 3);
	assert_int_equal(c.deliveries, 4);
	assert_ann_gone(f, ann);
	assert_bob_untouched(f, bob);
	/* Again: nothing left to erase, and no error. */
	assert_int_equal(store_erase_contact(f->st, CONTACT_EMAIL, "ann@example.com", &c, &err), 0);
	assert_int_equal(c.responses + c.offers + c.deliveries, 0);
}

static void test_erase_by_phone_takes_all_keys(void **state)
{
	fx *f = *state;
	char ann[2][48], bob[48];
	populate(f, ann, bob);
	/* The phone arrived with the email in one answer: one person, so the email's answers go too. */
	erase_counts c;
	char *err = NULL;
	assert_int_equal(store_erase_contact(f->st, CONTACT_PHONE, "+38640123456", &c, &err), 0);
	assert_int_equal(c.responses, 2);
	assert_int_equal(c.offers, 3);
	assert_int_equal(c.deliveries, 4);
	assert_ann_gone(f, ann);
	assert_bob_untouched(f, bob);
	int64_t id;
	assert_int_equal(store_contact_find(f->st, CONTACT_EMAIL, "ann@example.com", &id, &err), 0);
}

static void test_unknown_contact_erases_nothing(void **state)
{
	fx *f = *state;
	char ann[2][48], bob[48];
	populate(f, ann, bob);
	erase_counts c = { 9, 9, 9, 9 };
	char *err = NULL;
	/* Keys are exact: an unknown address, an address not lower-cased, another number. */
	const char *emails[] = { "zed@example.com", "Ann@example.com", "ann@example.co" };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(store_erase_contact(f->st, CONTACT_EMAIL, emails[i], &c, &err), 0);
		assert_int_equal(c.responses + c.offers + c.deliveries, 0);
	}
	assert_int_equal(store_erase_contact(f->st, CONTACT_PHONE, "+38640123457", &c, &err), 0);
	assert_int_equal(c.responses + c.offers + c.deliveries, 0);
	/* The email is a phone key nowhere. */
	assert_int_equal(store_erase_contact(f->st, CONTACT_PHONE, "ann@example.com", &c, &err), 0);
	assert_int_equal(c.responses, 0);
	assert_int_equal(count(f, "SELECT count(*) FROM responses"), 3);
	assert_int_equal(count(f, "SELECT count(*) FROM offers"), 4);
	assert_int_equal(count(f, "SELECT count(*) FROM outbox"), 6);
	assert_int_equal(count(f, "SELECT count(*) FROM contacts"), 2);
}

static void test_shared_answer_keeps_other_contact(void **state)
{
	fx *f = *state;
	char eve[48], tel[48], both[48];
	store_answer(f, f->signup, json_pack("{s:s}", "email", "eve@example.com"), NULL, eve);
	store_answer(f, f->signup, json_pack("{s:s}", "phone", "+14155550100"), NULL, tel);
	/* Two people already known in one answer: linked to both. Erasing Eve takes it; the other person
	 * keeps their own answer and their contact. */
	store_answer(f, f->signup, json_pack("{s:s, s:s}", "email", "eve@example.com", "phone", "+14155550100"),
	             NULL, both);
	erase_counts c;
	char *err = NULL;
	assert_int_equal(store_erase_contact(f->st, CONTACT_EMAIL, "eve@example.com", &c, &err), 0);
	assert_int_equal(c.responses, 2);
	assert_int_equal(c.offers, 0);
	assert_int_equal(c.deliveries, 0);
	int64_t other = 0, n = -1;
	assert_int_equal(store_contact_find(f->st, CONTACT_PHONE, "+14155550100", &other, &err), 1);
	assert_int_equal(store_contact_response_count(f->st, other, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows_mentioning(f, both), 0);
	assert_int_equal(rows_mentioning(f, tel), 3); /* the answer, its idempotency reply, its link */
}

static void test_failure_erases_nothing(void **state)
{
	fx *f = *state;
	char ann[2][48], bob[48];
	populate(f, ann, bob);
	/* A statement after the offers and deliveries fails: the whole erasure is rolled back. */
	assert_int_equal(sqlite3_exec(store_sqlite(f->st), "DROP TABLE idempotency", NULL, NULL, NULL), SQLITE_OK);
	erase_counts c;
	char *err = NULL;
	assert_int_equal(store_erase_contact(f->st, CONTACT_EMAIL, "ann@example.com", &c, &err), -1);
	assert_non_null(strstr(err, "erase idempotency replies"));
	free(err);
	assert_int_equal(c.responses + c.offers + c.deliveries, 0);
	assert_int_equal(count(f, "SELECT count(*) FROM offers"), 4);
	assert_int_equal(count(f, "SELECT count(*) FROM outbox"), 6);
	assert_int_equal(count(f, "SELECT count(*) FROM responses"), 3);
	assert_true(sqlite3_get_autocommit(store_sqlite(f->st)) != 0);
}

static void test_refuses_inside_transaction(void **state)
{
	fx *f = *state;
	char *err = NULL;
	erase_counts c;
	assert_int_equal(store_begin(f->st, &err), 0);
	assert_int_equal(store_erase_contact(f->st, CONTACT_EMAIL, "ann@example.com", &c, &err), -1);
	assert_non_null(err);
	free(err);
	store_rollback(f->st);
}

static void test_wrapper_on_file(void **state)
{
	fx *f = *state;
	char ann[2][48], bob[48];
	populate(f, ann, bob);
	erase_counts c;
	const char *why = NULL;
	char *err = NULL;
	/* Typed as a person would: any case, spaces; the fixture's connection stays open meanwhile. */
	assert_int_equal(erase_contact(f->path, DURABILITY_NORMAL, " ANN@Example.com ", &c, &why, &err), 0);
	assert_int_equal(c.responses, 2);
	assert_int_equal(c.deliveries, 4);
	assert_ann_gone(f, ann);
	assert_bob_untouched(f, bob);
	assert_int_equal(erase_contact(f->path, DURABILITY_NORMAL, "+1 (415) 555-0100", &c, &why, &err), 0);
	assert_int_equal(c.responses + c.offers + c.deliveries, 0);
	assert_int_equal(erase_contact(f->path, DURABILITY_NORMAL, "bob@EXAMPLE.com", &c, &why, &err), 0);
	assert_int_equal(c.responses, 1);
	assert_int_equal(c.offers, 1);
	assert_int_equal(c.deliveries, 1);
	assert_int_equal(count(f, "SELECT count(*) FROM responses"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM contacts"), 0);
}

static void test_wrapper_refuses_non_contacts(void **state)
{
	(void)state;
	const char *bad[] = { "", "   ", "ann", "ann@", "@example.com", "040 123 456", "+12", "+38640123456789012",
	                      "call me" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		erase_counts c = { 1, 1, 1, 1 };
		const char *why = NULL;
		char *err = NULL;
		/* The value is refused before any database is touched. */
		assert_int_equal(erase_contact("/nonexistent/dir/x.db", DURABILITY_NORMAL, bad[i], &c, &why, &err), 1);
		assert_non_null(why);
		assert_null(err);
		assert_int_equal(c.responses + c.offers + c.deliveries, 0);
	}
	/* A valid contact with a database that cannot be opened is an error, not zeros. */
	erase_counts c;
	const char *why = NULL;
	char *err = NULL;
	assert_int_equal(erase_contact("/nonexistent/dir/x.db", DURABILITY_NORMAL, "ann@example.com", &c, &why, &err),
	                 -1);
	assert_non_null(err);
	free(err);
}

static void test_counts_json(void **state)
{
	(void)state;
	erase_counts c = { .responses = 3, .offers = 0, .deliveries = 12 };
	json_t *j = erase_counts_to_json(&c);
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"deleted\":{\"deliveries\":12,\"inbox\":0,\"offers\":0,\"responses\":3}}");
	free(text);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_erase_by_email, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase_by_phone_takes_all_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_contact_erases_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_answer_keeps_other_contact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_erases_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_inside_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrapper_on_file, setup_file, teardown),
		cmocka_unit_test(test_wrapper_refuses_non_contacts),
		cmocka_unit_test(test_counts_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
