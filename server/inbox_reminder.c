/* inbox_reminder: the thread that queues one reminder per overdue follow-up item (see inbox.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inbox.h"
#include "log.h"
#include "outbox.h"
#include "util.h"

#define DEFAULT_REMINDER_POLL_MS INT64_C(15000)

/* ---- The reminder thread ------------------------------------------------------------------------- */

struct inbox_reminder {
	store *st;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;               /* guarded by mu */
	int64_t poll_ms;
};

/* EARSHOT_TEST_REMINDER_POLL_MS when a positive number (tests), else 15 s. */
static int64_t reminder_poll_ms(void)
{
	const char *env = getenv("EARSHOT_TEST_REMINDER_POLL_MS");
	if (env && *env) {
		char *end;
		long long v = strtoll(env, &end, 10);
		if (*end == '\0' && v > 0 && v <= 3600000)
			return v;
	}
	return DEFAULT_REMINDER_POLL_MS;
}

/* Queues due reminders, then sleeps a poll or until stopped. */
static void *reminder_main(void *arg)
{
	inbox_reminder *ir = arg;
	pthread_mutex_lock(&ir->mu);
	while (!ir->stopping) {
		pthread_mutex_unlock(&ir->mu);
		int queued = 0;
		char *err = NULL;
		if (inbox_queue_reminders(ir->st, now_ms(), &queued, &err) != 0)
			log_line("inbox reminders: %s", err ? err : "failed");
		else if (queued) {
			log_line("inbox: %d reminder(s) queued for overdue items", queued);
			outbox_notify(); /* the delivery worker sends them now rather than at its next poll */
		}
		free(err);
		struct timespec deadline;
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += (time_t)(ir->poll_ms / 1000);
		deadline.tv_nsec += (long)(ir->poll_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&ir->mu);
		while (!ir->stopping && pthread_cond_timedwait(&ir->cv, &ir->mu, &deadline) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&ir->mu);
	return NULL;
}

/* Opens the connection and starts the thread. */
inbox_reminder *inbox_reminder_start(const earshot_config *cfg, char **err)
{
	inbox_reminder *ir = xcalloc(1, sizeof *ir);
	if (store_open(cfg->database, cfg->durability, false, &ir->st, err) != 0) {
		free(ir);
		return NULL;
	}
	ir->poll_ms = reminder_poll_ms();
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&ir->cv, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&ir->mu, NULL);
	int rc = pthread_create(&ir->thread, NULL, reminder_main, ir);
	if (rc != 0) {
		if (err)
			*err = xasprintf("start the inbox reminder thread: %s", strerror(rc));
		store_close(ir->st);
		pthread_cond_destroy(&ir->cv);
		pthread_mutex_destroy(&ir->mu);
		free(ir);
		return NULL;
	}
	return ir;
}

/* Stops the thread, closes the connection. */
void inbox_reminder_stop(inbox_reminder *ir)
{
	if (!ir)
		return;
	pthread_mutex_lock(&ir->mu);
	ir->stopping = true;
	pthread_cond_broadcast(&ir->cv);
	pthread_mutex_unlock(&ir->mu);
	pthread_join(ir->thread, NULL);
	store_close(ir->st);
	pthread_cond_destroy(&ir->cv);
	pthread_mutex_destroy(&ir->mu);
	free(ir);
}
