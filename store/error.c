/* error.c - the error sink: first message wins, one line. */
#include "error.h"

#include <stdio.h>
#include <string.h>

static int error_vset(struct error *err, int code, int errnum, const char *fmt, va_list ap)
{
        size_t n;

        if (code <= 0)
                code = STACK_EFAIL;
        if (!err || err->code)
                return -code;
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        if (errnum) {
                n = strlen(err->msg);
                snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(errnum < 0 ? -errnum : errnum));
        }
        /* One line: a newline from a file name or a library message would split it. */
        for (char *p = err->msg; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
        return -code;
}

int error_set(struct error *err, int code, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = error_vset(err, code, 0, fmt, ap);
        va_end(ap);
        return r;
}

int error_errno(struct error *err, int code, int errnum, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = error_vset(err, code, errnum, fmt, ap);
        va_end(ap);
        return r;
}

void error_clear(struct error *err)
{
        if (err) {
                err->code = 0;
                err->msg[0] = 0;
        }
}
