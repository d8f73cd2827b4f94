/* regimages.c - registry images of a version (regimages.h, spec/run.md "Registry images"): which images are
 * the registry's, pulling them through the Engine, keeping them in the store, and the pin checked before each
 * start. */
#include "regimages.h"
#include "engine.h"
#include "images.h"
#include "relaunch.h"

#include "base/fsutil.h"
#include "base/worker.h"
#include "base/mem.h"
#include "base/yamltree.h"
#include "store/imagearchive.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <mbedtls/base64.h>

#define MAX_COMPOSE (16u << 20) /* the policy's output bound */

/* ---- which images ---- */

/* "name" and "name:latest" are one image; a digest or a tag is kept as written. */
static void ref_normal(const char *ref, char *out, size_t size)
{
        bool tagged = ref[engine_ref_repo_len(ref)] != 0;

        snprintf(out, size, "%s%s", ref, tagged ? "" : ":latest");
}

static bool ref_in(const char *ref, char *const *list)
{
        char a[1024], b[1024];

        ref_normal(ref, a, sizeof a);
        for (size_t i = 0; list && list[i]; i++) {
                ref_normal(list[i], b, sizeof b);
                if (!strcmp(a, b))
                        return true;
        }
        return false;
}

int regimages_needed(const char *compose_path, char *const *bundle_refs, char ***ret, struct error *err)
{
        struct yamltree_node *root = NULL;
        const struct yamltree_node *services = NULL;
        char **v = NULL, *text = NULL;
        size_t len = 0;
        int r;

        *ret = NULL;
        r = fs_read_file(compose_path, MAX_COMPOSE, &text, &len);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot read %s", compose_path);
        r = relaunch_load_tree(compose_path, text, len, &root, err); /* the file re-launch reads too */
        free(text);
        if (r < 0)
                return r;
        /* A file that only includes others has no services of its own: their images are left to the compose tool
         * (spec/run.md "Registry images", known limits). */
        services = yamltree_map_get(root, "services");
        for (size_t i = 1; r == 0 && services && services->kind == YAMLTREE_MAP && i < services->n; i += 2) {
                const struct yamltree_node *svc = services->items[i], *img;
                if (svc->kind != YAMLTREE_MAP || yamltree_map_get(svc, "build"))
                        continue;
                img = yamltree_map_get(svc, "image");
                if (!img || !yamltree_is_scalar(img) || !img->len || strchr(img->text, '$') ||
                    ref_in(img->text, bundle_refs) || ref_in(img->text, v))
                        continue;
                if (strv_extend(&v, (char *const[]){img->text, NULL}) < 0)
                        r = error_set(err, STACK_EFAIL, "out of memory");
        }
        yamltree_free(root);
        if (r < 0) {
                strv_free(v);
                return r;
        }
        *ret = v;
        return 0;
}

/* ---- the setting ---- */

bool regimages_keep(const char *home, const char *slug)
{
        char path[PATH_MAX];
        json_t *j, *images, *own;
        bool keep = true;

        if (!home || (size_t)snprintf(path, sizeof path, "%s/config.json", home) >= sizeof path)
                return true;
        j = json_load_file(path, 0, NULL);
        images = json_object_get(j, "images");
        own = json_object_get(json_object_get(images, "stacks"), slug ? slug : "");
        if (json_is_boolean(own))
                keep = json_is_true(own);
        else if (json_is_boolean(json_object_get(images, "keep")))
                keep = json_is_true(json_object_get(images, "keep"));
        json_decref(j);
        return keep;
}

/* ---- credentials: the person's Docker config, when it has some for the registry ---- */

char *regimages_auth(const char *ref)
{
        const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME"), *b64;
        char path[PATH_MAX], host[256], plain[1024], *colon, *out = NULL, *text;
        unsigned char enc[2048];
        size_t olen = 0, hl = engine_ref_domain_len(ref);
        json_t *j, *entry;

        if (hl && hl < sizeof host)
                snprintf(host, sizeof host, "%.*s", (int)hl, ref);
        else
                snprintf(host, sizeof host, "https://index.docker.io/v1/");
        if (dir ? (size_t)snprintf(path, sizeof path, "%s/config.json", dir) >= sizeof path
                : !home || (size_t)snprintf(path, sizeof path, "%s/.docker/config.json", home) >= sizeof path)
                return NULL;
        j = json_load_file(path, 0, NULL);
        entry = json_object_get(json_object_get(j, "auths"), host);
        b64 = json_string_value(json_object_get(entry, "auth"));
        if (b64 && mbedtls_base64_decode((unsigned char *)plain, sizeof plain - 1, &olen, (const unsigned char *)b64,
                                         strlen(b64)) == 0) {
                plain[olen] = 0;
                colon = strchr(plain, ':');
                if (colon) {
                        *colon = 0;
                        json_t *a = json_pack("{s:s, s:s, s:s}", "username", plain, "password", colon + 1,
                                              "serveraddress", host);
                        text = a ? json_dumps(a, JSON_COMPACT) : NULL;
                        if (text &&
                            mbedtls_base64_encode(enc, sizeof enc, &olen, (unsigned char *)text, strlen(text)) == 0) {
                                for (size_t i = 0; i < olen; i++) /* the Engine reads base64url */
                                        enc[i] = enc[i] == '+' ? '-' : enc[i] == '/' ? '_' : enc[i];
                                out = strndup((char *)enc, olen);
                        }
                        free(text);
                        json_decref(a);
                }
        }
        json_decref(j);
        return out;
}

/* ---- the store side ---- */

struct save_sink {
        struct ia_sink *k;
        uint64_t size;
};

static int save_write(void *ctx, const void *buf, size_t n, struct error *err)
{
        struct save_sink *ss = ctx;

        ss->size += n;
        return ia_sink_write(ss->k, buf, n, err);
}

/* The image id an archive saved: its config's digest (docker save names it in manifest.json), else NULL. */
static char *archive_image_id(struct store *s, const struct digest *recipe)
{
        json_t *j = NULL;
        const char *hex;
        char *id = NULL;

        if (ia_describe(s, recipe, &j, NULL) < 0)
                return NULL;
        hex = json_string_value(
                json_object_get(json_object_get(json_array_get(json_object_get(j, "images"), 0), "config"), "sha256"));
        if (hex && asprintf(&id, "sha256:%s", hex) < 0)
                id = NULL;
        json_decref(j);
        return id;
}

/* One image saved into the store's objects: save_image() does the files only (no index, no callbacks: it runs on
 * a thread of its own while a run goes on, with an Engine connection of its own); record_image() then gives the
 * index its tree and the pin what the archive holds. */
struct saved {
        struct staging *st;
        struct tree t;
        struct digest archive, recipe;
        bool have_recipe;
        uint64_t size;
};

static void saved_release(struct saved *sv)
{
        staging_free(sv->st);
        tree_release(&sv->t);
        memset(sv, 0, sizeof *sv);
}

/* docker save of ref into staged objects, committed: a tree with one file, the archive stored as its parts. */
static int save_image(struct store *s, struct engine *e, const char *ref, struct saved *sv, struct error *err)
{
        struct save_sink ss = {0};
        struct tree_recipe *recipe = NULL;
        int r;

        memset(sv, 0, sizeof *sv);
        tree_init(&sv->t);
        r = staging_new(s, &sv->st, err);
        if (r == 0)
                r = ia_sink_begin(s, sv->st, &ss.k, err);
        if (r == 0)
                r = engine_image_save(e, ref, save_write, &ss, err);
        if (r == 0)
                r = ia_sink_end(ss.k, &sv->archive, &recipe, err);
        if (r == 0)
                r = tree_add(&sv->t, IMAGE_TREE_FILE, ENTRY_FILE, 0644, ss.size, &sv->archive, NULL, err);
        if (r == 0 && recipe) {
                sv->recipe = recipe->digest;
                sv->have_recipe = true;
                r = tree_set_last_recipe(&sv->t, recipe) < 0 ? error_set(err, STACK_EFAIL, "out of memory") : 0;
                recipe = NULL;
        }
        if (r == 0)
                r = tree_finalize(&sv->t, err);
        if (r == 0)
                r = staging_commit(sv->st, err);
        sv->size = ss.size;
        tree_recipe_free(recipe);
        ia_sink_free(ss.k);
        return r;
}

/* The saved tree into the index; pin->tree, ->stored, ->size; pin->image_id replaced by the id the archive holds
 * when it says one. pulled: stack pulled it, so gc --images may remove it from the Engine once no kept version
 * needs it (an image the person had is never recorded). */
static int record_image(struct store *s, struct saved *sv, const char *ref, bool pulled, struct version_image *pin,
                        struct error *err)
{
        int r = tree_digest(&sv->t, &pin->tree) < 0 ? error_set(err, STACK_EFAIL, "out of memory") : 0;
        char *id;

        if (r == 0)
                r = index_put_tree(store_index(s), &sv->t, &pin->tree, err);
        if (r < 0)
                return r;
        id = sv->have_recipe ? archive_image_id(s, &sv->recipe) : NULL;
        if (id) {
                free(pin->image_id);
                pin->image_id = id;
        }
        pin->stored = true;
        pin->size = sv->size;
        if (pulled) /* gc --images may remove what stack brought, never an image the person had */
                images_record(s, &sv->archive, (char *[]){(char *)ref, NULL}, NULL);
        return 0;
}

static int store_image(struct store *s, struct engine *e, const char *ref, bool pulled, struct version_image *pin,
                       struct error *err)
{
        struct saved sv;
        int r = save_image(s, e, ref, &sv, err);

        if (r == 0)
                r = record_image(s, &sv, ref, pulled, pin, err);
        saved_release(&sv);
        return r;
}

/* The pinned image back into the Engine from its tree. */
static int load_image(struct store *s, struct engine *e, const struct version_image *pin, struct error *err)
{
        struct tree t;
        const struct tree_entry *te;
        unsigned loaded = 0;
        int r;

        tree_init(&t);
        r = index_load_tree(store_index(s), &pin->tree, &t, err);
        te = r == 0 ? tree_find(&t, IMAGE_TREE_FILE) : NULL;
        if (r == 0 && !te)
                r = error_set(err, STACK_ESTORE, "image %s: its store tree has no %s (run stack verify)", pin->ref,
                              IMAGE_TREE_FILE);
        if (r == 0)
                r = images_load_entry(s, e, te, pin->ref, true, &loaded, NULL, err);
        tree_release(&t);
        return r;
}

/* ---- ensure ---- */

/* ---- saving while the run goes on (regimages_options.background) ---- */

struct save_job {
        struct store *s;
        struct engine *e;   /* the job's own connection */
        const char *ref;    /* its pin's */
        char inspected[96]; /* the id the Engine gave for ref before the save */
        bool pulled, on, running;
        pthread_t thread;
        struct saved sv;
        int r;
        struct error err;
};

struct regimages_saving {
        int64_t version_id;
        struct version_image *pins;
        struct save_job *jobs; /* one slot per pin; .on: that pin's image is being saved */
        size_t n;
};

static void *save_job_run(void *arg)
{
        struct save_job *j = arg;

        j->r = save_image(j->s, j->e, j->ref, &j->sv, &j->err);
        return NULL;
}

static void jobs_join(struct save_job *jobs, size_t n)
{
        for (size_t i = 0; jobs && i < n; i++)
                if (jobs[i].running) {
                        pthread_join(jobs[i].thread, NULL);
                        jobs[i].running = false;
                }
}

static void jobs_free(struct save_job *jobs, size_t n)
{
        jobs_join(jobs, n);
        for (size_t i = 0; jobs && i < n; i++) {
                saved_release(&jobs[i].sv);
                engine_free(jobs[i].e);
        }
        free(jobs);
}

struct ensure {
        struct store *s;
        struct engine *e;
        const struct regimages_options *o;
        struct regimages_result *res;
        bool keep;
        struct save_job *jobs; /* background saves (NULL: each image saved before the next) */
        struct error *err;
};

/* The save of pin's image on a thread of its own, for regimages_finish() to wait for and record. */
static int job_start(struct ensure *en, struct save_job *j, const struct version_image *pin, bool pulled)
{
        char host[PATH_MAX + 8];
        int r;

        j->s = en->s;
        j->ref = pin->ref;
        j->pulled = pulled;
        j->err = (struct error)ERROR_INIT;
        snprintf(j->inspected, sizeof j->inspected, "%s", pin->image_id);
        snprintf(host, sizeof host, "unix://%s", engine_socket(en->e));
        r = engine_open_at(host, &j->e, en->err);
        if (r == 0)
                r = worker_start(&j->thread, save_job_run, j, "image saver", en->err);
        j->on = j->running = r == 0;
        return r;
}

struct progress_ctx {
        const struct regimages_options *o;
        const char *ref;
};

static void on_progress(void *ctx, const struct engine_progress *p)
{
        struct progress_ctx *pc = ctx;

        pc->o->progress(pc->o->progress_ctx, pc->ref, p);
}

static int pull(struct ensure *en, const char *ref, const char *what)
{
        char norm[1024], *auth;
        struct progress_ctx pc = {.o = en->o, .ref = what};
        int r;

        if (en->o->offline)
                return error_set(en->err, STACK_ENETWORK, "image %s is not in the Engine or the store (offline)", what);
        ref_normal(ref, norm, sizeof norm); /* a name alone would pull every tag */
        if (en->o->say)
                error_say(en->o->say, en->o->say_ctx, "pulling %s", what);
        auth = regimages_auth(norm);
        r = engine_image_pull(en->e, norm, auth, en->o->progress ? on_progress : NULL, &pc, en->err);
        free(auth);
        if (r == 0)
                en->res->pulled++;
        return r;
}

/* The repository digest the Engine has for ref's repository. */
static char *repo_digest_of(const struct engine_image_info *ii, const char *ref)
{
        const char *at = strchr(ref, '@');
        char repo[1024];
        size_t rl;

        if (at)
                return strdup(ref);
        ref_normal(ref, repo, sizeof repo);
        rl = engine_ref_repo_len(repo);
        for (size_t i = 0; ii->repo_digests && ii->repo_digests[i]; i++) {
                const char *rd = ii->repo_digests[i], *rat = strchr(rd, '@');
                /* "name" is "docker.io/library/name" to the Engine */
                if (rat && ((size_t)(rat - rd) == rl && !strncmp(rd, repo, rl)))
                        return strdup(rd);
        }
        return ii->repo_digests && ii->repo_digests[0] ? strdup(ii->repo_digests[0]) : NULL;
}

/* After a save: when the archive holds another image than the one inspected (the tag moved while it was saved),
 * the saved image counts, with its repository digest. Unless the Engine does not name images by their config (a
 * containerd image store names them by manifest): then the inspected id stands. */
static int pin_saved(struct engine *e, const char *inspected, struct version_image *pin, struct error *err)
{
        struct engine_image_info saved = {0};
        char *id, *rd;
        int r;

        if (!strcmp(pin->image_id, inspected))
                return 0;
        r = engine_image_inspect(e, pin->image_id, &saved, err);
        id = r == 0 ? strdup(saved.id[0] ? saved.id : inspected) : NULL;
        if (r == 0 && !id)
                r = error_set(err, STACK_EFAIL, "out of memory");
        if (r == 0) {
                free(pin->image_id);
                pin->image_id = id;
        }
        if (r == 0 && saved.id[0] && (rd = repo_digest_of(&saved, pin->ref)) != NULL) {
                free(pin->repo_digest);
                pin->repo_digest = rd;
        }
        engine_image_info_release(&saved);
        return r;
}

/* A new pin for ref: the Engine's image (pulled first when it has none, or always with o->pull), stored (job: on
 * a thread of its own, recorded by regimages_finish()). */
static int pin_new(struct ensure *en, const char *ref, struct version_image *pin, struct save_job *job)
{
        struct engine_image_info ii = {0};
        bool pulled = false;
        int r = engine_image_inspect(en->e, ref, &ii, en->err);

        if (r == 0 && (!ii.id[0] || en->o->pull)) {
                pulled = true;
                engine_image_info_release(&ii);
                r = pull(en, ref, ref);
                if (r == 0)
                        r = engine_image_inspect(en->e, ref, &ii, en->err);
                if (r == 0 && !ii.id[0])
                        r = error_set(en->err, STACK_ERUNTIME, "image %s: pulled, but the Engine does not have it",
                                      ref);
        }
        if (r < 0)
                goto out;
        memset(pin, 0, sizeof *pin);
        pin->ref = strdup(ref);
        pin->image_id = strdup(ii.id);
        pin->repo_digest = repo_digest_of(&ii, ref);
        pin->layers = ii.layers;
        pin->size = ii.size;
        pin->pinned_at = (int64_t)time(NULL);
        if (!pin->ref || !pin->image_id) {
                r = error_set(en->err, STACK_EFAIL, "out of memory");
                goto out;
        }
        if (en->keep && job) {
                r = job_start(en, job, pin, pulled);
        } else if (en->keep) {
                r = store_image(en->s, en->e, ref, pulled, pin, en->err);
                if (r == 0)
                        r = pin_saved(en->e, ii.id, pin, en->err);
                en->res->stored += r == 0;
        }
out:
        engine_image_info_release(&ii);
        return r;
}

/* The Engine's image for pin->ref is the pinned one, or is made so: loaded from the store, else pulled by digest. */
static int pin_check(struct ensure *en, struct version_image *pin)
{
        struct engine_image_info ii = {0};
        int r = engine_image_inspect(en->e, pin->ref, &ii, en->err);
        bool ok = r == 0 && ii.id[0] && !strcmp(ii.id, pin->image_id);

        engine_image_info_release(&ii);
        if (r < 0 || ok)
                return r;
        if (pin->stored) {
                r = load_image(en->s, en->e, pin, en->err);
                if (r == 0 && en->o->say)
                        error_say(en->o->say, en->o->say_ctx, "%s: loaded from the store", pin->ref);
                en->res->loaded += r == 0;
        } else if (pin->repo_digest) {
                r = pull(en, pin->repo_digest, pin->ref);
                if (r == 0)
                        r = engine_image_tag(en->e, pin->image_id, pin->ref, en->err);
        } else {
                r = error_set(en->err, en->o->offline ? STACK_ENETWORK : STACK_ERUNTIME,
                              "image %s (%s) is not in the Engine, not kept in the store and from no registry",
                              pin->ref, pin->image_id);
        }
        if (r == 0) { /* what the Engine has now must be what was pinned */
                r = engine_image_inspect(en->e, pin->ref, &ii, en->err);
                if (r == 0 && (!ii.id[0] || strcmp(ii.id, pin->image_id)))
                        r = error_set(en->err, STACK_ERUNTIME,
                                      "image %s: the Engine has %s, the version is pinned to %s", pin->ref,
                                      ii.id[0] ? ii.id : "none", pin->image_id);
                engine_image_info_release(&ii);
        }
        return r;
}

static void pin_release(struct version_image *p)
{
        free(p->ref);
        free(p->repo_digest);
        free(p->image_id);
        memset(p, 0, sizeof *p);
}

static struct version_image *find_pin(struct version_image *v, size_t n, const char *ref)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(v[i].ref, ref))
                        return &v[i];
        return NULL;
}

int regimages_ensure(struct store *s, struct engine *e, const struct version_info *v, char *const *refs,
                     const struct regimages_options *o, struct regimages_result *ret, struct error *err)
{
        struct ensure en = {
                .s = s, .e = e, .o = o, .res = ret, .err = err, .keep = regimages_keep(store_home(s), v->slug)};
        struct version_image *pins = NULL, *out = NULL;
        size_t np = 0, no = 0, want = 0;
        bool saving = false;
        int r;

        memset(ret, 0, sizeof *ret);
        for (; refs && refs[want]; want++)
                ;
        if (!want)
                return 0;
        r = index_version_images(store_index(s), v->id, &pins, &np, err);
        if (r < 0)
                return r;
        out = calloc(want, sizeof *out);
        if (o->background && en.keep)
                en.jobs = calloc(want, sizeof *en.jobs);
        if (!out || (o->background && en.keep && !en.jobs))
                r = error_set(err, STACK_EFAIL, "out of memory");
        for (size_t i = 0; r == 0 && i < want; i++) {
                struct version_image *pin = find_pin(pins, np, refs[i]);
                if (pin && (!o->pull || !pin->repo_digest)) { /* from no registry: nothing to re-resolve */
                        r = pin_check(&en, pin);
                        out[no++] = *pin; /* moved: pins keeps a zeroed copy */
                        memset(pin, 0, sizeof *pin);
                        pin = &out[no - 1];
                        if (r == 0 && en.keep && !pin->stored && pin->ref) { /* keeping turned on since */
                                r = store_image(s, e, pin->ref, false, pin, err);
                                ret->stored += r == 0;
                                ret->changed |= r == 0;
                        }
                        continue;
                }
                r = pin_new(&en, refs[i], &out[no], en.jobs ? &en.jobs[no] : NULL);
                no++;
                saving |= en.jobs && en.jobs[no - 1].on;
                if (r == 0 &&
                    (!pin || strcmp(pin->image_id, out[no - 1].image_id) || pin->stored != out[no - 1].stored))
                        ret->changed = true;
        }
        for (size_t i = 0; r == 0 && i < no; i++)
                if (strv_extend(&ret->pinned, (char *const[]){out[i].ref, out[i].image_id, NULL}) < 0)
                        r = error_set(err, STACK_EFAIL, "out of memory");
        if (r == 0 && saving) { /* recorded by regimages_finish(), with what the saves give */
                ret->saving = calloc(1, sizeof *ret->saving);
                if (!ret->saving) {
                        r = error_set(err, STACK_EFAIL, "out of memory");
                } else {
                        *ret->saving =
                                (struct regimages_saving){.version_id = v->id, .pins = out, .jobs = en.jobs, .n = no};
                        out = NULL;
                        en.jobs = NULL;
                        ret->changed = true;
                }
        } else if (r == 0 && ret->changed) {
                r = index_set_version_images(store_index(s), v->id, out, no, err);
        }
        if (r < 0) {
                strv_free(ret->pinned);
                ret->pinned = NULL;
        }
        jobs_free(en.jobs, want); /* a failure: what was saved meanwhile is not recorded */
        for (size_t i = 0; out && i < no; i++)
                pin_release(&out[i]);
        free(out);
        for (size_t i = 0; i < np; i++)
                pin_release(&pins[i]);
        free(pins);
        return r;
}

int regimages_finish(struct store *s, struct engine *e, struct regimages_result *res, struct error *err)
{
        struct regimages_saving *sv = res->saving;
        int r = 0;

        if (!sv)
                return 0;
        res->saving = NULL;
        jobs_join(sv->jobs, sv->n);
        for (size_t i = 0; r == 0 && i < sv->n; i++)
                if (sv->jobs[i].on && sv->jobs[i].r < 0)
                        r = error_set(err, sv->jobs[i].err.code ? sv->jobs[i].err.code : STACK_ESTORE, "%s",
                                      sv->jobs[i].err.msg);
        for (size_t i = 0; r == 0 && i < sv->n; i++) {
                struct save_job *j = &sv->jobs[i];
                if (!j->on)
                        continue;
                r = record_image(s, &j->sv, sv->pins[i].ref, j->pulled, &sv->pins[i], err);
                if (r == 0)
                        r = pin_saved(e, j->inspected, &sv->pins[i], err);
                res->stored += r == 0;
        }
        if (r == 0)
                r = index_set_version_images(store_index(s), sv->version_id, sv->pins, sv->n, err);
        jobs_free(sv->jobs, sv->n);
        for (size_t i = 0; i < sv->n; i++)
                pin_release(&sv->pins[i]);
        free(sv->pins);
        free(sv);
        return r;
}
