/* availability: schedule and quota of a form, checked by the routes and by the writer. */
#include "availability.h"

/* Schedule first (no database work), then the quota. */
int availability_of(const form *f, store *st, int64_t now, char **err)
{
	form_schedule_state s = form_schedule_at(f, now);
	if (s == FORM_NOT_STARTED)
		return AVAIL_NOT_STARTED;
	if (s == FORM_ENDED)
		return AVAIL_ENDED;
	if (f->trigger.max_responses <= 0)
		return AVAIL_OPEN;
	int64_t n = 0;
	if (store_response_count(st, f->id, &n, err) != 0)
		return -1;
	return n >= f->trigger.max_responses ? AVAIL_QUOTA_REACHED : AVAIL_OPEN;
}

/* Static reason names, in availability order. */
const char *availability_reason(availability a)
{
	switch (a) {
	case AVAIL_NOT_STARTED: return "not_started";
	case AVAIL_ENDED: return "ended";
	case AVAIL_QUOTA_REACHED: return "quota_reached";
	case AVAIL_OPEN: break;
	}
	return "open";
}
