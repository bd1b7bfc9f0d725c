/* plugin_glue: connects the plugin host to the server's life cycle and routing. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "plugin_glue.h"
#include "outbox.h"
#include "plugin_host.h"
#include "plugin_marker.h"
#include "reply.h"
#include "util.h"

/* Configs read by reloads, still referenced by the plugins and the outbox in service. */
static earshot_config **reloaded_configs;
static size_t n_reloaded_configs;

static void log_from_plugin(void *arg, int level, const char *plugin, const char *msg)
{
	log_line("plugin %s: %s", plugin ? plugin : "?", msg);
}

int plugin_glue_load(const earshot_config *cfg, form_registry *forms, struct plugin_slot **out,
                     diag_list *diags)
{
	plugin_host *h = NULL;
	*out = NULL;
	if (plugin_host_load(cfg, cfg->database, forms, &h, diags) != 0)
		return -1;
	plugin_host_set_logger(h, log_from_plugin, NULL);
	plugin_host_set_outbox(h, outbox_plugin_enqueue, (void *)cfg);
	*out = plugin_slot_new(h);
	return 0;
}

void plugin_glue_unload(struct plugin_slot *slot)
{
	if (slot)
		plugin_slot_free(slot);
}

const writer_hooks *plugin_glue_writer_hooks(server *srv, writer_hooks *hooks)
{
	if (!srv->plugins)
		return NULL;
	hooks->on_response = plugin_slot_on_response;
	hooks->runs_for = plugin_slot_runs_for;
	hooks->ctx = srv->plugins;
	return hooks;
}

static const char *method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	default: return "OTHER";
	}
}

bool plugin_glue_route(server *srv, request *r)
{
	if (!srv->plugins)
		return false;
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	/* The query as the router parsed (and decoded) it: plugins never see the raw text. */
	size_t n_query = 0;
	for (const struct evkeyval *kv = r->query.tqh_first; kv; kv = kv->next.tqe_next)
		n_query++;
	const char **keys = xcalloc(n_query + 1, sizeof *keys), **values = xcalloc(n_query + 1, sizeof *values);
	size_t i = 0;
	for (const struct evkeyval *kv = r->query.tqh_first; kv; kv = kv->next.tqe_next, i++) {
		keys[i] = kv->key;
		values[i] = kv->value;
	}
	plugin_http_request preq = {
		.method = method_name(r->method),
		.path = r->path,
		.segs = &r->segs,
		.query_keys = keys,
		.query_values = values,
		.n_query = n_query,
		.body = len ? (const char *)evbuffer_pullup(in, (ev_ssize_t)len) : NULL,
		.body_len = len,
	};
	int status = 0;
	char *json_body = NULL;
	int matched = plugin_slot_route(srv->plugins, &preq, &status, &json_body);
	free(keys);
	free(values);
	if (matched != 1)
		return false;
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Cache-Control", "no-store");
	reply_text(r->req, status, "application/json; charset=utf-8", json_body ? json_body : "{}",
	           json_body ? strlen(json_body) : 2);
	free(json_body);
	return true;
}

void plugin_glue_set_forms(server *srv)
{
	if (!srv->plugins)
		return;
	plugin_host *h = plugin_slot_acquire(srv->plugins);
	if (h) {
		plugin_host_set_forms(h, srv->forms);
		plugin_host_free(h);
	}
}

int plugin_glue_reload(server *srv, form_registry *forms, diag_list *diags)
{
	earshot_config *cfg = config_load(srv->config_path, diags);
	if (!cfg)
		return -1;
	/* A plugin disabled after a crash stays disabled across reloads until its file changes. */
	char *notes = NULL;
	size_t problems = plugin_crash_policy(cfg, CRASH_AT_RELOAD, diags, &notes);
	free(notes);
	if (problems) {
		config_free(cfg);
		return -1;
	}
	plugin_host *h = NULL;
	if (plugin_host_load(cfg, srv->cfg->database, forms, &h, diags) != 0) {
		config_free(cfg);
		return -1;
	}
	plugin_host_set_logger(h, log_from_plugin, NULL);
	/* Plugins enqueue to the destinations of the config they were loaded with; the worker follows. */
	plugin_host_set_outbox(h, outbox_plugin_enqueue, (void *)cfg);
	if (srv->outbox)
		outbox_set_destinations(srv->outbox, cfg);
	if (!srv->plugins) {
		srv->plugins = plugin_slot_new(h);
	} else {
		plugin_slot_swap(srv->plugins, h);
	}
	/* The outbox resolves destinations through this config from now on: keep it until shutdown
	 * (a reload is rare; each costs one parsed config). */
	reloaded_configs = xrealloc(reloaded_configs, (n_reloaded_configs + 1) * sizeof *reloaded_configs);
	reloaded_configs[n_reloaded_configs++] = cfg;
	return 0;
}

char *plugin_glue_stall(server *srv)
{
	static int64_t logged_since;
	int64_t busy = srv->writer ? writer_busy_ms(srv->writer) : 0;
	if (busy < WRITER_STALL_MS)
		return NULL;
	marker_record r;
	char *what = plugin_marker_current(MARKER_WRITER, &r)
	                     ? xasprintf("writer stalled %lld s in plugin %s (%s)", (long long)(busy / 1000), r.plugin,
	                                 r.hook)
	                     : xasprintf("writer stalled %lld s", (long long)(busy / 1000));
	int64_t since = now_ms() - busy;
	if (since - logged_since > 1000 || logged_since - since > 1000) {
		logged_since = since;
		log_line("%s", what);
	}
	return what;
}

void plugin_glue_disabled_warnings(server *srv, json_t **warnings)
{
	plugin_host *h = srv->plugins ? plugin_slot_acquire(srv->plugins) : NULL;
	for (size_t i = 0; plugin_host_disabled(h, i); i++) {
		if (!*warnings)
			*warnings = json_array();
		json_array_append_new(*warnings, json_string(plugin_host_disabled(h, i)));
	}
	plugin_host_free(h);
}

void plugin_glue_free(server *srv)
{
	plugin_glue_unload(srv->plugins);
	srv->plugins = NULL;
	for (size_t i = 0; i < n_reloaded_configs; i++)
		config_free(reloaded_configs[i]);
	free(reloaded_configs);
	reloaded_configs = NULL;
	n_reloaded_configs = 0;
}
