/* test_support: the scratch-directory fixture and file writer shared by the unit tests that keep
 * files in a temporary directory. Header-only: static functions. Include after <cmocka.h>. */
#ifndef EARSHOT_TEST_SUPPORT_H
#define EARSHOT_TEST_SUPPORT_H

#include <dirent.h>
#include <stdio.h>
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

#endif
