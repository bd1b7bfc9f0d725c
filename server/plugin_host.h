/* plugin_host: loads plugins (dlopen, ABI checks), hands them the host function table
 * (include/earshot/plugin.h) and dispatches to them: on_response inside the writer's per-answer
 * SAVEPOINT, on_route for the admin routes they register. A plugin_slot holds the host in service so
 * that a reload (SIGHUP) can swap in a new one while the writer thread is inside on_response. */
#ifndef EARSHOT_PLUGIN_HOST_H
#define EARSHOT_PLUGIN_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "diag.h"
#include "form.h"
#include "route_match.h"
#include "storage.h"
#include "writer.h"

struct earshot_plugin;

typedef struct plugin_host plugin_host;
typedef struct plugin_slot plugin_slot;

/* Where plugins' log lines go: level is an EARSHOT_LOG_* value, plugin the instance name (NULL when
 * unknown), msg one line without newline (all borrowed). */
typedef void (*plugin_log_fn)(void *arg, int level, const char *plugin, const char *msg);

/* The outbox's part of enqueue_delivery: queues a delivery of job's answer to destination inside
 * the current transaction on st. extra_json is NULL or a JSON object text. Returns 0, or -1 with
 * *err (caller frees). */
typedef int (*plugin_enqueue_fn)(void *arg, store *st, writer_job *job, const char *plugin,
                                 const char *destination, const char *type, const char *extra_json,
                                 char **err);

/* Loads every plugin of cfg, in order: file checks, dlopen(RTLD_NOW|RTLD_LOCAL), ABI checks, init
 * with its config. db_path is the database route handlers read (through a read-only connection
 * opened on first use); NULL for `earshot check` (report queries then fail). forms (may be NULL;
 * the host takes a reference) are the forms plugins see through form_count and friends, from init
 * on, and that {form} routes check. Every problem is added
 * to diags ("PATH: reason", or "WHERE: plugin NAME: message" for a refused config). Returns 0 and
 * *out (caller frees with plugin_host_free; a host with no plugins when cfg lists none), or -1 when
 * there was any problem (nothing stays loaded). */
int plugin_host_load(const earshot_config *cfg, const char *db_path, form_registry *forms,
                     plugin_host **out, diag_list *diags);
/* Drops the caller's reference; the last one calls every plugin's fini (in reverse order), closes
 * the libraries and frees the host. NULL is allowed. */
void plugin_host_free(plugin_host *h);
/* Takes another reference (thread-safe); returns h. */
plugin_host *plugin_host_ref(plugin_host *h);

/* Number of loaded plugins, and the instance name of plugin i (config `name:`; owned by the host). */
size_t plugin_host_count(const plugin_host *h);
const char *plugin_host_name(const plugin_host *h, size_t i);
/* Why plugin number i of those the crash policy disabled (plugin_spec.disabled, skipped by
 * plugin_host_load) is not loaded, or NULL past the last (owned by the host). */
const char *plugin_host_disabled(const plugin_host *h, size_t i);

/* Sets where plugins' log lines go (default: "earshot: plugin NAME: message" lines on stderr). */
void plugin_host_set_logger(plugin_host *h, plugin_log_fn fn, void *arg);
/* Connects enqueue_delivery to the outbox; without it the function fails with
 * "outbox not available". */
void plugin_host_set_outbox(plugin_host *h, plugin_enqueue_fn fn, void *arg);
/* Lets routes with a {form} segment answer 404 unknown_form for forms not in reg. The host takes a
 * reference (released when replaced or at free); NULL turns the check off. */
void plugin_host_set_forms(plugin_host *h, form_registry *reg);

/* True when a plugin that declared offers (declare_offers in its init) is enabled for form_id.
 * h may be NULL (no plugins). */
bool plugin_host_offers_for_form(const plugin_host *h, const char *form_id);
/* True when a plugin with an on_response hook is enabled for form_id. h may be NULL (no plugins). */
bool plugin_host_responds_for_form(const plugin_host *h, const char *form_id);

/* writer_hooks.on_response with ctx = the plugin_host: runs, in config order, the on_response of
 * every plugin whose `forms:` globs match job->form->id, filling job->score/tags/offers; kv and
 * deliveries write through st inside the caller's SAVEPOINT. Returns 0 to keep the answer, 1 when a
 * plugin refused it (job->reject holds field -> message; later plugins did not run), -1 when a
 * plugin failed (*err "plugin NAME: message", caller frees). Thread: the writer. */
int plugin_host_on_response(void *ctx, store *st, writer_job *job, char **err);

/* An admin request as the server parsed it. The path and the query were decoded once, by the
 * server's router; plugin routes are matched against segs with route_match, the matcher of the
 * built-in routes, and nothing is decoded again. Everything is borrowed for the duration of the call. */
typedef struct plugin_http_request {
	const char *method;              /* "GET", … */
	const char *path;                /* decoded, without the query */
	const route_path *segs;          /* the raw path split at '/', each segment decoded once; NULL:
	                                  * path split at '/' as it is */
	const char *const *query_keys;   /* decoded; n_query of each, in request order */
	const char *const *query_values;
	size_t n_query;
	const char *body;                /* may be NULL */
	size_t body_len;
} plugin_http_request;

/* Serves an admin request when a plugin registered a route matching in->method and in->path.
 * Returns 1 with *status and *json_body (a malloc'd JSON text, caller frees) when one matched, 0
 * when none did (outputs untouched). h may be NULL (no plugins). Thread: the event loop. */
int plugin_host_route(plugin_host *h, const plugin_http_request *in, int *status, char **json_body);

/* The descriptor checks of the loader, on a descriptor found at symbol address sym, as a server
 * speaking ABI host_major.host_minor would make them. Copies min(our size, sym's struct_size) bytes
 * into *out and zeroes the rest. Returns 0, or -1 with *reason (caller frees). */
int plugin_check_descriptor(const void *sym, unsigned host_major, unsigned host_minor,
                            struct earshot_plugin *out, char **reason);

/* ---- The host in service ------------------------------------------------------------------------ */

/* A new slot holding h (ownership passes to the slot; NULL allowed). */
plugin_slot *plugin_slot_new(plugin_host *h);
/* Frees the slot and releases the host it holds. Call after the writer has stopped. */
void plugin_slot_free(plugin_slot *s);
/* Puts next in service (ownership passes to the slot) and releases the previous host: its plugins'
 * fini runs once the last caller still inside it has returned (possibly on that caller's thread). */
void plugin_slot_swap(plugin_slot *s, plugin_host *next);
/* The host in service with a reference the caller releases with plugin_host_free; may be NULL. */
plugin_host *plugin_slot_acquire(plugin_slot *s);
/* writer_hooks.on_response with ctx = the plugin_slot: plugin_host_on_response on the host in
 * service. */
int plugin_slot_on_response(void *ctx, store *st, writer_job *job, char **err);
/* writer_hooks.runs_for with ctx = the plugin_slot: plugin_host_responds_for_form for the job's form
 * on the host in service. */
bool plugin_slot_runs_for(void *ctx, const writer_job *job);
/* plugin_host_route on the host in service. */
int plugin_slot_route(plugin_slot *s, const plugin_http_request *in, int *status, char **json_body);

#endif
