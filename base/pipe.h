/* pipe.h - a bounded queue of byte chunks from one producer thread to one consumer thread (ingest's pipeline,
 * spec/store.md "Ingest").
 *
 * Calling sequence:
 *   pipe_new(nchunks, chunk_size, &p)        nchunks buffers of chunk_size bytes: the whole of its memory
 *   producer:  pipe_write(p, data, len)      copies; blocks while every chunk is full. -ECANCELED once the
 *                                            consumer called pipe_cancel (the producer stops then). A chunk
 *                                            is handed over when full, or at the end of a write that found
 *                                            the consumer waiting
 *              pipe_close(p, code)           the end: 0 for a clean end, or a negative code (an error)
 *   consumer:  pipe_read(p, &buf)            the next chunk's length (buf valid until the next pipe_read or
 *                                            pipe_cancel), 0 at a clean end, or the producer's negative code
 *                                            once every chunk written before it was read
 *              pipe_cancel(p)                the consumer stops early (an error): pipe_write fails from now on
 *   pipe_free(p)                             after both sides are done with it (the other thread joined)
 *
 * pipe_write and pipe_close are for one thread, pipe_read and pipe_cancel for one other; nothing else is shared.
 */
#ifndef STACK_PIPE_H
#define STACK_PIPE_H

#include <stddef.h>
#include <sys/types.h>

struct pipe;

int pipe_new(unsigned nchunks, size_t chunk_size, struct pipe **ret);
int pipe_write(struct pipe *p, const void *data, size_t len);
void pipe_close(struct pipe *p, int code);
ssize_t pipe_read(struct pipe *p, const void **ret_buf);
void pipe_cancel(struct pipe *p);
void pipe_free(struct pipe *p);

#endif
