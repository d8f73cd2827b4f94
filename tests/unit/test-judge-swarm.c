/* test-judge-swarm.c - the judge of what swarm was asked for (run/judge.h "Swarm services"), fed real answers:
 * tests/unit/judge-swarm.json holds what dockerd 20.10 (API 1.41, a single-node swarm) answered to GET /services
 * after a `docker stack deploy` of a swarm file like the one stack writes (web and db, 0 replicas) and one
 * `docker service create --replicas 0` per hostile setting, and to GET /networks/{id} for the stack's network,
 * the Engine's host and ingress networks and a few made to be refused. The deployed services pass with no
 * grant; each hostile one is refused naming its field and the permission (and accepted once it is granted, where
 * a grant can); each other check is met by editing the deployed service's answer in the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "run/judge.h"
#include "run/policy.h"
#include "testlib.h"

#define NODE "l9mk87pp9z6c6g7hq4qp0qclg" /* the node that made the fixtures: db is placed on it */

static json_t *fixtures;

static int load(void **state)
{
        (void)state;
        fixtures = tl_load_json("tests/unit/judge-swarm.json");
        return fixtures ? 0 : -1;
}

static int unload(void **state)
{
        (void)state;
        json_decref(fixtures);
        return 0;
}

/* A copy of a fixture, for the test to edit (json_decref). */
static json_t *fx(const char *kind, const char *name)
{
        const json_t *j = json_object_get(json_object_get(fixtures, kind), name);

        if (!j)
                fail_msg("no fixture %s/%s", kind, name);
        return json_deep_copy(j);
}

/* The member at a dotted path ("Spec.TaskTemplate.ContainerSpec"; a number indexes an array). */
static json_t *at(json_t *root, const char *path)
{
        char buf[256], *save = NULL;
        json_t *j = root;

        snprintf(buf, sizeof buf, "%s", path);
        for (char *k = strtok_r(buf, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
                j = json_is_array(j) ? json_array_get(j, strtoul(k, NULL, 10)) : json_object_get(j, k);
        if (!j)
                fail_msg("no member %s", path);
        return j;
}

static void set(json_t *root, const char *path, const char *key, json_t *value)
{
        json_object_set_new(at(root, path), key, value);
}

#define CS "Spec.TaskTemplate.ContainerSpec"
#define TT "Spec.TaskTemplate"

/* The fixtures' sandbox: the stack swjudge-ok, its run dir and data dir (binds of the deployed services are
 * inside them), limits the deployed services keep within. */
static struct judge_input input(unsigned allow)
{
        return (struct judge_input){.project = "swjudge-ok",
                                    .run_dir = "/tmp/swjudge-run",
                                    .data_dir = "/tmp/swjudge-data/swjudge-ok",
                                    .allow = allow,
                                    .cpus = 1,
                                    .memory = 512ull << 20};
}

static const char *const routes[] = {"web:8080", NULL};
static const struct judge_swarm sw = {.data_node = NODE, .registry = "127.0.0.1:45000", .route_ports = routes};

/* judge_service() of s with in: 0, or the refusal's message in msg. */
static int judge_in(const struct judge_input *in, const struct judge_swarm *w, const json_t *s, char *msg, size_t size)
{
        struct error err = ERROR_INIT;
        int r = judge_service(in, w, s, &err);

        snprintf(msg, size, "%s", r < 0 ? err.msg : "");
        return r;
}

/* s (consumed) refused naming want; with grant (0: none can), accepted, or refused naming then. */
static void refused_as(json_t *s, const char *want, unsigned grant, const char *then)
{
        struct judge_input in = input(0);
        char msg[1024];

        if (judge_in(&in, &sw, s, msg, sizeof msg) != -STACK_EREJECT)
                fail_msg("%s: accepted, wanted a refusal naming [%s]", json_string_value(at(s, "Spec.Name")), want);
        if (!strstr(msg, want))
                fail_msg("[%s] does not name [%s]", msg, want);
        if (grant) {
                int r;
                in.allow = grant;
                r = judge_in(&in, &sw, s, msg, sizeof msg);
                if (!then && r != 0)
                        fail_msg("granted %s: still refused: %s", policy_perm_name(grant), msg);
                if (then && (r != -STACK_EREJECT || !strstr(msg, then)))
                        fail_msg("granted %s: [%s] does not name [%s]", policy_perm_name(grant), msg, then);
        }
        json_decref(s);
}

static void accepted(json_t *s)
{
        struct judge_input in = input(0);
        char msg[1024];

        if (judge_in(&in, &sw, s, msg, sizeof msg) != 0)
                fail_msg("refused: %s", msg);
        json_decref(s);
}

static void the_deployed_services_pass(void **state)
{
        (void)state;
        accepted(fx("services", "web"));
        accepted(fx("services", "db"));
        accepted(fx("services", "spread")); /* stateless: anywhere */
}

/* The hand-made services of the hostile check, as the Engine holds them. */
static void each_hostile_service_is_refused(void **state)
{
        const char *const stay = "Placement without node.id==" NODE;

        (void)state;
        refused_as(fx("services", "bindroot"),
                   "service swjudge-ok_bindroot: Mounts bind of / (outside the run dir and the data dir) needs "
                   "permission 'host-bind'",
                   PERM_HOST_BIND, stay);
        refused_as(fx("services", "sock"),
                   "Mounts bind of the Docker socket /var/run/docker.sock needs permission 'docker-socket'",
                   PERM_DOCKER_SOCKET, stay);
        refused_as(fx("services", "ingress"),
                   "EndpointSpec.Ports 80/tcp in ingress mode (it listens on every node) is not allowed", 0, NULL);
        refused_as(fx("services", "capadd"), "CapabilityAdd [CAP_SYS_ADMIN] needs permission 'cap-add'", PERM_CAP_ADD,
                   NULL);
        refused_as(fx("services", "capadd"), "CapabilityAdd [CAP_SYS_ADMIN]", PERM_PRIVILEGED, NULL);
        refused_as(
                fx("services", "volbind"),
                "Mounts volume swjudge-ok_etc with driver options type=none device=/etc needs permission 'host-bind'",
                PERM_HOST_BIND, stay);
        refused_as(fx("services", "global"), "Mode Global (only replicated services) is not allowed", 0, NULL);
        refused_as(fx("services", "sysctl"), "Sysctls kernel.domainname needs permission 'privileged'", PERM_PRIVILEGED,
                   "Ulimits nofile=1024:1048576000 needs permission 'ulimits'");
        refused_as(fx("services", "generic"),
                   "Resources.Reservations.GenericResources (node devices) needs permission "
                   "'devices'",
                   PERM_DEVICES, NULL);
        /* the host network is judged as a network (below): the service itself asks for nothing else */
        accepted(fx("services", "hostnet"));
}

static void the_image_is_pinned_into_the_registry(void **state)
{
        static const char *const bad[] = {
                "busybox:latest",
                "127.0.0.1:45000/swjudge/web:1",
                "evil.example:5000/swjudge/web@sha256:8b951c2e3120a0b5ef4153e4d959fe9c3db8c9c49f66dec629df13f97ce719ca",
                "127.0.0.1:450001/swjudge/web@sha256:8b951c2e3120a0b5ef4153e4d959fe9c3db8c9c49f66dec629df13f97ce719ca",
                "127.0.0.1:45000/@sha256:8b951c2e3120a0b5ef4153e4d959fe9c3db8c9c49f66dec629df13f97ce719ca",
                "127.0.0.1:45000/swjudge/web@sha256:8B951C2E3120A0B5EF4153E4D959FE9C3DB8C9C49F66DEC629DF13F97CE719CA",
                "127.0.0.1:45000/swjudge/web@sha256:8b951c2e3120a0b5ef4153e4d959fe9c3db8c9c49f66dec629df13f97ce719",
                "127.0.0.1:45000/swjudge/web@sha512:8b951c2e3120a0b5ef4153e4d959fe9c3db8c9c49f66dec629df13f97ce719ca",
        };
        static const char *const pushed[] = {
                "127.0.0.1:45000/swjudge/web@sha256:8b951c2e3120a0b5ef4153e4d959fe9c3db8c9c49f66dec629df13f97ce719ca",
                NULL};
        struct judge_swarm other = sw;
        struct judge_input in = input(0);
        json_t *s;
        char msg[1024];

        (void)state;
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                char want[400];
                s = fx("services", "web");
                set(s, CS, "Image", json_string(bad[i]));
                snprintf(want, sizeof want, "image %s (not pinned into the registry 127.0.0.1:45000 by digest)",
                         bad[i]);
                refused_as(s, want, 0, NULL);
        }
        other.images = pushed;
        s = fx("services", "web");
        assert_int_equal(judge_in(&in, &other, s, msg, sizeof msg), 0);
        json_decref(s);
        s = fx("services", "db"); /* pinned into the registry, but not pushed for this version */
        assert_int_equal(judge_in(&in, &other, s, msg, sizeof msg), -STACK_EREJECT);
        assert_non_null(strstr(msg, "image 127.0.0.1:45000/swjudge/db@sha256:8b951c2e3120a0b5ef4153e4d959fe9c3db8c9c49f"
                                    "66dec629df13f97ce719ca (not one this version pushed) is not allowed"));
        json_decref(s);
        other.images = NULL;
        other.registry = NULL;
        s = fx("services", "web");
        assert_int_equal(judge_in(&in, &other, s, msg, sizeof msg), -STACK_EREJECT);
        assert_non_null(strstr(msg, "not pinned into the registry (none)"));
        json_decref(s);
}

static void the_service_is_the_stacks(void **state)
{
        json_t *s;

        (void)state;
        s = fx("services", "web");
        set(s, "Spec.Labels", "com.docker.stack.namespace", json_string("other"));
        refused_as(s, "service swjudge-ok_web: the stack label 'other' (not swjudge-ok) is not allowed", 0, NULL);
        s = fx("services", "web");
        set(s, "Spec", "Name", json_string("other_web"));
        refused_as(s, "the stack label", 0, NULL);
        s = fx("services", "web");
        json_object_del(at(s, "Spec.Mode"), "Replicated");
        set(s, "Spec.Mode", "ReplicatedJob", json_pack("{s:i}", "MaxConcurrent", 1));
        refused_as(s, "Mode ReplicatedJob (only replicated services)", 0, NULL);
        s = fx("services", "web");
        json_object_del(at(s, "Spec"), "Mode");
        refused_as(s, "Mode without Replicated", 0, NULL);
}

static void what_the_judge_does_not_know_is_refused_unless_default(void **state)
{
        json_t *s;

        (void)state;
        s = fx("services", "web");
        set(s, CS, "Foo", json_integer(1));
        refused_as(s, "ContainerSpec.Foo (a field the judge does not know) is not allowed", 0, NULL);
        s = fx("services", "web");
        set(s, CS, "Foo", json_pack("{s:s,s:b}", "Mode", "", "On", 0));
        accepted(s);
        s = fx("services", "web");
        set(s, TT, "PluginSpec", json_pack("{s:s}", "Name", "evil/plugin"));
        refused_as(s, "TaskTemplate.PluginSpec (a field the judge does not know)", 0, NULL);
        s = fx("services", "web");
        set(s, TT, "Runtime", json_string("plugin"));
        refused_as(s, "TaskTemplate.Runtime plugin is not allowed", 0, NULL);
        s = fx("services", "web");
        set(s, "Spec", "Future", json_true());
        refused_as(s, "Spec.Future (a field the judge does not know)", 0, NULL);
        s = fx("services", "web");
        set(s, TT ".Resources.Limits", "SwapBytes", json_integer(1 << 30));
        refused_as(s, "Resources.Limits.SwapBytes (a field the judge does not know)", 0, NULL);
        s = fx("services", "web");
        set(s, TT ".Networks.0", "DriverOpts", json_pack("{s:s}", "com.docker.network.macvlan.mode", "bridge"));
        refused_as(s, "TaskTemplate.Networks.DriverOpts", 0, NULL);
        s = fx("services", "web");
        set(s, "Spec.EndpointSpec.Ports.0", "HostIP", json_string("0.0.0.0"));
        refused_as(s, "EndpointSpec.Ports.HostIP", 0, NULL);
}

static void privileges_isolation_and_oom_as_for_a_container(void **state)
{
        json_t *s;

        (void)state;
        s = fx("services", "web");
        set(s, CS ".Privileges", "Seccomp", json_pack("{s:s}", "Mode", "unconfined"));
        refused_as(s, "Privileges.Seccomp unconfined needs permission 'privileged'", PERM_PRIVILEGED, NULL);
        s = fx("services", "web");
        set(s, CS ".Privileges", "AppArmor", json_pack("{s:s}", "Mode", "disabled"));
        refused_as(s, "Privileges.AppArmor disabled needs permission 'privileged'", PERM_PRIVILEGED, NULL);
        s = fx("services", "web");
        set(s, CS ".Privileges", "SELinuxContext", json_pack("{s:b}", "Disable", 1));
        refused_as(s, "Privileges.SELinuxContext (set) needs permission 'privileged'", PERM_PRIVILEGED, NULL);
        s = fx("services", "web"); /* what a 1.44 Engine writes for the defaults */
        set(s, CS ".Privileges", "Seccomp", json_pack("{s:s}", "Mode", "default"));
        set(s, CS ".Privileges", "AppArmor", json_pack("{s:s}", "Mode", "default"));
        set(s, CS ".Privileges", "NoNewPrivileges", json_true());
        accepted(s);
        s = fx("services", "web");
        set(s, CS, "Isolation", json_string("hyperv"));
        refused_as(s, "Isolation hyperv is not allowed", 0, NULL);
        s = fx("services", "web");
        set(s, CS, "OomScoreAdj", json_integer(-500));
        refused_as(s, "OomScoreAdj -500 needs permission 'oom'", PERM_OOM, NULL);
        s = fx("services", "web");
        set(s, TT ".LogDriver", "Name", json_string("syslog"));
        refused_as(s, "LogDriver.Name syslog needs permission 'logging'", PERM_LOGGING, NULL);
        s = fx("services", "web");
        set(s, CS, "Sysctls", json_pack("{s:s}", "net.ipv4.ip_unprivileged_port_start", "0"));
        accepted(s);
}

static void mounts_of_the_stack_only(void **state)
{
        json_t *s;

        (void)state;
        s = fx("services", "db");
        set(s, CS ".Mounts.0", "Source", json_string("other_data"));
        refused_as(s, "Mounts volume other_data (not this stack's) needs permission 'external'", PERM_EXTERNAL, NULL);
        s = fx("services", "db");
        set(s, CS ".Mounts.0.VolumeOptions", "DriverConfig", json_pack("{s:s}", "Name", "sshfs"));
        refused_as(s, "Mounts volume driver sshfs needs permission 'volume-driver'", PERM_VOLUME_DRIVER, NULL);
        s = fx("services", "db"); /* a tmpfs volume is no host mount */
        set(s, CS ".Mounts.0.VolumeOptions", "DriverConfig",
            json_pack("{s:s,s:{s:s,s:s}}", "Name", "local", "Options", "type", "tmpfs", "device", "tmpfs"));
        accepted(s);
        s = fx("services", "db");
        set(s, CS ".Mounts.1", "Type", json_string("npipe"));
        refused_as(s, "a mount of type 'npipe' is not allowed", 0, NULL);
        s = fx("services", "db");
        set(s, CS ".Mounts.1", "Type", json_string("cluster"));
        refused_as(s, "a mount of type 'cluster' is not allowed", 0, NULL);
        s = fx("services", "db");
        set(s, CS ".Mounts.1", "BindOptions", json_pack("{s:s}", "Propagation", "rshared"));
        refused_as(s, "Mounts /tmp/swjudge-data/swjudge-ok/conf propagation rshared needs permission 'privileged'",
                   PERM_PRIVILEGED, NULL);
        s = fx("services", "db");
        set(s, CS ".Mounts.1", "Source", json_string("/tmp/swjudge-data/swjudge-ok/../../../etc"));
        refused_as(s, "bind of /tmp/swjudge-data/swjudge-ok/../../../etc (/etc) (outside the run dir and the data dir)",
                   PERM_HOST_BIND, NULL);
        s = fx("services", "web");
        json_array_append_new(at(s, CS ".Mounts"), json_pack("{s:s,s:s}", "Type", "tmpfs", "Target", "/tmp"));
        accepted(s); /* a tmpfs is no data */
        s = fx("services", "web");
        set(s, CS, "Secrets",
            json_pack("[{s:s,s:s,s:{s:s}}]", "SecretID", "x", "SecretName", "other_pw", "File", "Name", "pw"));
        refused_as(s, "Secrets other_pw (not this stack's) needs permission 'external'", PERM_EXTERNAL, NULL);
        s = fx("services", "web");
        set(s, CS, "Configs",
            json_pack("[{s:s,s:s,s:{s:s}}]", "ConfigID", "x", "ConfigName", "swjudge-ok_conf", "File", "Name", "c"));
        accepted(s);
}

static void data_stays_on_its_node(void **state)
{
        struct judge_swarm nowhere = sw;
        struct judge_input in = input(0);
        char msg[1024];
        json_t *s;

        (void)state;
        s = fx("services", "db");
        json_array_clear(at(s, TT ".Placement.Constraints"));
        refused_as(s, "Placement without node.id==" NODE " (its mounts are on that node) is not allowed", 0, NULL);
        s = fx("services", "db");
        json_array_set_new(at(s, TT ".Placement.Constraints"), 0, json_string("node.id==someothernode"));
        refused_as(s, "Placement without node.id==" NODE, 0, NULL);
        s = fx("services", "db");
        json_array_set_new(at(s, TT ".Placement.Constraints"), 0, json_string("node.id == " NODE));
        json_array_append_new(at(s, TT ".Placement.Constraints"), json_string("node.role==manager"));
        accepted(s);
        s = fx("services", "web"); /* a bind of the run dir exists on the node that judged it */
        json_object_del(at(s, TT), "Placement");
        refused_as(s, "Placement without node.id==" NODE, 0, NULL);
        s = fx("services", "db");
        nowhere.data_node = NULL;
        assert_int_equal(judge_in(&in, &nowhere, s, msg, sizeof msg), -STACK_EREJECT);
        assert_non_null(strstr(msg, "no data node was chosen"));
        json_decref(s);
}

static void limits_are_set_and_not_above_the_stacks(void **state)
{
        struct judge_input in = input(0);
        char msg[1024];
        json_t *s = fx("services", "web");

        (void)state;
        in.memory = 128ull << 20;
        assert_int_equal(judge_in(&in, &sw, s, msg, sizeof msg), -STACK_EREJECT);
        assert_non_null(strstr(msg, "Resources.Limits.MemoryBytes 268435456 (the stack's limit is 134217728)"));
        in = input(0);
        in.cpus = 0.25;
        assert_int_equal(judge_in(&in, &sw, s, msg, sizeof msg), -STACK_EREJECT);
        assert_non_null(strstr(msg, "Resources.Limits.NanoCPUs 500000000 (the stack's limit is 0.25 CPUs)"));
        in = input(0);
        in.pids = 100; /* the 3.x schema of `docker stack deploy` has no pids: the swarm file cannot carry it */
        assert_int_equal(judge_in(&in, &sw, s, msg, sizeof msg), -STACK_EREJECT);
        assert_non_null(strstr(msg, "Resources.Limits.Pids 0 (the stack's limit is 100)"));
        set(s, TT ".Resources.Limits", "Pids", json_integer(100));
        assert_int_equal(judge_in(&in, &sw, s, msg, sizeof msg), 0);
        json_object_clear(at(s, TT ".Resources"));
        in = input(0);
        assert_int_equal(judge_in(&in, &sw, s, msg, sizeof msg), -STACK_EREJECT);
        assert_non_null(strstr(msg, "Resources.Limits.MemoryBytes 0 (the stack's limit is 536870912)"));
        in.memory = 0;
        in.cpus = 0;
        assert_int_equal(judge_in(&in, &sw, s, msg, sizeof msg), 0); /* none required, none set */
        json_decref(s);
}

static void only_routed_ports_in_host_mode(void **state)
{
        static const char *const db_only[] = {"db:8080", NULL};
        struct judge_swarm other = sw;
        struct judge_input in = input(0);
        char msg[1024];
        json_t *s;

        (void)state;
        s = fx("services", "web");
        set(s, "Spec.EndpointSpec.Ports.0", "TargetPort", json_integer(9090));
        refused_as(s, "EndpointSpec.Ports 9090/tcp (not a routed port) needs permission 'listen'", PERM_LISTEN, NULL);
        s = fx("services", "web");
        set(s, "Spec.EndpointSpec.Ports.0", "Protocol", json_string("udp"));
        refused_as(s, "EndpointSpec.Ports 8080/udp (not a routed port)", PERM_LISTEN, NULL);
        s = fx("services", "web");
        set(s, "Spec.EndpointSpec.Ports.0", "PublishMode", json_string("ingress"));
        set(s, "Spec.EndpointSpec.Ports.0", "PublishedPort", json_integer(8080));
        refused_as(s, "EndpointSpec.Ports 8080/tcp in ingress mode (it listens on every node) is not allowed", 0, NULL);
        s = fx("services", "web");
        set(s, "Spec.EndpointSpec", "Mode", json_string("vip"));
        refused_as(s, "EndpointSpec.Mode vip (not dnsrr) is not allowed", 0, NULL);
        s = fx("services", "web");
        other.route_ports = db_only;
        assert_int_equal(judge_in(&in, &other, s, msg, sizeof msg), -STACK_EREJECT);
        assert_non_null(strstr(msg, "EndpointSpec.Ports 8080/tcp (not a routed port)"));
        other.route_ports = NULL;
        assert_int_equal(judge_in(&in, &other, s, msg, sizeof msg), -STACK_EREJECT);
        json_decref(s);
}

/* judge_swarm_network() of fixture name: 0, or the refusal in msg. */
static int network(const char *name, unsigned allow, char *msg, size_t size)
{
        struct judge_input in = input(allow);
        struct error err = ERROR_INIT;
        json_t *n = fx("networks", name);
        int r = judge_swarm_network(&in, n, &err);

        snprintf(msg, size, "%s", r < 0 ? err.msg : "");
        json_decref(n);
        return r;
}

static void networks_overlay_of_the_stack(void **state)
{
        static const struct {
                const char *name, *want;
                unsigned grant;
        } bad[] = {
                {"host", "network host: Driver host (the host's network) needs permission 'host-network'",
                 PERM_HOST_NETWORK},
                {"ingress", "network ingress: Ingress true (the routing mesh listens on every node) is not allowed", 0},
                {"swjudge-other_net", "network swjudge-other_net: of another stack needs permission 'external'",
                 PERM_EXTERNAL},
                {"swjudge-ok_mac", "network swjudge-ok_mac: Driver macvlan needs permission 'host-network'", 0},
                {"swjudge-ok_att", "network swjudge-ok_att: Attachable true (any container could join it)", 0},
        };
        struct judge_input in = input(0);
        struct error err = ERROR_INIT;
        char msg[1024];
        json_t *n;

        (void)state;
        assert_int_equal(network("swjudge-ok_default", 0, msg, sizeof msg), 0);
        assert_int_equal(network("swjudge-ok_enc", 0, msg, sizeof msg), 0);
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                assert_int_equal(network(bad[i].name, 0, msg, sizeof msg), -STACK_EREJECT);
                if (!strstr(msg, bad[i].want))
                        fail_msg("[%s] does not name [%s]", msg, bad[i].want);
                if (bad[i].grant && network(bad[i].name, bad[i].grant, msg, sizeof msg) != 0)
                        fail_msg("%s granted: %s", bad[i].name, msg);
        }
        n = fx("networks", "swjudge-ok_default");
        set(n, "Options", "com.docker.network.bridge.name", json_string("docker0"));
        assert_int_equal(judge_swarm_network(&in, n, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "Options com.docker.network.bridge.name is not allowed"));
        json_decref(n);
        n = fx("networks", "swjudge-ok_default");
        json_object_del(at(n, "Labels"), "com.docker.stack.namespace");
        error_clear(&err);
        assert_int_equal(judge_swarm_network(&in, n, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "not made by this stack needs permission 'external'"));
        json_decref(n);
}

/* A named volume the node already holds is used as it is: judge_services() judges it with judge_volume(). */
static void a_volume_made_before_is_judged_as_it_is(void **state)
{
        struct judge_input in = input(0);
        struct error err = ERROR_INIT;
        json_t *v;

        (void)state;
        v = fx("volumes", "swjudge-ok_data"); /* made by a task of the stack, from the spec's VolumeOptions */
        assert_int_equal(judge_volume(&in, "service swjudge-ok_db", v, false, &err), 0);
        json_decref(v);
        v = fx("volumes", "swjudge-ok_pre"); /* made beforehand under the stack's name, a bind of /etc */
        assert_int_equal(judge_volume(&in, "service swjudge-ok_db", v, false, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "service swjudge-ok_db: volume swjudge-ok_pre with driver options type=none "
                                        "device=/etc needs permission 'host-bind'"));
        json_decref(v);
        v = fx("volumes", "swjudge-ok_data");
        set(v, "Labels", "com.docker.stack.namespace", json_string("other"));
        error_clear(&err);
        assert_int_equal(judge_volume(&in, "service swjudge-ok_db", v, false, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "volume swjudge-ok_data (not made by this stack's project) needs permission "
                                        "'external'"));
        json_decref(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(the_deployed_services_pass),
                cmocka_unit_test(each_hostile_service_is_refused),
                cmocka_unit_test(the_image_is_pinned_into_the_registry),
                cmocka_unit_test(the_service_is_the_stacks),
                cmocka_unit_test(what_the_judge_does_not_know_is_refused_unless_default),
                cmocka_unit_test(privileges_isolation_and_oom_as_for_a_container),
                cmocka_unit_test(mounts_of_the_stack_only),
                cmocka_unit_test(data_stays_on_its_node),
                cmocka_unit_test(limits_are_set_and_not_above_the_stacks),
                cmocka_unit_test(only_routed_ports_in_host_mode),
                cmocka_unit_test(networks_overlay_of_the_stack),
                cmocka_unit_test(a_volume_made_before_is_judged_as_it_is),
        };

        return cmocka_run_group_tests(tests, load, unload);
}
