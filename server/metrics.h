/* metrics: process-wide counters for GET /metrics (routes_metrics.c) that other modules bump. */
#ifndef EARSHOT_METRICS_H
#define EARSHOT_METRICS_H

/* Counts one error answer (status >= 400) by status and code. Any thread; code is copied when it
 * is first seen (at most 64 distinct codes are told apart, the rest count as "other"). */
void metrics_note_refusal(int status, const char *code);

#endif
