/* log: one timestamped line per event on stderr. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "util.h"

void log_line(const char *fmt, ...)
{
	char when[32];
	iso8601_format_ms(now_ms(), when);
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s earshot: ", when);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
