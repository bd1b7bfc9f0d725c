/* plugin_glue: what the HTTP server and the CLI need from the plugin host — loading at start and
 * check time, the writer hook, admin routes that plugins register, and reloads on SIGHUP. */
#ifndef EARSHOT_PLUGIN_GLUE_H
#define EARSHOT_PLUGIN_GLUE_H

#include "http.h"
#include "writer.h"

/* Loads the plugins cfg lists into a new slot (*out, caller frees with plugin_glue_unload), showing
 * them forms (may be NULL); every problem goes to diags. Returns 0, or -1 with *out NULL. */
int plugin_glue_load(const earshot_config *cfg, form_registry *forms, struct plugin_slot **out,
                     diag_list *diags);
/* Frees a slot from plugin_glue_load (plugins' fini run); NULL is allowed. */
void plugin_glue_unload(struct plugin_slot *slot);
/* Fills hooks for the writer and returns it. */
const writer_hooks *plugin_glue_writer_hooks(server *srv, writer_hooks *hooks);
/* Answers r when a plugin registered its path (admin already checked). Returns true when it did. */
bool plugin_glue_route(server *srv, request *r);
/* Re-reads the config file's plugin settings and swaps the new plugins in, showing them forms (the
 * registry about to go in service); on any problem adds it to diags, keeps the running ones and
 * returns -1. */
int plugin_glue_reload(server *srv, form_registry *forms, diag_list *diags);
/* Tells the plugins which forms are in service (after start and each reload). */
void plugin_glue_set_forms(server *srv);
/* The writer watchdog: when the writer has been storing one batch for WRITER_STALL_MS or longer,
 * returns "writer stalled N s in plugin NAME (HOOK)" (or without the plugin when none is running),
 * malloc'd, and logs it once per stall; else NULL. */
char *plugin_glue_stall(server *srv);
/* Appends to *warnings (an array, created when NULL) why each plugin the crash policy disabled is not
 * running. */
void plugin_glue_disabled_warnings(server *srv, json_t **warnings);
/* Releases the server's plugins (their fini hooks run). Call after the writer has stopped. */
void plugin_glue_free(server *srv);

#endif
