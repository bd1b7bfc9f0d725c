/* mail_message: checked mail addresses and the RFC 5322 / MIME text of an alert email — an encoded
 * UTF-8 Subject, Date, a Message-ID stable across retries, and a multipart/alternative body with a
 * plain-text and a small HTML part (both base64, so no line is ever too long). */
#ifndef EARSHOT_MAIL_MESSAGE_H
#define EARSHOT_MAIL_MESSAGE_H

#include <stdint.h>
#include <jansson.h>

/* Splits "Display Name <local@domain>" or "local@domain" and checks it: no control bytes (CR, LF,
 * NUL…) anywhere, exactly one '@', a non-empty local part and a dotted-or-plain domain of letters,
 * digits, '-' and '.', at most 254 bytes. Returns 0 with *display (NULL when absent) and *addr
 * (caller frees both), or -1 with *why (a static sentence). */
int mail_address_parse(const char *text, char **display, char **addr, const char **why);

/* A header value with non-ASCII text as RFC 2047 encoded words ("=?UTF-8?B?…?="), folded so no line
 * passes 78 characters; plain ASCII is returned as is. Malloc'd. */
char *mail_encode_header(const char *text);

/* The Message-ID of a delivery: "<delivery_id@domain>", domain taken from the from address.
 * Malloc'd. */
char *mail_message_id(const char *delivery_id, const char *from);

/* The whole message (CRLF line ends) from `from` to the `to` addresses about notice (notice.h),
 * dated now_ms. Returns it malloc'd, or NULL with *err when an address is unusable. */
char *mail_message_build(const char *from, char *const *to, size_t n_to, const char *delivery_id,
                         const json_t *notice, int64_t now_ms, char **err);

#endif
