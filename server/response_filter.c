/* response_filter: parses the filter parameters of the admin summary, listing and export routes. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "response_filter.h"
#include "storage.h"
#include "util.h"

void response_filter_clear(response_filter *f)
{
	free(f->page);
	free(f->tag);
	free(f->category);
	free(f->variant);
	free(f->device);
	for (size_t i = 0; i < f->n_attrs; i++)
		free(f->attrs[i]);
	free(f->q);
	memset(f, 0, sizeof *f);
	f->since = STORE_TIME_MIN;
	f->until = STORE_TIME_MAX;
}

bool response_filter_time_only(const response_filter *f)
{
	return !f->page && !f->tag && !f->category && !f->variant && !f->device && f->n_attrs == 0 && !f->q;
}

/* True when s is 1 to max bytes with no control character (valid UTF-8 is the caller's concern: the
 * HTTP layer has decoded it and SQLite compares bytes). */
static bool is_plain_text(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* True when s is 1 to max characters of [A-Za-z0-9_-] (ids and names). */
static bool is_name(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* Sets the failure outputs and returns -1. */
static int bad(const char *name, const char **parameter, char **err, const char *message)
{
	*parameter = name;
	*err = xstrdup(message);
	return -1;
}

/* Splits "a,b,c" into f->attrs. Returns 0, or -1 when a name is malformed or there are too many. */
static int parse_attrs(const char *value, response_filter *f)
{
	const char *p = value;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (f->n_attrs == FILTER_ATTRS_MAX || n == 0 || n > 64)
			return -1;
		char *name = xstrndup(p, n);
		f->attrs[f->n_attrs++] = name;
		if (!is_name(name, 64))
			return -1;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

int response_filter_parse(filter_query_fn get, void *ctx, response_filter *out, const char **parameter,
                          char **err)
{
	static const char *const times[2] = { "since", "until" };
	memset(out, 0, sizeof *out);
	out->since = STORE_TIME_MIN;
	out->until = STORE_TIME_MAX;
	*parameter = NULL;
	*err = NULL;
	int64_t *range[2] = { &out->since, &out->until };
	for (int i = 0; i < 2; i++) {
		const char *v = get(ctx, times[i]);
		if (v && iso8601_parse_ms(v, range[i]) != 0) {
			*parameter = times[i];
			*err = xasprintf("\"%s\" must be an ISO-8601 date or time such as 2026-11-24 or "
			                 "2026-11-24T10:00:00Z.", times[i]);
			goto fail;
		}
	}
	const char *v;
	if ((v = get(ctx, "page"))) {
		if (!is_plain_text(v, FILTER_TEXT_MAX)) {
			bad("page", parameter, err, "\"page\" must be a glob on the page path such as /cart/*, "
			    "1 to 200 characters.");
			goto fail;
		}
		out->page = xstrdup(v);
	}
	if ((v = get(ctx, "tag"))) {
		if (!is_plain_text(v, 64)) {
			bad("tag", parameter, err, "\"tag\" must be one tag, 1 to 64 characters.");
			goto fail;
		}
		out->tag = xstrdup(v);
	}
	if ((v = get(ctx, "category"))) {
		if (!is_name(v, 32)) {
			bad("category", parameter, err, "\"category\" must be a score category such as promoter, "
			    "passive or detractor.");
			goto fail;
		}
		out->category = xstrdup(v);
	}
	if ((v = get(ctx, "variant"))) {
		if (!is_name(v, 64)) {
			bad("variant", parameter, err, "\"variant\" must be a variant id: letters, digits, _ and -.");
			goto fail;
		}
		out->variant = xstrdup(v);
	}
	if ((v = get(ctx, "device"))) {
		if (strcmp(v, "desktop") != 0 && strcmp(v, "mobile") != 0 && strcmp(v, "tablet") != 0) {
			bad("device", parameter, err, "\"device\" must be one of: desktop, mobile, tablet.");
			goto fail;
		}
		out->device = xstrdup(v);
	}
	if ((v = get(ctx, "attr")) && parse_attrs(v, out) != 0) {
		bad("attr", parameter, err, "\"attr\" must be up to 8 attribute names separated by commas, "
		    "each letters, digits, _ and -.");
		goto fail;
	}
	if ((v = get(ctx, "q"))) {
		if (!is_plain_text(v, FILTER_TEXT_MAX)) {
			bad("q", parameter, err, "\"q\" must be 1 to 200 characters of text.");
			goto fail;
		}
		out->q = xstrdup(v);
	}
	return 0;
fail:
	response_filter_clear(out);
	return -1;
}
