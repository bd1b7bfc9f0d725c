/* util: aborting allocators, clocks, ISO-8601, randomness, hashing, UTF-8, glob, file reading. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "util.h"

static void out_of_memory(void)
{
	fputs("earshot: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		out_of_memory();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		out_of_memory();
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *out = NULL;
	if (vasprintf(&out, fmt, ap) < 0)
		out_of_memory();
	return out;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *out = xvasprintf(fmt, ap);
	va_end(ap);
	return out;
}

int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes v as exactly width decimal digits at p (v is within range). */
static void put_digits(char *p, int64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

void iso8601_format_ms(int64_t ms, char buf[32])
{
	/* Exports format one of these per row: civil-from-days arithmetic instead of gmtime + printf. */
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int64_t millis = ms - secs * 1000;
	int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t rem = secs - days * 86400;
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t day = doy - (153 * mp + 2) / 5 + 1;
	int64_t month = mp < 10 ? mp + 3 : mp - 9;
	int64_t year = yoe + era * 400 + (month <= 2);
	/* Years past 9999 cannot occur from a wall clock; clamp so the output always fits. */
	year = year < 0 ? 0 : year > 9999 ? 9999 : year;
	memcpy(buf, "0000-00-00T00:00:00.000Z", 25);
	put_digits(buf, year, 4);
	put_digits(buf + 5, month, 2);
	put_digits(buf + 8, day, 2);
	put_digits(buf + 11, rem / 3600, 2);
	put_digits(buf + 14, rem / 60 % 60, 2);
	put_digits(buf + 17, rem % 60, 2);
	put_digits(buf + 20, millis, 3);
}

static int parse_digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return month == 2 && leap ? 29 : days[month - 1];
}

int iso8601_parse_ms(const char *s, int64_t *ms)
{
	const char *p = s;
	int year, month, day, hour = 0, minute = 0, second = 0, millis = 0, offset_min = 0;
	if (parse_digits(&p, 4, &year) || *p++ != '-' || parse_digits(&p, 2, &month) || *p++ != '-' ||
	    parse_digits(&p, 2, &day))
		return -1;
	if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (parse_digits(&p, 2, &hour) || *p++ != ':' || parse_digits(&p, 2, &minute))
			return -1;
		if (*p == ':') {
			p++;
			if (parse_digits(&p, 2, &second))
				return -1;
			if (*p == '.' || *p == ',') {
				p++;
				int digits = 0;
				while (*p >= '0' && *p <= '9') {
					if (digits < 3)
						millis = millis * 10 + (*p - '0');
					digits++;
					p++;
				}
				if (digits == 0)
					return -1;
				for (; digits < 3; digits++)
					millis *= 10;
			}
		}
		if (hour > 23 || minute > 59 || second > 60)
			return -1;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;
			if (parse_digits(&p, 2, &oh))
				return -1;
			if (*p == ':')
				p++;
			if (parse_digits(&p, 2, &om) || oh > 23 || om > 59)
				return -1;
			offset_min = sign * (oh * 60 + om);
		} else if (*p != '\0') {
			return -1;
		}
	}
	if (*p != '\0')
		return -1;
	/* Days from civil (proleptic Gregorian), as in Howard Hinnant's public-domain algorithm. */
	int y = year - (month <= 2);
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = (int64_t)era * 146097 + doe - 719468;
	int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - (int64_t)offset_min * 60;
	*ms = secs * 1000 + millis;
	return 0;
}

int random_bytes(void *buf, size_t n)
{
	return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

/* Random bytes for ids, drawn from RAND_bytes a block at a time per thread: one RAND_bytes call per id
 * cost more than the rest of making it (OpenSSL checks its lock and process id on every call).
 * earshot never forks, so no two processes can share a block. Returns 0 or -1. */
static int id_random_bytes(unsigned char *out, size_t n)
{
	static _Thread_local unsigned char block[1024];
	static _Thread_local size_t left;
	if (n > sizeof block)
		return random_bytes(out, n);
	if (left < n) {
		if (random_bytes(block, sizeof block) != 0)
			return -1;
		left = sizeof block;
	}
	memcpy(out, block + sizeof block - left, n);
	memset(block + sizeof block - left, 0, n); /* a byte handed out is not kept */
	left -= n;
	return 0;
}

/* The id alphabet in ASCII order, so that ids compare as their time stamps do. */
static const char id_alphabet[] = "234567abcdefghijklmnopqrstuvwxyz";

void random_id(const char *prefix, char *out, size_t out_size)
{
	unsigned char raw[ID_RANDOM_CHARS];
	if (id_random_bytes(raw, sizeof raw) != 0) {
		fputs("earshot: no randomness available\n", stderr);
		abort();
	}
	size_t plen = strlen(prefix);
	if (out_size < plen + ID_TIME_CHARS + ID_RANDOM_CHARS + 1)
		abort();
	memcpy(out, prefix, plen);
	/* Time first, most significant digit first: new ids land at the right-hand edge of every index
	 * keyed by them, so a commit rewrites a few pages there rather than one random page per id. */
	uint64_t ms = (uint64_t)now_ms();
	for (int i = ID_TIME_CHARS - 1; i >= 0; i--) {
		out[plen + (size_t)i] = id_alphabet[ms & 31];
		ms >>= 5;
	}
	for (size_t i = 0; i < ID_RANDOM_CHARS; i++)
		out[plen + ID_TIME_CHARS + i] = id_alphabet[raw[i] & 31];
	out[plen + ID_TIME_CHARS + ID_RANDOM_CHARS] = '\0';
}

/* OpenSSL 3's SHA256() and EVP_Digest with EVP_sha256() look the algorithm up in the provider
 * registry on every call (EVP_MD_fetch: a lock and a property query); it is fetched once instead, and
 * kept for the life of the process. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	pthread_once(&sha256_once, sha256_fetch);
	if (!sha256_md || !EVP_Digest(data, len, digest, NULL, sha256_md, NULL))
		SHA256(data, len, digest);
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[64] = '\0';
}

bool ct_equal(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

char *read_whole_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0, got;
	char *buf = xmalloc(cap);
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n + 1 == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	int failed = ferror(f), saved = errno;
	fclose(f);
	if (failed) {
		free(buf);
		errno = saved ? saved : EIO;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int hex_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool str_ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

size_t utf8_count(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t count = 0;
	while (p < end) {
		unsigned char c = *p;
		size_t extra;
		uint32_t cp;
		if (c < 0x80) {
			p++;
			count++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			extra = 1;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			extra = 2;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			extra = 3;
			cp = c & 0x07;
		} else {
			return (size_t)-1;
		}
		if ((size_t)(end - p) <= extra)
			return (size_t)-1;
		for (size_t i = 1; i <= extra; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return (size_t)-1;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		/* Refuse overlong forms, surrogates and values past U+10FFFF. */
		if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			return (size_t)-1;
		p += extra + 1;
		count++;
	}
	return count;
}

bool glob_match(const char *pattern, const char *text)
{
	const char *star = NULL, *resume = NULL;
	while (*text) {
		if (*pattern == '*') {
			star = pattern++;
			resume = text;
		} else if (*pattern == '?' || *pattern == *text) {
			pattern++;
			text++;
		} else if (star) {
			pattern = star + 1;
			text = ++resume;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}
