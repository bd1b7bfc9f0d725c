/* form_target: who is asked and when — trigger.schedule (UTC dates or times), trigger.max_responses,
 * and trigger.audience (conditions the widget evaluates: device, new or returning visitor, identify()
 * attributes, query parameters). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "form_internal.h"
#include "util.h"

static const char *const schedule_keys[] = { "from", "until", NULL };
static const char *const audience_keys[] = { "device", "visitor", "attributes", "query", NULL };
static const char *const device_names[] = { "mobile", "desktop", "tablet", NULL };
static const char *const visitor_names[] = { "new", "returning", NULL };

/* Reads one schedule bound: a date (YYYY-MM-DD, midnight UTC) or an ISO-8601 time. Returns true
 * when *ms was set. */
static bool read_bound(ydoc *doc, const yaml_node_t *sched, const char *key, int64_t *ms)
{
	yaml_node_t *n = ydoc_get(doc, sched, key);
	char *text = NULL;
	if (!n || ydoc_read_string(doc, n, key, &text) < 0)
		return false;
	bool ok = iso8601_parse_ms(text, ms) == 0;
	if (!ok)
		ydoc_invalid(doc, n, key, "it must be a UTC date such as 2026-12-01 or a time such as "
		                          "2026-12-01T09:00:00Z");
	free(text);
	return ok;
}

/* trigger.schedule: {from, until}, at least one of them; from before until. */
static void read_schedule(ydoc *doc, const yaml_node_t *t, trigger *tr)
{
	yaml_node_t *n = ydoc_get(doc, t, "schedule");
	if (!n || !ydoc_expect_mapping(doc, n, "schedule"))
		return;
	ydoc_check_keys(doc, n, schedule_keys);
	tr->has_from = read_bound(doc, n, "from", &tr->from_ms);
	tr->has_until = read_bound(doc, n, "until", &tr->until_ms);
	if (!ydoc_get(doc, n, "from") && !ydoc_get(doc, n, "until"))
		ydoc_error(doc, n, "\"schedule\" needs \"from\", \"until\" or both");
	if (tr->has_from && tr->has_until && tr->from_ms >= tr->until_ms)
		ydoc_error(doc, ydoc_get(doc, n, "until"), "\"until\" must be later than \"from\"");
}

/* A condition value: a non-empty string or a non-empty sequence of them; a new JSON array of the
 * strings, or NULL after recording a problem. */
static json_t *read_string_list(ydoc *doc, const yaml_node_t *n, const char *name)
{
	char **items = NULL;
	size_t count = 0;
	if (ydoc_is_sequence(n)) {
		if (ydoc_read_strings(doc, n, name, &items, &count) < 0)
			return NULL;
		if (count == 0) {
			ydoc_error(doc, n, "\"%s\" must not be empty", name);
			ydoc_strings_free(items, count);
			return NULL;
		}
	} else {
		items = xcalloc(1, sizeof *items);
		if (ydoc_read_string(doc, n, name, &items[0]) < 0) {
			free(items);
			return NULL;
		}
		count = 1;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < count; i++) {
		json_t *s = json_string(items[i]);
		if (!s)
			ydoc_error(doc, n, "\"%s\" is not valid UTF-8", name);
		else
			json_array_append_new(arr, s);
	}
	ydoc_strings_free(items, count);
	return arr;
}

/* device: one or more of mobile, desktop, tablet. */
static json_t *read_devices(ydoc *doc, const yaml_node_t *n)
{
	json_t *list = read_string_list(doc, n, "device");
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		bool known = false;
		for (const char *const *d = device_names; *d; d++)
			known = known || strcmp(*d, json_string_value(v)) == 0;
		if (!known) {
			yaml_node_t *at = ydoc_is_sequence(n) ? ydoc_seq_item(doc, n, i) : (yaml_node_t *)n;
			ydoc_invalid(doc, at, "device", "it must be one of: mobile, desktop, tablet");
		}
	}
	return list;
}

/* attributes: / query: a mapping of name -> string or list of strings. A new object or NULL. */
static json_t *read_matches(ydoc *doc, const yaml_node_t *n, const char *name)
{
	if (!ydoc_expect_mapping(doc, n, name))
		return NULL;
	json_t *out = json_object();
	for (size_t i = 0; i < ydoc_map_size(n); i++) {
		const char *key = ydoc_scalar(ydoc_map_key(doc, n, i));
		json_t *values = read_string_list(doc, ydoc_map_value(doc, n, i), key ? key : name);
		if (key && values && key[0])
			json_object_set_new(out, key, values);
		else
			json_decref(values);
	}
	return out;
}

/* trigger.audience: every condition listed must hold; kept as normalised JSON for the widget. */
static void read_audience(ydoc *doc, const yaml_node_t *t, trigger *tr)
{
	yaml_node_t *n = ydoc_get(doc, t, "audience");
	if (!n || !ydoc_expect_mapping(doc, n, "audience"))
		return;
	ydoc_check_keys(doc, n, audience_keys);
	json_t *a = json_object();
	yaml_node_t *v;
	if ((v = ydoc_get(doc, n, "device")) != NULL) {
		json_t *d = read_devices(doc, v);
		if (d)
			json_object_set_new(a, "device", d);
	}
	int visitor;
	if (ydoc_get_enum(doc, n, "visitor", visitor_names, &visitor) > 0)
		json_object_set_new(a, "visitor", json_string(visitor_names[visitor]));
	if ((v = ydoc_get(doc, n, "attributes")) != NULL) {
		json_t *m = read_matches(doc, v, "attributes");
		if (m)
			json_object_set_new(a, "attributes", m);
	}
	if ((v = ydoc_get(doc, n, "query")) != NULL) {
		json_t *m = read_matches(doc, v, "query");
		if (m)
			json_object_set_new(a, "query", m);
	}
	tr->audience = a;
}

/* Reads the targeting keys of the trigger mapping t into f->trigger. */
void form_read_targeting(ydoc *doc, const yaml_node_t *t, form *f)
{
	trigger *tr = &f->trigger;
	read_schedule(doc, t, tr);
	ydoc_get_int(doc, t, "max_responses", 1, INT_MAX, &tr->max_responses);
	read_audience(doc, t, tr);
}

/* FORM_OPEN while from <= now < until (each bound only when given). */
form_schedule_state form_schedule_at(const form *f, int64_t now)
{
	const trigger *t = &f->trigger;
	if (t->has_from && now < t->from_ms)
		return FORM_NOT_STARTED;
	if (t->has_until && now >= t->until_ms)
		return FORM_ENDED;
	return FORM_OPEN;
}
