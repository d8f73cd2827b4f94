/* error.c - the error sink (first message wins, one line) and the mapping of codes to exit codes. */
#include "base/error.h"

#include <stdio.h>
#include <string.h>

static int is_code(int code)
{
        return code >= STACK_EFAIL && code <= STACK_ENOTFOUND;
}

int stack_code_of(int r)
{
        if (r >= 0)
                return STACK_OK;
        return is_code(-r) ? -r : STACK_EFAIL;
}

int stack_exit_code(int code_or_r)
{
        int code = code_or_r < 0 ? stack_code_of(code_or_r) : code_or_r;

        if (code == STACK_OK)
                return STACK_EXIT_OK;
        if (!is_code(code) || code == STACK_ENOTFOUND)
                return STACK_EXIT_FAIL;
        return code - STACK_ERR_BASE;
}

__attribute__((format(printf, 5, 0))) static int error_vset(struct error *err, int code, int errnum, int status,
                                                            const char *fmt, va_list ap)
{
        size_t n;

        if (!is_code(code))
                code = code < 0 && is_code(-code) ? -code : STACK_EFAIL;
        if (!err || err->code)
                return -code;
        err->code = code;
        err->http_status = status;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        if (errnum < 0)
                errnum = -errnum;
        if (errnum && errnum < STACK_ERR_BASE) {
                n = strlen(err->msg);
                snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(errnum));
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
        r = error_vset(err, code, 0, 0, fmt, ap);
        va_end(ap);
        return r;
}

int error_errno(struct error *err, int code, int errnum, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = error_vset(err, code, errnum, 0, fmt, ap);
        va_end(ap);
        return r;
}

int error_http(struct error *err, int code, int status, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = error_vset(err, code, 0, status, fmt, ap);
        va_end(ap);
        return r;
}

void error_vsay(error_say_fn fn, void *ctx, const char *fmt, va_list ap)
{
        char line[2048];

        if (!fn)
                return;
        vsnprintf(line, sizeof line, fmt, ap);
        fn(ctx, line);
}

void error_say(error_say_fn fn, void *ctx, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        error_vsay(fn, ctx, fmt, ap);
        va_end(ap);
}

void error_last_line(const char *text, char *out, size_t size)
{
        const char *end, *start;

        if (!text)
                text = "";
        end = text + strlen(text);
        while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
                end--;
        start = end;
        while (start > text && start[-1] != '\n')
                start--;
        snprintf(out, size, "%.*s", (int)(end - start), start);
}

void error_clear(struct error *err)
{
        if (err) {
                err->code = 0;
                err->http_status = 0;
                err->msg[0] = 0;
        }
}
