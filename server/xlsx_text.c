/* xlsx_text: cell text cleaning for XLSX exports (see xlsx_text.h). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "util.h"
#include "xlsx_text.h"

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

/* Decodes one UTF-8 character at s (at most n bytes). Returns its length with *cp set, or 0 for a
 * malformed, overlong or truncated sequence or a surrogate. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t len;
	uint32_t c, min;
	if ((s[0] & 0xE0) == 0xC0) {
		len = 2, c = s[0] & 0x1F, min = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3, c = s[0] & 0x0F, min = 0x800;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

/* True for a character XML 1.0 allows: tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD, U+10000 up. */
static bool xml_allowed(uint32_t c)
{
	return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
	       c >= 0x10000;
}

/* True when s starts with "_xHHHH_" (four hex digits, either case). */
static bool escape_lookalike(const char *s)
{
	if (s[0] != '_' || s[1] != 'x')
		return false;
	for (int i = 2; i < 6; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return s[6] == '_';
}

/* The length of s[0..n) cut to at most max_bytes on a character boundary. */
size_t xlsx_text_cut(const char *s, size_t n, size_t max_bytes)
{
	if (n > max_bytes) {
		n = max_bytes;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return n;
}

/* Writes the cleaned text of s[0..n) at out, with & < > as XML entities when xml is set. Returns the
 * bytes written; out needs room for 5 * n. */
static size_t clean(const char *s, size_t n, char *out, bool xml)
{
	char *p = out;
	size_t i = 0;
	while (i < n) {
		const unsigned char *u = (const unsigned char *)s + i;
		if (*u >= 0x20 && *u < 0x80) {
			switch (*u) {
			case '_':
				if (i + 7 <= n && escape_lookalike(s + i)) {
					memcpy(p, "_x005F", 6);
					p += 6;
				}
				break;
			case '&':
				if (xml) {
					memcpy(p, "&amp;", 5);
					p += 5, i++;
					continue;
				}
				break;
			case '<':
				if (xml) {
					memcpy(p, "&lt;", 4);
					p += 4, i++;
					continue;
				}
				break;
			case '>':
				if (xml) {
					memcpy(p, "&gt;", 4);
					p += 4, i++;
					continue;
				}
				break;
			}
			*p++ = (char)*u;
			i++;
			continue;
		}
		uint32_t cp = 0;
		size_t len = utf8_decode(u, n - i, &cp);
		if (len == 0 || !xml_allowed(cp)) {
			memcpy(p, REPLACEMENT, 3);
			p += 3;
			i += len ? len : 1;
		} else {
			memcpy(p, u, len);
			p += len;
			i += len;
		}
	}
	return (size_t)(p - out);
}

/* Cleans s for a cell; see xlsx_text.h. The result is malloc'd. */
char *xlsx_cell_text(const char *s, size_t max_bytes)
{
	size_t n = xlsx_text_cut(s, strlen(s), max_bytes);
	/* Worst cases: every byte becomes 3 (U+FFFD), or every 7 bytes gain 6 ("_x005F"). */
	char *out = xmalloc(3 * n + 1);
	out[clean(s, n, out, false)] = '\0';
	return out;
}

size_t xlsx_text_xml(const char *s, size_t n, char *out)
{
	return clean(s, n, out, true);
}
