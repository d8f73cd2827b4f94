/* test-judge.c - the judge of what the Engine was asked for (run/judge.h), fed real inspect answers: every
 * container, volume and network in tests/unit/judge-inspect.json was made on dockerd 20.10 (a compose 1.29
 * `up --no-start` of a sandboxed service, and `docker create` / `docker volume create` / `docker network
 * create` for each hostile setting), then inspected. Each hostile one is refused naming its field and the
 * permission, and accepted once that permission is granted; the sandboxed one passes with no grant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "run/judge.h"
#include "run/policy.h"
#include "testlib.h"

static json_t *fixtures;

static int load(void **state)
{
        (void)state;
        fixtures = tl_load_json("tests/unit/judge-inspect.json");
        return fixtures ? 0 : -1;
}

static int unload(void **state)
{
        (void)state;
        json_decref(fixtures);
        return 0;
}

static const json_t *fx(const char *kind, const char *name)
{
        const json_t *j = json_object_get(json_object_get(fixtures, kind), name);

        if (!j)
                fail_msg("no fixture %s/%s", kind, name);
        return j;
}

/* The fixtures' sandbox: compose ran in /tmp/ej (its binds ./d and /tmp/ej/x are inside it); the Engine that
 * made them runs on cgroup v1, where the host's cgroup namespace is every container's default. */
static struct judge_input input(unsigned allow)
{
        return (struct judge_input){.project = "ejtest",
                                    .run_dir = "/tmp/ej",
                                    .data_dir = "/tmp/ej-data/ejtest",
                                    .allow = allow,
                                    .cgroupns_host_default = true};
}

/* judge_container() on fixture name: 0, or the refusal's message in msg. */
static int judge(const char *name, unsigned allow, char *msg, size_t size)
{
        struct judge_input in = input(allow);
        struct judge_refs refs = {0};
        struct error err = ERROR_INIT;
        int r = judge_container(&in, fx("containers", name), &refs, &err);

        snprintf(msg, size, "%s", r < 0 ? err.msg : "");
        judge_refs_release(&refs);
        return r;
}

static void refused(const char *name, const char *want, unsigned grant)
{
        char msg[1024];

        assert_int_equal(judge(name, 0, msg, sizeof msg), -STACK_EREJECT);
        if (!strstr(msg, want))
                fail_msg("%s: [%s] does not name [%s]", name, msg, want);
        if (grant) {
                int r = judge(name, grant, msg, sizeof msg);
                if (r != 0)
                        fail_msg("%s granted %s: still refused: %s", name, policy_perm_name(grant), msg);
        }
}

static void the_sandboxed_compose_container_passes(void **state)
{
        char msg[1024];
        struct judge_input in = input(0);
        struct judge_refs refs = {0};
        struct error err = ERROR_INIT;

        (void)state;
        assert_int_equal(judge("compose", 0, msg, sizeof msg), 0);
        assert_int_equal(judge("limits", 0, msg, sizeof msg), 0);
        /* what it points at: its named volume and its network, for the Engine round */
        error_clear(&err);
        assert_int_equal(judge_container(&in, fx("containers", "compose"), &refs, &err), 0);
        assert_int_equal(refs.n_volumes, 1);
        assert_string_equal(refs.volumes[0], "ejtest_v");
        assert_int_equal(refs.n_networks, 1);
        assert_string_equal(refs.networks[0], "ejtest_default");
        assert_int_equal(refs.n_containers, 0);
        judge_refs_release(&refs);
        /* on an Engine whose default is a private cgroup namespace, the host's is asked for */
        in.cgroupns_host_default = false;
        error_clear(&err);
        assert_int_equal(judge_container(&in, fx("containers", "compose"), &refs, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "CgroupnsMode host needs permission 'privileged'"));
        judge_refs_release(&refs);
}

static void each_grant_is_needed_and_enough(void **state)
{
        (void)state;
        refused("privileged", "Privileged true needs permission 'privileged'", PERM_PRIVILEGED);
        refused("capadd", "CapAdd [CAP_SYS_ADMIN] needs permission 'cap-add'", PERM_CAP_ADD);
        refused("rootbind", "bind of / (outside the run dir and the data dir) needs permission 'host-bind'",
                PERM_HOST_BIND);
        refused("mountbind", "HostConfig.Mounts bind of /etc", PERM_HOST_BIND);
        refused("dockersock", "bind of the Docker socket /var/run/docker.sock needs permission 'docker-socket'",
                PERM_DOCKER_SOCKET);
        refused("hostnet", "NetworkMode host needs permission 'host-network'", PERM_HOST_NETWORK);
        refused("hostpid", "PidMode host needs permission 'host-pid'", PERM_HOST_PID);
        refused("hostipc", "IpcMode host needs permission 'host-ipc'", PERM_HOST_IPC);
        refused("userns", "UsernsMode host needs permission 'privileged'", PERM_PRIVILEGED);
        refused("uts", "UTSMode host needs permission 'privileged'", PERM_PRIVILEGED);
        refused("seccomp", "SecurityOpt seccomp=unconfined needs permission 'privileged'", PERM_PRIVILEGED);
        refused("systempaths", "MaskedPaths [] (systempaths=unconfined) needs permission 'privileged'",
                PERM_PRIVILEGED);
        refused("nonnp", "SecurityOpt without no-new-privileges needs permission 'privileged'", PERM_PRIVILEGED);
        refused("device", "Devices /dev/null needs permission 'devices'", PERM_DEVICES);
        refused("port", "PortBindings 80/tcp on all interfaces (not 127.0.0.1) needs permission 'listen'", PERM_LISTEN);
        refused("publishall", "PublishAllPorts true", PERM_LISTEN);
        refused("cgparent", "CgroupParent /evil needs permission 'privileged'", PERM_PRIVILEGED);
        /* net.* in the host's network namespace is the host's: privileged, and host-network for the mode */
        refused("sysctl", "NetworkMode host", 0);
        refused("swap", "MemorySwap -1 (unlimited swap) is not allowed", 0);
}

/* Permissions another part of stack may define (logging, ulimits, oom): refused either way without a grant. */
static void what_no_grant_names_is_refused(void **state)
{
        char msg[1024];

        (void)state;
        refused("syslog", "LogConfig.Type syslog", policy_perm_from_name("logging"));
        refused("oom", "OomScoreAdj -1000", policy_perm_from_name("oom"));
        refused("ulimit", "Ulimits rtprio=99:99", policy_perm_from_name("ulimits"));
        assert_int_equal(judge("otherproj", 0, msg, sizeof msg), -STACK_EREJECT);
        assert_non_null(strstr(msg, "the project label 'other' (not ejtest)"));
}

/* container:X and --volumes-from X are collected with their field; X of another project is refused. */
static void other_containers_are_references_judged_by_their_project(void **state)
{
        static const char *const names[] = {"netcont", "volfrom", "pidcont"};
        static const char *const fields[] = {"NetworkMode container:=", "VolumesFrom=", "PidMode container:="};
        const json_t *other = fx("containers", "otherproj"), *self = fx("containers", "compose");
        const char *other_id = json_string_value(json_object_get(other, "Id"));

        (void)state;
        for (size_t i = 0; i < 3; i++) {
                struct judge_input in = input(0);
                struct judge_refs refs = {0};
                struct error err = ERROR_INIT;
                error_clear(&err);
                assert_int_equal(judge_container(&in, fx("containers", names[i]), &refs, &err), 0);
                assert_int_equal(refs.n_containers, 1);
                assert_non_null(strstr(refs.containers[0], fields[i]));
                error_clear(&err);
                assert_int_equal(judge_reference(&in, "container x", "VolumesFrom", other_id, other, &err),
                                 -STACK_EREJECT);
                assert_non_null(strstr(err.msg, "a container of another project"));
                error_clear(&err);
                assert_int_equal(judge_reference(&in, "container x", "VolumesFrom", "gone", NULL, &err),
                                 -STACK_EREJECT);
                error_clear(&err);
                assert_int_equal(judge_reference(&in, "container x", "VolumesFrom", "web", self, &err), 0);
                judge_refs_release(&refs);
        }
}

static void volumes_local_ours_or_anonymous_only(void **state)
{
        struct judge_input in = input(0);
        struct error err = ERROR_INIT;

        (void)state;
        error_clear(&err);
        assert_int_equal(judge_volume(&in, "c", fx("volumes", "ejtest_v"), false, &err), 0);
        error_clear(&err);
        assert_int_equal(judge_volume(&in, "c", fx("volumes", "ejtest_tmp"), false, &err), 0);
        error_clear(&err);
        assert_int_equal(judge_volume(&in, "c", fx("volumes", "ejtest_proc"), false, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "volume ejtest_proc with driver options type=proc device=proc needs "
                                        "permission 'host-bind'"));
        error_clear(&err);
        assert_int_equal(judge_volume(&in, "c", fx("volumes", "ejtest_bindvol"), false, &err), -STACK_EREJECT);
        if (!strstr(err.msg, "type=none device=/etc"))
                fail_msg("%s", err.msg);
        error_clear(&err);
        assert_int_equal(judge_volume(&in, "c", fx("volumes", "other_data"), true, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "volume other_data (of another project)"));
        /* no labels: the project's own anonymous volume only when no other container uses it */
        error_clear(&err);
        assert_int_equal(judge_volume(&in, "c", fx("volumes", "plainvol_ejfx"), true, &err), 0);
        error_clear(&err);
        assert_int_equal(judge_volume(&in, "c", fx("volumes", "plainvol_ejfx"), false, &err), -STACK_EREJECT);
        in.allow = PERM_HOST_BIND;
        error_clear(&err);
        assert_int_equal(judge_volume(&in, "c", fx("volumes", "ejtest_proc"), false, &err), 0);
}

static void networks_bridge_of_the_project(void **state)
{
        struct judge_input in = input(0);
        struct error err = ERROR_INIT;

        (void)state;
        error_clear(&err);
        assert_int_equal(judge_network(&in, "c", fx("networks", "ejtest_default"), &err), 0);
        error_clear(&err);
        assert_int_equal(judge_network(&in, "c", fx("networks", "bridge"), &err), 0);
        error_clear(&err);
        assert_int_equal(judge_network(&in, "c", fx("networks", "none"), &err), 0);
        error_clear(&err);
        assert_int_equal(judge_network(&in, "c", fx("networks", "host"), &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "network host (the host's network) needs permission 'host-network'"));
        error_clear(&err);
        assert_int_equal(judge_network(&in, "c", fx("networks", "other_ejfx"), &err), -STACK_EREJECT);
        if (!strstr(err.msg, "network other_ejfx (of another project)"))
                fail_msg("%s", err.msg);
        in.allow = PERM_HOST_NETWORK;
        error_clear(&err);
        assert_int_equal(judge_network(&in, "c", fx("networks", "host"), &err), 0);
}

/* The stack's limits: a container without them or above them is refused. */
static void limits_are_set_and_not_above_the_stacks(void **state)
{
        struct judge_input in = input(0);
        struct judge_refs refs = {0};
        struct error err = ERROR_INIT;

        (void)state;
        in.memory = 64u << 20;
        in.cpus = 0.5;
        in.pids = 50;
        error_clear(&err);
        assert_int_equal(judge_container(&in, fx("containers", "limits"), &refs, &err), 0);
        judge_refs_release(&refs);
        in.pids = 10;
        error_clear(&err);
        assert_int_equal(judge_container(&in, fx("containers", "limits"), &refs, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "PidsLimit 50 (the stack's limit is 10)"));
        judge_refs_release(&refs);
        in.pids = 0;
        in.cpus = 0.25;
        error_clear(&err);
        assert_int_equal(judge_container(&in, fx("containers", "limits"), &refs, &err), -STACK_EREJECT);
        if (!strstr(err.msg, "CPUs 0.5"))
                fail_msg("%s", err.msg);
        judge_refs_release(&refs);
        in.cpus = 0;
        in.memory = 256u << 20;
        error_clear(&err);
        assert_int_equal(judge_container(&in, fx("containers", "compose"), &refs, &err), 0); /* 256m, 0.5, 100 */
        judge_refs_release(&refs);
        in.memory = 128u << 20;
        error_clear(&err);
        assert_int_equal(judge_container(&in, fx("containers", "compose"), &refs, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "Memory 268435456"));
        judge_refs_release(&refs);
        in.memory = 0;
        in.pids = 1;
        error_clear(&err);
        assert_int_equal(judge_container(&in, fx("containers", "privileged"), &refs, &err), -STACK_EREJECT);
        judge_refs_release(&refs);
}

/* Bind sources are judged where they lead: a symlink inside the run dir pointing out is outside. */
static void a_bind_through_a_symlink_is_judged_by_its_target(void **state)
{
        char dir[] = "/tmp/test-judge-XXXXXX", link[4096], data[4096];
        json_t *c = json_deep_copy(fx("containers", "compose"));
        struct judge_refs refs = {0};
        struct error err = ERROR_INIT;
        struct judge_input in = input(0);

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(link, sizeof link, "%s/up", dir);
        snprintf(data, sizeof data, "%s/data", dir);
        assert_int_equal(symlink("/etc", link), 0);
        in.run_dir = dir;
        in.data_dir = data;
        json_object_set_new(json_object_get(c, "HostConfig"), "Binds", json_pack("[s]", "placeholder"));
        json_array_set_new(json_object_get(json_object_get(c, "HostConfig"), "Binds"), 0,
                           json_sprintf("%s/up/ssl:/x:rw", dir));
        json_object_set_new(c, "Mounts", json_array());
        error_clear(&err);
        assert_int_equal(judge_container(&in, c, &refs, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "(/etc/ssl)"));
        judge_refs_release(&refs);
        /* inside the data dir, not yet made: fine; ".." out of it: not */
        json_array_set_new(json_object_get(json_object_get(c, "HostConfig"), "Binds"), 0,
                           json_sprintf("%s/data/new/state:/x:rw", dir));
        error_clear(&err);
        assert_int_equal(judge_container(&in, c, &refs, &err), 0);
        judge_refs_release(&refs);
        json_array_set_new(json_object_get(json_object_get(c, "HostConfig"), "Binds"), 0,
                           json_sprintf("%s/data/../../etc:/x:rw", dir));
        error_clear(&err);
        assert_int_equal(judge_container(&in, c, &refs, &err), -STACK_EREJECT);
        judge_refs_release(&refs);
        unlink(link);
        rmdir(dir);
        json_decref(c);
}

/* A container created from a pinned reference runs the pinned image, or is refused (a compose tool that pulled a
 * moved tag itself, pull_policy: always). */
static void a_pinned_reference_must_run_the_pinned_image(void **state)
{
        json_t *c = json_deep_copy(fx("containers", "compose"));
        char ref[] = "127.0.0.1:5000/app:1",
             id[] = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        char *pins[3] = {NULL, NULL, NULL};
        struct judge_refs refs = {0};
        struct error err = ERROR_INIT;
        struct judge_input in = input(0);

        (void)state;
        /* what the inspect answer says of the image (the fixture keeps only what the other tests read) */
        json_object_set_new(json_object_get(c, "Config"), "Image", json_string(ref));
        json_object_set_new(c, "Image", json_string(id));
        pins[0] = ref;
        pins[1] = id;
        in.pinned = pins;
        assert_int_equal(judge_container(&in, c, &refs, &err), 0);
        judge_refs_release(&refs);
        pins[1] = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        error_clear(&err);
        assert_int_equal(judge_container(&in, c, &refs, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "the version is pinned to sha256:0000"));
        judge_refs_release(&refs);
        pins[0] = "another/image:1"; /* a pin of another reference says nothing of this container */
        error_clear(&err);
        assert_int_equal(judge_container(&in, c, &refs, &err), 0);
        judge_refs_release(&refs);
        json_decref(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(the_sandboxed_compose_container_passes),
                cmocka_unit_test(a_pinned_reference_must_run_the_pinned_image),
                cmocka_unit_test(each_grant_is_needed_and_enough),
                cmocka_unit_test(what_no_grant_names_is_refused),
                cmocka_unit_test(other_containers_are_references_judged_by_their_project),
                cmocka_unit_test(volumes_local_ours_or_anonymous_only),
                cmocka_unit_test(networks_bridge_of_the_project),
                cmocka_unit_test(limits_are_set_and_not_above_the_stacks),
                cmocka_unit_test(a_bind_through_a_symlink_is_judged_by_its_target),
        };

        return cmocka_run_group_tests(tests, load, unload);
}
