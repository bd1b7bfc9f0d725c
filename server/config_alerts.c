/* config_alerts: email and chat destinations of earshot.yaml (see config_alerts.h). */
#include <stdlib.h>
#include <string.h>

#include "config_alerts.h"
#include "mail_message.h"
#include "util.h"

static const char *const chat_format_names[] = { "slack", "teams", "discord", NULL };

/* Reports key when present: it does not belong to destinations of type `what`. */
static void refuse(ydoc *doc, const yaml_node_t *map, const char *key, const char *what)
{
	yaml_node_t *k = ydoc_get_key(doc, map, key);
	if (k)
		ydoc_error(doc, k, "\"%s\" is only allowed for %s destinations", key, what);
}

/* The email and chat keys in a destination of another type are errors. */
void config_refuse_alert_keys(ydoc *doc, const yaml_node_t *map, destination_type type)
{
	static const char *const email_only[] = { "smtp_url", "username", "password_file", "from", "to", NULL };
	if (type != DEST_EMAIL)
		for (size_t i = 0; email_only[i]; i++)
			refuse(doc, map, email_only[i], "email");
	if (type != DEST_CHAT)
		refuse(doc, map, "format", "chat");
}

/* True when s is smtp://host[:port][/...] or smtps://… with a non-empty host and nothing that
 * could break a URL or a protocol line (spaces, control bytes). */
static bool is_smtp_url(const char *s)
{
	const char *rest = strncmp(s, "smtp://", 7) == 0 ? s + 7 : strncmp(s, "smtps://", 8) == 0 ? s + 8 : NULL;
	if (!rest || !*rest || *rest == '/' || *rest == ':')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* Reads and checks one address at node n into *out. */
static void read_address(ydoc *doc, const yaml_node_t *n, const char *name, char **out)
{
	char *text = NULL;
	if (ydoc_read_string(doc, n, name, &text) != 0)
		return;
	char *display = NULL, *addr = NULL;
	const char *why = NULL;
	if (mail_address_parse(text, &display, &addr, &why) != 0) {
		ydoc_invalid(doc, n, name, "%s", why);
		free(text);
		return;
	}
	free(display);
	free(addr);
	*out = text;
}

/* Reads `to:`: one address or a non-empty list of them. */
static void read_recipients(ydoc *doc, const yaml_node_t *map, destination *dst)
{
	yaml_node_t *to = ydoc_require(doc, map, "to");
	if (!to)
		return;
	if (ydoc_is_scalar(to)) {
		char *one = NULL;
		read_address(doc, to, "to", &one);
		if (one) {
			dst->to = xcalloc(1, sizeof *dst->to);
			dst->to[0] = one;
			dst->n_to = 1;
		}
		return;
	}
	if (!ydoc_expect_sequence(doc, to, "to"))
		return;
	size_t n = ydoc_seq_size(to);
	if (n == 0) {
		ydoc_invalid(doc, to, "to", "it must list at least one address");
		return;
	}
	dst->to = xcalloc(n, sizeof *dst->to);
	for (size_t i = 0; i < n; i++) {
		char *one = NULL;
		read_address(doc, ydoc_seq_item(doc, to, i), "to", &one);
		if (one)
			dst->to[dst->n_to++] = one;
	}
}

/* smtp_url, username, password_file, from, to, timeout_seconds. */
void config_read_email(ydoc *doc, const yaml_node_t *map, const char *dir, destination *dst)
{
	refuse(doc, map, "url", "webhook and chat");
	refuse(doc, map, "format", "chat");
	yaml_node_t *url = ydoc_require(doc, map, "smtp_url");
	if (url && ydoc_read_string(doc, url, "smtp_url", &dst->smtp_url) == 0 && !is_smtp_url(dst->smtp_url))
		ydoc_invalid(doc, url, "smtp_url", "it must be smtp://host[:port] (STARTTLS when offered) or "
		                                   "smtps://host[:port]");
	yaml_node_t *user = ydoc_get(doc, map, "username");
	if (user && ydoc_read_string(doc, user, "username", &dst->username) == 0 && dst->username[0] == '\0') {
		free(dst->username);
		dst->username = NULL;
	}
	char *raw = NULL;
	if (ydoc_get_string(doc, map, "password_file", &raw) > 0 && raw) {
		dst->password_file = raw[0] == '/' || !dir ? xstrdup(raw) : xasprintf("%s/%s", dir, raw);
		if (!dst->username)
			ydoc_error(doc, ydoc_get_key(doc, map, "password_file"),
			           "\"password_file\" needs \"username\" beside it");
	}
	free(raw);
	yaml_node_t *from = ydoc_require(doc, map, "from");
	if (from)
		read_address(doc, from, "from", &dst->from);
	read_recipients(doc, map, dst);
	/* An SMTP dialogue takes longer than one HTTP request: 30 s unless set. */
	if (ydoc_get_int(doc, map, "timeout_seconds", 1, 3600, &dst->timeout_seconds) == 0)
		dst->timeout_seconds = 30;
}

/* url (http or https), format, timeout_seconds. */
void config_read_chat(ydoc *doc, const yaml_node_t *map, destination *dst)
{
	yaml_node_t *url = ydoc_require(doc, map, "url");
	if (url && ydoc_read_string(doc, url, "url", &dst->url) == 0 &&
	    strncmp(dst->url, "http://", 7) != 0 && strncmp(dst->url, "https://", 8) != 0)
		ydoc_invalid(doc, url, "url", "it must be the chat tool's incoming-webhook URL (http:// or https://)");
	int f = CHAT_SLACK;
	if (ydoc_get_enum(doc, map, "format", chat_format_names, &f) > 0)
		dst->format = (chat_format)f;
	ydoc_get_int(doc, map, "timeout_seconds", 1, 3600, &dst->timeout_seconds);
}

/* Deep copy. */
void config_destination_copy(destination *dst, const destination *src)
{
	*dst = *src;
	dst->name = src->name ? xstrdup(src->name) : NULL;
	dst->url = src->url ? xstrdup(src->url) : NULL;
	dst->secret = src->secret ? xstrdup(src->secret) : NULL;
	dst->path = src->path ? xstrdup(src->path) : NULL;
	dst->smtp_url = src->smtp_url ? xstrdup(src->smtp_url) : NULL;
	dst->username = src->username ? xstrdup(src->username) : NULL;
	dst->password_file = src->password_file ? xstrdup(src->password_file) : NULL;
	dst->from = src->from ? xstrdup(src->from) : NULL;
	dst->to = src->n_to ? xcalloc(src->n_to, sizeof *dst->to) : NULL;
	for (size_t i = 0; i < src->n_to; i++)
		dst->to[i] = xstrdup(src->to[i]);
}

/* Frees every string and zeroes d. */
void config_destination_clear(destination *d)
{
	free(d->name);
	free(d->url);
	free(d->secret);
	free(d->path);
	free(d->smtp_url);
	free(d->username);
	free(d->password_file);
	free(d->from);
	for (size_t i = 0; i < d->n_to; i++)
		free(d->to[i]);
	free(d->to);
	memset(d, 0, sizeof *d);
}
