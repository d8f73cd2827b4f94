/* pipe.c - the bounded chunk queue: a ring of nchunks fixed buffers, one mutex, two condition variables.
 *
 * The producer fills the chunk at `tail` (len[tail] grows) and hands it over when it is full, at the end, or
 * at the end of a write while the consumer waits for bytes (so a slow or stalled source still reaches it: only
 * a busy consumer gets full chunks); the consumer owns the chunk at `head` from pipe_read until its next call.
 * `filled` counts chunks handed over and not yet given back. A producer that found the queue full is woken once a
 * quarter of it is free again (fewer wake-ups: it refills in batches).
 */
#include "base/pipe.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct pipe {
        pthread_mutex_t mu;
        pthread_cond_t can_read, can_write;
        unsigned n;
        size_t size;
        unsigned char *mem;
        size_t *len;
        unsigned head, tail; /* consumer's next chunk; producer's chunk being filled */
        unsigned filled;     /* chunks handed to the consumer side, including the one it holds */
        bool holding;        /* the consumer holds chunk head (given back at its next pipe_read) */
        bool writing;        /* the producer is filling chunk tail (counted in filled once handed over) */
        bool reader_waiting; /* the consumer waits in pipe_read for a chunk */
        bool writer_waiting; /* the producer waits in pipe_write for free chunks */
        bool closed, cancelled;
        int code;
};

int pipe_new(unsigned nchunks, size_t chunk_size, struct pipe **ret)
{
        struct pipe *p;

        if (nchunks < 2 || chunk_size == 0)
                return -EINVAL;
        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->n = nchunks;
        p->size = chunk_size;
        p->mem = malloc((size_t)nchunks * chunk_size);
        p->len = calloc(nchunks, sizeof *p->len);
        if (!p->mem || !p->len) {
                free(p->mem);
                free(p->len);
                free(p);
                return -ENOMEM;
        }
        pthread_mutex_init(&p->mu, NULL);
        pthread_cond_init(&p->can_read, NULL);
        pthread_cond_init(&p->can_write, NULL);
        *ret = p;
        return 0;
}

void pipe_free(struct pipe *p)
{
        if (!p)
                return;
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->can_read);
        pthread_cond_destroy(&p->can_write);
        free(p->mem);
        free(p->len);
        free(p);
}

/* Chunks that must be free before a producer waiting on a full queue is woken. */
static unsigned refill(const struct pipe *p)
{
        return p->n / 4 ? p->n / 4 : 1;
}

/* Hand the chunk being filled to the consumer (mutex held). */
static void hand_over(struct pipe *p)
{
        p->writing = false;
        p->filled++;
        p->tail = (p->tail + 1) % p->n;
        pthread_cond_signal(&p->can_read);
}

int pipe_write(struct pipe *p, const void *data, size_t len)
{
        const unsigned char *src = data;
        int r = 0;

        pthread_mutex_lock(&p->mu);
        while (len > 0) {
                size_t room, take;

                if (p->cancelled) {
                        r = -ECANCELED;
                        break;
                }
                if (!p->writing) {
                        /* A free chunk: one the consumer side neither waits on nor holds. */
                        if (p->filled == p->n) {
                                /* Full: wait until a quarter is free again, so the producer refills in
                                 * batches instead of waking up for every chunk the consumer gives back. */
                                p->writer_waiting = true;
                                while (p->filled > p->n - refill(p) && !p->cancelled)
                                        pthread_cond_wait(&p->can_write, &p->mu);
                                p->writer_waiting = false;
                                continue;
                        }
                        p->writing = true;
                        p->len[p->tail] = 0;
                }
                room = p->size - p->len[p->tail];
                take = len < room ? len : room;
                /* The chunk being filled is the producer's alone: copy without the lock. */
                pthread_mutex_unlock(&p->mu);
                memcpy(p->mem + (size_t)p->tail * p->size + p->len[p->tail], src, take);
                pthread_mutex_lock(&p->mu);
                p->len[p->tail] += take;
                src += take;
                len -= take;
                if (p->len[p->tail] == p->size)
                        hand_over(p);
        }
        if (r == 0 && p->cancelled)
                r = -ECANCELED;
        if (r == 0 && p->writing && p->len[p->tail] > 0 && p->reader_waiting)
                hand_over(p);
        pthread_mutex_unlock(&p->mu);
        return r;
}

void pipe_close(struct pipe *p, int code)
{
        pthread_mutex_lock(&p->mu);
        if (p->writing && p->len[p->tail] > 0)
                hand_over(p);
        p->writing = false;
        p->closed = true;
        p->code = code;
        pthread_cond_signal(&p->can_read);
        pthread_mutex_unlock(&p->mu);
}

/* Give back the chunk the consumer holds (mutex held). */
static void give_back(struct pipe *p)
{
        if (!p->holding)
                return;
        p->holding = false;
        p->head = (p->head + 1) % p->n;
        p->filled--;
        if (p->writer_waiting && p->filled <= p->n - refill(p))
                pthread_cond_signal(&p->can_write);
}

ssize_t pipe_read(struct pipe *p, const void **ret_buf)
{
        ssize_t r;

        pthread_mutex_lock(&p->mu);
        give_back(p);
        while (p->filled == 0 && !p->closed) {
                p->reader_waiting = true;
                pthread_cond_wait(&p->can_read, &p->mu);
        }
        p->reader_waiting = false;
        if (p->filled > 0) {
                p->holding = true;
                *ret_buf = p->mem + (size_t)p->head * p->size;
                r = (ssize_t)p->len[p->head];
        } else {
                r = p->code;
        }
        pthread_mutex_unlock(&p->mu);
        return r;
}

void pipe_cancel(struct pipe *p)
{
        pthread_mutex_lock(&p->mu);
        give_back(p);
        p->cancelled = true;
        pthread_cond_signal(&p->can_write);
        pthread_mutex_unlock(&p->mu);
}
