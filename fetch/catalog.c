/* catalog.c - index.json: parse with jansson, verify, cache with validators, revalidate. */
#include "catalog.h"
#include "http.h"
#include "base/fsutil.h"
#include "base/mem.h"
#include "store/index.h"
#include "base/semver.h"
#include "store/manifest.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

static void version_release(struct catalog_version *v)
{
        free(v->version);
        free(v->url);
}

static void stack_release(struct catalog_stack *st)
{
        MEM_FREE_ARRAY(st->v, st->n, version_release);
        free(st->slug);
        free(st->title);
        free(st->description);
}

void catalog_free(struct catalog *c)
{
        if (!c)
                return;
        MEM_FREE_ARRAY(c->stacks, c->n, stack_release);
        free(c->base);
        free(c->signer);
        free(c);
}

static char *resolve_url(const char *base, const char *url)
{
        char *out;

        if (strstr(url, "://"))
                return strdup(url);
        while (url[0] == '.' && url[1] == '/')
                url += 2;
        if (asprintf(&out, "%s/%s", base, url) < 0)
                return NULL;
        return out;
}

#define BAD(...) error_set(err, STACK_EREJECT, "catalog index.json: " __VA_ARGS__)

static int parse_version(json_t *jv, const char *base, const char *slug, struct catalog_version *ret, struct error *err)
{
        const char *version, *url, *sha;
        json_int_t size;

        if (json_unpack(jv, "{s:s, s:s, s:s, s:I}", "version", &version, "url", &url, "sha256", &sha, "size", &size) <
            0)
                return BAD("a version of '%s' lacks version, url, sha256 or size (schema 1)", slug);
        if (!*version || !*url || size < 0)
                return BAD("a version of '%s' has an empty version or url, or a negative size", slug);
        if (digest_from_hex(sha, &ret->sha256) < 0)
                return BAD("%s %s: sha256 is not 64 hex digits", slug, version);
        ret->version = strdup(version);
        ret->url = resolve_url(base, url);
        ret->size = (uint64_t)size;
        if (!ret->version || !ret->url)
                return error_set(err, STACK_EFAIL, "out of memory");
        return 0;
}

int catalog_parse(const char *text, size_t len, const char *base, struct catalog **ret, struct error *err)
{
        json_error_t jerr;
        json_t *root, *stacks;
        struct catalog *c;
        json_int_t schema = 0;
        size_t i;
        int r = 0;

        root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return BAD("not valid JSON (line %d: %s)", jerr.line, jerr.text);
        c = calloc(1, sizeof *c);
        if (!c) {
                json_decref(root);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        c->base = strdup(base);
        if (json_unpack(root, "{s:I, s:o}", "schema", &schema, "stacks", &stacks) < 0 || !json_is_array(stacks)) {
                r = BAD("not a stack catalog (needs \"schema\": 1 and a \"stacks\" array)");
                goto done;
        }
        if (schema != 1) {
                r = BAD("schema %lld is not supported (this stack reads schema 1)", (long long)schema);
                goto done;
        }
        c->stacks = calloc(json_array_size(stacks) + 1, sizeof *c->stacks);
        if (!c->stacks || !c->base) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto done;
        }
        for (i = 0; i < json_array_size(stacks); i++) {
                json_t *js = json_array_get(stacks, i), *versions;
                const char *slug, *title = NULL, *description = NULL;
                struct catalog_stack *st = &c->stacks[c->n];

                if (json_unpack(js, "{s:s, s?s, s?s, s:o}", "slug", &slug, "title", &title, "description", &description,
                                "versions", &versions) < 0 ||
                    !json_is_array(versions)) {
                        r = BAD("stack %zu lacks a slug or a versions array", i);
                        goto done;
                }
                if (!manifest_slug_valid(slug)) {
                        r = BAD("'%.64s' is not a valid slug", slug);
                        goto done;
                }
                for (size_t k = 0; k < c->n; k++)
                        if (!strcmp(c->stacks[k].slug, slug)) {
                                r = BAD("stack '%s' is listed twice", slug);
                                goto done;
                        }
                st->slug = strdup(slug);
                st->title = title ? strdup(title) : NULL;
                st->description = description ? strdup(description) : NULL;
                c->n++;
                st->v = calloc(json_array_size(versions) + 1, sizeof *st->v);
                if (!st->slug || !st->v || (title && !st->title) || (description && !st->description)) {
                        r = error_set(err, STACK_EFAIL, "out of memory");
                        goto done;
                }
                for (size_t j = 0; j < json_array_size(versions); j++) {
                        r = parse_version(json_array_get(versions, j), c->base, slug, &st->v[st->n], err);
                        st->n++;
                        if (r < 0)
                                goto done;
                }
        }
done:
        json_decref(root);
        if (r < 0) {
                catalog_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

int catalog_find(const struct catalog *c, const char *slug, const char *version, const struct catalog_version **ret,
                 struct error *err)
{
        for (size_t i = 0; i < c->n; i++) {
                const struct catalog_stack *st = &c->stacks[i];
                const struct catalog_version *best = NULL;

                if (strcmp(st->slug, slug))
                        continue;
                for (size_t j = 0; j < st->n; j++) {
                        int cmp;
                        if (version) {
                                if (!strcmp(st->v[j].version, version))
                                        best = &st->v[j]; /* the last entry with the label wins */
                        } else if (!best || semver_compare(st->v[j].version, best->version, &cmp) < 0 || cmp >= 0) {
                                best = &st->v[j];
                        }
                }
                if (!best)
                        return error_set(err, STACK_ENOTFOUND, "catalog %s has no version '%s' of '%s'", c->base,
                                         version ? version : "(any)", slug);
                *ret = best;
                return 0;
        }
        return error_set(err, STACK_ENOTFOUND, "catalog %s has no stack '%s'", c->base, slug);
}

/* ---- writing an index ---- */

int catalog_new(const char *base, struct catalog **ret, struct error *err)
{
        struct catalog *c = calloc(1, sizeof *c);

        if (!c || (base && !(c->base = strdup(base)))) {
                free(c);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        *ret = c;
        return 0;
}

static int replace_text(char **field, const char *value)
{
        char *d = value ? strdup(value) : NULL;

        if (value && !d)
                return -ENOMEM;
        free(*field);
        *field = d;
        return 0;
}

/* The stack named slug, inserted in slug order when new; NULL when out of memory. */
static struct catalog_stack *stack_for(struct catalog *c, const char *slug)
{
        struct catalog_stack *nv;
        size_t at = 0;

        while (at < c->n && strcmp(c->stacks[at].slug, slug) < 0)
                at++;
        if (at < c->n && !strcmp(c->stacks[at].slug, slug))
                return &c->stacks[at];
        /* parse allocates exactly; grow by one (a publisher's catalog is small) */
        nv = realloc(c->stacks, (c->n + 1) * sizeof *nv);
        if (!nv)
                return NULL;
        c->stacks = nv;
        memmove(&nv[at + 1], &nv[at], (c->n - at) * sizeof *nv);
        memset(&nv[at], 0, sizeof nv[at]);
        nv[at].slug = strdup(slug);
        if (!nv[at].slug) {
                memmove(&nv[at], &nv[at + 1], (c->n - at) * sizeof *nv);
                return NULL;
        }
        c->n++;
        return &nv[at];
}

int catalog_add(struct catalog *c, const char *slug, const char *title, const char *description,
                const struct catalog_version *v, struct error *err)
{
        struct catalog_stack *st;
        struct catalog_version nv = {0}, *grown;
        size_t at;

        if (!c || !slug || !v || !v->version || !v->url)
                return error_set(err, STACK_EFAIL, "catalog_add: invalid arguments");
        if (!manifest_slug_valid(slug))
                return error_set(err, STACK_EREJECT, "'%.64s' is not a valid slug", slug);
        st = stack_for(c, slug);
        if (!st)
                return error_set(err, STACK_EFAIL, "out of memory");
        for (size_t i = 0; i < st->n; i++)
                if (!strcmp(st->v[i].version, v->version))
                        return error_set(err, STACK_EREJECT, "%s and %s are both %s %s: keep one of them", st->v[i].url,
                                         v->url, slug, v->version);
        grown = realloc(st->v, (st->n + 1) * sizeof *grown);
        if (!grown)
                return error_set(err, STACK_EFAIL, "out of memory");
        st->v = grown;
        nv.version = strdup(v->version);
        nv.url = strdup(v->url);
        nv.sha256 = v->sha256;
        nv.size = v->size;
        if (!nv.version || !nv.url) {
                free(nv.version);
                free(nv.url);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        /* One step of an insertion sort: stable, so with labels that are not all semver (the rule is not
         * transitive then) the result is fixed for a given order of additions. */
        for (at = st->n; at > 0; at--) {
                int cmp;
                if (semver_compare(st->v[at - 1].version, nv.version, &cmp) < 0 || cmp <= 0)
                        break;
                st->v[at] = st->v[at - 1];
        }
        st->v[at] = nv;
        st->n++;
        if (at == st->n - 1 && (replace_text(&st->title, title) < 0 || replace_text(&st->description, description) < 0))
                return error_set(err, STACK_EFAIL, "out of memory");
        return 0;
}

/* url relative to base when it lies under it and catalog_parse() resolves that back to the same url: a rest
 * holding "://" would read as absolute, and a leading "./" is stripped (tests/fuzz found both). */
static const char *relative_url(const struct catalog *c, const char *url)
{
        size_t n = c->base ? strlen(c->base) : 0;
        const char *rest = url + n + 1;

        if (n && !strncmp(url, c->base, n) && url[n] == '/' && *rest && !strstr(rest, "://") &&
            strncmp(rest, "./", 2) != 0)
                return rest;
        return url;
}

int catalog_to_json(const struct catalog *c, char **ret, struct error *err)
{
        json_t *root = json_object(), *stacks = json_array();
        char *text = NULL;
        int r = 0;

        if (!root || !stacks || json_object_set_new(root, "schema", json_integer(1)) < 0 ||
            json_object_set(root, "stacks", stacks) < 0)
                r = -ENOMEM;
        for (size_t i = 0; r == 0 && i < c->n; i++) {
                const struct catalog_stack *st = &c->stacks[i];
                json_t *js = json_object(), *versions = json_array();
                if (!js || !versions || json_array_append_new(stacks, js) < 0 ||
                    json_object_set_new(js, "slug", json_string(st->slug)) < 0 ||
                    (st->title && json_object_set_new(js, "title", json_string(st->title)) < 0) ||
                    (st->description && json_object_set_new(js, "description", json_string(st->description)) < 0) ||
                    json_object_set(js, "versions", versions) < 0)
                        r = -ENOMEM;
                for (size_t j = 0; r == 0 && j < st->n; j++) {
                        const struct catalog_version *v = &st->v[j];
                        char hex[DIGEST_HEX_LEN + 1];
                        digest_to_hex(&v->sha256, hex);
                        if (json_array_append_new(versions, json_pack("{s:s, s:s, s:s, s:I}", "version", v->version,
                                                                      "url", relative_url(c, v->url), "sha256", hex,
                                                                      "size", (json_int_t)v->size)) < 0)
                                r = -ENOMEM;
                }
                json_decref(versions);
        }
        if (r == 0) {
                /* json_dumps() leaves no final newline; a file should end with one. */
                char *body = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                if (!body || asprintf(&text, "%s\n", body) < 0)
                        r = -ENOMEM;
                free(body);
        }
        json_decref(stacks);
        json_decref(root);
        if (r < 0)
                return error_set(err, STACK_EFAIL, "out of memory");
        *ret = text;
        return 0;
}

/* ---- fetching and caching ---- */

static int cache_dir(struct store *s, const char *base, char *buf, size_t size)
{
        struct digest d;
        char hex[DIGEST_HEX_LEN + 1];

        digest_buffer(base, strlen(base), &d);
        digest_to_hex(&d, hex);
        return fs_path(buf, size, "%s/catalogs/%.16s", store_home(s), hex);
}

struct cached {
        char *index, *sig, *etag, *last_modified;
        size_t index_len, sig_len;
};

static void cached_release(struct cached *c)
{
        free(c->index);
        free(c->sig);
        free(c->etag);
        free(c->last_modified);
        memset(c, 0, sizeof *c);
}

static void cache_read(const char *dir, struct cached *ret)
{
        char path[PATH_MAX], *meta = NULL;
        json_t *j;

        memset(ret, 0, sizeof *ret);
        if (fs_path(path, sizeof path, "%s/index.json", dir) < 0 ||
            fs_read_file(path, CATALOG_MAX_INDEX, &ret->index, &ret->index_len) < 0)
                return;
        if (fs_path(path, sizeof path, "%s/index.json.sig", dir) == 0)
                fs_read_file(path, SIGN_MAX_SIG, &ret->sig, &ret->sig_len);
        if (fs_path(path, sizeof path, "%s/meta.json", dir) == 0 && fs_read_file(path, 65536, &meta, NULL) == 0 &&
            (j = json_loads(meta, 0, NULL))) {
                const char *etag = NULL, *lm = NULL;
                json_unpack(j, "{s?s, s?s}", "etag", &etag, "last_modified", &lm);
                ret->etag = etag ? strdup(etag) : NULL;
                ret->last_modified = lm ? strdup(lm) : NULL;
                json_decref(j);
        }
        free(meta);
}

static int cache_write(const char *dir, const char *base, const struct http_response *index,
                       const struct http_response *sig, struct error *err)
{
        char path[PATH_MAX], *meta;
        json_t *j;
        int r;

        r = fs_mkdir_p(dir, 0755);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot create %s", dir);
        /* The signature first: a crash between the two leaves a pair that fails verification, which only
         * costs a full download next time. */
        if (sig) {
                r = fs_path(path, sizeof path, "%s/index.json.sig", dir);
                if (r == 0)
                        r = fs_write_atomic(path, sig->body, sig->len, 0644);
        } else if (fs_path(path, sizeof path, "%s/index.json.sig", dir) == 0) {
                unlink(path);
        }
        if (r == 0)
                r = fs_path(path, sizeof path, "%s/index.json", dir);
        if (r == 0)
                r = fs_write_atomic(path, index->body, index->len, 0644);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot cache the catalog index in %s", dir);
        j = json_pack("{s:s, s:s?, s:s?}", "url", base, "etag", index->etag, "last_modified", index->last_modified);
        meta = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (meta && fs_path(path, sizeof path, "%s/meta.json", dir) == 0)
                fs_write_atomic(path, meta, strlen(meta), 0644); /* validators only: losing them costs a download */
        free(meta);
        return 0;
}

static int verify_index(const struct trust *t, const char *what, const char *index, size_t len, const char *sig,
                        size_t sig_len, bool insecure, char **ret_signer, struct error *err)
{
        struct digest d;
        const char *signer = NULL;
        int r;

        *ret_signer = NULL;
        if (!sig) {
                if (insecure)
                        return 0;
                return error_set(err, STACK_EREJECT,
                                 "%s is not signed (no index.json.sig): refused (--insecure to accept)", what);
        }
        digest_buffer(index, len, &d);
        r = trust_verify_digest(t, what, &d, sig, sig_len, &signer, err);
        if (r < 0) {
                if (!insecure)
                        return r;
                error_clear(err);
                return 0;
        }
        *ret_signer = strdup(signer);
        return 0;
}

int catalog_load(struct store *s, const char *base_url, const struct trust *t, bool insecure, struct catalog **ret,
                 struct error *err)
{
        char dir[PATH_MAX], *base, *url = NULL, *sig_url = NULL, *signer = NULL;
        struct http_response index = {0}, sig = {0};
        struct cached cache = {0}; /* released on every path, the early ones included */
        struct catalog *c = NULL;
        bool have_sig = false;
        size_t blen;
        int r;

        base = strdup(base_url);
        if (!base)
                return error_set(err, STACK_EFAIL, "out of memory");
        for (blen = strlen(base); blen > 0 && base[blen - 1] == '/'; blen--)
                base[blen - 1] = 0;
        if (asprintf(&url, "%s/index.json", base) < 0)
                url = NULL; /* asprintf leaves it undefined on failure */
        if (asprintf(&sig_url, "%s/index.json.sig", base) < 0)
                sig_url = NULL;
        if (!url || !sig_url) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto done;
        }
        r = cache_dir(s, base, dir, sizeof dir);
        if (r < 0) {
                r = error_errno(err, STACK_ESTORE, r, "cannot name the catalog cache directory under $STACK_HOME");
                goto done;
        }
        cache_read(dir, &cache);
        r = http_get(url, CATALOG_MAX_INDEX, cache.index ? cache.etag : NULL, cache.index ? cache.last_modified : NULL,
                     &index, err);
        if (r < 0)
                goto done;
        if (index.status == 304) {
                /* Unchanged: the cached pair is current (and is verified again, against today's trusted keys). */
                r = verify_index(t, url, cache.index, cache.index_len, cache.sig, cache.sig_len, insecure, &signer,
                                 err);
                if (r == 0)
                        r = catalog_parse(cache.index, cache.index_len, base, &c, err);
                if (r == 0)
                        c->revalidated = true;
                goto done;
        }
        {
                /* A missing signature (404, or no file beside a file:// index) is "unsigned", decided by
                 * verify_index; any other failure to get it is that failure. */
                struct error serr = ERROR_INIT;
                r = http_get(sig_url, SIGN_MAX_SIG, NULL, NULL, &sig, &serr);
                have_sig = r == 0;
                if (r < 0 && !(serr.code == STACK_ENETWORK && serr.http_status == 404)) {
                        error_set(err, serr.code, "%s", serr.msg);
                        goto done;
                }
        }
        r = verify_index(t, url, index.body, index.len, have_sig ? sig.body : NULL, sig.len, insecure, &signer, err);
        if (r == 0)
                r = catalog_parse(index.body, index.len, base, &c, err);
        if (r == 0)
                r = cache_write(dir, base, &index, have_sig ? &sig : NULL, err);
done:
        if (r == 0) {
                c->signer = signer;
                signer = NULL;
                *ret = c;
        } else {
                catalog_free(c);
        }
        free(signer);
        cached_release(&cache);
        http_response_release(&index);
        http_response_release(&sig);
        free(base);
        free(url);
        free(sig_url);
        return r;
}
