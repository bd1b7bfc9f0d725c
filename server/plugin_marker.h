/* plugin_marker: which plugin hook is running right now, kept in memory (the writer watchdog of
 * GET /healthz reads it) and in a small file of this node's own — in state_dir, else beside a SQLite
 * database — (so that the next start can tell a crash inside a plugin from any other, and apply
 * plugins[].on_crash). A crash is a property of the process that died, so with a database shared by
 * several nodes the record stays on the node.
 *
 * The file holds one fixed-size record per thread that runs hooks (the writer: on_response; the
 * event loop: init, on_route, fini). A record is written just before a hook is called and cleared
 * just after it returns, with pwrite(2): two system calls per hook, no fsync (a crash of the process
 * leaves the page cache, and so the record, intact). A record still present at the next start names
 * the plugin, the hook, its file and when the call began. */
#ifndef EARSHOT_PLUGIN_MARKER_H
#define EARSHOT_PLUGIN_MARKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "diag.h"

/* The hook-running threads, each with its own record. */
typedef enum { MARKER_WRITER = 0, MARKER_LOOP = 1, MARKER_SLOTS = 2 } marker_slot;

/* One hook call as recorded. */
typedef struct marker_record {
	char plugin[64];         /* the instance name (config `name:`) */
	char hook[16];           /* "init", "on_response", "on_route", "fini" */
	char path[512];          /* the plugin's file as configured */
	char ident[64];          /* the file's identity when loaded: "size:mtime-ns:inode" */
	int64_t since_ms;        /* when the call began */
} marker_record;

/* The marker file of cfg's server: "<state_dir>/earshot.plugin-hook" when cfg has a state_dir, else
 * "<database>.plugin-hook"; malloc'd, or NULL for a ":memory:" database without a state_dir. */
char *plugin_marker_path(const earshot_config *cfg);
/* The file a crash record is kept in once found: "earshot.plugin-crash" in the state_dir, else
 * "<database>.plugin-crash"; malloc'd or NULL. */
char *plugin_crash_path(const earshot_config *cfg);

/* Opens (creating, emptying) the marker file for this process's hook calls and locks it (flock) for
 * as long as it is open. Returns 0, or -1 with *err (caller frees; also when another server holds
 * it). Without it, only the in-memory record is kept. */
int plugin_marker_open(const char *path, char **err);
/* Closes the marker file (at a clean shutdown, after the last hook); removes it. */
void plugin_marker_close(void);

/* The identity of the file at path (size, modification time, inode) into ident; "" when it cannot
 * be read. A rebuilt or replaced plugin has another identity. */
void plugin_file_ident(const char *path, char ident[64]);

/* Records that plugin (its configured path and file identity) enters hook on the thread of slot;
 * plugin_marker_leave clears it. Thread-safe; both are cheap enough for every answer. */
void plugin_marker_enter(marker_slot slot, const char *plugin, const char *path, const char *ident,
                         const char *hook);
void plugin_marker_leave(marker_slot slot);
/* The hook call in progress in slot: true with *out, false when none. */
bool plugin_marker_current(marker_slot slot, marker_record *out);

/* Reads the records a previous process left in the file at path into out (up to MARKER_SLOTS).
 * Returns how many (0 when the file is absent, holds none, or is the marker of a server running now,
 * which holds a lock on it). */
size_t plugin_marker_read(const char *path, marker_record *out);

/* When the crash policy is applied: at start the marker file a previous process left (a crash
 * inside a hook) becomes the crash record; `earshot check` reads both without changing them; a
 * reload reads the crash record only (the marker file is the running server's own). */
typedef enum { CRASH_AT_START, CRASH_AT_CHECK, CRASH_AT_RELOAD } crash_when;

/* The crash policy for the configuration cfg over its database, as of when; then for each
 * crash record whose plugin is still configured with the same file: with `on_crash: disable` the
 * plugin's spec is marked disabled (plugin_host_load skips it) and a line goes to *notes, else a
 * problem is added to diags ("WHERE: plugin NAME crashed in HOOK at TIME: ..."). A record whose
 * plugin is gone, or whose file changed since, is dropped (with a note). Returns the number of
 * problems added. *notes: malloc'd lines joined with '\n', or NULL; caller frees. */
size_t plugin_crash_policy(earshot_config *cfg, crash_when when, diag_list *diags, char **notes);

#endif
