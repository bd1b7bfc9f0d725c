/* http_guard: the connection layer between the sockets and libevent's evhttp. Every connection's
 * bytes pass through a filter bufferevent (evhttp_set_bevcb) that runs the strict framing checker
 * (http_frame.h) before evhttp parses anything, refuses what it cannot frame with a JSON 400/431/501
 * and a close, bounds the whole request head by a deadline, caps the number of open connections
 * (closing the oldest idle ones first), pauses accepting when the process runs out of descriptors,
 * and drains on shutdown: no new request is read, in-flight replies carry `Connection: close`. */
#ifndef EARSHOT_HTTP_GUARD_H
#define EARSHOT_HTTP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

typedef struct http_guard http_guard;

/* Raises the soft limit on open files to the hard limit. Returns the limit now in force. */
long http_guard_raise_fd_limit(void);

/* How many connections fit beside the server's own descriptors under fd_limit, at most wanted. */
int http_guard_connection_cap(long fd_limit, int wanted);

/* Installs the guard on http (which must serve on base): from now on every accepted connection
 * passes through it. max_connections is the cap from http_guard_connection_cap, header_timeout the
 * whole-head deadline in seconds, max_body the largest Content-Length let through to evhttp (larger
 * ones get the JSON 413 from the guard). Returns the guard (freed with http_guard_free). */
http_guard *http_guard_new(struct event_base *base, struct evhttp *http, int max_connections,
                           int header_timeout, size_t max_body);

/* Watches lev (the evhttp listener) for accept errors: running out of descriptors pauses accepting
 * for a moment instead of spinning; errors are logged at most once a second with a count. */
void http_guard_watch_listener(http_guard *g, struct evconnlistener *lev);

/* Tells the guard that evhttp handed req to the server: its completion lets the connection's next
 * request in; during a drain the reply carries `Connection: close`. Call once per request. */
void http_guard_request_started(http_guard *g, struct evhttp_request *req);

/* Starts the drain: idle connections and those still receiving a head are closed now, the others
 * after their reply (which carries `Connection: close`); nothing more is read as a request. */
void http_guard_drain(http_guard *g);

/* Open connections (including those closing). */
size_t http_guard_connections(const http_guard *g);

/* Frees the guard; call after evhttp_free. */
void http_guard_free(http_guard *g);

#endif
