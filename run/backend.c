/* backend.c - detect and run the compose tool (docker compose v2, docker-compose v1, podman compose). */
#include "backend.h"
#include "store/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define OUTPUT_TAIL 8192

struct backend {
        char name[32];
        const char *argv[3]; /* program and optional subcommand, NULL-terminated */
        char prog[PATH_MAX];
};

static const struct {
        const char *name, *prog, *sub;
} known[] = {
        {"docker compose", "docker", "compose"},
        {"docker-compose", "docker-compose", NULL},
        {"podman compose", "podman", "compose"},
};

/* Like `command -v`: the path of prog in PATH, or -ENOENT. */
static int which(const char *prog, char *out, size_t size)
{
        const char *path = getenv("PATH");
        char dir[PATH_MAX];

        if (strchr(prog, '/'))
                return access(prog, X_OK) == 0 ? fs_path(out, size, "%s", prog) : -ENOENT;
        for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
                size_t len = strcspn(p, ":");
                if (len && len < sizeof dir) {
                        memcpy(dir, p, len);
                        dir[len] = 0;
                        if (fs_path(out, size, "%s/%s", dir, prog) == 0 && access(out, X_OK) == 0)
                                return 0;
                }
                p += len + (p[len] == ':');
        }
        return -ENOENT;
}

static int set_kind(struct backend *b, int k)
{
        snprintf(b->name, sizeof b->name, "%s", known[k].name);
        if (which(known[k].prog, b->prog, sizeof b->prog) < 0)
                return -ENOENT;
        b->argv[0] = b->prog;
        b->argv[1] = known[k].sub;
        b->argv[2] = NULL;
        return 0;
}

/* Run argv with output to /dev/null; the exit status, or -1 when it cannot run. */
static int run_quiet(const char *const *argv)
{
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int status;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        if (posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                return -1;
        }
        posix_spawn_file_actions_destroy(&fa);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool answers(const struct backend *b)
{
        const char *argv[4] = {b->argv[0], b->argv[1] ? b->argv[1] : "version", b->argv[1] ? "version" : NULL, NULL};

        return run_quiet(argv) == 0;
}

int backend_detect(struct store *s, struct backend **ret, struct error *err)
{
        const char *want = getenv("STACK_RUNTIME");
        char cache[PATH_MAX], *remembered = NULL;
        struct backend *b = calloc(1, sizeof *b);
        int found = -1;

        if (!b)
                return error_set(err, STACK_EFAIL, "out of memory");
        if (want && *want) {
                for (int k = 0; k < 3 && found < 0; k++)
                        if (!strcmp(want, known[k].name) || (k == 2 && !strcmp(want, "podman-compose")))
                                found = k;
                if (found < 0) {
                        free(b);
                        return error_set(
                                err, STACK_EUSAGE,
                                "STACK_RUNTIME='%s': use 'docker compose', 'docker-compose' or 'podman compose'", want);
                }
                if (set_kind(b, found) < 0) {
                        free(b);
                        return error_set(err, STACK_ERUNTIME, "STACK_RUNTIME='%s' but %s is not installed", want,
                                         known[found].prog);
                }
                *ret = b;
                return 0;
        }
        /* Remembered from an earlier run: no probing (each probe starts a program). */
        if (fs_path(cache, sizeof cache, "%s/runtime", store_home(s)) == 0 &&
            fs_read_file(cache, 256, &remembered, NULL) == 0) {
                remembered[strcspn(remembered, "\n")] = 0;
                for (int k = 0; k < 3; k++)
                        if (!strcmp(remembered, known[k].name) && set_kind(b, k) == 0) {
                                free(remembered);
                                *ret = b;
                                return 0;
                        }
        }
        free(remembered);
        for (int k = 0; k < 3; k++)
                if (set_kind(b, k) == 0 && answers(b)) {
                        char line[40];
                        int n = snprintf(line, sizeof line, "%s\n", known[k].name);
                        fs_write_atomic(cache, line, (size_t)n, 0644); /* a cache: failing to write it costs a probe */
                        *ret = b;
                        return 0;
                }
        free(b);
        return error_set(err, STACK_ERUNTIME,
                         "no compose tool found: install docker-compose (apt-get install docker-compose) or the docker "
                         "compose plugin");
}

void backend_free(struct backend *b)
{
        free(b);
}

const char *backend_name(const struct backend *b)
{
        return b->name;
}

bool backend_is_v1(const struct backend *b)
{
        return b && strcmp(b->name, "docker-compose") == 0;
}

/* DOCKER_* and COMPOSE_* are stack's to set for the compose process (spec/run.md "Variables", "The compose
 * tool's own variables"): none comes from the person's shell or --env, and each one the compose tools read is
 * set explicitly, so that a bundle's .env (which both tools read for them, the process environment winning)
 * cannot choose the Engine, the project, the files or the profiles. */
#define COMPOSE_ENV_N 24

static bool compose_owned(const char *kv)
{
        return !strncmp(kv, "DOCKER_", 7) || !strncmp(kv, "COMPOSE_", 8);
}

static int compose_env(const struct backend_call *c, char buf[][PATH_MAX + 32], char **fixed, size_t *ret_n)
{
        static const char *const constant[] = {
                "DOCKER_TLS_VERIFY=",
                "DOCKER_CERT_PATH=",
                "DOCKER_CONTEXT=",
                "DOCKER_DEFAULT_PLATFORM=",
                "COMPOSE_PROFILES=",
                "COMPOSE_ENV_FILES=",
                "COMPOSE_PATH_SEPARATOR=:",
                "COMPOSE_TLS_VERSION=",
                "COMPOSE_API_VERSION=auto",
                "COMPOSE_HTTP_TIMEOUT=60",
                "COMPOSE_PARALLEL_LIMIT=64",
                "COMPOSE_IGNORE_ORPHANS=0",
                "COMPOSE_REMOVE_ORPHANS=0",
                "COMPOSE_COMPATIBILITY=0",
                "COMPOSE_CONVERT_WINDOWS_PATHS=0",
                "COMPOSE_FORCE_WINDOWS_HOST=0",
                "COMPOSE_INTERACTIVE_NO_CLI=0",
                "COMPOSE_DOCKER_CLI_BUILD=1",
                "COMPOSE_PARAMIKO_SSH=0",
        };
        const char *host = getenv("DOCKER_HOST");
        size_t n = 0;

        /* The Engine stack's own client talks to (engine.h: DOCKER_HOST=unix://PATH, else the default socket);
         * the project and the file are also given with -p and -f, which win in both tools. */
        if ((size_t)snprintf(buf[n], sizeof buf[n], "DOCKER_HOST=%s",
                             host && *host ? host : "unix:///var/run/docker.sock") >= sizeof buf[n] ||
            (size_t)snprintf(buf[n + 1], sizeof buf[n + 1], "COMPOSE_PROJECT_NAME=%s", c->project) >=
                    sizeof buf[n + 1] ||
            (size_t)snprintf(buf[n + 2], sizeof buf[n + 2], "COMPOSE_FILE=%s", c->compose_file) >= sizeof buf[n + 2])
                return -ENAMETOOLONG;
        for (; n < 3; n++)
                fixed[n] = buf[n];
        for (size_t i = 0; i < sizeof constant / sizeof *constant && n < COMPOSE_ENV_N; i++)
                fixed[n++] = (char *)constant[i];
        *ret_n = n;
        return 0;
}

int backend_compose(const struct backend *b, const struct backend_call *c, int *ret_status, char **ret_output,
                    struct error *err)
{
        const char *argv[64];
        char **envp = NULL, out_path[] = "/tmp/stack-compose-XXXXXX", *fixed[COMPOSE_ENV_N];
        char fixed_buf[3][PATH_MAX + 32];
        posix_spawn_file_actions_t fa;
        size_t na = 0, ne = 0, n_env = 0, n_extra = 0, n_fixed = 0;
        int out_fd = -1, status, r = 0, k;
        posix_spawnattr_t attr;
        pid_t pid;

        for (int i = 0; b->argv[i]; i++)
                argv[na++] = b->argv[i];
        argv[na++] = "-p";
        argv[na++] = c->project;
        argv[na++] = "-f";
        argv[na++] = c->compose_file;
        if (c->project_dir) {
                argv[na++] = "--project-directory";
                argv[na++] = c->project_dir;
        }
        for (int i = 0; c->args[i] && na < 62; i++)
                argv[na++] = c->args[i];
        argv[na] = NULL;

        /* Environment: ours without DOCKER_* and COMPOSE_*, the call's K=V (again without those) replacing
         * same-named variables, then stack's own DOCKER_* / COMPOSE_* (compose_env()). */
        if (compose_env(c, fixed_buf, fixed, &n_fixed) < 0)
                return error_set(err, STACK_EFAIL, "compose environment too long");
        for (char **e = environ; *e; e++)
                n_env++;
        for (int i = 0; c->env && c->env[i]; i++)
                n_extra++;
        envp = calloc(n_env + n_extra + n_fixed + 1, sizeof *envp);
        if (!envp)
                return error_set(err, STACK_EFAIL, "out of memory");
        for (char **e = environ; *e; e++) {
                size_t klen = strcspn(*e, "=");
                bool replaced = compose_owned(*e);
                for (size_t i = 0; i < n_extra && !replaced; i++)
                        replaced = !strncmp(c->env[i], *e, klen) && c->env[i][klen] == '=';
                if (!replaced)
                        envp[ne++] = *e;
        }
        for (size_t i = 0; i < n_extra; i++)
                if (!compose_owned(c->env[i]))
                        envp[ne++] = (char *)c->env[i];
        for (size_t i = 0; i < n_fixed; i++)
                envp[ne++] = fixed[i];
        envp[ne] = NULL;

        posix_spawn_file_actions_init(&fa);
        if (!c->inherit_output) {
                out_fd = mkstemp(out_path);
                if (out_fd < 0) {
                        r = error_errno(err, STACK_EFAIL, errno, "cannot create a temp file");
                        goto done;
                }
                unlink(out_path);
                posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
                posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
                posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        } else if (c->output_fd > 0) {
                posix_spawn_file_actions_adddup2(&fa, c->output_fd, 1);
                posix_spawn_file_actions_adddup2(&fa, c->output_fd, 2);
                posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        }
        /* A tool the caller may signal gets an empty signal mask and default SIGTERM/SIGPIPE: the daemon blocks
         * SIGTERM in every thread (sigwait) and ignores SIGPIPE, and a child would inherit both. */
        posix_spawnattr_init(&attr);
        if (c->ret_pid) {
                sigset_t none, dfl;
                sigemptyset(&none);
                sigemptyset(&dfl);
                sigaddset(&dfl, SIGTERM);
                sigaddset(&dfl, SIGPIPE);
                sigaddset(&dfl, SIGINT);
                posix_spawnattr_setsigmask(&attr, &none);
                posix_spawnattr_setsigdefault(&attr, &dfl);
                posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        }
        k = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, envp);
        posix_spawnattr_destroy(&attr);
        if (k != 0) {
                r = error_errno(err, STACK_ERUNTIME, k, "cannot start %s", b->name);
                goto done;
        }
        if (c->ret_pid)
                __atomic_store_n(c->ret_pid, (int)pid, __ATOMIC_SEQ_CST);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        r = error_errno(err, STACK_ERUNTIME, errno, "waiting for %s", b->name);
                        break;
                }
        if (c->ret_pid)
                __atomic_store_n(c->ret_pid, 0, __ATOMIC_SEQ_CST);
        if (r < 0)
                goto done;
        *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        if (ret_output && out_fd >= 0) {
                off_t end = lseek(out_fd, 0, SEEK_END), start = end > OUTPUT_TAIL ? end - OUTPUT_TAIL : 0;
                char *buf = malloc(OUTPUT_TAIL + 1);
                ssize_t n = buf ? pread(out_fd, buf, (size_t)(end - start), start) : -1;
                if (buf && n >= 0) {
                        buf[n] = 0;
                        *ret_output = buf;
                } else {
                        free(buf);
                        *ret_output = NULL;
                }
        }
done:
        posix_spawn_file_actions_destroy(&fa);
        if (out_fd >= 0)
                close(out_fd);
        free(envp);
        return r;
}
