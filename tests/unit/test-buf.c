/* test-buf.c - the bounded buffer: grows, stops at its maximum with the right code, stays NUL-terminated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"

static void grows_past_its_first_allocation_and_keeps_every_byte(void **state)
{
        struct buf b = BUF_INIT(1 << 20);
        char chunk[1000];
        size_t i;

        for (i = 0; i < 100; i++) {
                memset(chunk, 'a' + (int)(i % 26), sizeof chunk);
                assert_int_equal(buf_add(&b, chunk, sizeof chunk), 0);
        }
        assert_int_equal(b.len, 100000);
        assert_true(b.cap > b.len);
        for (i = 0; i < 100; i++)
                assert_int_equal(b.p[i * 1000 + 999], 'a' + (int)(i % 26));
        assert_int_equal(b.p[b.len], 0);
        assert_false(b.toobig);
        buf_release(&b);
        assert_null(b.p);
        assert_int_equal(b.len, 0);
}

static void refuses_bytes_past_its_maximum_with_efbig_and_keeps_what_it_had(void **state)
{
        struct buf b = BUF_INIT(10);

        assert_int_equal(buf_add_str(&b, "0123456789"), 0); /* exactly max: fine */
        assert_int_equal(buf_add(&b, "x", 1), -EFBIG);
        assert_true(b.toobig);
        assert_false(b.oom);
        assert_int_equal(b.len, 10);
        assert_string_equal(b.p, "0123456789");
        assert_true(b.cap <= 11); /* never allocates beyond its maximum */
        buf_release(&b);

        b = BUF_INIT(10);
        assert_int_equal(buf_add(&b, "0123456789ab", 12), -EFBIG); /* one add larger than max */
        assert_true(b.toobig);
        assert_null(b.p);
        buf_release(&b);
}

static void refuses_a_length_that_would_wrap_around(void **state)
{
        struct buf b = BUF_INIT(100);

        assert_int_equal(buf_add(&b, "abc", 3), 0);
        assert_int_equal(buf_add(&b, "abc", SIZE_MAX - 1), -EFBIG);
        assert_int_equal(b.len, 3);
        buf_release(&b);
}

static void is_nul_terminated_after_every_add_even_an_empty_one(void **state)
{
        struct buf b = BUF_INIT(64);

        assert_null(b.p);
        assert_int_equal(buf_add(&b, NULL, 0), 0);
        assert_non_null(b.p);
        assert_string_equal(b.p, "");
        assert_int_equal(buf_add(&b, "ab\0cd", 5), 0); /* binary: len says how long */
        assert_int_equal(b.len, 5);
        assert_int_equal(b.p[5], 0);
        assert_memory_equal(b.p, "ab\0cd", 5);
        buf_release(&b);
}

static void drop_removes_the_front_and_frees_room_under_the_maximum(void **state)
{
        struct buf b = BUF_INIT(8);

        assert_int_equal(buf_add_str(&b, "line1\nli"), 0);
        assert_int_equal(buf_add_str(&b, "x"), -EFBIG);
        buf_drop(&b, 6);
        assert_string_equal(b.p, "li");
        assert_int_equal(buf_add_str(&b, "ne2\n"), 0);
        assert_string_equal(b.p, "line2\n");
        buf_drop(&b, 100);
        assert_int_equal(b.len, 0);
        assert_string_equal(b.p, "");
        buf_release(&b);
}

static void steal_hands_over_the_bytes_and_empties_the_buf(void **state)
{
        struct buf b = BUF_INIT(32);
        size_t len = 0;
        char *p;

        p = buf_steal(&b, &len); /* nothing added: an empty string, not NULL */
        assert_non_null(p);
        assert_string_equal(p, "");
        assert_int_equal(len, 0);
        free(p);

        assert_int_equal(buf_add_str(&b, "hello"), 0);
        p = buf_steal(&b, &len);
        assert_string_equal(p, "hello");
        assert_int_equal(len, 5);
        assert_null(b.p);
        assert_int_equal(b.len, 0);
        assert_int_equal(b.max, 32);
        free(p);
        buf_release(&b);
        buf_release(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(grows_past_its_first_allocation_and_keeps_every_byte),
                cmocka_unit_test(refuses_bytes_past_its_maximum_with_efbig_and_keeps_what_it_had),
                cmocka_unit_test(refuses_a_length_that_would_wrap_around),
                cmocka_unit_test(is_nul_terminated_after_every_add_even_an_empty_one),
                cmocka_unit_test(drop_removes_the_front_and_frees_room_under_the_maximum),
                cmocka_unit_test(steal_hands_over_the_bytes_and_empties_the_buf),
        };
        return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
