/* Unit tests for the incentive plugin, loaded from its built .so into the real plugin host over a
 * real database file: the same person (another letter case, another phone formatting) gets the same
 * code; generated codes are readable, distinct per person and stable across restarts (the secret is
 * in the database); `requires`; a file pool hands each code out once, in order, survives a rolled
 * back answer, skips codes already given when the file is edited, and when empty keeps the answer,
 * logs once and reports through the "health" key; every refused config. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/hmac.h>

#include "form.h"
#include "plugin_host.h"
#include "storage.h"
#include "util.h"
#include "test_support.h"
#include "validate.h"
#include "writer.h"

#ifndef INCENTIVE_PLUGIN
#error "INCENTIVE_PLUGIN must name the built plugins/incentive.so"
#endif

static const char signup_yaml[] =
	"id: signup\nkind: signup\ntitle: Sign up\nquestions:\n"
	"  - {id: email, type: email, label: Email}\n"
	"  - {id: phone, type: phone, label: Phone, default_country: \"386\"}\n"
	"  - {id: consent, type: consent, label: OK}\n";

typedef struct fx {
	char dir[64];
	char db[128];
	char pool[128];
	earshot_config cfg;
	form *form;
	plugin_host *host;
	diag_list diags;
	store *st;
	int n;
	char log[4096];
	int log_lines;
} fx;

static void capture_log(void *arg, int level, const char *plugin, const char *msg)
{
	fx *f = arg;
	(void)level;
	size_t used = strlen(f->log);
	snprintf(f->log + used, sizeof f->log - used, "%s: %s\n", plugin ? plugin : "?", msg);
	f->log_lines++;
}

static int setup(void **state)
{
	fx *f = xcalloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/earshot-test-incentive-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof f->db, "%s/earshot.db", f->dir);
	snprintf(f->pool, sizeof f->pool, "%s/coupons.txt", f->dir);
	diag_list d;
	diag_init(&d);
	f->form = form_load_string(signup_yaml, strlen(signup_yaml), "forms/signup.yaml", &d);
	diag_free(&d);
	diag_init(&f->diags);
	char *err = NULL;
	if (!f->form || store_open(f->db, DURABILITY_NORMAL, false, &f->st, &err) != 0)
		return -1;
	*state = f;
	return 0;
}

/* Frees the loaded host and the config's plugin entry. */
static void unload(fx *f)
{
	plugin_host_free(f->host);
	f->host = NULL;
	for (size_t i = 0; i < f->cfg.n_plugins; i++) {
		plugin_spec *s = &f->cfg.plugins[i];
		free(s->name);
		free(s->path);
		for (size_t k = 0; k < s->n_forms; k++)
			free(s->forms[k]);
		free(s->forms);
		json_decref(s->config);
		free(s->where);
	}
	free(f->cfg.plugins);
	f->cfg.plugins = NULL;
	f->cfg.n_plugins = 0;
	diag_free(&f->diags);
	diag_init(&f->diags);
}

static int teardown(void **state)
{
	fx *f = *state;
	unload(f);
	diag_free(&f->diags);
	store_close(f->st);
	form_free(f->form);
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(cmd);
	free(f);
	return 0;
}

/* Loads the plugin with config (JSON text). Returns plugin_host_load's result; *problems (may be
 * NULL) receives the joined messages (caller frees). */
static int load_with(fx *f, const char *config, char **problems)
{
	unload(f);
	f->cfg.plugins = xcalloc(1, sizeof *f->cfg.plugins);
	plugin_spec *s = &f->cfg.plugins[0];
	s->name = xstrdup("incentive");
	s->path = xstrdup(INCENTIVE_PLUGIN);
	s->forms = xcalloc(1, sizeof *s->forms);
	s->forms[0] = xstrdup("*");
	s->n_forms = 1;
	json_error_t jerr;
	s->config = json_loads(config, 0, &jerr);
	if (!s->config)
		fail_msg("bad config JSON in test: %s", jerr.text);
	s->where = xstrdup("earshot.yaml:9:5");
	f->cfg.n_plugins = 1;
	int rc = plugin_host_load(&f->cfg, f->db, NULL, &f->host, &f->diags);
	if (problems)
		*problems = diag_join(&f->diags);
	if (rc == 0)
		plugin_host_set_logger(f->host, capture_log, f);
	return rc;
}

static void load_ok(fx *f, const char *config)
{
	char *problems = NULL;
	if (load_with(f, config, &problems) != 0)
		fail_msg("load failed: %s", problems);
	free(problems);
}

/* Stores one answer given as the visitor typed it (JSON text, normalised by the server's own
 * validation) through the plugin inside a transaction that is committed, or rolled back when
 * commit is false. Returns the code offered (caller frees), or NULL when none was. */
static char *answer(fx *f, const char *raw, bool commit)
{
	json_t *in = json_loads(raw, 0, NULL), *problems = json_object(), *norm = NULL;
	assert_non_null(in);
	assert_int_equal(validate_answers(f->form, in, &norm, problems), 0);
	json_decref(in);
	json_decref(problems);
	writer_job *job = writer_job_new();
	writer_job_prepare(job);
	job->form = f->form;
	job->answers = norm;
	job->meta = json_object();
	job->created_ms = 1764000000000 + f->n;
	random_id("r_", job->id, sizeof job->id);
	f->n++;
	char *err = NULL;
	assert_int_equal(store_begin(f->st, &err), 0);
	assert_int_equal(store_savepoint(f->st, &err), 0);
	int rc = plugin_host_on_response(f->host, f->st, job, &err);
	if (rc != 0)
		fail_msg("on_response: %d %s", rc, err ? err : "");
	if (commit) {
		assert_int_equal(store_release(f->st, &err), 0);
		assert_int_equal(store_commit(f->st, &err), 0);
	} else {
		store_rollback_savepoint(f->st);
		store_rollback(f->st);
	}
	char *code = NULL;
	json_t *offer = json_array_get(job->offers, 0);
	assert_true(json_array_size(job->offers) <= 1);
	if (offer) {
		assert_string_equal(json_string_value(json_object_get(offer, "text")), "10% off");
		code = xstrdup(json_string_value(json_object_get(offer, "code")));
	}
	writer_job_free(job);
	return code;
}

/* The plugin's "health" value (caller frees), "" when unset. */
static char *health(fx *f)
{
	char *v = NULL, *err = NULL;
	size_t len = 0;
	if (store_kv_get(f->st, "incentive", "health", &v, &len, &err) != 1)
		return xstrdup("");
	return v;
}

/* True when code is PREFIX-XXXX-XXXX in Crockford's base32. */
static bool readable(const char *code, const char *prefix)
{
	size_t p = strlen(prefix);
	if (strncmp(code, prefix, p) != 0 || code[p] != '-' || strlen(code) != p + 10 || code[p + 5] != '-')
		return false;
	for (size_t i = p + 1; code[i]; i++)
		if (i != p + 5 && !strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", code[i]))
			return false;
	return true;
}

static const char generate_email[] =
	"{\"offer\":\"10% off\",\"requires\":[\"email\"],\"codes\":{\"source\":\"generate\",\"prefix\":\"EAR\"},"
	"\"one_per\":\"email\"}";

static void test_same_email_same_code(void **state)
{
	fx *f = *state;
	load_ok(f, generate_email);
	char *a = answer(f, "{\"email\":\"Ann@Example.com\"}", true);
	char *b = answer(f, "{\"email\":\"  ann@EXAMPLE.COM \"}", true);
	char *c = answer(f, "{\"email\":\"ANN@example.com\",\"consent\":true}", true);
	char *d = answer(f, "{\"email\":\"bob@example.com\"}", true);
	assert_non_null(a);
	assert_true(readable(a, "EAR"));
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	assert_string_not_equal(a, d);
	/* Not "requires": no offer. */
	char *none = answer(f, "{\"phone\":\"+38640123456\"}", true);
	assert_null(none);
	free(a);
	free(b);
	free(c);
	free(d);
}

static void test_plus_and_gmail_dots_one_person(void **state)
{
	fx *f = *state;
	load_ok(f, generate_email);
	/* The default, email_identity: canonical. */
	assert_true(plugin_host_offers_for_form(f->host, "signup"));
	char *a = answer(f, "{\"email\":\"ann@example.com\"}", true);
	char *a1 = answer(f, "{\"email\":\"ann+1@example.com\"}", true);
	char *a2 = answer(f, "{\"email\":\"Ann+2@Example.com\"}", true);
	char *g = answer(f, "{\"email\":\"jo.smith@gmail.com\"}", true);
	char *g1 = answer(f, "{\"email\":\"josmith+x@googlemail.com\"}", true);
	char *g2 = answer(f, "{\"email\":\"j.o.s.m.i.t.h@gmail.com\"}", true);
	char *other = answer(f, "{\"email\":\"a.nn@example.com\"}", true);
	assert_string_equal(a, a1);
	assert_string_equal(a, a2);
	assert_string_equal(g, g1);
	assert_string_equal(g, g2);
	assert_string_not_equal(a, g);
	/* Dots count only at Gmail. */
	assert_string_not_equal(a, other);
	free(a);
	free(a1);
	free(a2);
	free(g);
	free(g1);
	free(g2);
	free(other);
}

static void test_email_identity_exact(void **state)
{
	fx *f = *state;
	load_ok(f, "{\"offer\":\"10% off\",\"requires\":[\"email\"],\"codes\":{\"source\":\"generate\"},"
	           "\"one_per\":\"email\",\"email_identity\":\"exact\"}");
	char *a = answer(f, "{\"email\":\"ann@example.com\"}", true);
	char *A = answer(f, "{\"email\":\"ANN@example.com\"}", true);
	char *a1 = answer(f, "{\"email\":\"ann+1@example.com\"}", true);
	char *g = answer(f, "{\"email\":\"jo.smith@gmail.com\"}", true);
	char *g1 = answer(f, "{\"email\":\"josmith@gmail.com\"}", true);
	assert_string_equal(a, A);
	assert_string_not_equal(a, a1);
	assert_string_not_equal(g, g1);
	free(a);
	free(A);
	free(a1);
	free(g);
	free(g1);
}

static void test_secret_survives_restart(void **state)
{
	fx *f = *state;
	load_ok(f, generate_email);
	char *a = answer(f, "{\"email\":\"ann@example.com\"}", true);
	/* Another process, another load: the same person still gets the same code. */
	load_ok(f, "{\"offer\":\"10% off\",\"codes\":{\"source\":\"generate\"},\"one_per\":\"email\"}");
	char *b = answer(f, "{\"email\":\"Ann@example.com\"}", true);
	assert_string_equal(a, b);
	free(a);
	free(b);
}

/* HMAC-SHA256 of label "\n" text with key, computed here with OpenSSL's one-shot HMAC(). */
static void reference_mac(const unsigned char *key, size_t key_len, const char *label, const char *text,
                          unsigned char out[32])
{
	char *msg = xasprintf("%s\n%s", label, text);
	unsigned int len = 0;
	assert_non_null(HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, strlen(msg), out, &len));
	free(msg);
}

/* A generated code is what the plugin's description says, computed independently: the secret in the
 * key-value store, the contact as the HMAC of "email:<address>", the code's symbols the HMAC of that
 * contact key in Crockford's base32, five bits each, after the prefix. Twice, so that the second code comes from the
 * plugin's kept MAC context. */
static void test_generated_code_is_the_documented_hmac(void **state)
{
	fx *f = *state;
	load_ok(f, generate_email);
	const char *people[] = { "ann@example.com", "bob@example.com" };
	for (int n = 0; n < 2; n++) {
		char *json = xasprintf("{\"email\":\"%s\"}", people[n]);
		char *code = answer(f, json, true);
		free(json);
		char *secret = NULL, *err = NULL;
		size_t secret_len = 0;
		assert_int_equal(store_kv_get(f->st, "incentive", "secret", &secret, &secret_len, &err), 1);
		assert_int_equal(secret_len, 32);
		unsigned char digest[32];
		char *identity = xasprintf("email:%s", people[n]), owner[80] = "contact:";
		reference_mac((const unsigned char *)secret, secret_len, "contact", identity, digest);
		for (int i = 0; i < 32; i++)
			snprintf(owner + 8 + 2 * i, 3, "%02x", digest[i]);
		reference_mac((const unsigned char *)secret, secret_len, "code", owner, digest);
		static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
		char want[32] = "EAR-";
		size_t o = 4;
		for (int i = 0; i < 8; i++) {
			if (i == 4)
				want[o++] = '-';
			int bit = i * 5, byte = bit / 8, shift = bit % 8;
			want[o++] = alphabet[(((unsigned)digest[byte] << 8 | digest[byte + 1]) >> (11 - shift)) & 31];
		}
		want[o] = '\0';
		assert_non_null(code);
		assert_string_equal(code, want);
		free(identity);
		free(secret);
		free(code);
	}
}

static void test_same_phone_same_code(void **state)
{
	fx *f = *state;
	load_ok(f, "{\"offer\":\"10% off\",\"requires\":[\"phone\",\"consent\"],"
	           "\"codes\":{\"source\":\"generate\",\"prefix\":\"tel\",\"length\":12},\"one_per\":\"phone\"}");
	char *a = answer(f, "{\"phone\":\"+386 40 123 456\",\"consent\":true}", true);
	char *b = answer(f, "{\"phone\":\"00386-40-123-456\",\"consent\":true}", true);
	char *c = answer(f, "{\"phone\":\"040 123 456\",\"consent\":true}", true);
	char *d = answer(f, "{\"phone\":\"+386 40 123 457\",\"consent\":true}", true);
	char *e = answer(f, "{\"phone\":\"+386 40 123 456\"}", true);
	assert_non_null(a);
	assert_true(strncmp(a, "TEL-", 4) == 0);
	assert_int_equal(strlen(a), 4 + 12 + 2);
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	assert_string_not_equal(a, d);
	assert_null(e); /* the consent "requires" true */
	free(a);
	free(b);
	free(c);
	free(d);
}

static void test_generate_per_answer(void **state)
{
	fx *f = *state;
	load_ok(f, "{\"offer\":\"10% off\",\"codes\":{\"source\":\"generate\"}}");
	char *codes[20];
	for (int i = 0; i < 20; i++) {
		codes[i] = answer(f, "{\"email\":\"same@example.com\"}", true);
		assert_non_null(codes[i]);
		assert_true(readable(codes[i], "EAR"));
		for (int k = 0; k < i; k++)
			assert_string_not_equal(codes[i], codes[k]);
	}
	for (int i = 0; i < 20; i++)
		free(codes[i]);
}

static void test_pool_once_each(void **state)
{
	fx *f = *state;
	test_write_file(f->pool, "# spring campaign\nSPRING-1\n\n  SPRING-2  \nSPRING-3\n");
	char *config = xasprintf("{\"offer\":\"10%% off\",\"codes\":{\"source\":\"file\",\"path\":\"%s\"}}",
	                         f->pool);
	load_ok(f, config);
	char *a = answer(f, "{\"email\":\"a@example.com\"}", true);
	/* A rolled-back answer gives its code back. */
	char *lost = answer(f, "{\"email\":\"b@example.com\"}", false);
	char *b = answer(f, "{\"email\":\"b@example.com\"}", true);
	char *h = health(f);
	assert_string_equal(h, "");
	free(h);
	char *c = answer(f, "{\"email\":\"c@example.com\"}", true);
	assert_string_equal(a, "SPRING-1");
	assert_string_equal(lost, "SPRING-2");
	assert_string_equal(b, "SPRING-2");
	assert_string_equal(c, "SPRING-3");
	/* The last code is out: reported at once, logged once. */
	h = health(f);
	assert_non_null(strstr(h, "coupons.txt is empty"));
	free(h);
	assert_int_equal(f->log_lines, 1);
	char *d = answer(f, "{\"email\":\"d@example.com\"}", true);
	char *e = answer(f, "{\"email\":\"e@example.com\"}", true);
	assert_null(d);
	assert_null(e);
	assert_int_equal(f->log_lines, 2); /* "an answer got no code", once */
	assert_non_null(strstr(f->log, "an answer got no code"));
	/* The owner refills the file (keeping the old codes): only the new ones are handed out, and the
	 * report clears. */
	test_write_file(f->pool, "SPRING-1\nSPRING-2\nSPRING-3\nSUMMER-1\nSUMMER-2\n");
	load_ok(f, config);
	char *g = answer(f, "{\"email\":\"g@example.com\"}", true);
	assert_string_equal(g, "SUMMER-1");
	h = health(f);
	assert_string_equal(h, "");
	free(h);
	/* Reordered: codes already given are still skipped. */
	test_write_file(f->pool, "SUMMER-2\nSPRING-1\nSUMMER-1\nAUTUMN-1\n");
	load_ok(f, config);
	char *i = answer(f, "{\"email\":\"i@example.com\"}", true);
	char *j = answer(f, "{\"email\":\"j@example.com\"}", true);
	char *k = answer(f, "{\"email\":\"k@example.com\"}", true);
	assert_string_equal(i, "SUMMER-2");
	assert_string_equal(j, "AUTUMN-1");
	assert_null(k);
	free(config);
	free(a);
	free(lost);
	free(b);
	free(c);
	free(g);
	free(i);
	free(j);
}

static void test_pool_one_per_person(void **state)
{
	fx *f = *state;
	test_write_file(f->pool, "P1\nP2\nP3\n");
	char *config = xasprintf("{\"offer\":\"10%% off\",\"requires\":[\"email\"],\"one_per\":\"email\","
	                         "\"codes\":{\"source\":\"file\",\"path\":\"%s\"}}", f->pool);
	load_ok(f, config);
	char *a = answer(f, "{\"email\":\"Ann@example.com\"}", true);
	char *b = answer(f, "{\"email\":\"ann@EXAMPLE.com\"}", true);
	char *c = answer(f, "{\"email\":\"cid@example.com\"}", true);
	assert_string_equal(a, "P1");
	assert_string_equal(b, "P1");
	assert_string_equal(c, "P2");
	free(config);
	free(a);
	free(b);
	free(c);
}

static void test_empty_file(void **state)
{
	fx *f = *state;
	test_write_file(f->pool, "# nothing yet\n\n");
	char *config = xasprintf("{\"offer\":\"10%% off\",\"codes\":{\"source\":\"file\",\"path\":\"%s\"}}",
	                         f->pool);
	load_ok(f, config);
	char *a = answer(f, "{\"email\":\"a@example.com\"}", true);
	assert_null(a);
	char *h = health(f);
	assert_non_null(strstr(h, "is empty"));
	free(h);
	free(config);
}

static void test_config_refused(void **state)
{
	fx *f = *state;
	static const struct {
		const char *config, *message;
	} cases[] = {
		{ "{\"codes\":{\"source\":\"generate\"}}", "\"offer\" is required" },
		{ "{\"offer\":\"x\"}", "\"codes\" is required" },
		{ "{\"offer\":\"x\",\"codes\":{\"source\":\"lottery\"}}",
		  "invalid value \"lottery\" for \"codes.source\"" },
		{ "{\"offer\":\"x\",\"codes\":{\"source\":\"file\"}}", "\"codes.path\" is required" },
		{ "{\"offer\":\"x\",\"codes\":{\"source\":\"file\",\"path\":\"/nonexistent/coupons.txt\"}}",
		  "cannot read the coupon file /nonexistent/coupons.txt" },
		{ "{\"offer\":\"x\",\"codes\":{\"source\":\"generate\"},\"one_per\":\"visitor\"}",
		  "invalid value for \"one_per\"" },
		{ "{\"offer\":\"x\",\"codes\":{\"source\":\"generate\",\"prefix\":\"E-R\"}}", "\"codes.prefix\" must be" },
		{ "{\"offer\":\"x\",\"codes\":{\"source\":\"generate\",\"length\":4}}", "\"codes.length\" must be" },
		{ "{\"offer\":\"x\",\"codes\":{\"source\":\"generate\"},\"requires\":\"email\"}",
		  "\"requires\" must be a list" },
		{ "{\"offer\":\"x\",\"codes\":{\"source\":\"generate\"},\"oneper\":\"email\"}", "unknown key \"oneper\"" },
		{ "{\"offer\":\"x\",\"codes\":{\"source\":\"generate\",\"size\":8}}", "unknown key \"codes.size\"" },
		{ "{\"offer\":\"x\",\"codes\":{\"source\":\"generate\"},\"email_identity\":\"loose\"}",
		  "invalid value for \"email_identity\", it must be \"canonical\" or \"exact\"" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *problems = NULL;
		assert_int_equal(load_with(f, cases[i].config, &problems), -1);
		if (!strstr(problems, cases[i].message))
			fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, problems, cases[i].message);
		assert_non_null(strstr(problems, "plugin incentive: "));
		free(problems);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_email_same_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plus_and_gmail_dots_one_person, setup, teardown),
		cmocka_unit_test_setup_teardown(test_email_identity_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_survives_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generated_code_is_the_documented_hmac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_phone_same_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generate_per_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_once_each, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_one_per_person, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
