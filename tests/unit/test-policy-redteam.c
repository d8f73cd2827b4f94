/* test-policy-redteam.c - variants of issue 18's hostile bundles written to get around the checks that closed
 * them (each one confirmed on the real Engine before its fix; tests/e2e/policy-redteam.sh runs them there):
 * settings of the compose tool hidden in a bundle's .env, ... */
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

#include "run/composevars.h"
#include "run/policy.h"
#include "base/fsutil.h"
#include "store/manifest.h"
#include "store/tree.h"
#include "policyfx.h"
#include "testlib.h"

/* ---- paths compose may read another way ---- */

/* A backslash is a path separator to docker-compose 1.29 with COMPOSE_CONVERT_WINDOWS_PATHS set (by a bundle's
 * .env before it was refused, or by the person's shell, as Docker Desktop's guides say): `.\..\..\etc` was judged
 * a directory of the run dir and bound the host's /etc. */
static void a_bind_source_with_a_backslash_needs_host_bind(void **state)
{
        fx_refused(WEB "    volumes:\n      - {type: bind, source: '.\\..\\..\\..\\etc', target: /host}\n",
                   PERM_HOST_BIND, "volumes: bind of .\\..\\..\\..\\etc (a '\\' is a path separator", false);
        fx_refused(WEB "    volumes: ['.\\..\\..\\etc:/host']\n", PERM_HOST_BIND, "a '\\' is a path separator", true);
        fx_refused(WEB "    volumes: ['./a\\b:/x']\n", PERM_HOST_BIND, "a '\\' is a path separator", false);
        fx_accepted(WEB "    volumes: ['./state:/x', 'named:/y']\n");
}

/* ---- the run dir's own files ---- */

/* With `.:/app` writable, the container rewrote .stack-compose.yaml (the judged effective file) to bind /etc and
 * removed .stack-relaunch; the next `stack run` (the fast path: the run dir and its effective file reused) ran
 * compose on it, and the new container had the host's /etc read-write. The same for a writable bind of a
 * directory holding an included file's effective copy, or the .env compose reads. */
static void a_writable_bind_of_the_files_stack_writes_needs_host_bind(void **state)
{
        static const char *const shipped[] = {"a/", "a/b/", "a/b/f", "stacks/", "stacks/db.yaml", NULL};
        struct fx f;

        fx_init(&f, NULL, shipped);
        assert_int_equal(fx_apply(&f, WEB "    volumes: [\".:/app\"]\n", 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "writable bind of ., which holds the effective compose file"));
        assert_non_null(strstr(f.err.msg, "needs permission 'host-bind'"));
        assert_int_equal(fx_apply(&f, WEB "    volumes: [{type: bind, source: ./, target: /app}]\n", 0),
                         -STACK_EREJECT);
        assert_int_equal(fx_apply(&f, WEB "    volumes: [\".:/app\"]\n", PERM_HOST_BIND), 0);
        /* read-only, or a directory below */
        assert_int_equal(fx_apply(&f, WEB "    volumes: [\".:/app:ro\", \"./a:/a\"]\n", 0), 0);
        fx_release(&f);
}

/* A bind of a path the bundle does not ship goes to the data dir, where stack keeps stack.env: `./stack.env`
 * gave the container the person's remembered --env values, and what it wrote there (DOCKER_HOST=tcp://...) the
 * next run handed to docker-compose. */
static void a_bind_redirected_onto_stack_env_needs_host_bind(void **state)
{
        fx_refused(WEB "    volumes: [\"./stack.env:/x/stack.env\"]\n", PERM_HOST_BIND,
                   "volumes: bind of ./stack.env (in the data dir it is stack's own stack.env", false);
        fx_refused(WEB "    volumes: [\"./a/../stack.env/:/x\"]\n", PERM_HOST_BIND, "stack's own stack.env", true);
        fx_refused(WEB "    volumes: [{type: bind, source: ./stack.env, target: /x, read_only: true}]\n",
                   PERM_HOST_BIND, "stack's own stack.env", false);
        fx_accepted(WEB "    volumes: [\"./stack.envs:/x\", \"./conf/stack.env:/y\"]\n");
}

/* ---- secrets and configs: files compose binds ---- */

/* docker-compose binds a secret's file into the container. Under a writable bind of the same directory, the
 * container replaced state/s with a symlink to /etc/shadow and exited; dockerd's restart bound the host's
 * /etc/shadow at /run/secrets/s. */
static void a_secret_or_config_file_inside_a_writable_bind_needs_host_bind(void **state)
{
        static const char *const shipped[] = {"state/", "state/s", "a/", "a/b/", "a/b/f", NULL};
        struct fx f;

        fx_init(&f, NULL, shipped);
        assert_int_equal(fx_apply(&f,
                                  WEB "    volumes: [\"./state:/state\"]\n    secrets: [s]\nsecrets:\n  s: {file: "
                                      "./state/s}\n",
                                  0),
                         -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "bind of ./state/s inside the writable bind ./state"));
        assert_non_null(strstr(f.err.msg, "needs permission 'host-bind'"));
        assert_int_equal(
                fx_apply(&f, WEB "    volumes: [\"./a:/app\"]\n    configs: [c]\nconfigs:\n  c: {file: a/b/f}\n", 0),
                -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "bind of ./a/b/f inside the writable bind ./a"));
        /* read-only, or not under the bind: nothing can be swapped */
        assert_int_equal(fx_apply(&f,
                                  WEB "    volumes: [\"./state:/state:ro\"]\n    secrets: [s]\nsecrets:\n  s: {file: "
                                      "./state/s}\n",
                                  0),
                         0);
        assert_int_equal(fx_apply(&f,
                                  WEB "    volumes: [\"./data:/data\"]\n    secrets: [s]\nsecrets:\n  s: {file: "
                                      "./state/s}\n",
                                  0),
                         0);
        fx_release(&f);
}

/* ---- networks: the host's routes and interfaces ---- */

/* A subnet of the bundle's choosing became a route on the host: with 198.51.100.0/24 the host's own traffic to
 * 198.51.100.7 (before: via its default gateway) went to the stack's container holding that address. The bridge
 * driver's options took the host's interfaces (com.docker.network.bridge.name: docker0 put the stack on the
 * default bridge's wire). */
static void network_addresses_and_bridge_options_need_host_network(void **state)
{
        fx_refused(WEB "    networks: {n: {ipv4_address: 198.51.100.7}}\nnetworks:\n  n: {ipam: {config: [{subnet: "
                       "198.51.100.0/24}]}}\n",
                   PERM_HOST_NETWORK, "network 'n': ipam.config (addresses the host then routes to the stack)", false);
        fx_refused(WEB "networks:\n  default: {ipam: {config: [{ip_range: 10.255.255.0/24}]}}\n", PERM_HOST_NETWORK,
                   "network 'default': ipam.config", true);
        fx_refused(WEB "networks:\n  n: {ipam: {config: {subnet: 10.0.0.0/8}}}\n", PERM_HOST_NETWORK, "ipam.config",
                   false);
        fx_refused(WEB "networks:\n  n: {ipam: {driver: infoblox}}\n", PERM_HOST_NETWORK, "ipam.driver: infoblox",
                   false);
        fx_refused(WEB "networks:\n  n: {driver_opts: {com.docker.network.bridge.name: docker0}}\n", PERM_HOST_NETWORK,
                   "network 'n': driver_opts.com.docker.network.bridge.name (a setting of the host's network)", false);
        fx_refused(WEB "networks:\n  n: {driver: bridge, driver_opts: {com.docker.network.driver.mtu: 1400, "
                       "com.docker.network.bridge.gateway_mode_ipv4: routed}}\n",
                   PERM_HOST_NETWORK, "driver_opts.com.docker.network.bridge.gateway_mode_ipv4", false);
        fx_accepted(WEB "networks:\n  n: {driver: bridge, driver_opts: {com.docker.network.driver.mtu: 1400}}\n");
        fx_accepted(WEB "networks:\n  n: {ipam: {driver: default, config: []}}\n  m: {internal: true}\n");
}

/* ---- build ---- */

/* The classic builder (docker-compose 1.29) runs a RUN step on the network build.network names: with another
 * stack's `stack-vic_default` it read that stack's unpublished service. buildx (compose v2) reads and writes
 * local cache directories on the host. */
static void build_networks_and_local_caches_stay_in_the_stack(void **state)
{
        fx_refused(WEB "    build: {context: ., network: stack-vic_default}\n", PERM_EXTERNAL,
                   "build.network: stack-vic_default (a network outside the stack)", true);
        fx_refused(WEB "    build: {context: ., network: stack-vic_default}\n", PERM_EXTERNAL, "build.network", false);
        fx_refused(WEB "    build: {context: ., network: \"container:stack-vic-db-1\"}\n", PERM_OTHER_CONTAINERS,
                   "build.network: container:stack-vic-db-1 (another container's network)", false);
        fx_refused(WEB "    build: {context: ., cache_from: [\"type=local,src=/etc\"]}\n", PERM_HOST_BIND,
                   "build.cache_from: type=local,src=/etc (a host path)", false);
        fx_refused(WEB "    build: {context: ., cache_to: [\"type=local,dest=/tmp/x\"]}\n", PERM_HOST_BIND,
                   "build.cache_to: type=local,dest=/tmp/x", false);
        fx_accepted(WEB "    build: {context: ., network: none, cache_from: [nginx:latest]}\n");
        fx_accepted(WEB "    build: {context: ., network: default}\n");
}

/* ---- logging ---- */

/* Without a driver the options go to the daemon's default driver: on a daemon whose default is syslog, fluentd
 * or gelf, `syslog-address: tcp://127.0.0.1:PORT` (the host-loopback case) would be obeyed. */
static void logging_options_without_a_driver_need_logging(void **state)
{
        fx_refused(WEB "    logging: {options: {syslog-address: \"tcp://127.0.0.1:1\"}}\n", PERM_LOGGING,
                   "logging.options.syslog-address without a driver", false);
        fx_refused(WEB "    logging: {options: {max-size: 10m, fluentd-address: \"127.0.0.1:24224\"}}\n", PERM_LOGGING,
                   "logging.options.fluentd-address without a driver", false);
        fx_accepted(WEB "    logging: {options: {max-size: 10m, max-file: \"3\", tag: x}}\n");
        fx_accepted(WEB "    logging: {driver: json-file, options: {max-size: 10m}}\n");
        fx_accepted(WEB "    logging: {options: {}}\n");
}

/* ---- the compose tool's settings in a bundle's .env ---- */

static void dotenv_may_not_set_the_compose_tools_settings(void **state)
{
        static const char *const refused_keys[] = {"DOCKER_HOST",
                                                   "DOCKER_TLS_VERIFY",
                                                   "DOCKER_CERT_PATH",
                                                   "DOCKER_CONTEXT",
                                                   "DOCKER_CONFIG",
                                                   "docker_host",
                                                   "COMPOSE_CONVERT_WINDOWS_PATHS",
                                                   "COMPOSE_FORCE_WINDOWS_HOST",
                                                   "COMPOSE_FILE",
                                                   "COMPOSE_PATH_SEPARATOR",
                                                   "compose_file",
                                                   "COMPOSE_DOCKER_CLI_BUILD",
                                                   "COMPOSE_API_VERSION",
                                                   "DOCKER_BUILDKIT",
                                                   "Docker_Tls_Verify",
                                                   "COMPOSE_IGNORE_ORPHANS"};
        static const char *const allowed_keys[] = {"COMPOSE_PROJECT_NAME",
                                                   "COMPOSE_PROFILES",
                                                   "PROJECT",
                                                   "DOMAIN",
                                                   "DOCKER",
                                                   "COMPOSE",
                                                   "MY_DOCKER_HOST",
                                                   "POSTGRES_PASSWORD",
                                                   "DOCKER_SOCKET_LOCATION",
                                                   "DOCKER_GID",
                                                   "COMPOSE_HTTP_TIMEOUT"};
        size_t i;

        for (i = 0; i < sizeof refused_keys / sizeof refused_keys[0]; i++)
                if (policy_dotenv_key_allowed(refused_keys[i]))
                        fail_msg("a bundle's .env may set %s", refused_keys[i]);
        for (i = 0; i < sizeof allowed_keys / sizeof allowed_keys[0]; i++)
                if (!policy_dotenv_key_allowed(allowed_keys[i]))
                        fail_msg("a bundle's .env may not set %s", allowed_keys[i]);
}

static int count_binding(void *ctx, const char *key, const char *value)
{
        (void)key, (void)value;
        ++*(int *)ctx;
        return 0;
}

/* python-dotenv (docker-compose 1.29) ends a line at a lone \r: `A=x\rDOCKER_HOST=tcp://...` is two bindings
 * there, one value here. Refused, whatever the key after it. */
static void a_lone_carriage_return_is_not_valid_dotenv(void **state)
{
        static const char *const texts[] = {"A=x\rDOCKER_HOST=tcp://127.0.0.1:1\n", "# c\rDOCKER_HOST=tcp://x:1\n",
                                            "A=\"x\rDOCKER_HOST=tcp://x:1\"\n", "A=1\r", "A=1\nB=2\r\rC=3\n"};
        struct error err = ERROR_INIT;
        size_t i;
        int n = 0;

        for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
                error_clear(&err);
                if (dotenv_parse(texts[i], strlen(texts[i]), ".env", NULL, NULL, count_binding, &n, &err) !=
                    -STACK_EREJECT)
                        fail_msg("accepted: %s", texts[i]);
                if (!strstr(err.msg, "carriage return"))
                        fail_msg("message '%s'", err.msg);
        }
        assert_int_equal(n, 0);
        /* \r\n line ends stay fine */
        error_clear(&err);
        assert_int_equal(dotenv_parse("A=1\r\nB=\"2\r\n3\"\r\n", 15, ".env", NULL, NULL, count_binding, &n, &err), 0);
        assert_int_equal(n, 2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(a_bind_source_with_a_backslash_needs_host_bind),
                cmocka_unit_test(a_writable_bind_of_the_files_stack_writes_needs_host_bind),
                cmocka_unit_test(a_bind_redirected_onto_stack_env_needs_host_bind),
                cmocka_unit_test(a_secret_or_config_file_inside_a_writable_bind_needs_host_bind),
                cmocka_unit_test(network_addresses_and_bridge_options_need_host_network),
                cmocka_unit_test(build_networks_and_local_caches_stay_in_the_stack),
                cmocka_unit_test(logging_options_without_a_driver_need_logging),
                cmocka_unit_test(dotenv_may_not_set_the_compose_tools_settings),
                cmocka_unit_test(a_lone_carriage_return_is_not_valid_dotenv),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
