/* backend.c - detect and run the compose tool (compose v2, docker-compose v1, podman compose, podman-compose). */
#include "backend.h"
#include "base/fsutil.h"
#include "base/wallclock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define OUTPUT_TAIL      8192
#define PROBE_TIMEOUT_MS 30000
#define CACHE_MAX        8192

struct backend {
        char name[32];          /* the tool as invoked: "docker compose", "docker-compose", ... */
        enum backend_kind kind; /* what its `version` said it is */
        char version[64];
        const char *argv[3]; /* program and optional subcommand, NULL-terminated */
        char prog[PATH_MAX];
};

/* The candidates, in the order automatic detection probes them. */
static const struct {
        const char *name, *prog, *sub;
        bool podman;
} known[] = {
        {"docker compose", "docker", "compose", false},
        {"docker-compose", "docker-compose", NULL, false},
        {"podman compose", "podman", "compose", true},
        {"podman-compose", "podman-compose", NULL, true},
};
#define N_KNOWN (sizeof known / sizeof *known)

static const char *const kind_names[] = {"v2", "v1", "podman-compose"};

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

int backend_program(const char *prog, struct backend **ret, struct error *err)
{
        struct backend *b = calloc(1, sizeof *b);

        *ret = NULL;
        if (!b)
                return error_set(err, STACK_EFAIL, "out of memory");
        if (which(prog, b->prog, sizeof b->prog) < 0) {
                free(b);
                return error_set(err, STACK_ERUNTIME, "%s is not installed%s", prog,
                                 strcmp(prog, "docker") ? "" : " (apt-get install docker.io)");
        }
        snprintf(b->name, sizeof b->name, "%s", prog);
        b->kind = BACKEND_COMPOSE_V2;
        b->argv[0] = b->prog;
        *ret = b;
        return 0;
}

static int set_tool(struct backend *b, size_t k)
{
        snprintf(b->name, sizeof b->name, "%s", known[k].name);
        if (which(known[k].prog, b->prog, sizeof b->prog) < 0)
                return -ENOENT;
        b->argv[0] = b->prog;
        b->argv[1] = known[k].sub;
        b->argv[2] = NULL;
        return 0;
}

/* The number after prefix in s (an optional 'v' first), its major in *major; the version text (up to a space,
 * comma or line end) copied to ver. NULL when prefix is not there or no digit follows it. */
static const char *after(const char *s, const char *prefix, int *major, char *ver, size_t size)
{
        const char *p = strstr(s, prefix);
        size_t len;

        if (!p)
                return NULL;
        p += strlen(prefix);
        p += strspn(p, ": ");
        if (*p == 'v')
                p++;
        if (*p < '0' || *p > '9')
                return NULL;
        *major = atoi(p);
        len = strcspn(p, " ,\r\n\t");
        snprintf(ver, size, "%.*s", (int)(len < size ? len : size - 1), p);
        return p;
}

int backend_parse_version(const char *output, enum backend_kind *kind, char *version, size_t size)
{
        int major = 0;

        /* podman-compose first: its output also holds podman's (and 1.0.x spells itself "podman-composer") */
        if (after(output, "podman-compose version", &major, version, size) ||
            after(output, "podman-composer version", &major, version, size)) {
                *kind = BACKEND_PODMAN_COMPOSE;
                return 0;
        }
        if (after(output, "docker-compose version", &major, version, size) ||
            after(output, "Docker Compose version", &major, version, size)) {
                if (major == 1) {
                        *kind = BACKEND_COMPOSE_V1;
                        return 0;
                }
                if (major >= 2) {
                        *kind = BACKEND_COMPOSE_V2;
                        return 0;
                }
        }
        return -EINVAL;
}

/* Run `<tool> version` with stdout and stderr captured (its first 4 KiB into out); the exit status, or -1
 * when it cannot run or runs longer than PROBE_TIMEOUT_MS (then it is killed). */
static int probe(const struct backend *b, char *out, size_t size)
{
        const char *argv[4] = {b->argv[0], b->argv[1] ? b->argv[1] : "version", b->argv[1] ? "version" : NULL, NULL};
        char path[] = "/tmp/stack-probe-XXXXXX";
        posix_spawn_file_actions_t fa;
        int fd = mkstemp(path), status = -1, waited = 0;
        ssize_t n;
        pid_t pid;

        out[0] = 0;
        if (fd < 0)
                return -1;
        unlink(path);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, fd, 1);
        posix_spawn_file_actions_adddup2(&fa, fd, 2);
        if (posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                close(fd);
                return -1;
        }
        posix_spawn_file_actions_destroy(&fa);
        for (;;) {
                pid_t w = waitpid(pid, &status, WNOHANG);
                if (w == pid)
                        break;
                if (w < 0 && errno != EINTR) {
                        status = -1;
                        break;
                }
                if (waited >= PROBE_TIMEOUT_MS) {
                        kill(pid, SIGKILL);
                        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                                ;
                        close(fd);
                        return -1;
                }
                usleep(10000);
                waited += 10;
        }
        n = pread(fd, out, size - 1, 0);
        out[n > 0 ? n : 0] = 0;
        close(fd);
        return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* What identifies the installed tools without starting one: for each candidate program and each docker CLI
 * plugin directory's docker-compose, its resolved path, device:inode, size and mtime (or "-"). A change in any
 * (a tool installed, removed, replaced or upgraded, PATH changed) makes the remembered choice stale. */
static void fingerprint_line(char *out, size_t size, const char *label, const char *path)
{
        char real[PATH_MAX];
        struct stat st;

        if (!path || !realpath(path, real) || stat(real, &st) != 0) {
                snprintf(out, size, "%s -\n", label);
                return;
        }
        snprintf(out, size, "%s %llu:%llu %lld %lld.%09ld %s\n", label, (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                 real);
}

static int fingerprint(char *out, size_t size)
{
        const char *config = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
        const char *dirs[] = {"/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
                              "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins"};
        char path[PATH_MAX], user[PATH_MAX] = "", line[PATH_MAX + 128];
        size_t len = 0;

        out[0] = 0;
        for (size_t k = 0; k < N_KNOWN; k++) {
                fingerprint_line(line, sizeof line, known[k].prog,
                                 which(known[k].prog, path, sizeof path) == 0 ? path : NULL);
                if (len + strlen(line) >= size)
                        return -ENAMETOOLONG;
                len += (size_t)snprintf(out + len, size - len, "%s", line);
        }
        if (config && *config)
                snprintf(user, sizeof user, "%s/cli-plugins", config);
        else if (home && *home)
                snprintf(user, sizeof user, "%s/.docker/cli-plugins", home);
        for (size_t i = 0; i <= sizeof dirs / sizeof *dirs; i++) {
                const char *d = i == 0 ? user : dirs[i - 1];
                if (!*d || fs_path(path, sizeof path, "%s/docker-compose", d) < 0)
                        continue;
                fingerprint_line(line, sizeof line, "plugin", path);
                if (len + strlen(line) >= size)
                        return -ENAMETOOLONG;
                len += (size_t)snprintf(out + len, size - len, "%s", line);
        }
        return 0;
}

/* The remembered choice: "stack-runtime 2\nwant=..\ntool=..\nkind=..\nversion=..\n--\n<fingerprint>". */
static int cache_format(char *out, size_t size, const char *want, const struct backend *b, const char *fp)
{
        int n = snprintf(out, size, "stack-runtime 2\nwant=%s\ntool=%s\nkind=%s\nversion=%s\n--\n%s", want, b->name,
                         kind_names[b->kind], b->version, fp);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : n;
}

static const char *field(const char *text, const char *key, char *out, size_t size)
{
        char pat[32];
        const char *p;
        size_t len;

        snprintf(pat, sizeof pat, "\n%s=", key);
        p = strstr(text, pat);
        if (!p)
                return NULL;
        p += strlen(pat);
        len = strcspn(p, "\n");
        if (len >= size)
                return NULL;
        memcpy(out, p, len);
        out[len] = 0;
        return out;
}

/* The remembered backend when the cache was written for the same STACK_RUNTIME and the same fingerprint. */
static bool cache_read(const char *path, const char *want, const char *fp, struct backend *b)
{
        char *text = NULL, w[64], tool[32], kind[32], expect[CACHE_MAX];
        bool ok = false;

        if (fs_read_file(path, CACHE_MAX, &text, NULL) != 0)
                return false;
        if (strncmp(text, "stack-runtime 2\n", 16) != 0 || !field(text, "want", w, sizeof w) || strcmp(w, want) ||
            !field(text, "tool", tool, sizeof tool) || !field(text, "kind", kind, sizeof kind) ||
            !field(text, "version", b->version, sizeof b->version))
                goto out;
        for (size_t k = 0; k < N_KNOWN && !ok; k++)
                for (int j = 0; j < 3 && !ok; j++)
                        if (!strcmp(tool, known[k].name) && !strcmp(kind, kind_names[j]) && set_tool(b, k) == 0) {
                                b->kind = (enum backend_kind)j;
                                ok = true;
                        }
        if (ok && (cache_format(expect, sizeof expect, want, b, fp) < 0 || strcmp(expect, text) != 0))
                ok = false;
out:
        free(text);
        return ok;
}

/* Probe candidate k: 0 with b set when its `version` names a compose tool stack knows; -ENOENT when it is not
 * installed; -EINVAL when it does not answer or says something else (its output in out). */
static int try_tool(struct backend *b, size_t k, char *out, size_t size, int *status)
{
        if (set_tool(b, k) < 0)
                return -ENOENT;
        *status = probe(b, out, size);
        if (*status != 0 || backend_parse_version(out, &b->kind, b->version, sizeof b->version) < 0)
                return -EINVAL;
        return 0;
}

/* The same choice remembered for the user, for every store of theirs: $XDG_CACHE_HOME/stack/runtime, else
 * $HOME/.cache/stack/runtime (-ENOENT when neither is set). It is keyed by the same fingerprint. */
static int user_cache_path(char *out, size_t size)
{
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

        if (xdg && *xdg == '/')
                return fs_path(out, size, "%s/stack/runtime", xdg);
        if (home && *home == '/')
                return fs_path(out, size, "%s/.cache/stack/runtime", home);
        return -ENOENT;
}

static const char *dirname_of(const char *path, char *out, size_t size)
{
        char *slash;

        snprintf(out, size, "%s", path);
        slash = strrchr(out, '/');
        if (slash && slash != out)
                *slash = 0;
        return out;
}

int backend_detect(struct store *s, struct backend **ret, struct error *err)
{
        const char *want = getenv("STACK_RUNTIME");
        char cache[PATH_MAX], user[PATH_MAX], dir[PATH_MAX], fp[CACHE_MAX - 512], out[4096], line[200], text[CACHE_MAX];
        struct backend *b = calloc(1, sizeof *b), *fallback = NULL;
        bool fp_ok, cache_ok, user_ok;
        int r, status = 0, n;

        if (!b)
                return error_set(err, STACK_EFAIL, "out of memory");
        want = want ? want : "";
        fp_ok = fingerprint(fp, sizeof fp) == 0;
        cache_ok = fs_path(cache, sizeof cache, "%s/runtime", store_home(s)) == 0;
        user_ok = user_cache_path(user, sizeof user) == 0;
        if (cache_ok && fp_ok && cache_read(cache, want, fp, b)) {
                *ret = b; /* remembered, the tools unchanged: no probe (each probe starts a program) */
                return 0;
        }
        /* a fresh store on a machine where another store probed the same tools: the user's cache */
        if (user_ok && fp_ok && cache_read(user, want, fp, b)) {
                if (cache_ok && (n = cache_format(text, sizeof text, want, b, fp)) > 0)
                        fs_write_atomic(cache, text, (size_t)n, 0644);
                *ret = b;
                return 0;
        }
        if (*want) {
                size_t k = 0;

                while (k < N_KNOWN && strcmp(want, known[k].name))
                        k++;
                if (k == N_KNOWN) {
                        free(b);
                        return error_set(err, STACK_EUSAGE,
                                         "STACK_RUNTIME='%s': use 'docker compose', 'docker-compose', 'podman compose' "
                                         "or 'podman-compose'",
                                         want);
                }
                r = try_tool(b, k, out, sizeof out, &status);
                if (r == -ENOENT) {
                        free(b);
                        return error_set(err, STACK_ERUNTIME, "STACK_RUNTIME='%s' but %s is not installed", want,
                                         known[k].prog);
                }
                if (r < 0) {
                        error_last_line(out, line, sizeof line);
                        free(b);
                        return error_set(err, STACK_ERUNTIME,
                                         "STACK_RUNTIME='%s': `%s version` (exit %d) did not report docker compose "
                                         "v2, docker-compose 1.x or podman-compose: %s",
                                         want, want, status, *line ? line : "(no output)");
                }
        } else {
                /* compose v2 under either name first, then docker-compose 1.x, then Podman's tools (used when no
                 * docker tool answers) */
                bool found = false;

                for (size_t k = 0; k < N_KNOWN && !found; k++) {
                        if (known[k].podman && fallback)
                                break;
                        if (try_tool(b, k, out, sizeof out, &status) < 0)
                                continue;
                        if (b->kind == BACKEND_COMPOSE_V2 || known[k].podman)
                                found = true;
                        else if (!fallback) {
                                fallback = malloc(sizeof *fallback);
                                if (!fallback) {
                                        free(b);
                                        return error_set(err, STACK_EFAIL, "out of memory");
                                }
                                *fallback = *b;
                        }
                }
                if (!found && fallback) {
                        *b = *fallback;
                        b->argv[0] = b->prog;
                        found = true;
                }
                free(fallback);
                if (!found) {
                        free(b);
                        return error_set(err, STACK_ERUNTIME,
                                         "no compose tool found: install docker-compose (apt-get install "
                                         "docker-compose) or the docker compose plugin");
                }
        }
        /* a cache: failing to write it costs a probe next time */
        if (fp_ok && (n = cache_format(text, sizeof text, want, b, fp)) > 0) {
                if (cache_ok)
                        fs_write_atomic(cache, text, (size_t)n, 0644);
                if (user_ok && (fs_mkdir_p(dirname_of(user, dir, sizeof dir), 0700) == 0))
                        fs_write_atomic(user, text, (size_t)n, 0600);
        }
        *ret = b;
        return 0;
}

void backend_free(struct backend *b)
{
        free(b);
}

const char *backend_name(const struct backend *b)
{
        return b->name;
}

enum backend_kind backend_kind(const struct backend *b)
{
        return b->kind;
}

const char *backend_version(const struct backend *b)
{
        return b->version;
}

bool backend_is_v1(const struct backend *b)
{
        return b && b->kind == BACKEND_COMPOSE_V1;
}

bool backend_v1_file(const struct backend *b)
{
        return b && (b->kind == BACKEND_COMPOSE_V1 || b->kind == BACKEND_PODMAN_COMPOSE);
}

/* podman-compose 1.0.x exits 0 from `up -d` even when `podman run` and `podman start` failed: it prints
 * "exit code: N" after each podman command. The last one is the container's start (a 125 from a `run` whose
 * container already exists is followed by its `start`). */
static int podman_compose_status(const char *out)
{
        const char *p = out, *last = NULL;

        while ((p = strstr(p, "exit code: ")) != NULL) {
                last = p;
                p += 11;
        }
        return last ? atoi(last + 11) : 0;
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

/* podman-compose's `up`: "--podman-run-args=" and the limits it would drop (backend_podman_run_args()) from the
 * effective file; nothing after the '=' when there are none or the file is not there (the tool then says so). */
#define PODMAN_RUN_ARGS "--podman-run-args="

static int podman_run_args(const struct backend_call *c, char *out, size_t size, struct error *err)
{
        char *text = NULL;
        size_t len = 0;
        int r;

        snprintf(out, size, PODMAN_RUN_ARGS);
        r = fs_read_file(c->compose_file, 16u << 20, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_errno(err, STACK_ERUNTIME, -r, "cannot read %s", c->compose_file);
        r = backend_podman_run_args(c->compose_file, text, len, out + sizeof PODMAN_RUN_ARGS - 1,
                                    size - (sizeof PODMAN_RUN_ARGS - 1), err);
        free(text);
        return r;
}

/* The tool started for call c: standard input stdin_fd (-1: /dev/null), the compose file `-` (read from that input)
 * and the working directory cwd when early (NULL: ours); stdout and stderr to a new unlinked temp file
 * (*ret_out_fd) unless inherited. */
static int tool_spawn(const struct backend *b, const struct backend_call *c, const char *cwd, int stdin_fd,
                      pid_t *ret_pid, int *ret_out_fd, struct error *err)
{
        const char *argv[64];
        char **envp = NULL, out_path[] = "/tmp/stack-compose-XXXXXX", *fixed[COMPOSE_ENV_N];
        char fixed_buf[3][PATH_MAX + 32], run_args[128];
        posix_spawn_file_actions_t fa;
        size_t na = 0, ne = 0, n_env = 0, n_extra = 0, n_fixed = 0;
        int out_fd = -1, r = 0, k;
        posix_spawnattr_t attr;
        pid_t pid;

        *ret_out_fd = -1;
        for (int i = 0; b->argv[i]; i++)
                argv[na++] = b->argv[i];
        if (!c->plain) {
                argv[na++] = "-p";
                argv[na++] = c->project;
                argv[na++] = "-f";
                argv[na++] = cwd ? "-" : c->compose_file;
        }
        /* podman-compose 1.0.x has no --project-directory (its project directory is the file's, which is the
         * same here), no `down --remove-orphans` and no `logs --no-color`: left out for it */
        if (c->project_dir && b->kind != BACKEND_PODMAN_COMPOSE && !c->plain) {
                argv[na++] = "--project-directory";
                argv[na++] = c->project_dir;
        }
        if (b->kind == BACKEND_PODMAN_COMPOSE && c->args[0] && !strcmp(c->args[0], "up")) {
                r = podman_run_args(c, run_args, sizeof run_args, err);
                if (r < 0)
                        return r;
                if (run_args[sizeof PODMAN_RUN_ARGS - 1])
                        argv[na++] = run_args;
        }
        for (int i = 0; c->args[i] && na < 62; i++)
                if (b->kind != BACKEND_PODMAN_COMPOSE ||
                    (strcmp(c->args[i], "--no-color") &&
                     (strcmp(c->args[i], "--remove-orphans") || !strcmp(c->args[0], "up"))))
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
        } else if (c->output_fd > 0) {
                posix_spawn_file_actions_adddup2(&fa, c->output_fd, 1);
                posix_spawn_file_actions_adddup2(&fa, c->output_fd, 2);
        }
        if (cwd)
                posix_spawn_file_actions_addchdir_np(&fa, cwd);
        if (stdin_fd >= 0)
                posix_spawn_file_actions_adddup2(&fa, stdin_fd, 0);
        else if (!c->inherit_output || c->output_fd > 0)
                posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
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
        *ret_pid = pid;
        *ret_out_fd = out_fd;
        out_fd = -1;
done:
        posix_spawn_file_actions_destroy(&fa);
        if (out_fd >= 0)
                close(out_fd);
        free(envp);
        return r;
}

/* The tool started by tool_spawn() waited for, within its time limit; *ret_status, and the tail of out_fd. */
static int tool_wait(const struct backend *b, const struct backend_call *c, pid_t pid, int out_fd, int *ret_status,
                     char **ret_output, struct error *err)
{
        /* A time limit (spec/run.md "Compose calls"): STACK_COMPOSE_TIMEOUT seconds when set (0: none), else 600 s
         * for the commands that create and start containers (a healthcheck the Engine cannot run must not hang
         * stack) and 120 s for the others; logs (-f follows) has none. On expiry the tool gets SIGTERM, then
         * SIGKILL 10 s later, and the call is STACK_ERUNTIME. */
        const char *verb = c->args && c->args[0] ? c->args[0] : "", *env = getenv("STACK_COMPOSE_TIMEOUT");
        bool slow = !strcmp(verb, "up") || !strcmp(verb, "create") || !strcmp(verb, "build") || !strcmp(verb, "pull") ||
                    !strcmp(verb, "start") || !strcmp(verb, "restart");
        long limit_ms = slow ? 600000 : 120000, waited_ms = 0, term_ms = -1;
        int status = 0, r = 0, pidfd;
        double t0 = monotonic_s();
        char *e = NULL;

        if (env && *env) {
                long v = strtol(env, &e, 10);
                if (*e || v < 0 || v > 86400 * 7)
                        r = error_set(err, STACK_EFAIL,
                                      "STACK_COMPOSE_TIMEOUT=%s: expected whole seconds (0: no limit)", env);
                else
                        limit_ms = v * 1000;
        }
        if (!strcmp(verb, "logs") || (c->plain && c->inherit_output) || r < 0)
                limit_ms = 0;
        pidfd = limit_ms ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
        for (;;) {
                pid_t w = waitpid(pid, &status, limit_ms ? WNOHANG : 0);
                if (w == pid)
                        break;
                if (w < 0 && errno != EINTR) {
                        r = error_errno(err, STACK_ERUNTIME, errno, "waiting for %s", b->name);
                        break;
                }
                if (w == 0) { /* the pidfd wakes us as the tool ends; without one (before Linux 5.3), 50 ms steps */
                        struct pollfd pf = {.fd = pidfd, .events = POLLIN};
                        if (pidfd < 0 || poll(&pf, 1, 50) < 0)
                                sleep_ms(50);
                        waited_ms = (long)((monotonic_s() - t0) * 1000);
                }
                if (limit_ms && waited_ms >= limit_ms && term_ms < 0) {
                        kill(pid, SIGTERM);
                        term_ms = waited_ms;
                } else if (term_ms >= 0 && waited_ms >= term_ms + 10000) {
                        kill(pid, SIGKILL);
                        term_ms = LONG_MAX - 20000; /* once */
                }
        }
        if (pidfd >= 0)
                close(pidfd);
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
        if (c->ret_pid)
                __atomic_store_n(c->ret_pid, 0, __ATOMIC_SEQ_CST);
        if (r < 0)
                return r;
        *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        if (ret_output && out_fd >= 0) {
                off_t end = lseek(out_fd, 0, SEEK_END), start = end > OUTPUT_TAIL ? end - OUTPUT_TAIL : 0;
                char *buf = malloc(OUTPUT_TAIL + 1);
                ssize_t n = buf ? pread(out_fd, buf, (size_t)(end - start), start) : -1;
                if (buf && n >= 0) {
                        buf[n] = 0;
                        *ret_output = buf;
                        if (b->kind == BACKEND_PODMAN_COMPOSE && *ret_status == 0 && !strcmp(c->args[0], "up"))
                                *ret_status = podman_compose_status(buf);
                } else {
                        free(buf);
                        *ret_output = NULL;
                }
        }
        return 0;
}

int backend_compose(const struct backend *b, const struct backend_call *c, int *ret_status, char **ret_output,
                    struct error *err)
{
        int out_fd = -1, r;
        pid_t pid;

        r = tool_spawn(b, c, NULL, -1, &pid, &out_fd, err);
        if (r == 0)
                r = tool_wait(b, c, pid, out_fd, ret_status, ret_output, err);
        if (out_fd >= 0)
                close(out_fd);
        return r;
}

/* ---- a call started before its file is ready ---- */

struct backend_early {
        const struct backend *b;
        struct backend_call c;
        pid_t pid;
        int in_fd, out_fd; /* the tool's standard input (our end of it), its output */
        int nice;          /* ours */
};

bool backend_early_ok(const struct backend *b)
{
        return b && b->kind == BACKEND_COMPOSE_V1;
}

int backend_early_start(const struct backend *b, const struct backend_call *c, const char *cwd,
                        struct backend_early **ret, struct error *err)
{
        struct backend_early *x;
        int sv[2], r;

        *ret = NULL;
        if (!backend_early_ok(b) || c->plain || c->inherit_output)
                return error_set(err, STACK_EFAIL, "backend_early_start: not for %s", b ? b->name : "no tool");
        x = calloc(1, sizeof *x);
        if (!x)
                return error_set(err, STACK_EFAIL, "out of memory");
        /* a socket, not a pipe: send(MSG_NOSIGNAL) to a tool that is gone is EPIPE, not SIGPIPE */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                free(x);
                return error_errno(err, STACK_EFAIL, errno, "cannot make a socket pair");
        }
        x->b = b;
        x->c = *c;
        x->in_fd = sv[1];
        r = tool_spawn(b, c, cwd, sv[0], &x->pid, &x->out_fd, err);
        close(sv[0]);
        if (r < 0) {
                close(sv[1]);
                free(x);
                return r;
        }
        /* Its start-up yields to what it waits for (the Engine pulling or loading images, stack streaming them);
         * backend_early_finish() gives it our priority back where it may (root) */
        x->nice = getpriority(PRIO_PROCESS, 0);
        setpriority(PRIO_PROCESS, (id_t)x->pid, x->nice + 10 > 19 ? 19 : x->nice + 10);
        *ret = x;
        return 0;
}

int backend_early_finish(struct backend_early *x, int *ret_status, char **ret_output, struct error *err)
{
        char *text = NULL;
        size_t len = 0, off = 0;
        int r = fs_read_file(x->c.compose_file, 16u << 20, &text, &len);

        if (r < 0) {
                r = error_errno(err, STACK_ERUNTIME, -r, "cannot read %s", x->c.compose_file);
                backend_early_cancel(x);
                return r;
        }
        while (off < len) { /* a tool that ended early (EPIPE) says why in its output, read below */
                ssize_t n = send(x->in_fd, text + off, len - off, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                off += (size_t)n;
        }
        free(text);
        close(x->in_fd);
        setpriority(PRIO_PROCESS, (id_t)x->pid, x->nice);
        r = tool_wait(x->b, &x->c, x->pid, x->out_fd, ret_status, ret_output, err);
        close(x->out_fd);
        free(x);
        return r;
}

void backend_early_cancel(struct backend_early *x)
{
        int status;

        if (!x)
                return;
        kill(x->pid, SIGKILL); /* still reading its standard input: it has asked the Engine for nothing */
        close(x->in_fd);
        while (waitpid(x->pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (x->c.ret_pid)
                __atomic_store_n(x->c.ret_pid, 0, __ATOMIC_SEQ_CST);
        if (x->out_fd >= 0)
                close(x->out_fd);
        free(x);
}
