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
#include <time.h>
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

int backend_compose(const struct backend *b, const struct backend_call *c, int *ret_status, char **ret_output,
                    struct error *err)
{
        const char *argv[64];
        char **envp = NULL, out_path[] = "/tmp/stack-compose-XXXXXX";
        posix_spawn_file_actions_t fa;
        size_t na = 0, ne = 0, n_env = 0, n_extra = 0;
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

        /* Environment: ours, with the call's K=V replacing same-named variables. */
        for (char **e = environ; *e; e++)
                n_env++;
        for (int i = 0; c->env && c->env[i]; i++)
                n_extra++;
        envp = calloc(n_env + n_extra + 1, sizeof *envp);
        if (!envp)
                return error_set(err, STACK_EFAIL, "out of memory");
        for (char **e = environ; *e; e++) {
                size_t klen = strcspn(*e, "=");
                bool replaced = false;
                for (size_t i = 0; i < n_extra && !replaced; i++)
                        replaced = !strncmp(c->env[i], *e, klen) && c->env[i][klen] == '=';
                if (!replaced)
                        envp[ne++] = *e;
        }
        for (size_t i = 0; i < n_extra; i++)
                envp[ne++] = (char *)c->env[i];
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
        {
                /* A time limit (spec/run.md "Compose calls"): STACK_COMPOSE_TIMEOUT seconds when set (0: none),
                 * else 600 s for the commands that create and start containers (a healthcheck the Engine
                 * cannot run must not hang stack) and 120 s for the others; logs (-f follows) has none. On
                 * expiry the tool gets SIGTERM, then SIGKILL 10 s later, and the call is STACK_ERUNTIME. */
                const char *verb = c->args && c->args[0] ? c->args[0] : "", *env = getenv("STACK_COMPOSE_TIMEOUT");
                bool slow = !strcmp(verb, "up") || !strcmp(verb, "create") || !strcmp(verb, "build") ||
                            !strcmp(verb, "pull") || !strcmp(verb, "start") || !strcmp(verb, "restart");
                long limit_ms = slow ? 600000 : 120000, waited_ms = 0, term_ms = -1;
                char *end = NULL;
                if (env && *env) {
                        long v = strtol(env, &end, 10);
                        if (*end || v < 0 || v > 86400 * 7)
                                r = error_set(err, STACK_EFAIL,
                                              "STACK_COMPOSE_TIMEOUT=%s: expected whole seconds (0: no limit)", env);
                        else
                                limit_ms = v * 1000;
                }
                if (!strcmp(verb, "logs") || r < 0)
                        limit_ms = 0;
                for (;;) {
                        pid_t w = waitpid(pid, &status, limit_ms ? WNOHANG : 0);
                        if (w == pid)
                                break;
                        if (w < 0 && errno != EINTR) {
                                r = error_errno(err, STACK_ERUNTIME, errno, "waiting for %s", b->name);
                                break;
                        }
                        if (w == 0) {
                                nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
                                waited_ms += 50;
                        }
                        if (limit_ms && waited_ms >= limit_ms && term_ms < 0) {
                                kill(pid, SIGTERM);
                                term_ms = waited_ms;
                        } else if (term_ms >= 0 && waited_ms >= term_ms + 10000) {
                                kill(pid, SIGKILL);
                                term_ms = LONG_MAX - 20000; /* once */
                        }
                }
                if (r == 0 && term_ms >= 0) {
                        char tail[512] = "";
                        off_t endo = out_fd >= 0 ? lseek(out_fd, 0, SEEK_END) : 0;
                        off_t from = endo > (off_t)sizeof tail - 1 ? endo - (off_t)sizeof tail + 1 : 0;
                        ssize_t n = out_fd >= 0 ? pread(out_fd, tail, sizeof tail - 1, from) : 0;
                        tail[n > 0 ? n : 0] = 0;
                        for (char *q = tail; *q; q++)
                                if ((unsigned char)*q < 0x20)
                                        *q = ' ';
                        r = error_set(err, STACK_ERUNTIME,
                                      "%s %s did not finish within %ld s: stopped it (STACK_COMPOSE_TIMEOUT sets the "
                                      "limit)%s%s",
                                      b->name, verb, limit_ms / 1000, tail[0] ? "; its last output: " : "", tail);
                }
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
