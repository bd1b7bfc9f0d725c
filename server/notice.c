/* notice: the human-readable content of alert emails and chat messages (see notice.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "notice.h"
#include "util.h"

/* An answer value as people read it: strings as they are, numbers without ".0", true/false as
 * yes/no, lists joined with "; ". Malloc'd. */
static char *value_text(const json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return xasprintf("%g", json_real_value(v));
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "yes" : "no");
	if (json_is_array(v)) {
		char *out = xstrdup("");
		size_t i;
		json_t *item;
		json_array_foreach(v, i, item) {
			char *one = value_text(item);
			char *next = xasprintf("%s%s%s", out, i ? "; " : "", one);
			free(one);
			free(out);
			out = next;
		}
		return out;
	}
	return xstrdup("");
}

/* Adds {"id","label","value"} to answers. */
static void add_answer(json_t *answers, const char *id, const char *label, const json_t *value)
{
	char *text = value_text(value);
	json_array_append_new(answers, json_pack("{s:s, s:s, s:s}", "id", id, "label", label, "value", text));
	free(text);
}

/* The notice of a routed answer, answers in form order with their labels. */
json_t *notice_build(const writer_job *job, const char *public_url, const char *item_id, int64_t due_ms,
                     int within_minutes, const char *priority)
{
	const form *f = job->form;
	json_t *n = json_object();
	json_t *answers = json_array();
	json_t *contact = json_object();
	json_object_set_new(n, "kind", json_string("complaint"));
	json_object_set_new(n, "form", json_string(f && f->id ? f->id : ""));
	json_object_set_new(n, "title", json_string(f && f->title ? f->title : (f && f->id ? f->id : "")));
	for (size_t i = 0; f && i < f->n_questions; i++) {
		const question *q = &f->questions[i];
		const json_t *v = json_object_get(job->answers, q->id);
		if (!v || json_is_null(v))
			continue;
		add_answer(answers, q->id, q->label ? q->label : q->id, v);
		const char *kind = q->type == Q_EMAIL ? "email" : q->type == Q_PHONE ? "phone" : NULL;
		if (kind && json_is_string(v) && !json_object_get(contact, kind))
			json_object_set_new(contact, kind, json_string(json_string_value(v)));
	}
	json_object_set_new(n, "answers", answers);
	json_object_set_new(n, "contact", contact);
	json_object_set_new(n, "priority", json_string(priority ? priority : "normal"));
	if (item_id) {
		char due[32];
		iso8601_format_ms(due_ms, due);
		json_object_set_new(n, "item", json_string(item_id));
		json_object_set_new(n, "due_at", json_string(due));
		json_object_set_new(n, "within_minutes", json_integer(within_minutes));
		char *link = xasprintf("%s/admin#inbox/%s", public_url ? public_url : "", item_id);
		json_object_set_new(n, "link", json_string(link));
		free(link);
	} else {
		char *link = xasprintf("%s/admin", public_url ? public_url : "");
		json_object_set_new(n, "link", json_string(link));
		free(link);
	}
	return n;
}

/* A notice from a document without one: form id as title, answers by id. */
json_t *notice_from_document(const json_t *doc)
{
	json_t *n = json_object();
	json_t *answers = json_array();
	const char *form_id = json_string_value(json_object_get(doc, "form"));
	const char *type = json_string_value(json_object_get(doc, "type"));
	json_object_set_new(n, "kind", json_string(type ? type : "delivery"));
	json_object_set_new(n, "form", json_string(form_id ? form_id : ""));
	json_object_set_new(n, "title", json_string(form_id ? form_id : "earshot"));
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(json_object_get(doc, "response"), "answers"), key, v)
		add_answer(answers, key, key, v);
	json_object_set_new(n, "answers", answers);
	json_t *contact = json_object_get(doc, "contact");
	json_object_set_new(n, "contact", json_is_object(contact) ? json_deep_copy(contact) : json_object());
	json_object_set_new(n, "priority", json_string("normal"));
	return n;
}

/* Phone first (a call-back), then email. */
int notice_contact(const json_t *notice, const char **text, const char **href, const char **kind)
{
	static __thread char link[400];
	json_t *c = json_object_get(notice, "contact");
	const char *phone = json_string_value(json_object_get(c, "phone"));
	const char *email = json_string_value(json_object_get(c, "email"));
	if (!phone && !email)
		return 0;
	*text = phone ? phone : email;
	*kind = phone ? "phone" : "email";
	snprintf(link, sizeof link, "%s%s", phone ? "tel:" : "mailto:", *text);
	*href = link;
	return 1;
}

/* "YYYY-MM-DD HH:MM UTC". */
void notice_due_text(const json_t *notice, char buf[32])
{
	const char *due = json_string_value(json_object_get(notice, "due_at"));
	buf[0] = '\0';
	if (due && strlen(due) >= 16)
		snprintf(buf, 32, "%.10s %.5s UTC", due, due + 11);
}

/* True for a reminder notice. */
static int is_reminder(const json_t *notice)
{
	const char *kind = json_string_value(json_object_get(notice, "kind"));
	return kind && strcmp(kind, "reminder") == 0;
}

/* True for the notice of a signup confirmation email (confirm.h). */
static int is_confirmation(const json_t *notice)
{
	const char *kind = json_string_value(json_object_get(notice, "kind"));
	return kind && strcmp(kind, "confirm") == 0;
}

/* The notice's string member key, or "". */
static const char *member(const json_t *notice, const char *key)
{
	const char *s = json_string_value(json_object_get(notice, key));
	return s ? s : "";
}

/* Title (cut to 120 bytes on a character boundary), contact (or "new answer") and the due time. */
char *notice_subject(const json_t *notice)
{
	if (is_confirmation(notice))
		return xasprintf("%s: %s", member(notice, "subject"), member(notice, "title"));
	const char *full = json_string_value(json_object_get(notice, "title"));
	char title[128];
	snprintf(title, sizeof title, "%s", full ? full : "earshot");
	if (full && strlen(full) > 120) {
		size_t n = 117;
		while (n > 0 && ((unsigned char)title[n] & 0xC0) == 0x80)
			n--;
		memcpy(title + n, "...", 4);
	}
	const char *text = NULL, *href = NULL, *kind = NULL;
	char due[32];
	notice_due_text(notice, due);
	int has_contact = notice_contact(notice, &text, &href, &kind);
	char *by = due[0] ? xasprintf(" — answer by %s", due + 11) : xstrdup("");
	char *s = xasprintf("%s%s: %s%s", is_reminder(notice) ? "Overdue: " : "", title,
	                    has_contact ? text : "new answer", by);
	free(by);
	return s;
}

/* The plain text: heading, due line, answers, contact, link. */
char *notice_text(const json_t *notice)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (is_confirmation(notice)) {
		fprintf(f, "%s\n\n%s\n%s\n\n%s\n", member(notice, "title"), member(notice, "intro"),
		        member(notice, "link"), member(notice, "outro"));
		fclose(f);
		return out;
	}
	const char *title = json_string_value(json_object_get(notice, "title"));
	const char *priority = json_string_value(json_object_get(notice, "priority"));
	char due[32];
	notice_due_text(notice, due);
	fprintf(f, "%s%s\n", is_reminder(notice) ? "OVERDUE — nobody has marked this done yet: " : "New answer: ",
	        title ? title : "");
	if (priority && strcmp(priority, "normal") != 0)
		fprintf(f, "Priority: %s\n", priority);
	if (due[0])
		fprintf(f, "Answer by %s (within %lld minutes).\n", due,
		        (long long)json_integer_value(json_object_get(notice, "within_minutes")));
	fputs("\n", f);
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(notice, "answers"), i, a)
		fprintf(f, "%s\n  %s\n", json_string_value(json_object_get(a, "label")),
		        json_string_value(json_object_get(a, "value")));
	const char *text = NULL, *href = NULL, *kind = NULL;
	if (notice_contact(notice, &text, &href, &kind))
		fprintf(f, "\nContact: %s <%s>\n", text, href);
	const char *link = json_string_value(json_object_get(notice, "link"));
	if (link)
		fprintf(f, "Open in earshot: %s\n", link);
	fclose(f);
	return out;
}

/* Writes s to f with &, <, >, " and ' escaped. */
static void html_put(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* The HTML body: the same content as notice_text, as a heading, a table and two links. */
char *notice_html(const json_t *notice)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (is_confirmation(notice)) {
		fputs("<!doctype html><html lang=\"", f);
		html_put(f, member(notice, "lang"));
		fputs("\"><body style=\"font-family:sans-serif;color:#1f2328\">\n<h2>", f);
		html_put(f, member(notice, "title"));
		fputs("</h2>\n<p>", f);
		html_put(f, member(notice, "intro"));
		fputs("</p>\n<p><a href=\"", f);
		html_put(f, member(notice, "link"));
		fputs("\" style=\"display:inline-block;padding:10px 16px;background:#0b57d0;color:#fff;"
		      "text-decoration:none;border-radius:4px\">", f);
		html_put(f, member(notice, "button"));
		fputs("</a></p>\n<p style=\"font-size:small\">", f);
		html_put(f, member(notice, "link"));
		fputs("</p>\n<p>", f);
		html_put(f, member(notice, "outro"));
		fputs("</p>\n</body></html>\n", f);
		fclose(f);
		return out;
	}
	char due[32];
	notice_due_text(notice, due);
	fputs("<!doctype html><html><body style=\"font-family:sans-serif;color:#1f2328\">\n<h2 style=\"margin:0 0 8px\">", f);
	html_put(f, is_reminder(notice) ? "Overdue: " : "");
	html_put(f, json_string_value(json_object_get(notice, "title")));
	fputs("</h2>\n", f);
	const char *priority = json_string_value(json_object_get(notice, "priority"));
	if (priority && strcmp(priority, "normal") != 0) {
		fputs("<p><strong>Priority: ", f);
		html_put(f, priority);
		fputs("</strong></p>\n", f);
	}
	if (due[0])
		fprintf(f, "<p style=\"color:%s\">Answer by <strong>%s</strong> (within %lld minutes).</p>\n",
		        is_reminder(notice) ? "#b42318" : "#1f2328", due,
		        (long long)json_integer_value(json_object_get(notice, "within_minutes")));
	fputs("<table cellpadding=\"4\" style=\"border-collapse:collapse\">\n", f);
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(notice, "answers"), i, a) {
		fputs("<tr><th align=\"left\" valign=\"top\">", f);
		html_put(f, json_string_value(json_object_get(a, "label")));
		fputs("</th><td>", f);
		html_put(f, json_string_value(json_object_get(a, "value")));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	const char *text = NULL, *href = NULL, *kind = NULL;
	if (notice_contact(notice, &text, &href, &kind)) {
		fputs("<p>Contact: <a href=\"", f);
		html_put(f, href);
		fputs("\">", f);
		html_put(f, text);
		fputs("</a></p>\n", f);
	}
	const char *link = json_string_value(json_object_get(notice, "link"));
	if (link) {
		fputs("<p><a href=\"", f);
		html_put(f, link);
		fputs("\">Open in earshot</a></p>\n", f);
	}
	fputs("</body></html>\n", f);
	fclose(f);
	return out;
}
