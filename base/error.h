/* error.h - the one error sink, the project's codes and the exit codes they map to.
 *
 * Calling sequence: declare `struct error err = ERROR_INIT;`, pass `&err` down; a function that fails calls
 * error_set() (or error_errno()) once and returns its value, the negated `enum stack_code`. The first message
 * set wins: a caller higher up that adds its own error_set() does not overwrite the deeper, more precise one.
 * The CLI prints err.msg as one line and exits with stack_exit_code(err.code).
 *
 * Two domains, never equal: functions return 0, a negative errno (-1 .. -4095), or a negated project code
 * (-STACK_EFAIL .. , all below -STACK_ERR_BASE). So `r == -ENOENT` and `r == -STACK_ENOTFOUND` can both be
 * tested without one being read as the other. stack_code_of(r) folds any negative return into a project
 * code; stack_exit_code() turns a code into what the process exits with (0..6, spec/errors.md).
 */
#ifndef STACK_ERROR_H
#define STACK_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* Above errno's range (the kernel's MAX_ERRNO is 4095). A multiple of 256, so a code returned from main() by
 * mistake still exits with its exit code (STACK_ENOTFOUND aside, which would exit 7). */
#define STACK_ERR_BASE 4096

/* The project's codes; functions return them negated. The exit code is the part above STACK_ERR_BASE,
 * except STACK_ENOTFOUND, which exits 1 like any other failure. */
enum stack_code {
        STACK_OK = 0,
        STACK_EFAIL = STACK_ERR_BASE + 1,     /* generic failure (includes out of memory); exit 1 */
        STACK_EUSAGE = STACK_ERR_BASE + 2,    /* bad command line; exit 2 */
        STACK_EREJECT = STACK_ERR_BASE + 3,   /* bundle rejected: corrupt, tampered, unsigned, unsafe; exit 3 */
        STACK_ESTORE = STACK_ERR_BASE + 4,    /* store error: corrupt, locked, I/O; exit 4 */
        STACK_ERUNTIME = STACK_ERR_BASE + 5,  /* Engine / compose; exit 5 */
        STACK_ENETWORK = STACK_ERR_BASE + 6,  /* offline and not cached; exit 6 */
        STACK_ENOTFOUND = STACK_ERR_BASE + 7, /* no such stack, version, run, key or remote file; exit 1 */
};

/* What the process exits with (spec/errors.md). */
enum stack_exit {
        STACK_EXIT_OK = 0,
        STACK_EXIT_FAIL = 1,
        STACK_EXIT_USAGE = 2,
        STACK_EXIT_REJECT = 3,
        STACK_EXIT_STORE = 4,
        STACK_EXIT_RUNTIME = 5,
        STACK_EXIT_NETWORK = 6,
};

struct error {
        int code;        /* enum stack_code, 0 while unset */
        int http_status; /* the HTTP status of a failed request (404, 503, ...), 0 when none was received */
        char msg[1024];  /* one line, no trailing newline */
};

#define ERROR_INIT        \
        {                 \
                0, 0,     \
                {         \
                        0 \
                }         \
        }

/* Record the failure (unless one is already recorded) and return -code. err may be NULL. A code that is not
 * an enum stack_code (a negative return passed by mistake, an errno) is folded as stack_code_of() does. */
int error_set(struct error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same, appending ": strerror(errnum)". errnum may be negative (as returned by our functions); a project
 * code in errnum appends nothing. */
int error_errno(struct error *err, int code, int errnum, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* error_set() for a failed HTTP request: also records status in err->http_status. */
int error_http(struct error *err, int code, int status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Forget what was recorded (for a caller that handled the failure). */
void error_clear(struct error *err);

/* Warnings and progress lines go to a caller's callback instead (nothing below cli/ prints): format one line
 * (at most 2047 bytes) and pass it to fn(ctx, line). Nothing happens when fn is NULL. */
typedef void (*error_say_fn)(void *ctx, const char *line);
void error_say(error_say_fn fn, void *ctx, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same, for a caller's own variadic wrapper. */
void error_vsay(error_say_fn fn, void *ctx, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
/* The last non-empty line of a tool's output text (NULL reads as ""), trailing blanks dropped, at most
 * size - 1 bytes, into out: what a message quotes of a failed command or health check. */
void error_last_line(const char *text, char *out, size_t size);

/* The project code a return value stands for: 0 for r >= 0, the code itself for a negated project code,
 * STACK_EFAIL for -errno (-ENOMEM included: out of memory is a failure, never "not found"). */
int stack_code_of(int r);
/* The exit code (0..6) for a project code or a negative return; 0 for 0, 1 for anything unknown. */
int stack_exit_code(int code_or_r);

#endif
