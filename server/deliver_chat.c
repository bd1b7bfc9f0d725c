/* deliver_chat: alert messages to chat tools' incoming webhooks, each in the tool's own payload shape
 * (see deliver.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build-config.h"
#include "deliver.h"
#include "notice.h"
#include "util.h"

/* Discord's limits (characters; bytes here, cut on a character boundary, are never more). */
#define DISCORD_TITLE_MAX 256
#define DISCORD_FIELD_NAME_MAX 256
#define DISCORD_FIELD_VALUE_MAX 1024
#define DISCORD_FIELDS_MAX 25
#define DISCORD_CONTENT_MAX 2000

/* A copy of s cut to at most max bytes on a UTF-8 boundary, "…" marking a cut; "-" for empty
 * (Discord refuses empty field values). Malloc'd. */
static char *clip(const char *s, size_t max)
{
	if (!s || !*s)
		return xstrdup("-");
	size_t len = strlen(s);
	if (len <= max)
		return xstrdup(s);
	size_t n = max - 3;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return xasprintf("%.*s…", (int)n, s);
}

/* The notice's string member key, or "". */
static const char *str(const json_t *notice, const char *key)
{
	const char *s = json_string_value(json_object_get(notice, key));
	return s ? s : "";
}

/* True for a reminder. */
static int reminder(const json_t *notice)
{
	return strcmp(str(notice, "kind"), "reminder") == 0;
}

/* "Answer by 2026-12-02 14:05 UTC (within 15 minutes)", or "" without a due time. Malloc'd. */
static char *due_line(const json_t *notice)
{
	char due[32];
	notice_due_text(notice, due);
	if (!due[0])
		return xstrdup("");
	return xasprintf("%sAnswer by %s (within %lld minutes)", reminder(notice) ? "OVERDUE. " : "", due,
	                 (long long)json_integer_value(json_object_get(notice, "within_minutes")));
}

/* Writes s with Slack's three control characters escaped (&, <, >). */
static void slack_put(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else
			fputc(*s, f);
	}
}

/* Slack (and Mattermost, Rocket.Chat): {"text"} in mrkdwn with <url|text> links. */
static json_t *slack_payload(const json_t *notice)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	fputs(reminder(notice) ? ":alarm_clock: *Overdue: " : ":bell: *New answer: ", f);
	slack_put(f, str(notice, "title"));
	fputs("*\n", f);
	char *due = due_line(notice);
	if (due[0]) {
		slack_put(f, due);
		fputs("\n", f);
	}
	free(due);
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(notice, "answers"), i, a) {
		fputs("*", f);
		slack_put(f, str(a, "label"));
		fputs(":* ", f);
		slack_put(f, str(a, "value"));
		fputs("\n", f);
	}
	const char *text, *href, *kind;
	if (notice_contact(notice, &text, &href, &kind)) {
		fputs("Contact: <", f);
		slack_put(f, href);
		fputs("|", f);
		slack_put(f, text);
		fputs(">\n", f);
	}
	if (*str(notice, "link")) {
		fputs("<", f);
		slack_put(f, str(notice, "link"));
		fputs("|Open in earshot>", f);
	}
	fclose(f);
	json_t *p = json_pack("{s:s}", "text", out);
	free(out);
	return p;
}

/* Teams (Workflows / incoming webhook): a message carrying one Adaptive Card. */
static json_t *teams_payload(const json_t *notice)
{
	json_t *body = json_array();
	char *title = xasprintf("%s%s", reminder(notice) ? "Overdue: " : "New answer: ", str(notice, "title"));
	json_array_append_new(body, json_pack("{s:s, s:s, s:s, s:s, s:b}", "type", "TextBlock", "text", title,
	                                      "weight", "Bolder", "size", "Medium", "wrap", 1));
	free(title);
	char *due = due_line(notice);
	if (due[0])
		json_array_append_new(body, json_pack("{s:s, s:s, s:s, s:b}", "type", "TextBlock", "text", due, "color",
		                                      reminder(notice) ? "Attention" : "Default", "wrap", 1));
	free(due);
	json_t *facts = json_array();
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(notice, "answers"), i, a)
		json_array_append_new(facts, json_pack("{s:s, s:s}", "title", str(a, "label"), "value", str(a, "value")));
	json_array_append_new(body, json_pack("{s:s, s:o}", "type", "FactSet", "facts", facts));
	json_t *actions = json_array();
	const char *text, *href, *kind;
	if (notice_contact(notice, &text, &href, &kind)) {
		char *line = xasprintf("Contact: [%s](%s)", text, href);
		json_array_append_new(body, json_pack("{s:s, s:s, s:b}", "type", "TextBlock", "text", line, "wrap", 1));
		free(line);
	}
	if (*str(notice, "link"))
		json_array_append_new(actions, json_pack("{s:s, s:s, s:s}", "type", "Action.OpenUrl", "title",
		                                         "Open in earshot", "url", str(notice, "link")));
	json_t *card = json_pack("{s:s, s:s, s:s, s:o, s:o}", "$schema", "http://adaptivecards.io/schemas/adaptive-card.json",
	                         "type", "AdaptiveCard", "version", "1.4", "body", body, "actions", actions);
	return json_pack("{s:s, s:[{s:s, s:n, s:o}]}", "type", "message", "attachments", "contentType",
	                 "application/vnd.microsoft.card.adaptive", "contentUrl", "content", card);
}

/* Discord: a short content line and one embed with a field per answer; mentions disabled. */
static json_t *discord_payload(const json_t *notice)
{
	char *subject = notice_subject(notice);
	char *content = clip(subject, DISCORD_CONTENT_MAX);
	free(subject);
	char *title = clip(str(notice, "title"), DISCORD_TITLE_MAX);
	char *due = due_line(notice);
	const char *text, *href, *kind;
	char *contact = notice_contact(notice, &text, &href, &kind) ? xasprintf("%sContact: %s (%s)", due[0] ? "\n" : "",
	                                                                        text, href)
	                                                            : xstrdup("");
	char *description = xasprintf("%s%s", due, contact);
	json_t *fields = json_array();
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(notice, "answers"), i, a) {
		if (i >= DISCORD_FIELDS_MAX)
			break;
		char *name = clip(str(a, "label"), DISCORD_FIELD_NAME_MAX);
		char *value = clip(str(a, "value"), DISCORD_FIELD_VALUE_MAX);
		json_array_append_new(fields, json_pack("{s:s, s:s, s:b}", "name", name, "value", value, "inline", 0));
		free(name);
		free(value);
	}
	json_t *embed = json_pack("{s:s, s:s, s:i, s:o}", "title", title, "description", description, "color",
	                          reminder(notice) ? 0xB42318 : 0x2F6FEB, "fields", fields);
	if (*str(notice, "link"))
		json_object_set_new(embed, "url", json_string(str(notice, "link")));
	json_t *p = json_pack("{s:s, s:[o], s:{s:[]}}", "content", content, "embeds", embed, "allowed_mentions", "parse");
	free(content);
	free(title);
	free(due);
	free(contact);
	free(description);
	return p;
}

/* The payload of one format, as compact JSON text. */
char *chat_payload(chat_format format, const json_t *notice)
{
	json_t *p = format == CHAT_TEAMS ? teams_payload(notice) : format == CHAT_DISCORD ? discord_payload(notice)
	                                                                                 : slack_payload(notice);
	char *text = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	return text;
}

/* POST the payload; a 2xx is delivered. */
int deliver_chat(const deliver_ctx *ctx, const destination *dst, const delivery_record *d, char **error)
{
	json_t *notice = deliver_notice(d, error);
	if (!notice)
		return DELIVER_FAILED;
	char *payload = chat_payload(dst->format, notice);
	json_decref(notice);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	h = curl_slist_append(h, "User-Agent: earshot/" PACKAGE_VERSION);
	h = curl_slist_append(h, "Expect:");
	deliver_post post;
	deliver_http_post_setup(ctx->curl, &post, dst->url, payload, h, dst->timeout_seconds, ctx->progress,
	                        ctx->progress_arg);
	CURLcode rc = curl_easy_perform(ctx->curl);
	int outcome = deliver_http_post_outcome(ctx->curl, &post, rc, error);
	/* Nothing of ours may outlive this call inside the reused handle. */
	curl_easy_reset(ctx->curl);
	curl_slist_free_all(h);
	free(payload);
	return outcome;
}
