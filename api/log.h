/* log.h - the daemon's log: one sink for every line `stack serve` writes about what it does (spec/api.md
 * "Logging").
 *
 * log_line(level, fmt, ...) writes one line on stderr, "2026-12-05T22:45:01Z info <message>": the time in UTC
 * to the second, the level's name, the message with any newline or control character in it made a space (one
 * event, one line). A line is written with one write(2), so lines from several threads never interleave. Safe
 * from any thread, at any time; nothing to set up or tear down.
 */
#ifndef STACK_LOG_H
#define STACK_LOG_H

enum log_level {
        LOG_ERROR,
        LOG_WARN,
        LOG_INFO,
};

#define LOG_LINE_MAX 1024 /* bytes of one line; a longer message is cut */

/* "error", "warn", "info". */
const char *log_level_name(enum log_level level);
void log_line(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
