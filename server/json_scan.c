/* json_scan: tree-less reading of JSON text (see json_scan.h). */
#include <stdint.h>
#include <string.h>

#include "json_scan.h"
#include "util.h"

/* Nesting deeper than this is refused (stored answers are at most a few levels deep). */
#define MAX_DEPTH 64

/* Skips JSON white space. */
static void skip_ws(const char *s, size_t n, size_t *i)
{
	while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r'))
		(*i)++;
}

/* Skips a string starting at its opening quote s[*i]. 0, or -1 when malformed. */
static int skip_string(const char *s, size_t n, size_t *i)
{
	size_t j = *i + 1;
	while (j < n) {
		unsigned char c = (unsigned char)s[j];
		if (c == '"') {
			*i = j + 1;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (j + 1 >= n)
				return -1;
			char e = s[j + 1];
			if (e == 'u') {
				if (j + 6 > n)
					return -1;
				for (int k = 2; k < 6; k++)
					if (hex_digit_value(s[j + k]) < 0)
						return -1;
				j += 6;
				continue;
			}
			if (!strchr("\"\\/bfnrt", e) || e == '\0')
				return -1;
			j += 2;
			continue;
		}
		j++;
	}
	return -1;
}

/* Skips a number at s[*i] (JSON grammar). 0, or -1 when malformed. */
static int skip_number(const char *s, size_t n, size_t *i)
{
	size_t j = *i;
	if (j < n && s[j] == '-')
		j++;
	if (j >= n || s[j] < '0' || s[j] > '9')
		return -1;
	if (s[j] == '0')
		j++;
	else
		while (j < n && s[j] >= '0' && s[j] <= '9')
			j++;
	if (j < n && s[j] == '.') {
		j++;
		if (j >= n || s[j] < '0' || s[j] > '9')
			return -1;
		while (j < n && s[j] >= '0' && s[j] <= '9')
			j++;
	}
	if (j < n && (s[j] == 'e' || s[j] == 'E')) {
		j++;
		if (j < n && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j >= n || s[j] < '0' || s[j] > '9')
			return -1;
		while (j < n && s[j] >= '0' && s[j] <= '9')
			j++;
	}
	*i = j;
	return 0;
}

/* Skips one value at s[*i] (no leading white space), nested up to MAX_DEPTH - depth levels. */
static int skip_value(const char *s, size_t n, size_t *i, int depth)
{
	if (*i >= n || depth > MAX_DEPTH)
		return -1;
	char c = s[*i];
	if (c == '"')
		return skip_string(s, n, i);
	if (c == '-' || (c >= '0' && c <= '9'))
		return skip_number(s, n, i);
	static const char *const words[] = { "true", "false", "null" };
	for (int k = 0; k < 3; k++) {
		size_t len = strlen(words[k]);
		if (c == words[k][0]) {
			if (*i + len > n || memcmp(s + *i, words[k], len) != 0)
				return -1;
			*i += len;
			return 0;
		}
	}
	if (c != '[' && c != '{')
		return -1;
	char close = c == '[' ? ']' : '}';
	(*i)++;
	skip_ws(s, n, i);
	if (*i < n && s[*i] == close) {
		(*i)++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (*i >= n || s[*i] != '"' || skip_string(s, n, i) != 0)
				return -1;
			skip_ws(s, n, i);
			if (*i >= n || s[*i] != ':')
				return -1;
			(*i)++;
			skip_ws(s, n, i);
		}
		if (skip_value(s, n, i, depth + 1) != 0)
			return -1;
		skip_ws(s, n, i);
		if (*i >= n)
			return -1;
		if (s[*i] == close) {
			(*i)++;
			return 0;
		}
		if (s[*i] != ',')
			return -1;
		(*i)++;
		skip_ws(s, n, i);
	}
}

/* Skips white space and one value; see json_scan.h. */
int json_scan_value(const char *s, size_t n, size_t *i, json_span *out)
{
	skip_ws(s, n, i);
	size_t start = *i;
	if (skip_value(s, n, i, 0) != 0)
		return -1;
	out->p = s + start;
	out->len = *i - start;
	return 0;
}

/* True when s[0..n) holds exactly one value. */
bool json_scan_valid(const char *s, size_t n)
{
	size_t i = 0;
	json_span v;
	if (json_scan_value(s, n, &i, &v) != 0)
		return false;
	skip_ws(s, n, &i);
	return i == n;
}

/* Walks an object's members (see json_scan.h). */
int json_scan_object(const char *s, size_t n,
                     int (*fn)(const char *key, size_t key_len, json_span value, void *arg), void *arg)
{
	if (!json_scan_valid(s, n))
		return -1;
	size_t i = 0;
	skip_ws(s, n, &i);
	if (s[i] != '{')
		return -1;
	i++;
	skip_ws(s, n, &i);
	if (s[i] == '}')
		return 0;
	for (;;) {
		size_t key_start = i;
		skip_string(s, n, &i);
		const char *key = s + key_start + 1;
		size_t key_len = i - key_start - 2;
		skip_ws(s, n, &i);
		i++; /* ':' */
		json_span v;
		json_scan_value(s, n, &i, &v);
		int rc = fn(key, key_len, v, arg);
		if (rc != 0)
			return rc;
		skip_ws(s, n, &i);
		if (s[i] == '}')
			return 0;
		i++; /* ',' */
		skip_ws(s, n, &i);
	}
}

/* Walks an array's elements (see json_scan.h). */
int json_scan_array(const char *s, size_t n, int (*fn)(json_span value, void *arg), void *arg)
{
	if (!json_scan_valid(s, n))
		return -1;
	size_t i = 0;
	skip_ws(s, n, &i);
	if (s[i] != '[')
		return -1;
	i++;
	skip_ws(s, n, &i);
	if (s[i] == ']')
		return 0;
	for (;;) {
		json_span v;
		json_scan_value(s, n, &i, &v);
		int rc = fn(v, arg);
		if (rc != 0)
			return rc;
		skip_ws(s, n, &i);
		if (s[i] == ']')
			return 0;
		i++; /* ',' */
	}
}

/* Appends code point cp as UTF-8. */
static void put_utf8(char **p, uint32_t cp)
{
	unsigned char *o = (unsigned char *)*p;
	if (cp < 0x80) {
		*o++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*o++ = (unsigned char)(0xC0 | (cp >> 6));
		*o++ = (unsigned char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*o++ = (unsigned char)(0xE0 | (cp >> 12));
		*o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (unsigned char)(0x80 | (cp & 0x3F));
	} else {
		*o++ = (unsigned char)(0xF0 | (cp >> 18));
		*o++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		*o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (unsigned char)(0x80 | (cp & 0x3F));
	}
	*p = (char *)o;
}

/* Reads the four hex digits at s. */
static uint32_t hex4(const char *s)
{
	return (uint32_t)(hex_digit_value(s[0]) << 12 | hex_digit_value(s[1]) << 8 |
	                  hex_digit_value(s[2]) << 4 | hex_digit_value(s[3]));
}

/* Decodes a string value into the buffer (see json_scan.h). */
int json_scan_string(json_span v, char **buf, size_t *len, size_t *cap)
{
	size_t i = 0;
	if (v.len < 2 || v.p[0] != '"' || skip_string(v.p, v.len, &i) != 0 || i != v.len)
		return -1;
	/* Decoding never grows the text: an escape of k bytes gives at most k bytes of UTF-8. */
	size_t need = *len + v.len + 1;
	if (need > *cap) {
		size_t want = *cap ? *cap : 256;
		while (want < need)
			want *= 2;
		*buf = xrealloc(*buf, want);
		*cap = want;
	}
	char *o = *buf + *len;
	const char *s = v.p + 1, *end = v.p + v.len - 1;
	while (s < end) {
		const char *bs = memchr(s, '\\', (size_t)(end - s));
		size_t plain = bs ? (size_t)(bs - s) : (size_t)(end - s);
		memcpy(o, s, plain);
		o += plain;
		s += plain;
		if (!bs)
			break;
		char e = s[1];
		s += 2;
		switch (e) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			uint32_t cp = hex4(s);
			s += 4;
			if (cp >= 0xD800 && cp <= 0xDBFF && end - s >= 6 && s[0] == '\\' && s[1] == 'u') {
				uint32_t lo = hex4(s + 2);
				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					s += 6;
				}
			}
			if (cp >= 0xD800 && cp <= 0xDFFF)
				return -1;  /* a lone surrogate: jansson refuses it too */
			if (cp == 0)
				goto stop;   /* C strings end at NUL */
			put_utf8(&o, cp);
			break;
		}
		default: *o++ = e; break;  /* " \ / */
		}
	}
stop:
	*o = '\0';
	*len = (size_t)(o - *buf);
	return 0;
}

/* Appends s[0..n) to the growing buffer, keeping it NUL-terminated. */
static void append_bytes(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

void json_append_string(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	append_bytes(buf, len, cap, "\"", 1);
	size_t run = 0; /* start of the bytes not copied yet */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		append_bytes(buf, len, cap, s + run, i - run);
		run = i + 1;
		char esc[7] = { '\\', 0 };
		size_t esc_len = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xF];
			esc_len = 6;
		}
		append_bytes(buf, len, cap, esc, esc_len);
	}
	append_bytes(buf, len, cap, s + run, n - run);
	append_bytes(buf, len, cap, "\"", 1);
}
