/* caddy.c - start, configure and stop the Caddy process (caddy.h). Caddy runs as its own process in its own
 * session, so it outlives the command that started it; stack talks to it only through the admin API on a unix
 * socket in proxy/ (mode 0700), which no other user can reach.
 */
#include "caddy.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/buf.h"
#include "frontdoor.h"
#include "base/fsutil.h"
#include "base/supervise.h"

#define ADMIN_BODY_MAX (4 * 1024 * 1024)
#define LOG_TAIL       4096

int caddy_paths_init(struct caddy_paths *p, const char *home, struct error *err)
{
        struct sockaddr_un sun;
        int r;

        if (fs_path(p->dir, sizeof p->dir, "%s/proxy", home) < 0 ||
            fs_path(p->config, sizeof p->config, "%s/caddy.json", p->dir) < 0 ||
            fs_path(p->socket, sizeof p->socket, "%s/admin.sock", p->dir) < 0 ||
            fs_path(p->pid, sizeof p->pid, "%s/caddy.pid", p->dir) < 0 ||
            fs_path(p->log, sizeof p->log, "%s/caddy.log", p->dir) < 0)
                return error_set(err, STACK_ESTORE, "store path too long: %s", home);
        if (strlen(p->socket) >= sizeof sun.sun_path)
                return error_set(err, STACK_ESTORE, "%s is too long for a unix socket (STACK_HOME is too deep)",
                                 p->socket);
        r = fs_mkdir_p(p->dir, 0700);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot create %s", p->dir);
        return 0;
}

int caddy_find(char *buf, size_t size, struct error *err)
{
        const char *env = getenv("STACK_PROXY_BIN"), *path = getenv("PATH");
        char dir[PATH_MAX];

        if (env && *env) {
                if (access(env, X_OK) == 0 && fs_path(buf, size, "%s", env) == 0)
                        return 0;
                return error_set(err, STACK_ERUNTIME, "the proxy STACK_PROXY_BIN=%s is not an executable", env);
        }
        for (const char *p = path ? path : ""; *p;) {
                const char *end = strchrnul(p, ':');
                size_t len = (size_t)(end - p);

                if (len > 0 && len < sizeof dir) {
                        memcpy(dir, p, len);
                        dir[len] = '\0';
                        if (fs_path(buf, size, "%s/caddy", dir) == 0 && access(buf, X_OK) == 0)
                                return 0;
                }
                p = *end ? end + 1 : end;
        }
        return error_set(err, STACK_ERUNTIME,
                         "the proxy is not installed: no caddy on PATH; install it with `apt-get install caddy` "
                         "(or scripts/install-deps), or set STACK_PROXY_BIN");
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
        return buf_add(ctx, data, size * n) == 0 ? size * n : 0;
}

/* One request to the admin API; the body of the answer in *ret_body (may be NULL). 0 for 2xx. */
static int admin_request(const struct caddy_paths *p, const char *method, const char *path, const char *body,
                         long timeout_ms, long *ret_status, char **ret_body)
{
        struct curl_slist *hdr = NULL;
        struct buf out = BUF_INIT(ADMIN_BODY_MAX);
        char url[512];
        long status = 0;
        CURL *k;
        CURLcode c;

        k = curl_easy_init();
        if (!k)
                return -ENOMEM;
        snprintf(url, sizeof url, "http://localhost%s", path);
        curl_easy_setopt(k, CURLOPT_UNIX_SOCKET_PATH, p->socket);
        curl_easy_setopt(k, CURLOPT_URL, url);
        curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(k, CURLOPT_WRITEDATA, &out);
        if (body) {
                hdr = curl_slist_append(hdr, "Content-Type: application/json");
                curl_easy_setopt(k, CURLOPT_HTTPHEADER, hdr);
                curl_easy_setopt(k, CURLOPT_POSTFIELDS, body);
        }
        c = curl_easy_perform(k);
        if (c == CURLE_OK)
                curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(k);
        curl_slist_free_all(hdr);
        if (ret_status)
                *ret_status = status;
        if (ret_body)
                *ret_body = buf_steal(&out, NULL);
        buf_release(&out);
        if (c != CURLE_OK)
                return -ECONNREFUSED;
        return status >= 200 && status < 300 ? 0 : -EPROTO;
}

bool caddy_running(const struct caddy_paths *p)
{
        return admin_request(p, "GET", "/config/admin", NULL, 2000, NULL, NULL) == 0;
}

pid_t caddy_pid(const struct caddy_paths *p)
{
        return supervise_pid_file(p->pid);
}

/* The last line of text that says what went wrong (an "Error:" line or a JSON "error" field) into out. */
static void log_reason(const char *text, char *out, size_t size)
{
        const char *best = NULL, *p;

        out[0] = '\0';
        for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, "Error:", 6) == 0 || strstr(p, "\"error\"") < strchrnul(p, '\n'))
                        best = p;
        if (!best)
                return;
        snprintf(out, size, "%.*s", (int)(strchrnul(best, '\n') - best), best);
}

static void log_tail_reason(const struct caddy_paths *p, off_t from, char *out, size_t size)
{
        char buf[LOG_TAIL + 1];

        out[0] = '\0';
        if (supervise_log_since(p->log, from, buf, sizeof buf) > 0)
                log_reason(buf, out, size);
}

/* A failure to listen becomes the message that names the port and STACK_PROXY_PORT. */
static int fail_reason(struct error *err, const char *what, const char *reason, int port)
{
        if (strstr(reason, "bind:") || strstr(reason, "listen tcp"))
                return error_set(err, STACK_ERUNTIME,
                                 "the proxy cannot listen on 127.0.0.1:%d (%s); set STACK_PROXY_PORT to a free port "
                                 "(a port above 1023 needs no privilege)",
                                 port,
                                 strstr(reason, "in use")              ? "address already in use"
                                 : strstr(reason, "permission denied") ? "permission denied"
                                                                       : "bind failed");
        return error_set(err, STACK_ERUNTIME, "%s: %s", what, *reason ? reason : "no reason given (see the log)");
}

/* Start the supervisor (and Caddy under it); wait until the admin API answers. */
static int start_supervised(const struct caddy_paths *p, const char *bin, const char *config, int port,
                            struct error *err)
{
        char reason[512], cfg_home[PATH_MAX + 32], data_home[PATH_MAX + 32], home[PATH_MAX + 8];
        const char *argv[] = {"caddy", "run", "--config", p->config, "--pidfile", p->pid, NULL};
        const char *env[] = {cfg_home, data_home, home, NULL};
        struct supervise_spec sp = {.name = "stack-frontdoor",
                                    .what = "the proxy",
                                    .dir = p->dir,
                                    .log = p->log,
                                    .path = bin,
                                    .argv = argv,
                                    .env_set = env,
                                    .poll_ms = FRONTDOOR_POLL_MS,
                                    .stop_wait_ms = CADDY_STOP_WAIT_MS};
        struct timespec tick = {0, 50 * 1000 * 1000};
        struct stat st;
        off_t log_from = 0;
        pid_t pid;
        int r, status;

        if (fs_path(cfg_home, sizeof cfg_home, "XDG_CONFIG_HOME=%s/config", p->dir) < 0 ||
            fs_path(data_home, sizeof data_home, "XDG_DATA_HOME=%s/data", p->dir) < 0 ||
            fs_path(home, sizeof home, "HOME=%s", p->dir) < 0)
                return error_set(err, STACK_ESTORE, "store path too long: %s", p->dir);
        r = fs_write_atomic(p->config, config, strlen(config), 0600);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot write %s", p->config);
        unlink(p->socket);
        unlink(p->pid);
        if (stat(p->log, &st) == 0)
                log_from = st.st_size;
        r = supervise_start(&sp, &pid, err);
        if (r < 0)
                return r;
        for (int waited = 0; waited < CADDY_START_WAIT_MS; waited += 50) {
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        log_tail_reason(p, log_from, reason, sizeof reason);
                        if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !*reason)
                                snprintf(reason, sizeof reason, "cannot execute %.400s", bin);
                        return fail_reason(err, "the proxy exited at start", reason, port);
                }
                if (access(p->socket, F_OK) == 0 && caddy_running(p))
                        return 0;
                nanosleep(&tick, NULL);
        }
        kill(pid, SIGTERM);
        waitpid(pid, &status, 0);
        return error_set(err, STACK_ERUNTIME, "the proxy did not answer on %s within %d s (log: %s)", p->socket,
                         CADDY_START_WAIT_MS / 1000, p->log);
}

int caddy_start(const struct caddy_paths *p, const char *home, const char *config, int port, int http_port,
                struct error *err)
{
        struct timespec tick = {0, 50 * 1000 * 1000};
        char bin[PATH_MAX];
        struct frontdoor door;
        struct stat dir_st;
        int r;

        r = caddy_find(bin, sizeof bin, err);
        if (r < 0)
                return r;
        if (stat(p->dir, &dir_st) < 0)
                return error_errno(err, STACK_ESTORE, -errno, "cannot stat %s", p->dir);
        r = frontdoor_claim(&door, home, p->dir, port, http_port, err);
        if (r == 0)
                r = start_supervised(p, bin, config, port, err);
        for (int waited = 0; r == 0 && caddy_pid(p) == 0 && waited < 2000; waited += 50)
                nanosleep(&tick, NULL); /* the pid file comes with the config loaded */
        if (r == 0 && frontdoor_commit(&door, caddy_pid(p)) < 0) {
                caddy_stop(p, err);
                r = error_set(err, STACK_ERUNTIME, "cannot write the front door's marker %s", door.marker);
        }
        frontdoor_release(&door);
        return r;
}

int caddy_load(const struct caddy_paths *p, const char *config, int port, struct error *err)
{
        char *body = NULL, reason[512];
        long status = 0;
        int r;

        r = admin_request(p, "POST", "/load", config, 15000, &status, &body);
        if (r == 0) {
                free(body);
                r = fs_write_atomic(p->config, config, strlen(config), 0600);
                return r < 0 ? error_errno(err, STACK_ESTORE, r, "cannot write %s", p->config) : 0;
        }
        log_reason(body ? body : "", reason, sizeof reason);
        if (!*reason && body)
                snprintf(reason, sizeof reason, "%s", body);
        free(body);
        if (status == 0)
                return error_set(err, STACK_ERUNTIME, "the proxy does not answer on %s", p->socket);
        return fail_reason(err, "the proxy refused its configuration", reason, port);
}

int caddy_get(const struct caddy_paths *p, const char *path, char **ret_body, struct error *err)
{
        long status = 0;
        int r = admin_request(p, "GET", path, NULL, 5000, &status, ret_body);

        if (r < 0) {
                free(*ret_body);
                *ret_body = NULL;
                return error_set(err, STACK_ERUNTIME, "the proxy's admin API did not answer GET %s (status %ld)", path,
                                 status);
        }
        return 0;
}

int caddy_stop(const struct caddy_paths *p, struct error *err)
{
        struct timespec tick = {0, 50 * 1000 * 1000};
        pid_t pid = caddy_pid(p);
        int waited;

        admin_request(p, "POST", "/stop", "", 5000, NULL, NULL);
        for (waited = 0; pid && supervise_running(pid) && waited < CADDY_STOP_WAIT_MS; waited += 50) {
                waitpid(pid, NULL, WNOHANG); /* reaps it when this process started it */
                nanosleep(&tick, NULL);
        }
        if (pid && supervise_running(pid)) {
                kill(pid, SIGTERM);
                for (waited = 0; supervise_running(pid) && waited < CADDY_STOP_WAIT_MS; waited += 50) {
                        waitpid(pid, NULL, WNOHANG);
                        nanosleep(&tick, NULL);
                }
                if (supervise_running(pid))
                        return error_set(err, STACK_ERUNTIME, "the proxy (pid %d) did not stop", (int)pid);
        }
        unlink(p->pid);
        unlink(p->socket);
        return 0;
}
