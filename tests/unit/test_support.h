/* test_support: the scratch-directory fixture shared by the unit tests that keep a database in a
 * temporary directory (test_store, test_outbox, test_writer). Header-only: static functions. */
#ifndef EARSHOT_TEST_SUPPORT_H
#define EARSHOT_TEST_SUPPORT_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
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

#endif
