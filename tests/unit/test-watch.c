/* test-watch.c - what the watcher keeps (spec/run.md "Watching"): the run history bounded per run, the alerts
 * table (added, listed, dismissed, counted, bounded), and config.json "watch". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/alerts.h"
#include "orch/watch.h"
#include "run/history.h"
#include "run/policy.h"
#include "store/store.h"
#include "testlib.h"

static void history_keeps_the_newest_rows_of_each_run(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct history_row *v = NULL;
        size_t n = 0;
        char reason[32];

        assert_int_equal(store_open(tl_tmpdir(), &s, &err), 0);
        for (int i = 0; i < HISTORY_KEEP + 50; i++) {
                snprintf(reason, sizeof reason, "exited %d", i);
                assert_int_equal(history_add(s, "aaaaaaaaaaaaaaaa", i % 2 ? RUN_RESTARTING : RUN_RUNNING,
                                             i % 2 ? reason : NULL, "web-1", &err),
                                 0);
        }
        assert_int_equal(history_add(s, "bbbbbbbbbbbbbbbb", RUN_UNHEALTHY, "healthcheck failed: no", NULL, &err), 0);
        assert_int_equal(history_list(s, "aaaaaaaaaaaaaaaa", &v, &n, &err), 0);
        assert_int_equal(n, HISTORY_KEEP);
        assert_int_equal(v[0].state, RUN_RESTARTING); /* newest first */
        snprintf(reason, sizeof reason, "exited %d", HISTORY_KEEP + 49);
        assert_string_equal(v[0].reason, reason);
        assert_string_equal(v[0].container, "web-1");
        assert_null(v[1].reason);
        assert_true(v[0].at_ms >= v[n - 1].at_ms && v[n - 1].at_ms > 0);
        history_rows_free(v, n);
        assert_int_equal(history_list(s, "bbbbbbbbbbbbbbbb", &v, &n, &err), 0);
        assert_int_equal(n, 1); /* another run's rows are not counted against it */
        assert_int_equal(v[0].state, RUN_UNHEALTHY);
        assert_null(v[0].container);
        history_rows_free(v, n);
        assert_int_equal(history_list(s, "cccccccccccccccc", &v, &n, &err), 0);
        assert_int_equal(n, 0);
        history_rows_free(v, n);
        store_free(s);
}

static void alerts_are_listed_dismissed_and_counted(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct alert a = {.slug = "web",
                          .run_id = "aaaaaaaaaaaaaaaa",
                          .kind = "exec",
                          .container = "web-1",
                          .detail = "docker exec into web-1: sh"};
        struct alert *v = NULL;
        char id1[17], id2[17];
        size_t n = 0;
        json_t *j;

        assert_int_equal(store_open(tl_tmpdir(), &s, &err), 0);
        assert_int_equal(alerts_count(s, "aaaaaaaaaaaaaaaa"), 0);
        assert_int_equal(alerts_add(s, &a, id1, &err), 0);
        a.kind = "update";
        a.container = NULL;
        a.at_ms = 1796511358971;
        assert_int_equal(alerts_add(s, &a, id2, &err), 0);
        assert_int_equal(strlen(id1), 16);
        assert_string_not_equal(id1, id2);
        assert_int_equal(alerts_count(s, "aaaaaaaaaaaaaaaa"), 2);
        assert_int_equal(alerts_count(s, "bbbbbbbbbbbbbbbb"), 0);
        assert_int_equal(alerts_list(s, false, &v, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_string_equal(v[0].id, id1); /* newest first: id2 was dated earlier */
        assert_string_equal(v[0].kind, "exec");
        assert_string_equal(v[1].kind, "update");
        assert_null(v[1].container);
        assert_int_equal(v[1].at_ms, 1796511358971);
        j = alert_json(&v[1]);
        assert_true(json_is_null(json_object_get(j, "container")));
        assert_true(json_is_null(json_object_get(j, "dismissed_at")));
        assert_int_equal(json_integer_value(json_object_get(j, "at")), 1796511358971);
        json_decref(j);
        alerts_free(v, n);

        assert_int_equal(alerts_dismiss(s, id1, &err), 0);
        assert_int_equal(alerts_dismiss(s, id1, &err), 0); /* twice: the first time stays */
        assert_int_equal(alerts_dismiss(s, "ffffffffffffffff", &err), -STACK_ENOTFOUND);
        assert_int_equal(alerts_count(s, "aaaaaaaaaaaaaaaa"), 1);
        assert_int_equal(alerts_list(s, false, &v, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_string_equal(v[0].id, id2);
        alerts_free(v, n);
        assert_int_equal(alerts_list(s, true, &v, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_true(v[0].dismissed_at_ms > 0);
        alerts_free(v, n);
        store_free(s);
}

static void alerts_table_keeps_the_newest(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct alert a = {.slug = "web", .run_id = "aaaaaaaaaaaaaaaa", .kind = "exec", .detail = "flood"};
        struct alert *v = NULL;
        size_t n = 0;

        assert_int_equal(store_open(tl_tmpdir(), &s, &err), 0);
        for (int i = 0; i < ALERTS_KEEP + 20; i++) {
                a.at_ms = 1000 + i;
                assert_int_equal(alerts_add(s, &a, NULL, &err), 0);
        }
        assert_int_equal(alerts_list(s, true, &v, &n, &err), 0);
        assert_int_equal(n, ALERTS_KEEP);
        assert_int_equal(v[0].at_ms, 1000 + ALERTS_KEEP + 19);
        assert_int_equal(v[n - 1].at_ms, 1000 + 20);
        alerts_free(v, n);
        store_free(s);
}

static void write_config(const char *home, const char *text)
{
        char path[4096];
        FILE *f;

        snprintf(path, sizeof path, "%s/config.json", home);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void watch_restart_limits_come_from_config_json(void **state)
{
        const char *home = tl_tmpdir();
        struct policy_limits l;
        struct error err = ERROR_INIT;
        unsigned count, seconds;

        watch_restart_limits(home, &count, &seconds);
        assert_int_equal(count, WATCH_RESTART_COUNT);
        assert_int_equal(seconds, WATCH_RESTART_SECONDS);
        write_config(home, "{\"watch\": {\"restart_count\": 3, \"restart_seconds\": 20}}");
        assert_int_equal(policy_limits_load(home, &l, &err), 0);
        watch_restart_limits(home, &count, &seconds);
        assert_int_equal(count, 3);
        assert_int_equal(seconds, 20);
        write_config(home, "{\"watch\": {\"restart_count\": 0}}");
        assert_int_equal(policy_limits_load(home, &l, &err), -STACK_EUSAGE);
        assert_non_null(strstr(err.msg, "watch.restart_count"));
        error_clear(&err);
        write_config(home, "{\"watch\": {\"restarts\": 3}}");
        assert_int_equal(policy_limits_load(home, &l, &err), -STACK_EUSAGE);
        assert_non_null(strstr(err.msg, "unknown key \"watch.restarts\""));
        error_clear(&err);
        write_config(home, "{\"watch\": 5}");
        assert_int_equal(policy_limits_load(home, &l, &err), -STACK_EUSAGE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(history_keeps_the_newest_rows_of_each_run),
                cmocka_unit_test(alerts_are_listed_dismissed_and_counted),
                cmocka_unit_test(alerts_table_keeps_the_newest),
                cmocka_unit_test(watch_restart_limits_come_from_config_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
