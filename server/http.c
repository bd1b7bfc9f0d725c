/* http: server set-up, request dispatch through the routing tables, CORS, admin authentication,
 * client addresses, signals (drain on TERM/INT, reload on HUP) and periodic housekeeping. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "admin_auth.h"
#include "client_addr.h"
#include "confirm.h"
#include "http.h"
#include "http_guard.h"
#include "inbox.h"
#include "maintenance.h"
#include "origin.h"
#include "outbox.h"
#include "plugin_glue.h"
#include "reply.h"
#include "summary_worker.h"
#include "util.h"

#define DRAIN_LIMIT_MS 10000
#define MAX_HEADERS_BYTES 8192

static void add_cors_headers(request *r)
{
	if (!r->origin)
		return;
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	evhttp_add_header(h, "Access-Control-Allow-Origin", r->origin);
	evhttp_add_header(h, "Vary", "Origin");
}

static void handle_preflight(request *r)
{
	if (!r->origin_allowed) {
		reply_error(r->req, 403, "origin_not_allowed", "This origin may not call this route.", NULL);
		return;
	}
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	add_cors_headers(r);
	evhttp_add_header(h, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
	evhttp_add_header(h, "Access-Control-Allow-Headers", "Content-Type, Idempotency-Key");
	evhttp_add_header(h, "Access-Control-Max-Age", "600");
	reply_text(r->req, 204, "text/plain; charset=utf-8", "", 0);
}

static const char *method_names(unsigned methods, char *buf, size_t size)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ EVHTTP_REQ_GET, "GET" }, { EVHTTP_REQ_HEAD, "HEAD" }, { EVHTTP_REQ_POST, "POST" },
		{ EVHTTP_REQ_PUT, "PUT" }, { EVHTTP_REQ_PATCH, "PATCH" }, { EVHTTP_REQ_DELETE, "DELETE" },
		{ EVHTTP_REQ_OPTIONS, "OPTIONS" },
	};
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(methods & names[i].bit))
			continue;
		if (buf[0])
			strncat(buf, ", ", size - strlen(buf) - 1);
		strncat(buf, names[i].name, size - strlen(buf) - 1);
	}
	return buf;
}

/* Finds the route for r in table. Returns it, or NULL; *path_known is set when the path matched a
 * route of another method (for 405), *allowed collects those methods. */
static const route *find_route(const route *table, request *r, bool *path_known, unsigned *allowed)
{
	for (const route *rt = table; rt->pattern; rt++) {
		if (!route_match(rt->pattern, &r->segs, NULL))
			continue;
		unsigned methods = rt->methods | ((rt->flags & ROUTE_CORS) ? EVHTTP_REQ_OPTIONS : 0);
		if (rt->methods & EVHTTP_REQ_GET)
			methods |= EVHTTP_REQ_HEAD;
		if (methods & r->method) {
			route_match(rt->pattern, &r->segs, &r->params);
			return rt;
		}
		*path_known = true;
		*allowed |= methods;
	}
	return NULL;
}

static void request_release(request *r)
{
	evhttp_clear_headers(&r->query);
	route_path_free(&r->segs);
	free(r->path);
}

/* True when the request names its body length more than once, or both a length and chunking. */
static bool ambiguous_framing(struct evhttp_request *req)
{
	const struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	int lengths = 0, chunked = 0;
	for (const struct evkeyval *kv = h->tqh_first; kv; kv = kv->next.tqe_next) {
		if (strcasecmp(kv->key, "Content-Length") == 0)
			lengths++;
		else if (strcasecmp(kv->key, "Transfer-Encoding") == 0)
			chunked++;
	}
	return lengths > 1 || (lengths > 0 && chunked > 0) || chunked > 1;
}

static void dispatch(struct evhttp_request *req, void *arg)
{
	server *srv = arg;
	http_guard_request_started(srv->guard, req);
	if (!evhttp_request_get_uri(req)) {
		/* libevent calls back without a URI when it refused the request itself. */
		if (evhttp_request_get_response_code(req) == 413)
			reply_error(req, 413, "too_large", "The request is larger than this server accepts.", NULL);
		else
			reply_error(req, 400, "bad_request", "The request could not be read.", NULL);
		return;
	}
	request r;
	memset(&r, 0, sizeof r);
	TAILQ_INIT(&r.query);
	r.srv = srv;
	r.req = req;
	r.method = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *raw_path = uri ? evhttp_uri_get_path(uri) : NULL;
	size_t decoded_len = 0;
	r.path = raw_path ? evhttp_uridecode(raw_path, 0, &decoded_len) : NULL;
	/* The one decode point: segments are split at the raw '/' and decoded once each; r.path (the
	 * whole path decoded) is what logs and plugins' request_path show. */
	if (!r.path || strlen(r.path) != decoded_len || r.path[0] != '/' ||
	    route_path_split(raw_path, true, &r.segs) != 0) {
		reply_error(req, 400, "bad_request", "The request path is not valid.", NULL);
		free(r.path);
		return;
	}
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	if (query && evhttp_parse_query_str(query, &r.query) != 0) {
		reply_error(req, 400, "bad_request", "The query string is not valid.", NULL);
		request_release(&r);
		return;
	}
	if (ambiguous_framing(req)) {
		/* Two lengths, or a length beside chunking, is how requests are smuggled past proxies. */
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		reply_error(req, 400, "bad_request", "The request has conflicting length headers.", NULL);
		request_release(&r);
		return;
	}
	if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) > srv->cfg->limits.max_body_bytes) {
		reply_error(req, 413, "too_large", "The request is larger than this server accepts.", NULL);
		request_release(&r);
		return;
	}
	char *peer = NULL;
	ev_uint16_t peer_port = 0;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (evcon)
		evhttp_connection_get_peer(evcon, &peer, &peer_port);
	client_addr_resolve(srv->cfg, peer, evhttp_request_get_input_headers(req), r.client);
	r.origin = evhttp_find_header(evhttp_request_get_input_headers(req), "Origin");
	r.origin_allowed = origin_allowed(srv->cfg, r.origin);

	bool path_known = false;
	unsigned allowed = 0;
	const route *rt = NULL;
	for (size_t i = 0; !rt && route_tables[i]; i++)
		rt = find_route(route_tables[i], &r, &path_known, &allowed);
	if (rt && (rt->flags & ROUTE_ADMIN)) {
		if (!admin_token_authorised(srv->cfg, req)) {
			evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
			                  "Bearer realm=\"earshot\"");
			reply_error(req, 401, "unauthorized", "A valid admin bearer token is required.", NULL);
			goto done;
		}
		rt->handle(&r);
		goto done;
	}
	if (rt) {
		if ((rt->flags & ROUTE_CORS) && r.method == EVHTTP_REQ_OPTIONS) {
			handle_preflight(&r);
			goto done;
		}
		/* A foreign origin gets its answer without CORS headers: the browser then withholds it. */
		if ((rt->flags & ROUTE_CORS) && r.origin_allowed)
			add_cors_headers(&r);
		rt->handle(&r);
		goto done;
	}
	if (!path_known && strncmp(r.path, "/api/v1/", 8) == 0) {
		/* Every other API path is an admin route a plugin may serve. */
		if (!admin_token_authorised(srv->cfg, req)) {
			reply_error(req, 401, "unauthorized", "A valid admin bearer token is required.", NULL);
			goto done;
		}
		if (plugin_glue_route(srv, &r))
			goto done;
		if (route_match("/api/v1/forms/{form}/nps", &r.segs, NULL)) {
			reply_error(req, 404, "not_enabled", "The nps plugin is not enabled for this server.", NULL);
			goto done;
		}
	}
	if (path_known) {
		char names[64];
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		                  method_names(allowed, names, sizeof names));
		reply_error(req, 405, "method_not_allowed", "This route does not take that method.", NULL);
		goto done;
	}
	reply_error(req, 404, "not_found", "There is nothing at this address.", NULL);
done:
	request_release(&r);
}

/* ---- shutdown, reload, housekeeping ---------------------------------------------------------- */

static struct evhttp_bound_socket *listener;
static int64_t drain_deadline;
static struct event *drain_timer;

static void drain_tick(evutil_socket_t fd, short what, void *arg)
{
	server *srv = arg;
	size_t open = http_guard_connections(srv->guard);
	if ((srv->pending == 0 && open == 0) || monotonic_ms() >= drain_deadline) {
		if (srv->pending || open)
			log_line("drain limit reached with %u requests waiting and %zu connection(s) open",
			         srv->pending, open);
		event_base_loopexit(srv->base, NULL);
	}
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	server *srv = arg;
	if (srv->stopping)
		return;
	srv->stopping = true;
	log_line("%s received: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	http_guard_drain(srv->guard);
	if (listener) {
		evhttp_del_accept_socket(srv->http, listener);
		listener = NULL;
	}
	drain_deadline = monotonic_ms() + DRAIN_LIMIT_MS;
	struct timeval tick = { 0, 50 * 1000 };
	drain_timer = event_new(srv->base, -1, EV_PERSIST, drain_tick, srv);
	event_add(drain_timer, &tick);
}

static void on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
	server_reload(arg);
}

void server_reload(server *srv)
{
	diag_list diags;
	diag_init(&diags);
	form_registry *forms = form_registry_load_dir(srv->cfg->forms_dir, &diags);
	if (forms && confirm_check_forms(forms, srv->cfg, &diags) > 0) {
		form_registry_unref(forms);
		forms = NULL;
	}
	int plugins_ok = forms ? plugin_glue_reload(srv, forms, &diags) : -1;
	if (!forms || plugins_ok != 0) {
		for (size_t i = 0; i < diags.n; i++)
			log_line("%s", diags.items[i]);
		log_line("reload refused: %zu problem(s); the previous forms and plugins stay in service", diags.n);
		if (forms)
			form_registry_unref(forms);
		diag_free(&diags);
		return;
	}
	form_registry *old = srv->forms;
	srv->forms = forms;
	form_registry_unref(old);
	plugin_glue_set_forms(srv);
	free(srv->surveys_etag_seed);
	srv->surveys_etag_seed = xasprintf("%lld", (long long)now_ms());
	log_line("reloaded %zu form(s) from %s", forms->n, srv->cfg->forms_dir);
	diag_free(&diags);
}

static void housekeeping(evutil_socket_t fd, short what, void *arg)
{
	server *srv = arg;
	if (srv->cfg->privacy.retention_days > 0)
		maintenance_purge_async(srv->cfg->database, srv->cfg->durability,
		                        now_ms() - (int64_t)srv->cfg->privacy.retention_days * 86400000);
}

/* ---- life cycle ------------------------------------------------------------------------------ */

/* Reads (or creates once) the random salt that hashed client addresses are keyed with, so that the
 * same visitor hashes alike across restarts while the database alone cannot be reversed by guessing
 * addresses without the salt. Returns 0 or -1 with *err. */
static int load_ip_salt(server *srv, store *st, char **err)
{
	char *value = NULL;
	size_t len = 0;
	if (store_begin(st, err) != 0)
		return -1;
	int found = store_kv_get(st, "earshot", "ip_salt", &value, &len, err);
	if (found < 0)
		goto fail;
	if (found == 0) {
		unsigned char raw[32];
		if (random_bytes(raw, sizeof raw) != 0) {
			*err = xstrdup("no randomness available for the address salt");
			goto fail;
		}
		char hex[65];
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", raw[i]);
		if (store_kv_put(st, "earshot", "ip_salt", hex, 64, err) != 0)
			goto fail;
		value = xstrdup(hex);
		len = 64;
	}
	snprintf(srv->ip_salt, sizeof srv->ip_salt, "%.*s", (int)(len < 64 ? len : 64), value);
	spam_key_derive(srv->ip_salt, &srv->token_key);
	free(value);
	return store_commit(st, err);
fail:
	free(value);
	store_rollback(st);
	return -1;
}

server *server_new(earshot_config *cfg, const char *config_path, form_registry *forms,
                   struct plugin_slot *plugins, char **err)
{
	server *srv = xcalloc(1, sizeof *srv);
	srv->cfg = cfg;
	srv->config_path = config_path ? xstrdup(config_path) : NULL;
	srv->forms = forms;
	srv->plugins = plugins;
	srv->surveys_etag_seed = xasprintf("%lld", (long long)now_ms());
	srv->base = event_base_new();
	srv->http = evhttp_new(srv->base);
	if (!srv->base || !srv->http) {
		*err = xstrdup("cannot create the event loop");
		goto fail;
	}
	/* libevent answers bodies over its own limit with an HTML 413; keep its limit above ours so
	 * that every ordinary oversized body gets the JSON 413 from dispatch(), and a larger announced
	 * length the JSON 413 from the guard. */
	size_t libevent_max_body = cfg->limits.max_body_bytes * 4 + 65536;
	evhttp_set_max_body_size(srv->http, (ev_ssize_t)libevent_max_body);
	evhttp_set_max_headers_size(srv->http, MAX_HEADERS_BYTES);
	evhttp_set_timeout(srv->http, cfg->limits.header_timeout_seconds);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	                                          EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(srv->http, dispatch, srv);
	long fd_limit = http_guard_raise_fd_limit();
	int max_connections = http_guard_connection_cap(fd_limit, cfg->limits.max_connections);
	srv->guard = http_guard_new(srv->base, srv->http, max_connections, cfg->limits.header_timeout_seconds,
	                            libevent_max_body);
	log_line("open files limit %ld: serving up to %d connections at once", fd_limit, max_connections);

	store *st = NULL;
	if (store_open(cfg->database, cfg->durability, false, &st, err) != 0)
		goto fail;
	int salt_rc = load_ip_salt(srv, st, err);
	store_close(st);
	if (salt_rc != 0)
		goto fail;
	confirm_configure(cfg, srv->ip_salt);
	if (store_open(cfg->database, cfg->durability, true, &srv->reader, err) != 0)
		goto fail;
	srv->summaries = summary_worker_start(cfg->database, cfg->durability, srv->base, err);
	if (!srv->summaries)
		goto fail;
	writer_hooks hooks;
	srv->writer = writer_start(cfg->database, cfg->durability, srv->base,
	                           plugin_glue_writer_hooks(srv, &hooks), err);
	if (!srv->writer)
		goto fail;
	srv->outbox = outbox_start(cfg, NULL, err);
	if (!srv->outbox)
		goto fail;
	srv->reminder = inbox_reminder_start(cfg, err);
	if (!srv->reminder)
		goto fail;
	srv->submit_limit = ratelimit_new(cfg->limits.submissions_per_minute);
	srv->view_limit = ratelimit_new(cfg->limits.submissions_per_minute);
	plugin_glue_set_forms(srv);

	listener = evhttp_bind_socket_with_handle(srv->http, cfg->listen_host, (ev_uint16_t)cfg->listen_port);
	if (!listener) {
		*err = xasprintf("cannot listen on %s:%d: %s", cfg->listen_host, cfg->listen_port,
		                 strerror(errno));
		goto fail;
	}
	http_guard_watch_listener(srv->guard, evhttp_bound_socket_get_listener(listener));
	int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	for (int i = 0; i < 3; i++) {
		srv->signals[i] = evsignal_new(srv->base, sigs[i], sigs[i] == SIGHUP ? on_reload_signal :
		                               on_stop_signal, srv);
		event_add(srv->signals[i], NULL);
	}
	signal(SIGPIPE, SIG_IGN);
	struct timeval hourly = { 3600, 0 };
	srv->housekeeping = event_new(srv->base, -1, EV_PERSIST, housekeeping, srv);
	event_add(srv->housekeeping, &hourly);
	return srv;
fail:
	server_free(srv);
	return NULL;
}

int server_run(server *srv)
{
	char *database = storage_display_name(srv->cfg->database);
	log_line("listening on http://%s%s%s:%d/ (database %s, %zu form(s), config %s)",
	         strchr(srv->cfg->listen_host, ':') ? "[" : "", srv->cfg->listen_host,
	         strchr(srv->cfg->listen_host, ':') ? "]" : "", srv->cfg->listen_port, database,
	         srv->forms ? srv->forms->n : 0, srv->cfg->source);
	free(database);
	housekeeping(-1, 0, srv);
	event_base_dispatch(srv->base);
	uint64_t answers = 0, batches = 0;
	/* The reminder thread and the delivery worker stop first, so that the writer's final checkpoint
	 * leaves the WAL empty. */
	summary_worker_stop(srv->summaries);
	srv->summaries = NULL;
	inbox_reminder_stop(srv->reminder);
	srv->reminder = NULL;
	outbox_stop(srv->outbox);
	srv->outbox = NULL;
	if (srv->writer) {
		writer_stats(srv->writer, &answers, &batches);
		writer_stop(srv->writer);
		srv->writer = NULL;
	}
	log_line("stopped cleanly: %llu answer(s) stored in %llu commit(s)", (unsigned long long)answers,
	         (unsigned long long)batches);
	return 0;
}

void server_free(server *srv)
{
	if (!srv)
		return;
	summary_worker_stop(srv->summaries);
	if (srv->writer)
		writer_stop(srv->writer);
	inbox_reminder_stop(srv->reminder);
	outbox_stop(srv->outbox);
	for (int i = 0; i < 4; i++)
		if (srv->signals[i])
			event_free(srv->signals[i]);
	if (srv->housekeeping)
		event_free(srv->housekeeping);
	if (drain_timer) {
		event_free(drain_timer);
		drain_timer = NULL;
	}
	if (srv->http)
		evhttp_free(srv->http);
	listener = NULL;
	if (srv->guard) {
		/* Let the connections evhttp just freed finish (their bufferevents are finalized on the loop). */
		event_base_loop(srv->base, EVLOOP_NONBLOCK);
		event_base_loop(srv->base, EVLOOP_NONBLOCK);
		http_guard_free(srv->guard);
	}
	plugin_glue_free(srv);
	if (srv->reader)
		store_close(srv->reader);
	ratelimit_free(srv->submit_limit);
	ratelimit_free(srv->view_limit);
	if (srv->forms)
		form_registry_unref(srv->forms);
	if (srv->base)
		event_base_free(srv->base);
	config_free(srv->cfg);
	free(srv->config_path);
	free(srv->surveys_etag_seed);
	free(srv);
}
