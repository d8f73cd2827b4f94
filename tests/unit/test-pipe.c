/* test-pipe.c - the bounded chunk queue between ingest's two threads: bytes arrive whole and in order, the
 * producer blocks when every chunk is full (the queue's memory is its bound), an error closes the stream after
 * the bytes written before it, and a cancel stops a blocked producer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/pipe.h"

static unsigned char pattern(uint64_t i)
{
        return (unsigned char)((i * 2654435761u) >> 13);
}

struct producer {
        struct pipe *p;
        uint64_t total;        /* bytes to write */
        int close_code;        /* what to close with at the end */
        atomic_ullong written; /* bytes pipe_write accepted */
        int r;                 /* the last pipe_write's result */
};

static void *produce(void *ctx)
{
        struct producer *pr = ctx;
        unsigned char buf[7919]; /* not a multiple of the chunk size: pieces straddle chunks */
        uint64_t pos = 0;
        unsigned seed = 1;

        while (pos < pr->total) {
                size_t n = 1 + (size_t)(rand_r(&seed) % sizeof buf);
                if (n > pr->total - pos)
                        n = (size_t)(pr->total - pos);
                for (size_t i = 0; i < n; i++)
                        buf[i] = pattern(pos + i);
                pr->r = pipe_write(pr->p, buf, n);
                if (pr->r < 0)
                        return NULL;
                pos += n;
                atomic_store(&pr->written, pos);
        }
        pipe_close(pr->p, pr->close_code);
        return NULL;
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

static void test_bytes_in_order(void **state)
{
        struct producer pr = {.total = 10u << 20};
        pthread_t t;
        uint64_t got = 0;
        ssize_t n;

        (void)state;
        assert_int_equal(pipe_new(4, 65536, &pr.p), 0);
        assert_int_equal(pthread_create(&t, NULL, produce, &pr), 0);
        for (;;) {
                const void *buf;
                n = pipe_read(pr.p, &buf);
                if (n <= 0)
                        break;
                assert_true(n <= 65536);
                for (ssize_t i = 0; i < n; i++)
                        if (((const unsigned char *)buf)[i] != pattern(got + (uint64_t)i))
                                fail_msg("byte %llu differs", (unsigned long long)(got + (uint64_t)i));
                got += (uint64_t)n;
        }
        assert_int_equal(n, 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(pr.r, 0);
        assert_int_equal(got, pr.total);
        pipe_free(pr.p);
}

static void test_error_after_the_bytes_before_it(void **state)
{
        struct producer pr = {.total = 100000, .close_code = -77};
        pthread_t t;
        uint64_t got = 0;
        ssize_t n;

        (void)state;
        assert_int_equal(pipe_new(2, 4096, &pr.p), 0);
        assert_int_equal(pthread_create(&t, NULL, produce, &pr), 0);
        for (;;) {
                const void *buf;
                n = pipe_read(pr.p, &buf);
                if (n <= 0)
                        break;
                got += (uint64_t)n;
        }
        assert_int_equal(n, -77);
        assert_int_equal(got, 100000);
        /* the end stays the end */
        {
                const void *buf;
                assert_int_equal(pipe_read(pr.p, &buf), -77);
        }
        assert_int_equal(pthread_join(t, NULL), 0);
        pipe_free(pr.p);
}

static void test_bounded_then_cancel(void **state)
{
        struct producer pr = {.total = 1u << 20};
        pthread_t t;
        const void *buf;

        (void)state;
        assert_int_equal(pipe_new(4, 1024, &pr.p), 0);
        assert_int_equal(pthread_create(&t, NULL, produce, &pr), 0);
        /* Nobody reads: the producer gets at most the queue's 4 KiB (plus the one piece in hand) in. */
        sleep_ms(100);
        assert_true(atomic_load(&pr.written) <= 4 * 1024);
        /* One chunk read and given back makes room for one more. */
        assert_int_equal(pipe_read(pr.p, &buf), 1024);
        assert_int_equal(((const unsigned char *)buf)[0], pattern(0));
        assert_int_equal(pipe_read(pr.p, &buf), 1024);
        sleep_ms(100);
        assert_true(atomic_load(&pr.written) <= 6 * 1024);
        /* The consumer gives up: the blocked producer's write fails and it returns. */
        pipe_cancel(pr.p);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(pr.r, -ECANCELED);
        assert_true(atomic_load(&pr.written) < pr.total);
        /* A write after the cancel fails at once. */
        assert_int_equal(pipe_write(pr.p, "x", 1), -ECANCELED);
        pipe_free(pr.p);
}

struct waiter {
        struct pipe *p;
        ssize_t n;
        char first;
};

static void *wait_read(void *ctx)
{
        struct waiter *w = ctx;
        const void *buf;

        w->n = pipe_read(w->p, &buf);
        if (w->n > 0)
                w->first = *(const char *)buf;
        return NULL;
}

/* A source that pauses (a slow or stalled download) still reaches a waiting consumer: the part-filled chunk is
 * handed over at the end of the write, not held until it is full. */
static void test_partial_chunk_reaches_a_waiting_consumer(void **state)
{
        struct waiter w = {0};
        pthread_t t;

        (void)state;
        assert_int_equal(pipe_new(4, 65536, &w.p), 0);
        assert_int_equal(pthread_create(&t, NULL, wait_read, &w), 0);
        sleep_ms(100); /* the consumer is waiting in pipe_read by now */
        assert_int_equal(pipe_write(w.p, "x23456789", 10), 0);
        /* no close: the consumer has the 10 bytes all the same */
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(w.n, 10);
        assert_int_equal(w.first, 'x');
        pipe_close(w.p, 0);
        pipe_free(w.p);
}

static void test_bad_sizes(void **state)
{
        struct pipe *p = NULL;

        (void)state;
        assert_int_equal(pipe_new(1, 1024, &p), -EINVAL);
        assert_int_equal(pipe_new(4, 0, &p), -EINVAL);
        assert_null(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bytes_in_order),
                cmocka_unit_test(test_error_after_the_bytes_before_it),
                cmocka_unit_test(test_bounded_then_cancel),
                cmocka_unit_test(test_partial_chunk_reaches_a_waiting_consumer),
                cmocka_unit_test(test_bad_sizes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
