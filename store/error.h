/* error.h - the one error sink and the project's exit codes.
 *
 * Calling sequence: declare `struct error err = ERROR_INIT;`, pass `&err` down; a function that fails calls
 * error_set() (or error_errno()) once and returns its value, a negative `enum stack_code`. The first message
 * set wins: a caller higher up that adds its own error_set() does not overwrite the deeper, more precise one.
 * The CLI prints err.msg as one line and exits with err.code.
 */
#ifndef STACK_ERROR_H
#define STACK_ERROR_H

#include <stdarg.h>

/* Exit codes (README.md "Exit codes"); functions return them negated. */
enum stack_code {
        STACK_OK = 0,
        STACK_EFAIL = 1,     /* generic failure */
        STACK_EUSAGE = 2,    /* bad command line */
        STACK_EREJECT = 3,   /* bundle rejected: corrupt, tampered, unsigned, unsafe */
        STACK_ESTORE = 4,    /* store error: corrupt, locked, I/O */
        STACK_ERUNTIME = 5,  /* Engine / compose */
        STACK_ENETWORK = 6,  /* offline and not cached */
};

struct error {
        int code;       /* enum stack_code, 0 while unset */
        char msg[1024]; /* one line, no trailing newline */
};

#define ERROR_INIT {0, {0}}

/* Record the failure (unless one is already recorded) and return -code. err may be NULL. */
int error_set(struct error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same, appending ": strerror(errnum)". errnum may be negative (as returned by our functions). */
int error_errno(struct error *err, int code, int errnum, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Forget what was recorded (for a caller that handled the failure). */
void error_clear(struct error *err);

#endif
