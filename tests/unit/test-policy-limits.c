/* test-policy-limits.c - the limits every service gets (the person's defaults, lowered never raised), the bounds
 * on replicas, cpu_shares, ulimits and the OOM killer, the host ports no bundle publishes, the front door names
 * a stack may route, and $STACK_HOME/config.json (spec/run.md "Limits"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "run/policy.h"
#include "base/fsutil.h"
#include "store/manifest.h"
#include "store/tree.h"
#include "policyfx.h"
#include "testlib.h"

/* The effective file says "key: value" (as emitted, indentation aside). */
static bool says(const struct fx *f, const char *line)
{
        char buf[256];

        snprintf(buf, sizeof buf, " %s\n", line);
        return f->text && strstr(f->text, buf);
}

static void every_service_gets_the_default_limits(void **state)
{
        struct policy_limits def;
        char buf[128];
        struct fx f;

        policy_limits_default(&def);
        assert_true(def.cpus >= 1);
        assert_int_equal(def.memory, POLICY_DEFAULT_MEMORY);
        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f, WEB "  db:\n    image: postgres\n", 0), 0);
        snprintf(buf, sizeof buf, "mem_limit: %llu", (unsigned long long)POLICY_DEFAULT_MEMORY);
        assert_true(says(&f, buf));
        snprintf(buf, sizeof buf, "memswap_limit: %llu", (unsigned long long)POLICY_DEFAULT_MEMORY);
        assert_true(says(&f, buf));
        snprintf(buf, sizeof buf, "pids_limit: %d", POLICY_DEFAULT_PIDS);
        assert_true(says(&f, buf));
        assert_non_null(strstr(f.text, "cpus: "));
        /* both services: count them */
        assert_non_null(strstr(strstr(f.text, "memswap_limit") + 1, "memswap_limit"));
        fx_release(&f);
}

static void a_bundle_lowers_limits_and_never_raises_or_removes_them(void **state)
{
        struct policy_limits lim;
        struct fx f;

        policy_limits_default(&lim);
        lim.cpus = 1;
        lim.memory = 1ULL << 30;
        lim.pids = 100;
        fx_init(&f, "resources: {cpus: 4, memory: 8g, pids: 100000}\n", NULL);
        f.limits = &lim;
        assert_int_equal(fx_apply(&f,
                                  WEB "    cpus: 8\n    mem_limit: 16g\n    memswap_limit: -1\n    pids_limit: -1\n"
                                      "  small:\n    image: b\n    mem_limit: 64m\n    memswap_limit: 1g\n"
                                      "    cpus: 0.5\n    pids_limit: 10\n"
                                      "  shares:\n    image: c\n    cpu_shares: 262144\n"
                                      "  deployed:\n    image: d\n    deploy: {resources: {limits: {memory: 32g}}}\n",
                                  0),
                         0);
        /* web: everything at the person's limits, memswap = memory */
        assert_true(says(&f, "cpus: 1"));
        assert_true(says(&f, "mem_limit: 1073741824"));
        assert_true(says(&f, "memswap_limit: 1073741824"));
        assert_true(says(&f, "pids_limit: 100"));
        assert_null(strstr(f.text, "-1"));
        /* small: its own lower values kept, swap = its memory */
        assert_true(says(&f, "mem_limit: 67108864"));
        assert_true(says(&f, "memswap_limit: 67108864"));
        assert_true(says(&f, "cpus: 0.5"));
        assert_true(says(&f, "pids_limit: 10"));
        assert_true(says(&f, "cpu_shares: 1024"));
        assert_null(strstr(f.text, "262144"));
        assert_null(strstr(f.text, "32g"));
        fx_release(&f);

        /* stack.yaml below the person's limits wins */
        fx_init(&f, "resources: {memory: 512m}\n", NULL);
        f.limits = &lim;
        assert_int_equal(fx_apply(&f, WEB, 0), 0);
        assert_true(says(&f, "mem_limit: 536870912"));
        assert_true(says(&f, "memswap_limit: 536870912"));
        fx_release(&f);
}

static void replicas_are_bounded(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f, WEB "    scale: 10\n", 0), 0);
        assert_int_equal(fx_apply(&f, WEB "    scale: 50\n", ~0u), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "service 'web': scale: 50 containers is above the 10"));
        assert_int_equal(fx_apply(&f, WEB "    deploy: {replicas: 11}\n", ~0u), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "deploy.replicas"));
        assert_int_equal(fx_apply(&f, WEB "    scale: ${N}\n", ~0u), -STACK_EREJECT); /* unknown */
        assert_int_equal(fx_apply(&f, WEB "    scale: -1\n", ~0u), -STACK_EREJECT);
        fx_release(&f);
}

static void ulimits_beyond_the_defaults_need_a_permission(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f, WEB "    ulimits: {nofile: {soft: 65536, hard: 65536}, nproc: 512}\n", 0), 0);
        assert_int_equal(fx_apply(&f, WEB "    ulimits: {nofile: 1048577}\n", 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "ulimits: nofile"));
        assert_non_null(strstr(f.err.msg, "permission 'ulimits'"));
        assert_non_null(strstr(f.err.msg, "--allow ulimits"));
        assert_int_equal(fx_apply(&f, WEB "    ulimits: {rtprio: 99}\n", 0), -STACK_EREJECT);
        assert_int_equal(fx_apply(&f, WEB "    ulimits: {nice: {soft: 40, hard: 40}}\n", 0), -STACK_EREJECT);
        /* memlock and nproc: bounded by the memory and pids limits every stack has (the catalog's OpenSearch) */
        assert_int_equal(fx_apply(&f, WEB "    ulimits: {memlock: -1, nproc: 100000}\n", 0), 0);
        assert_int_equal(fx_apply(&f, WEB "    ulimits: {nofile: {soft: 1024}}\n", 0), -STACK_EREJECT);
        assert_int_equal(fx_apply(&f, WEB "    ulimits: {rtprio: 99}\n", PERM_ULIMITS), 0);
        assert_true(f.res.needed & PERM_ULIMITS);
        fx_release(&f);
}

static void oom_score_below_zero_needs_a_permission(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f, WEB "    oom_score_adj: 500\n", 0), 0);
        assert_int_equal(fx_apply(&f, WEB "    oom_score_adj: -1000\n", 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "oom_score_adj: -1000 is not allowed (needs permission 'oom')"));
        assert_int_equal(fx_apply(&f, WEB "    oom_score_adj: ${X}\n", 0), -STACK_EREJECT);
        assert_int_equal(fx_apply(&f, WEB "    oom_kill_disable: true\n", 0), -STACK_EREJECT);
        assert_int_equal(fx_apply(&f, WEB "    oom_score_adj: -1000\n", PERM_OOM), 0);
        fx_release(&f);
}

static void reserved_ports_are_never_published(void **state)
{
        struct policy_limits lim;
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f, WEB "    ports: [\"57404:80\"]\n", ~0u), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "host port 57404 is reserved for stack's own API"));
        assert_int_equal(fx_apply(&f, WEB "    ports: [\"0.0.0.0:57404:80\"]\n", PERM_LISTEN), -STACK_EREJECT);
        assert_int_equal(fx_apply(&f, WEB "    ports: [\"127.0.0.1:57400-57410:80-90\"]\n", 0), -STACK_EREJECT);
        assert_int_equal(fx_apply(&f, WEB "    ports: [{target: 80, published: 57404}]\n", 0), -STACK_EREJECT);
        assert_int_equal(fx_apply(&f, WEB "    ports: [{target: 80, published: \"57404\", name: x}]\n", 0),
                         -STACK_EREJECT);
        assert_int_equal(fx_apply(&f, WEB "    ports: [\"60443:443\"]\n", 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "front door"));
        assert_int_equal(fx_apply(&f, WEB "    ports: [\"57404\"]\n", 0), 0); /* a container port */
        assert_int_equal(fx_apply(&f, WEB "    ports: [\"8080:57404\"]\n", 0), 0);
        /* the configured API port */
        policy_limits_default(&lim);
        lim.reserved[lim.n_reserved++] = 9999;
        f.limits = &lim;
        assert_int_equal(fx_apply(&f, WEB "    ports: [\"9999:80\"]\n", 0), -STACK_EREJECT);
        fx_release(&f);
}

static void front_door_names_belong_to_their_stack(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f,
                                  WEB
                                  "    labels: {traefik.http.routers.w.rule: \"Host(`api.demo.stack.localhost`)\"}\n"
                                  "    expose: [\"80\"]\n",
                                  0),
                         0);
        assert_int_equal(f.res.n_routes, 1);
        assert_string_equal(f.res.routes[0].host, "api.demo.stack.localhost");
        assert_int_equal(fx_apply(&f,
                                  WEB "    labels: {traefik.http.routers.w.rule: \"Host(`other.stack.localhost`)\"}\n"
                                      "    expose: [\"80\"]\n",
                                  0),
                         -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "'other.stack.localhost'"));
        assert_non_null(strstr(f.err.msg, "needs permission 'route'"));
        assert_int_equal(fx_apply(&f,
                                  WEB "    labels: {traefik.http.routers.w.rule: \"Host(`xdemo.stack.localhost`)\"}\n"
                                      "    expose: [\"80\"]\n",
                                  0),
                         -STACK_EREJECT);
        assert_int_equal(fx_apply(&f,
                                  WEB "    labels: {traefik.http.routers.w.rule: \"Host(`other.stack.localhost`)\"}\n"
                                      "    expose: [\"80\"]\n",
                                  PERM_ROUTE),
                         0);
        assert_string_equal(f.res.routes[0].host, "other.stack.localhost");
        /* dash.url naming another stack's address: the stack's own address instead */
        assert_int_equal(
                fx_apply(&f, WEB "    labels: {dash.url: \"https://other.stack.localhost\"}\n    expose: [\"80\"]\n",
                         0),
                0);
        assert_int_equal(f.res.n_routes, 1);
        assert_string_equal(f.res.routes[0].host, "demo.stack.localhost");
        fx_release(&f);
}

static void config_json_sets_the_limits(void **state)
{
        char path[PATH_MAX];
        const char *home = tl_tmpdir();
        struct policy_limits lim;
        struct error err = ERROR_INIT;
        const char *cfg = "{\"limits\": {\"cpus\": 1.5, \"memory\": \"2g\", \"pids\": 512, \"replicas\": 3}, "
                          "\"api_port\": 58000}";
        bool found = false;

        assert_int_equal(policy_limits_load(home, &lim, &err), 0); /* no file: the defaults */
        assert_int_equal(lim.memory, POLICY_DEFAULT_MEMORY);
        snprintf(path, sizeof path, "%s/" POLICY_CONFIG_FILE, home);
        assert_int_equal(fs_write_atomic(path, cfg, strlen(cfg), 0644), 0);
        assert_int_equal(policy_limits_load(home, &lim, &err), 0);
        assert_true(lim.cpus == 1.5);
        assert_int_equal(lim.memory, 2ULL << 30);
        assert_int_equal(lim.pids, 512);
        assert_int_equal(lim.replicas, 3);
        for (size_t i = 0; i < lim.n_reserved; i++)
                found |= lim.reserved[i] == 58000;
        assert_true(found);
        cfg = "{\"limits\": {\"memory\": \"lots\"}}";
        assert_int_equal(fs_write_atomic(path, cfg, strlen(cfg), 0644), 0);
        assert_int_equal(policy_limits_load(home, &lim, &err), -STACK_EUSAGE);
        assert_non_null(strstr(err.msg, "limits.memory"));
        error_clear(&err);
        cfg = "{\"limit\": {}}";
        assert_int_equal(fs_write_atomic(path, cfg, strlen(cfg), 0644), 0);
        assert_int_equal(policy_limits_load(home, &lim, &err), -STACK_EUSAGE);
        error_clear(&err);
        cfg = "{\"limits\": {\"pids\": 0}}";
        assert_int_equal(fs_write_atomic(path, cfg, strlen(cfg), 0644), 0);
        assert_int_equal(policy_limits_load(home, &lim, &err), -STACK_EUSAGE);
        error_clear(&err);
}

static void permission_names(void **state)
{
        assert_int_equal(policy_perm_from_name("ulimits"), PERM_ULIMITS);
        assert_int_equal(policy_perm_from_name("oom"), PERM_OOM);
        assert_int_equal(policy_perm_from_name("route"), PERM_ROUTE);
        assert_string_equal(policy_perm_name(PERM_ROUTE), "route");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_service_gets_the_default_limits),
                cmocka_unit_test(a_bundle_lowers_limits_and_never_raises_or_removes_them),
                cmocka_unit_test(replicas_are_bounded),
                cmocka_unit_test(ulimits_beyond_the_defaults_need_a_permission),
                cmocka_unit_test(oom_score_below_zero_needs_a_permission),
                cmocka_unit_test(reserved_ports_are_never_published),
                cmocka_unit_test(front_door_names_belong_to_their_stack),
                cmocka_unit_test(config_json_sets_the_limits),
                cmocka_unit_test(permission_names),
        };

        setenv("STACK_PROXY_PORT", "60443", 1);
        unsetenv("STACK_PROXY_HTTP_PORT");
        return cmocka_run_group_tests(tests, NULL, NULL);
}
