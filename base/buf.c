/* buf.c - the bounded byte buffer (buf.h). */
#include "base/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUF_FIRST 256 /* the first allocation, then doubling (never beyond max + 1) */

void buf_init(struct buf *b, size_t max)
{
        *b = BUF_INIT(max);
}

static int grow(struct buf *b, size_t need)
{
        size_t cap = b->cap ? b->cap : BUF_FIRST;
        char *p;

        while (cap < need)
                cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        if (b->max < SIZE_MAX && cap > b->max + 1)
                cap = b->max + 1 > need ? b->max + 1 : need;
        p = realloc(b->p, cap);
        if (!p) {
                b->oom = true;
                return -ENOMEM;
        }
        b->p = p;
        b->cap = cap;
        return 0;
}

int buf_add(struct buf *b, const void *data, size_t len)
{
        int r;

        if (len > b->max - b->len) {
                b->toobig = true;
                return -EFBIG;
        }
        if (b->len + len + 1 > b->cap) {
                r = grow(b, b->len + len + 1);
                if (r < 0)
                        return r;
        }
        if (len)
                memcpy(b->p + b->len, data, len);
        b->len += len;
        b->p[b->len] = 0;
        return 0;
}

int buf_add_str(struct buf *b, const char *s)
{
        return buf_add(b, s, strlen(s));
}

void buf_drop(struct buf *b, size_t n)
{
        if (n > b->len)
                n = b->len;
        if (!n)
                return;
        memmove(b->p, b->p + n, b->len - n);
        b->len -= n;
        b->p[b->len] = 0;
}

char *buf_steal(struct buf *b, size_t *ret_len)
{
        char *p = b->p ? b->p : strdup("");
        size_t len = b->len;

        *b = BUF_INIT(b->max);
        if (p && ret_len)
                *ret_len = len;
        return p;
}

void buf_release(struct buf *b)
{
        if (!b)
                return;
        free(b->p);
        *b = BUF_INIT(b->max);
}
