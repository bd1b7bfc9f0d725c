/* fake_host_config.h: the config half of a fake host table for unit tests that drive a plugin
 * through its descriptor: a config handle over a JSON document, dotted paths ("rules.0.when.lte"),
 * and the error and log functions. Included by one test program each (the functions are static). */
#ifndef EARSHOT_FAKE_HOST_CONFIG_H
#define EARSHOT_FAKE_HOST_CONFIG_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "earshot/plugin.h"

struct earshot_conf {
	json_t *root;
};

static char *last_err;

__attribute__((format(printf, 2, 3))) static inline void fake_set_error(const void *h, const char *fmt, ...)
{
	(void)h;
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL; /* formatted first: an argument may be the previous message */
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	free(last_err);
	last_err = msg;
}

static inline const char *fake_last_error(const void *h)
{
	(void)h;
	return last_err;
}

static inline void fake_log(const void *h, enum earshot_log_level level, const char *fmt, ...)
{
	(void)h;
	(void)level;
	(void)fmt;
}

/* Walks a dotted path ("rules.0.when.lte") from the root. */
static inline json_t *conf_get(const earshot_conf *c, const char *path)
{
	json_t *node = c->root;
	if (!path || !*path)
		return node;
	char *copy = strdup(path), *save = NULL;
	for (char *part = strtok_r(copy, ".", &save); part && node; part = strtok_r(NULL, ".", &save)) {
		if (json_is_array(node)) {
			char *end;
			long i = strtol(part, &end, 10);
			node = *end ? NULL : json_array_get(node, (size_t)i);
		} else {
			node = json_object_get(node, part);
		}
	}
	free(copy);
	return node;
}

static inline int fake_config_type(const earshot_conf *c, const char *path)
{
	json_t *v = conf_get(c, path);
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT: return EARSHOT_TYPE_MAP;
	case JSON_ARRAY: return EARSHOT_TYPE_LIST;
	case JSON_STRING: return EARSHOT_TYPE_STRING;
	case JSON_INTEGER: return EARSHOT_TYPE_INT;
	case JSON_REAL: return EARSHOT_TYPE_NUMBER;
	case JSON_TRUE: case JSON_FALSE: return EARSHOT_TYPE_BOOL;
	default: return v ? EARSHOT_TYPE_NULL : EARSHOT_TYPE_ABSENT;
	}
}

static inline int fake_config_string(const earshot_conf *c, const char *path, const char **out)
{
	json_t *v = conf_get(c, path);
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		fake_set_error(c, "\"%s\" must be a string", path);
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

static inline int fake_config_number(const earshot_conf *c, const char *path, double *out)
{
	json_t *v = conf_get(c, path);
	if (!v)
		return 0;
	if (!json_is_number(v))
		return -1;
	*out = json_number_value(v);
	return 1;
}

static inline int fake_config_bool(const earshot_conf *c, const char *path, int *out)
{
	json_t *v = conf_get(c, path);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return -1;
	*out = json_is_true(v);
	return 1;
}

static inline size_t fake_config_length(const earshot_conf *c, const char *path)
{
	json_t *v = conf_get(c, path);
	return json_is_array(v) ? json_array_size(v) : json_object_size(v);
}

static inline const char *fake_config_key(const earshot_conf *c, const char *path, size_t index)
{
	json_t *obj = conf_get(c, path);
	void *it = json_object_iter(obj);
	while (it && index--)
		it = json_object_iter_next(obj, it);
	return it ? json_object_iter_key(it) : NULL;
}

#endif
