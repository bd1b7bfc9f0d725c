/* log: the server's log lines on stderr, used by every thread. */
#ifndef EARSHOT_LOG_H
#define EARSHOT_LOG_H

/* Logs one line "earshot: ..." to stderr with a timestamp. */
void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
