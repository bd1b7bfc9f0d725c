/* test_support: the scratch-directory fixture and file writer shared by the unit tests that keep
 * files in a temporary directory. Header-only: static functions. Include after <cmocka.h>. */
#ifndef EARSHOT_TEST_SUPPORT_H
#define EARSHOT_TEST_SUPPORT_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates a fresh directory /tmp/earshot-test-NAME-XXXXXX and writes its path into dir (size
 * bytes). Returns 0, or -1 when it cannot be made. */
static inline int test_temp_dir(char *dir, size_t size, const char *name)
{
	snprintf(dir, size, "/tmp/earshot-test-%s-XXXXXX", name);
	return mkdtemp(dir) ? 0 : -1;
}

/* Removes the files directly inside dir (databases, WAL files, outputs), then dir itself. */
static inline void test_remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char p[512];
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* Writes text to path (mode 0644 whatever the umask), failing the test when it cannot. */
static inline void test_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	chmod(path, 0644);
}

/* Writes text to dir/name, as test_write_file. */
static inline void test_write_file_in(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	test_write_file(path, text);
}

/* A scratch directory and a database path inside it: the fixture of tests that open their own store. */
typedef struct test_db_fixture {
	char dir[64];
	char path[128];
} test_db_fixture;

/* cmocka setup body: a fresh directory for test NAME with DB_NAME inside it as *state (a malloc'd
 * test_db_fixture that test_db_teardown frees). Returns 0, or -1 when the directory cannot be made. */
static inline int test_db_setup(void **state, const char *name, const char *db_name)
{
	test_db_fixture *fx = calloc(1, sizeof *fx);
	if (!fx || test_temp_dir(fx->dir, sizeof fx->dir, name) != 0) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof fx->path, "%s/%s", fx->dir, db_name);
	*state = fx;
	return 0;
}

/* cmocka teardown of test_db_setup: removes the directory and frees the fixture. */
static inline int test_db_teardown(void **state)
{
	test_db_fixture *fx = *state;
	test_remove_dir(fx->dir);
	free(fx);
	return 0;
}

#endif
