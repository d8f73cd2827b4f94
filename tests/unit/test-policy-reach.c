/* test-policy-reach.c - what a compose file may reach outside its own stack (spec/run.md "Refused unless
 * granted"): volume drivers and driver_opts mounts, names outside the project, other containers' namespaces,
 * build contexts and dockerfiles, logging drivers, sysctls and runtimes, bind sources a container can redirect. */
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

/* ---- volumes ---- */

static void volume_drivers_other_than_local_need_volume_driver(void **state)
{
        fx_refused(WEB "    volumes: [\"v:/v\"]\nvolumes:\n  v:\n    driver: rclone\n", PERM_VOLUME_DRIVER,
                   "volume 'v': driver: rclone", false);
        fx_refused(WEB "    volume_driver: flocker\n", PERM_VOLUME_DRIVER, "service 'web': volume_driver: flocker",
                   false);
        fx_accepted(WEB "    volumes: [\"v:/v\"]\nvolumes:\n  v:\n    driver: local\n");
}

static void driver_opts_mounting_host_filesystems_need_host_bind(void **state)
{
        static const char *const docs[][2] = {
                {"    driver_opts: {type: proc, device: proc}\n", "driver_opts type: proc, device: proc"},
                {"    driver_opts: {type: overlay, device: overlay, o: \"lowerdir=/etc,upperdir=/u,workdir=/w\"}\n",
                 "driver_opts type: overlay"},
                {"    driver_opts: {type: ext4, device: /dev/vda}\n", "driver_opts type: ext4, device: /dev/vda"},
                {"    driver_opts: {type: nfs, o: \"addr=127.0.0.1\", device: \":/x\"}\n", "driver_opts type: nfs"},
                {"    driver_opts: {type: tmpfs, device: tmpfs, o: \"size=1m,dev\"}\n", "driver_opts type: tmpfs"},
                {"    driver_opts: {type: tmpfs, device: /dev/vda}\n", "driver_opts type: tmpfs"},
                {"    driver_opts: {type: none, o: bind, device: /etc}\n", "driver_opts.device '/etc' (a host path)"},
                /* v2 makes a relative device absolute only for driver: local and o: bind exactly */
                {"    driver_opts: {type: none, o: \"bind,rw\", device: etc}\n", "driver_opts.device 'etc' (compose"},
                {"    driver_opts: {type: tmpfs, device: tmpfs, copy: /etc}\n", "driver_opts.copy"},
        };
        char yaml[512];
        size_t i;

        for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
                snprintf(yaml, sizeof yaml, WEB "    volumes: [\"v:/v\"]\nvolumes:\n  v:\n%s", docs[i][0]);
                fx_refused(yaml, PERM_HOST_BIND, docs[i][1], false);
        }
        /* docker-compose 1.29 never makes a relative device absolute: the Engine would read it from its own / */
        fx_refused(WEB "    volumes: [\"v:/v\"]\nvolumes:\n  v:\n    driver: local\n"
                       "    driver_opts: {type: none, o: bind, device: etc}\n",
                   PERM_HOST_BIND, "driver_opts.device 'etc' (compose passes it on as written", true);
        /* a tmpfs (the catalog's kong shape) and a bind of the bundle's own directory ask for nothing */
        fx_accepted(WEB "    volumes: [\"v:/v\"]\nvolumes:\n  v:\n    driver_opts: {type: tmpfs, device: tmpfs}\n");
        fx_accepted(WEB "    volumes: [\"v:/v\"]\nvolumes:\n  v:\n    driver_opts: {type: tmpfs, device: tmpfs, o: "
                        "\"size=100m,uid=1000,mode=1777,noexec\"}\n");
        fx_accepted(WEB "    volumes: [\"v:/v\"]\nvolumes:\n  v:\n    driver: local\n"
                        "    driver_opts: {type: none, o: bind, device: ./state}\n");
}

/* ---- names outside the project ---- */

static void names_of_other_stacks_or_external_resources_need_external(void **state)
{
        fx_refused(WEB "    volumes: [\"v:/v\"]\nvolumes:\n  v:\n    name: stack-other_data\n", PERM_EXTERNAL,
                   "volume 'v': the volume named stack-other_data (it belongs to another stack", false);
        fx_refused(WEB "    volumes: [\"v:/v\"]\nvolumes:\n  v:\n    external: true\n    name: stack-other_data\n",
                   PERM_EXTERNAL, "belongs to another stack", false);
        fx_refused(WEB "    volumes: [\"v:/v\"]\nvolumes:\n  v:\n    external: true\n", PERM_EXTERNAL,
                   "volume 'v': the external volume v (outside the stack)", false);
        fx_refused(WEB "    volumes: [\"v:/v\"]\nvolumes:\n  v:\n    external: {name: pgdata}\n", PERM_EXTERNAL,
                   "the external volume pgdata", false);
        fx_refused(WEB "    networks: [n]\nnetworks:\n  n:\n    external: true\n    name: stack-other_default\n",
                   PERM_EXTERNAL, "network 'n': the network named stack-other_default (it belongs to another stack",
                   false);
        fx_refused(WEB "    networks: [n]\nnetworks:\n  n:\n    external: true\n    name: bridge\n", PERM_EXTERNAL,
                   "network 'n': the external network bridge", false);
        fx_refused(WEB "    network_mode: stack-other_default\n", PERM_EXTERNAL,
                   "network_mode: stack-other_default (a network outside the stack)", false);
        /* the stack's own names are its own, external or not */
        fx_accepted(WEB "    volumes: [\"v:/v\"]\nvolumes:\n  v:\n    external: true\n    name: " PROJECT "_data\n");
        fx_accepted(WEB "    volumes: [\"v:/v\"]\nvolumes:\n  v:\n    name: " PROJECT "_v\n");
        /* a project that merely starts like ours is not ours */
        fx_refused(WEB "    volumes: [\"v:/v\"]\nvolumes:\n  v:\n    name: " PROJECT "-x_data\n", PERM_EXTERNAL,
                   "belongs to another stack", false);
}

static void a_name_of_the_bundles_choosing_is_made_the_projects_own(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f,
                                  WEB
                                  "    volumes: [\"v:/v\"]\n    networks: [n]\nvolumes:\n  v:\n    name: coolify-db\n"
                                  "networks:\n  n:\n    name: stack\n",
                                  0),
                         0);
        assert_non_null(strstr(f.text, "name: \"" PROJECT "_coolify-db\""));
        assert_non_null(strstr(f.text, "name: \"" PROJECT "_stack\""));
        assert_true(f.res.needed & PERM_EXTERNAL);
        /* granted: kept as written */
        assert_int_equal(
                fx_apply(&f, WEB "    volumes: [\"v:/v\"]\nvolumes:\n  v:\n    name: coolify-db\n", PERM_EXTERNAL), 0);
        assert_non_null(strstr(f.text, "name: coolify-db"));
        fx_release(&f);
}

/* ---- other containers ---- */

static void other_containers_namespaces_need_other_containers(void **state)
{
        static const char *const docs[][2] = {
                {"    volumes_from: [\"container:stack-other-db-1\"]\n", "volumes_from: container:stack-other-db-1"},
                {"    volumes_from: [\"container:" PROJECT "-db-1:ro\"]\n", "volumes_from: container:"},
                {"    network_mode: \"container:stack-other-web-1\"\n", "network_mode: container:stack-other-web-1"},
                {"    pid: \"container:x\"\n", "pid: container:x"},
                {"    ipc: \"container:x\"\n", "ipc: container:x"},
                {"    external_links: [\"redis:cache\"]\n", "external_links: redis:cache"},
                {"    container_name: stack-other-web-1\n", "container_name: stack-other-web-1"},
                {"    network_mode: \"service:nope\"\n", "network_mode: service:nope (no such service"},
                {"    pid: \"service:nope\"\n", "pid: service:nope"},
                {"    volumes_from: [\"service:nope\"]\n", "volumes_from: service:nope"},
        };
        char yaml[512];
        size_t i;

        for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
                snprintf(yaml, sizeof yaml, WEB "%s  db:\n    image: postgres\n", docs[i][0]);
                fx_refused(yaml, PERM_OTHER_CONTAINERS, docs[i][1], false);
        }
        /* the stack's own services, and container names that are not another stack's */
        fx_accepted(WEB "    network_mode: \"service:db\"\n    pid: \"service:db\"\n    ipc: \"service:db\"\n"
                        "    volumes_from: [db, \"db:ro\", \"service:db\"]\n    container_name: minio\n"
                        "  db:\n    image: postgres\n    ipc: shareable\n    container_name: " PROJECT "_db\n");
        fx_accepted(WEB "    network_mode: none\n    ipc: private\n");
}

/* ---- build ---- */

static void build_contexts_are_urls_only_by_composes_rule(void **state)
{
        fx_refused(WEB "    build: {context: \"/etc/://..\"}\n", PERM_HOST_BIND, "build.context '/etc/://..'", false);
        fx_refused(WEB "    build: \"/etc/://..\"\n", PERM_HOST_BIND, "build '/etc/://..'", false);
        fx_refused(WEB "    build: \"x://../../..\"\n", PERM_HOST_BIND, "build 'x://../../..' (not a URL", false);
        fx_refused(WEB "    build: {context: \"http://127.0.0.1:57404/x.tar\"}\n", PERM_REMOTE_BUILD,
                   "build.context: http://127.0.0.1:57404/x.tar", false);
        fx_refused(WEB "    build: {context: \"https://github.com:57404/x.git\"}\n", PERM_REMOTE_BUILD,
                   "build.context: https://github.com:57404", false);
        fx_refused(WEB "    build: {context: \"https://github.com@127.0.0.1/x.git\"}\n", PERM_REMOTE_BUILD,
                   "build.context: https://github.com@", false);
        fx_refused(WEB "    build: \"git://10.0.0.1/x\"\n", PERM_REMOTE_BUILD, "build: git://10.0.0.1/x", false);
        fx_refused(WEB "    build: {context: ., additional_contexts: {a: \"https://evil.example/x.tar\"}}\n",
                   PERM_REMOTE_BUILD, "build.additional_contexts: https://evil.example/x.tar", false);
        fx_refused(WEB "    build: {context: ., additional_contexts: [\"a=oci-layout:///etc\"]}\n", PERM_HOST_BIND,
                   "build.additional_contexts '/etc' (a host path)", false);
        fx_refused(WEB "    build: {context: ., additional_contexts: {a: \"/etc/://..\"}}\n", PERM_HOST_BIND,
                   "build.additional_contexts '/etc/://..'", false);
        /* the catalog's remote context (moneyprinterturbo), images, stages and services */
        fx_accepted(WEB "    build: {context: \"https://github.com/harry0703/MoneyPrinterTurbo.git#v1.2.6\"}\n");
        fx_accepted(WEB
                    "    build: {context: ., additional_contexts: {a: \"docker-image://alpine\", b: \"service:db\", "
                    "c: \"target:base\"}}\n");
}

static void dockerfiles_are_read_from_the_run_dir(void **state)
{
        fx_refused(WEB "    build: {context: ., dockerfile: /etc/shadow}\n", PERM_HOST_BIND,
                   "build.dockerfile '/etc/shadow' (a host path)", false);
        fx_refused(WEB "    build: {context: app, dockerfile: ../../../etc/shadow}\n", PERM_HOST_BIND,
                   "build.dockerfile '../../../etc/shadow' (outside the run dir)", false);
        fx_refused(WEB "    build: {context: \"https://github.com/a/b.git\", dockerfile: /etc/shadow}\n",
                   PERM_HOST_BIND, "build.dockerfile '/etc/shadow'", false);
        fx_accepted(WEB "    build: {context: app, dockerfile: ../Dockerfile.web}\n");
        fx_accepted(WEB "    build: {context: ., dockerfile_inline: \"FROM scratch\"}\n");
}

/* ---- logging, sysctls, runtime ---- */

static void logging_drivers_other_than_local_ones_need_logging(void **state)
{
        fx_refused(WEB "    logging: {driver: syslog, options: {syslog-address: \"tcp://127.0.0.1:5514\"}}\n",
                   PERM_LOGGING, "logging.driver: syslog", false);
        fx_refused(WEB "    logging: {driver: gelf}\n", PERM_LOGGING, "logging.driver: gelf", false);
        fx_accepted(WEB "    logging: {driver: json-file, options: {max-size: 10m, max-file: \"3\"}}\n");
        fx_accepted(WEB "    logging: {driver: \"${LOGGING_DRIVER:-local}\"}\n");
        fx_accepted(WEB "    logging: {driver: none}\n");
        fx_accepted(WEB "    logging: {options: {max-size: 10m}}\n");
}

static void sysctls_outside_the_containers_namespaces_need_a_permission(void **state)
{
        fx_refused(WEB "    sysctls: [kernel.core_pattern=|/x]\n", PERM_PRIVILEGED, "sysctls: kernel.core_pattern",
                   false);
        fx_refused(WEB "    sysctls: {vm.overcommit_memory: 1}\n", PERM_PRIVILEGED, "sysctls: vm.overcommit_memory",
                   false);
        fx_refused(WEB "    sysctls: [\"net/../kernel/core_pattern=|/x\"]\n", PERM_PRIVILEGED, "(not a sysctl name)",
                   false);
        fx_refused(WEB "    network_mode: host\n    sysctls: [net.core.somaxconn=4096]\n", PERM_HOST_NETWORK,
                   "network_mode: host", false);
        {
                struct fx f;

                fx_init(&f, NULL, NULL);
                assert_int_equal(fx_apply(&f, WEB "    network_mode: host\n    sysctls: [net.core.somaxconn=4096]\n",
                                          PERM_HOST_NETWORK),
                                 0);
                fx_release(&f);
        }
        fx_refused(WEB "    ipc: host\n    sysctls: {kernel.shmmax: 1}\n", PERM_HOST_IPC, "ipc: host", false);
        /* the catalog's (mailcow, technitium): the container's own network namespace */
        fx_accepted(WEB "    sysctls: [net.core.somaxconn=4096, \"net.ipv4.ip_local_port_range=1024 65000\"]\n"
                        "    storage_opt: {size: 1G}\n    isolation: default\n    runtime: runc\n");
        fx_accepted(WEB "    sysctls: {kernel.shmmax: 1, kernel.sem: \"1 2 3 4\", fs.mqueue.msg_max: 10}\n");
}

static void runtimes_isolation_and_storage_options_need_privileged(void **state)
{
        fx_refused(WEB "    runtime: nvidia\n", PERM_PRIVILEGED, "runtime: nvidia", false);
        fx_refused(WEB "    isolation: hyperv\n", PERM_PRIVILEGED, "isolation: hyperv", false);
        fx_refused(WEB "    storage_opt: {dm.basesize: 1G}\n", PERM_PRIVILEGED, "storage_opt.dm.basesize", false);
}

/* ---- binds a container can redirect ---- */

static size_t count(const char *text, const char *s)
{
        size_t n = 0;

        for (const char *p = strstr(text, s); p; p = strstr(p + 1, s))
                n++;
        return n;
}

/* The effective file of yaml holds every string of want (NULL-terminated), in order. */
static void has_in_order(struct fx *f, const char *yaml, const char *const *want)
{
        const char *at;
        size_t i;

        if (fx_apply(f, yaml, 0) != 0)
                fail_msg("refused: %s\n%s", f->err.msg, yaml);
        at = f->text;
        for (i = 0; want[i]; i++) {
                const char *p = strstr(at, want[i]);

                if (!p)
                        fail_msg("the effective file does not say '%s' (in order):\n%s", want[i], f->text);
                at = p + strlen(want[i]);
        }
}

static void a_bind_inside_another_writable_bind_is_pinned_in_the_same_document(void **state)
{
        static const char *const shipped[] = {"a/", "a/b/", "a/b/f", "sub.yaml", NULL};
        char data[1200], want_state[1400], want_sub[1400], want_deeper[1400];
        struct fx f;

        fx_init(&f, NULL, shipped);
        snprintf(data, sizeof data, "%s", f.data);
        /* the attack: ./state/sub could become a symlink to /; it is a mount point in web now */
        snprintf(want_state, sizeof want_state, "\"%s/state:/state\"", data);
        snprintf(want_sub, sizeof want_sub, "\"%s/state/sub:/state/sub\"", data);
        has_in_order(&f, WEB "    restart: on-failure\n    volumes: [\"./state:/state\", \"./state/sub:/host\"]\n",
                     (const char *const[]){want_state, "/state/sub:/host", want_sub, NULL});
        /* in two services, long syntax outside, every directory on the way down, the target as written */
        snprintf(want_sub, sizeof want_sub, "\"%s/state/sub:/st/sub\"", data);
        snprintf(want_deeper, sizeof want_deeper, "\"%s/state/sub/deeper:/st/sub/deeper\"", data);
        has_in_order(&f,
                     WEB "    volumes: [{type: bind, source: ./state, target: /st/}]\n  db:\n    image: x\n"
                         "    volumes: [\"./state/sub/deeper:/host:ro\"]\n",
                     (const char *const[]){"target: /st/", want_sub, want_deeper, "db:", "deeper:/host:ro", NULL});
        /* a shipped directory: kept, relative; a target the service mounts already is not mounted twice */
        has_in_order(&f,
                     WEB "    volumes: [\"./a:/a\", \"./a/b:/host\", \"v:/a/b\"]\n  db:\n    image: x\n"
                         "    volumes: [\"./a/b/f:/f:ro\"]\nvolumes:\n  v: {}\n",
                     (const char *const[]){"./a:/a", "./a/b:/host", "v:/a/b", "\"./a/b/f:/a/b/f\"", "db:", NULL});
        assert_null(strstr(f.text, "./a/b:/a/b\""));
        /* the run dir itself bound writable at /app: refused whatever is pinned (it holds the effective file) */
        assert_int_equal(fx_apply(&f, WEB "    volumes: [\".:/app\", \"./a/b/f:/f:ro\"]\n", 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "writable bind of ., which holds the effective compose file"));
        /* the catalog's shapes (archivebox, dify, superset) */
        has_in_order(&f,
                     WEB "    volumes: [\"./data:/data\"]\n  sonic:\n    image: x\n"
                         "    volumes: [\"./data/sonic:/var/lib/sonic/store\"]\n",
                     (const char *const[]){"/data/sonic:/data/sonic\"", "sonic:", "sonic:/var/lib/sonic/store", NULL});
        /* dify: nginx mounts conf/live at its place already, certbot gets it pinned */
        has_in_order(&f,
                     "services:\n  nginx:\n    image: x\n    volumes: [\"./c/conf:/etc/le\", "
                     "\"./c/conf/live:/etc/le/live\"]\n  certbot:\n    image: x\n    volumes: [\"./c/conf:/etc/le\"]\n",
                     (const char *const[]){"certbot:", "/c/conf/live:/etc/le/live\"", NULL});
        assert_int_equal(count(f.text, "/c/conf/live:/etc/le/live"), 2); /* nginx's own, certbot's pin */
        /* read-only outside, the same source twice, siblings, a kept dir and a redirected one: nothing to pin */
        assert_int_equal(fx_apply(&f, WEB "    volumes: [\"./a:/a:ro\", \"./a/b:/b\"]\n", 0), 0);
        assert_null(strstr(f.text, ":/a/b"));
        assert_int_equal(fx_apply(&f,
                                  WEB "    volumes: [\"./state:/s\"]\n  db:\n    image: x\n"
                                      "    volumes: [\"./state:/t\", \"./stated:/u\"]\n",
                                  0),
                         0);
        assert_null(strstr(f.text, "stated:/s"));
        assert_int_equal(fx_apply(&f, WEB "    volumes: [\".:/app:ro\", \"./data:/data\"]\n", 0), 0);
        assert_null(strstr(f.text, "/app/data"));
        fx_release(&f);
}

static void a_bind_inside_a_writable_bind_of_another_file_needs_host_bind(void **state)
{
        static const char *const shipped[] = {"a/", "a/b/", "a/b/f", "sub.yaml", NULL};
        static const char sub[] = "services:\n  db:\n    image: x\n    volumes: [\"./state/sub:/host\"]\n";
        char path[1300];
        struct fx f;

        fx_init(&f, NULL, shipped);
        snprintf(path, sizeof path, "%s/sub.yaml", f.run);
        assert_int_equal(fs_write_atomic(path, sub, strlen(sub), 0644), 0);
        assert_int_equal(fx_apply(&f, "include: [sub.yaml]\n" WEB "    volumes: [\"./state:/state\"]\n", 0),
                         -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "bind of ./state/sub inside the writable bind ./state"));
        assert_non_null(strstr(f.err.msg, "needs permission 'host-bind'"));
        /* a volume binding a directory of the run dir is a bind too, and no service's: never pinned */
        assert_int_equal(fx_apply(&f,
                                  WEB "    volumes: [\"v:/v\", \"./a/b/f:/f\"]\nvolumes:\n  v:\n    driver: local\n"
                                      "    driver_opts: {type: none, o: bind, device: ./a}\n",
                                  0),
                         -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "bind of ./a/b/f inside the writable bind ./a"));
        /* a target set by an unknown variable cannot be pinned */
        assert_int_equal(fx_apply(&f,
                                  WEB "    volumes: [{type: bind, source: ./a, target: \"${NOPE}\"}, "
                                      "\"./a/b:/host\"]\n",
                                  0),
                         -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "bind of ./a/b inside the writable bind ./a"));
        assert_int_equal(fx_apply(&f, WEB "    volumes: [\".:/app:ro\", \"./data:/data\"]\n", 0), 0);
        fx_release(&f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(volume_drivers_other_than_local_need_volume_driver),
                cmocka_unit_test(driver_opts_mounting_host_filesystems_need_host_bind),
                cmocka_unit_test(names_of_other_stacks_or_external_resources_need_external),
                cmocka_unit_test(a_name_of_the_bundles_choosing_is_made_the_projects_own),
                cmocka_unit_test(other_containers_namespaces_need_other_containers),
                cmocka_unit_test(build_contexts_are_urls_only_by_composes_rule),
                cmocka_unit_test(dockerfiles_are_read_from_the_run_dir),
                cmocka_unit_test(logging_drivers_other_than_local_ones_need_logging),
                cmocka_unit_test(sysctls_outside_the_containers_namespaces_need_a_permission),
                cmocka_unit_test(runtimes_isolation_and_storage_options_need_privileged),
                cmocka_unit_test(a_bind_inside_another_writable_bind_is_pinned_in_the_same_document),
                cmocka_unit_test(a_bind_inside_a_writable_bind_of_another_file_needs_host_bind),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
