/* engine-images.c - images: present?, load (streamed from a store object or assembled from its parts), build,
 * pull, push, and removing those stack loaded (gc --images). spec/run.md "Engine": "Image load", "Image build",
 * "Registry images", "The managed registry".
 */
#include "engine.h"
#include "engine-int.h"
#include "base/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LOAD_LINE (1u << 20) /* one line of the image load stream */

/* "/images/{ref}/json", or STACK_EREJECT for a reference too long to be one. */
static int image_path(const char *ref, char *path, size_t cap, struct error *err)
{
        snprintf(path, cap, "/images/");
        if (engine_path_append(path, cap, ref) < 0 || engine_path_append(path, cap, "/json") < 0)
                return error_set(err, STACK_EREJECT, "image reference too long: %.64s...", ref);
        return 0;
}

int engine_image_exists(struct engine *e, const char *ref, bool *ret, struct error *err)
{
        char path[1024];
        struct engine_reply rp;
        int r;

        if (!e || !ref || !*ref || !ret)
                return error_set(err, STACK_EFAIL, "engine_image_exists: missing argument");
        r = image_path(ref, path, sizeof path, err);
        if (r == 0)
                r = engine_request(e, "GET", path, NULL, MAX_ANSWER, true, &rp, err);
        if (r < 0)
                return r;
        if (rp.status == 400) {
                /* "invalid reference format" (Docker, Podman): the name came from a bundle, so the bundle is at
                 * fault. Any other refusal (an API version the Engine no longer accepts, ...) is the Engine's. */
                char *m = engine_answer_message(rp.body.p, rp.body.len);
                if (m && strstr(m, "invalid reference format"))
                        r = error_set(err, STACK_EREJECT, "image reference '%s' is not valid: %s", ref, m);
                else
                        r = engine_status_error("GET", path, &rp, err);
                free(m);
        } else if ((rp.status < 200 || rp.status > 299) && rp.status != 404) {
                r = engine_status_error("GET", path, &rp, err);
        } else {
                *ret = rp.status != 404;
        }
        engine_reply_release(&rp);
        return r;
}

int engine_image_id(struct engine *e, const char *ref, char **ret_id, struct error *err)
{
        char path[1024];
        json_t *j = NULL;
        long status = 0;
        bool oom = false;
        int r;

        *ret_id = NULL;
        r = image_path(ref, path, sizeof path, err);
        if (r == 0)
                r = engine_get_json(e, path, &status, &j, err);
        if (r < 0 || !j)
                return r;
        *ret_id = engine_strdup(json_string_value(json_object_get(j, "Id")), &oom);
        json_decref(j);
        return oom ? error_set(err, STACK_EFAIL, "out of memory") : 0;
}

/* ---- image load and build: a tar streamed up, a stream of JSON objects back ---- */

/* The answer: JSON objects, one a line ("\r\n" between them), the first error kept. */
struct load_answer {
        struct buf line; /* the line still open, at most MAX_LOAD_LINE bytes */
        bool oom;
        char *error;                 /* "errorDetail".message or "error" */
        char *message;               /* "message" (an HTTP error answer) */
        char *text;                  /* the start of an answer that is not JSON */
        engine_progress_fn progress; /* a pull's progress lines, or NULL */
        void *progress_ctx;
        char digest[80]; /* a push's {"aux": {"Digest": "sha256:..."}}, "" when none came */
};

/* *slot = a tidied copy of m, unless it holds one already. */
static void keep_first(struct load_answer *a, char **slot, const char *m)
{
        if (!m || *slot)
                return;
        if (!(*slot = strdup(m)))
                a->oom = true;
        else
                engine_tidy_message(*slot);
}

static void load_object(struct load_answer *a, json_t *o)
{
        const char *m = json_string_value(json_object_get(json_object_get(o, "errorDetail"), "message"));
        const char *dg = json_string_value(json_object_get(json_object_get(o, "aux"), "Digest"));

        keep_first(a, &a->error, m ? m : json_string_value(json_object_get(o, "error")));
        keep_first(a, &a->message, json_string_value(json_object_get(o, "message")));
        if (dg && !strncmp(dg, "sha256:", 7) && strlen(dg) == 7 + 64 && strspn(dg + 7, "0123456789abcdef") == 64)
                snprintf(a->digest, sizeof a->digest, "%s", dg); /* the last one: a push names one image */
        if (a->progress && json_is_string(json_object_get(o, "status"))) {
                json_t *d = json_object_get(o, "progressDetail");
                struct engine_progress p = {
                        .id = json_string_value(json_object_get(o, "id")),
                        .status = json_string_value(json_object_get(o, "status")),
                        .current = (uint64_t)json_integer_value(json_object_get(d, "current")),
                        .total = (uint64_t)json_integer_value(json_object_get(d, "total")),
                };
                a->progress(a->progress_ctx, &p);
        }
}

/* One line may hold several objects back to back (JSON_DISABLE_EOF_CHECK tells how far each went). */
static void load_line(struct load_answer *a, const char *p, size_t len)
{
        while (len) {
                json_error_t je;
                json_t *o;

                while (len && strchr(" \t\r\n", *p)) {
                        p++;
                        len--;
                }
                if (!len)
                        return;
                o = json_loadb(p, len, JSON_DISABLE_EOF_CHECK, &je);
                if (!o) {
                        if (!a->text && !(a->text = strndup(p, len < MAX_KEPT_MESSAGE ? len : MAX_KEPT_MESSAGE)))
                                a->oom = true;
                        else
                                engine_tidy_message(a->text);
                        return;
                }
                if (json_is_object(o))
                        load_object(a, o);
                json_decref(o);
                if (je.position <= 0 || (size_t)je.position > len)
                        return;
                p += je.position;
                len -= (size_t)je.position;
        }
}

static size_t load_write(char *ptr, size_t size, size_t n, void *ud)
{
        struct load_answer *a = ud;
        size_t add = size * n, start = 0;

        if (buf_add(&a->line, ptr, add) < 0)
                return 0;
        for (size_t i = 0; i < a->line.len; i++)
                if (a->line.p[i] == '\n') {
                        load_line(a, a->line.p + start, i - start);
                        start = i + 1;
                }
        buf_drop(&a->line, start);
        return add;
}

static void load_answer_release(struct load_answer *a)
{
        buf_release(&a->line);
        free(a->error);
        free(a->message);
        free(a->text);
}

/* POST path with the tar from u; the Engine's answer read into a as it streams. */
static CURLcode post_tar(struct engine *e, const char *path, struct engine_upload *u, struct load_answer *a,
                         long *ret_status)
{
        struct engine_transfer t = {.method = "POST",
                                    .path = path,
                                    .timeout_s = 0,
                                    .write = load_write,
                                    .write_ud = a,
                                    .upload = u,
                                    .content_type = "application/x-tar"};
        CURLcode c = engine_perform(e, &t, ret_status);

        if (a->line.len && !a->line.toobig)
                load_line(a, a->line.p, a->line.len); /* the last object may come without a newline */
        return c;
}

/* What the Engine said of a refused request: its message, else its text, else dflt. */
static const char *load_answer_text(const struct load_answer *a, const char *dflt)
{
        return a->message ? a->message : a->text ? a->text : dflt;
}

/* How a streamed answer went wrong, said by the caller in its own words (answer_result()): the stream's error line,
 * an HTTP refusal (msg: what the Engine said), a line over MAX_LOAD_LINE, a status outside 2xx (msg NULL). */
enum answer_fault { FAULT_STREAM, FAULT_REFUSED, FAULT_TOOBIG, FAULT_STATUS };
typedef int (*answer_fail_fn)(const char *what, enum answer_fault f, long status, const char *msg, struct error *err);

/* A streamed POST's outcome, in this order: out of memory, then what the Engine said (its stream, its refusal,
 * a line too long), which wins over how the transfer ended (it may answer and close before reading all), then the
 * transport, then the status. a is released. */
static int answer_result(struct engine *e, struct load_answer *a, CURLcode c, long status, const char *path,
                         const char *what, answer_fail_fn fail, struct error *err)
{
        int r;

        if (a->oom || a->line.oom || c == CURLE_OUT_OF_MEMORY)
                r = error_set(err, STACK_EFAIL, "out of memory");
        else if (a->error)
                r = fail(what, FAULT_STREAM, status, a->error, err);
        else if (status >= 400)
                r = fail(what, FAULT_REFUSED, status, load_answer_text(a, "the Engine refused it"), err);
        else if (a->line.toobig)
                r = fail(what, FAULT_TOOBIG, status, NULL, err);
        else if (c != CURLE_OK)
                r = engine_transport_error(e, c, "POST", path, err);
        else if (status < 200 || status > 299)
                r = fail(what, FAULT_STATUS, status, NULL, err);
        else
                r = 0;
        load_answer_release(a);
        return r;
}

static int load_fail(const char *what, enum answer_fault f, long status, const char *msg, struct error *err)
{
        switch (f) {
        case FAULT_STREAM: /* the archive the Engine could not read: the bundle's */
                return error_set(err, STACK_EREJECT, "image archive %s: %s", what, msg);
        case FAULT_REFUSED: /* the request refused (version, ...), not the archive read: the Engine's */
                return error_set(err, STACK_ERUNTIME, "Docker Engine: POST /images/load of %s: HTTP %ld: %s", what,
                                 status, msg);
        case FAULT_TOOBIG:
                return error_set(err, STACK_ERUNTIME, "image archive %s: the Engine's answer has a line over %u bytes",
                                 what, MAX_LOAD_LINE);
        default: return error_set(err, STACK_ERUNTIME, "image archive %s: the Engine answered HTTP %ld", what, status);
        }
}

static int image_load(struct engine *e, struct engine_upload u, uint64_t size, const char *what, struct error *err)
{
        struct load_answer a = {.line = BUF_INIT(MAX_LOAD_LINE)};
        long status = 0;
        CURLcode c;

        if (!what)
                what = "(unnamed)";
        c = post_tar(e, "/images/load?quiet=1", &u, &a, &status);
        if (u.read_errno || u.short_read) {
                load_answer_release(&a);
                return u.read_errno ? error_errno(err, STACK_ESTORE, u.read_errno, "reading image archive %s", what)
                                    : error_set(err, STACK_ESTORE, "image archive %s ended after %llu of %llu bytes",
                                                what, (unsigned long long)u.sent, (unsigned long long)size);
        }
        return answer_result(e, &a, c, status, "/images/load", what, load_fail, err);
}

int engine_image_load(struct engine *e, int fd, uint64_t size, const char *what, struct error *err)
{
        if (!e || fd < 0)
                return error_set(err, STACK_EFAIL, "engine_image_load: missing argument");
        return image_load(e, (struct engine_upload){.fd = fd, .size = size}, size, what, err);
}

/* An archive stored as its parts (spec/run.md "Image archives"). */
int engine_image_load_stream(struct engine *e, engine_read_fn read, void *ctx, uint64_t size, const char *what,
                             struct error *err)
{
        if (!e || !read)
                return error_set(err, STACK_EFAIL, "engine_image_load_stream: missing argument");
        return image_load(e, (struct engine_upload){.fd = -1, .read = read, .read_ctx = ctx, .size = size}, size, what,
                          err);
}

static int build_fail(const char *tag, enum answer_fault f, long status, const char *msg, struct error *err)
{
        if (f == FAULT_STREAM || f == FAULT_REFUSED)
                return error_set(err, STACK_ERUNTIME, "building %s failed: %s", tag, msg);
        if (f == FAULT_TOOBIG)
                return error_set(err, STACK_ERUNTIME, "building %s: the Engine's answer has a line over %u bytes", tag,
                                 MAX_LOAD_LINE);
        return error_set(err, STACK_ERUNTIME, "building %s: the Engine answered HTTP %ld", tag, status);
}

/* DockerService, run/flavor.h. */
int engine_build(struct engine *e, int fd, uint64_t size, const char *tag, struct error *err)
{
        struct load_answer a = {.line = BUF_INIT(MAX_LOAD_LINE)};
        struct engine_upload u = {.fd = fd, .size = size};
        char path[512];
        long status = 0;
        CURLcode c;

        if (!e || fd < 0 || !tag || strspn(tag, "abcdefghijklmnopqrstuvwxyz0123456789._-:/") != strlen(tag))
                return error_set(err, STACK_EFAIL, "engine_build: bad argument");
        snprintf(path, sizeof path, "/build?t=%s&rm=1&forcerm=1&q=1", tag);
        c = post_tar(e, path, &u, &a, &status);
        if (u.read_errno) {
                load_answer_release(&a);
                return error_errno(err, STACK_ESTORE, u.read_errno, "reading the build context of %s", tag);
        }
        return answer_result(e, &a, c, status, "/build", tag, build_fail, err);
}

/* ---- images stack loaded (gc --images) ---- */

int engine_image_used(struct engine *e, const char *ref, bool *ret, struct error *err)
{
        json_t *list = NULL;
        char path[4096];
        long status = 0;
        bool have = false;
        int r;

        if (!e || !ref || !*ref || !ret)
                return error_set(err, STACK_EFAIL, "engine_image_used: missing argument");
        r = engine_image_exists(e, ref, &have, err);
        if (r < 0 || !have) {
                if (r == 0)
                        *ret = false; /* an image that is gone is used by nothing */
                return r;
        }
        r = engine_filter_path(e, "/containers/json?all=1", "ancestor", ref, path, sizeof path, err);
        if (r == 0)
                r = engine_get_json(e, path, &status, &list, err);
        if (r == 0 && !json_is_array(list))
                r = error_set(err, STACK_ERUNTIME, "Docker Engine: GET /containers/json: %s",
                              status == 404 ? "HTTP 404" : "the answer is not a list");
        if (r == 0)
                *ret = json_array_size(list) > 0;
        json_decref(list);
        return r;
}

int engine_image_remove(struct engine *e, const char *ref, bool *ret_removed, struct error *err)
{
        static const long in_use[] = {409, 0};
        struct engine_strv kept = {0};
        unsigned n = 0;
        int r;

        if (!e || !ref || !*ref || !ret_removed)
                return error_set(err, STACK_EFAIL, "engine_image_remove: missing argument");
        r = engine_delete(e, "image", "/images", ref, NULL, "", in_use, &kept, &n, err);
        strv_free(kept.v);
        if (r == 0)
                *ret_removed = n > 0;
        return r;
}

/* ---- registry images: pull, inspect, save, tag (spec/run.md "Registry images") ---- */

/* What a pull's failure is: a reference the registry does not have (or refuses) is the Engine's answer to a
 * question it understood (STACK_ERUNTIME); anything else (refused connection, 5xx, a cut or damaged blob, a
 * timeout) is the network's (STACK_ENETWORK). */
static int pull_fail(const char *ref, enum answer_fault f, long status, const char *m, struct error *err)
{
        static const char *const not_there[] = {
                "manifest unknown", "not found", "does not exist", "pull access denied", "unauthorized",
                "denied",           NULL};

        if (f == FAULT_TOOBIG || f == FAULT_STATUS)
                return error_set(err, STACK_ERUNTIME, "pulling %s: the Engine answered HTTP %ld%s", ref, status,
                                 f == FAULT_TOOBIG ? " with a line too long" : "");
        for (size_t i = 0; not_there[i]; i++)
                if (strstr(m, not_there[i]))
                        return error_set(err, STACK_ERUNTIME, "pulling %s: %s", ref, m);
        return error_set(err, STACK_ENETWORK, "pulling %s: %s", ref, m);
}

/* A literal part of a path (its '?', '&', '=' are not escaped); false when it does not fit. */
static bool lit(char *path, size_t cap, const char *s)
{
        size_t have = strlen(path);

        return (size_t)snprintf(path + have, cap - have, "%s", s) < cap - have;
}

/* A POST whose answer is the pull/push stream (no body): a's lines read as they come. */
static CURLcode post_stream(struct engine *e, const char *path, const char *auth, struct load_answer *a,
                            long *ret_status)
{
        struct engine_transfer t = {.method = "POST",
                                    .path = path,
                                    .write = load_write,
                                    .write_ud = a,
                                    .content_type = "application/json",
                                    .body = "",
                                    .body_len = 0,
                                    .auth = auth};
        CURLcode c = engine_perform(e, &t, ret_status);

        if (a->line.len && !a->line.toobig)
                load_line(a, a->line.p, a->line.len);
        return c;
}

int engine_image_pull(struct engine *e, const char *ref, const char *auth, engine_progress_fn progress, void *ctx,
                      struct error *err)
{
        struct load_answer a = {.line = BUF_INIT(MAX_LOAD_LINE), .progress = progress, .progress_ctx = ctx};
        char path[1200] = "/images/create?fromImage=";
        long status = 0;
        CURLcode c;

        if (!e || !ref || !*ref)
                return error_set(err, STACK_EFAIL, "engine_image_pull: missing argument");
        if (engine_path_append(path, sizeof path, ref) < 0)
                return error_set(err, STACK_EREJECT, "image reference too long: %.64s...", ref);
        c = post_stream(e, path, auth, &a, &status);
        return answer_result(e, &a, c, status, "/images/create", ref, pull_fail, err);
}

static int push_fail(const char *ref, enum answer_fault f, long status, const char *m, struct error *err)
{
        if (f == FAULT_TOOBIG || f == FAULT_STATUS)
                return error_set(err, STACK_ERUNTIME, "pushing %s: the Engine answered HTTP %ld%s", ref, status,
                                 f == FAULT_TOOBIG ? " with a line too long" : "");
        return error_set(err, STACK_ERUNTIME, "pushing %s: %s", ref, m);
}

int engine_image_push(struct engine *e, const char *ref, const char *auth, engine_progress_fn progress, void *ctx,
                      char *ret_digest, size_t size, struct error *err)
{
        struct load_answer a = {.line = BUF_INIT(MAX_LOAD_LINE), .progress = progress, .progress_ctx = ctx};
        char path[1400] = "/images/", repo[1024];
        size_t rl;
        long status = 0;
        CURLcode c;
        int r;

        if (!e || !ref || !*ref || !ret_digest || !size)
                return error_set(err, STACK_EFAIL, "engine_image_push: missing argument");
        rl = engine_ref_repo_len(ref);
        if (ref[rl] != ':' || strchr(ref, '@') || rl >= sizeof repo)
                return error_set(err, STACK_EREJECT, "cannot push %.256s: a push needs a reference REPO:TAG", ref);
        memcpy(repo, ref, rl);
        repo[rl] = 0;
        if (engine_path_append(path, sizeof path, repo) < 0 || !lit(path, sizeof path, "/push?tag=") ||
            engine_path_append(path, sizeof path, ref + rl + 1) < 0)
                return error_set(err, STACK_EREJECT, "image reference too long: %.64s...", ref);
        /* The Engine refuses a push without the header (API 1.41: "missing X-Registry-Auth"): "{}" is none. */
        c = post_stream(e, path, auth ? auth : "e30=", &a, &status);
        if (!a.oom && !a.line.oom && !a.error && status >= 200 && status <= 299 && c == CURLE_OK) {
                if (!a.digest[0] || strlen(a.digest) >= size) {
                        load_answer_release(&a);
                        return error_set(err, STACK_ERUNTIME, "pushing %s: the Engine did not say the digest pushed",
                                         ref);
                }
                snprintf(ret_digest, size, "%s", a.digest);
        }
        r = answer_result(e, &a, c, status, "/images/push", ref, push_fail, err);
        if (r < 0)
                ret_digest[0] = 0;
        return r;
}

void engine_image_info_release(struct engine_image_info *i)
{
        strv_free(i->repo_digests);
        strv_free(i->repo_tags);
        i->repo_digests = i->repo_tags = NULL;
}

/* The strings of a JSON array added to s. */
static int strings_of(json_t *a, struct engine_strv *s)
{
        json_t *v;
        size_t i;

        json_array_foreach(a, i, v) if (json_is_string(v) && engine_strv_add(s, json_string_value(v)) < 0) return -1;
        return 0;
}

int engine_image_inspect(struct engine *e, const char *ref, struct engine_image_info *ret, struct error *err)
{
        char path[1024];
        json_t *j = NULL;
        struct engine_strv rd = {0}, rt = {0};
        long status = 0;
        bool oom;
        int r;

        memset(ret, 0, sizeof *ret);
        r = image_path(ref, path, sizeof path, err);
        if (r == 0)
                r = engine_get_json(e, path, &status, &j, err);
        if (r < 0 || !j)
                return r;
        const char *id = json_string_value(json_object_get(j, "Id"));
        bool id_ok = id && *id && strlen(id) < sizeof ret->id;

        if (id_ok)
                snprintf(ret->id, sizeof ret->id, "%s", id);
        oom = strings_of(json_object_get(j, "RepoDigests"), &rd) < 0 ||
              strings_of(json_object_get(j, "RepoTags"), &rt) < 0;
        ret->repo_digests = rd.v;
        ret->repo_tags = rt.v;
        ret->size = (uint64_t)json_integer_value(json_object_get(j, "Size"));
        ret->layers = (unsigned)json_array_size(json_object_get(json_object_get(j, "RootFS"), "Layers"));
        json_decref(j);
        if (oom || !id_ok) {
                engine_image_info_release(ret);
                ret->id[0] = 0;
                return oom ? error_set(err, STACK_EFAIL, "out of memory")
                           : error_set(err, STACK_ERUNTIME, "Docker Engine: GET %s: no Id in the answer", path);
        }
        return 0;
}

/* The save stream: the body goes to the caller while the status is 200, else it is kept as the message. */
struct save_ctx {
        engine_write_fn write;
        void *ctx;
        struct error *err;
        long status;
        int failed; /* the caller's write failed: its code */
        struct buf answer;
};

static size_t save_header(char *ptr, size_t size, size_t n, void *ud)
{
        struct save_ctx *sc = ud;
        size_t len = size * n;
        int code;

        if (len > 9 && !strncmp(ptr, "HTTP/", 5) && sscanf(ptr, "HTTP/%*s %d", &code) == 1)
                sc->status = code;
        return len;
}

static size_t save_write(char *ptr, size_t size, size_t n, void *ud)
{
        struct save_ctx *sc = ud;
        size_t len = size * n;

        if (sc->status != 200) {
                buf_add(&sc->answer, ptr, len); /* a refusal's message; what does not fit is dropped */
                return len;
        }
        sc->failed = sc->write(sc->ctx, ptr, len, sc->err);
        return sc->failed < 0 ? 0 : len;
}

int engine_image_save(struct engine *e, const char *ref, engine_write_fn write, void *ctx, struct error *err)
{
        char path[1024] = "/images/";
        struct save_ctx sc = {.write = write, .ctx = ctx, .err = err, .answer = BUF_INIT(MAX_KEPT_MESSAGE)};
        struct engine_transfer t = {.method = "GET",
                                    .path = path,
                                    .write = save_write,
                                    .write_ud = &sc,
                                    .header = save_header,
                                    .header_ud = &sc};
        long status = 0;
        CURLcode c;
        int r;

        if (engine_path_append(path, sizeof path, ref) < 0 || engine_path_append(path, sizeof path, "/get") < 0)
                return error_set(err, STACK_EREJECT, "image reference too long: %.64s...", ref);
        c = engine_perform(e, &t, &status);
        if (sc.failed < 0)
                r = sc.failed;
        else if (status != 200) {
                struct engine_reply rp = {.status = status, .body = sc.answer};
                r = engine_status_error("GET", path, &rp, err);
        } else if (c != CURLE_OK)
                r = engine_transport_error(e, c, "GET", path, err);
        else
                r = 0;
        buf_release(&sc.answer);
        return r;
}

size_t engine_ref_domain_len(const char *ref)
{
        const char *slash = strchr(ref, '/');
        size_t n = slash ? (size_t)(slash - ref) : 0;

        /* "library/nginx" names no registry: only a first component that could be a host name does */
        if (n && (memchr(ref, '.', n) || memchr(ref, ':', n) || (n == 9 && !strncmp(ref, "localhost", 9))))
                return n;
        return 0;
}

size_t engine_ref_repo_len(const char *ref)
{
        const char *at = strchr(ref, '@');
        size_t end = at ? (size_t)(at - ref) : strlen(ref);
        const char *slash = memrchr(ref, '/', end), *colon = memrchr(ref, ':', end);

        /* the tag is after the last ':' that follows the last '/' (a registry's port is not one) */
        return colon && (!slash || colon > slash) ? (size_t)(colon - ref) : end;
}

int engine_image_tag(struct engine *e, const char *id, const char *ref, struct error *err)
{
        char path[1400] = "/images/", repo[1024], tag[256] = "latest";
        size_t rl = engine_ref_repo_len(ref), tl = ref[rl] == ':' ? strcspn(ref + rl + 1, "@") : 0;

        if (rl >= sizeof repo || tl >= sizeof tag)
                return error_set(err, STACK_EREJECT, "image reference too long: %.64s...", ref);
        memcpy(repo, ref, rl);
        repo[rl] = 0;
        if (tl) {
                memcpy(tag, ref + rl + 1, tl);
                tag[tl] = 0;
        }
        if (engine_path_append(path, sizeof path, id) < 0 || !lit(path, sizeof path, "/tag?repo=") ||
            engine_path_append(path, sizeof path, repo) < 0 || !lit(path, sizeof path, "&tag=") ||
            engine_path_append(path, sizeof path, tag) < 0)
                return error_set(err, STACK_EREJECT, "image reference too long: %.64s...", ref);
        return engine_call_json(e, "POST", path, NULL, NULL, err);
}
