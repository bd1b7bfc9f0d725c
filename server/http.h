/* http: the running server — event base, listener, limits, routing table, CORS, client addresses and
 * the headers every response carries. Route handlers live in routes_*.c. */
#ifndef EARSHOT_HTTP_H
#define EARSHOT_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "config.h"
#include "log.h"
#include "form.h"
#include "ratelimit.h"
#include "spam.h"
#include "route_match.h"
#include "storage.h"
#include "writer.h"

struct plugin_slot;
struct outbox;
struct http_guard;
struct inbox_reminder;
struct summary_worker;

typedef struct server {
	earshot_config *cfg;         /* owned */
	char *config_path;           /* owned, may be NULL: what -c named (for reloads) */
	struct event_base *base;     /* owned */
	struct evhttp *http;         /* owned */
	struct http_guard *guard;    /* owned: framing, connection limits, deadlines, drain */
	form_registry *forms;        /* a reference; replaced on SIGHUP */
	writer *writer;              /* owned */
	struct outbox *outbox;       /* owned: the delivery worker */
	struct inbox_reminder *reminder; /* owned: queues reminders of overdue inbox items */
	store *reader;               /* owned; read-only connection for admin queries */
	struct summary_worker *summaries; /* owned: builds summaries off the loop */
	ratelimit *submit_limit;     /* owned */
	ratelimit *view_limit;       /* owned: views counted per client address, a bucket of its own */
	struct plugin_slot *plugins; /* owned, may be NULL */
	struct event *signals[4];    /* owned: TERM, INT, HUP */
	struct event *housekeeping;  /* owned: hourly retention purge */
	char ip_salt[65];            /* hex salt for hashed client addresses, kept in the database */
	spam_key token_key;          /* the key timing tokens are signed with, derived from ip_salt */
	unsigned pending;            /* requests waiting for the writer */
	bool stopping;
	char *surveys_etag_seed;     /* owned; changes on every reload */
} server;

/* One request being handled: the evhttp request plus what routing found. */
typedef struct request {
	server *srv;
	struct evhttp_request *req;
	enum evhttp_cmd_type method;
	char *path;                  /* owned; decoded path without query */
	route_path segs;             /* owned; the raw path split at '/', each segment decoded once */
	struct evkeyvalq query;      /* parsed query string */
	route_params params;         /* the {name} segments the matched route bound (values in segs) */
	char client[64];             /* the client address as text (trusted proxies resolved) */
	const char *origin;          /* borrowed Origin header, may be NULL */
	bool origin_allowed;         /* true when origin is NULL or allowed by cors.allowed_origins */
} request;

typedef enum { ROUTE_PUBLIC = 0, ROUTE_ADMIN = 1, ROUTE_CORS = 2 } route_flags;

typedef struct route {
	unsigned methods;            /* bitmask of enum evhttp_cmd_type */
	const char *pattern;         /* "/api/v1/forms/{form}/responses"; a trailing "*" matches the rest */
	void (*handle)(request *r);
	unsigned flags;              /* route_flags */
} route;

/* Builds and starts the server on cfg (ownership of cfg passes to the server). Returns NULL with
 * *err (caller frees) when it cannot listen, open the database or load plugins. */
server *server_new(earshot_config *cfg, const char *config_path, form_registry *forms,
                   struct plugin_slot *plugins, char **err);
/* Runs the event loop until a SIGTERM/SIGINT drain completes. Returns 0 after a clean shutdown. */
int server_run(server *srv);
void server_free(server *srv);
/* Re-reads forms and plugins (SIGHUP): all or nothing; problems are logged. */
void server_reload(server *srv);

/* Value of a {name} path parameter of the matched route, or NULL. */
const char *request_param(const request *r, const char *name);
/* Value of a query parameter, or NULL. */
const char *request_query(const request *r, const char *name);

/* The routing tables of each family (routes_*.c), each ended by a {0} entry, and the list of them
 * that dispatch searches in order (route_tables.c), ended by NULL. */
extern const route public_routes[];
extern const route admin_routes[];
extern const route deliveries_routes[];
extern const route *const route_tables[];

#endif
