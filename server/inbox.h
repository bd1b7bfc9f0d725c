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
 * The inbox table's operations are the store_inbox_* ones of storage.h. */
#ifndef EARSHOT_INBOX_H
#define EARSHOT_INBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "config.h"
#include "storage.h"
#include "writer.h"

/* Writer thread, inside the answer's transaction, before a delivery of `type` to dst is written:
 * a "complaint" opens the answer's item (or adds dst to the item already opened by another rule)
 * and gains "follow_up":{"item","due_at","link"}; a delivery to an email or chat destination gains
 * "notice" (notice.h). extra is the document's extra members, changed in place. 0, or -1 with
 * *err. */
int inbox_enrich_delivery(store *st, const earshot_config *cfg, const destination *dst, const writer_job *job,
                          const char *type, json_t *extra, char **err);

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
