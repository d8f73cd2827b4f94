/* test-ingest-pipe.c - ingest's two threads (download and bundle hash on the caller's, decompression, checks
 * and object writes on its own): a read that fails mid-stream keeps its code and message and leaves no thread
 * and no temp file; a rejected entry early in a large bundle stops the reading early; a bundle read in pieces
 * of every size gives the same digests as the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/ingest.h"
#include "store/store.h"
#include "testlib.h"

/* A bundle in memory, handed out in pieces of `piece` bytes; fails with STACK_ENETWORK at byte fail_at. */
struct mem_reader {
        unsigned char *data;
        size_t len, pos, piece;
        size_t fail_at; /* 0: never */
        unsigned calls;
};

static ssize_t mem_read(void *ctx, const void **ret_buf, struct error *err)
{
        struct mem_reader *m = ctx;
        size_t n = m->len - m->pos < m->piece ? m->len - m->pos : m->piece;

        m->calls++;
        if (m->fail_at && m->pos + n > m->fail_at) {
                if (m->pos < m->fail_at) {
                        n = m->fail_at - m->pos; /* the bytes before the failure first */
                } else {
                        return error_http(err, STACK_ENETWORK, 0, "test server: connection reset after %zu bytes",
                                          m->pos);
                }
        }
        *ret_buf = m->data + m->pos;
        m->pos += n;
        return (ssize_t)n;
}

static void load_bundle(const struct tl_entry *e, size_t n, struct mem_reader *m)
{
        char path[PATH_MAX];
        struct stat st;
        int fd;

        snprintf(path, sizeof path, "%s/mem.stack", tl_tmpdir());
        assert_int_equal(tl_write_bundle(path, TL_ZSTD, e, n), 0);
        fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        memset(m, 0, sizeof *m);
        m->len = (size_t)st.st_size;
        m->data = malloc(m->len);
        assert_non_null(m->data);
        assert_int_equal(read(fd, m->data, m->len), (ssize_t)m->len);
        close(fd);
        unlink(path);
}

static int threads(void)
{
        return tl_count_dir("/proc/self/task");
}

/* The process is back to want threads. A joined thread can stay listed in /proc/self/task for a moment after
 * pthread_join returns (the kernel wakes the joiner before it has released the task), so give it a second. */
static void assert_threads(int want)
{
        int n = threads();

        for (int i = 0; i < 100 && n != want; i++) {
                usleep(10000);
                n = threads();
        }
        assert_int_equal(n, want);
}

static int temp_files(struct store *s)
{
        char dir[PATH_MAX];

        snprintf(dir, sizeof dir, "%s/tmp", store_home(s));
        return tl_count_dir(dir);
}

/* A large file first (a temp file is open when the read fails), then the stack's own files. */
static void big_bundle(struct mem_reader *m, size_t big)
{
        struct tl_entry e[3] = {{.path = "images/layer.tar", .len = big, .fill = 'r'}};

        tl_valid_entries(&e[1], "pipe", "1.0");
        load_bundle(e, 3, m);
}

static void test_read_fails_mid_stream(void **state)
{
        struct store *s = tl_store_new();
        struct error err = ERROR_INIT;
        struct ingest *ing = NULL;
        struct mem_reader m;
        struct tl_snapshot before, after;
        int t0 = threads(), r;

        (void)state;
        big_bundle(&m, 24u << 20);
        m.piece = 65536;
        m.fail_at = m.len / 2;
        assert_int_equal(tl_snapshot(store_home(s), &before), 0);
        assert_int_equal(ingest_new(s, NULL, &ing, &err), 0);
        r = ingest_read(ing, mem_read, &m, &err);
        /* The read's own code and message, not a corrupt-archive one. */
        assert_int_equal(r, -STACK_ENETWORK);
        assert_int_equal(err.code, STACK_ENETWORK);
        assert_non_null(strstr(err.msg, "test server: connection reset after"));
        assert_threads(t0);
        assert_null(ingest_bundle_digest(ing));
        ingest_free(ing);
        assert_int_equal(temp_files(s), 0);
        assert_int_equal(tl_snapshot(store_home(s), &after), 0);
        assert_true(tl_snapshot_equal(&before, &after));
        free(m.data);
        store_free(s);
}

static void test_rejected_entry_stops_the_read(void **state)
{
        struct store *s = tl_store_new();
        struct error err = ERROR_INIT;
        struct ingest *ing = NULL;
        struct tl_entry e[4] = {
                {.path = "evil", .type = 'h', .target = "stack.yaml"},
                {.path = "images/layer.tar", .len = 64u << 20, .fill = 'r'},
        };
        struct mem_reader m;
        int t0 = threads(), r;

        (void)state;
        tl_valid_entries(&e[2], "pipe", "1.0");
        load_bundle(e, 4, &m);
        m.piece = 65536;
        assert_int_equal(ingest_new(s, NULL, &ing, &err), 0);
        r = ingest_read(ing, mem_read, &m, &err);
        assert_int_equal(r, -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "'evil' is a hard link"));
        /* Stopped near the start: the queue (8 MiB) and libarchive's read-ahead, not the 64 MiB bundle. */
        if (m.pos > (16u << 20))
                fail_msg("read %zu of %zu bytes after the first entry was refused", m.pos, m.len);
        assert_threads(t0);
        ingest_free(ing);
        assert_int_equal(temp_files(s), 0);
        free(m.data);
        store_free(s);
}

static void test_pieces_of_every_size(void **state)
{
        static const size_t pieces[] = {1, 511, 4096, 65536, 262144, 262145, 1u << 20, 5u << 20};
        struct store *s = tl_store_new();
        struct mem_reader m;
        struct digest first_tree = {{0}};

        (void)state;
        big_bundle(&m, 3u << 20);
        for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
                struct error err = ERROR_INIT;
                struct ingest *ing = NULL;
                struct digest want;
                int r;

                m.pos = 0;
                m.piece = pieces[i];
                assert_int_equal(ingest_new(s, NULL, &ing, &err), 0);
                r = ingest_read(ing, mem_read, &m, &err);
                if (r < 0)
                        fail_msg("piece %zu: %s", pieces[i], err.msg);
                digest_buffer(m.data, m.len, &want);
                assert_true(digest_equal(ingest_bundle_digest(ing), &want));
                assert_int_equal(ingest_bundle_size(ing), m.len);
                if (i == 0)
                        first_tree = *ingest_tree_digest(ing);
                assert_true(digest_equal(ingest_tree_digest(ing), &first_tree));
                assert_string_equal(ingest_manifest(ing)->slug, "pipe");
                ingest_free(ing);
        }
        assert_int_equal(temp_files(s), 0);
        free(m.data);
        store_free(s);
}

static void *nothing(void *ctx)
{
        return ctx;
}

int main(void)
{
        pthread_t t;
        /* A first thread made and joined before any count: a sanitizer's runtime starts a helper thread of
         * its own at the process's first pthread_create, which must not count as one ingest left behind. */
        if (pthread_create(&t, NULL, nothing, NULL) == 0)
                pthread_join(t, NULL);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_read_fails_mid_stream),
                cmocka_unit_test(test_rejected_entry_stops_the_read),
                cmocka_unit_test(test_pieces_of_every_size),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
