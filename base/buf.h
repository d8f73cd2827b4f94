/* buf.h - a growing byte buffer with an explicit maximum (curl's dynbuf): everything parsed from the network,
 * an archive or a document we write goes through one, so no input can make us allocate without bound.
 *
 * Calling sequence:
 *   struct buf b = BUF_INIT(max);        or buf_init(&b, max): nothing allocated yet
 *   buf_add(&b, data, len) ...           0; -EFBIG when the bytes would pass max (b.toobig is then set and
 *                                        nothing is added); -ENOMEM (b.oom set)
 *   b.p, b.len                           the bytes, always NUL-terminated once anything (even 0 bytes) was
 *                                        added; b.p is NULL before
 *   buf_steal(&b, &len)  or  buf_release(&b)   exactly one of them; buf_release is safe on an initialised buf
 *
 * The flags are sticky so that a callback that can only say "stop" (a libcurl write function, a libyaml
 * writer) lets its caller tell afterwards why the transfer stopped.
 */
#ifndef STACK_BUF_H
#define STACK_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
        char *p;     /* NULL until the first add, then NUL-terminated */
        size_t len;  /* bytes held, the NUL not counted */
        size_t cap;  /* bytes allocated */
        size_t max;  /* bytes it may hold */
        bool toobig; /* an add was refused: it would have passed max */
        bool oom;    /* an add failed for memory */
};

#define BUF_INIT(m) ((struct buf){.max = (m)})

void buf_init(struct buf *b, size_t max);
/* Append len bytes (data may be NULL when len is 0). */
int buf_add(struct buf *b, const void *data, size_t len);
int buf_add_str(struct buf *b, const char *s);
/* Remove the first n bytes (all of them when n >= len); the rest moves to the front. */
void buf_drop(struct buf *b, size_t n);
/* Hand the bytes to the caller (free() them): "" when nothing was added, NULL when out of memory. The buf is
 * left empty (BUF_INIT with the same max). ret_len may be NULL. */
char *buf_steal(struct buf *b, size_t *ret_len);
void buf_release(struct buf *b);

#endif
