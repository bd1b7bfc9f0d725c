/* replay: the main() that fuzz targets get in an ordinary build (without --enable-fuzzing). It runs
 * LLVMFuzzerTestOneInput once over every file of the target's seed corpus, or over the files and
 * directories named on the command line, and reports one TAP line per input. A crash, a sanitizer
 * report or a failed check inside the target aborts the program, which the TAP driver reports. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

#ifndef FUZZ_CORPUS_DIR
#error "FUZZ_CORPUS_DIR must name the target's seed corpus directory"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned n_run, n_failed;

/* Reads the whole of path into a malloc'd buffer (caller frees) and its size into *size.
 * Returns NULL with errno set when the file cannot be read. */
static uint8_t *read_whole(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	uint8_t *buf = xmalloc(cap);
	size_t got;
	while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	*size = len;
	return buf;
}

/* Runs the target over one file and prints its TAP line. */
static void replay_file(const char *path)
{
	size_t size = 0;
	uint8_t *data = read_whole(path, &size);
	n_run++;
	if (!data) {
		n_failed++;
		printf("not ok %u - %s: %s\n", n_run, path, strerror(errno));
		return;
	}
	/* An exact-size copy, so that ASan sees a read past the end of the input. */
	uint8_t *exact = xmalloc(size ? size : 1);
	memcpy(exact, data, size);
	free(data);
	LLVMFuzzerTestOneInput(exact, size);
	free(exact);
	printf("ok %u - %s (%zu bytes)\n", n_run, path, size);
	fflush(stdout);
}

/* qsort comparison of two C strings. */
static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of dir, in name order. Returns the number of files, or -1 when the
 * directory cannot be read. */
static int replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			names = xrealloc(names, cap * sizeof *names);
		}
		names[n++] = xasprintf("%s/%s", dir, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_names);
	int files = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			replay_file(names[i]);
			files++;
		}
		free(names[i]);
	}
	free(names);
	return files;
}

/* Replays one argument: a directory's files, or a single file. */
static void replay_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (replay_dir(path) <= 0) {
			n_run++;
			n_failed++;
			printf("not ok %u - %s: no inputs to replay\n", n_run, path);
		}
		return;
	}
	replay_file(path);
}

/* Replays the files and directories named on the command line, or the built-in seed corpus; exits
 * 1 when an input could not be read (a failed check inside the target aborts instead). */
int main(int argc, char **argv)
{
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			replay_path(argv[i]);
	} else {
		replay_path(FUZZ_CORPUS_DIR);
	}
	printf("1..%u\n", n_run);
	return n_failed ? 1 : 0;
}
