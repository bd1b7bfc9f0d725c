/* lazy_lib: dlopen on first use, with the outcome kept for every later call. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazy_lib.h"

int lazy_lib_load(lazy_lib *lib, const char **error)
{
	int state = atomic_load_explicit(&lib->state, memory_order_acquire);
	if (state == LAZY_UNTRIED) {
		pthread_mutex_lock(&lib->mu);
		state = atomic_load_explicit(&lib->state, memory_order_relaxed);
		if (state == LAZY_UNTRIED) {
			const char *override = lib->env ? getenv(lib->env) : NULL;
			const char *file = override && *override ? override : lib->soname;
			void *handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
			const char *missing = NULL;
			if (!handle) {
				const char *why = dlerror();
				/* glibc's message starts with the file name: say it once. */
				size_t n = strlen(file);
				if (why && strncmp(why, file, n) == 0 && strncmp(why + n, ": ", 2) == 0)
					why += n + 2;
				snprintf(lib->error, sizeof lib->error, "cannot load %s: %s", file, why ? why : "unknown error");
			} else if ((missing = lib->resolve(handle)) != NULL) {
				snprintf(lib->error, sizeof lib->error, "cannot load %s: it has no function %s (too old?)",
				         file, missing);
				/* The handle stays open: dlclose of a half-used library buys nothing. */
			}
			state = handle && !missing ? LAZY_LOADED : LAZY_FAILED;
			atomic_store_explicit(&lib->state, state, memory_order_release);
		}
		pthread_mutex_unlock(&lib->mu);
	}
	if (state == LAZY_LOADED)
		return 0;
	if (error)
		*error = lib->error;
	return -1;
}

void lazy_lib_need(lazy_lib *lib)
{
	const char *error = NULL;
	if (lazy_lib_load(lib, &error) != 0) {
		fprintf(stderr, "earshot: %s\n", error);
		abort();
	}
}
