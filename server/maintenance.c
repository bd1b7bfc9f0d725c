/* maintenance: retention purge on its own thread. SQLite's busy_timeout queues it behind the writer's
 * transactions, so answers keep flowing while old ones are deleted. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"
#include "maintenance.h"
#include "storage.h"
#include "util.h"

typedef struct purge_job {
	char *db_path;       /* owned */
	durability_mode durability;
	int64_t cutoff_ms;
} purge_job;

static bool purge_running;

static void *purge_thread(void *arg)
{
	purge_job *job = arg;
	store *st = NULL;
	char *err = NULL;
	int64_t deleted = 0;
	/* Outside a transaction the purge commits in small chunks, so the writer never waits long. */
	if (store_open(job->db_path, job->durability, false, &st, &err) == 0 &&
	    store_purge_before(st, job->cutoff_ms, &deleted, &err) == 0 && deleted > 0)
		log_line("retention: deleted %lld answer(s)", (long long)deleted);
	if (err)
		log_line("retention purge failed: %s", err);
	free(err);
	if (st)
		store_close(st);
	free(job->db_path);
	free(job);
	__atomic_store_n(&purge_running, false, __ATOMIC_RELEASE);
	return NULL;
}

void maintenance_purge_async(const char *db_path, durability_mode durability, int64_t cutoff_ms)
{
	if (__atomic_exchange_n(&purge_running, true, __ATOMIC_ACQ_REL))
		return;
	purge_job *job = xcalloc(1, sizeof *job);
	job->db_path = xstrdup(db_path);
	job->durability = durability;
	job->cutoff_ms = cutoff_ms;
	pthread_t tid;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, purge_thread, job) != 0) {
		log_line("retention purge not started: cannot create a thread");
		free(job->db_path);
		free(job);
		__atomic_store_n(&purge_running, false, __ATOMIC_RELEASE);
	}
	pthread_attr_destroy(&attr);
}
