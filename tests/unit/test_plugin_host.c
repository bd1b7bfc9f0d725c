/* Unit tests for the plugin host: one test per way loading can fail (with fixture plugins built by
 * the test suite), the ABI regression fixture built against the frozen 1.0 header, refusals, the
 * key-value store rolling back with the answer's savepoint, `forms:` globs, plugin order, admin routes
 * and report queries, the reload slot, the nps plugin through the real host, and the example plugin
 * built out of tree with pkg-config the way a site owner builds one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "build-config.h"
#include "earshot/plugin.h"
#include "form.h"
#include "plugin_host.h"
#include "storage.h"
#include "util.h"
#include "test_support.h"
#include "writer.h"

#ifndef FIXTURE_DIR
#error "FIXTURE_DIR must name the directory of the built fixture plugins"
#endif

static const char exit_yaml[] =
	"id: exit-survey\n"
	"kind: survey\n"
	"title: Before you go\n"
	"questions:\n"
	"  - id: reason\n"
	"    type: single_choice\n"
	"    label: Why?\n"
	"    options: [Price, Other]\n"
	"  - id: topics\n"
	"    type: multi_choice\n"
	"    label: Topics\n"
	"    options: [a, b, c]\n"
	"  - id: score\n"
	"    type: nps\n"
	"    label: Recommend us?\n"
	"  - id: email\n"
	"    type: email\n"
	"    label: Email\n"
	"  - id: comment\n"
	"    type: text\n"
	"    label: Anything else?\n";

static const char signup_yaml[] =
	"id: signup\n"
	"kind: signup\n"
	"title: Sign up\n"
	"questions:\n"
	"  - id: email\n"
	"    type: email\n"
	"    label: Email\n";

/* Per-test state: a temporary directory with forms/, a config built by hand, the loaded host. */
typedef struct fx {
	char dir[64];
	char db[128];
	earshot_config cfg;
	form_registry *reg;
	plugin_host *host;
	diag_list diags;
	store *st;
	writer_job *jobs[64];
	size_t n_jobs;
} fx;

static int setup(void **state)
{
	fx *f = xcalloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/earshot-test-plugin-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof f->db, "%s/earshot.db", f->dir);
	char path[256];
	snprintf(path, sizeof path, "%s/forms", f->dir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/forms/exit-survey.yaml", f->dir);
	test_write_file(path, exit_yaml);
	snprintf(path, sizeof path, "%s/forms/signup.yaml", f->dir);
	test_write_file(path, signup_yaml);
	diag_list d;
	diag_init(&d);
	snprintf(path, sizeof path, "%s/forms", f->dir);
	f->reg = form_registry_load_dir(path, &d);
	if (!f->reg || d.n) {
		char *all = diag_join(&d);
		fprintf(stderr, "forms: %s\n", all);
		free(all);
		return -1;
	}
	diag_free(&d);
	diag_init(&f->diags);
	*state = f;
	return 0;
}

/* Removes every file below dir, then dir. */
static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char p[512];
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static int teardown(void **state)
{
	fx *f = *state;
	for (size_t i = 0; i < f->n_jobs; i++)
		writer_job_free(f->jobs[i]);
	plugin_host_free(f->host);
	if (f->st)
		store_close(f->st);
	for (size_t i = 0; i < f->cfg.n_plugins; i++) {
		plugin_spec *s = &f->cfg.plugins[i];
		free(s->name);
		free(s->path);
		free(s->where);
		for (size_t j = 0; j < s->n_forms; j++)
			free(s->forms[j]);
		free(s->forms);
		json_decref(s->config);
	}
	free(f->cfg.plugins);
	form_registry_unref(f->reg);
	diag_free(&f->diags);
	remove_tree(f->dir);
	free(f);
	return 0;
}

/* Copies src to dst and gives the copy mode (whatever the umask). */
static void copy_file(const char *src, const char *dst, mode_t mode)
{
	FILE *in = fopen(src, "rb");
	if (!in)
		fail_msg("%s is missing (built by make check): %s", src, strerror(errno));
	FILE *o = fopen(dst, "wb");
	assert_non_null(o);
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, o), n);
	fclose(in);
	fclose(o);
	assert_int_equal(chmod(dst, mode), 0);
}

/* Copies fixture NAME.so into the test directory with mode; returns its path (a static buffer, one
 * of eight in rotation). */
static const char *fixture(fx *f, const char *name, mode_t mode)
{
	static char out[8][256];
	static int next;
	char *dst = out[next++ % 8];
	char src[512];
	snprintf(src, sizeof src, "%s/%s.so", FIXTURE_DIR, name);
	snprintf(dst, 256, "%s/%s-%o.so", f->dir, name, (unsigned)mode);
	copy_file(src, dst, mode);
	return dst;
}

/* Adds a `plugins:` entry; forms is a NULL-terminated list or NULL (every form); config JSON text. */
static void spec_add(fx *f, const char *name, const char *path, const char *const *forms,
                     const char *config)
{
	f->cfg.plugins = xrealloc(f->cfg.plugins, (f->cfg.n_plugins + 1) * sizeof *f->cfg.plugins);
	plugin_spec *s = &f->cfg.plugins[f->cfg.n_plugins];
	memset(s, 0, sizeof *s);
	s->name = xstrdup(name);
	s->path = xstrdup(path);
	s->where = xasprintf("earshot.yaml:%zu:5", 20 + f->cfg.n_plugins * 4);
	for (size_t i = 0; forms && forms[i]; i++) {
		s->forms = xrealloc(s->forms, (s->n_forms + 1) * sizeof *s->forms);
		s->forms[s->n_forms++] = xstrdup(forms[i]);
	}
	if (!forms) {
		s->forms = xcalloc(1, sizeof *s->forms);
		s->forms[0] = xstrdup("*");
		s->n_forms = 1;
	}
	json_error_t jerr;
	s->config = json_loads(config ? config : "{}", 0, &jerr);
	if (!s->config)
		fail_msg("bad config JSON in test: %s", jerr.text);
	f->cfg.n_plugins++;
}

/* Loads the config's plugins; returns plugin_host_load's result. */
static int load(fx *f, const char *db_path)
{
	return plugin_host_load(&f->cfg, db_path, f->reg, &f->host, &f->diags);
}

/* Asserts that loading fails with exactly one problem, equal to expected. */
static void expect_refused(fx *f, const char *expected)
{
	assert_int_equal(load(f, NULL), -1);
	assert_null(f->host);
	char *all = diag_join(&f->diags);
	assert_string_equal(all, expected);
	free(all);
}

/* Asserts that loading succeeds without problems. */
static void expect_loaded(fx *f, const char *db_path)
{
	int rc = load(f, db_path);
	if (rc != 0) {
		char *all = diag_join(&f->diags);
		fail_msg("load failed: %s", all);
	}
	assert_non_null(f->host);
	assert_int_equal(f->diags.n, 0);
}

/* A job answering form id with answers (JSON text) and meta (JSON text or NULL); freed at teardown. */
static writer_job *job_new(fx *f, const char *form_id, const char *answers, const char *meta)
{
	writer_job *job = writer_job_new();
	writer_job_prepare(job);
	job->form = form_registry_find(f->reg, form_id);
	assert_non_null(job->form);
	job->answers = json_loads(answers, 0, NULL);
	assert_non_null(job->answers);
	job->meta = json_loads(meta ? meta : "{}", 0, NULL);
	job->created_ms = 1764000000000;
	snprintf(job->id, sizeof job->id, "r_test%zu", f->n_jobs);
	f->jobs[f->n_jobs++] = job;
	return job;
}

/* The job's tags as one string "a,b,c". */
static char *tags_of(const writer_job *job)
{
	char *out = xstrdup("");
	size_t i;
	json_t *t;
	json_array_foreach(job->tags, i, t) {
		char *next = xasprintf("%s%s%s", out, i ? "," : "", json_string_value(t));
		free(out);
		out = next;
	}
	return out;
}

/* Asserts that v serialises (compact) to expected. */
static void assert_json(const json_t *v, const char *expected)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : xstrdup("(null)");
	assert_string_equal(s, expected);
	free(s);
}

/* Opens the read-write store on f->db (or ":memory:") for kv and inserts. */
static void open_store(fx *f, bool on_file)
{
	char *err = NULL;
	if (store_open(on_file ? f->db : ":memory:", DURABILITY_NORMAL, false, &f->st, &err) != 0)
		fail_msg("store_open: %s", err);
}

/* ---- Loader: one test per way loading fails --------------------------------------------------------- */

/* Calls plugin_host_route with method, path and the query pairs kv ("key", "value", …, NULL), all
 * as the server's router hands them over: already decoded. */
static int route(plugin_host *h, const char *method, const char *path, const char *const *kv, int *status,
                 char **body)
{
	const char *keys[8] = { 0 }, *values[8] = { 0 };
	size_t n = 0;
	for (; kv && kv[2 * n] && n < 8; n++) {
		keys[n] = kv[2 * n];
		values[n] = kv[2 * n + 1];
	}
	plugin_http_request in = { .method = method, .path = path, .query_keys = keys, .query_values = values,
	                           .n_query = n };
	return plugin_host_route(h, &in, status, body);
}

static void test_missing_file(void **state)
{
	fx *f = *state;
	char path[256];
	snprintf(path, sizeof path, "%s/nowhere.so", f->dir);
	spec_add(f, "gone", path, NULL, NULL);
	char *want = xasprintf("%s: unable to open shared library: No such file or directory", path);
	expect_refused(f, want);
	free(want);
}

static void test_not_a_shared_object(void **state)
{
	fx *f = *state;
	char text[256], obj[256];
	snprintf(text, sizeof text, "%s/text.so", f->dir);
	test_write_file(text, "this is not a library\n");
	/* An ELF object file that is not a shared library: a fixture's own compiled object. */
	char src[512];
	snprintf(src, sizeof src, "%s/behave_so-behave.o", FIXTURE_DIR);
	snprintf(obj, sizeof obj, "%s/behave.o", f->dir);
	copy_file(src, obj, 0644);
	spec_add(f, "text", text, NULL, NULL);
	spec_add(f, "object", obj, NULL, NULL);
	assert_int_equal(load(f, NULL), -1);
	assert_int_equal(f->diags.n, 2);
	char *want = xasprintf("%s: not a shared object (no ELF header)", text);
	assert_string_equal(f->diags.items[0], want);
	free(want);
	want = xasprintf("%s: not a shared object (ELF type 1, not a shared library)", obj);
	assert_string_equal(f->diags.items[1], want);
	free(want);
}

static void test_no_entry_point(void **state)
{
	fx *f = *state;
	const char *p = fixture(f, "no_entry", 0755);
	spec_add(f, "no_entry", p, NULL, NULL);
	char *want = xasprintf("%s: no entry point [earshot_plugin] in shared library [%s]", p, p);
	expect_refused(f, want);
	free(want);
}

static void test_other_major(void **state)
{
	fx *f = *state;
	const char *p = fixture(f, "bad_major", 0755);
	spec_add(f, "bad_major", p, NULL, NULL);
	char *want = xasprintf("%s: built for plugin ABI %d.0, but this earshot speaks ABI %d.%d (another "
	                       "major version): rebuild it against this earshot's header",
	                       p, EARSHOT_PLUGIN_ABI_MAJOR + 1, EARSHOT_PLUGIN_ABI_MAJOR,
	                       EARSHOT_PLUGIN_ABI_MINOR);
	expect_refused(f, want);
	free(want);
}

static void test_newer_minor(void **state)
{
	fx *f = *state;
	const char *p = fixture(f, "newer_minor", 0755);
	spec_add(f, "newer_minor", p, NULL, NULL);
	char *want = xasprintf("%s: built for plugin ABI %d.%d, newer than this earshot's %d.%d: upgrade "
	                       "earshot or rebuild the plugin against its header",
	                       p, EARSHOT_PLUGIN_ABI_MAJOR, EARSHOT_PLUGIN_ABI_MINOR + 1,
	                       EARSHOT_PLUGIN_ABI_MAJOR, EARSHOT_PLUGIN_ABI_MINOR);
	expect_refused(f, want);
	free(want);
}

static void test_descriptor_too_small(void **state)
{
	fx *f = *state;
	const char *p = fixture(f, "small_desc", 0755);
	spec_add(f, "small_desc", p, NULL, NULL);
	char *want = xasprintf("%s: plugin descriptor is %zu bytes, smaller than the oldest known (%zu): "
	                       "define it with EARSHOT_PLUGIN_REGISTER",
	                       p, sizeof(uint64_t) + sizeof(char *), sizeof(struct earshot_plugin));
	expect_refused(f, want);
	free(want);
}

static void test_missing_required_hook(void **state)
{
	fx *f = *state;
	const char *p = fixture(f, "no_hook", 0755);
	spec_add(f, "no_hook", p, NULL, NULL);
	char *want = xasprintf("%s: plugin must have an .on_response or an .on_route hook", p);
	expect_refused(f, want);
	free(want);
}

static void test_init_refuses_config(void **state)
{
	fx *f = *state;
	const char *p = fixture(f, "refuse", 0755);
	spec_add(f, "refuse", p, NULL, "{}");
	spec_add(f, "refuse2", p, NULL, "{\"word\": 5}");
	assert_int_equal(load(f, NULL), -1);
	assert_null(f->host);
	assert_int_equal(f->diags.n, 2);
	assert_string_equal(f->diags.items[0], "earshot.yaml:20:5: plugin refuse: \"word\" is required");
	assert_string_equal(f->diags.items[1],
	                    "earshot.yaml:24:5: plugin refuse2: \"word\" must be a string, not a whole number");
}

static void test_init_accepts_config(void **state)
{
	fx *f = *state;
	spec_add(f, "refuse", fixture(f, "refuse", 0755), NULL, "{\"word\": \"ok\"}");
	expect_loaded(f, NULL);
	assert_int_equal(plugin_host_count(f->host), 1);
	assert_string_equal(plugin_host_name(f->host, 0), "refuse");
}

static void test_writable_by_others(void **state)
{
	fx *f = *state;
	const char *world = fixture(f, "behave", 0666);
	const char *group = fixture(f, "behave", 0775);
	spec_add(f, "world", world, NULL, NULL);
	spec_add(f, "group", group, NULL, NULL);
	assert_int_equal(load(f, NULL), -1);
	assert_int_equal(f->diags.n, 2);
	char *want = xasprintf("%s: refusing a plugin writable by others (mode 0666): run chmod go-w on it",
	                       world);
	assert_string_equal(f->diags.items[0], want);
	free(want);
	want = xasprintf("%s: refusing a plugin writable by its group (mode 0775): run chmod go-w on it",
	                 group);
	assert_string_equal(f->diags.items[1], want);
	free(want);
}

static void test_every_problem_collected(void **state)
{
	fx *f = *state;
	spec_add(f, "good", fixture(f, "behave", 0755), NULL, NULL);
	spec_add(f, "bad_major", fixture(f, "bad_major", 0755), NULL, NULL);
	spec_add(f, "good", fixture(f, "behave", 0755), NULL, NULL);
	spec_add(f, "no_hook", fixture(f, "no_hook", 0755), NULL, NULL);
	assert_int_equal(load(f, NULL), -1);
	assert_null(f->host);
	assert_int_equal(f->diags.n, 3);
	assert_non_null(strstr(f->diags.items[0], "built for plugin ABI 2.0"));
	assert_string_equal(f->diags.items[1], "earshot.yaml:28:5: plugin good is listed twice");
	assert_non_null(strstr(f->diags.items[2], "plugin must have an .on_response or an .on_route hook"));
}

static void test_no_plugins(void **state)
{
	fx *f = *state;
	expect_loaded(f, NULL);
	assert_int_equal(plugin_host_count(f->host), 0);
	writer_job *job = job_new(f, "signup", "{\"email\":\"a@b.example\"}", NULL);
	char *err = NULL;
	assert_int_equal(plugin_host_on_response(f->host, NULL, job, &err), 0);
	int status = 0;
	char *body = NULL;
	assert_int_equal(route(f->host, "GET", "/api/v1/forms/signup/nps", NULL,
	                                   &status, &body), 0);
	assert_int_equal(route(NULL, "GET", "/x", NULL, &status, &body), 0);
	assert_null(body);
}

/* ---- The descriptor checks, as servers of other minors make them --------------------------------- */

static int noop_response(void *state, earshot_response *r)
{
	(void)state;
	(void)r;
	return EARSHOT_OK;
}

static void test_descriptor_older_minor_loads(void **state)
{
	(void)state;
	/* A 1.0 plugin on a server speaking 1.3: accepted, copied whole. */
	struct earshot_plugin d = { .struct_size = sizeof d, .abi_major = 1, .abi_minor = 0, .name = "old",
	                            .on_response = noop_response };
	struct earshot_plugin out;
	char *reason = NULL;
	assert_int_equal(plugin_check_descriptor(&d, 1, 3, &out, &reason), 0);
	assert_null(reason);
	assert_string_equal(out.name, "old");
	assert_ptr_equal(out.on_response, noop_response);

	/* A plugin of a later minor whose descriptor is larger: only what this server knows is copied. */
	unsigned char big[sizeof d + 64];
	memset(big, 0xAB, sizeof big);
	d.struct_size = sizeof big;
	d.abi_minor = 2;
	memcpy(big, &d, sizeof d);
	memset(&out, 0x5A, sizeof out);
	assert_int_equal(plugin_check_descriptor(big, 1, 2, &out, &reason), 0);
	assert_ptr_equal(out.on_response, noop_response);
	assert_null(out.fini);

	/* Built with a 1.2 header but requiring only 1.0 (EARSHOT_PLUGIN_REQUIRES_MINOR): loads on 1.0. */
	d.abi_minor = 0;
	memcpy(big, &d, sizeof d);
	assert_int_equal(plugin_check_descriptor(big, 1, 0, &out, &reason), 0);
	assert_ptr_equal(out.on_response, noop_response);

	/* Requiring 1.2 on a 1.1 server: newer than the host, refused. */
	d.abi_minor = 2;
	memcpy(big, &d, sizeof d);
	assert_int_equal(plugin_check_descriptor(big, 1, 1, &out, &reason), -1);
	assert_string_equal(reason, "built for plugin ABI 1.2, newer than this earshot's 1.1: upgrade earshot "
	                            "or rebuild the plugin against its header");
	free(reason);

	/* No name. */
	d.struct_size = sizeof d;
	d.abi_minor = 0;
	d.name = "";
	assert_int_equal(plugin_check_descriptor(&d, 1, 0, &out, &reason), -1);
	assert_string_equal(reason, "plugin must have a .name");
	free(reason);
}

static void test_abi_v1_fixture(void **state)
{
	fx *f = *state;
	spec_add(f, "v1", fixture(f, "abi_v1", 0755), NULL, "{\"label\": \"hello\"}");
	expect_loaded(f, NULL);
	open_store(f, false);
	writer_job *job = job_new(f, "exit-survey", "{\"reason\":\"Price\",\"score\":9}", NULL);
	char *err = NULL;
	assert_int_equal(plugin_host_on_response(f->host, f->st, job, &err), 0);
	assert_json(job->score, "{\"v1\":9,\"category\":\"counted\"}");
	char *tags = tags_of(job);
	assert_string_equal(tags, "v1:type=nps,v1:hello,v1:seen=1");
	free(tags);
	int status = 0;
	char *body = NULL;
	assert_int_equal(route(f->host, "GET", "/v1/exit-survey", NULL, &status, &body),
	                 1);
	assert_int_equal(status, 200);
	assert_string_equal(body, "{\"form\":\"exit-survey\",\"label\":\"hello\"}");
	free(body);
}


/* Runs a GET through the host; returns the status and stores the body in *body (caller frees). */
static int get(fx *f, const char *path, const char *const *query, char **body)
{
	int status = 0;
	*body = NULL;
	if (route(f->host, "GET", path, query, &status, body) != 1)
		return 0;
	return status;
}

/* ---- ABI 1.1: handles, server version, forms, unknown keys, kv from on_route ------------------------- */

static void test_server_version_and_forms(void **state)
{
	fx *f = *state;
	const char *const exit_only[] = { "exit-*", NULL };
	spec_add(f, "b", fixture(f, "behave", 0755), exit_only, "{\"version\": true, \"forms\": true}");
	expect_loaded(f, NULL);
	writer_job *job = job_new(f, "exit-survey", "{\"score\":9}", NULL);
	char *err = NULL;
	assert_int_equal(plugin_host_on_response(f->host, NULL, job, &err), 0);
	char *tags = tags_of(job);
	assert_string_equal(tags, "server:" PACKAGE_VERSION ",forms:exit-survey");
	free(tags);
}

static void test_unknown_config_key_refused(void **state)
{
	fx *f = *state;
	spec_add(f, "b", fixture(f, "behave", 0755), NULL, "{\"tga\": \"x\"}");
	expect_refused(f, "earshot.yaml:20:5: plugin b: unknown setting \"tga\" (known: tag, score, category, "
	                  "offer, count, echo, reject, fail, deliver, route, version, forms, sleep_ms, crash, "
	                  "tags, tag_calls, deliveries, delivery_bytes)");
}

static void test_route_reads_kv_and_questions(void **state)
{
	fx *f = *state;
	open_store(f, true);
	char *err = NULL;
	assert_int_equal(store_kv_put(f->st, "b", "count", "7", 1, &err), 0);
	spec_add(f, "b", fixture(f, "behave", 0755), NULL,
	         "{\"route\": \"/api/v1/forms/{form}/things\", \"count\": true}");
	expect_loaded(f, f->db);
	char *body = NULL;
	assert_int_equal(get(f, "/api/v1/forms/signup/things", NULL, &body), 200);
	assert_non_null(strstr(body, "\"kv_count\":\"7\",\"questions\":[\"email:email\"]"));
	free(body);
}

/* The log line a plugin wrote with a handle names the plugin the handle belongs to, and set_error on a
 * handle reaches the hook call it was handed to. */
static void test_handles_name_their_plugin(void **state)
{
	fx *f = *state;
	spec_add(f, "first", fixture(f, "behave", 0755), NULL, "{\"tag\": \"a\"}");
	spec_add(f, "second", fixture(f, "behave", 0755), NULL, "{\"fail\": true}");
	expect_loaded(f, NULL);
	writer_job *job = job_new(f, "signup", "{\"email\":\"a@b.example\"}", NULL);
	char *err = NULL;
	assert_int_equal(plugin_host_on_response(f->host, NULL, job, &err), -1);
	assert_string_equal(err, "plugin second: on_response: asked to fail");
	free(err);
}

/* ---- on_response ------------------------------------------------------------------------------- */

static void test_reject_stops_and_names_field(void **state)
{
	fx *f = *state;
	const char *p = fixture(f, "behave", 0755);
	spec_add(f, "guard", p, NULL,
	         "{\"tag\":\"checked\",\"reject\":{\"question\":\"comment\",\"word\":\"spam\","
	         "\"message\":\"no spam, please\"}}");
	spec_add(f, "later", p, NULL, "{\"tag\":\"later\"}");
	expect_loaded(f, NULL);
	char *err = NULL;
	writer_job *ok = job_new(f, "exit-survey", "{\"comment\":\"lovely\"}", NULL);
	assert_int_equal(plugin_host_on_response(f->host, NULL, ok, &err), 0);
	assert_null(ok->reject);
	char *tags = tags_of(ok);
	assert_string_equal(tags, "checked,later");
	free(tags);

	writer_job *bad = job_new(f, "exit-survey", "{\"comment\":\"buy spam now\"}", NULL);
	assert_int_equal(plugin_host_on_response(f->host, NULL, bad, &err), 1);
	assert_null(err);
	assert_json(bad->reject, "{\"comment\":\"no spam, please\"}");
	tags = tags_of(bad);
	assert_string_equal(tags, "checked"); /* the later plugin did not run */
	free(tags);
}

static void test_plugin_failure_message(void **state)
{
	fx *f = *state;
	spec_add(f, "broken", fixture(f, "behave", 0755), NULL, "{\"fail\":true}");
	expect_loaded(f, NULL);
	writer_job *job = job_new(f, "signup", "{\"email\":\"a@b.example\"}", NULL);
	char *err = NULL;
	assert_int_equal(plugin_host_on_response(f->host, NULL, job, &err), -1);
	assert_string_equal(err, "plugin broken: on_response: asked to fail");
	free(err);
}

static void test_listed_order(void **state)
{
	fx *f = *state;
	const char *p = fixture(f, "behave", 0755);
	spec_add(f, "b", p, NULL, "{\"tag\":\"second-listed-first\"}");
	spec_add(f, "a", p, NULL, "{\"tag\":\"first-listed-second\"}");
	spec_add(f, "c", p, NULL, "{\"tag\":\"third\", \"score\": 1, \"category\": \"low\"}");
	spec_add(f, "d", p, NULL, "{\"score\": 2.5, \"category\": \"mid\"}");
	expect_loaded(f, NULL);
	writer_job *job = job_new(f, "signup", "{\"email\":\"a@b.example\"}", NULL);
	char *err = NULL;
	assert_int_equal(plugin_host_on_response(f->host, NULL, job, &err), 0);
	char *tags = tags_of(job);
	assert_string_equal(tags, "second-listed-first,first-listed-second,third");
	free(tags);
	/* The later plugin's score value and category win. */
	assert_json(job->score, "{\"fixture\":2.5,\"category\":\"mid\"}");
}

static void test_forms_globs(void **state)
{
	fx *f = *state;
	const char *p = fixture(f, "behave", 0755);
	const char *const exit_only[] = { "exit-*", NULL };
	const char *const signup_only[] = { "nothing", "sign?p", NULL };
	spec_add(f, "e", p, exit_only, "{\"tag\":\"exit-plugin\"}");
	spec_add(f, "s", p, signup_only, "{\"tag\":\"signup-plugin\"}");
	spec_add(f, "all", p, NULL, "{\"tag\":\"every-form\"}");
	expect_loaded(f, NULL);
	char *err = NULL;
	writer_job *a = job_new(f, "exit-survey", "{\"comment\":\"x\"}", NULL);
	writer_job *b = job_new(f, "signup", "{\"email\":\"a@b.example\"}", NULL);
	assert_int_equal(plugin_host_on_response(f->host, NULL, a, &err), 0);
	assert_int_equal(plugin_host_on_response(f->host, NULL, b, &err), 0);
	char *tags = tags_of(a);
	assert_string_equal(tags, "exit-plugin,every-form");
	free(tags);
	tags = tags_of(b);
	assert_string_equal(tags, "signup-plugin,every-form");
	free(tags);
}

static void test_reads_answers_and_meta(void **state)
{
	fx *f = *state;
	spec_add(f, "echo", fixture(f, "behave", 0755), NULL, "{\"echo\":true}");
	expect_loaded(f, NULL);
	writer_job *job = job_new(f, "exit-survey",
	                          "{\"reason\":\"Other\",\"topics\":[\"a\",\"c\"],\"score\":7,"
	                          "\"comment\":null}",
	                          "{\"page\":\"https://shop.example/cart\"}");
	char *err = NULL;
	assert_int_equal(plugin_host_on_response(f->host, NULL, job, &err), 0);
	char *tags = tags_of(job);
	assert_string_equal(tags, "form:exit-survey,answered:3/5,"
	                          "q:reason=single_choice/5,text:reason=Other,"
	                          "q:topics=multi_choice/6,text:topics=a; c,"
	                          "q:score=nps/3,text:score=7,"
	                          "page:https://shop.example/cart,id:set");
	free(tags);
}

static void test_score_and_offer(void **state)
{
	fx *f = *state;
	spec_add(f, "gift", fixture(f, "behave", 0755), NULL,
	         "{\"offer\":\"10% off\",\"score\":3,\"count\":true}");
	expect_loaded(f, NULL);
	open_store(f, false);
	char *err = NULL;
	for (int i = 0; i < 2; i++) {
		writer_job *job = job_new(f, "signup", "{\"email\":\"a@b.example\"}", NULL);
		assert_int_equal(plugin_host_on_response(f->host, f->st, job, &err), 0);
		assert_json(job->score, "{\"fixture\":3}");
		char *want = xasprintf("[{\"text\":\"10%% off\",\"code\":\"C-%d\"}]", i + 1);
		assert_json(job->offers, want);
		free(want);
	}
}

static void test_kv_rolls_back_with_savepoint(void **state)
{
	fx *f = *state;
	spec_add(f, "counter", fixture(f, "behave", 0755), NULL, "{\"count\":true}");
	expect_loaded(f, NULL);
	open_store(f, false);
	char *err = NULL, *value = NULL;
	size_t len = 0;

	/* Refused answer: the savepoint is rolled back and the plugin's writes with it. */
	assert_int_equal(store_begin(f->st, &err), 0);
	assert_int_equal(store_savepoint(f->st, &err), 0);
	writer_job *gone = job_new(f, "signup", "{\"email\":\"a@b.example\"}", NULL);
	assert_int_equal(plugin_host_on_response(f->host, f->st, gone, &err), 0);
	assert_int_equal(store_kv_get(f->st, "counter", "count", &value, &len, &err), 1);
	assert_string_equal(value, "1");
	free(value);
	store_rollback_savepoint(f->st);
	assert_int_equal(store_kv_get(f->st, "counter", "count", &value, &len, &err), 0);
	assert_int_equal(store_kv_get(f->st, "counter", "last", &value, &len, &err), 0);

	/* Kept answer: released and committed, the writes stay. */
	assert_int_equal(store_savepoint(f->st, &err), 0);
	writer_job *kept = job_new(f, "signup", "{\"email\":\"a@b.example\"}", NULL);
	assert_int_equal(plugin_host_on_response(f->host, f->st, kept, &err), 0);
	assert_int_equal(store_release(f->st, &err), 0);
	assert_int_equal(store_commit(f->st, &err), 0);
	assert_int_equal(store_kv_get(f->st, "counter", "count", &value, &len, &err), 1);
	assert_string_equal(value, "1");
	free(value);
	assert_int_equal(store_kv_get(f->st, "counter", "last", &value, &len, &err), 1);
	assert_string_equal(value, kept->id);
	free(value);
	/* The space belongs to the name in the config, not to the library. */
	assert_int_equal(store_kv_get(f->st, "behave", "count", &value, &len, &err), 0);
}

/* Records what the outbox was asked to queue. */
static char queued[256];

static int fake_enqueue(void *arg, store *st, writer_job *job, const char *plugin,
                        const char *destination_name, const char *type, const char *extra_json,
                        char **err)
{
	(void)st;
	if (strcmp(destination_name, "support") != 0) {
		*err = xasprintf("unknown destination \"%s\"", destination_name);
		return -1;
	}
	snprintf(queued, sizeof queued, "%s|%s|%s|%s|%s|%s", (const char *)arg, plugin, job->id,
	         destination_name, type, extra_json);
	return 0;
}

static void test_enqueue_delivery(void **state)
{
	fx *f = *state;
	const char *p = fixture(f, "behave", 0755);
	spec_add(f, "router", p, NULL, "{\"deliver\":\"support\"}");
	expect_loaded(f, NULL);
	writer_job *job = job_new(f, "signup", "{\"email\":\"a@b.example\"}", NULL);
	char *err = NULL;
	assert_int_equal(plugin_host_on_response(f->host, NULL, job, &err), -1);
	assert_string_equal(err, "plugin router: on_response: outbox not available");
	free(err);
	err = NULL;
	plugin_host_set_outbox(f->host, fake_enqueue, "ctx");
	assert_int_equal(plugin_host_on_response(f->host, NULL, job, &err), 0);
	char *want = xasprintf("ctx|router|%s|support|test|{\"x\":1}", job->id);
	assert_string_equal(queued, want);
	free(want);
}

static void test_enqueue_unknown_destination(void **state)
{
	fx *f = *state;
	spec_add(f, "router", fixture(f, "behave", 0755), NULL, "{\"deliver\":\"nowhere\"}");
	expect_loaded(f, NULL);
	plugin_host_set_outbox(f->host, fake_enqueue, "ctx");
	writer_job *job = job_new(f, "signup", "{\"email\":\"a@b.example\"}", NULL);
	char *err = NULL;
	assert_int_equal(plugin_host_on_response(f->host, NULL, job, &err), -1);
	assert_string_equal(err, "plugin router: on_response: unknown destination \"nowhere\"");
	free(err);
}

/* ---- Through the writer: the answer's transaction ---------------------------------------------- */

/* Collects finished jobs; stops the loop once `want` are back. */
typedef struct done_box {
	struct event_base *base;
	writer_job *jobs[8];
	size_t n, want;
	bool timed_out;
} done_box;

static void job_done(writer_job *job, void *arg)
{
	done_box *box = arg;
	box->jobs[box->n++] = job;
	if (box->n >= box->want)
		event_base_loopbreak(box->base);
}

static void job_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	done_box *box = arg;
	box->timed_out = true;
	event_base_loopbreak(box->base);
}

static void test_refusal_through_writer_stores_nothing(void **state)
{
	fx *f = *state;
	const char *p = fixture(f, "behave", 0755);
	/* The counter runs first and writes to its key-value space; the guard may then refuse. */
	spec_add(f, "counter", p, NULL, "{\"count\":true,\"tag\":\"counted\",\"score\":4}");
	spec_add(f, "guard", p, NULL,
	         "{\"reject\":{\"question\":\"comment\",\"word\":\"spam\",\"message\":\"no spam, please\"}}");
	expect_loaded(f, f->db);
	plugin_slot *slot = plugin_slot_new(f->host);
	f->host = NULL;
	done_box box = { .base = event_base_new(), .want = 2 };
	writer_hooks hooks = { .on_response = plugin_slot_on_response, .ctx = slot };
	char *err = NULL;
	writer *w = writer_start(f->db, DURABILITY_NORMAL, box.base, &hooks, &err);
	if (!w)
		fail_msg("writer_start: %s", err);
	writer_job *bad = job_new(f, "exit-survey", "{\"comment\":\"cheap spam\"}", NULL);
	writer_job *good = job_new(f, "exit-survey", "{\"comment\":\"fine\"}", NULL);
	bad->done = good->done = job_done;
	bad->done_arg = good->done_arg = &box;
	writer_submit(w, bad);
	writer_submit(w, good);
	struct event *timer = evtimer_new(box.base, job_timeout, &box);
	struct timeval tv = { 30, 0 };
	evtimer_add(timer, &tv);
	event_base_dispatch(box.base);
	event_free(timer);
	writer_stop(w);
	assert_false(box.timed_out);
	assert_int_equal(box.n, 2);

	assert_int_equal(bad->status, 422);
	assert_json(json_object_get(writer_job_body(bad), "fields"), "{\"comment\":\"no spam, please\"}");
	assert_int_equal(good->status, 201);
	assert_json(json_object_get(writer_job_body(good), "score"), "{\"fixture\":4}");

	/* Only the good answer is stored, and the counter's write for the refused one is gone. */
	open_store(f, true);
	int64_t n = -1;
	assert_int_equal(store_response_count(f->st, "exit-survey", &n, &err), 0);
	assert_int_equal(n, 1);
	char *value = NULL;
	size_t len = 0;
	assert_int_equal(store_kv_get(f->st, "counter", "count", &value, &len, &err), 1);
	assert_string_equal(value, "1");
	free(value);
	assert_int_equal(store_kv_get(f->st, "counter", "last", &value, &len, &err), 1);
	assert_string_equal(value, good->id);
	free(value);
	response_record *rows = NULL;
	size_t n_rows = 0;
	bool more = false;
	assert_int_equal(store_response_list(f->st, "exit-survey", STORE_TIME_MIN, STORE_TIME_MAX, 0, 10, &rows,
	                                     &n_rows, &more, &err), 0);
	assert_int_equal(n_rows, 1);
	assert_string_equal(rows[0].id, good->id);
	assert_json(rows[0].tags, "[\"counted\"]");
	assert_json(rows[0].score, "{\"fixture\":4}");
	response_record_clear(&rows[0]);
	free(rows);
	event_base_free(box.base);
	plugin_slot_free(slot);
}

/* ---- Routes and report queries ------------------------------------------------------------------ */

/* Stores a response of form with created_ms and score (JSON text or NULL). */
static void insert_response(fx *f, const char *form_id, const char *id, int64_t created_ms,
                            const char *answers, const char *score)
{
	response_record r = { .created_ms = created_ms };
	snprintf(r.id, sizeof r.id, "%s", id);
	snprintf(r.form, sizeof r.form, "%s", form_id);
	r.answers = json_loads(answers, 0, NULL);
	r.meta = json_object();
	r.score = score ? json_loads(score, 0, NULL) : NULL;
	r.tags = json_array();
	char *err = NULL;
	if (store_response_insert(f->st, &r, NULL, &err) != 0)
		fail_msg("insert: %s", err);
	response_record_clear(&r);
}


static void test_route_and_query(void **state)
{
	fx *f = *state;
	open_store(f, true);
	insert_response(f, "exit-survey", "r_1", 1000, "{\"score\":1}", "{\"fixture\":1.5}");
	insert_response(f, "exit-survey", "r_2", 2000, "{\"score\":2}", NULL);
	insert_response(f, "signup", "r_3", 3000, "{\"email\":\"a@b.example\"}", "{\"fixture\":9}");
	const char *const exit_only[] = { "exit-*", NULL };
	spec_add(f, "things", fixture(f, "behave", 0755), exit_only,
	         "{\"route\":\"/api/v1/forms/{form}/things\"}");
	expect_loaded(f, f->db);
	char *body = NULL;
	const char *const q[] = { "q", "a b c", "q", "second", NULL };
	assert_int_equal(get(f, "/api/v1/forms/exit-survey/things", q, &body), 200);
	assert_string_equal(body, "{\"form\":\"exit-survey\",\"q\":\"a b c\",\"responses\":2,"
	                          "\"ids\":[\"r_1\",\"r_2\"],\"fixture_sum\":1.5}");
	free(body);
	/* A form the plugin is not enabled for. */
	assert_int_equal(get(f, "/api/v1/forms/signup/things", NULL, &body), 404);
	assert_string_equal(body, "{\"error\":\"not_enabled\",\"message\":\"plugin things is not enabled "
	                          "for form \\\"signup\\\"\"}");
	free(body);
	/* Unknown forms, once the host knows the forms in service. */
	plugin_host_set_forms(f->host, f->reg);
	assert_int_equal(get(f, "/api/v1/forms/exit-nope/things", NULL, &body), 404);
	assert_string_equal(body, "{\"error\":\"unknown_form\",\"message\":\"there is no form \\\"exit-nope\\\"\"}");
	free(body);
	/* Routes that do not match. */
	int status = 0;
	assert_int_equal(route(f->host, "POST", "/api/v1/forms/exit-survey/things", NULL,
	                                   &status, &body), 0);
	assert_int_equal(get(f, "/api/v1/forms/exit-survey/things/more", NULL, &body), 0);
	assert_int_equal(get(f, "/api/v1/forms//things", NULL, &body), 0);
	assert_int_equal(get(f, "api/v1/forms/exit-survey/things", NULL, &body), 0);
	assert_null(body);
	/* The path arrives decoded once: a '%' left in it is a character, never decoded again. */
	assert_int_equal(get(f, "/api/v1/forms/exit%2Dsurvey/things", NULL, &body), 404);
	assert_non_null(strstr(body, "\"unknown_form\""));
	free(body);
}

/* The last line a plugin logged, as "LEVEL|PLUGIN|MESSAGE". */
static char logged[512];

static void capture_log(void *arg, int level, const char *plugin, const char *msg)
{
	(void)arg;
	snprintf(logged, sizeof logged, "%d|%s|%s", level, plugin ? plugin : "-", msg);
}

static void test_route_query_without_database(void **state)
{
	fx *f = *state;
	spec_add(f, "things", fixture(f, "behave", 0755), NULL, "{\"route\":\"/api/v1/forms/{form}/things\"}");
	expect_loaded(f, NULL);
	plugin_host_set_logger(f->host, capture_log, NULL);
	char *body = NULL;
	assert_int_equal(get(f, "/api/v1/forms/exit-survey/things", NULL, &body), 500);
	assert_string_equal(body, "{\"error\":\"plugin_failed\",\"message\":\"plugin things: query_open: no "
	                          "database\"}");
	free(body);
	assert_string_equal(logged, "0|things|on_route: GET /api/v1/forms/exit-survey/things: query_open: no database");
}

static void test_route_clash_and_bad_pattern(void **state)
{
	fx *f = *state;
	const char *p = fixture(f, "behave", 0755);
	spec_add(f, "one", p, NULL, "{\"route\":\"/api/v1/x/{form}\"}");
	spec_add(f, "two", p, NULL, "{\"route\":\"/api/v1/x/{form}\"}");
	spec_add(f, "three", p, NULL, "{\"route\":\"/api/v1/{Form}\"}");
	spec_add(f, "four", p, NULL, "{\"route\":\"/api//x\"}");
	assert_int_equal(load(f, NULL), -1);
	assert_int_equal(f->diags.n, 3);
	assert_string_equal(f->diags.items[0],
	                    "earshot.yaml:24:5: plugin two: route GET /api/v1/x/{form} is already served by plugin one");
	assert_string_equal(f->diags.items[1], "earshot.yaml:28:5: plugin three: add_route: malformed pattern "
	                                       "\"/api/v1/{Form}\" (want /segment/{name}/…)");
	assert_string_equal(f->diags.items[2], "earshot.yaml:32:5: plugin four: add_route: malformed pattern "
	                                       "\"/api//x\" (want /segment/{name}/…)");
}

/* ---- Reload slot -------------------------------------------------------------------------------- */

static void test_slot_swap_keeps_old_host_until_released(void **state)
{
	fx *f = *state;
	const char *p = fixture(f, "behave", 0755);
	spec_add(f, "tagger", p, NULL, "{\"tag\":\"old\"}");
	expect_loaded(f, NULL);
	plugin_slot *slot = plugin_slot_new(f->host);
	f->host = NULL;

	/* The writer is inside the old host when a reload swaps a new one in. */
	plugin_host *inside = plugin_slot_acquire(slot);
	assert_non_null(inside);
	json_decref(f->cfg.plugins[0].config);
	f->cfg.plugins[0].config = json_loads("{\"tag\":\"new\"}", 0, NULL);
	plugin_host *next = NULL;
	assert_int_equal(plugin_host_load(&f->cfg, NULL, NULL, &next, &f->diags), 0);
	plugin_slot_swap(slot, next);

	char *err = NULL;
	writer_job *a = job_new(f, "signup", "{\"email\":\"a@b.example\"}", NULL);
	assert_int_equal(plugin_host_on_response(inside, NULL, a, &err), 0);
	plugin_host_free(inside); /* the old host's fini runs here */
	writer_job *b = job_new(f, "signup", "{\"email\":\"a@b.example\"}", NULL);
	assert_int_equal(plugin_slot_on_response(slot, NULL, b, &err), 0);
	assert_json(a->tags, "[\"old\"]");
	assert_json(b->tags, "[\"new\"]");

	/* An empty slot serves nothing. */
	plugin_slot_swap(slot, NULL);
	writer_job *c = job_new(f, "signup", "{\"email\":\"a@b.example\"}", NULL);
	assert_int_equal(plugin_slot_on_response(slot, NULL, c, &err), 0);
	assert_json(c->tags, "[]");
	int status = 0;
	char *body = NULL;
	plugin_http_request in = { .method = "GET", .path = "/x" };
	assert_int_equal(plugin_slot_route(slot, &in, &status, &body), 0);
	plugin_slot_free(slot);
}

/* ---- The nps plugin through the real host ------------------------------------------------------ */

static void test_nps_plugin(void **state)
{
	fx *f = *state;
	char nps_path[256];
	snprintf(nps_path, sizeof nps_path, "%s/nps.so", f->dir);
	copy_file(NPS_PLUGIN, nps_path, 0755);
	spec_add(f, "nps", nps_path, NULL, NULL);
	open_store(f, true);
	expect_loaded(f, f->db);
	static const int scores[] = { 10, 9, 9, 8, 7, 6, 3, 0, 10, 10, 5, 9 };
	char *err = NULL;
	for (size_t i = 0; i < sizeof scores / sizeof *scores; i++) {
		char answers[64];
		snprintf(answers, sizeof answers, "{\"score\":%d}", scores[i]);
		writer_job *job = job_new(f, "exit-survey", answers, NULL);
		assert_int_equal(plugin_host_on_response(f->host, f->st, job, &err), 0);
		const char *cat = scores[i] >= 9 ? "promoter" : scores[i] >= 7 ? "passive" : "detractor";
		char *want = xasprintf("{\"nps\":%d,\"category\":\"%s\"}", scores[i], cat);
		assert_json(job->score, want);
		free(want);
		assert_string_equal(json_string_value(json_array_get(job->tags, 0)), cat);
		/* 2026-11-22 (Sunday) for the first half, 2026-11-23 (Monday) for the second. */
		int64_t day = i < 6 ? 1795305600000 : 1795392000000;
		response_record r = { .created_ms = day + 3600000 * (int64_t)i };
		snprintf(r.id, sizeof r.id, "%s", job->id);
		snprintf(r.form, sizeof r.form, "exit-survey");
		r.answers = job->answers;
		r.meta = job->meta;
		r.score = job->score;
		r.tags = job->tags;
		assert_int_equal(store_response_insert(f->st, &r, NULL, &err), 0);
	}
	/* A form without an nps answer gets no score. */
	writer_job *none = job_new(f, "signup", "{\"email\":\"a@b.example\"}", NULL);
	assert_int_equal(plugin_host_on_response(f->host, f->st, none, &err), 0);
	assert_null(none->score);

	char *body = NULL;
	assert_int_equal(get(f, "/api/v1/forms/exit-survey/nps", (const char *const[]){ "interval", "week", NULL }, &body), 200);
	assert_string_equal(body, "{\"nps\":16.7,\"responses\":12,\"promoters\":6,\"passives\":2,"
	                          "\"detractors\":4,\"margin_of_error\":50.8,\"series\":["
	                          "{\"start\":\"2026-11-16\",\"nps\":33.3,\"responses\":6},"
	                          "{\"start\":\"2026-11-23\",\"nps\":0.0,\"responses\":6}]}");
	free(body);
	assert_int_equal(get(f, "/api/v1/forms/exit-survey/nps", (const char *const[]){ "interval", "fortnight", NULL }, &body), 400);
	assert_string_equal(body, "{\"error\":\"invalid_parameter\",\"message\":\"interval must be day, week "
	                          "or month\"}");
	free(body);
}

static void test_nps_config_refused(void **state)
{
	fx *f = *state;
	spec_add(f, "nps", NPS_PLUGIN, NULL, "{\"question\": 5}");
	spec_add(f, "nps2", NPS_PLUGIN, NULL, "{\"questions\": \"score\"}");
	assert_int_equal(load(f, NULL), -1);
	assert_int_equal(f->diags.n, 2);
	assert_string_equal(f->diags.items[0],
	                    "earshot.yaml:20:5: plugin nps: \"question\" must be a string, not a whole number");
	assert_string_equal(f->diags.items[1],
	                    "earshot.yaml:24:5: plugin nps2: unknown setting \"questions\" (known: question)");
}

/* ---- The example plugin, built out of tree with pkg-config ------------------------------------- */

static void test_example_builds_out_of_tree(void **state)
{
	fx *f = *state;
	char pc[256], out[256], cmd[2048];
	snprintf(pc, sizeof pc, "%s/earshot-plugin.pc", f->dir);
	char *pc_text = xasprintf("includedir=%s\nName: earshot-plugin\nDescription: test\nVersion: 0\n"
	                          "Cflags: -I${includedir}\n",
	                          PUBLIC_INCLUDE_DIR);
	test_write_file(pc, pc_text);
	free(pc_text);
	snprintf(out, sizeof out, "%s/blocklist.so", f->dir);
	snprintf(cmd, sizeof cmd,
	         "PKG_CONFIG_PATH='%s' PKG_CONFIG='%s' CC='%s' CFLAGS='-Wall -Wextra -Werror' "
	         "make -s -C '%s' OUT='%s' >'%s/build.log' 2>&1",
	         f->dir, BUILD_PKG_CONFIG, BUILD_CC, EXAMPLE_DIR, out, f->dir);
	if (system(cmd) != 0) {
		char log[256];
		snprintf(log, sizeof log, "cat '%s/build.log' >&2", f->dir);
		if (system(log) != 0)
			fprintf(stderr, "(no build log)\n");
		fail_msg("building the example failed: %s", cmd);
	}
	spec_add(f, "blocklist", out, NULL, "{\"domains\":[\"mailinator.com\"],\"message\":\"use a real address\"}");
	expect_loaded(f, NULL);
	plugin_host_set_logger(f->host, capture_log, NULL);
	char *err = NULL;
	writer_job *ok = job_new(f, "signup", "{\"email\":\"ann@example.com\"}", NULL);
	assert_int_equal(plugin_host_on_response(f->host, NULL, ok, &err), 0);
	writer_job *sub = job_new(f, "signup", "{\"email\":\"bob@eu.mailinator.com\"}", NULL);
	assert_int_equal(plugin_host_on_response(f->host, NULL, sub, &err), 1);
	assert_json(sub->reject, "{\"email\":\"use a real address\"}");
	assert_string_equal(logged, "2|blocklist|refused an answer to signup from a blocked domain");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_shared_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_entry_point, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_major, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_minor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_descriptor_too_small, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_required_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_refuses_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_accepts_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writable_by_others, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_problem_collected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_plugins, setup, teardown),
		cmocka_unit_test(test_descriptor_older_minor_loads),
		cmocka_unit_test_setup_teardown(test_abi_v1_fixture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_version_and_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_config_key_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_reads_kv_and_questions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handles_name_their_plugin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reject_stops_and_names_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugin_failure_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listed_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forms_globs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reads_answers_and_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_score_and_offer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kv_rolls_back_with_savepoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_delivery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_unknown_destination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal_through_writer_stores_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_and_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_query_without_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_clash_and_bad_pattern, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slot_swap_keeps_old_host_until_released, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nps_plugin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nps_config_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example_builds_out_of_tree, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
