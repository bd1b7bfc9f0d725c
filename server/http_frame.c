/* http_frame: the strict RFC 9112 request framing checker (see http_frame.h). One state per place in
 * the grammar; body and chunk bytes are skipped in bulk, so only heads are read byte by byte. */
#include <string.h>
#include <strings.h>

#include "http_frame.h"
#include "util.h"

enum {
	S_START,            /* before a request line; empty lines (CRLF) are skipped */
	S_START_LF,         /* after a CR before the request line */
	S_METHOD,
	S_TARGET_START,
	S_TARGET,
	S_VERSION,          /* "HTTP/1.1" or "HTTP/1.0", byte by byte */
	S_LINE_LF,          /* after the CR of the request line */
	S_FIELD_START,      /* at the start of a header (or trailer) line */
	S_NAME,
	S_VALUE,
	S_FIELD_LF,         /* after the CR of a field line */
	S_HEAD_LF,          /* after the CR of the empty line that ends the head (or trailer) */
	S_BODY,             /* Content-Length bytes */
	S_CHUNK_SIZE,
	S_EXT_NAME_START,   /* after ';' in a chunk extension */
	S_EXT_NAME,
	S_EXT_VALUE_START,  /* after '=' */
	S_EXT_TOKEN,
	S_EXT_QUOTED,
	S_EXT_QUOTED_ESCAPE,
	S_EXT_AFTER_QUOTED,
	S_CHUNK_SIZE_LF,
	S_CHUNK_DATA,
	S_CHUNK_DATA_CR,
	S_CHUNK_DATA_LF,
	S_INVALID,
};

/* The methods earshot serves; any other is refused here (501) rather than by libevent (HTML). */
static const char *const known_methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", NULL };

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A byte a field value may hold: HTAB, SP, VCHAR or obs-text. */
static bool is_field_byte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

void http_frame_init(http_frame *f)
{
	memset(f, 0, sizeof *f);
	f->state = S_START;
}

/* Resets the per-request part of f for the next request. */
static void next_request(http_frame *f)
{
	uint64_t requests = f->requests + 1, max_length = f->max_length;
	http_frame_init(f);
	f->requests = requests;
	f->max_length = max_length;
}

/* Marks the stream refused with status and reason (static). Returns HTTP_FRAME_INVALID. */
static http_frame_result invalid(http_frame *f, int status, const char *reason)
{
	f->state = S_INVALID;
	f->status = status;
	f->reason = reason;
	return HTTP_FRAME_INVALID;
}

/* The reason for a byte that may not appear where it did inside a head line. */
static const char *bad_byte_reason(unsigned char c)
{
	if (c == '\n')
		return "A line of the request ends in LF without CR.";
	if (c == '\r')
		return "The request holds a CR that does not end a line.";
	if (c == '\0')
		return "The request head holds a NUL byte.";
	return "The request head holds a control byte.";
}

/* Trims optional whitespace (SP, HTAB) from both ends of the collected value, in place. */
static void trim_value(http_frame *f)
{
	size_t start = 0, end = f->value_len;
	while (start < end && (f->value[start] == ' ' || f->value[start] == '\t'))
		start++;
	while (end > start && (f->value[end - 1] == ' ' || f->value[end - 1] == '\t'))
		end--;
	memmove(f->value, f->value + start, end - start);
	f->value_len = end - start;
	f->value[f->value_len] = '\0';
}

/* Reads one Content-Length value. Returns 0, or -1 after invalid(). */
static int take_content_length(http_frame *f)
{
	if (f->in_trailer)
		return invalid(f, 400, "A trailer may not carry Content-Length."), -1;
	if (f->have_length)
		return invalid(f, 400, "The request has more than one Content-Length."), -1;
	trim_value(f);
	if (f->value_len == 0 || f->value_len > 18 || f->value_overflow)
		return invalid(f, 400, "The Content-Length is not a plain decimal number."), -1;
	uint64_t n = 0;
	for (size_t i = 0; i < f->value_len; i++) {
		if (f->value[i] < '0' || f->value[i] > '9')
			return invalid(f, 400, "The Content-Length is not a plain decimal number."), -1;
		n = n * 10 + (uint64_t)(f->value[i] - '0');
	}
	f->have_length = true;
	f->length = n;
	return 0;
}

/* Reads one Transfer-Encoding value: a comma-separated list of codings, of which only a final, single
 * `chunked` can be read. Returns 0, or -1 after invalid(). */
static int take_transfer_encoding(http_frame *f)
{
	if (f->in_trailer)
		return invalid(f, 400, "A trailer may not carry Transfer-Encoding."), -1;
	if (f->value_overflow)
		return invalid(f, 400, "The Transfer-Encoding header is too long."), -1;
	f->have_te = true;
	f->value[f->value_len] = '\0';
	char *p = f->value;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		char *start = p;
		while (is_tchar((unsigned char)*p))
			p++;
		size_t len = (size_t)(p - start);
		while (*p == ' ' || *p == '\t')
			p++;
		if (len == 0 || (*p != ',' && *p != '\0'))
			return invalid(f, 400, "The Transfer-Encoding header is not a list of codings."), -1;
		bool is_chunked = len == 7 && strncasecmp(start, "chunked", 7) == 0;
		if (f->chunked)
			return invalid(f, 400, "A transfer coding follows `chunked`."), -1;
		if (is_chunked)
			f->chunked = true;
		f->te_codings++;
		if (*p == '\0')
			return 0;
		p++;
	}
}

/* Called at the end of a field line: reads the fields that frame the body. 0, or -1 after invalid(). */
static int end_field(http_frame *f)
{
	if (strcmp(f->name, "content-length") == 0)
		return take_content_length(f);
	if (strcmp(f->name, "transfer-encoding") == 0)
		return take_transfer_encoding(f);
	return 0;
}

/* Called after the empty line that ends the head: decides how the body is framed. Returns the
 * result for the caller (END when the request has no body), or MORE. */
static http_frame_result end_head(http_frame *f)
{
	if (f->in_trailer) {
		next_request(f);
		return HTTP_FRAME_END;
	}
	if (f->have_te) {
		if (f->version_minor == 0)
			return invalid(f, 400, "An HTTP/1.0 request may not use Transfer-Encoding.");
		if (f->have_length)
			return invalid(f, 400, "The request has both Transfer-Encoding and Content-Length.");
		if (!f->chunked)
			return invalid(f, 400, "The final transfer coding is not `chunked`.");
		if (f->te_codings > 1)
			return invalid(f, 501, "Only the `chunked` transfer coding is implemented.");
	}
	/* libevent reads no body after HEAD: one would be read as the next request */
	if (strcmp(f->method, "HEAD") == 0 && (f->chunked || f->length > 0))
		return invalid(f, 400, "A HEAD request may not carry a body.");
	if (f->chunked) {
		f->state = S_CHUNK_SIZE;
		f->hex_digits = 0;
		f->remaining = 0;
		return HTTP_FRAME_MORE;
	}
	if (f->max_length && f->length > f->max_length)
		return invalid(f, 413, "The request is larger than this server accepts.");
	if (f->length > 0) {
		f->state = S_BODY;
		f->remaining = f->length;
		return HTTP_FRAME_MORE;
	}
	next_request(f);
	return HTTP_FRAME_END;
}

/* Counts one head (or trailer) byte against the limit. Returns false after invalid(). */
static bool count_head_byte(http_frame *f)
{
	if (++f->head_bytes <= HTTP_FRAME_MAX_HEAD)
		return true;
	if (f->state == S_METHOD || f->state == S_TARGET_START || f->state == S_TARGET)
		invalid(f, 414, "The request line is longer than this server accepts.");
	else
		invalid(f, 431, "The request head is larger than this server accepts.");
	return false;
}

/* Reads one byte of the request line, field lines or chunk lines. Returns MORE to go on, or the
 * result to stop with (the byte is consumed when the result is END). */
static http_frame_result step(http_frame *f, unsigned char c)
{
	switch (f->state) {
	case S_START:
		if (c == '\r') {
			f->state = S_START_LF;
			return HTTP_FRAME_MORE;
		}
		if (!is_tchar(c))
			return invalid(f, 400, c == '\n' ? bad_byte_reason(c) : "The request line does not start with a method.");
		f->state = S_METHOD;
		f->method[0] = (char)c;
		f->token_len = 1;
		return HTTP_FRAME_MORE;
	case S_START_LF:
		if (c != '\n')
			return invalid(f, 400, bad_byte_reason('\r'));
		f->state = S_START;
		return HTTP_FRAME_MORE;
	case S_METHOD:
		if (c == ' ') {
			f->method[f->token_len] = '\0';
			for (const char *const *m = known_methods; *m; m++)
				if (strcmp(*m, f->method) == 0) {
					f->state = S_TARGET_START;
					return HTTP_FRAME_MORE;
				}
			return invalid(f, 501, "The request method is not one this server implements.");
		}
		if (!is_tchar(c))
			return invalid(f, 400, "The request line is not `METHOD target HTTP/1.x`.");
		if (f->token_len + 1 >= sizeof f->method)
			return invalid(f, 501, "The request method is not one this server implements.");
		f->method[f->token_len++] = (char)c;
		return HTTP_FRAME_MORE;
	case S_TARGET_START:
	case S_TARGET:
		if (c == ' ' && f->state == S_TARGET) {
			f->state = S_VERSION;
			f->token_len = 0;
			return HTTP_FRAME_MORE;
		}
		if (c <= 0x20 || c >= 0x7f)
			return invalid(f, 400, "The request target holds a byte that must be percent-encoded.");
		f->state = S_TARGET;
		return HTTP_FRAME_MORE;
	case S_VERSION: {
		static const char version[] = "HTTP/1.";
		if (f->token_len < 7) {
			if (c != (unsigned char)version[f->token_len])
				return invalid(f, 400, "The request line does not end in HTTP/1.1 or HTTP/1.0.");
			f->token_len++;
			return HTTP_FRAME_MORE;
		}
		if (f->token_len == 7) {
			if (c != '0' && c != '1')
				return invalid(f, 400, "The request line does not end in HTTP/1.1 or HTTP/1.0.");
			f->version_minor = c - '0';
			f->token_len++;
			return HTTP_FRAME_MORE;
		}
		if (c != '\r')
			return invalid(f, 400, c == '\n' ? bad_byte_reason(c)
			                                 : "The request line does not end in HTTP/1.1 or HTTP/1.0.");
		f->state = S_LINE_LF;
		return HTTP_FRAME_MORE;
	}
	case S_LINE_LF:
	case S_FIELD_LF:
		if (c != '\n')
			return invalid(f, 400, bad_byte_reason('\r'));
		if (f->state == S_FIELD_LF && end_field(f) != 0)
			return HTTP_FRAME_INVALID;
		f->state = S_FIELD_START;
		return HTTP_FRAME_MORE;
	case S_FIELD_START:
		if (c == '\r') {
			f->state = S_HEAD_LF;
			return HTTP_FRAME_MORE;
		}
		if (c == ' ' || c == '\t')
			return invalid(f, 400, "The request folds a header over several lines (obs-fold).");
		if (!is_tchar(c))
			return invalid(f, 400, c == ':' ? "A header line has no name."
			                                : c < 0x20 || c == 0x7f ? bad_byte_reason(c)
			                                : "A header name is not an RFC 9110 token.");
		f->state = S_NAME;
		f->token_len = 0;
		f->value_len = 0;
		f->value_overflow = false;
		/* fall through */
	case S_NAME:
		if (c == ':') {
			f->name[f->token_len < sizeof f->name ? f->token_len : 0] = '\0';
			f->state = S_VALUE;
			return HTTP_FRAME_MORE;
		}
		if (c == ' ' || c == '\t')
			return invalid(f, 400, "A header name is followed by whitespace before its colon.");
		if (!is_tchar(c))
			return invalid(f, 400, c < 0x20 || c == 0x7f ? bad_byte_reason(c)
			                                             : "A header name is not an RFC 9110 token.");
		if (f->token_len + 1 < sizeof f->name)
			f->name[f->token_len] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		else
			f->name[0] = '\0';
		f->token_len++;
		if (f->token_len >= sizeof f->name)
			f->token_len = sizeof f->name; /* too long to be a name we read; remembered as "" */
		return HTTP_FRAME_MORE;
	case S_VALUE:
		if (c == '\r') {
			f->state = S_FIELD_LF;
			return HTTP_FRAME_MORE;
		}
		if (!is_field_byte(c))
			return invalid(f, 400, bad_byte_reason(c));
		if (f->value_len + 1 < sizeof f->value)
			f->value[f->value_len++] = (char)c;
		else
			f->value_overflow = true;
		return HTTP_FRAME_MORE;
	case S_HEAD_LF:
		if (c != '\n')
			return invalid(f, 400, bad_byte_reason('\r'));
		return end_head(f);
	case S_CHUNK_SIZE: {
		int v = hex_digit_value((char)c);
		if (v >= 0) {
			if (++f->hex_digits > 15)
				return invalid(f, 400, "A chunk size is larger than this server accepts.");
			f->remaining = f->remaining * 16 + (uint64_t)v;
			return HTTP_FRAME_MORE;
		}
		if (f->hex_digits == 0)
			return invalid(f, 400, "A chunk size is not plain hexadecimal.");
		if (c == ';') {
			f->state = S_EXT_NAME_START;
			return HTTP_FRAME_MORE;
		}
		if (c == '\r') {
			f->state = S_CHUNK_SIZE_LF;
			return HTTP_FRAME_MORE;
		}
		return invalid(f, 400, c == '\n' ? bad_byte_reason(c) : "A chunk size is not plain hexadecimal.");
	}
	/* chunk-ext = *( ";" token [ "=" ( token / quoted-string ) ] ), without the optional whitespace
	 * RFC 9112 allows around ';' and '=' (llhttp refuses it too). */
	case S_EXT_NAME_START:
	case S_EXT_NAME:
		if (is_tchar(c)) {
			f->state = S_EXT_NAME;
			return HTTP_FRAME_MORE;
		}
		if (f->state == S_EXT_NAME && c == '=') {
			f->state = S_EXT_VALUE_START;
			return HTTP_FRAME_MORE;
		}
		if (f->state == S_EXT_NAME && c == ';') {
			f->state = S_EXT_NAME_START;
			return HTTP_FRAME_MORE;
		}
		if (f->state == S_EXT_NAME && c == '\r') {
			f->state = S_CHUNK_SIZE_LF;
			return HTTP_FRAME_MORE;
		}
		return invalid(f, 400, "A chunk extension is not `;name` or `;name=value`.");
	case S_EXT_VALUE_START:
		if (c == '"') {
			f->state = S_EXT_QUOTED;
			return HTTP_FRAME_MORE;
		}
		if (is_tchar(c)) {
			f->state = S_EXT_TOKEN;
			return HTTP_FRAME_MORE;
		}
		return invalid(f, 400, "A chunk extension is not `;name` or `;name=value`.");
	case S_EXT_TOKEN:
	case S_EXT_AFTER_QUOTED:
		if (f->state == S_EXT_TOKEN && is_tchar(c))
			return HTTP_FRAME_MORE;
		if (c == ';') {
			f->state = S_EXT_NAME_START;
			return HTTP_FRAME_MORE;
		}
		if (c == '\r') {
			f->state = S_CHUNK_SIZE_LF;
			return HTTP_FRAME_MORE;
		}
		return invalid(f, 400, "A chunk extension is not `;name` or `;name=value`.");
	case S_EXT_QUOTED:
		if (c == '"')
			f->state = S_EXT_AFTER_QUOTED;
		else if (c == '\\')
			f->state = S_EXT_QUOTED_ESCAPE;
		else if (!is_field_byte(c))
			return invalid(f, 400, bad_byte_reason(c));
		return HTTP_FRAME_MORE;
	case S_EXT_QUOTED_ESCAPE:
		if (!is_field_byte(c))
			return invalid(f, 400, bad_byte_reason(c));
		f->state = S_EXT_QUOTED;
		return HTTP_FRAME_MORE;
	case S_CHUNK_SIZE_LF:
		if (c != '\n')
			return invalid(f, 400, bad_byte_reason('\r'));
		if (f->max_length && f->remaining > f->max_length - f->chunked_total)
			return invalid(f, 413, "The request is larger than this server accepts.");
		f->chunked_total += f->remaining;
		if (f->remaining == 0) {
			/* the last chunk: a trailer section follows, read like a head */
			f->in_trailer = true;
			f->head_bytes = 0;
			f->state = S_FIELD_START;
		} else {
			f->state = S_CHUNK_DATA;
		}
		return HTTP_FRAME_MORE;
	case S_CHUNK_DATA_CR:
		if (c != '\r')
			return invalid(f, 400, "Chunk data does not end where its size says.");
		f->state = S_CHUNK_DATA_LF;
		return HTTP_FRAME_MORE;
	case S_CHUNK_DATA_LF:
		if (c != '\n')
			return invalid(f, 400, bad_byte_reason('\r'));
		f->state = S_CHUNK_SIZE;
		f->hex_digits = 0;
		f->remaining = 0;
		return HTTP_FRAME_MORE;
	default:
		return HTTP_FRAME_INVALID;
	}
}

http_frame_result http_frame_feed(http_frame *f, const unsigned char *data, size_t len, size_t *used)
{
	size_t i = 0;
	http_frame_result r = HTTP_FRAME_MORE;
	if (f->state == S_INVALID) {
		*used = 0;
		return HTTP_FRAME_INVALID;
	}
	while (i < len) {
		if (f->state == S_BODY || f->state == S_CHUNK_DATA) {
			size_t take = len - i;
			if ((uint64_t)take > f->remaining)
				take = (size_t)f->remaining;
			i += take;
			f->remaining -= take;
			if (f->remaining == 0) {
				if (f->state == S_CHUNK_DATA) {
					f->state = S_CHUNK_DATA_CR;
				} else {
					next_request(f);
					*used = i;
					return HTTP_FRAME_END;
				}
			}
			continue;
		}
		/* Chunk-size lines count against the head limit too, so that an endless extension ends. */
		/* A chunk extension is checked but not passed on (libevent cannot read one): stop where it
		 * starts (at ';') and where it ends (at the CR after it), so the caller can drop it. */
		if (!f->dropping && f->state == S_CHUNK_SIZE && data[i] == ';' && f->hex_digits > 0) {
			f->dropping = true;
			*used = i;
			return HTTP_FRAME_SWITCH;
		}
		if (f->dropping && data[i] == '\r' &&
		    (f->state == S_EXT_NAME || f->state == S_EXT_TOKEN || f->state == S_EXT_AFTER_QUOTED)) {
			f->dropping = false;
			*used = i;
			return HTTP_FRAME_SWITCH;
		}
		if (!count_head_byte(f)) {
			*used = i;
			return HTTP_FRAME_INVALID;
		}
		r = step(f, data[i]);
		if (r == HTTP_FRAME_INVALID) {
			*used = i;
			return r;
		}
		i++;
		if (r == HTTP_FRAME_END) {
			*used = i;
			return r;
		}
		if (f->state == S_CHUNK_SIZE && f->hex_digits == 0 && data[i - 1] == '\n')
			f->head_bytes = 0; /* each chunk-size line gets its own allowance */
	}
	*used = i;
	return HTTP_FRAME_MORE;
}

bool http_frame_dropping(const http_frame *f)
{
	return f->dropping;
}

bool http_frame_between_requests(const http_frame *f)
{
	return f->state == S_START && f->head_bytes == 0;
}

bool http_frame_in_head(const http_frame *f)
{
	return f->state < S_BODY && !f->in_trailer;
}
