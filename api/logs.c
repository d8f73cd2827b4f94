/* logs.c - following a run's logs over HTTP (logs.h).
 *
 * One lock (the registry's) guards every stream. A stream has three references: the response (dropped by MHD's
 * free callback when the connection is done), the thread that runs the compose tool, and the pump thread that
 * reads its output; the last one frees it.
 */
#include "logs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "reply.h"
#include "run/run.h"
#include "store/store.h"

struct stream {
        struct logs *lg;
        struct stream *next;
        struct MHD_Connection *conn;
        char *home, run_id[64];
        int rd, wr;            /* the pipe: the tool writes wr, the pump reads rd */
        volatile int pid;      /* the tool's, while it runs */
        int client_fd;         /* the connection's socket, watched while the connection is suspended */
        char buf[LOGS_BUFFER]; /* read, not yet sent */
        size_t len;
        bool eof, closed, suspended;
        int refs;
};

struct logs {
        pthread_mutex_t lock;
        pthread_cond_t cond; /* a stream freed, or room in a buffer */
        struct stream *streams;
        size_t n;
        bool stopping;
};

int logs_new(struct logs **ret)
{
        struct logs *lg = calloc(1, sizeof *lg);

        if (!lg)
                return -ENOMEM;
        pthread_mutex_init(&lg->lock, NULL);
        pthread_cond_init(&lg->cond, NULL);
        *ret = lg;
        return 0;
}

static void unref_locked(struct stream *st)
{
        struct logs *lg = st->lg;

        if (--st->refs > 0)
                return;
        for (struct stream **p = &lg->streams; *p; p = &(*p)->next)
                if (*p == st) {
                        *p = st->next;
                        break;
                }
        lg->n--;
        if (st->rd >= 0)
                close(st->rd);
        if (st->wr >= 0)
                close(st->wr);
        free(st->home);
        free(st);
        pthread_cond_broadcast(&lg->cond);
}

/* The stream's connection resumed when its reader waits: called with the lock held, resumes after it. */
static struct MHD_Connection *wake_locked(struct stream *st)
{
        if (!st->suspended)
                return NULL;
        st->suspended = false;
        return st->conn;
}

static void end_tool(struct stream *st, int sig)
{
        int pid = __atomic_load_n(&st->pid, __ATOMIC_SEQ_CST);

        if (pid > 0)
                kill(pid, sig);
}

static void *runner(void *arg)
{
        struct stream *st = arg;
        struct logs *lg = st->lg; /* st may be freed at the end */
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct MHD_Connection *c;
        int r = store_open(st->home, &s, &err);

        if (r == 0)
                r = run_logs_to(s, st->run_id, true, st->wr, &st->pid, &err);
        store_free(s);
        if (r < 0 && err.msg[0]) { /* said at the end of the stream (the tool's own output came first) */
                size_t n = strlen(err.msg);
                if (write(st->wr, "stack: ", 7) < 0 || write(st->wr, err.msg, n) < 0 || write(st->wr, "\n", 1) < 0) {
                }
        }
        pthread_mutex_lock(&lg->lock);
        close(st->wr); /* the tool is gone: the pump sees the end */
        st->wr = -1;
        c = wake_locked(st);
        unref_locked(st);
        pthread_mutex_unlock(&lg->lock);
        if (c)
                MHD_resume_connection(c);
        return NULL;
}

static void *pump(void *arg)
{
        struct stream *st = arg;
        struct logs *lg = st->lg;
        char chunk[4096];

        for (;;) {
                struct pollfd pf[2] = {{.fd = st->rd, .events = POLLIN}, {.fd = st->client_fd, .events = POLLRDHUP}};
                struct MHD_Connection *c = NULL;
                ssize_t n;
                int k;

                /* A suspended connection is not watched by MHD: a client that goes away meanwhile is seen here
                 * (its socket hung up), and ends the tool; resumed, MHD then finds it closed. */
                pthread_mutex_lock(&lg->lock);
                if (st->closed)
                        pf[1].fd = -1; /* MHD has closed it: the number may be another connection's by now */
                pthread_mutex_unlock(&lg->lock);
                k = poll(pf, pf[1].fd >= 0 ? 2 : 1, 1000);
                if (k < 0 && errno != EINTR)
                        n = 0;
                else if (k > 0 && pf[1].fd >= 0 && (pf[1].revents & (POLLRDHUP | POLLHUP | POLLERR))) {
                        pthread_mutex_lock(&lg->lock);
                        st->closed = true;
                        end_tool(st, SIGTERM);
                        c = wake_locked(st);
                        pthread_mutex_unlock(&lg->lock);
                        if (c)
                                MHD_resume_connection(c);
                        continue; /* read on until the tool's end */
                } else if (k <= 0 || !(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                else
                        n = read(st->rd, chunk, sizeof chunk);
                if (n < 0 && errno == EINTR)
                        continue;
                pthread_mutex_lock(&lg->lock);
                if (n <= 0) {
                        st->eof = true;
                } else {
                        while (!st->closed && !lg->stopping && st->len + (size_t)n > sizeof st->buf)
                                pthread_cond_wait(&lg->cond, &lg->lock);
                        if (st->len + (size_t)n <= sizeof st->buf) {
                                memcpy(st->buf + st->len, chunk, (size_t)n);
                                st->len += (size_t)n;
                        }
                }
                c = wake_locked(st);
                if (st->eof || lg->stopping) {
                        st->eof = true;
                        unref_locked(st);
                        pthread_mutex_unlock(&lg->lock);
                        if (c)
                                MHD_resume_connection(c);
                        return NULL;
                }
                pthread_mutex_unlock(&lg->lock);
                if (c)
                        MHD_resume_connection(c);
        }
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct stream *st = cls;
        struct logs *lg = st->lg;
        ssize_t n = 0;

        (void)pos;
        pthread_mutex_lock(&lg->lock);
        if (st->len > 0) {
                size_t take = st->len < max ? st->len : max;
                memcpy(buf, st->buf, take);
                memmove(st->buf, st->buf + take, st->len - take);
                st->len -= take;
                n = (ssize_t)take;
                pthread_cond_broadcast(&lg->cond);
        } else if (st->eof || lg->stopping) {
                n = MHD_CONTENT_READER_END_OF_STREAM;
        } else {
                st->suspended = true;
                MHD_suspend_connection(st->conn);
        }
        pthread_mutex_unlock(&lg->lock);
        return n;
}

static void stream_free(void *cls)
{
        struct stream *st = cls;
        struct logs *lg = st->lg; /* st may be freed below */

        pthread_mutex_lock(&lg->lock);
        st->closed = true;
        st->suspended = false;
        end_tool(st, SIGTERM);
        pthread_cond_broadcast(&lg->cond);
        unref_locked(st);
        pthread_mutex_unlock(&lg->lock);
}

int logs_follow(struct logs *lg, const char *home, const char *run_id, struct MHD_Connection *conn,
                struct MHD_Response **ret, struct error *err)
{
        struct stream *st = calloc(1, sizeof *st);
        struct MHD_Response *resp = NULL;
        pthread_attr_t attr;
        pthread_t t;
        int p[2];

        if (!st)
                return error_set(err, STACK_EFAIL, "out of memory");
        st->rd = st->wr = -1;
        st->home = strdup(home);
        if (!st->home || strlen(run_id) >= sizeof st->run_id || pipe2(p, O_CLOEXEC) != 0) {
                free(st->home);
                free(st);
                return error_set(err, STACK_EFAIL, "cannot follow the logs");
        }
        st->rd = p[0];
        st->wr = p[1];
        strcpy(st->run_id, run_id);
        st->lg = lg;
        st->conn = conn;
        {
                const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
                st->client_fd = ci ? (int)ci->connect_fd : -1;
        }
        pthread_mutex_lock(&lg->lock);
        if (lg->n >= LOGS_FOLLOW_MAX || lg->stopping) {
                pthread_mutex_unlock(&lg->lock);
                close(p[0]);
                close(p[1]);
                free(st->home);
                free(st);
                return error_set(err, STACK_EFAIL, "busy: %d log streams are open", LOGS_FOLLOW_MAX);
        }
        st->next = lg->streams;
        lg->streams = st;
        lg->n++;
        st->refs = 1; /* ours until the threads and the response hold theirs */
        pthread_mutex_unlock(&lg->lock);

        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st, stream_free);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_mutex_lock(&lg->lock);
        if (resp)
                st->refs++;
        st->refs++;
        if (pthread_create(&t, &attr, runner, st) != 0) {
                st->refs--;
                close(st->wr);
                st->wr = -1;
        }
        st->refs++;
        if (pthread_create(&t, &attr, pump, st) != 0) {
                st->refs--;
                st->eof = true;
        }
        unref_locked(st); /* ours */
        pthread_mutex_unlock(&lg->lock);
        pthread_attr_destroy(&attr);
        if (!resp)
                return error_set(err, STACK_EFAIL, "out of memory");
        *ret = reply_stream(resp, "text/plain; charset=utf-8", conn);
        return 0;
}

void logs_shutdown(struct logs *lg)
{
        struct MHD_Connection *wake[LOGS_FOLLOW_MAX + 1];
        size_t n = 0;

        if (!lg)
                return;
        pthread_mutex_lock(&lg->lock);
        lg->stopping = true;
        for (struct stream *st = lg->streams; st; st = st->next) {
                struct MHD_Connection *c = wake_locked(st);
                end_tool(st, SIGTERM);
                if (c && n < sizeof wake / sizeof *wake)
                        wake[n++] = c;
        }
        pthread_cond_broadcast(&lg->cond);
        pthread_mutex_unlock(&lg->lock);
        for (size_t i = 0; i < n; i++)
                MHD_resume_connection(wake[i]);
}

void logs_free(struct logs *lg)
{
        if (!lg)
                return;
        pthread_mutex_lock(&lg->lock);
        lg->stopping = true;
        for (int tries = 0; lg->n > 0; tries++) { /* SIGTERM each second; after 5 s, SIGKILL */
                struct timespec ts;
                for (struct stream *st = lg->streams; st; st = st->next)
                        end_tool(st, tries < 5 ? SIGTERM : SIGKILL);
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += 1;
                pthread_cond_timedwait(&lg->cond, &lg->lock, &ts);
        }
        pthread_mutex_unlock(&lg->lock);
        pthread_cond_destroy(&lg->cond);
        pthread_mutex_destroy(&lg->lock);
        free(lg);
}
