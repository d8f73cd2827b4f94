/* test-relaunch.c - the start order of a re-launch through the Engine (run/relaunch.h relaunch_plan): every
 * service after what it depends on (depends_on in both forms, links, volumes_from, network_mode service:X),
 * file order otherwise, the depends_on conditions, and the refusals (a cycle, a missing service). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "run/relaunch.h"

/* The plan's order as "a,b,c". */
static void order(const struct relaunch_plan *p, char *out, size_t size)
{
        size_t len = 0;

        out[0] = 0;
        for (size_t i = 0; i < p->n; i++)
                len += (size_t)snprintf(out + len, size - len, "%s%s", i ? "," : "", p->v[i].name);
}

static void plan_of(const char *yaml, char *out, size_t size, struct relaunch_plan *p)
{
        struct error err = ERROR_INIT;

        assert_int_equal(relaunch_plan("compose.yaml", yaml, strlen(yaml), p, &err), 0);
        order(p, out, size);
}

static const struct relaunch_dep *dep(const struct relaunch_plan *p, const char *svc, const char *on)
{
        for (size_t i = 0; i < p->n; i++)
                if (!strcmp(p->v[i].name, svc))
                        for (size_t k = 0; k < p->v[i].n_deps; k++)
                                if (!strcmp(p->v[i].deps[k].service, on))
                                        return &p->v[i].deps[k];
        return NULL;
}

static void independent_services_keep_file_order(void **state)
{
        struct relaunch_plan p;
        char got[256];

        (void)state;
        plan_of("services:\n  b: {image: x}\n  a: {image: x}\n  c: {image: x}\n", got, sizeof got, &p);
        assert_string_equal(got, "b,a,c");
        relaunch_plan_release(&p);
}

static void dependencies_start_first_in_both_forms(void **state)
{
        struct relaunch_plan p;
        char got[256];

        (void)state;
        plan_of("services:\n"
                "  web:\n    image: x\n    depends_on: {api: {condition: service_healthy}, migrate: {condition: "
                "service_completed_successfully}}\n"
                "  api:\n    image: x\n    depends_on: [db, cache]\n"
                "  migrate:\n    image: x\n    depends_on:\n      db:\n        condition: service_started\n"
                "  cache: {image: x}\n"
                "  db: {image: x}\n",
                got, sizeof got, &p);
        assert_string_equal(got, "db,cache,api,migrate,web");
        assert_int_equal(dep(&p, "web", "api")->cond, RELAUNCH_HEALTHY);
        assert_int_equal(dep(&p, "web", "migrate")->cond, RELAUNCH_COMPLETED);
        assert_int_equal(dep(&p, "api", "db")->cond, RELAUNCH_STARTED);
        assert_int_equal(dep(&p, "migrate", "db")->cond, RELAUNCH_STARTED);
        assert_null(dep(&p, "db", "api"));
        relaunch_plan_release(&p);
}

static void links_volumes_from_and_service_modes_are_dependencies(void **state)
{
        struct relaunch_plan p;
        char got[256];

        (void)state;
        plan_of("services:\n"
                "  a: {image: x, links: ['b:alias'], volumes_from: ['c:ro', 'container:other']}\n"
                "  b: {image: x, network_mode: 'service:d'}\n"
                "  c: {image: x, ipc: 'service:d', pid: host}\n"
                "  d: {image: x, network_mode: bridge}\n",
                got, sizeof got, &p);
        assert_string_equal(got, "d,b,c,a");
        assert_non_null(dep(&p, "a", "b"));
        assert_non_null(dep(&p, "a", "c"));
        assert_null(dep(&p, "a", "other"));
        relaunch_plan_release(&p);
}

static void a_service_named_twice_keeps_the_strongest_condition(void **state)
{
        struct relaunch_plan p;
        char got[256];

        (void)state;
        plan_of("services:\n  a: {image: x, links: [b], depends_on: {b: {condition: service_healthy}}}\n"
                "  b: {image: x}\n",
                got, sizeof got, &p);
        assert_string_equal(got, "b,a");
        assert_int_equal(p.v[1].n_deps, 1);
        assert_int_equal(dep(&p, "a", "b")->cond, RELAUNCH_HEALTHY);
        relaunch_plan_release(&p);
}

static void refused(const char *yaml, const char *want)
{
        struct relaunch_plan p;
        struct error err = ERROR_INIT;

        assert_int_equal(relaunch_plan("compose.yaml", yaml, strlen(yaml), &p, &err), -STACK_EREJECT);
        if (!strstr(err.msg, want))
                fail_msg("message '%s' lacks '%s'", err.msg, want);
        assert_int_equal(p.n, 0);
        assert_null(p.v);
}

static void cycles_missing_services_and_unknown_conditions_are_refused(void **state)
{
        (void)state;
        refused("services:\n  a: {depends_on: [b]}\n  b: {depends_on: [c]}\n  c: {depends_on: [a]}\n", "cycle");
        refused("services:\n  a: {depends_on: [a]}\n", "cycle");
        refused("services:\n  a: {depends_on: [nope]}\n", "depends on 'nope', which the file lacks");
        refused("services:\n  a: {depends_on: {b: {condition: whenever}}}\n  b: {}\n", "condition 'whenever'");
        refused("version: '3'\n", "no services");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(independent_services_keep_file_order),
                cmocka_unit_test(dependencies_start_first_in_both_forms),
                cmocka_unit_test(links_volumes_from_and_service_modes_are_dependencies),
                cmocka_unit_test(a_service_named_twice_keeps_the_strongest_condition),
                cmocka_unit_test(cycles_missing_services_and_unknown_conditions_are_refused),
        };
        return cmocka_run_group_tests_name("relaunch", tests, NULL, NULL);
}
