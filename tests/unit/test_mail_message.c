/* Unit tests for alert messages: address checks (CR/LF and other injection refused), RFC 2047 subject
 * encoding split on character boundaries, the MIME message's headers and parts, the notice texts, and
 * each chat format's payload shape. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "deliver.h"
#include "mail_message.h"
#include "notice.h"
#include "webhook_sign.h"

/* Good addresses split into display name and address; bad ones are refused with a reason. */
static void test_address_parse(void **state)
{
	(void)state;
	char *display, *addr;
	const char *why;
	assert_int_equal(mail_address_parse("Shop feedback <feedback@shop.example>", &display, &addr, &why), 0);
	assert_string_equal(display, "Shop feedback");
	assert_string_equal(addr, "feedback@shop.example");
	free(display);
	free(addr);
	assert_int_equal(mail_address_parse(" sales@shop.example ", &display, &addr, &why), 0);
	assert_null(display);
	assert_string_equal(addr, "sales@shop.example");
	free(addr);
	static const char *const bad[] = {
		"a@shop.example\r\nBcc: evil@example.com", "Shop\n <a@shop.example>", "a@shop.example\r", "",
		"no-at.example", "a@@b.example", "@shop.example", "a@", "a b@shop.example", "a@shop example",
		"Name <a@shop.example", "Name <a@shop.example> trailing", "\"Quote\" <a@shop.example>",
		"a@shop..example", "a@.shop.example", "a,b@shop.example",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		if (mail_address_parse(bad[i], &display, &addr, &why) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_non_null(why);
	}
	assert_int_equal(mail_address_parse("x@shop.example\n", &display, &addr, &why), -1);
	assert_non_null(strstr(why, "line breaks"));
}

/* ASCII passes as is; UTF-8 becomes encoded words of whole characters that decode back. */
static void test_encode_header(void **state)
{
	(void)state;
	char *plain = mail_encode_header("Plain subject");
	assert_string_equal(plain, "Plain subject");
	free(plain);
	const char *text = "Pokličite me — ščž ŠČŽ повернення 🎉 and some more words to pass forty-five bytes";
	char *enc = mail_encode_header(text);
	char decoded[512] = "";
	for (char *p = enc; (p = strstr(p, "=?UTF-8?B?"));) {
		p += 10;
		char *end = strstr(p, "?=");
		assert_non_null(end);
		assert_true(end - p <= 60);
		char b64[128];
		memcpy(b64, p, (size_t)(end - p));
		b64[end - p] = '\0';
		size_t len = 0;
		unsigned char *bytes = webhook_base64_decode(b64, &len);
		assert_non_null(bytes);
		/* Each word holds whole characters: it never starts with a continuation byte. */
		assert_true((bytes[0] & 0xC0) != 0x80);
		strncat(decoded, (const char *)bytes, len);
		free(bytes);
		p = end + 2;
	}
	assert_string_equal(decoded, text);
	for (char *line = enc; line; line = strstr(line, "\r\n") ? strstr(line, "\r\n") + 2 : NULL) {
		char *eol = strstr(line, "\r\n");
		assert_true((eol ? (size_t)(eol - line) : strlen(line)) <= 76);
	}
	free(enc);
}

/* A notice as the writer builds it (without the form): two answers, a phone, a due time. */
static json_t *sample_notice(const char *kind)
{
	return json_pack("{s:s, s:s, s:s, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}], s:{s:s, s:s}, s:s, s:s, s:s, s:i, s:s}",
	                 "kind", kind, "form", "callback", "title", "Pokličite me",
	                 "answers", "id", "phone", "label", "Your phone", "value", "+38612345678",
	                 "id", "topic", "label", "Topic", "value", "Order <42> & \"refund\"",
	                 "contact", "phone", "+38612345678", "email", "ann@example.com",
	                 "priority", "urgent", "item", "i_abc", "due_at", "2026-12-02T14:05:00.000Z",
	                 "within_minutes", 15, "link", "http://shop.example/admin#inbox/i_abc");
}

/* Headers (Date, From, To, encoded Subject, Message-ID), CRLF everywhere, both parts in base64. */
static void test_message_build(void **state)
{
	(void)state;
	json_t *n = sample_notice("complaint");
	char *to[] = { "sales@shop.example", "Ana Novak <ana@shop.example>" };
	char *err = NULL;
	char *m = mail_message_build("Shop <feedback@shop.example>", to, 2, "d_123", n, 1796221500000, &err);
	assert_non_null(m);
	assert_non_null(strstr(m, "Date: Wed, 02 Dec 2026 14:25:00 +0000\r\n"));
	assert_non_null(strstr(m, "From: \"Shop\" <feedback@shop.example>\r\n"));
	assert_non_null(strstr(m, "To: sales@shop.example,\r\n \"Ana Novak\" <ana@shop.example>\r\n"));
	assert_non_null(strstr(m, "Subject: =?UTF-8?B?"));
	assert_non_null(strstr(m, "Message-ID: <d_123@shop.example>\r\n"));
	assert_non_null(strstr(m, "MIME-Version: 1.0\r\n"));
	assert_non_null(strstr(m, "Content-Type: multipart/alternative; boundary=\"=_earshot_d_123\""));
	assert_non_null(strstr(m, "Content-Type: text/plain; charset=UTF-8"));
	assert_non_null(strstr(m, "Content-Type: text/html; charset=UTF-8"));
	assert_non_null(strstr(m, "--=_earshot_d_123--\r\n"));
	for (const char *p = m; (p = strchr(p, '\n')); p++)
		assert_int_equal(p[-1], '\r');
	for (const unsigned char *p = (const unsigned char *)m; *p; p++)
		assert_true(*p < 0x80);
	free(m);
	char *bad_to[] = { "x@shop.example\r\nBcc: evil@example.com" };
	assert_null(mail_message_build("feedback@shop.example", bad_to, 1, "d_1", n, 0, &err));
	assert_non_null(strstr(err, "line breaks"));
	free(err);
	json_decref(n);
}

/* The texts: subject names title, contact and due time; plain keeps answers; html escapes them. */
static void test_notice_texts(void **state)
{
	(void)state;
	json_t *n = sample_notice("complaint");
	char *subject = notice_subject(n);
	assert_string_equal(subject, "Pokličite me: +38612345678 — answer by 14:05 UTC");
	char *text = notice_text(n);
	assert_non_null(strstr(text, "Order <42> & \"refund\""));
	assert_non_null(strstr(text, "Contact: +38612345678 <tel:+38612345678>"));
	assert_non_null(strstr(text, "Answer by 2026-12-02 14:05 UTC (within 15 minutes)."));
	assert_non_null(strstr(text, "Open in earshot: http://shop.example/admin#inbox/i_abc"));
	assert_non_null(strstr(text, "Priority: urgent"));
	char *html = notice_html(n);
	assert_non_null(strstr(html, "Order &lt;42&gt; &amp; &quot;refund&quot;"));
	assert_non_null(strstr(html, "<a href=\"tel:+38612345678\">+38612345678</a>"));
	assert_null(strstr(html, "<42>"));
	free(subject);
	free(text);
	free(html);
	json_decref(n);
	n = sample_notice("reminder");
	subject = notice_subject(n);
	assert_true(strncmp(subject, "Overdue: ", 9) == 0);
	free(subject);
	/* A very long title is cut on a character boundary, so the subject stays short. */
	char title[600] = "";
	for (int i = 0; i < 100; i++)
		strcat(title, "čž ");
	json_object_set_new(n, "title", json_string(title));
	subject = notice_subject(n);
	assert_true(strlen(subject) < 200);
	assert_non_null(strstr(subject, "...: +38612345678"));
	free(subject);
	json_decref(n);
}

/* Slack text with <url|text> and escaping; Teams an Adaptive Card; Discord embeds without mentions. */
static void test_chat_payloads(void **state)
{
	(void)state;
	json_t *n = sample_notice("complaint");
	char *s = chat_payload(CHAT_SLACK, n);
	json_t *p = json_loads(s, 0, NULL);
	const char *text = json_string_value(json_object_get(p, "text"));
	assert_int_equal(json_object_size(p), 1);
	assert_non_null(strstr(text, "<tel:+38612345678|+38612345678>"));
	assert_non_null(strstr(text, "Order &lt;42&gt; &amp; \"refund\""));
	assert_non_null(strstr(text, "<http://shop.example/admin#inbox/i_abc|Open in earshot>"));
	json_decref(p);
	free(s);
	s = chat_payload(CHAT_TEAMS, n);
	p = json_loads(s, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(p, "type")), "message");
	json_t *att = json_array_get(json_object_get(p, "attachments"), 0);
	assert_string_equal(json_string_value(json_object_get(att, "contentType")), "application/vnd.microsoft.card.adaptive");
	json_t *card = json_object_get(att, "content");
	assert_string_equal(json_string_value(json_object_get(card, "type")), "AdaptiveCard");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(card, "actions"), 0), "url")),
	                    "http://shop.example/admin#inbox/i_abc");
	json_decref(p);
	free(s);
	s = chat_payload(CHAT_DISCORD, n);
	p = json_loads(s, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(json_object_get(p, "allowed_mentions"), "parse")), 0);
	json_t *embed = json_array_get(json_object_get(p, "embeds"), 0);
	assert_int_equal(json_array_size(json_object_get(embed, "fields")), 2);
	assert_string_equal(json_string_value(json_object_get(embed, "url")), "http://shop.example/admin#inbox/i_abc");
	json_decref(p);
	free(s);
	json_decref(n);
}

/* Discord's limits hold for a long answer: a field value is cut to 1024 bytes on a character. */
static void test_discord_limits(void **state)
{
	(void)state;
	char long_text[3000];
	for (size_t i = 0; i + 2 < sizeof long_text; i += 2)
		memcpy(long_text + i, "č", 2);
	long_text[sizeof long_text - 2] = '\0';
	json_t *n = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s}], s:{}}", "kind", "complaint", "title", "T", "answers", "id",
	                      "a", "label", "A", "value", long_text, "contact");
	char *s = chat_payload(CHAT_DISCORD, n);
	json_t *p = json_loads(s, 0, NULL);
	assert_non_null(p);
	const char *v = json_string_value(json_object_get(json_array_get(json_object_get(json_array_get(
	                                      json_object_get(p, "embeds"), 0), "fields"), 0), "value"));
	assert_non_null(v);
	assert_true(strlen(v) <= 1024);
	json_decref(p);
	free(s);
	json_decref(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_parse),
		cmocka_unit_test(test_encode_header),
		cmocka_unit_test(test_message_build),
		cmocka_unit_test(test_notice_texts),
		cmocka_unit_test(test_chat_payloads),
		cmocka_unit_test(test_discord_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
