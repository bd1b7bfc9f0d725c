/* ratelimit: a token bucket per client address (submissions_per_minute on public submission routes). */
#ifndef EARSHOT_RATELIMIT_H
#define EARSHOT_RATELIMIT_H

#include <stdint.h>

typedef struct ratelimit ratelimit;

/* A limiter allowing per_minute requests per key on average, with bursts of per_minute.
 * per_minute 0 disables limiting. Caller frees with ratelimit_free. */
ratelimit *ratelimit_new(int per_minute);
void ratelimit_free(ratelimit *rl);
/* Takes one token for key at time now_ms. Returns 0 when allowed, else the whole number of seconds
 * (at least 1) after which a token will be available. */
int ratelimit_take(ratelimit *rl, const char *key, int64_t now_ms);
/* Number of keys currently tracked (idle full buckets are forgotten). */
size_t ratelimit_size(const ratelimit *rl);

#endif
