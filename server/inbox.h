/* inbox: the follow-up inbox. Every answer a plugin routes to a person (a "complaint" delivery, e.g.
 * from complaint-router) opens one item with a clock — due at creation + the form's
 * follow_up.within_minutes — that a site owner answers, assigns, annotates and marks done. An item
 * still open when its clock runs out raises one reminder through the destinations the answer was
 * routed to. Items go with their answer (erasure by contact, retention purge).
 *
 * Item JSON (the admin API's shape): {"id","form","response_id","contact","rule","priority",
 * "created_at","due_at","state":"open"|"done","assignee","note","done_at","reminded_at","overdue",
 * "title","answers":[{"id","label","value"}]} with null where nothing is set.
 *
 * Only store_inbox.c speaks the inbox table's SQL. */
#ifndef EARSHOT_INBOX_H
#define EARSHOT_INBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "config.h"
#include "store.h"
#include "writer.h"

/* Writer thread, inside the answer's transaction, before a delivery of `type` to dst is written:
 * a "complaint" opens the answer's item (or adds dst to the item already opened by another rule)
 * and gains "follow_up":{"item","due_at","link"}; a delivery to an email or chat destination gains
 * "notice" (notice.h). extra is the document's extra members, changed in place. 0, or -1 with
 * *err. */
int inbox_enrich_delivery(store *st, const earshot_config *cfg, const destination *dst, const writer_job *job,
                          const char *type, json_t *extra, char **err);

/* Items newest first. state NULL (every item), "open", "overdue" (open and past due) or "done";
 * form NULL for every form; at most limit. *items a new array (caller owns). 0, or -1 with *err. */
int store_inbox_list(store *st, const char *state, const char *form_id, int64_t now, int limit, json_t **items,
                     char **err);
/* One item: 1 with *item (caller owns), 0 when unknown, -1 with *err. */
int store_inbox_get(store *st, const char *id, int64_t now, json_t **item, char **err);
/* Changes what is given (NULL: unchanged; an empty assignee or note clears it): state "open" or
 * "done" (done_at set when it becomes done). 1 when the item exists, 0 when unknown, -1 with *err. */
int store_inbox_update(store *st, const char *id, const char *state, const char *assignee, const char *note,
                       int64_t now, char **err);
/* The items of the answers linked to a contact, newest first: *items a new array. 0 or -1. */
int store_inbox_for_contact(store *st, int64_t contact_id, int64_t now, json_t **items, char **err);
/* The contact card of contact_id: {"responses":[admin listing shape, newest first],
 * "offers":[{"response_id","form","text","code"}],"inbox":[items]} — a new object in *card. 0 or -1. */
int store_contact_card(store *st, int64_t contact_id, int64_t now, json_t **card, char **err);
/* The number of stored answers of every form (for /metrics). 0 or -1. */
int store_answers_total(store *st, int64_t *n, char **err);
/* Counts open items past due (*overdue) and open items (*open). 0 or -1. */
int store_inbox_counts(store *st, int64_t now, int64_t *open, int64_t *overdue, char **err);

/* ---- The rows behind inbox_enrich_delivery and the reminders (store_inbox.c) ---------------- */

/* The item of response_id: 1 with id (48 bytes) and *due_ms, 0 when none, -1 with *err. */
int store_inbox_find_for_response(store *st, const char *response_id, char id[48], int64_t *due_ms, char **err);
/* Inserts a new open item routed to dest; notice is its JSON text. 0 or -1. */
int store_inbox_insert(store *st, const char *id, const char *form_id, const char *response_id, const char *contact,
                       const char *rule, const char *priority, int64_t created_ms, int64_t due_ms,
                       const char *dest, const char *notice, char **err);
/* Adds dest to the item's destinations unless listed. 0 or -1. */
int store_inbox_add_destination(store *st, const char *id, const char *dest, char **err);
/* Open items past due without a reminder, oldest due first, at most limit: *rows a new array of
 * {"id","form","response_id","destinations":[…],"notice":{…}}. 0 or -1. */
int store_inbox_reminders_due(store *st, int64_t now, int limit, json_t **rows, char **err);
/* Records that the item's reminder was queued. 0 or -1. */
int store_inbox_mark_reminded(store *st, const char *id, int64_t now, char **err);

/* Queues one "reminder" delivery per destination of every open item past due that has had none,
 * and marks those items reminded, in one transaction of its own. *queued gets the number of
 * deliveries written. 0, or -1 with *err (nothing queued). */
int inbox_queue_reminders(store *st, int64_t now, int *queued, char **err);

/* The reminder thread: every poll (15 s, or EARSHOT_TEST_REMINDER_POLL_MS) it runs
 * inbox_queue_reminders on a connection of its own and wakes the delivery workers. */
typedef struct inbox_reminder inbox_reminder;
/* Starts it. NULL with *err (caller frees). */
inbox_reminder *inbox_reminder_start(const earshot_config *cfg, char **err);
/* Stops and frees it; NULL is fine. */
void inbox_reminder_stop(inbox_reminder *ir);

#endif
