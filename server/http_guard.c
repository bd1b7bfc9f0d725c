/* http_guard: the connection layer in front of evhttp (see http_guard.h).
 *
 * Each accepted socket gets a socket bufferevent and, on top of it, a filter bufferevent that evhttp
 * reads from and writes to:
 *   - input: the filter runs the framing checker over the raw bytes and moves (without copying)
 *     only checked bytes to evhttp, one request at a time: the next request's bytes wait until the
 *     reply to the previous one is complete. Chunk extensions are checked and dropped (evhttp
 *     cannot read a chunk size followed by one). A violation is answered by the guard itself (JSON, with
 *     `Connection: close`), nothing more from that connection reaches evhttp, and the connection
 *     lingers briefly to read and discard what the client still sends, so that its close does not
 *     turn into a reset that could swallow the answer.
 *   - output: the filter writes evhttp's bytes straight to the socket, and tells evhttp that a reply
 *     is written only once the kernel has every byte of it. evhttp shuts the socket down as soon as
 *     it believes a `Connection: close` reply is written; with an ordinary filter the tail of such a
 *     reply would still sit in the socket bufferevent and be lost.
 * evhttp owns the filter and frees it; the guard's per-connection state goes with it (the filter's
 * free_context), and the filter frees the socket bufferevent, which closes the socket. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "http.h"
#include "http_frame.h"
#include "http_guard.h"
#include "util.h"

#define READ_HIGH_WATERMARK (256 * 1024) /* bytes read ahead of the checker per connection */
#define ACCEPT_PAUSE_MS 100              /* accepting pauses this long when descriptors run out */
#define LINGER_SECONDS 2                 /* a refused connection is read and discarded this long */
#define MAX_LINGERS 256                  /* at most this many at once; beyond, refusals close at once */
#define FD_RESERVE 64                    /* descriptors kept for the database, plugins, deliveries */
#define LIMIT_LOG_INTERVAL_MS 10000      /* the connection limit is logged at most this often */

/* At most one log line per interval for a recurring event; count says how often it happened. */
typedef struct log_gate {
	int64_t last_ms;
	bool logged;
	unsigned long count;
} log_gate;

typedef struct guard_conn guard_conn;

struct guard_conn {
	http_guard *g;
	struct bufferevent *filter;    /* owned by evhttp */
	struct bufferevent *sock;      /* owned by filter */
	evutil_socket_t fd;            /* -1 until evhttp gave the socket */
	http_frame frame;
	uint64_t forwarded;            /* requests whose last byte went to evhttp */
	uint64_t answered;             /* requests whose reply evhttp completed */
	struct evhttp_request *current;/* the request handed to the server, until it completes */
	struct event *deadline;        /* the whole-head deadline */
	struct event *kick;            /* deferred: push output, let held input in */
	struct event *writable;        /* created when the socket first refuses bytes */
	struct evbuffer *refusal;      /* the guard's own reply being written, or NULL */
	bool refused;                  /* framing broken: nothing more goes to evhttp */
	bool closing;                  /* evhttp was asked to close the connection */
	bool may_write;                /* set around the guard's own flush of evhttp's output */
	TAILQ_ENTRY(guard_conn) link;
};

typedef struct lingerer {
	http_guard *g;
	struct event *ev;
	evutil_socket_t fd;
	LIST_ENTRY(lingerer) link;
} lingerer;

struct http_guard {
	struct event_base *base;
	int max_connections;
	uint64_t max_body;
	struct timeval header_timeout;
	TAILQ_HEAD(, guard_conn) conns;   /* oldest first */
	LIST_HEAD(, lingerer) lingers;
	size_t n_lingers;
	size_t n_conns;
	size_t n_closing;
	guard_conn **by_fd;               /* connections by socket, for requests evhttp hands over */
	size_t by_fd_size;
	bool draining;
	bool freeing;                     /* http_guard_free ran; the last connection frees the guard */
	struct evconnlistener *listener;
	struct event *resume;
	log_gate accept_gate, limit_gate;
};

static http_guard *listener_guard;   /* the guard whose listener reports accept errors */
static log_gate libevent_gate;

/* Counts one occurrence; true (with *count, the occurrences since the last line) when a line may be
 * logged now, at most once every interval_ms. */
static bool gate_open(log_gate *gt, int64_t interval_ms, unsigned long *count)
{
	gt->count++;
	int64_t now = monotonic_ms();
	if (gt->logged && now - gt->last_ms < interval_ms)
		return false;
	gt->logged = true;
	gt->last_ms = now;
	*count = gt->count;
	gt->count = 0;
	return true;
}

/* libevent's own warnings, rate-limited like everything that an attacker can repeat. */
static void libevent_log(int severity, const char *msg)
{
	unsigned long count;
	if (severity >= EVENT_LOG_WARN && gate_open(&libevent_gate, 1000, &count))
		log_line("libevent: %s (%lu time(s) since the last such line)", msg, count);
}

long http_guard_raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	rlim_t want = rl.rlim_max == RLIM_INFINITY ? (rlim_t)1048576 : rl.rlim_max;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = want;
		setrlimit(RLIMIT_NOFILE, &rl); /* a refusal leaves the old figure, read back below */
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)LONG_MAX ? LONG_MAX : (long)rl.rlim_cur;
}

int http_guard_connection_cap(long fd_limit, int wanted)
{
	if (fd_limit <= 0)
		return wanted;
	/* Room for the server's own files and for one accept burst (the listen backlog) whose evicted
	 * connections close only on the next turn of the loop. */
	long room = fd_limit - FD_RESERVE - fd_limit / 8;
	if (room < 16)
		room = 16;
	return room < wanted ? (int)room : wanted;
}

/* True while evhttp still owns the connection (it clears the callbacks when it frees it). */
static bool conn_alive(const guard_conn *c)
{
	bufferevent_event_cb eventcb = NULL;
	bufferevent_getcb(c->filter, NULL, NULL, &eventcb, NULL);
	return eventcb != NULL;
}

/* Learns the socket once evhttp has given it, and files the connection under it. */
static void conn_learn_fd(guard_conn *c)
{
	if (c->fd >= 0)
		return;
	evutil_socket_t fd = bufferevent_getfd(c->sock);
	if (fd < 0)
		return;
	http_guard *g = c->g;
	if ((size_t)fd >= g->by_fd_size) {
		size_t size = g->by_fd_size ? g->by_fd_size : 1024;
		while (size <= (size_t)fd)
			size *= 2;
		g->by_fd = xrealloc(g->by_fd, size * sizeof *g->by_fd);
		memset(g->by_fd + g->by_fd_size, 0, (size - g->by_fd_size) * sizeof *g->by_fd);
		g->by_fd_size = size;
	}
	g->by_fd[fd] = c;
	c->fd = fd;
}

/* Asks evhttp to close the connection, on the next turn of the loop (as if the client had closed
 * it): evhttp may be inside a callback of this connection now, or not have set it up yet. */
static void conn_close(guard_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	c->g->n_closing++;
	event_del(c->deadline);
	event_active(c->kick, EV_TIMEOUT, 0);
}

/* ---- lingering close of refused connections ---------------------------------------------------- */

/* Ends a linger: closes its descriptor and frees it. */
static void linger_end(http_guard *g, lingerer *l)
{
	g->n_lingers--;
	LIST_REMOVE(l, link);
	event_free(l->ev);
	close(l->fd);
	free(l);
}

/* Reads and discards what a refused client still sends; ends at its close, an error or the timeout. */
static void on_linger(evutil_socket_t fd, short what, void *arg)
{
	lingerer *l = arg;
	if (what & EV_TIMEOUT) {
		linger_end(l->g, l);
		return;
	}
	char scratch[16384];
	for (;;) {
		ssize_t n = recv(fd, scratch, sizeof scratch, 0);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		linger_end(l->g, l);
		return;
	}
}

/* Keeps reading (and discarding) from the socket of c on a descriptor of its own for a moment after
 * evhttp closes it, so that unread request bytes do not turn the close into a reset. */
static void linger_start(guard_conn *c)
{
	if (c->fd < 0 || c->g->n_lingers >= MAX_LINGERS)
		return; /* a flood of refusals may not pile up descriptors: close at once */
	int fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return; /* out of descriptors: close at once */
	lingerer *l = xcalloc(1, sizeof *l);
	l->g = c->g;
	l->fd = fd;
	c->g->n_lingers++;
	l->ev = event_new(c->g->base, fd, EV_READ | EV_PERSIST, on_linger, l);
	struct timeval limit = { LINGER_SECONDS, 0 };
	event_add(l->ev, &limit);
	LIST_INSERT_HEAD(&c->g->lingers, l, link);
}

/* ---- the guard's own replies ------------------------------------------------------------------- */

/* The error code of a refusal with status, and its reason phrase in *phrase (both static). */
static const char *refusal_code(int status, const char **phrase)
{
	switch (status) {
	case 408: *phrase = "Request Timeout"; return "request_timeout";
	case 413: *phrase = "Payload Too Large"; return "too_large";
	case 414: *phrase = "URI Too Long"; return "uri_too_long";
	case 431: *phrase = "Request Header Fields Too Large"; return "headers_too_large";
	case 501: *phrase = "Not Implemented"; return "not_implemented";
	default: *phrase = "Bad Request"; return "bad_request";
	}
}

static void arm_writable(guard_conn *c);

/* Writes what is left of the refusal; once it is all out, closes the connection with a linger. */
static void write_refusal(guard_conn *c)
{
	int n = evbuffer_write(c->refusal, c->fd);
	bool failed = n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
	if (!failed && evbuffer_get_length(c->refusal) > 0) {
		arm_writable(c);
		return;
	}
	evbuffer_free(c->refusal);
	c->refusal = NULL;
	if (!failed)
		linger_start(c);
	conn_close(c);
}

/* Refuses the connection's current request: a JSON error with `Connection: close`, written by the
 * guard (evhttp has no reply of its own in progress: the request is incomplete), then close. */
static void refuse(guard_conn *c, int status, const char *reason)
{
	c->refused = true;
	event_del(c->deadline);
	conn_learn_fd(c);
	if (c->fd < 0 || !conn_alive(c)) {
		conn_close(c);
		return;
	}
	const char *phrase;
	const char *code = refusal_code(status, &phrase);
	char body[512];
	int len = snprintf(body, sizeof body, "{\"error\":\"%s\",\"message\":\"%s\"}\n", code, reason);
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	c->refusal = evbuffer_new();
	evbuffer_add_printf(c->refusal,
	                    "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: application/json; charset=utf-8\r\n"
	                    "Content-Length: %d\r\nConnection: close\r\nCache-Control: no-store\r\n"
	                    "X-Content-Type-Options: nosniff\r\n\r\n%s",
	                    status, phrase, date, len, body);
	write_refusal(c);
}

/* ---- the filter -------------------------------------------------------------------------------- */

/* (Re)arms the whole-head deadline while a head is awaited, and clears it otherwise. The deadline
 * runs from the moment the connection could send its next request, not from its last byte. */
static void update_deadline(guard_conn *c)
{
	bool awaiting_head = !c->refused && !c->closing && c->answered == c->forwarded &&
	                     http_frame_in_head(&c->frame);
	if (!awaiting_head)
		event_del(c->deadline);
	else if (!event_pending(c->deadline, EV_TIMEOUT, NULL))
		event_add(c->deadline, &c->g->header_timeout);
}

/* The input filter: checks bytes and moves those that frame correctly to evhttp, one request at a
 * time. Returns BEV_OK when it moved any. */
static enum bufferevent_filter_result guard_input(struct evbuffer *src, struct evbuffer *dst,
                                                  ev_ssize_t limit, enum bufferevent_flush_mode mode,
                                                  void *ctx)
{
	(void)limit;
	(void)mode;
	guard_conn *c = ctx;
	conn_learn_fd(c);
	if (c->refused || c->closing) {
		evbuffer_drain(src, evbuffer_get_length(src));
		return BEV_NEED_MORE;
	}
	bool moved = false;
	while (evbuffer_get_length(src) > 0) {
		/* The next request waits for the reply to this one; none is read at all during a drain. */
		if (c->answered < c->forwarded || (c->g->draining && http_frame_between_requests(&c->frame)))
			break;
		if (http_frame_between_requests(&c->frame)) {
			/* Empty lines before a request line are ignored (RFC 9112, 2.2); evhttp would not. */
			unsigned char two[2];
			ev_ssize_t have = evbuffer_copyout(src, two, 2);
			if (have >= 1 && two[0] == '\r') {
				if (have == 1)
					break; /* wait for the LF */
				if (two[1] == '\n') {
					evbuffer_drain(src, 2);
					continue;
				}
			}
		}
		struct evbuffer_iovec vec[16];
		int n = evbuffer_peek(src, -1, NULL, vec, 16);
		if (n > 16)
			n = 16;
		size_t take = 0;
		bool dropping = http_frame_dropping(&c->frame); /* a chunk extension: checked, not passed on */
		http_frame_result r = HTTP_FRAME_MORE;
		for (int i = 0; i < n && r == HTTP_FRAME_MORE; i++) {
			size_t used = 0;
			r = http_frame_feed(&c->frame, vec[i].iov_base, vec[i].iov_len, &used);
			take += used;
		}
		if (r == HTTP_FRAME_INVALID) {
			evbuffer_drain(src, evbuffer_get_length(src));
			refuse(c, c->frame.status, c->frame.reason);
			return moved ? BEV_OK : BEV_NEED_MORE;
		}
		if (dropping) {
			evbuffer_drain(src, take);
		} else if (take > 0) {
			evbuffer_remove_buffer(src, dst, take);
			moved = true;
		}
		if (r == HTTP_FRAME_END)
			c->forwarded++;
	}
	update_deadline(c);
	return moved ? BEV_OK : BEV_NEED_MORE;
}

/* The output filter: writes evhttp's bytes straight to the socket. BEV_OK once it wrote some (or
 * there was nothing to write); BEV_NEED_MORE while the socket takes nothing, with a wake-up armed.
 * It writes only when the guard flushes (flush_output), never while evhttp is adding to the buffer:
 * evhttp adds a chunk and only then says what to call once it is written, so a write that finished
 * inside the add would leave that call waiting forever. */
static enum bufferevent_filter_result guard_output(struct evbuffer *src, struct evbuffer *dst,
                                                   ev_ssize_t limit, enum bufferevent_flush_mode mode,
                                                   void *ctx)
{
	(void)dst;
	(void)limit;
	(void)mode;
	guard_conn *c = ctx;
	if (!c->may_write)
		return BEV_NEED_MORE; /* on_output_added has scheduled the flush */
	c->may_write = false;
	conn_learn_fd(c);
	if (c->refused || c->fd < 0) {
		evbuffer_drain(src, evbuffer_get_length(src));
		return BEV_OK;
	}
	if (evbuffer_get_length(src) == 0)
		return BEV_NEED_MORE;
	int n = evbuffer_write(src, c->fd);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		/* The peer is gone; evhttp learns it from the read side. */
		evbuffer_drain(src, evbuffer_get_length(src));
		return BEV_OK;
	}
	if (evbuffer_get_length(src) > 0)
		arm_writable(c);
	return n > 0 || evbuffer_get_length(src) == 0 ? BEV_OK : BEV_NEED_MORE;
}

/* Lets the output filter write once: what evhttp queued goes to the socket. */
static void flush_output(guard_conn *c)
{
	c->may_write = true;
	bufferevent_flush(c->filter, EV_WRITE, BEV_NORMAL);
	c->may_write = false;
}

/* The socket takes bytes again: continue the guard's own refusal or evhttp's reply. */
static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	guard_conn *c = arg;
	if (!conn_alive(c))
		return;
	if (c->refusal)
		write_refusal(c);
	else
		flush_output(c);
}

/* Waits (once) for the socket to take bytes again. */
static void arm_writable(guard_conn *c)
{
	if (!c->writable)
		c->writable = event_new(c->g->base, c->fd, EV_WRITE, on_writable, c);
	event_add(c->writable, NULL);
}

/* evhttp adds to the output while writing is still disabled and enables it afterwards, which a
 * filter does not notice: push the bytes on the next turn of the loop. */
static void on_output_added(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	(void)buf;
	guard_conn *c = arg;
	if (info->n_added > 0)
		event_active(c->kick, EV_WRITE, 0);
}

/* Deferred work of a connection: asks evhttp to close it, or pushes queued output to the socket and
 * lets held input in once the previous reply is complete. */
static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	guard_conn *c = arg;
	if (!conn_alive(c))
		return;
	if (c->closing) {
		bufferevent_trigger_event(c->filter, BEV_EVENT_EOF | BEV_EVENT_READING, 0);
		return;
	}
	if (evbuffer_get_length(bufferevent_get_output(c->filter)) > 0)
		flush_output(c);
	if (conn_alive(c) && !c->closing && c->answered == c->forwarded &&
	    evbuffer_get_length(bufferevent_get_input(c->sock)) > 0)
		bufferevent_trigger(c->sock, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
}

/* The whole-head deadline passed: an idle connection is closed, a partial head gets 408. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	guard_conn *c = arg;
	if (!conn_alive(c) || c->closing || c->refused)
		return;
	if (http_frame_between_requests(&c->frame))
		conn_close(c); /* idle: nothing to answer */
	else
		refuse(c, 408, "The request head did not arrive within the header timeout.");
}

/* evhttp finished the reply to a request: the next request may come in (or, during a drain, the
 * connection closes). */
static void on_request_complete(struct evhttp_request *req, void *arg)
{
	(void)req;
	guard_conn *c = arg;
	c->current = NULL;
	if (c->answered >= c->forwarded) {
		/* evhttp answered a request the guard never saw end: the two are out of step, stop here */
		conn_close(c);
		return;
	}
	c->answered++;
	if (c->g->draining) {
		conn_close(c);
		return;
	}
	if (c->answered == c->forwarded) {
		event_add(c->deadline, &c->g->header_timeout);
		event_active(c->kick, EV_READ, 0);
	}
}

static void guard_free_if_done(http_guard *g);

/* The filter's free_context: evhttp has let go of the connection. */
static void conn_free(void *arg)
{
	guard_conn *c = arg;
	http_guard *g = c->g;
	TAILQ_REMOVE(&g->conns, c, link);
	g->n_conns--;
	if (c->closing)
		g->n_closing--;
	if (c->fd >= 0 && (size_t)c->fd < g->by_fd_size && g->by_fd[c->fd] == c)
		g->by_fd[c->fd] = NULL;
	event_free(c->deadline);
	event_free(c->kick);
	if (c->writable)
		event_free(c->writable);
	if (c->refusal)
		evbuffer_free(c->refusal);
	free(c);
	guard_free_if_done(g);
}

/* Closes the oldest connection that is idle or still receiving its head, to make room for newer
 * ones; the newest connection (just) itself when there is none. */
static void make_room(http_guard *g, guard_conn *just)
{
	guard_conn *victim = just;
	for (guard_conn *c = TAILQ_FIRST(&g->conns); c && c != just; c = TAILQ_NEXT(c, link)) {
		if (!c->closing && !c->refused && c->answered == c->forwarded && http_frame_in_head(&c->frame)) {
			victim = c;
			break;
		}
	}
	conn_close(victim);
	unsigned long count;
	if (gate_open(&g->limit_gate, LIMIT_LOG_INTERVAL_MS, &count))
		log_line("%d connections open (limits.max_connections or the open-files limit): closed %lu "
		         "idle or slow connection(s) since the last such line", g->max_connections, count);
}

/* evhttp's bufferevent callback: a new connection. Returns the filter evhttp will use. */
static struct bufferevent *on_new_connection(struct event_base *base, void *arg)
{
	http_guard *g = arg;
	guard_conn *c = xcalloc(1, sizeof *c);
	c->g = g;
	c->fd = -1;
	http_frame_init(&c->frame);
	c->frame.max_length = g->max_body;
	c->sock = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!c->sock) {
		free(c);
		return NULL;
	}
	c->filter = bufferevent_filter_new(c->sock, guard_input, guard_output, BEV_OPT_CLOSE_ON_FREE,
	                                   conn_free, c);
	if (!c->filter) {
		bufferevent_free(c->sock);
		free(c);
		return NULL;
	}
	bufferevent_setwatermark(c->sock, EV_READ, 0, READ_HIGH_WATERMARK);
	c->deadline = evtimer_new(base, on_deadline, c);
	c->kick = event_new(base, -1, 0, on_kick, c);
	evbuffer_add_cb(bufferevent_get_output(c->filter), on_output_added, c);
	TAILQ_INSERT_TAIL(&g->conns, c, link);
	g->n_conns++;
	event_add(c->deadline, &g->header_timeout);
	if (g->n_conns - g->n_closing > (size_t)g->max_connections)
		make_room(g, c);
	return c->filter;
}

/* ---- accepting ----------------------------------------------------------------------------------- */

/* The pause after running out of descriptors is over: accept again (unless draining). */
static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	http_guard *g = arg;
	if (g->listener && !g->draining)
		evconnlistener_enable(g->listener);
}

/* accept() failed: out of descriptors (or memory) pauses accepting briefly instead of letting
 * libevent retry at once; every failure is counted and logged at most once a second. */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
	(void)arg;
	http_guard *g = listener_guard;
	int err = EVUTIL_SOCKET_ERROR();
	if (!g || lev != g->listener)
		return;
	bool out_of_resources = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
	if (out_of_resources) {
		evconnlistener_disable(lev);
		struct timeval pause = { 0, ACCEPT_PAUSE_MS * 1000 };
		event_add(g->resume, &pause);
	}
	unsigned long count;
	if (gate_open(&g->accept_gate, 1000, &count))
		log_line("accept failed: %s%s (%lu time(s) since the last such line)", strerror(err),
		         out_of_resources ? "; accepting paused briefly" : "", count);
}

/* ---- public ------------------------------------------------------------------------------------- */

http_guard *http_guard_new(struct event_base *base, struct evhttp *http, int max_connections,
                           int header_timeout, size_t max_body)
{
	http_guard *g = xcalloc(1, sizeof *g);
	g->base = base;
	g->max_body = max_body;
	g->max_connections = max_connections > 0 ? max_connections : 1;
	g->header_timeout.tv_sec = header_timeout;
	TAILQ_INIT(&g->conns);
	LIST_INIT(&g->lingers);
	g->resume = evtimer_new(base, on_resume, g);
	evhttp_set_bevcb(http, on_new_connection, g);
	event_set_log_callback(libevent_log);
	return g;
}

void http_guard_watch_listener(http_guard *g, struct evconnlistener *lev)
{
	g->listener = lev;
	listener_guard = g;
	if (lev)
		evconnlistener_set_error_cb(lev, on_accept_error);
}

void http_guard_request_started(http_guard *g, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (!g || !evcon)
		return;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	if (fd < 0 || (size_t)fd >= g->by_fd_size || !g->by_fd[fd] || g->by_fd[fd]->filter != bev)
		return;
	guard_conn *c = g->by_fd[fd];
	c->current = req;
	evhttp_request_set_on_complete_cb(req, on_request_complete, c);
	if (g->draining)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
}

void http_guard_drain(http_guard *g)
{
	if (!g || g->draining)
		return;
	g->draining = true;
	g->listener = NULL; /* evhttp frees it */
	event_del(g->resume);
	guard_conn *c, *next;
	for (c = TAILQ_FIRST(&g->conns); c; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->closing || c->refused)
			continue;
		if (c->answered == c->forwarded && http_frame_in_head(&c->frame)) {
			conn_close(c);
		} else if (c->current) {
			struct evkeyvalq *h = evhttp_request_get_output_headers(c->current);
			if (!evhttp_find_header(h, "Connection"))
				evhttp_add_header(h, "Connection", "close");
		}
	}
}

size_t http_guard_connections(const http_guard *g)
{
	return g ? g->n_conns : 0;
}

/* Frees the guard once http_guard_free ran and its last connection is gone. */
static void guard_free_if_done(http_guard *g)
{
	if (!g->freeing || g->n_conns > 0)
		return;
	free(g->by_fd);
	free(g);
}

void http_guard_free(http_guard *g)
{
	if (!g)
		return;
	if (listener_guard == g)
		listener_guard = NULL;
	while (!LIST_EMPTY(&g->lingers))
		linger_end(g, LIST_FIRST(&g->lingers));
	event_free(g->resume);
	g->resume = NULL;
	g->freeing = true;
	guard_free_if_done(g);
}
