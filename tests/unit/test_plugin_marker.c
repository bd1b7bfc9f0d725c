/* Unit tests for the plugin marker: records written around a hook call and cleared after it, the
 * in-memory record the watchdog reads, records left by a process that died, and the crash policy
 * (refuse, on_crash: disable, a changed or removed plugin, a marker held by a running server). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "plugin_marker.h"
#include "util.h"
#include "test_support.h"

typedef struct fx {
	char dir[128];
	char db[256];
	char so[256];
	earshot_config cfg;
	plugin_spec spec;
	diag_list diags;
} fx;

static int setup(void **state)
{
	fx *f = xcalloc(1, sizeof *f);
	if (test_temp_dir(f->dir, sizeof f->dir, "marker") != 0)
		return -1;
	snprintf(f->db, sizeof f->db, "%s/data.db", f->dir);
	snprintf(f->so, sizeof f->so, "%s/p.so", f->dir);
	test_write_file(f->so, "not really a library");
	f->spec.name = "brittle";
	f->spec.path = f->so;
	f->spec.where = "earshot.yaml:9:5";
	f->cfg.database = f->db;
	f->cfg.plugins = &f->spec;
	f->cfg.n_plugins = 1;
	diag_init(&f->diags);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	plugin_marker_close();
	free(f->spec.disabled_why);
	diag_free(&f->diags);
	test_remove_dir(f->dir);
	free(f);
	return 0;
}

/* Leaves a marker as a process dying inside brittle's on_response would. */
static void crash_inside(fx *f)
{
	char *marker = plugin_marker_path(&f->cfg), *err = NULL;
	assert_int_equal(plugin_marker_open(marker, &err), 0);
	char ident[64];
	plugin_file_ident(f->so, ident);
	plugin_marker_enter(MARKER_WRITER, "brittle", f->so, ident, "on_response");
	/* The process dies here: the lock goes with it, the record stays. */
	plugin_marker_enter(MARKER_LOOP, "other", "/x.so", "", "on_route");
	plugin_marker_leave(MARKER_LOOP);
	char *copy = xasprintf("%s.copy", marker);
	char *cmd = xasprintf("cp '%s' '%s'", marker, copy);
	assert_int_equal(system(cmd), 0);
	plugin_marker_leave(MARKER_WRITER);
	plugin_marker_close();
	assert_int_equal(rename(copy, marker), 0);
	free(cmd);
	free(copy);
	free(marker);
}

static void test_enter_leave_and_current(void **state)
{
	fx *f = *state;
	char *marker = plugin_marker_path(&f->cfg), *err = NULL;
	assert_int_equal(plugin_marker_open(marker, &err), 0);
	marker_record r;
	assert_false(plugin_marker_current(MARKER_WRITER, &r));
	plugin_marker_enter(MARKER_WRITER, "nps", "/p/nps.so", "1:2:3", "on_response");
	assert_true(plugin_marker_current(MARKER_WRITER, &r));
	assert_string_equal(r.plugin, "nps");
	assert_string_equal(r.hook, "on_response");
	assert_false(plugin_marker_current(MARKER_LOOP, &r));
	plugin_marker_leave(MARKER_WRITER);
	assert_false(plugin_marker_current(MARKER_WRITER, &r));
	/* A second server on the same database is refused the marker, and leaves it as it was. */
	plugin_marker_enter(MARKER_LOOP, "nps", "/p/nps.so", "1:2:3", "on_route");
	int other = open(marker, O_RDONLY);
	assert_int_not_equal(flock(other, LOCK_SH | LOCK_NB), 0);
	close(other);
	char *second = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		/* Another process: the lock is the first one's. */
		int rc = plugin_marker_open(marker, &second);
		_exit(rc == -1 && second && strstr(second, "another earshot serve is running with this database or state_dir") ? 0 : 1);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(plugin_marker_current(MARKER_LOOP, &r));
	plugin_marker_leave(MARKER_LOOP);
	plugin_marker_close();
	assert_int_not_equal(access(marker, F_OK), 0); /* removed at a clean close */
	free(marker);
	f->cfg.database = ":memory:";
	assert_null(plugin_marker_path(&f->cfg));
}

/* With a state_dir (set, or the config's directory for a PostgreSQL database) both files are kept
 * there under fixed names; without one, beside the SQLite file. */
static void test_paths(void **state)
{
	fx *f = *state;
	char *p = plugin_marker_path(&f->cfg), *want = xasprintf("%s.plugin-hook", f->db);
	assert_string_equal(p, want);
	free(p);
	free(want);
	f->cfg.database = "postgresql://earshot@127.0.0.1/earshot";
	assert_null(plugin_crash_path(&f->cfg));
	f->cfg.state_dir = f->dir;
	p = plugin_marker_path(&f->cfg);
	want = xasprintf("%s/earshot.plugin-hook", f->dir);
	assert_string_equal(p, want);
	free(p);
	free(want);
	p = plugin_crash_path(&f->cfg);
	want = xasprintf("%s/earshot.plugin-crash", f->dir);
	assert_string_equal(p, want);
	free(p);
	free(want);
	f->cfg.state_dir = "/var/lib/earshot/";
	p = plugin_marker_path(&f->cfg);
	assert_string_equal(p, "/var/lib/earshot/earshot.plugin-hook");
	free(p);
	f->cfg.state_dir = NULL;
}

/* The whole policy with a PostgreSQL database: the record is the node's, in its state_dir. */
static void test_policy_refuses_with_state_dir(void **state)
{
	fx *f = *state;
	f->cfg.database = "postgresql://earshot@127.0.0.1/earshot";
	f->cfg.state_dir = f->dir;
	crash_inside(f);
	char *notes = NULL;
	assert_int_equal(plugin_crash_policy(&f->cfg, CRASH_AT_START, &f->diags, &notes), 1);
	free(notes);
	char *crash = xasprintf("%s/earshot.plugin-crash", f->dir);
	assert_int_equal(access(crash, F_OK), 0);
	free(crash);
	assert_int_equal(plugin_crash_policy(&f->cfg, CRASH_AT_CHECK, &f->diags, &notes), 1);
	free(notes);
	f->cfg.state_dir = NULL;
}

static void test_left_record_is_read(void **state)
{
	fx *f = *state;
	crash_inside(f);
	char *marker = plugin_marker_path(&f->cfg);
	marker_record recs[MARKER_SLOTS];
	assert_int_equal(plugin_marker_read(marker, recs), 1);
	assert_string_equal(recs[0].plugin, "brittle");
	assert_string_equal(recs[0].hook, "on_response");
	assert_string_equal(recs[0].path, f->so);
	assert_true(recs[0].since_ms > 0);
	free(marker);
}

static void test_policy_refuses(void **state)
{
	fx *f = *state;
	crash_inside(f);
	char *notes = NULL;
	/* check reports it and leaves the files as they are. */
	assert_int_equal(plugin_crash_policy(&f->cfg, CRASH_AT_CHECK, &f->diags, &notes), 1);
	assert_non_null(strstr(f->diags.items[0], "earshot.yaml:9:5: plugin brittle crashed in on_response at "));
	assert_non_null(strstr(f->diags.items[0], "set on_crash: disable to start without it"));
	free(notes);
	/* start reports it too, keeping the record as the crash file: a second start still refuses. */
	assert_int_equal(plugin_crash_policy(&f->cfg, CRASH_AT_START, &f->diags, &notes), 1);
	free(notes);
	assert_int_equal(plugin_crash_policy(&f->cfg, CRASH_AT_START, &f->diags, &notes), 1);
	free(notes);
	assert_int_equal(plugin_crash_policy(&f->cfg, CRASH_AT_RELOAD, &f->diags, &notes), 1);
	free(notes);
	assert_false(f->spec.disabled);
}

static void test_policy_disables(void **state)
{
	fx *f = *state;
	crash_inside(f);
	f->spec.on_crash_disable = true;
	char *notes = NULL;
	assert_int_equal(plugin_crash_policy(&f->cfg, CRASH_AT_START, &f->diags, &notes), 0);
	assert_int_equal(f->diags.n, 0);
	assert_true(f->spec.disabled);
	assert_non_null(strstr(f->spec.disabled_why, "plugin brittle disabled: it crashed in on_response at "));
	assert_string_equal(notes, f->spec.disabled_why);
	free(notes);
}

static void test_policy_forgets_changed_or_removed_plugin(void **state)
{
	fx *f = *state;
	crash_inside(f);
	/* A rebuilt file (another size) runs again; the record is dropped at start. */
	test_write_file(f->so, "a rebuilt library, longer than before");
	char *notes = NULL;
	assert_int_equal(plugin_crash_policy(&f->cfg, CRASH_AT_START, &f->diags, &notes), 0);
	assert_false(f->spec.disabled);
	assert_non_null(strstr(notes, "plugin brittle crashed in on_response at "));
	assert_non_null(strstr(notes, "its file has changed since, so it runs again"));
	free(notes);
	assert_int_equal(plugin_crash_policy(&f->cfg, CRASH_AT_START, &f->diags, &notes), 0);
	assert_null(notes);
	/* A plugin no longer configured. */
	crash_inside(f);
	f->cfg.n_plugins = 0;
	assert_int_equal(plugin_crash_policy(&f->cfg, CRASH_AT_START, &f->diags, &notes), 0);
	assert_non_null(strstr(notes, "it is no longer configured"));
	free(notes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enter_leave_and_current, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_left_record_is_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_refuses_with_state_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_disables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_forgets_changed_or_removed_plugin, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
