/* loop_wake: an eventfd the event loop watches, signalled by worker threads (see loop_wake.h). */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop_wake.h"
#include "util.h"

struct loop_wake {
	int fd;
	struct event *ev;
	atomic_bool signalled;       /* a signal is in the eventfd, not yet taken by the loop */
	void (*cb)(void *arg);
	void *arg;
};

/* The eventfd is readable: take its count, then run the callback once. */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	loop_wake *w = arg;
	uint64_t count;
	/* Take the eventfd's count first, then clear the flag, then look for work. Clearing first would
	 * lose a signal: a worker seeing the flag clear writes the eventfd, this read takes that write
	 * too, and the flag stays set with nothing left to wake the loop — no later signal would write.
	 * In this order a signal sent before the flag clears finds it set and its work is seen by the
	 * callback below; one sent after writes a count that wakes the loop again. */
	while (read(fd, &count, sizeof count) < 0 && errno == EINTR) {
	}
	atomic_store(&w->signalled, false);
	w->cb(w->arg);
}

loop_wake *loop_wake_new(struct event_base *base, void (*cb)(void *arg), void *arg, char **err)
{
	loop_wake *w = xcalloc(1, sizeof *w);
	w->cb = cb;
	w->arg = arg;
	atomic_init(&w->signalled, false);
	w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->fd < 0) {
		*err = xasprintf("cannot make an eventfd: %s", strerror(errno));
		free(w);
		return NULL;
	}
	w->ev = event_new(base, w->fd, EV_READ | EV_PERSIST, on_readable, w);
	if (!w->ev || event_add(w->ev, NULL) != 0) {
		*err = xstrdup("cannot watch an eventfd");
		if (w->ev)
			event_free(w->ev);
		close(w->fd);
		free(w);
		return NULL;
	}
	return w;
}

void loop_wake_signal(loop_wake *w)
{
	if (atomic_exchange(&w->signalled, true))
		return; /* the loop has not taken the last signal yet: it will see this work too */
	uint64_t one = 1;
	while (write(w->fd, &one, sizeof one) < 0 && errno == EINTR) {
	}
}

void loop_wake_free(loop_wake *w)
{
	if (!w)
		return;
	event_free(w->ev);
	close(w->fd);
	free(w);
}
