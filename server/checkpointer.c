/* checkpointer: PASSIVE WAL checkpoints off the writer thread (see checkpointer.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "checkpointer.h"
#include "http.h"
#include "util.h"

struct checkpointer {
	store *st;              /* owned; this thread's connection */
	store *writer_st;       /* borrowed: the writer's connection, used on the writer thread only */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool wanted;            /* under mu: a commit asked for a checkpoint */
	bool stopping;          /* under mu */
};

/* store_on_wal_commit callback, on the writer thread: wakes the checkpointer once the WAL is large. */
static void wal_committed(void *arg, int wal_pages)
{
	checkpointer *cp = arg;
	if (wal_pages < CHECKPOINT_PAGES)
		return;
	if (wal_pages >= CATCH_UP_PAGES) {
		/* PASSIVE: busy (the checkpointer is copying) means the next commit tries again. */
		char *err = NULL;
		if (store_checkpoint_passive(cp->writer_st, &err) != 0)
			log_line("%s", err);
		free(err);
		return;
	}
	pthread_mutex_lock(&cp->mu);
	if (!cp->wanted) {
		cp->wanted = true;
		pthread_cond_signal(&cp->cv);
	}
	pthread_mutex_unlock(&cp->mu);
}

/* The thread: waits for a request, checkpoints, until stopped. */
static void *checkpointer_main(void *arg)
{
	checkpointer *cp = arg;
	for (;;) {
		pthread_mutex_lock(&cp->mu);
		while (!cp->wanted && !cp->stopping)
			pthread_cond_wait(&cp->cv, &cp->mu);
		bool stop = cp->stopping;
		cp->wanted = false;
		pthread_mutex_unlock(&cp->mu);
		if (stop)
			return NULL;
		char *err = NULL;
		if (store_checkpoint_passive(cp->st, &err) != 0)
			log_line("%s", err);
		free(err);
	}
}

/* Opens the connection and starts the thread. */
checkpointer *checkpointer_start(const char *db_path, durability_mode durability, char **err)
{
	checkpointer *cp = xcalloc(1, sizeof *cp);
	if (store_open(db_path, durability, false, &cp->st, err) != 0) {
		free(cp);
		return NULL;
	}
	pthread_mutex_init(&cp->mu, NULL);
	pthread_cond_init(&cp->cv, NULL);
	int rc = pthread_create(&cp->thread, NULL, checkpointer_main, cp);
	if (rc != 0) {
		if (err)
			*err = xasprintf("start checkpointer: cannot start its thread: %s", strerror(rc));
		pthread_cond_destroy(&cp->cv);
		pthread_mutex_destroy(&cp->mu);
		store_close(cp->st);
		free(cp);
		return NULL;
	}
	return cp;
}

/* Routes writer_st's post-commit WAL sizes to cp. */
void checkpointer_watch(checkpointer *cp, store *writer_st)
{
	cp->writer_st = writer_st;
	store_on_wal_commit(writer_st, wal_committed, cp);
}

/* Stops and joins the thread, closes the connection, frees cp. */
void checkpointer_stop(checkpointer *cp)
{
	if (!cp)
		return;
	pthread_mutex_lock(&cp->mu);
	cp->stopping = true;
	pthread_cond_signal(&cp->cv);
	pthread_mutex_unlock(&cp->mu);
	pthread_join(cp->thread, NULL);
	store_close(cp->st);
	pthread_cond_destroy(&cp->cv);
	pthread_mutex_destroy(&cp->mu);
	free(cp);
}
