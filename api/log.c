/* log.c - the daemon's one log sink (log.h): time, level, message, one line on stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

const char *log_level_name(enum log_level level)
{
        switch (level) {
        case LOG_ERROR: return "error";
        case LOG_WARN: return "warn";
        default: return "info";
        }
}

void log_line(enum log_level level, const char *fmt, ...)
{
        char line[LOG_LINE_MAX];
        struct tm tm;
        time_t now = time(NULL);
        va_list ap;
        size_t n;
        int head, len;

        gmtime_r(&now, &tm);
        head = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ ", &tm);
        head += snprintf(line + head, sizeof line - (size_t)head, "%s ", log_level_name(level));
        va_start(ap, fmt);
        len = vsnprintf(line + head, sizeof line - (size_t)head - 1, fmt, ap);
        va_end(ap);
        n = (size_t)head + (len < 0 ? 0 : (size_t)len);
        if (n > sizeof line - 2)
                n = sizeof line - 2;
        for (size_t i = (size_t)head; i < n; i++)
                if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
                        line[i] = ' ';
        while (n > (size_t)head && line[n - 1] == ' ')
                n--;
        line[n++] = '\n';
        if (write(STDERR_FILENO, line, n) < 0) { /* nowhere left to say it */
        }
}
