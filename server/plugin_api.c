/* plugin_api: the host function table plugins call (struct earshot_host) and the dispatch of the
 * on_response and on_route hooks. Every handle a plugin holds is one of the structs below; the host
 * call in progress on a thread (hook_call) collects error messages and names the plugin in logs.
 * Each api_NAME function implements the table member NAME: its contract (what it returns, who owns
 * what) is the comment on that member in include/earshot/plugin.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build-config.h"
#include "confirm.h"
#include "plugin_internal.h"
#include "plugin_marker.h"
#include "storage.h"
#include "util.h"

/* A list of strings freed together when a handle (or a query row) ends. */
typedef struct scratch {
	char **v;
	size_t n, cap;
} scratch;

struct earshot_response {
	handle_head head;        /* HANDLE_RESPONSE */
	hook_call call;
	store *st;
	writer_job *job;
	scratch keep;            /* strings handed to the plugin */
};

struct earshot_request {
	handle_head head;        /* HANDLE_REQUEST */
	hook_call call;
	plugin_host *host;
	const char *method;      /* borrowed from the caller */
	const char *path;        /* borrowed from the caller */
	const plugin_route *route;
	const route_params *params; /* borrowed; what route_match bound (decoded once, by the server) */
	const char *const *query_keys;   /* borrowed from the caller; decoded by the server */
	const char *const *query_values; /* borrowed from the caller */
	size_t n_query;
	const char *body;        /* borrowed from the caller */
	size_t body_len;
	scratch keep;            /* key-value values handed to the plugin */
	bool replied;
	int status;
	char *json;              /* owned; the reply */
	struct earshot_query *query; /* the open query, if any */
};

struct earshot_query {
	earshot_request *req;
	store_cursor *cur;
	response_record rec;
	bool row;                /* rec holds a row */
	scratch keep;            /* strings of the current row */
};

static _Thread_local hook_call *current_call;

bool plugin_instance_sees_form(const plugin_instance *inst, const char *form_id)
{
	for (size_t i = 0; i < inst->n_forms; i++)
		if (glob_match(inst->forms[i], form_id))
			return true;
	return false;
}

/* ---- Small helpers ------------------------------------------------------------------------------ */

/* Takes ownership of s, to be freed with the scratch list; returns s. */
static const char *scratch_keep(scratch *k, char *s)
{
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 8;
		k->v = xrealloc(k->v, k->cap * sizeof *k->v);
	}
	k->v[k->n++] = s;
	return s;
}

/* Frees every string kept; the list can be reused. */
static void scratch_clear(scratch *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	memset(k, 0, sizeof *k);
}

hook_call *hook_call_begin(hook_call *call, plugin_instance *inst, const char *hook)
{
	call->inst = inst;
	call->error = NULL;
	call->slot = strcmp(hook, "on_response") == 0 ? MARKER_WRITER : MARKER_LOOP;
	plugin_marker_enter((marker_slot)call->slot, inst->name, inst->path, inst->ident, hook);
	hook_call *prev = current_call;
	current_call = call;
	return prev;
}

void hook_call_end(hook_call *call, hook_call *previous)
{
	plugin_marker_leave((marker_slot)call->slot);
	free(call->error);
	call->error = NULL;
	current_call = previous;
}

/* Records msg (taking ownership) as the message of the hook call in progress on this thread. */
static void call_set_error(char *msg)
{
	if (!current_call) {
		free(msg);
		return;
	}
	free(current_call->error);
	current_call->error = msg;
}

/* Records a formatted message as the current call's error; returns EARSHOT_ERROR. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	call_set_error(msg);
	return EARSHOT_ERROR;
}

/* Moves a malloc'd error from the store into the current call's error; returns EARSHOT_ERROR. */
static int fail_with(char *err)
{
	call_set_error(err ? err : xstrdup("unknown error"));
	return EARSHOT_ERROR;
}

/* Name of a JSON value's type as a config author knows it. */
static const char *type_word(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "a mapping";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "a whole number";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "true/false";
	default: return "null";
	}
}

/* The earshot_type of a JSON value (NULL: absent). */
static int type_of(const json_t *v)
{
	if (!v)
		return EARSHOT_TYPE_ABSENT;
	switch (json_typeof(v)) {
	case JSON_OBJECT: return EARSHOT_TYPE_MAP;
	case JSON_ARRAY: return EARSHOT_TYPE_LIST;
	case JSON_STRING: return EARSHOT_TYPE_STRING;
	case JSON_INTEGER: return EARSHOT_TYPE_INT;
	case JSON_REAL: return EARSHOT_TYPE_NUMBER;
	case JSON_TRUE:
	case JSON_FALSE: return EARSHOT_TYPE_BOOL;
	default: return EARSHOT_TYPE_NULL;
	}
}

/* A JSON value as text: strings as given, numbers in decimal, true/false, lists joined with "; ",
 * mappings as JSON. Returns a malloc'd string, or NULL for NULL and null. */
static char *value_text(const json_t *v)
{
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return xasprintf("%.15g", json_real_value(v));
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "true" : "false");
	if (json_is_array(v)) {
		size_t len = 0, i;
		json_t *item;
		char **parts = xcalloc(json_array_size(v) + 1, sizeof *parts);
		json_array_foreach(v, i, item) {
			parts[i] = value_text(item);
			len += (parts[i] ? strlen(parts[i]) : 0) + 2;
		}
		char *out = xmalloc(len + 1), *o = out;
		for (i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				o += sprintf(o, "; ");
			if (parts[i])
				o += sprintf(o, "%s", parts[i]);
			free(parts[i]);
		}
		*o = '\0';
		free(parts);
		return out;
	}
	char *dump = json_dumps(v, JSON_COMPACT);
	return dump ? dump : xstrdup("");
}

/* 1 with *out when v is a JSON number, else 0 (*out untouched). */
static int number_out(const json_t *v, double *out)
{
	if (!json_is_number(v))
		return 0;
	*out = json_number_value(v);
	return 1;
}

/* ---- Log and errors ----------------------------------------------------------------------------- */

/* The plugin a handle belongs to; for NULL, the plugin of the hook call in progress on this thread
 * (NULL when none). */
static plugin_instance *handle_inst(const void *handle)
{
	if (handle)
		return ((const handle_head *)handle)->inst;
	return current_call ? current_call->inst : NULL;
}

/* The hook call a handle belongs to: a response's or request's own, or for a config handle the call
 * in progress for its plugin on this thread. NULL when there is none. */
static hook_call *handle_call(const void *handle)
{
	if (!handle)
		return current_call;
	const handle_head *head = handle;
	if (head->kind == HANDLE_RESPONSE)
		return &((earshot_response *)handle)->call;
	if (head->kind == HANDLE_REQUEST)
		return &((earshot_request *)handle)->call;
	return current_call && current_call->inst == head->inst ? current_call : NULL;
}

/* Writes one log line for inst (may be NULL) to its host's logger, or to stderr. */
static void log_for(plugin_instance *inst, int level, const char *msg)
{
	if (inst && inst->host->log_fn) {
		inst->host->log_fn(inst->host->log_arg, level, inst->name, msg);
	} else {
		static const char *const words[] = { "error", "warning", "info", "debug" };
		fprintf(stderr, "earshot: %s: plugin %s: %s\n",
		        level >= 0 && level <= 3 ? words[level] : "info", inst ? inst->name : "?", msg);
	}
}

void plugin_log(plugin_instance *inst, int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	log_for(inst, level, msg);
	free(msg);
}

/* Writes one log line of the plugin handle belongs to, newlines flattened. */
static void api_log(const void *handle, enum earshot_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void api_log(const void *handle, enum earshot_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	log_for(handle_inst(handle), (int)level, msg);
	free(msg);
}

/* Sets the message of the hook call handle belongs to (dropped when there is none). */
static void api_set_error(const void *handle, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void api_set_error(const void *handle, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	hook_call *call = handle_call(handle);
	if (!call) {
		free(msg);
		return;
	}
	free(call->error);
	call->error = msg;
}

/* The message of the hook call handle belongs to, or NULL. */
static const char *api_last_error(const void *handle)
{
	hook_call *call = handle_call(handle);
	return call ? call->error : NULL;
}

/* ---- Configuration ------------------------------------------------------------------------------ */

/* Walks path ("a.b.0.c") below node. Returns the value (borrowed) or NULL. */
static json_t *conf_walk(const earshot_conf *c, const char *path)
{
	if (!c)
		return NULL;
	json_t *v = c->node;
	if (!path || !*path)
		return v;
	const char *p = path;
	while (v && *p) {
		size_t n = strcspn(p, ".");
		char *seg = xstrndup(p, n);
		if (json_is_object(v)) {
			v = json_object_get(v, seg);
		} else if (json_is_array(v) && n > 0 && strspn(seg, "0123456789") == n && n < 10) {
			v = json_array_get(v, (size_t)strtoul(seg, NULL, 10));
		} else {
			v = NULL;
		}
		free(seg);
		p += n;
		if (*p == '.')
			p++;
	}
	return v;
}

/* Records "PATH must be WANT, not FOUND" for a config value of the wrong type; returns -1. */
static int conf_wrong_type(const char *path, const char *want, const json_t *found)
{
	fail("\"%s\" must be %s, not %s", path && *path ? path : "config", want, type_word(found));
	return -1;
}

/* The bit of an earshot_type in a conf_typed mask. */
#define TYPE_BIT(t) (1u << (t))

/* Looks up path for a typed getter: 1 with *out when the value's type is in mask, 0 when absent, -1
 * (the call's error names want) when it has another type. *out is borrowed. */
static int conf_typed(const earshot_conf *c, const char *path, unsigned mask, const char *want,
                      json_t **out)
{
	json_t *v = conf_walk(c, path);
	if (!v)
		return 0;
	if (!(mask & TYPE_BIT(type_of(v))))
		return conf_wrong_type(path, want, v);
	*out = v;
	return 1;
}

/* A handle for node, reusing one already handed out for the same node. */
static const earshot_conf *conf_handle(const earshot_conf *parent, json_t *node)
{
	if (!node)
		return NULL;
	plugin_instance *inst = parent->head.inst;
	pthread_mutex_lock(&inst->lock);
	struct earshot_conf *c;
	for (c = inst->nodes; c; c = c->next)
		if (c->node == node)
			break;
	if (!c) {
		c = xcalloc(1, sizeof *c);
		c->head = (handle_head){ HANDLE_CONF, inst };
		c->node = node;
		c->next = inst->nodes;
		inst->nodes = c;
	}
	pthread_mutex_unlock(&inst->lock);
	return c;
}

static int api_config_type(const earshot_conf *c, const char *path)
{
	return type_of(conf_walk(c, path));
}

static int api_config_string(const earshot_conf *c, const char *path, const char **out)
{
	json_t *v = NULL;
	int rc = conf_typed(c, path, TYPE_BIT(EARSHOT_TYPE_STRING), "a string", &v);
	if (rc == 1)
		*out = json_string_value(v);
	return rc;
}

static int api_config_int(const earshot_conf *c, const char *path, int64_t *out)
{
	json_t *v = NULL;
	int rc = conf_typed(c, path, TYPE_BIT(EARSHOT_TYPE_INT), "a whole number", &v);
	if (rc == 1)
		*out = json_integer_value(v);
	return rc;
}

static int api_config_number(const earshot_conf *c, const char *path, double *out)
{
	json_t *v = NULL;
	unsigned numbers = TYPE_BIT(EARSHOT_TYPE_INT) | TYPE_BIT(EARSHOT_TYPE_NUMBER);
	int rc = conf_typed(c, path, numbers, "a number", &v);
	if (rc == 1)
		*out = json_number_value(v);
	return rc;
}

static int api_config_bool(const earshot_conf *c, const char *path, int *out)
{
	json_t *v = NULL;
	int rc = conf_typed(c, path, TYPE_BIT(EARSHOT_TYPE_BOOL), "true or false", &v);
	if (rc == 1)
		*out = json_is_true(v);
	return rc;
}

static size_t api_config_length(const earshot_conf *c, const char *path)
{
	json_t *v = conf_walk(c, path);
	if (json_is_array(v))
		return json_array_size(v);
	if (json_is_object(v))
		return json_object_size(v);
	return 0;
}

static const earshot_conf *api_config_node(const earshot_conf *c, const char *path)
{
	return conf_handle(c, conf_walk(c, path));
}

/* The iterator of key number index of object, or NULL. */
static void *object_iter_at(json_t *object, size_t index)
{
	void *it = json_object_iter(object);
	for (size_t i = 0; it && i < index; i++)
		it = json_object_iter_next(object, it);
	return it;
}

static const earshot_conf *api_config_item(const earshot_conf *c, const char *path, size_t index)
{
	json_t *v = conf_walk(c, path);
	if (json_is_array(v))
		return conf_handle(c, json_array_get(v, index));
	if (json_is_object(v)) {
		void *it = object_iter_at(v, index);
		return it ? conf_handle(c, json_object_iter_value(it)) : NULL;
	}
	return NULL;
}

static const char *api_config_key(const earshot_conf *c, const char *path, size_t index)
{
	json_t *v = conf_walk(c, path);
	if (!json_is_object(v))
		return NULL;
	void *it = object_iter_at(v, index);
	return it ? json_object_iter_key(it) : NULL;
}

/* Frees the pieces of one route. */
static void route_clear(plugin_route *r)
{
	free(r->method);
	free(r->pattern);
}

void plugin_routes_free(plugin_instance *inst)
{
	for (size_t i = 0; i < inst->n_routes; i++)
		route_clear(&inst->routes[i]);
	free(inst->routes);
	inst->routes = NULL;
	inst->n_routes = 0;
}

static int api_add_route(const earshot_conf *c, const char *method, const char *pattern)
{
	if (!c || !method || !pattern)
		return fail("add_route: config, method and pattern are required");
	plugin_instance *inst = c->head.inst;
	if (inst->ready || !current_call || current_call->inst != inst)
		return fail("add_route: routes can only be registered in init");
	static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };
	bool known = false;
	for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
		known = known || strcmp(methods[i], method) == 0;
	if (!known)
		return fail("add_route: unknown method \"%s\"", method);
	plugin_route r = { 0 };
	if (!route_pattern_valid(pattern))
		return fail("add_route: malformed pattern \"%s\" (want /segment/{name}/…)", pattern);
	for (size_t i = 0; i < inst->n_routes; i++) {
		if (strcmp(inst->routes[i].method, method) == 0 && strcmp(inst->routes[i].pattern, pattern) == 0)
			return fail("add_route: %s %s is registered twice", method, pattern);
	}
	r.method = xstrdup(method);
	r.pattern = xstrdup(pattern);
	inst->routes = xrealloc(inst->routes, (inst->n_routes + 1) * sizeof *inst->routes);
	inst->routes[inst->n_routes++] = r;
	return EARSHOT_OK;
}

/* ---- The answer being stored -------------------------------------------------------------------- */

static const char *api_response_id(const earshot_response *r)
{
	return r->job->id;
}

static const char *api_response_form(const earshot_response *r)
{
	return r->job->form->id;
}

static int64_t api_response_created_ms(const earshot_response *r)
{
	return r->job->created_ms;
}

static size_t api_question_count(const earshot_response *r)
{
	return r->job->form->n_questions;
}

static const char *api_question_id(const earshot_response *r, size_t index)
{
	return index < r->job->form->n_questions ? r->job->form->questions[index].id : NULL;
}

static const char *api_question_type(const earshot_response *r, const char *id)
{
	const form *f = r->job->form;
	for (size_t i = 0; id && i < f->n_questions; i++)
		if (strcmp(f->questions[i].id, id) == 0)
			return question_type_name(f->questions[i].type);
	return NULL;
}

/* The answer to question id (borrowed), or NULL when unanswered (JSON null counts as unanswered). */
static json_t *answer_of(const earshot_response *r, const char *id)
{
	json_t *v = id && r->job->answers ? json_object_get(r->job->answers, id) : NULL;
	return json_is_null(v) ? NULL : v;
}

static size_t api_answered_count(const earshot_response *r)
{
	size_t n = 0;
	const form *f = r->job->form;
	for (size_t i = 0; i < f->n_questions; i++)
		n += answer_of(r, f->questions[i].id) != NULL;
	return n;
}

static const char *api_answered_id(const earshot_response *r, size_t index)
{
	const form *f = r->job->form;
	for (size_t i = 0; i < f->n_questions; i++)
		if (answer_of(r, f->questions[i].id) && index-- == 0)
			return f->questions[i].id;
	return NULL;
}

static int api_answer_type(const earshot_response *r, const char *id)
{
	return type_of(answer_of(r, id));
}

static const char *api_answer_string(const earshot_response *r, const char *id)
{
	json_t *v = answer_of(r, id);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int api_answer_number(const earshot_response *r, const char *id, double *out)
{
	json_t *v = answer_of(r, id);
	return number_out(v, out);
}

static int api_answer_bool(const earshot_response *r, const char *id, int *out)
{
	json_t *v = answer_of(r, id);
	if (!json_is_boolean(v))
		return 0;
	*out = json_is_true(v);
	return 1;
}

static size_t api_answer_array_length(const earshot_response *r, const char *id)
{
	json_t *v = answer_of(r, id);
	return json_is_array(v) ? json_array_size(v) : 0;
}

static const char *api_answer_array_item(const earshot_response *r, const char *id, size_t index)
{
	json_t *item = json_array_get(answer_of(r, id), index);
	return json_is_string(item) ? json_string_value(item) : NULL;
}

static const char *api_answer_text(const earshot_response *r, const char *id)
{
	char *s = value_text(answer_of(r, id));
	return s ? scratch_keep(&((earshot_response *)r)->keep, s) : NULL;
}

static const char *api_meta_string(const earshot_response *r, const char *key)
{
	json_t *v = key && r->job->meta ? json_object_get(r->job->meta, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A JSON number for v: an integer when v is whole and exactly representable, else a real. */
static json_t *number_json(double v)
{
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return json_integer((json_int_t)v);
	return json_real(v);
}

static int api_set_score(earshot_response *r, const char *name, double value, const char *category)
{
	if (!name || !*name || strcmp(name, "category") == 0)
		return fail("set_score: name must be given and must not be \"category\"");
	if (!isfinite(value))
		return fail("set_score: value must be a finite number");
	json_t *cat = NULL;
	if (category && !(cat = json_string(category)))
		return fail("set_score: category is not valid UTF-8");
	writer_job *job = r->job;
	if (!job->score)
		job->score = json_object();
	if (json_object_set_new(job->score, name, number_json(value)) != 0) {
		json_decref(cat);
		return fail("set_score: name is not valid UTF-8");
	}
	if (cat)
		json_object_set_new(job->score, "category", cat);
	return EARSHOT_OK;
}

/* The tags one answer may carry, and the longest tag in bytes. */
#define MAX_TAGS_PER_ANSWER 256
#define MAX_TAG_BYTES 256

/* Adds tag unless the answer has it: the set beside the array finds it in constant time, so adding n
 * tags costs O(n), not O(n^2). */
static int api_add_tag(earshot_response *r, const char *tag)
{
	if (!tag || !*tag)
		return fail("add_tag: empty tag");
	size_t len = strlen(tag);
	if (len > MAX_TAG_BYTES)
		return fail("add_tag: the tag is %zu bytes, more than the %d a tag may have", len, MAX_TAG_BYTES);
	writer_job *job = r->job;
	if (!job->tags)
		job->tags = json_array();
	if (!job->tag_set) {
		job->tag_set = json_object();
		size_t i;
		json_t *t;
		json_array_foreach(job->tags, i, t)
			if (json_is_string(t))
				json_object_set_new(job->tag_set, json_string_value(t), json_true());
	}
	if (json_object_get(job->tag_set, tag))
		return EARSHOT_OK;
	if (json_array_size(job->tags) >= MAX_TAGS_PER_ANSWER)
		return fail("add_tag: this answer already has %d tags, the most one answer may carry",
		            MAX_TAGS_PER_ANSWER);
	json_t *s = json_string(tag);
	if (!s)
		return fail("add_tag: tag is not valid UTF-8");
	json_array_append_new(job->tags, s);
	json_object_set_new(job->tag_set, tag, json_true());
	return EARSHOT_OK;
}

static int api_add_offer(earshot_response *r, const char *text, const char *code)
{
	json_t *t = text ? json_string(text) : NULL;
	json_t *c = code ? json_string(code) : NULL;
	if (!t || (code && !c)) {
		json_decref(t);
		json_decref(c);
		return fail("add_offer: text is required and text and code must be valid UTF-8");
	}
	writer_job *job = r->job;
	if (!job->offers)
		job->offers = json_array();
	json_t *o = json_object();
	json_object_set_new(o, "text", t);
	if (c)
		json_object_set_new(o, "code", c);
	json_array_append_new(job->offers, o);
	return EARSHOT_OK;
}

/* 1 in the confirmation pass; 0 when the answer waits for its confirmation (the plugin is then
 * called again when the link is opened); -1 when the answer asks no confirmation. */
static int api_response_confirmed(earshot_response *r)
{
	writer_job *job = r->job;
	if (job->confirming[0])
		return 1;
	if (!confirm_wanted(job))
		return -1;
	plugin_instance *inst = r->head.inst;
	size_t i;
	json_t *name;
	json_array_foreach(job->confirm_plugins, i, name)
		if (strcmp(json_string_value(name), inst->name) == 0)
			return 0;
	json_array_append_new(job->confirm_plugins, json_string(inst->name));
	return 0;
}

static int api_reject(earshot_response *r, const char *question_id, const char *message)
{
	json_t *m = message && *message ? json_string(message) : NULL;
	if (!question_id || !*question_id || !m) {
		json_decref(m);
		return fail("reject: a question id and a UTF-8 message are required");
	}
	writer_job *job = r->job;
	if (!job->reject)
		job->reject = json_object();
	if (json_object_set_new(job->reject, question_id, m) != 0)
		return fail("reject: question id is not valid UTF-8");
	return EARSHOT_OK;
}

static int api_kv_get(earshot_response *r, const char *key, const void **value, size_t *len)
{
	if (!key)
		return fail("kv_get: key is required");
	char *v = NULL, *err = NULL;
	size_t n = 0;
	int rc = store_kv_get(r->st, r->call.inst->name, key, &v, &n, &err);
	if (rc < 0)
		return fail_with(err);
	if (rc == 0)
		return 0;
	*value = scratch_keep(&r->keep, v);
	*len = n;
	return 1;
}

static int api_kv_put(earshot_response *r, const char *key, const void *value, size_t len)
{
	if (!key || (!value && len > 0))
		return fail("kv_put: key and value are required");
	char *err = NULL;
	if (store_kv_put(r->st, r->call.inst->name, key, value ? value : "", len, &err) != 0)
		return fail_with(err);
	return EARSHOT_OK;
}

static int api_kv_incr(earshot_response *r, const char *key, int64_t delta, int64_t *result)
{
	if (!key)
		return fail("kv_incr: key is required");
	char *err = NULL;
	int64_t v = 0;
	if (store_kv_incr(r->st, r->call.inst->name, key, delta, &v, &err) != 0)
		return fail_with(err);
	if (result)
		*result = v;
	return EARSHOT_OK;
}

static int api_kv_take(earshot_response *r, const char *prefix, const char **key, const void **value, size_t *len)
{
	if (!prefix || !key || !value || !len)
		return fail("kv_take: prefix, key, value and len are required");
	char *k = NULL, *v = NULL, *err = NULL;
	size_t n = 0;
	int rc = store_kv_take(r->st, r->call.inst->name, prefix, &k, &v, &n, &err);
	if (rc < 0)
		return fail_with(err);
	if (rc == 0)
		return 0;
	*key = scratch_keep(&r->keep, k);
	*value = scratch_keep(&r->keep, v);
	*len = n;
	return 1;
}

static int api_enqueue_delivery(earshot_response *r, const char *dest, const char *type,
                                const char *extra_json)
{
	plugin_host *h = r->call.inst->host;
	if (!h->enqueue_fn)
		return fail("outbox not available");
	/* Every check of what is enqueued (destination, type, extra_json, sizes) is the outbox's. */
	char *err = NULL;
	if (h->enqueue_fn(h->enqueue_arg, r->st, r->job, r->call.inst->name, dest, type, extra_json,
	                  &err) != 0)
		return fail_with(err);
	return EARSHOT_OK;
}

/* ---- Admin routes ------------------------------------------------------------------------------- */

static const char *api_request_method(const earshot_request *q)
{
	return q->method;
}

static const char *api_request_path(const earshot_request *q)
{
	return q->path;
}

static const char *api_path_param(const earshot_request *q, const char *name)
{
	return route_param(q->params, name);
}

static const char *api_query_param(const earshot_request *q, const char *name)
{
	for (size_t i = 0; name && i < q->n_query; i++)
		if (strcmp(q->query_keys[i], name) == 0)
			return q->query_values[i];
	return NULL;
}

static const char *api_request_body(const earshot_request *q, size_t *len)
{
	if (len)
		*len = q->body ? q->body_len : 0;
	return q->body ? q->body : "";
}

/* Records the reply (taking ownership of body). Returns EARSHOT_OK or EARSHOT_ERROR. */
static int reply_json(earshot_request *q, int status, json_t *body)
{
	if (!body)
		return fail("reply: no body");
	if (q->replied) {
		json_decref(body);
		return fail("reply: already answered");
	}
	if (status < 100 || status > 599) {
		json_decref(body);
		return fail("reply: invalid status %d", status);
	}
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	json_decref(body);
	if (!text)
		return fail("reply: body cannot be encoded");
	q->json = text;
	q->status = status;
	q->replied = true;
	return EARSHOT_OK;
}

static int api_reply(earshot_request *q, int status, earshot_json *body)
{
	return reply_json(q, status, (json_t *)body);
}

static int api_reply_text(earshot_request *q, int status, const char *json_text)
{
	if (!json_text)
		return fail("reply_text: no body");
	json_error_t jerr;
	json_t *v = json_loads(json_text, JSON_DECODE_ANY, &jerr);
	if (!v)
		return fail("reply_text: not valid JSON: %s at byte %d", jerr.text, jerr.position);
	return reply_json(q, status, v);
}

static int api_reply_error(earshot_request *q, int status, const char *code, const char *message)
{
	json_t *o = json_object();
	json_object_set_new(o, "error", json_string(code ? code : "error"));
	json_object_set_new(o, "message", json_string(message ? message : ""));
	return reply_json(q, status, o);
}

static earshot_json *api_new_object(void)
{
	return (earshot_json *)json_object();
}

static earshot_json *api_new_array(void)
{
	return (earshot_json *)json_array();
}

static earshot_json *api_new_string(const char *s)
{
	return s ? (earshot_json *)json_string(s) : NULL;
}

static earshot_json *api_new_int(int64_t v)
{
	return (earshot_json *)json_integer((json_int_t)v);
}

static earshot_json *api_new_number(double v)
{
	return isfinite(v) ? (earshot_json *)json_real(v) : NULL;
}

static earshot_json *api_new_bool(int v)
{
	return (earshot_json *)json_boolean(v);
}

static earshot_json *api_new_null(void)
{
	return (earshot_json *)json_null();
}

static int api_object_set(earshot_json *object, const char *key, earshot_json *value)
{
	if (!json_is_object((json_t *)object) || !key || !value) {
		json_decref((json_t *)value);
		return EARSHOT_ERROR;
	}
	return json_object_set_new((json_t *)object, key, (json_t *)value) == 0 ? EARSHOT_OK : EARSHOT_ERROR;
}

static int api_array_append(earshot_json *array, earshot_json *value)
{
	if (!json_is_array((json_t *)array) || !value) {
		json_decref((json_t *)value);
		return EARSHOT_ERROR;
	}
	return json_array_append_new((json_t *)array, (json_t *)value) == 0 ? EARSHOT_OK : EARSHOT_ERROR;
}

static void api_json_free(earshot_json *value)
{
	json_decref((json_t *)value);
}

/* ---- Report queries ----------------------------------------------------------------------------- */

static earshot_query *api_query_open(earshot_request *q, const char *form_id, int64_t since_ms,
                                     int64_t until_ms)
{
	plugin_host *h = q->host;
	if (!form_id) {
		fail("query_open: form is required");
		return NULL;
	}
	if (!plugin_instance_sees_form(q->call.inst, form_id)) {
		fail("query_open: plugin %s is not enabled for form %s", q->call.inst->name, form_id);
		return NULL;
	}
	if (q->query) {
		fail("query_open: another query is still open (close it first)");
		return NULL;
	}
	if (!h->db_path) {
		fail("query_open: no database");
		return NULL;
	}
	char *err = NULL;
	if (!h->ro && store_open(h->db_path, DURABILITY_NORMAL, true, &h->ro, &err) != 0) {
		h->ro = NULL;
		fail_with(err);
		return NULL;
	}
	store_cursor *cur = NULL;
	if (store_cursor_open(h->ro, form_id, since_ms, until_ms, &cur, &err) != 0) {
		/* Reopen on the next request: the file may have been replaced or the handle broken. */
		store_close(h->ro);
		h->ro = NULL;
		fail_with(err);
		return NULL;
	}
	earshot_query *qq = xcalloc(1, sizeof *qq);
	qq->req = q;
	qq->cur = cur;
	q->query = qq;
	return qq;
}

static int api_query_next(earshot_query *qq)
{
	if (!qq || !qq->cur)
		return fail("query_next: query is closed");
	if (qq->row)
		response_record_clear(&qq->rec);
	scratch_clear(&qq->keep);
	qq->row = false;
	char *err = NULL;
	int rc = store_cursor_next(qq->cur, &qq->rec, &err);
	if (rc < 0)
		return fail_with(err);
	qq->row = rc == 1;
	return rc;
}

static const char *api_query_response_id(const earshot_query *qq)
{
	return qq && qq->row ? qq->rec.id : NULL;
}

static int64_t api_query_created_ms(const earshot_query *qq)
{
	return qq && qq->row ? qq->rec.created_ms : 0;
}

static int api_query_score(const earshot_query *qq, const char *name, double *out)
{
	json_t *v = qq && qq->row && qq->rec.score && name ? json_object_get(qq->rec.score, name) : NULL;
	return number_out(v, out);
}

static const char *api_query_category(const earshot_query *qq)
{
	json_t *v = qq && qq->row && qq->rec.score ? json_object_get(qq->rec.score, "category") : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The current row's answer to id (borrowed), or NULL. */
static json_t *query_answer(const earshot_query *qq, const char *id)
{
	json_t *v = qq && qq->row && qq->rec.answers && id ? json_object_get(qq->rec.answers, id) : NULL;
	return json_is_null(v) ? NULL : v;
}

static const char *api_query_answer_text(const earshot_query *qq, const char *id)
{
	char *s = value_text(query_answer(qq, id));
	return s ? scratch_keep(&((earshot_query *)qq)->keep, s) : NULL;
}

static int api_query_answer_number(const earshot_query *qq, const char *id, double *out)
{
	json_t *v = query_answer(qq, id);
	return number_out(v, out);
}

static void api_query_close(earshot_query *qq)
{
	if (!qq)
		return;
	if (qq->row)
		response_record_clear(&qq->rec);
	scratch_clear(&qq->keep);
	if (qq->cur)
		store_cursor_close(qq->cur);
	if (qq->req && qq->req->query == qq)
		qq->req->query = NULL;
	free(qq);
}

static int api_parse_time(const char *text, int64_t *ms)
{
	return text && iso8601_parse_ms(text, ms) == 0 ? EARSHOT_OK : EARSHOT_ERROR;
}

/* ---- Destinations ------------------------------------------------------------------------------ */

/* 1 when the config the plugin was loaded with defines destination name, else 0. */
static int api_has_destination(const void *handle, const char *name)
{
	const plugin_instance *inst = handle_inst(handle);
	const plugin_host *h = inst ? inst->host : NULL;
	for (size_t i = 0; h && name && i < h->n_destinations; i++)
		if (strcmp(h->destinations[i], name) == 0)
			return 1;
	return 0;
}

/* The directory relative paths of the plugin's config resolve against. */
static const char *api_config_dir(const void *handle)
{
	const plugin_instance *inst = handle_inst(handle);
	const plugin_host *h = inst ? inst->host : NULL;
	return h && h->config_dir ? h->config_dir : ".";
}

/* ---- Added in ABI 1.1 ---------------------------------------------------------------------------- */

/* Reads the plugin's key-value store through the host's read-only connection (opened on first use). */
static int api_request_kv_get(earshot_request *q, const char *key, const void **value, size_t *len)
{
	if (!q || !key || !value || !len)
		return fail("request_kv_get: key, value and len are required");
	plugin_host *h = q->host;
	if (!h->db_path)
		return fail("request_kv_get: no database");
	char *err = NULL;
	if (!h->ro && store_open(h->db_path, DURABILITY_NORMAL, true, &h->ro, &err) != 0) {
		h->ro = NULL;
		return fail_with(err);
	}
	char *v = NULL;
	size_t n = 0;
	int rc = store_kv_get(h->ro, q->head.inst->name, key, &v, &n, &err);
	if (rc < 0)
		return fail_with(err);
	if (rc == 0)
		return 0;
	*value = scratch_keep(&q->keep, v);
	*len = n;
	return 1;
}

/* The form id of the registry the plugin's host knows, when the plugin sees it; else NULL. */
static const form *visible_form(const void *handle, const char *form_id)
{
	const plugin_instance *inst = handle_inst(handle);
	if (!inst || !inst->host->forms || !form_id || !plugin_instance_sees_form(inst, form_id))
		return NULL;
	return form_registry_find(inst->host->forms, form_id);
}

static size_t api_form_count(const void *handle)
{
	const plugin_instance *inst = handle_inst(handle);
	const form_registry *reg = inst ? inst->host->forms : NULL;
	size_t n = 0;
	for (size_t i = 0; reg && i < reg->n; i++)
		n += plugin_instance_sees_form(inst, reg->forms[i]->id);
	return n;
}

static const char *api_form_id(const void *handle, size_t index)
{
	const plugin_instance *inst = handle_inst(handle);
	const form_registry *reg = inst ? inst->host->forms : NULL;
	for (size_t i = 0; reg && i < reg->n; i++)
		if (plugin_instance_sees_form(inst, reg->forms[i]->id) && index-- == 0)
			return reg->forms[i]->id;
	return NULL;
}

static size_t api_form_question_count(const void *handle, const char *form_id)
{
	const form *f = visible_form(handle, form_id);
	return f ? f->n_questions : 0;
}

static const char *api_form_question_id(const void *handle, const char *form_id, size_t index)
{
	const form *f = visible_form(handle, form_id);
	return f && index < f->n_questions ? f->questions[index].id : NULL;
}

static const char *api_form_question_type(const void *handle, const char *form_id, const char *id)
{
	const form *f = visible_form(handle, form_id);
	for (size_t i = 0; f && id && i < f->n_questions; i++)
		if (strcmp(f->questions[i].id, id) == 0)
			return question_type_name(f->questions[i].type);
	return NULL;
}

/* True when key is one of the NULL-terminated list known. */
static bool key_known(const char *key, const char *const *known)
{
	for (size_t i = 0; known && known[i]; i++)
		if (strcmp(known[i], key) == 0)
			return true;
	return false;
}

static int api_config_check_keys(const earshot_conf *c, const char *path, const char *const *known)
{
	json_t *v = conf_walk(c, path);
	if (!v)
		return EARSHOT_OK;
	if (!json_is_object(v))
		return conf_wrong_type(path, "a mapping", v), EARSHOT_ERROR;
	const char *key;
	json_t *value;
	json_object_foreach(v, key, value) {
		if (key_known(key, known))
			continue;
		size_t len = 0;
		for (size_t i = 0; known && known[i]; i++)
			len += strlen(known[i]) + 2;
		char *list = xmalloc(len + 1), *o = list;
		*o = '\0';
		for (size_t i = 0; known && known[i]; i++)
			o += sprintf(o, "%s%s", i ? ", " : "", known[i]);
		int rc = path && *path ? fail("unknown setting \"%s\" in %s (known: %s)", key, path, list)
		                       : fail("unknown setting \"%s\" (known: %s)", key, list);
		free(list);
		return rc;
	}
	return EARSHOT_OK;
}

/* Marks the plugin of config as one that attaches offers (init only). */
static int api_declare_offers(const earshot_conf *c)
{
	if (!c)
		return fail("declare_offers: config is required");
	plugin_instance *inst = c->head.inst;
	if (inst->ready || !current_call || current_call->inst != inst)
		return fail("declare_offers: offers can only be declared in init");
	inst->offers = true;
	return EARSHOT_OK;
}

/* ---- The table ---------------------------------------------------------------------------------- */

static const struct earshot_host host_table = {
	.size = sizeof(struct earshot_host),
	.abi_major = EARSHOT_PLUGIN_ABI_MAJOR,
	.abi_minor = EARSHOT_PLUGIN_ABI_MINOR,
	.server_version = PACKAGE_VERSION,
	.log = api_log,
	.set_error = api_set_error,
	.last_error = api_last_error,
	.config_type = api_config_type,
	.config_string = api_config_string,
	.config_int = api_config_int,
	.config_number = api_config_number,
	.config_bool = api_config_bool,
	.config_length = api_config_length,
	.config_node = api_config_node,
	.config_item = api_config_item,
	.config_key = api_config_key,
	.add_route = api_add_route,
	.response_id = api_response_id,
	.response_form = api_response_form,
	.response_created_ms = api_response_created_ms,
	.question_count = api_question_count,
	.question_id = api_question_id,
	.question_type = api_question_type,
	.answered_count = api_answered_count,
	.answered_id = api_answered_id,
	.answer_type = api_answer_type,
	.answer_string = api_answer_string,
	.answer_number = api_answer_number,
	.answer_bool = api_answer_bool,
	.answer_array_length = api_answer_array_length,
	.answer_array_item = api_answer_array_item,
	.answer_text = api_answer_text,
	.meta_string = api_meta_string,
	.set_score = api_set_score,
	.add_tag = api_add_tag,
	.add_offer = api_add_offer,
	.reject = api_reject,
	.kv_get = api_kv_get,
	.kv_put = api_kv_put,
	.kv_incr = api_kv_incr,
	.enqueue_delivery = api_enqueue_delivery,
	.request_method = api_request_method,
	.request_path = api_request_path,
	.path_param = api_path_param,
	.query_param = api_query_param,
	.request_body = api_request_body,
	.reply = api_reply,
	.reply_text = api_reply_text,
	.reply_error = api_reply_error,
	.new_object = api_new_object,
	.new_array = api_new_array,
	.new_string = api_new_string,
	.new_int = api_new_int,
	.new_number = api_new_number,
	.new_bool = api_new_bool,
	.new_null = api_new_null,
	.object_set = api_object_set,
	.array_append = api_array_append,
	.json_free = api_json_free,
	.query_open = api_query_open,
	.query_next = api_query_next,
	.query_response_id = api_query_response_id,
	.query_created_ms = api_query_created_ms,
	.query_score = api_query_score,
	.query_category = api_query_category,
	.query_answer_text = api_query_answer_text,
	.query_answer_number = api_query_answer_number,
	.query_close = api_query_close,
	.parse_time = api_parse_time,
	.has_destination = api_has_destination,
	.config_dir = api_config_dir,
	.request_kv_get = api_request_kv_get,
	.form_count = api_form_count,
	.form_id = api_form_id,
	.form_question_count = api_form_question_count,
	.form_question_id = api_form_question_id,
	.form_question_type = api_form_question_type,
	.config_check_keys = api_config_check_keys,
	.declare_offers = api_declare_offers,
	.response_confirmed = api_response_confirmed,
	.kv_take = api_kv_take,
};

const struct earshot_host *plugin_api_table(void)
{
	return &host_table;
}

/* ---- Dispatch ----------------------------------------------------------------------------------- */

/* True when plugin name is in job->confirm_plugins. */
static bool waits_for_confirmation(const writer_job *job, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(job->confirm_plugins, i, v)
		if (strcmp(json_string_value(v), name) == 0)
			return true;
	return false;
}

int plugin_api_on_response(plugin_host *h, store *st, writer_job *job, char **err)
{
	for (size_t i = 0; h && i < h->n; i++) {
		plugin_instance *inst = h->inst[i];
		if (!inst->desc.on_response || !plugin_instance_sees_form(inst, job->form->id))
			continue;
		if (job->confirming[0] && !waits_for_confirmation(job, inst->name))
			continue; /* the confirmation pass runs only the plugins that asked for it */
		earshot_response r = { .head = { HANDLE_RESPONSE, inst }, .st = st, .job = job };
		size_t used = strlen(job->plugins_run);
		snprintf(job->plugins_run + used, sizeof job->plugins_run - used, "%s%s", used ? "," : "", inst->name);
		hook_call *prev = hook_call_begin(&r.call, inst, "on_response");
		int rc = inst->desc.on_response(inst->state, &r);
		if (rc != EARSHOT_OK)
			*err = xasprintf("plugin %s: on_response: %s", inst->name,
			                 r.call.error ? r.call.error : "on_response failed (no message given)");
		hook_call_end(&r.call, prev);
		scratch_clear(&r.keep);
		if (rc != EARSHOT_OK)
			return -1;
		if (job->reject && json_object_size(job->reject) > 0)
			return 1;
	}
	return 0;
}

/* Frees what a request handle owns (closing a query the plugin left open). */
static void request_clear(earshot_request *q)
{
	api_query_close(q->query);
	scratch_clear(&q->keep);
	free(q->json);
}

/* A malloc'd {"error": code, "message": message} text. */
static char *error_json(const char *code, const char *message)
{
	json_t *o = json_object();
	json_object_set_new(o, "error", json_string(code));
	json_object_set_new(o, "message", json_string(message));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* Answers 404 when the route bound a {form} that is unknown or that inst does not see. Returns true
 * when it did. */
static bool route_form_refused(plugin_host *h, plugin_instance *inst, const route_params *params,
                               int *status, char **json_body)
{
	for (size_t i = 0; i < params->n; i++) {
		const char *value = params->values[i];
		if (strcmp(params->names[i], "form") != 0)
			continue;
		char *msg = NULL;
		const char *code = NULL;
		if (h->forms && !form_registry_find(h->forms, value)) {
			code = "unknown_form";
			msg = xasprintf("there is no form \"%s\"", value);
		} else if (!plugin_instance_sees_form(inst, value)) {
			code = "not_enabled";
			msg = xasprintf("plugin %s is not enabled for form \"%s\"", inst->name, value);
		}
		if (code) {
			*status = 404;
			*json_body = error_json(code, msg);
			free(msg);
			return true;
		}
	}
	return false;
}

/* Runs inst's on_route for a matched route and fills *status / *json_body from its reply. */
static void route_call(plugin_host *h, plugin_instance *inst, const plugin_route *r,
                       const plugin_http_request *in, const route_params *params, int *status,
                       char **json_body)
{
	earshot_request q = { .head = { HANDLE_REQUEST, inst }, .host = h, .method = in->method,
	                      .path = in->path, .route = r, .params = params, .query_keys = in->query_keys,
	                      .query_values = in->query_values, .n_query = in->n_query, .body = in->body,
	                      .body_len = in->body_len };
	hook_call *prev = hook_call_begin(&q.call, inst, "on_route");
	int rc = inst->desc.on_route(inst->state, &q);
	if (q.replied && rc == EARSHOT_OK) {
		*status = q.status;
		*json_body = q.json;
		q.json = NULL;
	} else {
		const char *why = q.call.error ? q.call.error
		                  : rc == EARSHOT_OK ? "no reply was made" : "on_route failed (no message given)";
		plugin_log(inst, EARSHOT_LOG_ERROR, "on_route: %s %s: %s", in->method, in->path, why);
		char *msg = xasprintf("plugin %s: %s", inst->name, why);
		if (q.replied) {
			/* A reply followed by a failure: the reply stands. */
			*status = q.status;
			*json_body = q.json;
			q.json = NULL;
		} else {
			*status = 500;
			*json_body = error_json("plugin_failed", msg);
		}
		free(msg);
	}
	hook_call_end(&q.call, prev);
	request_clear(&q);
}

int plugin_api_route(plugin_host *h, const plugin_http_request *in, int *status, char **json_body)
{
	if (!h || !in || !in->method || !in->path)
		return 0;
	/* The server hands over the segments it decoded; a caller without them (tests, tools) gets the
	 * path split as it is, decoding nothing. */
	route_path own = { 0 };
	const route_path *segs = in->segs;
	if (!segs) {
		if (route_path_split(in->path, false, &own) != 0)
			return 0;
		segs = &own;
	}
	route_params params;
	int matched = 0;
	pthread_mutex_lock(&h->route_lock);
	for (size_t i = 0; i < h->n && !matched; i++) {
		plugin_instance *inst = h->inst[i];
		for (size_t j = 0; inst->desc.on_route && j < inst->n_routes && !matched; j++) {
			const plugin_route *r = &inst->routes[j];
			if (strcmp(r->method, in->method) != 0 || !route_match(r->pattern, segs, &params))
				continue;
			matched = 1;
			if (!route_form_refused(h, inst, &params, status, json_body))
				route_call(h, inst, r, in, &params, status, json_body);
		}
	}
	pthread_mutex_unlock(&h->route_lock);
	route_path_free(&own);
	return matched;
}
