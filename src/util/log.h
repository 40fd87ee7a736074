/* log.h - leveled, thread-safe, one-line-per-event logging to stderr.
 *
 * Each call writes exactly one line with a single write(2), so lines from
 * different threads never interleave. Format:
 *   2026-11-21T10:15:02.123Z info  request method=GET path=/healthz status=200
 * Messages follow git's rules: lower case, no final full stop, the subject
 * quoted. Never log tokens or other secrets.
 * Any thread may call these functions; log_set_level is meant for start-up.
 */
#ifndef JOBSD_UTIL_LOG_H
#define JOBSD_UTIL_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF };

void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);

/* Parses "debug", "info", "warn"/"warning", "error", "off". 0 on success, -1 if unknown. */
int log_level_parse(const char *name, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...)                                   \
	do {                                             \
		if (log_enabled(LOG_DEBUG))              \
			log_msg(LOG_DEBUG, __VA_ARGS__); \
	} while (0)
#define log_info(...)                                   \
	do {                                            \
		if (log_enabled(LOG_INFO))              \
			log_msg(LOG_INFO, __VA_ARGS__); \
	} while (0)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
