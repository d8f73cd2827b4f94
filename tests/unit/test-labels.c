/* test-labels.c - routes from traefik labels (run/labels.h), with labels as the catalog's hub writes them
 * (after ${PROJECT}.${DOMAIN} was resolved by the caller).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "run/labels.h"

static char warnings[4096];
static int n_warnings;

static void collect(void *ctx, const char *line)
{
        (void)ctx;
        n_warnings++;
        strncat(warnings, line, sizeof warnings - strlen(warnings) - 2);
        strcat(warnings, "\n");
}

static void routes_of(const struct label *l, size_t n, int exposed, struct label_routes *r)
{
        struct error err = ERROR_INIT;

        warnings[0] = '\0';
        n_warnings = 0;
        assert_int_equal(labels_routes(l, n, exposed, r, collect, NULL, &err), 0);
}

static void hub_router_routes_its_host_to_the_loadbalancer_port(void **state)
{
        static const struct label l[] = {
                {"traefik.enable", "true"},
                {"traefik.http.routers.wordpress.rule", "Host(`wordpress.stack.localhost`)"},
                {"traefik.http.routers.wordpress.entrypoints", "websecure"},
                {"traefik.http.routers.wordpress.tls", "true"},
                {"traefik.http.services.wordpress.loadbalancer.server.port", "8080"},
        };
        struct label_routes r;

        (void)state;
        routes_of(l, sizeof l / sizeof *l, 0, &r);
        assert_int_equal(r.n, 1);
        assert_string_equal(r.v[0].host, "wordpress.stack.localhost");
        assert_string_equal(r.v[0].router, "wordpress");
        assert_int_equal(r.v[0].port, 8080);
        assert_int_equal(n_warnings, 0);
}

static void host_with_two_names_and_or_joined_hosts_give_one_route_each(void **state)
{
        static const struct label l[] = {
                {"traefik.http.routers.web.rule",
                 "Host(`a.stack.localhost`, `b.stack.localhost`) || Host(\"C.Stack.Localhost\")"},
                {"traefik.http.services.web.loadbalancer.server.port", " 3000 "},
        };
        struct label_routes r;

        (void)state;
        routes_of(l, sizeof l / sizeof *l, 0, &r);
        assert_int_equal(r.n, 3);
        assert_string_equal(r.v[0].host, "a.stack.localhost");
        assert_string_equal(r.v[1].host, "b.stack.localhost");
        assert_string_equal(r.v[2].host, "c.stack.localhost");
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(r.v[i].port, 3000);
}

static void router_without_port_label_uses_the_single_exposed_port(void **state)
{
        static const struct label l[] = {{"traefik.http.routers.app.rule", "Host(`app.stack.localhost`)"}};
        struct label_routes r;

        (void)state;
        routes_of(l, 1, 5000, &r);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.v[0].port, 5000);
        routes_of(l, 1, 0, &r);
        assert_int_equal(r.n, 0);
        assert_int_equal(n_warnings, 1);
        assert_non_null(strstr(warnings, "router app: no port"));
}

static void router_uses_its_named_service_or_the_only_one(void **state)
{
        static const struct label named[] = {
                {"traefik.http.routers.front.rule", "Host(`x.stack.localhost`)"},
                {"traefik.http.routers.front.service", "back"},
                {"traefik.http.services.other.loadbalancer.server.port", "1111"},
                {"traefik.http.services.back.loadbalancer.server.port", "2222"},
        };
        static const struct label only[] = {
                {"traefik.http.routers.front.rule", "Host(`x.stack.localhost`)"},
                {"traefik.http.services.svc.loadbalancer.server.port", "3333"},
        };
        struct label_routes r;

        (void)state;
        routes_of(named, 4, 0, &r);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.v[0].port, 2222);
        routes_of(only, 2, 0, &r);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.v[0].port, 3333);
}

static void names_outside_stack_localhost_are_warned_about_and_not_routed(void **state)
{
        static const struct label l[] = {
                {"traefik.http.routers.w.rule", "Host(`w.example.com`) || Host(`w.stack.localhost`)"},
                {"traefik.http.services.w.loadbalancer.server.port", "80"},
        };
        struct label_routes r;

        (void)state;
        routes_of(l, 2, 0, &r);
        assert_int_equal(r.n, 1);
        assert_string_equal(r.v[0].host, "w.stack.localhost");
        assert_int_equal(n_warnings, 1);
        assert_non_null(strstr(warnings, "w.example.com is not a name under stack.localhost"));
}

static void unreadable_rules_are_warned_about_by_label_name(void **state)
{
        static const struct label l[] = {
                {"traefik.http.routers.a.rule", "Host(`a.stack.localhost`) && PathPrefix(`/api`)"},
                {"traefik.http.routers.b.rule", "HostRegexp(`{sub:.+}.stack.localhost`)"},
                {"traefik.http.routers.c.rule", "Host(`c.stack.localhost`"},
                {"traefik.http.routers.d.rule", "Host(`$${PROJECT}.stack.localhost`)"},
                {"traefik.http.services.a.loadbalancer.server.port", "80"},
        };
        struct label_routes r;

        (void)state;
        routes_of(l, 5, 0, &r);
        assert_int_equal(r.n, 0);
        assert_int_equal(n_warnings, 4);
        assert_non_null(strstr(warnings, "label traefik.http.routers.a.rule: cannot read the rule"));
        assert_non_null(strstr(warnings, "label traefik.http.routers.b.rule"));
        assert_non_null(strstr(warnings, "label traefik.http.routers.c.rule"));
        assert_non_null(strstr(warnings, "$${project}.stack.localhost is not a name"));
}

static void traefik_enable_false_routes_nothing(void **state)
{
        static const struct label l[] = {
                {"traefik.enable", "false"},
                {"traefik.http.routers.a.rule", "Host(`a.stack.localhost`)"},
        };
        struct label_routes r;

        (void)state;
        routes_of(l, 2, 80, &r);
        assert_int_equal(r.n, 0);
        assert_int_equal(n_warnings, 0);
}

static void host_names_are_checked_label_by_label(void **state)
{
        (void)state;
        assert_true(labels_host_ok("a.stack.localhost"));
        assert_true(labels_host_ok("my-app.v2.stack.localhost"));
        assert_false(labels_host_ok("stack.localhost"));
        assert_false(labels_host_ok(".stack.localhost"));
        assert_false(labels_host_ok("a..stack.localhost"));
        assert_false(labels_host_ok("-a.stack.localhost"));
        assert_false(labels_host_ok("A.stack.localhost"));
        assert_false(labels_host_ok("a_b.stack.localhost"));
        assert_false(labels_host_ok("a.stack.localhost.evil.com"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(hub_router_routes_its_host_to_the_loadbalancer_port),
                cmocka_unit_test(host_with_two_names_and_or_joined_hosts_give_one_route_each),
                cmocka_unit_test(router_without_port_label_uses_the_single_exposed_port),
                cmocka_unit_test(router_uses_its_named_service_or_the_only_one),
                cmocka_unit_test(names_outside_stack_localhost_are_warned_about_and_not_routed),
                cmocka_unit_test(unreadable_rules_are_warned_about_by_label_name),
                cmocka_unit_test(traefik_enable_false_routes_nothing),
                cmocka_unit_test(host_names_are_checked_label_by_label),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
