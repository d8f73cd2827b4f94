/* test-runjson.c - one JSON writer for a run (orch/runjson.c): the CLI's object and the API's differ only by the
 * host paths, and times not reached are null in both. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "orch/orch.h"

static void fill(struct run_row *row)
{
        memset(row, 0, sizeof *row);
        strcpy(row->id, "0123456789abcdef");
        row->slug = "hello";
        row->version = "1.0";
        row->project = "stack-hello";
        row->run_dir = "/home/u/.local/share/stack/runs/hello";
        row->created_at = 1700000000;
        row->updated_at = 1700000005;
}

static void unset_times_and_reason_are_null(void **state)
{
        struct run_row row;
        json_t *o;

        (void)state;
        fill(&row);
        o = orch_run_json(&row, true);
        assert_non_null(o);
        assert_true(json_is_null(json_object_get(o, "started_at")));
        assert_true(json_is_null(json_object_get(o, "stopped_at")));
        assert_true(json_is_null(json_object_get(o, "reason")));
        assert_int_equal(json_integer_value(json_object_get(o, "created_at")), 1700000000);
        json_decref(o);

        row.started_at = 1700000005;
        row.reason = "why";
        o = orch_run_json(&row, false);
        assert_int_equal(json_integer_value(json_object_get(o, "started_at")), 1700000005);
        assert_string_equal(json_string_value(json_object_get(o, "reason")), "why");
        json_decref(o);
}

static void host_paths_only_with_paths(void **state)
{
        struct run_row row;
        json_t *cli, *api;

        (void)state;
        fill(&row);
        cli = orch_run_json(&row, true);
        api = orch_run_json(&row, false);
        assert_string_equal(json_string_value(json_object_get(cli, "run_dir")), row.run_dir);
        assert_string_equal(json_string_value(json_object_get(cli, "project")), "stack-hello");
        assert_int_equal(strlen(json_string_value(json_object_get(cli, "tree"))), DIGEST_HEX_LEN);
        assert_null(json_object_get(api, "run_dir"));
        assert_null(json_object_get(api, "project"));
        assert_null(json_object_get(api, "tree"));
        assert_string_equal(json_string_value(json_object_get(api, "id")), row.id);
        assert_string_equal(json_string_value(json_object_get(api, "slug")), "hello");
        json_decref(cli);
        json_decref(api);
}

static void addresses_and_string_vectors(void **state)
{
        struct run_address addr[] = {{NULL, "front door", "https://hello.stack.localhost"}};
        struct run_info info = {.addresses = addr, .n_addresses = 1};
        char *v[] = {"a:1", "b:2", NULL};
        json_t *a, *s, *none;

        (void)state;
        a = orch_addresses_json(&info);
        assert_int_equal(json_array_size(a), 1);
        assert_true(json_is_null(json_object_get(json_array_get(a, 0), "service")));
        assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "url")), addr[0].url);
        s = orch_strv_json(v);
        assert_int_equal(json_array_size(s), 2);
        assert_string_equal(json_string_value(json_array_get(s, 1)), "b:2");
        none = orch_strv_json(NULL);
        assert_int_equal(json_array_size(none), 0);
        json_decref(a);
        json_decref(s);
        json_decref(none);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(unset_times_and_reason_are_null),
                cmocka_unit_test(host_paths_only_with_paths),
                cmocka_unit_test(addresses_and_string_vectors),
        };
        return cmocka_run_group_tests_name("runjson", tests, NULL, NULL);
}
