/* test-swarm-registry.c - the pure parts of the managed registry (run/swarm-registry.h): its settings in
 * config.json, the name an image is pushed under, the config.yml it runs with, and the one split of an image
 * reference they share with the Engine client (run/engine.h). The process itself: tests/e2e/swarm-registry.sh.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/fsutil.h"
#include "run/engine.h"
#include "run/policy.h"
#include "run/swarm-registry.h"
#include "testlib.h"

#define ID "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void target_is(const char *ref, const char *want)
{
        char out[512];

        assert_int_equal(swreg_target("127.0.0.1:45000", ref, ID, out, sizeof out), 0);
        assert_string_equal(out, want);
}

static void reference_splits_at_its_host_and_tag(void **state)
{
        static const struct {
                const char *ref;
                size_t domain, repo;
        } t[] = {
                {"nginx", 0, 5},
                {"nginx:1.25", 0, 5},
                {"library/nginx", 0, 13},
                {"ghcr.io/o/app:1", 7, 13},
                {"127.0.0.1:5000/app", 14, 18},
                {"127.0.0.1:5000/app:2", 14, 18},
                {"localhost/app", 9, 13},
                {"local/app", 0, 9},
                {"app@sha256:ab", 0, 3},
                {"app:1@sha256:ab", 0, 3},
        };

        (void)state;
        for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
                if (engine_ref_domain_len(t[i].ref) != t[i].domain || engine_ref_repo_len(t[i].ref) != t[i].repo)
                        fail_msg("%s: domain %zu repo %zu, want %zu %zu", t[i].ref, engine_ref_domain_len(t[i].ref),
                                 engine_ref_repo_len(t[i].ref), t[i].domain, t[i].repo);
        }
}

static void push_target_keeps_path_and_tag_without_the_source_registry(void **state)
{
        (void)state;
        target_is("nginx", "127.0.0.1:45000/nginx:latest");
        target_is("nginx:1.25", "127.0.0.1:45000/nginx:1.25");
        target_is("docker.io/library/nginx:1.25", "127.0.0.1:45000/library/nginx:1.25");
        target_is("127.0.0.1:5000/stacktest/app1:1", "127.0.0.1:45000/stacktest/app1:1");
        target_is("ghcr.io/o/app:1@sha256:ab", "127.0.0.1:45000/o/app:1");
        target_is("ghcr.io/o/app@sha256:ab", "127.0.0.1:45000/o/app:stack-0123456789ab");
}

static void push_target_refuses_a_reference_without_a_name(void **state)
{
        char out[64];

        (void)state;
        assert_int_equal(swreg_target("h:1", "ghcr.io/", ID, out, sizeof out), -EINVAL);
        assert_int_equal(swreg_target("h:1", "", ID, out, sizeof out), -EINVAL);
        assert_int_equal(swreg_target("h:1", "a/very/long/name/that/does/not/fit:1", ID, out, 16), -ENAMETOOLONG);
}

static void config_quotes_paths_and_listens_where_told(void **state)
{
        char buf[4096];

        (void)state;
        assert_int_equal(swreg_config_text("/home/a \"b\"/registry", "[::1]:45000", buf, sizeof buf), 0);
        assert_non_null(strstr(buf, "    rootdirectory: \"/home/a \\\"b\\\"/registry/data\"\n"));
        assert_non_null(strstr(buf, "\n  addr: \"[::1]:45000\"\n"));
        assert_non_null(strstr(buf, "  delete:\n    enabled: true\n"));
        assert_int_equal(swreg_config_text("/r", "127.0.0.1:1", buf, 64), -ENAMETOOLONG);
}

/* Writes config.json in a fresh home and loads it. */
static int load(const char *json, struct swreg_options *o, char *buf, size_t size, struct error *err)
{
        const char *home = tl_tmpdir();
        char path[512];

        snprintf(path, sizeof path, "%s/config.json", home);
        if (json)
                assert_int_equal(fs_write_atomic(path, json, strlen(json), 0600), 0);
        return swreg_options_load(home, o, buf, size, err);
}

/* config.json's "swarm" object as every command reads config.json (policy_limits_load): default and engines
 * checked there, a bad one refused naming the key. */
static int limits_load(const char *json, struct error *err)
{
        const char *home = tl_tmpdir();
        struct policy_limits l;
        char path[512];

        snprintf(path, sizeof path, "%s/config.json", home);
        assert_int_equal(fs_write_atomic(path, json, strlen(json), 0600), 0);
        return policy_limits_load(home, &l, err);
}

static void swarm_settings_are_checked_with_the_rest_of_config_json(void **state)
{
        struct error err = ERROR_INIT;

        (void)state;
        assert_int_equal(
                limits_load("{\"swarm\": {\"default\": true, \"engines\": {\"n2\": \"unix:///run/n2.sock\"}}}", &err),
                0);
        assert_int_equal(limits_load("{\"swarm\": {\"default\": \"yes\"}}", &err), -STACK_EUSAGE);
        assert_non_null(strstr(err.msg, "swarm.default"));
        error_clear(&err);
        assert_int_equal(limits_load("{\"swarm\": {\"engines\": {\"n2\": \"tcp://10.0.0.2:2375\"}}}", &err),
                         -STACK_EUSAGE);
        assert_non_null(strstr(err.msg, "swarm.engines.n2"));
        error_clear(&err);
        assert_int_equal(limits_load("{\"swarm\": [1]}", &err), -STACK_EUSAGE);
        assert_non_null(strstr(err.msg, "swarm"));
}

static void settings_default_without_a_file_or_a_swarm_object(void **state)
{
        struct swreg_options o;
        struct error err = ERROR_INIT;
        char buf[256];

        (void)state;
        assert_int_equal(load(NULL, &o, buf, sizeof buf, &err), 0);
        assert_null(o.listen_addr);
        assert_null(o.named);
        assert_int_equal(o.port, 0);
        assert_int_equal(load("{\"images\": {\"keep\": true}}", &o, buf, sizeof buf, &err), 0);
        assert_null(o.named);
}

static void settings_are_read(void **state)
{
        struct swreg_options o;
        struct error err = ERROR_INIT;
        char buf[256];

        (void)state;
        assert_int_equal(load("{\"swarm\": {\"default\": true, \"registry_port\": 45001, \"registry_addr\": "
                              "\"10.0.0.2\", \"engines\": {}}}",
                              &o, buf, sizeof buf, &err),
                         0);
        assert_int_equal(o.port, 45001);
        assert_string_equal(o.listen_addr, "10.0.0.2");
        assert_null(o.named);
        assert_int_equal(load("{\"swarm\": {\"registry\": \"registry.lan:5000\", \"registry_addr\": \"fd00::2\"}}", &o,
                              buf, sizeof buf, &err),
                         0);
        assert_string_equal(o.named, "registry.lan:5000");
        assert_string_equal(o.listen_addr, "fd00::2");
}

static void bad(const char *json, const char *want)
{
        struct swreg_options o;
        struct error err = ERROR_INIT;
        char buf[256];

        assert_int_equal(load(json, &o, buf, sizeof buf, &err), -STACK_EUSAGE);
        assert_non_null(strstr(err.msg, "config.json: "));
        if (!strstr(err.msg, want))
                fail_msg("message [%s] lacks [%s]", err.msg, want);
        assert_null(o.named);
        assert_int_equal(o.port, 0);
}

static void bad_settings_are_usage_errors_naming_the_key(void **state)
{
        (void)state;
        bad("{\"swarm\": 1}", "\"swarm\" must be an object");
        bad("{\"swarm\": {\"registry_port\": 0}}", "\"swarm.registry_port\" must be a port (1-65535)");
        bad("{\"swarm\": {\"registry_port\": 65536}}", "\"swarm.registry_port\" must be a port");
        bad("{\"swarm\": {\"registry_port\": \"45000\"}}", "\"swarm.registry_port\" must be a port");
        bad("{\"swarm\": {\"registry_addr\": \"localhost\"}}", "\"swarm.registry_addr\" must be an IP address");
        bad("{\"swarm\": {\"registry_addr\": \"10.0.0.300\"}}", "\"swarm.registry_addr\" must be an IP address");
        bad("{\"swarm\": {\"registry\": \"https://r.example\"}}", "\"swarm.registry\" must be a registry's host");
        bad("{\"swarm\": {\"registry\": \"r.example/v2\"}}", "\"swarm.registry\" must be a registry's host");
        bad("{\"swarm\": {\"registry\": \"\"}}", "\"swarm.registry\" must be a registry's host");
        bad("{\"swarm\": {\"registry\": 5000}}", "\"swarm.registry\" must be a registry's host");
        bad("{\"swarm\": {\"registry_host\": \"r\"}}", "unknown key \"swarm.registry_host\"");
        bad("{\"swarm\": {\"registry_port\": 1, \"registry_port\": 2}}", "duplicate");
        bad("{\"swarm\": ", "line 1");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(reference_splits_at_its_host_and_tag),
                cmocka_unit_test(push_target_keeps_path_and_tag_without_the_source_registry),
                cmocka_unit_test(push_target_refuses_a_reference_without_a_name),
                cmocka_unit_test(config_quotes_paths_and_listens_where_told),
                cmocka_unit_test(settings_default_without_a_file_or_a_swarm_object),
                cmocka_unit_test(swarm_settings_are_checked_with_the_rest_of_config_json),
                cmocka_unit_test(settings_are_read),
                cmocka_unit_test(bad_settings_are_usage_errors_naming_the_key),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
