/* frontdoor.c - the registry of front doors every store of a user shares (frontdoor.h). */
#include "frontdoor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "caddy.h"
#include "base/fsutil.h"
#include "base/supervise.h"

/* The registry directory: made 0700 when missing; refused unless it is a directory of ours no one else can
 * write (a /tmp name another user made first must not decide which proxy runs). */
static int registry_dir(char *buf, size_t size)
{
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        struct stat st;

        if (xdg && xdg[0] == '/' && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid()) {
                if (fs_path(buf, size, "%s/stack", xdg) < 0)
                        return -ENAMETOOLONG;
        } else if (fs_path(buf, size, "/tmp/stack-%u", (unsigned)getuid()) < 0)
                return -ENAMETOOLONG;
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
                return -errno;
        if (lstat(buf, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 022))
                return -EPERM;
        return 0;
}

/* The marker's path for port in this network namespace (a namespace has its own 127.0.0.1). */
static int marker_path(char *buf, size_t size, int port)
{
        char dir[PATH_MAX];
        struct stat st;
        int r = registry_dir(dir, sizeof dir);

        if (r < 0)
                return r;
        if (stat("/proc/self/ns/net", &st) < 0)
                st.st_ino = 0;
        return fs_path(buf, size, "%s/frontdoor-%lu-%d", dir, (unsigned long)st.st_ino, port) < 0 ? -ENAMETOOLONG : 0;
}

static int lock_marker(const char *marker)
{
        char path[PATH_MAX];
        int fd;

        if (fs_path(path, sizeof path, "%s.lock", marker) < 0)
                return -ENAMETOOLONG;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX) < 0) {
                close(fd);
                return -errno;
        }
        return fd;
}

struct marker {
        char store[PATH_MAX], proxy_dir[PATH_MAX];
        pid_t pid;
};

static int read_marker(const char *path, struct marker *m)
{
        json_t *doc = json_load_file(path, 0, NULL);
        const char *store = json_string_value(json_object_get(doc, "store")),
                   *dir = json_string_value(json_object_get(doc, "proxy_dir"));
        json_int_t pid = json_integer_value(json_object_get(doc, "pid"));
        int r = -ENOENT;

        if (store && dir && pid > 0 && fs_path(m->store, sizeof m->store, "%s", store) == 0 &&
            fs_path(m->proxy_dir, sizeof m->proxy_dir, "%s", dir) == 0) {
                m->pid = (pid_t)pid;
                r = 0;
        }
        json_decref(doc);
        return r;
}

/* Is pid a live caddy (not a zombie, not a pid reused by something else)? */
static bool is_caddy(pid_t pid)
{
        char path[64], *comm = NULL;
        size_t len;
        bool yes;

        if (!supervise_running(pid))
                return false;
        snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
        if (fs_read_file(path, 64, &comm, &len) < 0)
                return false;
        yes = strncmp(comm, "caddy", 5) == 0 && (comm[5] == '\n' || comm[5] == '\0');
        free(comm);
        return yes;
}

static void stop_pid(pid_t pid)
{
        struct timespec tick = {0, 50 * 1000 * 1000};
        int waited;

        kill(pid, SIGTERM);
        for (waited = 0; is_caddy(pid) && waited < CADDY_STOP_WAIT_MS; waited += 50)
                nanosleep(&tick, NULL);
        if (is_caddy(pid))
                kill(pid, SIGKILL);
}

/* Does something accept connections on 127.0.0.1:port? */
static bool port_answers(int port)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool yes;

        if (fd < 0)
                return false;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        yes = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        return yes;
}

static bool dir_gone(const char *dir)
{
        struct stat st;

        return stat(dir, &st) < 0 && errno == ENOENT;
}

int frontdoor_claim(struct frontdoor *f, const char *home, const char *proxy_dir, int port, int http_port,
                    struct error *err)
{
        struct marker m;
        int r;

        memset(f, 0, sizeof *f);
        f->lock_fd = -1;
        if (fs_path(f->home, sizeof f->home, "%s", home) < 0 ||
            fs_path(f->proxy_dir, sizeof f->proxy_dir, "%s", proxy_dir) < 0)
                return error_set(err, STACK_ESTORE, "store path too long: %s", home);
        r = marker_path(f->marker, sizeof f->marker, port);
        if (r < 0)
                return error_errno(err, STACK_ERUNTIME, r,
                                   "cannot use the front door registry ($XDG_RUNTIME_DIR/stack or /tmp/stack-%u)",
                                   (unsigned)getuid());
        r = lock_marker(f->marker);
        if (r < 0)
                return error_errno(err, STACK_ERUNTIME, r, "cannot lock %s.lock", f->marker);
        f->lock_fd = r;
        if (read_marker(f->marker, &m) == 0 && is_caddy(m.pid)) {
                if (strcmp(m.proxy_dir, proxy_dir) == 0 || dir_gone(m.proxy_dir))
                        stop_pid(m.pid); /* ours, not answering its admin API; or its store is gone */
                else
                        return error_set(err, STACK_ERUNTIME,
                                         "127.0.0.1:%d is the front door of the store %s (proxy pid %d); a port has "
                                         "one front door: stop that one (STACK_HOME=%s stack proxy stop) or give this "
                                         "store another port with STACK_PROXY_PORT",
                                         port, m.store, (int)m.pid, m.store);
        }
        if (port_answers(port))
                return error_set(err, STACK_ERUNTIME,
                                 "the proxy cannot listen on 127.0.0.1:%d (address already in use); set "
                                 "STACK_PROXY_PORT to a free port (something answers there: another program, or a "
                                 "proxy no store registered)",
                                 port);
        if (http_port > 0 && port_answers(http_port))
                return error_set(err, STACK_ERUNTIME,
                                 "the proxy cannot listen on 127.0.0.1:%d (address already in use); set "
                                 "STACK_PROXY_HTTP_PORT, or STACK_PROXY_PORT, to a free port (something answers "
                                 "there: another program, or a proxy no store registered)",
                                 http_port);
        return 0;
}

int frontdoor_commit(struct frontdoor *f, pid_t pid)
{
        json_t *doc = json_pack("{s:s,s:s,s:i}", "store", f->home, "proxy_dir", f->proxy_dir, "pid", (int)pid);
        char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        int r = text ? fs_write_atomic(f->marker, text, strlen(text), 0600) : -ENOMEM;

        free(text);
        json_decref(doc);
        return r;
}

void frontdoor_release(struct frontdoor *f)
{
        if (f->lock_fd >= 0)
                close(f->lock_fd);
        f->lock_fd = -1;
}

int frontdoor_stop_orphan(int port)
{
        char marker[PATH_MAX];
        struct marker m;
        int fd, r = 0;

        if (marker_path(marker, sizeof marker, port) < 0)
                return 0;
        fd = lock_marker(marker);
        if (fd < 0)
                return 0;
        if (read_marker(marker, &m) == 0 && is_caddy(m.pid) && dir_gone(m.proxy_dir)) {
                stop_pid(m.pid);
                unlink(marker);
                r = 1;
        }
        close(fd);
        return r;
}
