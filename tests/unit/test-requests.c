/* test-requests.c - the api module's tables: a request leaves pending once, never after its expiry time; expiry
 * touches only pending rows; approve by slug takes the oldest pending; the trusted list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "orch/requests.h"
#include "testlib.h"

static struct store *fresh_store(void)
{
        struct error err = ERROR_INIT;
        struct store *s = NULL;

        assert_int_equal(store_open(tl_tmpdir(), &s, &err), 0);
        return s;
}

static void add(struct store *s, const char *slug, const char *state, int64_t expires_at, struct request_row *ret)
{
        struct error err = ERROR_INIT;
        int st = request_state_parse(state);

        assert_true(st >= 0);
        assert_int_equal(requests_insert(s, slug, "web@1.0", "https://stack.lol", "anonymous", (enum request_state)st,
                                         NULL, expires_at, ret, &err),
                         0);
        assert_int_equal(strlen(ret->id), 16);
}

static void state_is(struct store *s, const char *id, const char *want)
{
        struct error err = ERROR_INIT;
        struct request_row row;

        assert_int_equal(requests_get(s, id, &row, &err), 0);
        assert_string_equal(request_state_name(row.state), want);
        request_row_release(&row);
}

static void request_is_decided_once(void **state)
{
        struct store *s = fresh_store();
        struct error err = ERROR_INIT;
        struct request_row r;

        add(s, "web", "pending", (int64_t)time(NULL) + 600, &r);
        assert_string_equal(request_state_name(r.state), "pending");
        assert_int_equal(r.decided_at, 0);
        assert_int_equal(requests_decide(s, r.id, REQUEST_APPROVED, "ok", &err), 0);
        state_is(s, r.id, "approved");
        error_clear(&err);
        assert_int_equal(requests_decide(s, r.id, REQUEST_DENIED, "late", &err), -STACK_EFAIL);
        assert_non_null(strstr(err.msg, "is approved, not pending"));
        state_is(s, r.id, "approved");
        request_row_release(&r);
        store_free(s);
}

static void request_past_its_expiry_cannot_be_approved(void **state)
{
        struct store *s = fresh_store();
        struct error err = ERROR_INIT;
        struct request_row r;
        unsigned n = 9;

        add(s, "web", "pending", (int64_t)time(NULL) - 1, &r);
        assert_int_equal(requests_decide(s, r.id, REQUEST_APPROVED, NULL, &err), -STACK_EFAIL);
        assert_non_null(strstr(err.msg, "past its expiry time"));
        state_is(s, r.id, "pending");
        assert_int_equal(requests_expire(s, NULL, false, "no decision in time", &n, &err), 0);
        assert_int_equal(n, 1);
        state_is(s, r.id, "expired");
        request_row_release(&r);
        store_free(s);
}

static void expire_all_leaves_decided_requests_alone(void **state)
{
        struct store *s = fresh_store();
        struct error err = ERROR_INIT;
        struct request_row a, b;
        unsigned n = 0;

        add(s, "web", "pending", (int64_t)time(NULL) + 600, &a);
        add(s, "web", "approved", (int64_t)time(NULL) + 600, &b);
        assert_int_equal(requests_expire(s, NULL, true, "stopped", &n, &err), 0);
        assert_int_equal(n, 1);
        state_is(s, a.id, "expired");
        state_is(s, b.id, "approved");
        request_row_release(&a);
        request_row_release(&b);
        store_free(s);
}

static void pending_by_slug_is_the_oldest_and_unknown_is_not_found(void **state)
{
        struct store *s = fresh_store();
        struct error err = ERROR_INIT;
        struct request_row a, b, found;

        add(s, "web", "pending", (int64_t)time(NULL) + 600, &a);
        add(s, "web", "pending", (int64_t)time(NULL) + 600, &b);
        assert_int_equal(requests_find_pending(s, "web", &found, &err), 0);
        assert_string_equal(found.id, a.id);
        request_row_release(&found);
        assert_int_equal(requests_find_pending(s, b.id, &found, &err), 0);
        assert_string_equal(found.id, b.id);
        request_row_release(&found);
        assert_int_equal(requests_find_pending(s, "other", &found, &err), -STACK_ENOTFOUND);
        assert_int_equal(requests_get(s, "0123456789abcdef", &found, &err), -STACK_ENOTFOUND);
        request_row_release(&a);
        request_row_release(&b);
        store_free(s);
}

static void trusted_list_adds_lists_and_removes(void **state)
{
        struct store *s = fresh_store();
        struct error err = ERROR_INIT;
        char **v = NULL;
        size_t n = 0;
        bool has = true;

        assert_int_equal(trusted_stack_has(s, "web", &has, &err), 0);
        assert_false(has);
        assert_int_equal(trusted_stack_add(s, "web", &err), 0);
        assert_int_equal(trusted_stack_add(s, "web", &err), 0); /* twice is once */
        assert_int_equal(trusted_stack_add(s, "blog", &err), 0);
        assert_int_equal(trusted_stack_list(s, &v, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_string_equal(v[0], "blog");
        assert_string_equal(v[1], "web");
        request_strv_free(v, n);
        assert_int_equal(trusted_stack_has(s, "web", &has, &err), 0);
        assert_true(has);
        assert_int_equal(trusted_stack_remove(s, "web", &err), 0);
        assert_int_equal(trusted_stack_remove(s, "web", &err), -STACK_ENOTFOUND);
        assert_int_equal(trusted_stack_has(s, "web", &has, &err), 0);
        assert_false(has);
        store_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(request_is_decided_once),
                cmocka_unit_test(request_past_its_expiry_cannot_be_approved),
                cmocka_unit_test(expire_all_leaves_decided_requests_alone),
                cmocka_unit_test(pending_by_slug_is_the_oldest_and_unknown_is_not_found),
                cmocka_unit_test(trusted_list_adds_lists_and_removes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
