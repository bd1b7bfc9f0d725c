/* plugin_marker: the hook call in progress per thread, in memory and in the marker file, and the crash
 * policy applied to what a previous process left there. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin_marker.h"
#include "util.h"

/* Bytes of one record in the file: "plugin\thook\tpath\tident\tsince\n", NUL-padded; a record whose
 * first byte is NUL is empty. */
#define RECORD_BYTES 768

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static marker_record current[MARKER_SLOTS]; /* under lock */
static bool active[MARKER_SLOTS];           /* under lock */
static int fd = -1;                         /* the marker file, or -1 */
static char *fd_path;                       /* its path (owned) */
/* The file's records, mapped shared: a hook call costs two stores to memory instead of two writes,
 * and what is stored is in the file the moment the process dies, however it dies. Under lock. */
static char *records;

/* "<state_dir>/earshot<suffix>", else "<database><suffix>"; NULL for an in-memory database or a
 * database server (a URL) without a state_dir. */
static char *node_file(const earshot_config *cfg, const char *suffix)
{
	if (cfg->state_dir) {
		const char *dir = *cfg->state_dir ? cfg->state_dir : ".";
		return xasprintf("%s%searshot%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", suffix);
	}
	const char *database = cfg->database;
	if (!database || !*database || strcmp(database, ":memory:") == 0 || strstr(database, "://"))
		return NULL;
	return xasprintf("%s%s", database, suffix);
}

char *plugin_marker_path(const earshot_config *cfg)
{
	return node_file(cfg, ".plugin-hook");
}

char *plugin_crash_path(const earshot_config *cfg)
{
	return node_file(cfg, ".plugin-crash");
}

void plugin_file_ident(const char *path, char ident[64])
{
	struct stat st;
	if (!path || stat(path, &st) != 0) {
		ident[0] = '\0';
		return;
	}
	snprintf(ident, 64, "%lld:%lld.%09ld:%llu", (long long)st.st_size, (long long)st.st_mtim.tv_sec,
	         st.st_mtim.tv_nsec, (unsigned long long)st.st_ino);
}

/* Unmaps and closes the marker file, if open. Under lock. */
static void unmap_records(void)
{
	if (records)
		munmap(records, (size_t)MARKER_SLOTS * RECORD_BYTES);
	records = NULL;
	if (fd >= 0)
		close(fd);
	fd = -1;
}

int plugin_marker_open(const char *path, char **err)
{
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f < 0) {
		*err = xasprintf("%s: cannot open the plugin marker file: %s", path, strerror(errno));
		return -1;
	}
	/* Held while the server runs: `earshot check` then knows the records are live, not a crash. */
	if (flock(f, LOCK_EX | LOCK_NB) != 0) {
		*err = xasprintf("%s: another earshot serve is running with this database or state_dir", path);
		close(f);
		return -1;
	}
	/* Emptied, then sized to its records (all NUL: empty). */
	if (ftruncate(f, 0) != 0 || ftruncate(f, (off_t)MARKER_SLOTS * RECORD_BYTES) != 0) {
		*err = xasprintf("%s: cannot empty the plugin marker file: %s", path, strerror(errno));
		close(f);
		return -1;
	}
	void *map = mmap(NULL, (size_t)MARKER_SLOTS * RECORD_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	if (map == MAP_FAILED) {
		*err = xasprintf("%s: cannot map the plugin marker file: %s", path, strerror(errno));
		close(f);
		return -1;
	}
	pthread_mutex_lock(&lock);
	unmap_records();
	fd = f;
	records = map;
	free(fd_path);
	fd_path = xstrdup(path);
	pthread_mutex_unlock(&lock);
	return 0;
}

void plugin_marker_close(void)
{
	pthread_mutex_lock(&lock);
	if (fd >= 0)
		unlink(fd_path);
	unmap_records();
	free(fd_path);
	fd_path = NULL;
	pthread_mutex_unlock(&lock);
}

/* Copies src into dst (size n, cut to fit) without tabs or newlines, which separate the file's fields. */
static void copy_field(char *dst, size_t n, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < n; i++)
		dst[i] = src[i] == '\t' || src[i] == '\n' ? ' ' : src[i];
	dst[i] = '\0';
}

void plugin_marker_enter(marker_slot slot, const char *plugin, const char *path, const char *ident,
                         const char *hook)
{
	marker_record r;
	copy_field(r.plugin, sizeof r.plugin, plugin);
	copy_field(r.hook, sizeof r.hook, hook);
	copy_field(r.path, sizeof r.path, path);
	copy_field(r.ident, sizeof r.ident, ident);
	r.since_ms = now_ms();
	char line[RECORD_BYTES];
	int n = snprintf(line, sizeof line, "%s\t%s\t%s\t%s\t%" PRId64 "\n", r.plugin, r.hook, r.path, r.ident,
	                 r.since_ms);
	pthread_mutex_lock(&lock);
	current[slot] = r;
	active[slot] = true;
	/* Best effort: the hook runs either way. The NUL after the line ends the record. */
	if (records && n > 0 && n < (int)sizeof line)
		memcpy(records + (size_t)slot * RECORD_BYTES, line, (size_t)n + 1);
	pthread_mutex_unlock(&lock);
}

void plugin_marker_leave(marker_slot slot)
{
	pthread_mutex_lock(&lock);
	active[slot] = false;
	if (records)
		records[(size_t)slot * RECORD_BYTES] = '\0';
	pthread_mutex_unlock(&lock);
}

bool plugin_marker_current(marker_slot slot, marker_record *out)
{
	pthread_mutex_lock(&lock);
	bool on = active[slot];
	if (on)
		*out = current[slot];
	pthread_mutex_unlock(&lock);
	return on;
}

/* Parses one record line into r. Returns true when it has its five fields. */
static bool parse_record(const char *line, marker_record *r)
{
	char *copy = xstrdup(line), *save = NULL;
	char *f[5] = { 0 };
	char *p = copy;
	for (int i = 0; i < 5; i++) {
		f[i] = p;
		p = i < 4 ? strchr(p, '\t') : strchr(p, '\n');
		if (!p && i < 4) {
			free(copy);
			return false;
		}
		if (p)
			*p++ = '\0';
	}
	(void)save;
	memset(r, 0, sizeof *r);
	copy_field(r->plugin, sizeof r->plugin, f[0]);
	copy_field(r->hook, sizeof r->hook, f[1]);
	copy_field(r->path, sizeof r->path, f[2]);
	copy_field(r->ident, sizeof r->ident, f[3]);
	r->since_ms = strtoll(f[4], NULL, 10);
	free(copy);
	return r->plugin[0] != '\0';
}

size_t plugin_marker_read(const char *path, marker_record *out)
{
	int f = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (f < 0)
		return 0;
	if (flock(f, LOCK_SH | LOCK_NB) != 0) {
		/* A running server's own marker: hooks in progress, not a crash. */
		close(f);
		return 0;
	}
	size_t n = 0;
	for (int slot = 0; slot < MARKER_SLOTS; slot++) {
		char buf[RECORD_BYTES + 1];
		ssize_t got = pread(f, buf, RECORD_BYTES, (off_t)slot * RECORD_BYTES);
		if (got <= 0 || buf[0] == '\0')
			continue;
		buf[got] = '\0';
		if (parse_record(buf, &out[n]))
			n++;
	}
	close(f);
	return n;
}

/* Appends a line to *notes. */
static void note(char **notes, const char *line)
{
	char *next = *notes ? xasprintf("%s\n%s", *notes, line) : xstrdup(line);
	free(*notes);
	*notes = next;
}

size_t plugin_crash_policy(earshot_config *cfg, crash_when when, diag_list *diags, char **notes)
{
	bool move = when == CRASH_AT_START;
	*notes = NULL;
	char *marker = plugin_marker_path(cfg), *crash = plugin_crash_path(cfg);
	size_t problems = 0;
	if (!marker) {
		free(crash);
		return 0;
	}
	marker_record recs[2 * MARKER_SLOTS];
	size_t n = when == CRASH_AT_RELOAD ? 0 : plugin_marker_read(marker, recs);
	if (n > 0 && move) {
		/* A new crash replaces whatever an older one left. */
		if (rename(marker, crash) != 0)
			note(notes, "the plugin marker file could not be kept as the crash record");
	} else if (n == 0 || !move) {
		n += plugin_marker_read(crash, recs + n);
	}
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		const marker_record *r = &recs[i];
		char at[32];
		iso8601_format_ms(r->since_ms, at);
		plugin_spec *spec = NULL;
		for (size_t j = 0; j < cfg->n_plugins && !spec; j++)
			if (cfg->plugins[j].name && strcmp(cfg->plugins[j].name, r->plugin) == 0)
				spec = &cfg->plugins[j];
		char ident[64];
		plugin_file_ident(spec ? spec->path : NULL, ident);
		char *line = NULL;
		if (!spec || !spec->path || strcmp(spec->path, r->path) != 0 || strcmp(ident, r->ident) != 0) {
			line = xasprintf("plugin %s crashed in %s at %s; %s, so it runs again", r->plugin, r->hook, at,
			                 spec ? "its file has changed since" : "it is no longer configured");
			note(notes, line);
		} else if (spec->on_crash_disable) {
			kept++;
			spec->disabled = true;
			free(spec->disabled_why);
			spec->disabled_why = xasprintf("plugin %s disabled: it crashed in %s at %s (on_crash: disable); "
			                               "it runs again once its file changes", r->plugin, r->hook, at);
			note(notes, spec->disabled_why);
		} else {
			kept++;
			problems++;
			diag_add(diags, spec->where ? spec->where : spec->path, 0, 0,
			         "plugin %s crashed in %s at %s (the server stopped inside it): fix or replace %s, remove "
			         "the plugin, or set on_crash: disable to start without it", r->plugin, r->hook, at,
			         spec->path);
		}
		free(line);
	}
	if (move && kept == 0)
		unlink(crash);
	free(marker);
	free(crash);
	return problems;
}
