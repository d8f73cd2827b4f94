/* test-engine.c - the Engine API client against the real Docker Engine of this machine (no mocks).
 *
 * A tiny image is made from Debian's busybox-static (`docker import`) when the Engine lacks it. The docker CLI
 * (/usr/bin/docker, Debian's) prepares and cleans up; what is checked is what engine.c reports. No Engine
 * answering is a failure, not a skip: CI always has one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/mem.h"
#include "run/engine.h"
#include "store/imagearchive.h"
#include "testlib.h"

#define DOCKER "/usr/bin/docker"
#define IMAGE  "stack-test/engine:1"

static char tag[64];      /* random per run: labels, names and load tags of concurrent runs never meet */
static char *docker_host; /* DOCKER_HOST as the test found it (a rootless CI Engine), restored after each change */

static void restore_docker_host(void)
{
        if (docker_host)
                setenv("DOCKER_HOST", docker_host, 1);
        else
                unsetenv("DOCKER_HOST");
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
        char cmd[4096];
        va_list ap;
        int r;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof cmd, fmt, ap);
        va_end(ap);
        r = system(cmd);
        return r == -1 ? -1 : WIFEXITED(r) ? WEXITSTATUS(r) : 128;
}

/* First line of a command's output (trailing newline dropped). */
static int sh_line(char *out, size_t cap, const char *cmd)
{
        FILE *p = popen(cmd, "r");
        int r;

        out[0] = 0;
        if (!p)
                return -1;
        if (!fgets(out, (int)cap, p))
                out[0] = 0;
        out[strcspn(out, "\n")] = 0;
        r = pclose(p);
        return WIFEXITED(r) ? WEXITSTATUS(r) : 128;
}

static int open_fd(const char *path, uint64_t *ret_size)
{
        struct stat st;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        if (ret_size)
                *ret_size = (uint64_t)st.st_size;
        return fd;
}

static void write_file(const char *path, const void *data, size_t len)
{
        FILE *f = fopen(path, "wb");

        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
}

/* A rootfs with busybox and a few applet links, imported as `ref`. */
static int import_busybox(const char *ref)
{
        const char *dir = tl_tmpdir();

        if (access("/bin/busybox", X_OK))
                return -1;
        return sh("set -e; cd '%s'; mkdir -p rootfs/bin; cp /bin/busybox rootfs/bin/busybox; "
                  "for a in sh echo sleep httpd true; do ln -s busybox rootfs/bin/$a; done; "
                  "tar -C rootfs -c . | " DOCKER " import - '%s' >/dev/null",
                  dir, ref);
}

static int group_setup(void **state)
{
        const char *host = getenv("DOCKER_HOST");
        struct engine *e = NULL;
        struct error err = ERROR_INIT;

        srandom((unsigned)time(NULL) ^ (unsigned)getpid());
        snprintf(tag, sizeof tag, "t%d-%ld", (int)getpid(), random() % 1000000);
        if (host && *host)
                docker_host = strdup(host);
        if (engine_open(&e, &err) < 0) {
                fprintf(stderr, "test-engine: no Docker Engine answers on this machine: %s\n", err.msg);
                return -1; /* fails the whole group, loudly */
        }
        engine_free(e);
        if (sh(DOCKER " image inspect " IMAGE " >/dev/null 2>&1") != 0 && import_busybox(IMAGE) != 0) {
                fprintf(stderr, "test-engine: cannot make %s (is busybox-static installed?)\n", IMAGE);
                return -1;
        }
        return 0;
}

static int group_teardown(void **state)
{
        sh(DOCKER " ps -aq --filter label=io.stack.test=%s 2>/dev/null | xargs -r " DOCKER " rm -f >/dev/null 2>&1",
           tag);
        sh(DOCKER " rmi -f stack-test/engine-load:%s >/dev/null 2>&1", tag);
        free(docker_host);
        return 0;
}

static void open_pings_the_engine_on_the_default_socket(void **state)
{
        struct engine *e = NULL;
        struct error err = ERROR_INIT;

        assert_int_equal(engine_open(&e, &err), 0);
        assert_string_equal(engine_socket(e), docker_host ? docker_host + strlen("unix://") : "/var/run/docker.sock");
        engine_free(e);
        engine_free(NULL);
}

static void open_honours_a_unix_docker_host(void **state)
{
        struct engine *e = NULL;
        struct error err = ERROR_INIT;

        char env[600];

        snprintf(env, sizeof env, "unix://%s", docker_host ? docker_host + strlen("unix://") : "/var/run/docker.sock");
        setenv("DOCKER_HOST", env, 1);
        assert_int_equal(engine_open(&e, &err), 0);
        restore_docker_host();
        assert_string_equal(engine_socket(e), env + strlen("unix://"));
        engine_free(e);
}

static void open_without_engine_says_not_running_and_how_to_start_it(void **state)
{
        struct engine *e = NULL;
        struct error err = ERROR_INIT;

        setenv("DOCKER_HOST", "unix:///nonexistent", 1);
        assert_int_equal(engine_open(&e, &err), -STACK_ERUNTIME);
        restore_docker_host();
        assert_null(e);
        assert_int_equal(err.code, STACK_ERUNTIME);
        assert_non_null(strstr(err.msg, "not running"));
        assert_non_null(strstr(err.msg, "/nonexistent"));
        assert_non_null(strstr(err.msg, "systemctl start docker"));
}

static void open_refuses_a_tcp_docker_host(void **state)
{
        struct engine *e = NULL;
        struct error err = ERROR_INIT;

        setenv("DOCKER_HOST", "tcp://127.0.0.1:2375", 1);
        assert_int_equal(engine_open(&e, &err), -STACK_ERUNTIME);
        restore_docker_host();
        assert_null(e);
        assert_non_null(strstr(err.msg, "only unix:// DOCKER_HOST is supported"));
}

static void open_on_a_socket_nobody_listens_on_says_not_running(void **state)
{
        /* A stale socket file (dockerd died): connect is refused, not "no such file". */
        char path[512], env[600];
        struct engine *e = NULL;
        struct error err = ERROR_INIT;

        snprintf(path, sizeof path, "%s/stale.sock", tl_tmpdir());
        assert_int_equal(
                sh("python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' '%s'", path), 0);
        snprintf(env, sizeof env, "unix://%s", path);
        setenv("DOCKER_HOST", env, 1);
        assert_int_equal(engine_open(&e, &err), -STACK_ERUNTIME);
        restore_docker_host();
        assert_non_null(strstr(err.msg, "not running"));
}

/* A stand-in Engine (tests/e2e/fake_engine.py) on its own socket, claiming the API versions in args; DOCKER_HOST
 * points at it until restore_docker_host(). Its requests are logged to <name>.log. Returns its pid. */
static char fake_dir[512]; /* the last start_fake's directory */

static int start_fake(const char *name, const char *args)
{
        const char *src = getenv("STACK_SRC");
        char sock[600], out[600], cmd[700], pid[32], env[700];

        snprintf(fake_dir, sizeof fake_dir, "%s", tl_tmpdir());
        snprintf(sock, sizeof sock, "%s/%s.sock", fake_dir, name);
        snprintf(out, sizeof out, "%s/%s.out", fake_dir, name);
        assert_int_equal(sh("python3 '%s/tests/e2e/fake_engine.py' '%s' '%s/%s.log' %s >'%s' 2>&1 & echo $! >'%s.pid'",
                            src ? src : ".", sock, fake_dir, name, args, out, out),
                         0);
        for (int i = 0; i < 100 && sh("grep -q ready '%s' 2>/dev/null", out); i++)
                usleep(100000);
        assert_int_equal(sh("grep -q ready '%s'", out), 0);
        snprintf(cmd, sizeof cmd, "cat '%s.pid'", out);
        assert_int_equal(sh_line(pid, sizeof pid, cmd), 0);
        snprintf(env, sizeof env, "unix://%s", sock);
        setenv("DOCKER_HOST", env, 1);
        return atoi(pid);
}

static void stop_fake(int pid)
{
        restore_docker_host();
        if (pid > 0)
                kill(pid, SIGTERM);
}

static void open_speaks_the_newest_version_both_know(void **state)
{
        char upstream[700], log[600];
        struct engine *e = NULL;
        struct error err = ERROR_INIT;
        bool yes = false;
        int pid;

        (void)state;
        snprintf(upstream, sizeof upstream, "--api 1.55 --min 1.44 --upstream '%s'",
                 docker_host ? docker_host + strlen("unix://") : "/var/run/docker.sock");
        pid = start_fake("v155", upstream);
        assert_int_equal(engine_open(&e, &err), 0);
        assert_int_equal(engine_image_exists(e, IMAGE, &yes, &err), 0);
        assert_true(yes);
        engine_free(e);
        stop_fake(pid);
        snprintf(log, sizeof log, "%s/v155.log", fake_dir);
        assert_int_equal(sh("grep -q '^stack GET /v1.52/images/stack-test/engine:1/json 200$' '%s'", log), 0);
        assert_int_equal(sh("grep '^stack ' '%s' | grep -v ' /_ping \\| /version \\| /v1.52/' | grep -q .", log), 1);
}

static void open_refuses_engines_it_cannot_speak_to(void **state)
{
        struct engine *e = NULL;
        struct error err = ERROR_INIT;
        int pid;

        (void)state;
        pid = start_fake("v130", "--api 1.30 --min 1.12");
        assert_int_equal(engine_open(&e, &err), -STACK_ERUNTIME);
        stop_fake(pid);
        assert_null(e);
        assert_non_null(strstr(err.msg, "speaks API 1.30, older than API 1.41"));
        assert_null(strchr(err.msg, '\n'));
        error_clear(&err);

        /* Says 1.41 (and no floor), then refuses 1.41 the way dockerd with DOCKER_MIN_API_VERSION=1.44 does. */
        pid = start_fake("refusing", "--api 1.41 --floor 1.44");
        assert_int_equal(engine_open(&e, &err), -STACK_ERUNTIME);
        stop_fake(pid);
        assert_non_null(strstr(err.msg, "refuses API 1.41"));
        assert_non_null(strstr(err.msg, "client version 1.41 is too old. Minimum supported API version is 1.44"));
        error_clear(&err);

        pid = start_fake("v160", "--api 1.60 --min 1.53");
        assert_int_equal(engine_open(&e, &err), -STACK_ERUNTIME);
        stop_fake(pid);
        assert_non_null(strstr(err.msg, "accepts API 1.53 and newer only; stack speaks at most API 1.52"));
        error_clear(&err);
}

static void image_exists_reports_an_engine_refusal_as_the_engines(void **state)
{
        char args[700];
        struct engine *e = NULL;
        struct error err = ERROR_INIT;
        bool yes = false;
        int pid;

        (void)state;
        snprintf(args, sizeof args, "--api 1.55 --min 1.44 --refuse-image-inspect --upstream '%s'",
                 docker_host ? docker_host + strlen("unix://") : "/var/run/docker.sock");
        pid = start_fake("noinspect", args);
        assert_int_equal(engine_open(&e, &err), 0);
        assert_int_equal(engine_image_exists(e, IMAGE, &yes, &err), -STACK_ERUNTIME); /* not EREJECT (exit 3) */
        engine_free(e);
        stop_fake(pid);
        assert_non_null(strstr(err.msg, "HTTP 400: simulated refusal of the image inspect"));
}

static void image_exists_tells_present_from_absent(void **state)
{
        struct engine *e = NULL;
        struct error err = ERROR_INIT;
        bool yes = false, no = true;

        assert_int_equal(engine_open(&e, &err), 0);
        assert_int_equal(engine_image_exists(e, IMAGE, &yes, &err), 0);
        assert_true(yes);
        assert_int_equal(engine_image_exists(e, "stack-test/nonexistent:0", &no, &err), 0);
        assert_false(no);
        assert_int_equal(err.code, 0);
        /* Odd characters are escaped, not spliced into the path: the Engine sees (and refuses) the whole name. */
        assert_int_equal(engine_image_exists(e, "stack-test/none?x=1#y:0", &no, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "'stack-test/none?x=1#y:0' is not valid"));
        assert_non_null(strstr(err.msg, "invalid reference format"));
        engine_free(e);
}

static void archive_refs_reads_docker_save_repo_tags(void **state)
{
        char path[512];
        char **refs = NULL;
        struct error err = ERROR_INIT;
        int fd;

        snprintf(path, sizeof path, "%s/saved.tar", tl_tmpdir());
        assert_int_equal(sh(DOCKER " save " IMAGE " -o '%s'", path), 0);
        fd = open_fd(path, NULL);
        assert_int_equal(ia_archive_refs(fd, &refs, &err), 0);
        close(fd);
        assert_non_null(refs);
        assert_string_equal(refs[0], IMAGE);
        assert_null(refs[1]);
        strv_free(refs);

        /* The same archive gzipped. */
        assert_int_equal(sh("gzip -k '%s'", path), 0);
        strcat(path, ".gz");
        fd = open_fd(path, NULL);
        assert_int_equal(ia_archive_refs(fd, &refs, &err), 0);
        close(fd);
        assert_string_equal(refs[0], IMAGE);
        assert_null(refs[1]);
        strv_free(refs);
        strv_free(NULL);
}

static void archive_refs_reads_oci_index_annotations(void **state)
{
        const char *dir = tl_tmpdir();
        const char *index =
                "{\"schemaVersion\":2,\"manifests\":["
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:00\",\"size\":1,"
                "\"annotations\":{\"io.containerd.image.name\":\"docker.io/stack-test/oci:2\","
                "\"org.opencontainers.image.ref.name\":\"2\"}},"
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:01\",\"size\":1,"
                "\"annotations\":{\"org.opencontainers.image.ref.name\":\"stack-test/oci:3\"}}]}";
        char path[512], file[512];
        char **refs = NULL;
        struct error err = ERROR_INIT;
        int fd;

        snprintf(file, sizeof file, "%s/index.json", dir);
        write_file(file, index, strlen(index));
        snprintf(file, sizeof file, "%s/oci-layout", dir);
        write_file(file, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
        snprintf(path, sizeof path, "%s/oci.tar.gz", dir);
        assert_int_equal(sh("tar -C '%s' -czf '%s' ./oci-layout ./index.json", dir, path), 0);
        fd = open_fd(path, NULL);
        assert_int_equal(ia_archive_refs(fd, &refs, &err), 0);
        close(fd);
        assert_string_equal(refs[0], "docker.io/stack-test/oci:2");
        assert_string_equal(refs[1], "stack-test/oci:3");
        assert_null(refs[2]);
        strv_free(refs);
}

static void archive_refs_refuses_a_tar_that_is_no_image_archive(void **state)
{
        const char *dir = tl_tmpdir();
        char path[512], file[512];
        char **refs = NULL;
        struct error err = ERROR_INIT;
        int fd;

        snprintf(file, sizeof file, "%s/hello.txt", dir);
        write_file(file, "hello\n", 6);
        snprintf(path, sizeof path, "%s/plain.tar", dir);
        assert_int_equal(sh("tar -C '%s' -cf '%s' hello.txt", dir, path), 0);
        fd = open_fd(path, NULL);
        assert_int_equal(ia_archive_refs(fd, &refs, &err), -STACK_EREJECT);
        close(fd);
        assert_null(refs);
        assert_non_null(strstr(err.msg, "not a docker save or OCI image archive"));
}

static void archive_refs_refuses_garbage_and_a_huge_manifest(void **state)
{
        const char *dir = tl_tmpdir();
        char path[512], file[512];
        char **refs = NULL;
        struct error err = ERROR_INIT;
        int fd;

        snprintf(path, sizeof path, "%s/garbage.tar", dir);
        assert_int_equal(sh("head -c 100000 /dev/urandom > '%s'", path), 0);
        fd = open_fd(path, NULL);
        assert_int_equal(ia_archive_refs(fd, &refs, &err), -STACK_EREJECT);
        close(fd);
        assert_null(refs);
        assert_non_null(strstr(err.msg, "not a docker save or OCI image archive"));

        /* manifest.json over the 1 MiB bound: refused without being held whole. */
        error_clear(&err);
        snprintf(file, sizeof file, "%s/manifest.json", dir);
        assert_int_equal(sh("(printf '['; head -c 2000000 /dev/zero | tr '\\0' ' '; printf ']') > '%s'", file), 0);
        snprintf(path, sizeof path, "%s/huge.tar", dir);
        assert_int_equal(sh("tar -C '%s' -cf '%s' manifest.json", dir, path), 0);
        fd = open_fd(path, NULL);
        assert_int_equal(ia_archive_refs(fd, &refs, &err), -STACK_EREJECT);
        close(fd);
        assert_null(refs);
        assert_non_null(strstr(err.msg, "larger than"));
}

static void image_load_streams_a_saved_archive_back(void **state)
{
        char ref[128], path[512];
        struct engine *e = NULL;
        struct error err = ERROR_INIT;
        char **refs = NULL;
        uint64_t size;
        bool present = true;
        int fd;

        /* An image of its own (import makes a new one each time), so a concurrent run keeps IMAGE. */
        snprintf(ref, sizeof ref, "stack-test/engine-load:%s", tag);
        assert_int_equal(import_busybox(ref), 0);
        snprintf(path, sizeof path, "%s/load.tar", tl_tmpdir());
        assert_int_equal(sh(DOCKER " save '%s' -o '%s'", ref, path), 0);
        assert_int_equal(sh(DOCKER " rmi '%s' >/dev/null", ref), 0);

        assert_int_equal(engine_open(&e, &err), 0);
        assert_int_equal(engine_image_exists(e, ref, &present, &err), 0);
        assert_false(present);

        fd = open_fd(path, &size);
        assert_int_equal(ia_archive_refs(fd, &refs, &err), 0);
        assert_string_equal(refs[0], ref);
        strv_free(refs);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0); /* ia_archive_refs leaves the offset anywhere */
        assert_int_equal(engine_image_load(e, fd, size, "load.tar", &err), 0);
        close(fd);
        assert_int_equal(err.code, 0);
        assert_int_equal(engine_image_exists(e, ref, &present, &err), 0);
        assert_true(present);
        engine_free(e);
        sh(DOCKER " rmi '%s' >/dev/null 2>&1", ref);
}

static void image_load_refuses_a_truncated_archive(void **state)
{
        char saved[512], cut[512];
        struct engine *e = NULL;
        struct error err = ERROR_INIT;
        uint64_t size;
        int fd;

        snprintf(saved, sizeof saved, "%s/whole.tar", tl_tmpdir());
        snprintf(cut, sizeof cut, "%s/cut.tar", tl_tmpdir());
        assert_int_equal(sh(DOCKER " save " IMAGE " -o '%s'", saved), 0);
        assert_int_equal(sh("head -c 1200000 '%s' > '%s'", saved, cut), 0);
        assert_int_equal(engine_open(&e, &err), 0);
        fd = open_fd(cut, &size);
        assert_int_equal(engine_image_load(e, fd, size, "cut.tar", &err), -STACK_EREJECT);
        close(fd);
        assert_int_equal(err.code, STACK_EREJECT);
        assert_non_null(strstr(err.msg, "image archive cut.tar: "));
        assert_true(strlen(err.msg) > strlen("image archive cut.tar: "));
        engine_free(e);
}

static void image_load_refuses_garbage_small_and_large(void **state)
{
        static const unsigned sizes[] = {4096, 24u << 20}; /* the large one outruns what the Engine reads */
        struct engine *e = NULL;
        bool present = false;
        struct error err = ERROR_INIT;
        char path[512];
        uint64_t size;
        int fd;

        assert_int_equal(engine_open(&e, &err), 0);
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
                snprintf(path, sizeof path, "%s/garbage.tar", tl_tmpdir());
                assert_int_equal(sh("head -c %u /dev/urandom > '%s'", sizes[i], path), 0);
                error_clear(&err);
                fd = open_fd(path, &size);
                assert_int_equal(engine_image_load(e, fd, size, "garbage.tar", &err), -STACK_EREJECT);
                close(fd);
                assert_non_null(strstr(err.msg, "image archive garbage.tar: "));
        }
        /* The handle still works after a refused load. */
        error_clear(&err);
        assert_int_equal(engine_image_exists(e, IMAGE, &present, &err), 0);
        assert_true(present);
        engine_free(e);
}

static void image_load_reports_an_archive_shorter_than_announced(void **state)
{
        char path[512];
        struct engine *e = NULL;
        struct error err = ERROR_INIT;
        uint64_t size;
        int fd;

        snprintf(path, sizeof path, "%s/short.tar", tl_tmpdir());
        assert_int_equal(sh(DOCKER " save " IMAGE " -o '%s'", path), 0);
        assert_int_equal(engine_open(&e, &err), 0);
        fd = open_fd(path, &size);
        assert_int_equal(engine_image_load(e, fd, size + 4096, "short.tar", &err), -STACK_ESTORE);
        close(fd);
        assert_non_null(strstr(err.msg, "short.tar ended after"));
        engine_free(e);
}

static const struct engine_container *find(const struct engine_container *c, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (c[i].name && !strcmp(c[i].name, name))
                        return &c[i];
        return NULL;
}

static void list_containers_reports_running_and_exited_by_label(void **state)
{
        char label[128], run_name[128], exit_name[128], cmd[512], code[32];
        struct engine *e = NULL;
        struct error err = ERROR_INIT;
        struct engine_container *c = NULL;
        const struct engine_container *r, *x;
        size_t n = 99;

        snprintf(label, sizeof label, "io.stack.test=%s", tag);
        snprintf(run_name, sizeof run_name, "stack-test-engine-%s-a", tag);
        snprintf(exit_name, sizeof exit_name, "stack-test-engine-%s-b", tag);
        /* --network none: the engine under test may have no bridge network. */
        assert_int_equal(sh(DOCKER
                            " run -d --network none --name %s --label %s --label io.stack.run=run-%s "
                            "--label com.docker.compose.service=web --health-cmd true --health-interval 1s " IMAGE
                            " sleep 30 >/dev/null",
                            run_name, label, tag),
                         0);
        assert_int_equal(sh(DOCKER " run -d --network none --name %s --label %s " IMAGE " sh -c 'exit 3' >/dev/null",
                            exit_name, label),
                         0);
        snprintf(cmd, sizeof cmd, DOCKER " wait %s", exit_name);
        assert_int_equal(sh_line(code, sizeof code, cmd), 0);
        assert_string_equal(code, "3");

        assert_int_equal(engine_open(&e, &err), 0);
        assert_int_equal(engine_list_containers(e, label, &c, &n, &err), 0);
        assert_int_equal(err.code, 0);
        assert_int_equal(n, 2);
        /* Sorted by name. */
        assert_string_equal(c[0].name, run_name);
        assert_string_equal(c[1].name, exit_name);
        r = find(c, n, run_name);
        x = find(c, n, exit_name);
        assert_non_null(r);
        assert_non_null(x);

        assert_true(strlen(r->id) >= 12);
        assert_string_equal(r->state, "running");
        assert_string_equal(r->service, "web");
        assert_non_null(r->run_label);
        assert_true(!strncmp(r->run_label, "run-", 4));
        assert_non_null(r->health);
        assert_true(!strcmp(r->health, "starting") || !strcmp(r->health, "healthy"));
        assert_int_equal(r->n_ports, 0);

        assert_string_equal(x->state, "exited");
        assert_int_equal(x->exit_code, 3);
        assert_null(x->health);
        assert_null(x->service);
        assert_null(x->run_label);
        engine_containers_free(c, n);

        /* A label nobody carries lists nothing. */
        c = NULL;
        n = 99;
        snprintf(label, sizeof label, "io.stack.test=%s-nobody", tag);
        assert_int_equal(engine_list_containers(e, label, &c, &n, &err), 0);
        assert_int_equal(n, 0);
        engine_containers_free(c, n);
        engine_containers_free(NULL, 0);
        engine_free(e);

        assert_int_equal(sh(DOCKER " rm -f %s %s >/dev/null", run_name, exit_name), 0);
}

/* ---- taking a project down ---- */

/* How many lines a docker CLI listing prints (the objects it names). */
static int count_lines(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int count_lines(const char *fmt, ...)
{
        char cmd[1024], line[512];
        va_list ap;
        FILE *p;
        int n = 0;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof cmd, fmt, ap);
        va_end(ap);
        p = popen(cmd, "r");
        assert_non_null(p);
        while (fgets(line, sizeof line, p))
                if (line[0] != '\n')
                        n++;
        assert_int_equal(pclose(p), 0);
        return n;
}

static int containers_of(const char *project)
{
        return count_lines(DOCKER " ps -aq --filter label=com.docker.compose.project=%s", project);
}

static int networks_of(const char *project)
{
        return count_lines(DOCKER " network ls -q --filter label=com.docker.compose.project=%s", project);
}

static int volumes_of(const char *project)
{
        return count_lines(DOCKER " volume ls -q --filter label=com.docker.compose.project=%s", project);
}

static void container_stats_reads_limits_pids_and_cpu_between_two_samples(void **state)
{
        char name[128], id[128], cmd[512];
        struct engine *e = NULL;
        struct error err = ERROR_INIT;
        struct engine_stats a, b, still;
        struct timespec wait = {0, 500 * 1000000L};

        snprintf(name, sizeof name, "stack-test-engine-%s-stats", tag);
        assert_int_equal(sh(DOCKER " run -d --network none --name %s --label io.stack.test=%s --memory 64m "
                                   "--pids-limit 50 " IMAGE " sh -c 'while :; do :; done' >/dev/null",
                            name, tag),
                         0);
        snprintf(cmd, sizeof cmd, DOCKER " inspect -f '{{.Id}}' %s", name);
        assert_int_equal(sh_line(id, sizeof id, cmd), 0);
        assert_int_equal(engine_open(&e, &err), 0);
        assert_int_equal(engine_container_stats(e, id, &a, &err), 0);
        nanosleep(&wait, NULL);
        assert_int_equal(engine_container_stats(e, id, &b, &err), 0);
        assert_int_equal(b.mem_limit, 64u << 20);
        assert_true(b.mem_used > 0 && b.mem_used < b.mem_limit);
        assert_true(b.pids >= 1);
        assert_true(b.online_cpus >= 1);
        assert_true(b.cpu_total > a.cpu_total && b.cpu_system > a.cpu_system);
        /* a busy loop: well above nothing, at most every CPU */
        assert_true(engine_stats_cpu_percent(&a, &b) > 5.0);
        assert_true(engine_stats_cpu_percent(&a, &b) <= 100.0 * b.online_cpus + 1.0);
        /* counters that did not move forward (the same sample, or the older one second) say 0 */
        still = b;
        assert_true(engine_stats_cpu_percent(&b, &still) == 0.0);
        assert_true(engine_stats_cpu_percent(&b, &a) == 0.0);
        assert_int_equal(sh(DOCKER " rm -f %s >/dev/null", name), 0);
        assert_int_equal(engine_container_stats(e, id, &a, &err), -STACK_ENOTFOUND);
        engine_free(e);
}

static void assert_removed(const struct engine_removed *rm, unsigned containers, unsigned networks, unsigned volumes)
{
        assert_int_equal(rm->containers, containers);
        assert_int_equal(rm->networks, networks);
        assert_int_equal(rm->volumes, volumes);
}

/* A compose-like project: network P_default, volume P_data, a running and a created container on both. */
static void make_project(const char *project)
{
        assert_int_equal(sh(DOCKER " network create --label com.docker.compose.project=%s --label io.stack.test=%s "
                                   "%s_default >/dev/null",
                            project, tag, project),
                         0);
        assert_int_equal(sh(DOCKER " volume create --label com.docker.compose.project=%s --label io.stack.test=%s "
                                   "%s_data >/dev/null",
                            project, tag, project),
                         0);
        assert_int_equal(sh(DOCKER " run -d --name %s-web-1 --network %s_default -v %s_data:/data "
                                   "--label com.docker.compose.project=%s --label io.stack.test=%s "
                                   "--label io.stack.run=run-%s-a " IMAGE " sleep 60 >/dev/null",
                            project, project, project, project, tag, tag),
                         0);
        assert_int_equal(sh(DOCKER " create --name %s-db-1 --network %s_default -v %s_data:/data "
                                   "--label com.docker.compose.project=%s --label io.stack.test=%s "
                                   "--label io.stack.run=run-%s-b " IMAGE " sleep 60 >/dev/null",
                            project, project, project, project, tag, tag),
                         0);
}

static void remove_project_everything(const char *project)
{
        sh(DOCKER " ps -aq --filter label=com.docker.compose.project=%s | xargs -r " DOCKER " rm -f >/dev/null 2>&1",
           project);
        sh(DOCKER " network rm %s_default >/dev/null 2>&1", project);
        sh(DOCKER " volume rm -f %s_data >/dev/null 2>&1", project);
}

static void remove_project_takes_down_exactly_its_containers_and_networks(void **state)
{
        char project[64], other[64];
        struct engine *e = NULL;
        struct error err = ERROR_INIT;
        struct engine_removed rm = {.containers = 99};

        snprintf(project, sizeof project, "stack-test-rm-%d", (int)getpid());
        snprintf(other, sizeof other, "stack-test-rm-%d-other", (int)getpid());
        make_project(project);
        /* Another project, whose name starts with this one's: the label filter must match exactly. */
        assert_int_equal(sh(DOCKER " run -d --network none --name %s-web-1 --label com.docker.compose.project=%s "
                                   "--label io.stack.test=%s " IMAGE " sleep 60 >/dev/null",
                            other, other, tag),
                         0);
        assert_int_equal(containers_of(project), 2);
        assert_int_equal(networks_of(project), 1);

        assert_int_equal(engine_open(&e, &err), 0);
        assert_int_equal(engine_remove_project(e, project, false, &rm, &err), 0);
        assert_int_equal(err.code, 0);
        assert_removed(&rm, 2, 1, 0);
        assert_null(rm.kept);
        engine_removed_release(&rm);
        assert_int_equal(containers_of(project), 0);
        assert_int_equal(networks_of(project), 0);
        /* Without volumes the data stays. */
        assert_int_equal(volumes_of(project), 1);
        assert_int_equal(containers_of(other), 1);

        /* Nothing left: a success that removes nothing. */
        rm.containers = rm.networks = 99;
        assert_int_equal(engine_remove_project(e, project, false, &rm, &err), 0);
        assert_removed(&rm, 0, 0, 0);
        assert_null(rm.kept);
        engine_removed_release(&rm);

        /* With volumes, the named volume goes too; again, nothing is left to remove. */
        assert_int_equal(engine_remove_project(e, project, true, &rm, &err), 0);
        assert_removed(&rm, 0, 0, 1);
        engine_removed_release(&rm);
        assert_int_equal(volumes_of(project), 0);
        assert_int_equal(engine_remove_project(e, project, true, &rm, &err), 0);
        assert_removed(&rm, 0, 0, 0);
        engine_removed_release(&rm);
        assert_int_equal(err.code, 0);
        assert_int_equal(containers_of(other), 1);
        engine_free(e);

        remove_project_everything(project);
        remove_project_everything(other);
}

static void remove_project_leaves_a_network_and_volume_another_project_uses(void **state)
{
        char project[64], other[64], line[512];
        struct engine *e = NULL;
        struct error err = ERROR_INIT;
        struct engine_removed rm = {0};

        snprintf(project, sizeof project, "stack-test-rm-%d-shared", (int)getpid());
        snprintf(other, sizeof other, "stack-test-rm-%d-user", (int)getpid());
        make_project(project);
        assert_int_equal(sh(DOCKER " run -d --name %s-web-1 --network %s_default -v %s_data:/data "
                                   "--label com.docker.compose.project=%s --label io.stack.test=%s " IMAGE
                                   " sleep 60 >/dev/null",
                            other, project, project, other, tag),
                         0);

        assert_int_equal(engine_open(&e, &err), 0);
        assert_int_equal(engine_remove_project(e, project, true, &rm, &err), 0);
        assert_int_equal(err.code, 0);
        assert_removed(&rm, 2, 0, 0);
        assert_non_null(rm.kept);
        assert_non_null(rm.kept[0]);
        assert_non_null(rm.kept[1]);
        assert_null(rm.kept[2]);
        snprintf(line, sizeof line, "network %s_default: ", project);
        assert_true(!strncmp(rm.kept[0], line, strlen(line)));
        snprintf(line, sizeof line, "volume %s_data: ", project);
        assert_true(!strncmp(rm.kept[1], line, strlen(line)));
        assert_true(strlen(rm.kept[1]) > strlen(line)); /* the Engine's reason is quoted */
        engine_removed_release(&rm);
        engine_removed_release(&rm); /* safe twice */
        engine_removed_release(NULL);
        engine_free(e);

        assert_int_equal(containers_of(project), 0);
        assert_int_equal(networks_of(project), 1);
        assert_int_equal(volumes_of(project), 1);
        assert_int_equal(containers_of(other), 1);
        assert_int_equal(sh(DOCKER " inspect -f '{{.State.Running}}' %s-web-1 | grep -qx true", other), 0);

        remove_project_everything(other);
        remove_project_everything(project);
}

static void remove_containers_by_run_label_keeps_the_other_run(void **state)
{
        char project[64], label[128];
        struct engine *e = NULL;
        struct error err = ERROR_INIT;
        unsigned n = 99;

        snprintf(project, sizeof project, "stack-test-rm-%d-run", (int)getpid());
        make_project(project);
        snprintf(label, sizeof label, "io.stack.run=run-%s-a", tag);

        assert_int_equal(engine_open(&e, &err), 0);
        assert_int_equal(engine_remove_containers(e, label, false, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_int_equal(count_lines(DOCKER " ps -aq --filter name=^%s-web-1$", project), 0);
        assert_int_equal(count_lines(DOCKER " ps -aq --filter name=^%s-db-1$", project), 1);
        assert_int_equal(engine_remove_containers(e, label, false, &n, &err), 0);
        assert_int_equal(n, 0);

        /* A bare key (or an empty value) would select containers of every run: refused. */
        n = 99;
        assert_true(engine_remove_containers(e, "io.stack.run", false, &n, &err) < 0);
        assert_int_equal(err.code, STACK_EFAIL);
        assert_non_null(strstr(err.msg, "not key=value"));
        error_clear(&err);
        assert_true(engine_remove_containers(e, "io.stack.run=", false, &n, &err) < 0);
        error_clear(&err);
        assert_true(engine_remove_project(e, "", false, &(struct engine_removed){0}, &err) < 0);
        assert_int_equal(n, 99);
        assert_int_equal(containers_of(project), 1);
        engine_free(e);

        remove_project_everything(project);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(open_pings_the_engine_on_the_default_socket),
                cmocka_unit_test(open_honours_a_unix_docker_host),
                cmocka_unit_test(open_without_engine_says_not_running_and_how_to_start_it),
                cmocka_unit_test(open_refuses_a_tcp_docker_host),
                cmocka_unit_test(open_on_a_socket_nobody_listens_on_says_not_running),
                cmocka_unit_test(open_speaks_the_newest_version_both_know),
                cmocka_unit_test(open_refuses_engines_it_cannot_speak_to),
                cmocka_unit_test(image_exists_reports_an_engine_refusal_as_the_engines),
                cmocka_unit_test(image_exists_tells_present_from_absent),
                cmocka_unit_test(archive_refs_reads_docker_save_repo_tags),
                cmocka_unit_test(archive_refs_reads_oci_index_annotations),
                cmocka_unit_test(archive_refs_refuses_a_tar_that_is_no_image_archive),
                cmocka_unit_test(archive_refs_refuses_garbage_and_a_huge_manifest),
                cmocka_unit_test(image_load_streams_a_saved_archive_back),
                cmocka_unit_test(image_load_refuses_a_truncated_archive),
                cmocka_unit_test(image_load_refuses_garbage_small_and_large),
                cmocka_unit_test(image_load_reports_an_archive_shorter_than_announced),
                cmocka_unit_test(list_containers_reports_running_and_exited_by_label),
                cmocka_unit_test(container_stats_reads_limits_pids_and_cpu_between_two_samples),
                cmocka_unit_test(remove_project_takes_down_exactly_its_containers_and_networks),
                cmocka_unit_test(remove_project_leaves_a_network_and_volume_another_project_uses),
                cmocka_unit_test(remove_containers_by_run_label_keeps_the_other_run),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
