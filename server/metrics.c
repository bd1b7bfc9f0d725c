/* metrics: the refusal counters (metrics.h), kept free of other modules so anything may link them. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "metrics_internal.h"

#define MAX_CODES 64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct refusal_count table[MAX_CODES + 1];
static size_t used;

/* Finds or adds (status, code), then counts one. */
void metrics_note_refusal(int status, const char *code)
{
	if (status < 400 || !code)
		return;
	pthread_mutex_lock(&mu);
	size_t i = 0;
	while (i < used && !(table[i].status == status && strcmp(table[i].code, code) == 0))
		i++;
	if (i == used) {
		if (used < MAX_CODES) {
			table[used].status = status;
			snprintf(table[used].code, sizeof table[used].code, "%s", code);
			used++;
		} else {
			i = MAX_CODES;
			table[i].status = 0;
			snprintf(table[i].code, sizeof table[i].code, "other");
		}
	}
	table[i].count++;
	pthread_mutex_unlock(&mu);
}

/* Copies the counters seen so far into out (room for MAX_CODES + 1). Returns how many. */
size_t metrics_refusals(struct refusal_count *out, size_t room)
{
	pthread_mutex_lock(&mu);
	size_t n = 0;
	for (size_t i = 0; i <= MAX_CODES && n < room; i++)
		if (table[i].count)
			out[n++] = table[i];
	pthread_mutex_unlock(&mu);
	return n;
}
