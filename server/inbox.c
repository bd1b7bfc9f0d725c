/* inbox: opening follow-up items as answers are routed, and queueing reminders (see inbox.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inbox.h"
#include "notice.h"
#include "outbox.h"
#include "util.h"

/* Overdue items read per reminder round. */
#define REMINDER_BATCH 100

/* The description of the first matched rule in a complaint's extra ("rules":[{"when"}]), or NULL. */
static const char *first_rule(const json_t *extra)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(extra, "rules"), 0), "when"));
}

/* How long a follow-up "minute" lasts: 60 s, or EARSHOT_TEST_MINUTE_MS (test-only) when set. */
static int64_t minute_ms(void)
{
	const char *env = getenv("EARSHOT_TEST_MINUTE_MS");
	if (env && *env) {
		char *end;
		long long v = strtoll(env, &end, 10);
		if (*end == '\0' && v > 0 && v <= 60000)
			return v;
	}
	return 60000;
}

/* {"item","due_at","link"} of an item. A new object. */
static json_t *follow_up_json(const earshot_config *cfg, const char *item, int64_t due_ms)
{
	char due[32];
	iso8601_format_ms(due_ms, due);
	char *link = xasprintf("%s/admin#inbox/%s", cfg->public_url ? cfg->public_url : "", item);
	json_t *o = json_pack("{s:s, s:s, s:s}", "item", item, "due_at", due, "link", link);
	free(link);
	return o;
}

/* Opens or extends the item, then adds follow_up and notice to extra. */
int inbox_enrich_delivery(store *st, const earshot_config *cfg, const destination *dst, const writer_job *job,
                          const char *type, json_t *extra, char **err)
{
	bool routed = strcmp(type, "complaint") == 0 && job->id[0];
	bool alert = dst && (dst->type == DEST_EMAIL || dst->type == DEST_CHAT);
	if (!routed && !alert)
		return 0;
	const char *priority = json_string_value(json_object_get(extra, "priority"));
	int minutes = form_follow_up_minutes(job->form);
	if (!routed) {
		json_object_set_new(extra, "notice", notice_build(job, cfg->public_url, NULL, 0, minutes, priority));
		return 0;
	}
	char item[48];
	int64_t due = 0;
	int found = store_inbox_find_for_response(st, job->id, item, &due, err);
	if (found < 0)
		return -1;
	json_t *notice = NULL;
	if (found == 1) {
		if (store_inbox_add_destination(st, item, dst->name, err) != 0)
			return -1;
		notice = notice_build(job, cfg->public_url, item, due, minutes, priority);
	} else {
		random_id("i_", item, sizeof item);
		due = job->created_ms + (int64_t)minutes * minute_ms();
		notice = notice_build(job, cfg->public_url, item, due, minutes, priority);
		const char *text = NULL, *href = NULL, *kind = NULL;
		if (!notice_contact(notice, &text, &href, &kind))
			text = NULL;
		char *notice_text = json_dumps(notice, JSON_COMPACT);
		int rc = store_inbox_insert(st, item, job->form && job->form->id ? job->form->id : "", job->id, text,
		                            first_rule(extra), priority, job->created_ms, due, dst->name, notice_text, err);
		free(notice_text);
		if (rc != 0) {
			json_decref(notice);
			return -1;
		}
	}
	json_object_set_new(extra, "follow_up", follow_up_json(cfg, item, due));
	if (alert)
		json_object_set_new(extra, "notice", notice);
	else
		json_decref(notice);
	return 0;
}

/* Writes one pending "reminder" delivery of item row r to dest. 0 or -1. */
static int queue_one(store *st, const json_t *r, const char *dest, int64_t now, char **err)
{
	delivery_record d;
	memset(&d, 0, sizeof d);
	random_id("d_", d.id, sizeof d.id);
	json_t *notice = json_deep_copy(json_object_get(r, "notice"));
	json_object_set_new(notice, "kind", json_string("reminder"));
	json_t *follow_up = json_pack("{s:O?, s:O?, s:O?}", "item", json_object_get(r, "id"), "due_at",
	                              json_object_get(notice, "due_at"), "link", json_object_get(notice, "link"));
	json_t *doc = json_pack("{s:s, s:s, s:O, s:O, s:o, s:o}", "type", "reminder", "id", d.id, "form",
	                        json_object_get(r, "form"), "response_id", json_object_get(r, "response_id"),
	                        "follow_up", follow_up, "notice", notice);
	d.body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	d.destination = xstrdup(dest);
	d.type = xstrdup("reminder");
	d.response_id = xstrdup(json_string_value(json_object_get(r, "response_id")));
	d.state = DELIVERY_PENDING;
	d.created_ms = d.retry_from_ms = d.next_attempt_ms = now;
	int rc = store_outbox_insert(st, &d, err);
	delivery_record_clear(&d);
	return rc;
}

/* One transaction: a reminder per destination of each overdue item, and the items marked. */
int inbox_queue_reminders(store *st, int64_t now, int *queued, char **err)
{
	*queued = 0;
	if (store_begin(st, err) != 0)
		return -1;
	json_t *rows = NULL;
	int rc = store_inbox_reminders_due(st, now, REMINDER_BATCH, &rows, err);
	size_t i;
	json_t *r;
	int n = 0;
	json_array_foreach(rows, i, r) {
		size_t j;
		json_t *dest;
		json_array_foreach(json_object_get(r, "destinations"), j, dest) {
			if (rc == 0 && json_is_string(dest))
				rc = queue_one(st, r, json_string_value(dest), now, err);
			n += rc == 0;
		}
		if (rc == 0)
			rc = store_inbox_mark_reminded(st, json_string_value(json_object_get(r, "id")), now, err);
	}
	json_decref(rows);
	if (rc != 0 || store_commit(st, err) != 0) {
		store_rollback(st);
		return -1;
	}
	*queued = n;
	return 0;
}
