/* test-approval.c - what a request approves, read from the version in the store (orch/approval.h): signer and
 * fingerprint, the permissions stack.yaml asks for and which are granted, ports, the front door, limits lowered
 * by stack.yaml, a version not in the store yet; the notification's line; the icon served from the store and
 * every icon that is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/approval.h"
#include "run/policy.h"
#include "run/runs.h"
#include "testlib.h"

#define SVG "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"8\" height=\"8\"/>"

/* A version of slug whose stack.yaml says `extra` (icon, permissions, ports, resources). */
static void import(struct store *s, const char *slug, const char *extra)
{
        struct error err = ERROR_INIT;
        char yaml[2048], compose[256];
        struct tl_entry e[3] = {{0}};

        snprintf(yaml, sizeof yaml,
                 "slug: %s\nname: N\nflavor: DockerCompose\nversion: \"1.0\"\ndescription: d\nauthor: a\n"
                 "license: MIT\n%s",
                 slug, extra);
        snprintf(compose, sizeof compose, "services:\n  web:\n    image: busybox\n");
        e[0] = (struct tl_entry){.path = "stack.yaml", .type = 'f', .data = yaml, .len = strlen(yaml)};
        e[1] = (struct tl_entry){.path = "compose.yaml", .type = 'f', .data = compose, .len = strlen(compose)};
        e[2] = (struct tl_entry){.path = "icon.svg", .type = 'f', .data = SVG, .len = strlen(SVG)};
        assert_int_equal(tl_import(s, TL_ZSTD, e, 3, NULL, NULL, &err), 0);
}

static json_t *describe(struct store *s, const char *ref)
{
        struct error err = ERROR_INIT;
        json_t *a = NULL;

        assert_int_equal(approval_describe(s, NULL, ref, &a, &err), 0);
        assert_non_null(a);
        return a;
}

static void approval_says_signer_permissions_ports_limits(void **state)
{
        struct store *s = tl_store_new();
        struct error err = ERROR_INIT;
        char sql[256], line[512];
        json_t *a, *p;

        import(s, "web",
               "icon: icon.svg\npermissions: {privileged: true, host-bind: true, cap-add: false, nonsense: true}\n"
               "ports: [{service: web, port: 8080, label: Site}]\nresources: {memory: 256m, pids: 100}\n");
        assert_int_equal(allows_set(s, "web", PERM_HOST_BIND, &err), 0);
        a = describe(s, "web");
        assert_true(json_is_true(json_object_get(a, "in_store")));
        assert_true(json_is_null(json_object_get(a, "signer")));
        assert_true(json_is_null(json_object_get(a, "fingerprint")));
        p = json_object_get(a, "permissions"); /* asked for (false and unknown names left out), in the file's order */
        assert_int_equal(json_array_size(p), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(p, 0), "name")), "privileged");
        assert_true(json_is_false(json_object_get(json_array_get(p, 0), "granted")));
        assert_string_equal(json_string_value(json_object_get(json_array_get(p, 1), "name")), "host-bind");
        assert_true(json_is_true(json_object_get(json_array_get(p, 1), "granted")));
        p = json_array_get(json_object_get(a, "ports"), 0);
        assert_string_equal(json_string_value(json_object_get(p, "service")), "web");
        assert_int_equal(json_integer_value(json_object_get(p, "port")), 8080);
        assert_string_equal(json_string_value(json_object_get(p, "label")), "Site");
        assert_int_equal(strncmp(json_string_value(json_array_get(json_object_get(a, "addresses"), 0)),
                                 "https://web.stack.localhost", 27),
                         0);
        p = json_object_get(a, "limits");
        assert_int_equal(json_integer_value(json_object_get(p, "memory")), 256 << 20);
        assert_int_equal(json_integer_value(json_object_get(p, "pids")), 100);
        assert_true(json_is_null(json_object_get(json_object_get(p, "requested"), "cpus")));
        assert_true(json_integer_value(json_object_get(a, "size")) > 0);
        assert_true(json_is_true(json_object_get(a, "icon")));
        p = json_object_get(a, "images"); /* the compose file's, neither in the bundle nor pinned */
        assert_int_equal(json_array_size(p), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(p, 0), "ref")), "busybox");
        assert_string_equal(json_string_value(json_object_get(json_array_get(p, 0), "source")), "compose");
        assert_true(json_is_null(json_object_get(json_array_get(p, 0), "size")));
        assert_true(json_is_false(json_object_get(json_array_get(p, 0), "cached"))); /* no Engine asked */
        approval_summary(a, line, sizeof line);
        assert_string_equal(line, "unsigned; asks for privileged, host-bind (granted)");
        json_decref(a);

        /* signed: the key's name and its fingerprint apart */
        snprintf(sql, sizeof sql, "UPDATE versions SET signer = 'demo key (sha256:0123456789abcdef)'");
        assert_int_equal(tl_sql(store_home(s), sql), 0);
        a = describe(s, "web@1.0");
        assert_string_equal(json_string_value(json_object_get(a, "signer")), "demo key");
        assert_string_equal(json_string_value(json_object_get(a, "fingerprint")), "sha256:0123456789abcdef");
        approval_summary(a, line, sizeof line);
        assert_string_equal(line,
                            "signed by demo key sha256:0123456789abcdef; asks for privileged, host-bind (granted)");
        json_decref(a);
        store_free(s);
}

static void approval_of_a_version_not_in_the_store_says_so(void **state)
{
        struct store *s = tl_store_new();
        char line[256];
        json_t *a = describe(s, "absent@2.0");

        assert_true(json_is_false(json_object_get(a, "in_store")));
        assert_null(json_object_get(a, "signer"));
        approval_summary(a, line, sizeof line);
        assert_string_equal(line, "not in the store yet: fetched once approved");
        json_decref(a);
        store_free(s);
}

static void approval_without_permissions_says_none(void **state)
{
        struct store *s = tl_store_new();
        char line[256];
        json_t *a;

        import(s, "plain", "");
        a = describe(s, "plain");
        assert_int_equal(json_array_size(json_object_get(a, "permissions")), 0);
        assert_true(json_is_false(json_object_get(a, "icon")));
        approval_summary(a, line, sizeof line);
        assert_string_equal(line, "unsigned; no permission beyond the sandbox");
        json_decref(a);
        store_free(s);
}

static int icon_of(struct store *s, const char *slug, char **data, size_t *len, const char **type)
{
        struct error err = ERROR_INIT;

        *data = NULL;
        return approval_icon(s, slug, data, len, type, &err);
}

static void icon_comes_from_the_store(void **state)
{
        struct store *s = tl_store_new();
        const char *type = NULL;
        char *data;
        size_t len = 0;

        import(s, "pic", "icon: ./icon.svg\n");
        assert_int_equal(icon_of(s, "pic", &data, &len, &type), 0);
        assert_int_equal(len, strlen(SVG));
        assert_memory_equal(data, SVG, len);
        assert_string_equal(type, "image/svg+xml");
        free(data);
        store_free(s);
}

static void icon_refused_when_not_a_bundle_image(void **state)
{
        static const char *const bad[] = {
                "",                                      /* no icon */
                "icon: https://evil.example/icon.png\n", /* a URL is never fetched */
                "icon: compose.yaml\n",                  /* not an image type */
                "icon: ../../etc/passwd.png\n",          /* outside the bundle */
                "icon: missing.png\n",                   /* a file the bundle lacks */
        };
        struct store *s = tl_store_new();
        const char *type;
        char slug[32], *data;
        size_t len;

        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                snprintf(slug, sizeof slug, "bad%zu", i);
                import(s, slug, bad[i]);
                assert_int_equal(icon_of(s, slug, &data, &len, &type), -STACK_ENOTFOUND);
                assert_null(data);
        }
        assert_int_equal(icon_of(s, "unknown", &data, &len, &type), -STACK_ENOTFOUND);
        store_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(approval_says_signer_permissions_ports_limits),
                cmocka_unit_test(approval_of_a_version_not_in_the_store_says_so),
                cmocka_unit_test(approval_without_permissions_says_none),
                cmocka_unit_test(icon_comes_from_the_store),
                cmocka_unit_test(icon_refused_when_not_a_bundle_image),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
