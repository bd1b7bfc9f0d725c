/* summary_worker: a queue under a mutex, one thread taking jobs in order, and a wake-up the thread
 * signals to hand finished jobs back to the loop (as the writer does). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "loop_wake.h"
#include "storage.h"
#include "summary.h"
#include "summary_worker.h"
#include "util.h"

struct summary_worker {
	store *st;                   /* owned; used by the thread only (until stop joins it) */
	loop_wake *wake;             /* owned; runs the done() callbacks on the loop thread */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Under mu: */
	summary_job *queue_head, *queue_tail;
	summary_job *done_head, *done_tail;
	bool stopping;
};

summary_job *summary_job_new(void)
{
	summary_job *job = xcalloc(1, sizeof *job);
	response_filter_clear(&job->filter);
	return job;
}

void summary_job_free(summary_job *job)
{
	if (!job)
		return;
	response_filter_clear(&job->filter);
	json_decref(job->body);
	free(job->err);
	if (job->reg)
		form_registry_unref(job->reg);
	free(job);
}

/* Takes the done list and runs each job's done() (loop thread, or stop's caller after the join). */
static void deliver_done(summary_worker *w)
{
	pthread_mutex_lock(&w->mu);
	summary_job *job = w->done_head;
	w->done_head = w->done_tail = NULL;
	pthread_mutex_unlock(&w->mu);
	while (job) {
		summary_job *next = job->next;
		job->next = NULL;
		job->done(job, job->done_arg);
		job = next;
	}
}

static void wake_cb(void *arg)
{
	deliver_done(arg);
}

static void *worker_main(void *arg)
{
	summary_worker *w = arg;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (!w->queue_head && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
		summary_job *job = w->queue_head;
		if (job) {
			w->queue_head = job->next;
			if (!w->queue_head)
				w->queue_tail = NULL;
			job->next = NULL;
		}
		pthread_mutex_unlock(&w->mu);
		if (!job)
			break;
		job->body = summary_build(w->st, job->form, &job->filter, &job->err);
		pthread_mutex_lock(&w->mu);
		if (w->done_tail)
			w->done_tail->next = job;
		else
			w->done_head = job;
		w->done_tail = job;
		pthread_mutex_unlock(&w->mu);
		loop_wake_signal(w->wake);
	}
	return NULL;
}

summary_worker *summary_worker_start(const char *db_path, durability_mode durability, struct event_base *base,
                                     char **err)
{
	summary_worker *w = xcalloc(1, sizeof *w);
	if (store_open(db_path, durability, true, &w->st, err) != 0) {
		free(w);
		return NULL;
	}
	char *wake_err = NULL;
	w->wake = loop_wake_new(base, wake_cb, w, &wake_err);
	if (!w->wake) {
		*err = xasprintf("start the summary worker: %s", wake_err);
		free(wake_err);
		store_close(w->st);
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	int rc = pthread_create(&w->thread, NULL, worker_main, w);
	if (rc != 0) {
		*err = xasprintf("start the summary worker: cannot start its thread: %s", strerror(rc));
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		loop_wake_free(w->wake);
		store_close(w->st);
		free(w);
		return NULL;
	}
	return w;
}

void summary_worker_submit(summary_worker *w, summary_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->queue_tail)
		w->queue_tail->next = job;
	else
		w->queue_head = job;
	w->queue_tail = job;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void summary_worker_stop(summary_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	loop_wake_free(w->wake);
	deliver_done(w);
	store_close(w->st);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
