/* swarm-registry.c - the managed registry (swarm-registry.h, spec/run.md "The managed registry"): its settings,
 * the docker-registry process stack starts and keeps (under a supervisor, base/supervise.h, as the front door's
 * Caddy: a pid file, a log, a health check), and pushing the Engine's images to it.
 */
#include "swarm-registry.h"
#include "engine.h"
#include "policy.h"
#include "regimages.h"

#include "base/fsutil.h"
#include "base/wallclock.h"
#include "base/supervise.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#define LOG_TAIL     4096
#define LOG_ROTATE   (1u << 20) /* registry.log over this at a start becomes registry.log.1 */
#define POLL_MS      50
#define SUPERVISE_MS 200 /* how often the supervisor looks at registry/ and the registry */
#define HOST_MAX     300
#define MAX_CONFIG   (1u << 20) /* config.json */

/* ---- settings ---- */

static int config_bad(struct error *err, const char *path, const char *key, const char *want)
{
        return error_set(err, STACK_EUSAGE, "%s: \"%s\" must be %s", path, key, want);
}

/* A registry host as a reference starts with it: a name or address, an optional port; no scheme, no path. */
static bool host_ok(const char *h)
{
        size_t n = strlen(h);

        return n > 0 && n < HOST_MAX &&
               strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == n;
}

/* Copy s into the caller's buffer; *out points at the copy. */
static int keep_string(const char *s, char *buf, size_t size, size_t *used, const char **out)
{
        size_t n = strlen(s) + 1;

        if (n > size - *used)
                return -ENAMETOOLONG;
        memcpy(buf + *used, s, n);
        *out = buf + *used;
        *used += n;
        return 0;
}

int swreg_options_load(const char *stack_home, struct swreg_options *o, char *buf, size_t size, struct error *err)
{
        static const char *const others[] = {"default", "engines", NULL}; /* read by the swarm backend */
        char path[PATH_MAX];
        json_error_t je;
        json_t *root, *sw, *v;
        const char *key;
        char *text = NULL;
        size_t used = 0, len = 0;
        int r;

        if (!o || !buf || !size)
                return error_set(err, STACK_EFAIL, "swreg_options_load: missing argument");
        memset(o, 0, sizeof *o);
        if (!stack_home || fs_path(path, sizeof path, "%s/" POLICY_CONFIG_FILE, stack_home) < 0)
                return 0;
        r = fs_read_file(path, MAX_CONFIG, &text, &len);
        if (r == -ENOENT)
                return 0; /* no file: every default */
        if (r < 0)
                return error_errno(err, STACK_EUSAGE, r, "cannot read %s", path);
        root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        free(text);
        if (!root)
                return error_set(err, STACK_EUSAGE, "%s: %s (line %d)", path, je.text, je.line);
        sw = json_object_get(root, "swarm");
        if (sw && !json_is_object(sw))
                r = config_bad(err, path, "swarm", "an object");
        json_object_foreach(sw, key, v)
        {
                bool other = false;

                if (r < 0)
                        break;
                for (size_t i = 0; others[i]; i++)
                        other = other || !strcmp(key, others[i]);
                if (!strcmp(key, "registry")) {
                        if (!json_is_string(v) || !host_ok(json_string_value(v)))
                                r = config_bad(
                                        err, path, "swarm.registry",
                                        "a registry's host and port (\"registry.lan:5000\": no scheme, no path)");
                        else if (keep_string(json_string_value(v), buf, size, &used, &o->named) < 0)
                                r = error_set(err, STACK_EFAIL, "swreg_options_load: buffer too small");
                } else if (!strcmp(key, "registry_port")) {
                        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
                                r = config_bad(err, path, "swarm.registry_port", "a port (1-65535)");
                        else
                                o->port = (unsigned)json_integer_value(v);
                } else if (!strcmp(key, "registry_addr")) {
                        unsigned char a[sizeof(struct in6_addr)];
                        const char *s = json_string_value(v);

                        if (!s || (inet_pton(AF_INET, s, a) != 1 && inet_pton(AF_INET6, s, a) != 1))
                                r = config_bad(err, path, "swarm.registry_addr",
                                               "an IP address of this machine (\"10.0.0.2\")");
                        else if (keep_string(s, buf, size, &used, &o->listen_addr) < 0)
                                r = error_set(err, STACK_EFAIL, "swreg_options_load: buffer too small");
                } else if (!other) {
                        r = error_set(err, STACK_EUSAGE,
                                      "%s: unknown key \"swarm.%s\" (known: default, registry, registry_port, "
                                      "registry_addr, engines)",
                                      path, key);
                }
        }
        json_decref(root);
        if (r < 0)
                memset(o, 0, sizeof *o);
        return r;
}

/* ---- pure parts ---- */

int swreg_target(const char *host, const char *ref, const char *image_id, char *ret, size_t size)
{
        size_t dl = engine_ref_domain_len(ref), rl = engine_ref_repo_len(ref), tl = 0;
        const char *path = ref + (dl ? dl + 1 : 0), *tag = "latest";
        char own[32];

        if (!host || !ref || rl <= (size_t)(path - ref))
                return -EINVAL;
        if (ref[rl] == ':') {
                tag = ref + rl + 1;
                tl = strcspn(tag, "@");
        } else if (ref[rl] == '@' && image_id && !strncmp(image_id, "sha256:", 7) && strlen(image_id) >= 7 + 12) {
                snprintf(own, sizeof own, "stack-%.12s", image_id + 7);
                tag = own;
        }
        if (!tl)
                tl = strlen(tag);
        if ((size_t)snprintf(ret, size, "%s/%.*s:%.*s", host, (int)(rl - (size_t)(path - ref)), path, (int)tl, tag) >=
            size)
                return -ENAMETOOLONG;
        return 0;
}

/* s in YAML double quotes (JSON's escapes are YAML's). */
static int yaml_quoted(const char *s, char *out, size_t size)
{
        json_t *j = json_string(s);
        char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
        int r = t && (size_t)snprintf(out, size, "%s", t) < size ? 0 : -ENAMETOOLONG;

        free(t);
        json_decref(j);
        return r;
}

int swreg_config_text(const char *dir, const char *host, char *buf, size_t size)
{
        char data[PATH_MAX], qdata[PATH_MAX * 2], qhost[HOST_MAX * 2];

        if (fs_path(data, sizeof data, "%s/data", dir) < 0 || yaml_quoted(data, qdata, sizeof qdata) < 0 ||
            yaml_quoted(host, qhost, sizeof qhost) < 0)
                return -ENAMETOOLONG;
        /* No access log: one line a request would grow the log with every deploy; a start's lines are enough. */
        if ((size_t)snprintf(buf, size,
                             "# written by stack at each start of the managed registry (spec/run.md)\n"
                             "version: 0.1\n"
                             "log:\n"
                             "  level: info\n"
                             "  formatter: text\n"
                             "  accesslog:\n"
                             "    disabled: true\n"
                             "storage:\n"
                             "  filesystem:\n"
                             "    rootdirectory: %s\n"
                             "  delete:\n"
                             "    enabled: true\n"
                             "http:\n"
                             "  addr: %s\n"
                             "  headers:\n"
                             "    X-Content-Type-Options: [nosniff]\n",
                             qdata, qhost) >= size)
                return -ENAMETOOLONG;
        return 0;
}

/* ---- the process ---- */

struct paths {
        char dir[PATH_MAX], config[PATH_MAX], pid[PATH_MAX], log[PATH_MAX], lock[PATH_MAX], data[PATH_MAX];
        char bin[PATH_MAX]; /* the program, as its /proc/<pid>/exe reads */
};

static int paths_init(struct store *s, struct paths *p, struct error *err)
{
        const char *home = s ? store_home(s) : NULL, *env = getenv("STACK_REGISTRY_BIN");
        const char *bin = env && *env ? env : SWREG_DEFAULT_BIN;

        if (!home)
                return error_set(err, STACK_EFAIL, "the managed registry: no store");
        if (fs_path(p->dir, sizeof p->dir, "%s/registry", home) < 0 ||
            fs_path(p->config, sizeof p->config, "%s/config.yml", p->dir) < 0 ||
            fs_path(p->pid, sizeof p->pid, "%s/registry.pid", p->dir) < 0 ||
            fs_path(p->log, sizeof p->log, "%s/registry.log", p->dir) < 0 ||
            fs_path(p->lock, sizeof p->lock, "%s/lock", p->dir) < 0 ||
            fs_path(p->data, sizeof p->data, "%s/data", p->dir) < 0)
                return error_set(err, STACK_ESTORE, "store path too long: %s", home);
        if (!realpath(bin, p->bin) || access(p->bin, X_OK) < 0)
                return error_set(err, STACK_ERUNTIME,
                                 env && *env ? "the registry STACK_REGISTRY_BIN=%s is not an executable"
                                             : "%s is not installed: the managed registry is Debian's docker-registry "
                                               "(apt install docker-registry), or name your own in config.json "
                                               "\"swarm\": {\"registry\": \"host:port\"}",
                                 bin);
        return 0;
}

/* Is pid a live docker-registry (p->bin) serving this store's config.yml? */
static bool is_ours(const struct paths *p, pid_t pid)
{
        char path[64], exe[PATH_MAX + 16], *cmd = NULL;
        size_t len = 0, bl = strlen(p->bin);
        ssize_t n;
        bool yes = false;

        if (!supervise_running(pid))
                return false;
        snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
        n = readlink(path, exe, sizeof exe - 1);
        if (n < 0)
                return false;
        exe[n] = 0;
        /* a binary replaced by an upgrade while it runs reads "PATH (deleted)" */
        if (strncmp(exe, p->bin, bl) || (exe[bl] && strcmp(exe + bl, " (deleted)")))
                return false;
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
        if (fs_read_file(path, 64 * 1024, &cmd, &len) < 0)
                return false;
        for (size_t i = 0; i < len && !yes; i += strlen(cmd + i) + 1)
                yes = !strcmp(cmd + i, p->config);
        free(cmd);
        return yes;
}

/* The pid the pid file names when it is our registry, else 0. */
static pid_t our_pid(const struct paths *p)
{
        pid_t pid = supervise_pid_file(p->pid);

        return pid && is_ours(p, pid) ? pid : 0;
}

/* The host a running registry was told (its config.yml's "addr:" line) into out; "" when none. */
static void configured_host(const struct paths *p, char *out, size_t size)
{
        char *text = NULL, *line;
        size_t len;
        json_t *j;

        out[0] = 0;
        if (fs_read_file(p->config, 64 * 1024, &text, &len) < 0)
                return;
        line = strstr(text, "\n  addr: ");
        if (line) {
                line += 9;
                line[strcspn(line, "\n")] = 0;
                j = json_loads(line, JSON_DECODE_ANY, NULL); /* written by yaml_quoted() */
                if (json_is_string(j))
                        snprintf(out, size, "%s", json_string_value(j));
                json_decref(j);
        }
        free(text);
}

static size_t probe_header(char *ptr, size_t size, size_t n, void *ud)
{
        if (size * n > 32 && !strncasecmp(ptr, "Docker-Distribution-Api-Version:", 32))
                *(bool *)ud = true;
        return size * n;
}

static size_t probe_body(char *ptr, size_t size, size_t n, void *ud)
{
        (void)ptr;
        (void)ud;
        return size * n;
}

/* GET http://host/v2/: the status (0: no answer), and whether a registry said so in a header. */
static long probe(const char *host, long timeout_ms, bool *ret_registry)
{
        char url[HOST_MAX + 16];
        bool registry = false;
        long status = 0;
        CURL *k = curl_easy_init();

        if (!k)
                return 0;
        snprintf(url, sizeof url, "http://%s/v2/", host);
        curl_easy_setopt(k, CURLOPT_URL, url);
        curl_easy_setopt(k, CURLOPT_NOPROXY, "*"); /* an http_proxy in the environment is not the way to ourselves */
        curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(k, CURLOPT_HEADERFUNCTION, probe_header);
        curl_easy_setopt(k, CURLOPT_HEADERDATA, &registry);
        curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, probe_body);
        if (curl_easy_perform(k) == CURLE_OK)
                curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(k);
        if (ret_registry)
                *ret_registry = registry;
        return status;
}

/* The supervisor of our registry pid (its parent, named "stack-registry"), 0 when it has none. */
static pid_t supervisor_of(pid_t pid)
{
        char path[64], *text = NULL, *paren;
        size_t len;
        int ppid = 0;
        bool named;

        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        if (fs_read_file(path, 4096, &text, &len) < 0)
                return 0;
        paren = strrchr(text, ')');
        if (!paren || sscanf(paren + 1, " %*c %d", &ppid) != 1)
                ppid = 0;
        free(text);
        snprintf(path, sizeof path, "/proc/%d/comm", ppid);
        if (ppid <= 1 || fs_read_file(path, 64, &text, &len) < 0)
                return 0;
        named = !strcmp(text, "stack-registry\n");
        free(text);
        return named ? (pid_t)ppid : 0;
}

/* SIGTERM to our registry, SIGKILL when it lingers; then its supervisor is waited for (it exits with it), so
 * that nothing is left when this returns. */
static int stop_pid(const struct paths *p, pid_t pid, struct error *err)
{
        pid_t sup = supervisor_of(pid);
        int waited;

        kill(pid, SIGTERM);
        for (waited = 0; is_ours(p, pid) && waited < SWREG_STOP_WAIT_MS; waited += POLL_MS)
                sleep_ms(POLL_MS);
        if (is_ours(p, pid)) {
                kill(pid, SIGKILL);
                for (waited = 0; is_ours(p, pid) && waited < SWREG_STOP_WAIT_MS; waited += POLL_MS)
                        sleep_ms(POLL_MS);
                if (is_ours(p, pid))
                        return error_set(err, STACK_ERUNTIME, "the managed registry (pid %d) did not stop", (int)pid);
        }
        for (waited = 0; sup && supervise_running(sup) && waited < SWREG_STOP_WAIT_MS; waited += POLL_MS) {
                waitpid(sup, NULL, WNOHANG); /* reaps it when this process started it */
                sleep_ms(POLL_MS);
        }
        unlink(p->pid);
        return 0;
}

/* addr:port, or [addr]:port for an IPv6 address. */
static int host_of(const char *addr, unsigned port, char *out, size_t size)
{
        return (size_t)snprintf(out, size, strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, port) < size ? 0
                                                                                                       : -ENAMETOOLONG;
}

/* Can a listener bind addr:port? 0, or the errno of bind (EADDRINUSE: something holds it; EADDRNOTAVAIL: not an
 * address of this machine). SO_REUSEADDR as the registry's Go runtime sets it. */
static int port_free(const char *addr, unsigned port)
{
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
        struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        bool v6 = inet_pton(AF_INET6, addr, &a6.sin6_addr) == 1;
        int fd, one = 1, r = 0;

        if (!v6 && inet_pton(AF_INET, addr, &a4.sin_addr) != 1)
                return EINVAL;
        fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return errno;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (v6 ? bind(fd, (struct sockaddr *)&a6, sizeof a6) : bind(fd, (struct sockaddr *)&a4, sizeof a4))
                r = errno;
        close(fd);
        return r;
}

/* The last line of the log written since offset from. */
static void log_tail(const struct paths *p, off_t from, char *out, size_t size)
{
        char buf[LOG_TAIL + 1];

        supervise_log_since(p->log, from, buf, sizeof buf);
        error_last_line(buf, out, size);
}

/* Why the registry cannot listen on host, in words that say what to change. */
static int port_error(const char *addr, const char *host, int e, struct error *err)
{
        bool registry = false;

        if (e == EADDRINUSE) {
                long st = probe(host, 2000, &registry);

                return error_set(err, STACK_ERUNTIME,
                                 "the managed registry cannot listen on %s: the port is in use by another program%s; "
                                 "set \"swarm\": {\"registry_port\": N} in config.json to a free port, or name the "
                                 "registry you run in \"swarm\": {\"registry\": \"host:port\"}",
                                 host, st && registry ? " (a registry that is not this store's answers there)" : "");
        }
        if (e == EADDRNOTAVAIL)
                return error_set(err, STACK_ERUNTIME,
                                 "the managed registry cannot listen on %s: %s is not an address of this machine "
                                 "(config.json \"swarm\": {\"registry_addr\"})",
                                 host, addr);
        return error_set(err, STACK_ERUNTIME, "the managed registry cannot listen on %s: %s", host, strerror(e));
}

static int start(const struct paths *p, const char *addr, unsigned port, const char *host, struct error *err)
{
        const char *argv[] = {"docker-registry", "serve", p->config, NULL};
        struct supervise_spec sp = {.name = "stack-registry",
                                    .what = "the managed registry",
                                    .dir = p->dir,
                                    .log = p->log,
                                    .path = p->bin,
                                    .argv = argv,
                                    .pid_file = p->pid,
                                    .poll_ms = SUPERVISE_MS,
                                    .stop_wait_ms = SWREG_STOP_WAIT_MS};
        char text[4 * PATH_MAX], reason[512], old[PATH_MAX + 8];
        struct stat st;
        off_t log_from = 0;
        pid_t pid;
        int r, status, e;

        e = port_free(addr, port);
        if (e)
                return port_error(addr, host, e, err);
        if (swreg_config_text(p->dir, host, text, sizeof text) < 0)
                return error_set(err, STACK_ESTORE, "store path too long: %s", p->dir);
        r = fs_write_atomic(p->config, text, strlen(text), 0600);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot write %s", p->config);
        if (stat(p->log, &st) == 0 && st.st_size > (off_t)LOG_ROTATE && fs_path(old, sizeof old, "%s.1", p->log) == 0)
                rename(p->log, old);
        if (stat(p->log, &st) == 0)
                log_from = st.st_size;
        unlink(p->pid);
        r = supervise_start(&sp, &pid, err);
        if (r < 0)
                return r;
        for (int waited = 0; waited < SWREG_START_WAIT_MS; waited += POLL_MS) {
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        log_tail(p, log_from, reason, sizeof reason);
                        if (!*reason && WIFEXITED(status) && WEXITSTATUS(status) == 127)
                                snprintf(reason, sizeof reason, "cannot execute %.400s", p->bin);
                        return error_set(err, STACK_ERUNTIME, "the managed registry exited at start: %s (log: %s)",
                                         *reason ? reason : "no reason given", p->log);
                }
                if (our_pid(p) && probe(host, 1000, NULL) == 200)
                        return 0;
                sleep_ms(POLL_MS);
        }
        kill(pid, SIGTERM); /* the supervisor stops the registry */
        waitpid(pid, &status, 0);
        log_tail(p, log_from, reason, sizeof reason);
        return error_set(err, STACK_ERUNTIME, "the managed registry did not answer on http://%s/v2/ within %d s: %s",
                         host, SWREG_START_WAIT_MS / 1000, *reason ? reason : "(its log is empty)");
}

/* paths, registry/ and data/ made, the lock held (*ret_fd). */
static int open_locked(struct store *s, struct paths *p, int *ret_fd, struct error *err)
{
        int r, fd;

        r = paths_init(s, p, err);
        if (r < 0)
                return r;
        r = fs_mkdir_p(p->data, 0700);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot create %s", p->data);
        fd = open(p->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return error_errno(err, STACK_ESTORE, -errno, "cannot open %s", p->lock);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        close(fd);
                        return error_errno(err, STACK_ESTORE, r, "cannot lock %s", p->lock);
                }
        *ret_fd = fd;
        return 0;
}

int swreg_ensure(struct store *s, const struct swreg_options *o, char *ret_host, size_t size, struct error *err)
{
        const char *addr = o && o->listen_addr ? o->listen_addr : SWREG_DEFAULT_ADDR;
        unsigned port = o && o->port ? o->port : SWREG_DEFAULT_PORT;
        char host[HOST_MAX], was[HOST_MAX];
        struct paths p;
        pid_t pid;
        int r, fd = -1;

        if (!s || !ret_host || !size)
                return error_set(err, STACK_EFAIL, "swreg_ensure: missing argument");
        if (o && o->named) {
                if (strlen(o->named) >= size)
                        return error_set(err, STACK_EFAIL, "swreg_ensure: buffer too small");
                snprintf(ret_host, size, "%s", o->named);
                return 0;
        }
        if (port > 65535 || host_of(addr, port, host, sizeof host) < 0 || strlen(host) >= size)
                return error_set(err, STACK_EUSAGE, "the managed registry: bad address %.64s port %u", addr, port);
        r = open_locked(s, &p, &fd, err);
        if (r < 0)
                return r;
        pid = our_pid(&p);
        if (pid) {
                configured_host(&p, was, sizeof was);
                if (!strcmp(was, host)) {
                        /* ours, told this address: it answers (a busy one within the start's time) */
                        for (int waited = 0; waited < SWREG_START_WAIT_MS; waited += POLL_MS) {
                                if (probe(host, 1000, NULL) == 200)
                                        goto done;
                                if (!our_pid(&p))
                                        break;
                                sleep_ms(POLL_MS);
                        }
                }
                pid = our_pid(&p);
                if (pid)
                        r = stop_pid(&p, pid, err); /* elsewhere, or hung: started again below */
        }
        if (r == 0)
                r = start(&p, addr, port, host, err);
done:
        close(fd);
        if (r == 0)
                snprintf(ret_host, size, "%s", host);
        return r;
}

int swreg_stop(struct store *s, struct error *err)
{
        struct paths p;
        pid_t pid;
        int r, fd = -1;

        r = open_locked(s, &p, &fd, err);
        if (r < 0)
                return r;
        pid = our_pid(&p);
        if (pid)
                r = stop_pid(&p, pid, err);
        else
                unlink(p.pid); /* a stale one: names nothing of ours */
        close(fd);
        return r;
}

int swreg_status(struct store *s, const struct swreg_options *o, struct swreg_status *ret, struct error *err)
{
        struct paths p;
        int r;

        if (!ret)
                return error_set(err, STACK_EFAIL, "swreg_status: missing argument");
        memset(ret, 0, sizeof *ret);
        if (o && o->named) {
                snprintf(ret->host, sizeof ret->host, "%s", o->named);
                return 0;
        }
        r = paths_init(s, &p, err);
        if (r < 0)
                return r;
        ret->managed = true;
        snprintf(ret->dir, sizeof ret->dir, "%s", p.dir);
        ret->pid = our_pid(&p);
        if (ret->pid)
                configured_host(&p, ret->host, sizeof ret->host);
        else
                host_of(o && o->listen_addr ? o->listen_addr : SWREG_DEFAULT_ADDR,
                        o && o->port ? o->port : SWREG_DEFAULT_PORT, ret->host, sizeof ret->host);
        ret->answers = ret->pid && probe(ret->host, 2000, NULL) == 200;
        return 0;
}

/* ---- pushing ---- */

/* The Engine's names as they were before the push: the target back on the image it named, or removed when it
 * named none (unless the image has no other name: removing the last one would delete the image). */
static int put_back(struct engine *e, const char *target, const char *was_id, const char *image_id, struct error *err)
{
        struct engine_image_info ii = {0};
        bool other = false, removed;
        int r;

        if (*was_id)
                return strcmp(was_id, image_id) ? engine_image_tag(e, was_id, target, err) : 0;
        r = engine_image_inspect(e, image_id, &ii, err);
        for (size_t i = 0; r == 0 && ii.repo_tags && ii.repo_tags[i]; i++)
                other = other || strcmp(ii.repo_tags[i], target);
        engine_image_info_release(&ii);
        if (r == 0 && other)
                r = engine_image_remove(e, target, &removed, err);
        return r;
}

int swreg_push(struct store *s, struct engine *e, const char *host, const char *ref, const char *image_id, char *ret,
               size_t size, struct error *err)
{
        char target[1400], digest[80], *auth = NULL;
        struct engine_image_info was = {0};
        int r, rb;

        (void)s;
        if (!e || !host || !*host || !ref || !image_id || strncmp(image_id, "sha256:", 7) || !ret || !size)
                return error_set(err, STACK_EFAIL, "swreg_push: missing argument");
        r = swreg_target(host, ref, image_id, target, sizeof target);
        if (r < 0)
                return error_set(err, STACK_EREJECT, "cannot push %.256s to %s: not an image reference with a name",
                                 ref, host);
        r = engine_image_inspect(e, target, &was, err);
        engine_image_info_release(&was);
        if (r < 0)
                return r;
        if (strcmp(was.id, image_id)) {
                r = engine_image_tag(e, image_id, target, err);
                if (r < 0)
                        return r;
        }
        auth = regimages_auth(target);
        r = engine_image_push(e, target, auth, NULL, NULL, digest, sizeof digest, err);
        free(auth);
        rb = put_back(e, target, was.id, image_id, err);
        if (r == 0)
                r = rb;
        if (r == 0 &&
            (size_t)snprintf(ret, size, "%.*s@%s", (int)engine_ref_repo_len(target), target, digest) >= size) {
                ret[0] = 0;
                r = error_set(err, STACK_EFAIL, "swreg_push: buffer too small");
        }
        return r;
}
