/* test-backend.c - the compose backend is chosen by what each tool's `version` reports, not by its name; the
 * choice is remembered and made again when a tool changes; STACK_RUNTIME names the tool exactly; podman-compose
 * gets the arguments it understands. The tools are shell scripts on a PATH of their own that print the
 * `version` lines the real tools print (docker-compose 1.29.2, Debian 13's docker-compose 2.26.1, compose v2
 * 2.40, podman-compose 1.0.3 with Podman 4.3) and count their runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "run/backend.h"
#include "base/fsutil.h"
#include "store/store.h"
#include "testlib.h"

#define V1_OUT                                                                                      \
        "docker-compose version 1.29.2, build unknown\ndocker-py version: 5.0.3\nCPython version: " \
        "3.11.2\nOpenSSL version: OpenSSL 3.0.15 3 Sep 2024\n"
#define V2_DEBIAN_OUT "Docker Compose version 2.26.1-4\n"
#define V2_OUT        "Docker Compose version v2.40.3\n"
#define PODMAN_COMPOSE_OUT                                                                                  \
        "['podman', '--version', '']\nusing podman version: 4.3.1\npodman-composer version  1.0.3\npodman " \
        "--version \npodman version 4.3.1\nexit code: 0\n"

static char bin[1024], counter[1100], argsfile[1100];

/* A fake tool in bin: counts its runs in counter, writes its arguments to argsfile, and prints out for
 * `version` (for `docker` and `podman`: for `compose version`; `docker` without a compose plugin and Podman
 * 4.3's `podman` fail as the real ones do when compose_out is NULL). */
static void tool(const char *name, const char *compose_out)
{
        char path[1200], text[4096];
        bool sub = !strcmp(name, "docker") || !strcmp(name, "podman");

        snprintf(path, sizeof path, "%s/%s", bin, name);
        if (!compose_out)
                snprintf(text, sizeof text,
                         "#!/bin/sh\necho run >>'%s'\necho \"Error: unrecognized command \\`%s $1\\`\" >&2\nexit 125\n",
                         counter, name);
        else
                snprintf(
                        text, sizeof text,
                        "#!/bin/sh\necho run >>'%s'\necho \"$@\" >'%s'\n[ \"$%d\" = version ] || exit 0\n/bin/cat <<'OUT'\n%sOUT\n",
                        counter, argsfile, sub ? 2 : 1, compose_out);
        unlink(path);
        assert_int_equal(fs_write_atomic(path, text, strlen(text), 0755), 0);
}

static void untool(const char *name)
{
        char path[1200];

        snprintf(path, sizeof path, "%s/%s", bin, name);
        unlink(path);
}

static int runs(void)
{
        char *text = NULL;
        int n;

        if (fs_read_file(counter, 1 << 20, &text, NULL) != 0)
                return 0;
        n = tl_count_lines(text);
        free(text);
        unlink(counter);
        return n;
}

static int setup(void **state)
{
        const char *t = tl_tmpdir();

        (void)state;
        assert_true(strlen(t) < 900);
        snprintf(bin, sizeof bin, "%s/bin", t);
        snprintf(counter, sizeof counter, "%s/runs", t);
        snprintf(argsfile, sizeof argsfile, "%s/args", t);
        mkdir(bin, 0755);
        setenv("PATH", bin, 1);
        setenv("HOME", t, 1);
        unsetenv("DOCKER_CONFIG");
        unsetenv("STACK_RUNTIME");
        return 0;
}

static void detect(struct store *s, const char *name, enum backend_kind kind)
{
        struct backend *b = NULL;
        struct error err = {0};

        assert_int_equal(backend_detect(s, &b, &err), 0);
        assert_string_equal(backend_name(b), name);
        assert_int_equal(backend_kind(b), kind);
        assert_int_equal(backend_is_v1(b), kind == BACKEND_COMPOSE_V1);
        assert_int_equal(backend_v1_file(b), kind != BACKEND_COMPOSE_V2);
        backend_free(b);
}

static int detect_fails(struct store *s, char *msg, size_t size)
{
        struct backend *b = NULL;
        struct error err = {0};
        int r = backend_detect(s, &b, &err);

        assert_true(r < 0);
        assert_null(b);
        snprintf(msg, size, "%s", err.msg);
        return err.code;
}

static void test_parse(void **state)
{
        static const struct {
                const char *out;
                int r;
                enum backend_kind kind;
                const char *version;
        } cases[] = {
                {V1_OUT, 0, BACKEND_COMPOSE_V1, "1.29.2"},
                {V2_DEBIAN_OUT, 0, BACKEND_COMPOSE_V2, "2.26.1-4"},
                {V2_OUT, 0, BACKEND_COMPOSE_V2, "2.40.3"},
                {"Docker Compose version v5.0.0\n", 0, BACKEND_COMPOSE_V2, "5.0.0"},
                {PODMAN_COMPOSE_OUT, 0, BACKEND_PODMAN_COMPOSE, "1.0.3"},
                {"podman-compose version 1.3.0\npodman version 5.4.2\n", 0, BACKEND_PODMAN_COMPOSE, "1.3.0"},
                /* Podman 5's `podman compose` runs a provider and says which on stderr first */
                {">>>> Executing external compose provider \"/usr/bin/docker-compose\". Please see "
                 "podman-compose(1) for how to disable this message. <<<<\n\nDocker Compose version 2.26.1-4\n",
                 0, BACKEND_COMPOSE_V2, "2.26.1-4"},
                {">>>> Executing external compose provider \"/usr/bin/podman-compose\". <<<<\npodman-compose "
                 "version: 1.0.6\n['podman', '--version', '']\nusing podman version: 5.4.2\n",
                 0, BACKEND_PODMAN_COMPOSE, "1.0.6"},
                {"docker-compose version 0.9\n", -EINVAL, 0, NULL},
                {"Docker version 20.10.24+dfsg1, build 297e128\n", -EINVAL, 0, NULL},
                {"docker: 'compose' is not a docker command.\n", -EINVAL, 0, NULL},
                {"", -EINVAL, 0, NULL},
        };
        char version[64];

        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                enum backend_kind kind = 99;

                assert_int_equal(backend_parse_version(cases[i].out, &kind, version, sizeof version), cases[i].r);
                if (cases[i].r == 0) {
                        assert_int_equal(kind, cases[i].kind);
                        assert_string_equal(version, cases[i].version);
                }
        }
}

/* docker-compose is v1 or v2 by what it says; v2 is preferred over v1 whatever its name; a change of the
 * tools is seen without probing when nothing changed. */
static void test_detect_by_version(void **state)
{
        struct store *s = tl_store_new();

        (void)state;
        runs();
        tool("docker-compose", V1_OUT);
        detect(s, "docker-compose", BACKEND_COMPOSE_V1);
        assert_int_equal(runs(), 1);
        detect(s, "docker-compose", BACKEND_COMPOSE_V1);
        assert_int_equal(runs(), 0); /* remembered: no probe */

        /* Debian 13: docker-compose is compose v2 under the old name. The upgraded file is re-detected. */
        tool("docker-compose", V2_DEBIAN_OUT);
        detect(s, "docker-compose", BACKEND_COMPOSE_V2);
        assert_int_equal(runs(), 1);

        /* the same bytes written again (a reinstall): a new inode and mtime, probed again */
        tool("docker-compose", V1_OUT);
        detect(s, "docker-compose", BACKEND_COMPOSE_V1);
        tool("docker-compose", V1_OUT);
        runs();
        detect(s, "docker-compose", BACKEND_COMPOSE_V1);
        assert_int_equal(runs(), 1);

        /* the v2 plugin installed beside v1: v2 wins, found without removing the remembered choice */
        tool("docker", V2_OUT);
        detect(s, "docker compose", BACKEND_COMPOSE_V2);
        assert_int_equal(runs(), 1); /* docker compose answered first: docker-compose not probed */
        detect(s, "docker compose", BACKEND_COMPOSE_V2);
        assert_int_equal(runs(), 0);

        /* a docker without the plugin: docker-compose 1.29 is the only one */
        tool("docker", NULL);
        detect(s, "docker-compose", BACKEND_COMPOSE_V1);
        assert_int_equal(runs(), 2);

        /* the remembered tool gone: the next one */
        untool("docker-compose");
        tool("podman-compose", PODMAN_COMPOSE_OUT);
        tool("podman", NULL); /* Podman 4.3: no `podman compose` */
        detect(s, "podman-compose", BACKEND_PODMAN_COMPOSE);
        store_free(s);
}

/* Podman's tools only when no docker tool answers; a docker tool that reports something unknown is not used. */
static void test_detect_preference(void **state)
{
        struct store *s = tl_store_new();
        char msg[1024];

        (void)state;
        untool("docker");
        tool("docker-compose", V1_OUT);
        tool("podman", V2_OUT); /* Podman 5 with docker-compose v2 as its provider */
        tool("podman-compose", PODMAN_COMPOSE_OUT);
        detect(s, "docker-compose", BACKEND_COMPOSE_V1);

        tool("docker-compose", "hello\n");
        detect(s, "podman compose", BACKEND_COMPOSE_V2);

        untool("podman");
        untool("podman-compose");
        assert_int_equal(detect_fails(s, msg, sizeof msg), STACK_ERUNTIME);
        assert_non_null(strstr(msg, "no compose tool found"));
        store_free(s);
}

static void test_stack_runtime(void **state)
{
        struct store *s = tl_store_new();
        char msg[1024];

        (void)state;
        tool("docker", V2_OUT);
        tool("docker-compose", V1_OUT);
        tool("podman", NULL);
        tool("podman-compose", PODMAN_COMPOSE_OUT);
        detect(s, "docker compose", BACKEND_COMPOSE_V2);

        setenv("STACK_RUNTIME", "podman-compose", 1); /* exactly podman-compose, never `podman compose` */
        detect(s, "podman-compose", BACKEND_PODMAN_COMPOSE);
        runs();
        detect(s, "podman-compose", BACKEND_PODMAN_COMPOSE);
        assert_int_equal(runs(), 0); /* remembered for this STACK_RUNTIME */

        setenv("STACK_RUNTIME", "docker-compose", 1);
        detect(s, "docker-compose", BACKEND_COMPOSE_V1);

        /* Podman 4.3 has no `podman compose`: its error, one line, exit 5 */
        setenv("STACK_RUNTIME", "podman compose", 1);
        assert_int_equal(detect_fails(s, msg, sizeof msg), STACK_ERUNTIME);
        assert_non_null(strstr(msg, "unrecognized command `podman compose`"));

        setenv("STACK_RUNTIME", "podman", 1);
        assert_int_equal(detect_fails(s, msg, sizeof msg), STACK_EUSAGE);
        assert_non_null(strstr(msg, "'podman-compose'"));

        untool("podman-compose");
        setenv("STACK_RUNTIME", "podman-compose", 1);
        assert_int_equal(detect_fails(s, msg, sizeof msg), STACK_ERUNTIME);
        assert_non_null(strstr(msg, "not installed"));

        unsetenv("STACK_RUNTIME");
        detect(s, "docker compose", BACKEND_COMPOSE_V2);
        store_free(s);
}

/* podman-compose 1.0.x takes -p and -f, and neither --project-directory, `down --remove-orphans` nor
 * `logs --no-color` (argparse refuses them) */
static void call(const struct backend *b, const char *const *args, const char *want)
{
        struct backend_call c = {
                .project = "stack-x", .compose_file = "/r/.stack-compose.yaml", .project_dir = "/r", .args = args};
        struct error err = {0};
        char *text = NULL;
        int status = -1;

        assert_int_equal(backend_compose(b, &c, &status, NULL, &err), 0);
        assert_int_equal(status, 0);
        assert_int_equal(fs_read_file(argsfile, 4096, &text, NULL), 0);
        assert_string_equal(text, want);
        free(text);
}

static void test_podman_compose_args(void **state)
{
        struct store *s = tl_store_new();
        struct backend *b = NULL;
        struct error err = {0};
        const char *up[] = {"up", "-d", "--remove-orphans", NULL}, *down[] = {"down", "--remove-orphans", "-v", NULL},
                   *logs[] = {"logs", "--no-color", "--tail", "5", "web", NULL};

        (void)state;
        tool("podman-compose", PODMAN_COMPOSE_OUT);
        tool("docker-compose", V1_OUT);
        setenv("STACK_RUNTIME", "podman-compose", 1);
        assert_int_equal(backend_detect(s, &b, &err), 0);
        call(b, up, "-p stack-x -f /r/.stack-compose.yaml up -d --remove-orphans\n");
        call(b, down, "-p stack-x -f /r/.stack-compose.yaml down -v\n");
        call(b, logs, "-p stack-x -f /r/.stack-compose.yaml logs --tail 5 web\n");
        {
                /* the limits it would drop go to every container its `up` creates */
                const char *eff = "services:\n  web: {image: x, mem_limit: 1048576, memswap_limit: 1048576, "
                                  "pids_limit: 64}\n";
                char path[1200], want[2600];
                struct backend_call c = {.project = "stack-x", .compose_file = path, .args = up};
                char *text = NULL;
                int status = -1;

                snprintf(path, sizeof path, "%s/effective.yaml", bin);
                assert_int_equal(fs_write_atomic(path, eff, strlen(eff), 0644), 0);
                assert_int_equal(backend_compose(b, &c, &status, NULL, &err), 0);
                assert_int_equal(fs_read_file(argsfile, 4096, &text, NULL), 0);
                snprintf(want, sizeof want,
                         "-p stack-x -f %s --podman-run-args=--memory-swap=1048576 --pids-limit=64 up -d "
                         "--remove-orphans\n",
                         path);
                assert_string_equal(text, want);
                free(text);
                unlink(path);
        }
        backend_free(b);

        /* podman-compose 1.0.x exits 0 from `up -d` whose container did not start: its last "exit code: N" */
        {
                char path[1200], text[2048];
                struct backend_call c = {.project = "stack-x", .compose_file = "/r/c.yaml", .args = up};
                char *out = NULL;
                int status = -1;

                snprintf(path, sizeof path, "%s/podman-compose", bin);
                snprintf(text, sizeof text,
                         "#!/bin/sh\n[ \"$1\" = version ] && { echo 'podman-composer version  1.0.3'; exit 0; }\n"
                         "echo 'podman run --name=x'\necho 'exit code: 125'\necho 'podman start x'\n"
                         "echo 'Error: unable to start container'\necho 'exit code: 125'\nexit 0\n");
                unlink(path);
                assert_int_equal(fs_write_atomic(path, text, strlen(text), 0755), 0);
                assert_int_equal(backend_detect(s, &b, &err), 0);
                assert_int_equal(backend_compose(b, &c, &status, &out, &err), 0);
                assert_int_equal(status, 125);
                assert_non_null(strstr(out, "unable to start container"));
                free(out);
                backend_free(b);
        }
        setenv("STACK_RUNTIME", "docker-compose", 1);
        assert_int_equal(backend_detect(s, &b, &err), 0);
        call(b, down, "-p stack-x -f /r/.stack-compose.yaml --project-directory /r down --remove-orphans -v\n");
        backend_free(b);
        unsetenv("STACK_RUNTIME");
        store_free(s);
}

/* podman-compose drops memswap_limit and pids_limit: they go to every container it creates as --podman-run-args,
 * which only works when the services share one memory limit */
static void test_podman_run_args(void **state)
{
        const char
                *same = "services:\n  web: {image: x, mem_limit: 67108864, memswap_limit: 67108864, pids_limit: 64}\n"
                        "  db: {image: x, mem_limit: 67108864, memswap_limit: 67108864, pids_limit: 32}\n",
                *none = "services:\n  web: {image: x}\n",
                *differ = "services:\n  web: {image: x, memswap_limit: 67108864}\n"
                          "  db: {image: x, memswap_limit: 33554432}\n",
                *some = "services:\n  web: {image: x, memswap_limit: 67108864}\n  db: {image: x}\n",
                *bad = "services:\n  web: {image: x, pids_limit: 6.5}\n";
        struct error err = {0};
        char out[128];

        (void)state;
        assert_int_equal(backend_podman_run_args("c.yaml", same, strlen(same), out, sizeof out, &err), 0);
        assert_string_equal(out, "--memory-swap=67108864 --pids-limit=64");
        assert_int_equal(backend_podman_run_args("c.yaml", none, strlen(none), out, sizeof out, &err), 0);
        assert_string_equal(out, "");
        assert_int_equal(backend_podman_run_args("c.yaml", differ, strlen(differ), out, sizeof out, &err),
                         -STACK_ERUNTIME);
        assert_non_null(strstr(err.msg, "services web and db have different memory limits"));
        error_clear(&err);
        assert_int_equal(backend_podman_run_args("c.yaml", some, strlen(some), out, sizeof out, &err), -STACK_ERUNTIME);
        error_clear(&err);
        assert_int_equal(backend_podman_run_args("c.yaml", bad, strlen(bad), out, sizeof out, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "pids_limit is not a whole number"));
        error_clear(&err);
        assert_int_equal(backend_podman_run_args("c.yaml", same, strlen(same), out, 20, &err), -STACK_EFAIL);
        error_clear(&err);
}

/* A call begun early (docker-compose 1.x only): the tool starts with `-f -` in the folder given, and gets the file
 * on its standard input at the finish; cancelled, it is killed before it reads anything; a tool that ended before
 * its file came is waited for like any other (its status), without a SIGPIPE. */
static void early_tool(const char *body)
{
        char path[1200], text[4096];

        snprintf(path, sizeof path, "%s/docker-compose", bin);
        snprintf(text, sizeof text,
                 "#!/bin/sh\n[ \"$1\" = version ] && { /bin/cat <<'OUT'\n%sOUT\nexit 0; }\necho \"$@\" >'%s'\n%s",
                 V1_OUT, argsfile, body);
        unlink(path);
        assert_int_equal(fs_write_atomic(path, text, strlen(text), 0755), 0);
}

static void test_early(void **state)
{
        struct store *s = tl_store_new();
        struct backend *b = NULL;
        struct backend_early *x = NULL;
        struct error err = {0};
        const char *create[] = {"up", "--no-start", "--remove-orphans", NULL};
        const char *eff = "services:\n  web: {image: x}\n";
        char dir[1200], file[1300], got[1300], mark[1300], body[4096], want[1400], *text = NULL;
        struct backend_call c = {.project = "stack-x", .compose_file = file, .project_dir = dir, .args = create};
        int status = -1;

        (void)state;
        snprintf(dir, sizeof dir, "%s/run", bin);
        snprintf(file, sizeof file, "%s/.stack-compose.yaml", dir);
        snprintf(got, sizeof got, "%s/got", bin);
        snprintf(mark, sizeof mark, "%s/mark", bin);
        mkdir(dir, 0755);
        assert_int_equal(fs_write_atomic(file, eff, strlen(eff), 0644), 0);
        /* what it read on its input, and where it ran */
        snprintf(body, sizeof body, "/bin/cat >'%s'\npwd >>'%s'\necho created >'%s'\n", got, got, mark);
        early_tool(body);
        setenv("STACK_RUNTIME", "docker-compose", 1);
        assert_int_equal(backend_detect(s, &b, &err), 0);
        assert_true(backend_early_ok(b));
        assert_int_equal(backend_early_start(b, &c, dir, &x, &err), 0);
        assert_int_equal(backend_early_finish(x, &status, NULL, &err), 0);
        assert_int_equal(status, 0);
        assert_int_equal(fs_read_file(got, 4096, &text, NULL), 0);
        snprintf(want, sizeof want, "%s%s\n", eff, dir);
        assert_string_equal(text, want);
        free(text);
        assert_int_equal(fs_read_file(argsfile, 4096, &text, NULL), 0);
        snprintf(want, sizeof want, "-p stack-x -f - --project-directory %s up --no-start --remove-orphans\n", dir);
        assert_string_equal(text, want);
        free(text);

        /* cancelled while it waits for its file: killed, nothing done */
        unlink(mark);
        assert_int_equal(backend_early_start(b, &c, dir, &x, &err), 0);
        backend_early_cancel(x);
        assert_int_equal(access(mark, F_OK), -1);

        /* a tool that ends without reading its input: its status */
        early_tool("echo 'no such thing' >&2\nexit 2\n");
        assert_int_equal(backend_early_start(b, &c, dir, &x, &err), 0);
        usleep(200 * 1000);
        assert_int_equal(backend_early_finish(x, &status, &text, &err), 0);
        assert_int_equal(status, 2);
        assert_non_null(strstr(text, "no such thing"));
        free(text);
        backend_free(b);

        /* compose v2 starts in milliseconds: never early */
        tool("docker-compose", V2_OUT);
        assert_int_equal(backend_detect(s, &b, &err), 0);
        assert_false(backend_early_ok(b));
        assert_int_equal(backend_early_start(b, &c, dir, &x, &err), -STACK_EFAIL);
        assert_null(x);
        error_clear(&err);
        backend_free(b);
        unsetenv("STACK_RUNTIME");
        untool("docker-compose");
        store_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_detect_by_version),
                cmocka_unit_test(test_detect_preference),
                cmocka_unit_test(test_stack_runtime),
                cmocka_unit_test(test_podman_compose_args),
                cmocka_unit_test(test_podman_run_args),
                cmocka_unit_test(test_early),
        };
        return cmocka_run_group_tests(tests, setup, NULL);
}
