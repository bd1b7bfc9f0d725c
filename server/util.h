/* util: allocation that aborts on out-of-memory, string helpers, clocks, ISO-8601 times, file reading. */
#ifndef EARSHOT_UTIL_H
#define EARSHOT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Allocators that abort with a message on out-of-memory: callers never check for NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a malloc'd formatted string (caller frees). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The va_list form of xasprintf (ap is consumed; the caller still calls va_end). */
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Milliseconds since the Unix epoch (wall clock) and a monotonic clock. */
int64_t now_ms(void);
int64_t monotonic_ms(void);

/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) into buf (at least 25 bytes). */
void iso8601_format_ms(int64_t ms, char buf[32]);
/* Parses an ISO-8601 date ("2026-11-24") or date-time ("2026-11-24T10:00:00Z", optional
 * fraction, "Z" or "+hh:mm" offset) into ms since the epoch. Returns 0, or -1 when malformed. */
int iso8601_parse_ms(const char *s, int64_t *ms);

/* Fills buf with n cryptographically random bytes (OpenSSL RAND_bytes). Returns 0 or -1. */
int random_bytes(void *buf, size_t n);
/* Characters of an identifier after its prefix: the creation time, then the random part. */
#define ID_TIME_CHARS 10   /* ms since the epoch, 50 bits: good until the year 37648 */
#define ID_RANDOM_CHARS 16 /* 80 random bits: ids are unguessable (a thank-you link is one) */
/* Writes a new identifier: prefix + 26 lower-case base32 characters, the first 10 the time in ms and
 * the rest random, so ids made later sort after earlier ones (to the millisecond). */
void random_id(const char *prefix, char *out, size_t out_size);
/* Lower-case hex SHA-256 of data into out (65 bytes with the NUL). */
void sha256_hex(const void *data, size_t len, char out[65]);
/* Constant-time comparison of two equal-length buffers. */
bool ct_equal(const void *a, const void *b, size_t n);

/* Reads a whole file into a malloc'd NUL-terminated buffer (caller frees) and its length into *len.
 * Returns NULL with errno set when the file cannot be opened or read. */
char *read_whole_file(const char *path, size_t *len);

/* Value of a hexadecimal digit (either case), or -1 for any other character. */
int hex_digit_value(char c);

/* True when s ends with suffix. */
bool str_ends_with(const char *s, const char *suffix);

/* Number of UTF-8 code points in s[0..len); returns (size_t)-1 when s is not valid UTF-8. */
size_t utf8_count(const char *s, size_t len);

/* Glob match where '*' is any run of characters (including '/') and '?' one character. */
bool glob_match(const char *pattern, const char *text);

#endif
