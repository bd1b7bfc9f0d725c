/* json_scan: reads values out of JSON text without building a tree (and writes strings back). Exports go through millions of
 * stored rows whose columns are JSON written by earshot itself; building a jansson tree for each of
 * them was most of an export's time, when a CSV row only needs a few members' texts. The scanner
 * checks the syntax it walks over, so malformed text is refused rather than misread. */
#ifndef EARSHOT_JSON_SCAN_H
#define EARSHOT_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

/* The text of one JSON value, [p, p + len), borrowed from the document it was found in. */
typedef struct json_span {
	const char *p;
	size_t len;
} json_span;

/* Skips white space and one value of s[*i..n), which must be well-formed; *i moves past it.
 * Returns 0 with *out set, or -1 for malformed text. */
int json_scan_value(const char *s, size_t n, size_t *i, json_span *out);
/* True when s[0..n) is exactly one well-formed JSON value (white space around it allowed). */
bool json_scan_valid(const char *s, size_t n);
/* Calls fn for each member of the object text s[0..n), in order: key is the member name as written
 * between its quotes (escapes not decoded), value its value's text. fn returns 0 to go on, non-zero
 * to stop (which is returned). Returns 0, or -1 when s is not a well-formed object. */
int json_scan_object(const char *s, size_t n,
                     int (*fn)(const char *key, size_t key_len, json_span value, void *arg), void *arg);
/* Calls fn for each element of the array text s[0..n), like json_scan_object. */
int json_scan_array(const char *s, size_t n, int (*fn)(json_span value, void *arg), void *arg);
/* Appends the decoded text of the string value v (quotes included in v) to the growing buffer *buf
 * (malloc'd, kept NUL-terminated); decoding stops at an escaped NUL, as C strings do. Returns 0, or
 * -1 for a value that is not a well-formed string. */
int json_scan_string(json_span v, char **buf, size_t *len, size_t *cap);
/* The way back: appends s[0..n) as a JSON string, quoted and escaped as jansson's compact dump escapes
 * it, to the growing buffer *buf (malloc'd, kept NUL-terminated). */
void json_append_string(char **buf, size_t *len, size_t *cap, const char *s, size_t n);

#endif
