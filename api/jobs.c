/* jobs.c - requests in flight: their workers, their lines, the connections streaming them, and /events.
 *
 * One lock guards everything here. A reader that finds nothing to send suspends its connection under the lock;
 * whoever adds a line clears the suspended flag under the lock and resumes the connection after releasing it
 * (a suspended connection cannot close meanwhile, so the pointer stays good).
 */
#include "jobs.h"
#include "log.h"

#include "base/worker.h"
#include "orch/approval.h"
#include "orch/orch.h"
#include "proxy/proxy.h"
#include "run/runs.h"
#include "reply.h"
#include "orch/requests.h"
#include "store/index.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

struct job;

struct stream { /* one text/plain POST /run answer */
        struct jobs *j;
        struct job *job;
        struct MHD_Connection *conn;
        size_t line, off;
        bool suspended;
        struct stream *next;
};

struct sub { /* one GET /events answer */
        struct jobs *j;
        struct MHD_Connection *conn;
        uint64_t seq;
        size_t off;
        bool suspended, hello, keepalive;
        struct sub *next;
};

struct job {
        struct jobs *j;
        char id[17], *slug, *ref;
        bool wait, done;
        int64_t expires_at;
        char **lines;
        size_t n_lines;
        int refs; /* the worker + each stream */
        struct stream *streams;
        struct job *next;
};

struct jobs {
        pthread_mutex_t lock;
        pthread_cond_t cond; /* stopping, a worker ended */
        char *home, *catalog;
        bool auto_approve, stopping, ticker_made;
        struct job *jobs;
        unsigned live; /* workers running */
        struct sub *subs;
        char *events[JOBS_EVENTS_KEPT];
        uint64_t next_seq;
        pthread_t ticker;
};

/* Connections to resume once the lock is released. */
struct wake {
        struct MHD_Connection **c;
        size_t n, cap;
};

static void wake_add(struct wake *w, struct MHD_Connection *c)
{
        if (w->n == w->cap) {
                size_t cap = w->cap ? 2 * w->cap : 8;
                struct MHD_Connection **nc = realloc(w->c, cap * sizeof *nc);
                if (!nc)
                        return; /* out of memory: that reader wakes on the next line or keep-alive */
                w->c = nc;
                w->cap = cap;
        }
        w->c[w->n++] = c;
}

static void wake_run(struct wake *w)
{
        for (size_t i = 0; i < w->n; i++)
                MHD_resume_connection(w->c[i]);
        free(w->c);
        memset(w, 0, sizeof *w);
}

static void wake_subs_locked(struct jobs *j, struct wake *w)
{
        for (struct sub *s = j->subs; s; s = s->next)
                if (s->suspended) {
                        s->suspended = false;
                        wake_add(w, s->conn);
                }
}

static void event_push_locked(struct jobs *j, const char *type, json_t *data, struct wake *w)
{
        char *json = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER), *text = NULL;
        size_t slot = (size_t)(j->next_seq % JOBS_EVENTS_KEPT);

        json_decref(data);
        if (!json || asprintf(&text, "event: %s\ndata: %s\n\n", type, json) < 0)
                text = NULL;
        free(json);
        if (!text)
                return;
        free(j->events[slot]);
        j->events[slot] = text;
        j->next_seq++;
        wake_subs_locked(j, w);
}

void jobs_event_json(struct jobs *j, const char *event, json_t *data)
{
        struct wake w = {0};

        if (!j || !event || !data) {
                json_decref(data);
                return;
        }
        pthread_mutex_lock(&j->lock);
        event_push_locked(j, event, data, &w);
        pthread_mutex_unlock(&j->lock);
        wake_run(&w);
}

static json_t *state_json(const char *request_id, const char *slug, const char *state, const char *run_id,
                          const char *reason)
{
        return json_pack("{s:s?, s:s, s:s, s:s?, s:s?}", "request", request_id, "slug", slug, "state", state, "run",
                         run_id && *run_id ? run_id : NULL, "reason", reason);
}

void jobs_event_state(struct jobs *j, const char *request_id, const char *slug, const char *state, const char *run_id,
                      const char *reason)
{
        struct wake w = {0};

        pthread_mutex_lock(&j->lock);
        event_push_locked(j, "state", state_json(request_id, slug, state, run_id, reason), &w);
        pthread_mutex_unlock(&j->lock);
        wake_run(&w);
}

static void job_free(struct job *jb)
{
        for (size_t i = 0; i < jb->n_lines; i++)
                free(jb->lines[i]);
        free(jb->lines);
        free(jb->slug);
        free(jb->ref);
        free(jb);
}

static void job_unref_locked(struct jobs *j, struct job *jb)
{
        if (--jb->refs > 0)
                return;
        for (struct job **p = &j->jobs; *p; p = &(*p)->next)
                if (*p == jb) {
                        *p = jb->next;
                        break;
                }
        job_free(jb);
}

/* A line for the job's streams and an event; last ends the streams. Newlines inside become spaces. */
static void job_say(struct job *jb, bool last, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void job_say(struct job *jb, bool last, const char *fmt, ...)
{
        struct jobs *j = jb->j;
        struct wake w = {0};
        char text[1400], *line;
        va_list ap;
        size_t n;

        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        for (char *p = text; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
        n = strlen(text);
        pthread_mutex_lock(&j->lock);
        if (!jb->done && (jb->n_lines + 1 < JOBS_MAX_LINES || last)) {
                char **nl = realloc(jb->lines, (jb->n_lines + 1) * sizeof *nl);
                line = malloc(n + 2);
                if (nl)
                        jb->lines = nl;
                if (nl && line) {
                        memcpy(line, text, n);
                        memcpy(line + n, "\n", 2);
                        jb->lines[jb->n_lines++] = line;
                } else {
                        free(line);
                }
        }
        if (last)
                jb->done = true;
        for (struct stream *s = jb->streams; s; s = s->next)
                if (s->suspended) {
                        s->suspended = false;
                        wake_add(&w, s->conn);
                }
        event_push_locked(j, "progress",
                          json_pack("{s:s, s:s, s:s}", "request", jb->id, "slug", jb->slug, "line", text), &w);
        pthread_mutex_unlock(&j->lock);
        wake_run(&w);
}

/* ---- the worker ---------------------------------------------------------------------------------------- */

struct run_ctx {
        struct job *jb;
        struct store *s;
        struct timespec last_progress;
};

static void on_warn(void *ctx, const char *line)
{
        struct run_ctx *c = ctx;

        job_say(c->jb, false, "warning: %s", line);
}

static void say_verified(struct run_ctx *c)
{
        struct version_info v = {0};

        if (index_resolve_ref(store_index(c->s), c->jb->ref, &v, NULL) < 0)
                return;
        job_say(c->jb, false, "verify %s@%s: %s", v.slug, v.version,
                v.signer ? "signature checked" : (v.insecure ? "insecure (unsigned)" : "unsigned (imported)"));
        if (v.signer)
                job_say(c->jb, false, "verify %s@%s: signed by %s", v.slug, v.version, v.signer);
        version_info_release(&v);
}

static void on_step(void *ctx, const char *step, double seconds)
{
        struct run_ctx *c = ctx;

        if (!strcmp(step, "fetch")) {
                job_say(c->jb, false, "fetch %s: done in %.1f s", c->jb->ref, seconds);
                say_verified(c);
        } else if (!strcmp(step, "checkout")) {
                job_say(c->jb, false, "unpack %s: checked out in %.1f s", c->jb->ref, seconds);
        } else if (!strcmp(step, "images")) {
                job_say(c->jb, false, "images %s: ready in %.1f s", c->jb->ref, seconds);
        } else if (!strcmp(step, "up")) {
                job_say(c->jb, false, "up %s: compose up in %.1f s", c->jb->ref, seconds);
        } else if (!strcmp(step, "wait")) {
                job_say(c->jb, false, "up %s: containers running after %.1f s", c->jb->ref, seconds);
        } else {
                job_say(c->jb, false, "%s %s: %.1f s", step, c->jb->ref, seconds);
        }
}

static void on_download(void *ctx, uint64_t done, uint64_t total)
{
        struct run_ctx *c = ctx;
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        if (done != total && now.tv_sec == c->last_progress.tv_sec)
                return; /* at most about one line a second */
        c->last_progress = now;
        job_say(c->jb, false, "fetch %s: %llu of %llu bytes", c->jb->ref, (unsigned long long)done,
                (unsigned long long)total);
}

static void wait_ms_locked(struct jobs *j, long ms)
{
        struct timespec t;

        clock_gettime(CLOCK_REALTIME, &t);
        worker_add_ms(&t, ms);
        pthread_cond_timedwait(&j->cond, &j->lock, &t);
}

/* A stack that has a run (running, stopped, failed ...): an anonymous request changes nothing about it, its
 * front door included, until the person approves. */
static bool has_run(struct store *s, const char *slug)
{
        struct run_row row = {0};
        bool has = runs_get(s, slug, &row, NULL) == 0;

        run_row_release(&row);
        return has;
}

static void notify(struct store *s, const char *ref, const char *slug, const char *id);

/* true when the request was approved; otherwise the job's last line is said. */
static bool wait_decision(struct job *jb, struct store *s)
{
        struct jobs *j = jb->j;
        struct error err = ERROR_INIT;
        bool placeholder = false;

        notify(s, jb->ref, jb->slug, jb->id);
        if (j->auto_approve) {
                log_line(LOG_WARN, "AUTO-APPROVE: request %s for %s approved without asking (--auto-approve)", jb->id,
                         jb->ref);
                requests_decide(s, jb->id, REQUEST_APPROVED, "--auto-approve", NULL);
        } else if (!has_run(s, jb->slug)) {
                orch_waiting(s, jb->slug, NULL, NULL); /* https://<slug>.stack.localhost says so meanwhile */
                placeholder = true;
        }
        for (;;) {
                struct request_row row;
                bool stop;
                int r = requests_get(s, jb->id, &row, &err);

                if (r < 0) {
                        job_say(jb, true, "failed: %s", err.msg);
                        return false;
                }
                if (row.state != REQUEST_PENDING) {
                        bool ok = row.state == REQUEST_APPROVED;
                        jobs_event_state(j, jb->id, jb->slug, request_state_name(row.state), NULL, row.reason);
                        if (ok)
                                job_say(jb, false, "approved: starting %s", jb->ref);
                        else if (row.state == REQUEST_DENIED)
                                job_say(jb, true, "denied: %s", row.reason ? row.reason : "denied by the person");
                        else
                                job_say(jb, true, "expired");
                        request_row_release(&row);
                        if (!ok && placeholder && !has_run(s, jb->slug)) /* the "waiting" page goes too */
                                proxy_route_remove(s, jb->slug, NULL, NULL);
                        return ok;
                }
                request_row_release(&row);
                if ((int64_t)time(NULL) >= jb->expires_at) {
                        requests_expire(s, jb->id, false, "no decision in time", NULL, NULL);
                        continue;
                }
                pthread_mutex_lock(&j->lock);
                stop = j->stopping;
                if (!stop)
                        wait_ms_locked(j, JOBS_POLL_MS);
                pthread_mutex_unlock(&j->lock);
                if (stop) {
                        requests_expire(s, jb->id, true, "stack serve stopped", NULL, NULL);
                        job_say(jb, true, "failed: stack serve stopped before a decision");
                        return false;
                }
        }
}

static void run_job(struct job *jb, struct store *s)
{
        struct jobs *j = jb->j;
        struct run_ctx c = {jb, s, {0}};
        struct orch_options o = {0};
        struct run_info info = {0};
        struct version_info v = {0};
        struct error err = ERROR_INIT;
        int r;

        o.catalog = j->catalog;
        o.progress = on_download;
        o.progress_ctx = &c;
        o.run.warn = on_warn;
        o.run.warn_ctx = &c;
        o.run.step = on_step;
        o.run.step_ctx = &c;
        if (index_resolve_ref(store_index(s), jb->ref, &v, NULL) == 0) {
                job_say(jb, false, "fetch %s: in the store already", jb->ref);
                version_info_release(&v);
                say_verified(&c);
        } else {
                job_say(jb, false, "fetch %s: from the catalog", jb->ref);
        }
        r = orch_run(s, jb->ref, &o, &info, &err);
        if (info.row.id[0])
                requests_set_run(s, jb->id, info.row.id, NULL);
        if (r < 0) {
                jobs_event_state(j, jb->id, jb->slug, run_state_name(RUN_FAILED), info.row.id, err.msg);
                job_say(jb, true, "failed: %s", err.msg);
        } else {
                const char *url = info.n_addresses ? info.addresses[0].url : NULL;
                jobs_event_state(j, jb->id, jb->slug, run_state_name(RUN_RUNNING), info.row.id, NULL);
                if (url)
                        job_say(jb, true, "running: %s", url);
                else
                        job_say(jb, true, "running: run %s (no published address)", info.row.id);
        }
        run_info_release(&info);
}

static void *worker(void *arg)
{
        struct job *jb = arg;
        struct jobs *j = jb->j;
        struct error err = ERROR_INIT;
        struct store *s = NULL;

        if (store_open(j->home, &s, &err) < 0)
                job_say(jb, true, "failed: %s", err.msg);
        else if (!jb->wait || wait_decision(jb, s))
                run_job(jb, s);
        store_free(s);
        pthread_mutex_lock(&j->lock);
        j->live--;
        pthread_cond_broadcast(&j->cond);
        job_unref_locked(j, jb);
        pthread_mutex_unlock(&j->lock);
        return NULL;
}

/* notify-send, when it is on PATH, in a grandchild: nothing waits for it and no zombie stays. */
void jobs_notify(const char *title, const char *body)
{
        char path[4096];
        const char *p = getenv("PATH");
        char *const argv[] = {"notify-send", "--app-name=stack", (char *)title, (char *)body, NULL};
        bool found = false;
        pid_t pid;

        while (p && *p && !found) {
                size_t n = strcspn(p, ":");
                if (n > 0 && snprintf(path, sizeof path, "%.*s/notify-send", (int)n, p) < (int)sizeof path)
                        found = access(path, X_OK) == 0;
                p += n + (p[n] == ':');
        }
        if (!found)
                return;
        pid = fork();
        if (pid == 0) {
                if (fork() == 0) {
                        sigset_t none;
                        int fd = open("/dev/null", O_RDWR);
                        sigemptyset(&none);
                        sigprocmask(SIG_SETMASK, &none, NULL); /* the daemon blocks SIGTERM in every thread */
                        if (fd >= 0) {
                                dup2(fd, 0);
                                dup2(fd, 1);
                                dup2(fd, 2);
                        }
                        execv(path, argv);
                }
                _exit(0);
        }
        if (pid > 0)
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
}

/* The text names who signed the version and the permissions it asks for (orch/approval.h approval_summary). */
static void notify(struct store *s, const char *ref, const char *slug, const char *id)
{
        char body[768], what[512];
        json_t *a = NULL;

        if (approval_describe(s, NULL, ref, &a, NULL) == 0)
                approval_summary(a, what, sizeof what);
        else
                snprintf(what, sizeof what, "what it asks for is unknown");
        json_decref(a);
        snprintf(body, sizeof body, "%s (request %s): %s, %s. Run: stack approve %s, or stack deny %s", slug, id, ref,
                 what, slug, slug);
        jobs_notify("stack: a website asks to start a stack", body);
}

/* ---- the text stream of one job -------------------------------------------------------------------------- */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct stream *st = cls;
        struct jobs *j = st->j;
        struct job *jb = st->job;
        ssize_t n = 0;

        (void)pos;
        pthread_mutex_lock(&j->lock);
        while (st->line < jb->n_lines && (size_t)n < max) {
                const char *l = jb->lines[st->line];
                size_t len = strlen(l) - st->off, take = len < max - (size_t)n ? len : max - (size_t)n;
                memcpy(buf + n, l + st->off, take);
                n += (ssize_t)take;
                st->off += take;
                if (st->off == strlen(l)) {
                        st->line++;
                        st->off = 0;
                }
        }
        if (n == 0) {
                if (jb->done || j->stopping) {
                        n = MHD_CONTENT_READER_END_OF_STREAM;
                } else {
                        st->suspended = true;
                        MHD_suspend_connection(st->conn);
                }
        }
        pthread_mutex_unlock(&j->lock);
        return n;
}

static void stream_free(void *cls)
{
        struct stream *st = cls;
        struct jobs *j = st->j;

        pthread_mutex_lock(&j->lock);
        for (struct stream **p = &st->job->streams; *p; p = &(*p)->next)
                if (*p == st) {
                        *p = st->next;
                        break;
                }
        job_unref_locked(j, st->job);
        pthread_mutex_unlock(&j->lock);
        free(st);
}

/* A streamed response of type read from cls; NULL (cls freed) when there is no memory for it. */
static struct MHD_Response *callback_reply(MHD_ContentReaderCallback read, MHD_ContentReaderFreeCallback free_cls,
                                           void *cls, const char *type, struct MHD_Connection *conn)
{
        struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, read, cls, free_cls);

        if (!resp) {
                free_cls(cls);
                return NULL;
        }
        return reply_stream(resp, type, conn);
}

/* A response streaming jb's lines; takes a reference to jb. */
static struct MHD_Response *stream_attach(struct jobs *j, struct job *jb, struct MHD_Connection *conn)
{
        struct stream *st = calloc(1, sizeof *st);

        if (!st)
                return NULL;
        st->j = j;
        st->job = jb;
        st->conn = conn;
        pthread_mutex_lock(&j->lock);
        st->next = jb->streams;
        jb->streams = st;
        jb->refs++;
        pthread_mutex_unlock(&j->lock);
        return callback_reply(stream_read, stream_free, st, "text/plain; charset=utf-8", conn);
}

int jobs_start(struct jobs *j, const struct job_spec *spec, struct MHD_Connection *conn,
               struct MHD_Response **ret_stream, struct error *err)
{
        struct job *jb = calloc(1, sizeof *jb);
        struct MHD_Response *resp = NULL;
        pthread_attr_t attr;
        pthread_t t;
        int r;

        if (!jb)
                return error_set(err, STACK_EFAIL, "out of memory");
        jb->j = j;
        snprintf(jb->id, sizeof jb->id, "%s", spec->id);
        jb->slug = strdup(spec->slug);
        jb->ref = strdup(spec->ref);
        jb->wait = spec->wait;
        jb->expires_at = spec->expires_at;
        jb->refs = 1;
        if (!jb->slug || !jb->ref) {
                job_free(jb);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        pthread_mutex_lock(&j->lock);
        if (j->live >= JOBS_MAX || j->stopping) {
                pthread_mutex_unlock(&j->lock);
                job_free(jb);
                return error_set(err, STACK_EFAIL, "busy: %d requests are in flight already", JOBS_MAX);
        }
        jb->next = j->jobs;
        j->jobs = jb;
        j->live++;
        pthread_mutex_unlock(&j->lock);
        if (ret_stream) { /* before the worker starts: the stream sees every line */
                resp = stream_attach(j, jb, conn);
                if (!resp) {
                        r = error_set(err, STACK_EFAIL, "out of memory");
                        goto fail;
                }
        }
        if (spec->wait) {
                job_say(jb, false, "waiting for approval: stack approve %s   (request %s)", jb->slug, jb->id);
                jobs_event_state(j, jb->id, jb->slug, request_state_name(REQUEST_PENDING), NULL, NULL);
        } else {
                job_say(jb, false, "starting %s (request %s)", jb->ref, jb->id);
                jobs_event_state(j, jb->id, jb->slug, request_state_name(REQUEST_APPROVED), NULL, "trusted stack");
        }
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = pthread_create(&t, &attr, worker, jb);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                r = error_errno(err, STACK_EFAIL, r, "cannot start a worker thread");
                job_say(jb, true, "failed: cannot start a worker thread");
                goto fail;
        }
        if (ret_stream)
                *ret_stream = resp;
        return 0;
fail:
        if (resp)
                MHD_destroy_response(resp);
        pthread_mutex_lock(&j->lock);
        j->live--;
        job_unref_locked(j, jb);
        pthread_mutex_unlock(&j->lock);
        return r;
}

/* ---- /events ----------------------------------------------------------------------------------------------- */

static size_t put(char *buf, size_t max, size_t n, const char *text, size_t *off)
{
        size_t len = strlen(text) - *off, take = len < max - n ? len : max - n;

        memcpy(buf + n, text + *off, take);
        *off += take;
        return take;
}

static ssize_t events_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        static const char hello[] = ": stack events\n\n", keepalive[] = ": keep-alive\n\n";
        struct sub *s = cls;
        struct jobs *j = s->j;
        uint64_t oldest;
        size_t n = 0;

        (void)pos;
        pthread_mutex_lock(&j->lock);
        oldest = j->next_seq > JOBS_EVENTS_KEPT ? j->next_seq - JOBS_EVENTS_KEPT : 0;
        if (j->stopping) {
                pthread_mutex_unlock(&j->lock);
                return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (s->hello && max >= sizeof hello) {
                memcpy(buf, hello, sizeof hello - 1);
                n = sizeof hello - 1;
                s->hello = false;
        }
        if (s->seq < oldest) { /* this reader fell behind: skip what is gone */
                s->seq = oldest;
                s->off = 0;
        }
        while (s->seq < j->next_seq && n < max) {
                const char *e = j->events[s->seq % JOBS_EVENTS_KEPT];
                n += put(buf, max, n, e, &s->off);
                if (s->off == strlen(e)) {
                        s->seq++;
                        s->off = 0;
                }
        }
        if (n == 0 && s->keepalive && max >= sizeof keepalive) {
                memcpy(buf, keepalive, sizeof keepalive - 1);
                n = sizeof keepalive - 1;
        }
        s->keepalive = false;
        if (n == 0) {
                s->suspended = true;
                MHD_suspend_connection(s->conn);
        }
        pthread_mutex_unlock(&j->lock);
        return (ssize_t)n;
}

static void events_free(void *cls)
{
        struct sub *s = cls;
        struct jobs *j = s->j;

        pthread_mutex_lock(&j->lock);
        for (struct sub **p = &j->subs; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        break;
                }
        pthread_mutex_unlock(&j->lock);
        free(s);
}

struct MHD_Response *jobs_events(struct jobs *j, struct MHD_Connection *conn)
{
        struct sub *s = calloc(1, sizeof *s);

        if (!s)
                return NULL;
        s->j = j;
        s->conn = conn;
        s->hello = true;
        pthread_mutex_lock(&j->lock);
        s->seq = j->next_seq; /* what happens from now on */
        s->next = j->subs;
        j->subs = s;
        pthread_mutex_unlock(&j->lock);
        return callback_reply(events_read, events_free, s, "text/event-stream", conn);
}

unsigned jobs_readers(struct jobs *j)
{
        unsigned n = 0;

        pthread_mutex_lock(&j->lock);
        for (struct sub *s = j->subs; s; s = s->next)
                n++;
        pthread_mutex_unlock(&j->lock);
        return n;
}

/* ---- life cycle ------------------------------------------------------------------------------------------- */

static void *ticker(void *arg)
{
        struct jobs *j = arg;

        pthread_mutex_lock(&j->lock);
        while (!j->stopping) {
                struct timespec t;
                struct wake w = {0};
                clock_gettime(CLOCK_REALTIME, &t);
                t.tv_sec += JOBS_KEEPALIVE_S;
                if (pthread_cond_timedwait(&j->cond, &j->lock, &t) != ETIMEDOUT)
                        continue;
                for (struct sub *s = j->subs; s; s = s->next)
                        s->keepalive = true;
                wake_subs_locked(j, &w);
                pthread_mutex_unlock(&j->lock);
                wake_run(&w);
                pthread_mutex_lock(&j->lock);
        }
        pthread_mutex_unlock(&j->lock);
        return NULL;
}

int jobs_new(const struct jobs_config *c, struct jobs **ret, struct error *err)
{
        struct jobs *j = calloc(1, sizeof *j);
        int r;

        if (!j)
                return error_set(err, STACK_EFAIL, "out of memory");
        pthread_mutex_init(&j->lock, NULL);
        pthread_cond_init(&j->cond, NULL);
        j->home = strdup(c->home);
        j->catalog = c->catalog ? strdup(c->catalog) : NULL;
        j->auto_approve = c->auto_approve;
        if (!j->home || (c->catalog && !j->catalog)) {
                jobs_free(j);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        r = worker_start(&j->ticker, ticker, j, "keep-alive", err);
        if (r < 0) {
                jobs_free(j);
                return r;
        }
        j->ticker_made = true;
        *ret = j;
        return 0;
}

void jobs_shutdown(struct jobs *j)
{
        struct wake w = {0};

        if (!j)
                return;
        pthread_mutex_lock(&j->lock);
        j->stopping = true;
        pthread_cond_broadcast(&j->cond);
        for (struct job *jb = j->jobs; jb; jb = jb->next)
                for (struct stream *s = jb->streams; s; s = s->next)
                        if (s->suspended) {
                                s->suspended = false;
                                wake_add(&w, s->conn);
                        }
        wake_subs_locked(j, &w);
        pthread_mutex_unlock(&j->lock);
        wake_run(&w);
}

void jobs_free(struct jobs *j)
{
        if (!j)
                return;
        jobs_shutdown(j);
        if (j->ticker_made)
                pthread_join(j->ticker, NULL);
        pthread_mutex_lock(&j->lock);
        while (j->live > 0)
                pthread_cond_wait(&j->cond, &j->lock);
        pthread_mutex_unlock(&j->lock);
        while (j->jobs) { /* streams are gone with the HTTP server: only finished jobs remain */
                struct job *next = j->jobs->next;
                job_free(j->jobs);
                j->jobs = next;
        }
        for (size_t i = 0; i < JOBS_EVENTS_KEPT; i++)
                free(j->events[i]);
        free(j->home);
        free(j->catalog);
        pthread_cond_destroy(&j->cond);
        pthread_mutex_destroy(&j->lock);
        free(j);
}
