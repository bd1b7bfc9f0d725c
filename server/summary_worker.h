/* summary_worker: builds summaries (summary.h) on a thread of its own, with its own read-only
 * connection, so that a summary over a million answers never holds up the event loop; the finished
 * job comes back to the loop thread, where the reply is sent. */
#ifndef EARSHOT_SUMMARY_WORKER_H
#define EARSHOT_SUMMARY_WORKER_H

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "form.h"
#include "response_filter.h"

typedef struct summary_worker summary_worker;
typedef struct summary_job summary_job;

struct summary_job {
	/* Set by the submitter, owned by the job (summary_job_free). */
	form_registry *reg;          /* a reference keeping form alive */
	const form *form;
	response_filter filter;
	void (*done)(summary_job *job, void *arg); /* called once, on the event loop thread */
	void *done_arg;
	/* The outcome, valid in done(): body, or err when the summary could not be read. */
	json_t *body;
	char *err;
	summary_job *next;           /* private to the worker */
};

/* Opens a read-only connection to db_path and starts the thread; done() callbacks run on base's
 * thread (loop_wake.h). Returns NULL with *err (caller frees). */
summary_worker *summary_worker_start(const char *db_path, durability_mode durability, struct event_base *base,
                                     char **err);
/* Queues job (ownership passes until done() runs; done() frees it or keeps it). Thread: event loop. */
void summary_worker_submit(summary_worker *w, summary_job *job);
/* Finishes the queued jobs, stops the thread, runs the remaining done() callbacks on the calling
 * thread and closes the connection. NULL is allowed. */
void summary_worker_stop(summary_worker *w);

/* A new empty job (filter cleared). */
summary_job *summary_job_new(void);
/* Frees the job and what it owns, its registry reference included (loop thread). NULL is allowed. */
void summary_job_free(summary_job *job);

#endif
