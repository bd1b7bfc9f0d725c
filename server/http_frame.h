/* http_frame: a strict, incremental RFC 9112 framing checker for HTTP/1.x requests. It reads the raw
 * bytes of a connection before libevent parses them and says where each request ends, or the first
 * byte at which the stream stops being a request that every HTTP/1.1 parser frames the same way
 * (bare LF or CR, control bytes, obs-fold, header names that are not tokens, Content-Length that is
 * not plain digits or given twice, Transfer-Encoding other than a final `chunked`, chunk sizes that
 * are not plain hex, ...). It also marks chunk extensions, which the caller drops before libevent
 * (it cannot read them). It never allocates and knows nothing of sockets. */
#ifndef EARSHOT_HTTP_FRAME_H
#define EARSHOT_HTTP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest request head (request line and header fields) and largest trailer section, in bytes. */
#define HTTP_FRAME_MAX_HEAD 8192

typedef enum {
	HTTP_FRAME_MORE,        /* every byte given was consumed; the request goes on */
	HTTP_FRAME_END,         /* a request ended after *used bytes; the rest belongs to the next one */
	HTTP_FRAME_INVALID,     /* the byte at *used breaks the framing (or announces too large a
	                         * body); see status and reason */
	HTTP_FRAME_SWITCH,      /* stopped after *used bytes where a chunk extension starts or ends:
	                         * its bytes are checked but must not be passed on (see
	                         * http_frame_dropping); feed the rest again */
} http_frame_result;

typedef struct http_frame {
	int state;
	size_t head_bytes;      /* bytes of the current head or trailer section so far */
	size_t token_len;       /* length of the method, name or value being read */
	char method[8];         /* the method, NUL-terminated (only the ones served fit) */
	char name[20];          /* the current field name, lower-cased, when it may be one we read */
	char value[256];        /* the value of a Content-Length or Transfer-Encoding field */
	size_t value_len;
	bool value_overflow;
	int version_minor;      /* 0 or 1 */
	bool have_length, chunked, have_te;
	unsigned te_codings;    /* codings listed in Transfer-Encoding so far */
	uint64_t length;        /* Content-Length */
	uint64_t remaining;     /* body or chunk bytes still to come */
	uint64_t chunked_total; /* chunk bytes announced so far */
	unsigned hex_digits;    /* digits of the chunk size read so far */
	bool in_trailer;
	bool dropping;          /* inside a chunk extension: bytes the caller drops */
	int status;             /* HTTP_FRAME_INVALID: 400, 413, 414, 431 or 501 */
	const char *reason;     /* HTTP_FRAME_INVALID: a static sentence saying what was wrong */
	uint64_t requests;      /* requests that ended so far */
	uint64_t max_length;    /* a larger Content-Length or chunked body is refused with 413 (0: no
	                         * limit); kept from request to request */
} http_frame;

/* Prepares f for the first request of a connection. */
void http_frame_init(http_frame *f);

/* Reads len bytes that follow everything read before. Stops after the last byte of a request
 * (HTTP_FRAME_END), at the first byte that breaks the framing (HTTP_FRAME_INVALID, which stays the
 * answer to every later call), where a chunk extension starts or ends (HTTP_FRAME_SWITCH), or when
 * every byte was consumed (HTTP_FRAME_MORE). *used is the number of bytes consumed before stopping
 * (for HTTP_FRAME_INVALID, the offset of the bad byte). */
http_frame_result http_frame_feed(http_frame *f, const unsigned char *data, size_t len, size_t *used);

/* True when the bytes fed next belong to a chunk extension: checked, but not to be passed on. The
 * answer changes only at HTTP_FRAME_SWITCH. */
bool http_frame_dropping(const http_frame *f);

/* True between requests: no byte of the next request has arrived yet. */
bool http_frame_between_requests(const http_frame *f);

/* True while the request head (or nothing yet) is being read: before the body starts. */
bool http_frame_in_head(const http_frame *f);

#endif
