/* mail_message: addresses and MIME text of alert emails (see mail_message.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mail_message.h"
#include "notice.h"
#include "util.h"
#include "webhook_sign.h"

/* True when s holds a byte below 0x20 or DEL (CR/LF would let a value add header lines). */
static bool has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

/* Checks a bare address: one '@', a local part of printable ASCII without spaces, quotes, <>, (),
 * commas or semicolons, and a domain of letters, digits, '-' and '.'. */
static const char *check_addr(const char *a)
{
	size_t len = strlen(a);
	const char *at = strchr(a, '@');
	if (len == 0)
		return "it must be an address such as name@example.com";
	if (len > 254)
		return "an address must be at most 254 bytes";
	if (!at || strchr(at + 1, '@'))
		return "an address must hold exactly one @, such as name@example.com";
	if (at == a || !at[1])
		return "an address needs a name before the @ and a domain after it";
	for (const char *p = a; p < at; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("\"<>(),;:[]\\", *p))
			return "the part before the @ holds a character an address cannot (space, quote, <, >, comma…)";
	for (const char *p = at + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.'))
			return "the domain after the @ may only hold letters, digits, '-' and '.'";
	if (at[1] == '.' || a[len - 1] == '.' || strstr(at, ".."))
		return "the domain after the @ is malformed";
	return NULL;
}

/* Trims spaces at both ends into a new string. */
static char *trimmed(const char *s, size_t n)
{
	while (n && *s == ' ') {
		s++;
		n--;
	}
	while (n && s[n - 1] == ' ')
		n--;
	return xstrndup(s, n);
}

/* "Name <addr>" or "addr". */
int mail_address_parse(const char *text, char **display, char **addr, const char **why)
{
	*display = *addr = NULL;
	if (!text || has_control(text)) {
		*why = "an address must not contain line breaks or other control characters";
		return -1;
	}
	const char *lt = strchr(text, '<');
	char *a, *d = NULL;
	if (lt) {
		const char *gt = strchr(lt, '>');
		if (!gt || gt[1 + strspn(gt + 1, " ")] != '\0' || strchr(lt + 1, '<')) {
			*why = "write an address as name@example.com or \"Name <name@example.com>\"";
			return -1;
		}
		a = xstrndup(lt + 1, (size_t)(gt - lt - 1));
		d = trimmed(text, (size_t)(lt - text));
		if (strchr(d, '"') || strchr(d, '\\')) {
			free(a);
			free(d);
			*why = "the display name must not contain quotes or backslashes";
			return -1;
		}
		if (!d[0]) {
			free(d);
			d = NULL;
		}
	} else {
		a = trimmed(text, strlen(text));
	}
	const char *bad = check_addr(a);
	if (bad) {
		free(a);
		free(d);
		*why = bad;
		return -1;
	}
	*display = d;
	*addr = a;
	return 0;
}

/* True when s is plain printable ASCII. */
static bool is_ascii(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p >= 0x80 || *p < 0x20)
			return false;
	return true;
}

/* Length of the longest prefix of s (at most max bytes) that ends on a UTF-8 character boundary. */
static size_t utf8_prefix(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n ? n : max;
}

/* Encoded words of at most 45 bytes of text each (60 base64 characters), joined by CRLF SP. */
char *mail_encode_header(const char *text)
{
	if (is_ascii(text))
		return xstrdup(text);
	char *out = xstrdup("");
	size_t len = strlen(text);
	for (size_t off = 0; off < len;) {
		size_t n = utf8_prefix(text + off, len - off, 45);
		char *b64 = webhook_base64_encode((const unsigned char *)text + off, n);
		char *next = xasprintf("%s%s=?UTF-8?B?%s?=", out, off ? "\r\n " : "", b64);
		free(b64);
		free(out);
		out = next;
		off += n;
	}
	return out;
}

/* "<id@domain-of-from>". */
char *mail_message_id(const char *delivery_id, const char *from)
{
	char *display = NULL, *addr = NULL;
	const char *why = NULL;
	const char *domain = "earshot.invalid";
	if (mail_address_parse(from, &display, &addr, &why) == 0)
		domain = strchr(addr, '@') + 1;
	char *id = xasprintf("<%s@%s>", delivery_id, domain);
	free(display);
	free(addr);
	return id;
}

/* Writes "Name: value" for an address header: the display name encoded when needed. 0 or -1. */
static int put_address(FILE *f, const char *text, const char **why)
{
	char *display = NULL, *addr = NULL;
	if (mail_address_parse(text, &display, &addr, why) != 0)
		return -1;
	if (display) {
		char *enc = mail_encode_header(display);
		if (is_ascii(display))
			fprintf(f, "\"%s\" <%s>", enc, addr);
		else
			fprintf(f, "%s <%s>", enc, addr);
		free(enc);
	} else {
		fputs(addr, f);
	}
	free(display);
	free(addr);
	return 0;
}

/* Writes s as base64 in lines of 76 characters, CRLF after each. */
static void put_base64(FILE *f, const char *s)
{
	char *b64 = webhook_base64_encode((const unsigned char *)s, strlen(s));
	for (size_t off = 0, len = strlen(b64); off < len; off += 76)
		fprintf(f, "%.76s\r\n", b64 + off);
	free(b64);
}

/* Headers, then a multipart/alternative body of the plain text and the HTML. */
char *mail_message_build(const char *from, char *const *to, size_t n_to, const char *delivery_id,
                         const json_t *notice, int64_t now_ms, char **err)
{
	char *out = NULL;
	size_t len = 0;
	const char *why = NULL;
	FILE *f = open_memstream(&out, &len);
	char date[64];
	time_t secs = (time_t)(now_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec" };
	snprintf(date, sizeof date, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
	         months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	fprintf(f, "Date: %s\r\nFrom: ", date);
	int rc = put_address(f, from, &why);
	fputs("\r\nTo: ", f);
	for (size_t i = 0; i < n_to && rc == 0; i++) {
		fputs(i ? ",\r\n " : "", f);
		rc = put_address(f, to[i], &why);
	}
	char *subject_text = notice_subject(notice);
	char *subject = mail_encode_header(subject_text);
	char *message_id = mail_message_id(delivery_id, from);
	fprintf(f, "\r\nSubject: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n"
	           "Auto-Submitted: auto-generated\r\nX-Earshot-Delivery: %s\r\n"
	           "Content-Type: multipart/alternative; boundary=\"=_earshot_%s\"\r\n\r\n"
	           "This is a MIME message.\r\n",
	        subject, message_id, delivery_id, delivery_id);
	char *text = notice_text(notice);
	char *html = notice_html(notice);
	fprintf(f, "--=_earshot_%s\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
	        delivery_id);
	put_base64(f, text);
	fprintf(f, "--=_earshot_%s\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
	        delivery_id);
	put_base64(f, html);
	fprintf(f, "--=_earshot_%s--\r\n", delivery_id);
	fclose(f);
	free(subject_text);
	free(subject);
	free(message_id);
	free(text);
	free(html);
	if (rc != 0) {
		free(out);
		if (err)
			*err = xasprintf("unusable address: %s", why);
		return NULL;
	}
	return out;
}
