/* plugin_internal: what plugin_host.c (loading, life cycle, slot) and plugin_api.c (the host function
 * table, dispatch) share. Not for other modules: they use plugin_host.h. */
#ifndef EARSHOT_PLUGIN_INTERNAL_H
#define EARSHOT_PLUGIN_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "earshot/plugin.h"
#include "plugin_host.h"

/* Size of the descriptor of ABI 1.0: the oldest this server knows. */
#define PLUGIN_DESC_SIZE_1_0 (offsetof(struct earshot_plugin, fini) + sizeof(void (*)(void *)))

/* One admin route a plugin registered: its method and its pattern (route_match.h's syntax, matched
 * by route_match like the built-in routes). */
typedef struct plugin_route {
	char *method;            /* owned */
	char *pattern;           /* owned, as given */
} plugin_route;

/* What every handle a plugin holds (earshot_conf, earshot_response, earshot_request) starts with, so
 * that the functions taking `const void *handle` know the plugin and the kind of handle. */
typedef enum { HANDLE_CONF = 1, HANDLE_RESPONSE, HANDLE_REQUEST } handle_kind;
typedef struct handle_head {
	handle_kind kind;
	struct plugin_instance *inst;
} handle_head;

/* A node of a plugin's config (earshot_conf handles), kept until the plugin is unloaded. */
struct earshot_conf {
	handle_head head;
	json_t *node;            /* borrowed from inst->config */
	struct earshot_conf *next;
};

/* One loaded plugin: a config entry, its library and its state. */
typedef struct plugin_instance {
	plugin_host *host;
	char *name;              /* owned; config `name:`, also the key-value namespace */
	char *path;              /* owned */
	char *where;             /* owned; "file:line:col" of the config entry */
	char ident[64];          /* the file's identity when loaded (plugin_file_ident) */
	char **forms;            /* owned globs */
	size_t n_forms;
	json_t *config;          /* a reference */
	void *dl;                /* dlopen handle */
	struct earshot_plugin desc; /* copied from the library, zero-extended */
	void *state;             /* the plugin's, from init */
	bool ready;              /* init succeeded: fini is owed */
	bool offers;             /* init called declare_offers */
	plugin_route *routes;    /* owned */
	size_t n_routes;
	struct earshot_conf *root; /* wraps config */
	struct earshot_conf *nodes; /* every conf handle handed out (root included) */
	pthread_mutex_t lock;    /* guards nodes */
} plugin_instance;

struct plugin_host {
	atomic_int refs;
	plugin_instance **inst;  /* owned, config order */
	size_t n;
	char *db_path;           /* owned, may be NULL */
	pthread_mutex_t route_lock; /* one on_route at a time; guards ro */
	store *ro;               /* read-only connection for report queries, opened on first use */
	form_registry *forms;    /* a reference, may be NULL */
	plugin_log_fn log_fn;
	void *log_arg;
	plugin_enqueue_fn enqueue_fn;
	void *enqueue_arg;
	char **destinations;     /* owned copies of the config's destination names (has_destination) */
	size_t n_destinations;
	char *config_dir;        /* owned; the config file's directory (config_dir) */
	char **disabled;         /* owned: why each plugin the crash policy disabled is not loaded */
	size_t n_disabled;
};

/* The hook call in progress on this thread: the plugin, and the message set_error or a failing host
 * function left (owned). */
typedef struct hook_call {
	plugin_instance *inst;
	char *error;
	int slot;                /* the marker_slot recorded for it (plugin_marker.h) */
} hook_call;

/* Makes call, of inst's hook ("init", "on_response", "on_route", "fini"), the current hook call of
 * this thread and returns the previous one (restore it with hook_call_end, which also frees
 * call->error). The call is recorded in the plugin marker (on_response in the writer's slot, the
 * others in the event loop's) until hook_call_end. */
hook_call *hook_call_begin(hook_call *call, plugin_instance *inst, const char *hook);
void hook_call_end(hook_call *call, hook_call *previous);

/* Writes one log line for inst (NULL: unknown plugin) at an EARSHOT_LOG_* level to its host's
 * logger (stderr without one). */
void plugin_log(plugin_instance *inst, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The host function table handed to every plugin. */
const struct earshot_host *plugin_api_table(void);
/* True when the plugin's `forms:` globs match form id. */
bool plugin_instance_sees_form(const plugin_instance *inst, const char *form);
/* The dispatch behind plugin_host_on_response and plugin_host_route (plugin_host.h has their
 * contracts): the handles they build are private to plugin_api.c. */
int plugin_api_on_response(plugin_host *h, store *st, writer_job *job, char **err);
int plugin_api_route(plugin_host *h, const plugin_http_request *in, int *status, char **json_body);
/* Frees the routes of inst. */
void plugin_routes_free(plugin_instance *inst);

#endif
