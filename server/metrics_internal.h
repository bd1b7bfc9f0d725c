/* metrics_internal: what routes_metrics.c reads from metrics.c. */
#ifndef EARSHOT_METRICS_INTERNAL_H
#define EARSHOT_METRICS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

struct refusal_count {
	int status;
	char code[48];
	uint64_t count;
};

/* Copies up to room counters (status, code, count) into out. Returns how many. */
size_t metrics_refusals(struct refusal_count *out, size_t room);

#endif
