/* loop_wake: how a worker thread wakes the event loop to run a callback on the loop's thread.
 *
 * The server's event base is made without libevent's thread support: with it, every event_add and
 * event_del on the loop takes a mutex, on every request. The few threads that hand results back (the
 * writer, the summary worker) signal an eventfd instead, which the loop watches. */
#ifndef EARSHOT_LOOP_WAKE_H
#define EARSHOT_LOOP_WAKE_H

#include <event2/event.h>

typedef struct loop_wake loop_wake;

/* Makes a wake-up that runs cb(arg) on base's thread after loop_wake_signal. Returns NULL with *err
 * (caller frees). Thread: the loop's. */
loop_wake *loop_wake_new(struct event_base *base, void (*cb)(void *arg), void *arg, char **err);
/* Asks for one run of the callback; signals sent before it runs are merged into that run. Any thread. */
void loop_wake_signal(loop_wake *w);
/* Stops watching and frees (NULL is allowed); a pending run is dropped. Thread: the loop's. */
void loop_wake_free(loop_wake *w);

#endif
