/* fuzz.h - what the libFuzzer harnesses share (tests/fuzz/README.md): a private temp dir per process, input
 * split into parts, and the rule every harness follows: any input gives a verdict (0 or a negative code with a
 * message), never a crash, a leak or undefined behaviour. A harness aborts when a parser breaks its own
 * contract (failure without a message, success with a message), so libFuzzer keeps the input. */
#ifndef STACK_FUZZ_H
#define STACK_FUZZ_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fsutil.h"

static char fuzz_root[PATH_MAX];

static void fuzz_cleanup(void)
{
        if (fuzz_root[0])
                fs_rm_rf(fuzz_root);
}

/* One directory per process under $TMPDIR (scripts/fuzz points it into build-fuzz/ or /dev/shm), removed at
 * exit; a crash leaves it for a look. */
static inline const char *fuzz_tmpdir(void)
{
        if (!fuzz_root[0]) {
                snprintf(fuzz_root, sizeof fuzz_root, "%s/stack-fuzz-XXXXXX",
                         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
                if (!mkdtemp(fuzz_root))
                        abort();
                atexit(fuzz_cleanup);
        }
        return fuzz_root;
}

/* A NUL-terminated heap copy of data[0..len). */
static inline char *fuzz_strndup(const uint8_t *data, size_t len)
{
        char *s = malloc(len + 1);

        if (!s)
                abort();
        if (len)
                memcpy(s, data, len);
        s[len] = '\0';
        return s;
}

/* The next part of the input, up to a NUL byte (or the end): *p and *n move past it. */
static inline char *fuzz_next(const uint8_t **p, size_t *n)
{
        const uint8_t *z = *n ? memchr(*p, '\0', *n) : NULL;
        size_t len = z ? (size_t)(z - *p) : *n;
        char *s = fuzz_strndup(*p, len);

        *p += len + (z ? 1 : 0);
        *n -= len + (z ? 1 : 0);
        return s;
}

/* A verdict keeps the error sink's contract: a failure says why, a success leaves it empty. */
static inline void fuzz_check_verdict(int r, const struct error *err)
{
        if (r < 0 && (!err->code || !err->msg[0]))
                abort();
        if (r >= 0 && err->code)
                abort();
}

#endif
