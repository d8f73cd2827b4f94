/* verify.c - re-hash the store and check the index against the files. */
#include "verify.h"
#include "base/fsutil.h"
#include "imagearchive.h"
#include "index.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct known {
        struct digest d;
        uint64_t size;
        bool seen;
};

struct digest_list {
        struct digest *v;
        size_t n, cap;
};

struct verify_ctx {
        struct store *store;
        struct verify_report *rep;
        struct known *v;
        size_t n, cap;
        unsigned char *buf;
        struct error *err;
        bool collect;                      /* for repair: keep what is damaged */
        struct digest_list objects, trees; /* missing or corrupt objects, bad trees */
        bool oom;
};

#define HASH_BUF (1024 * 1024)

static void problem(struct verify_ctx *c, const char *kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(struct verify_ctx *c, const char *kind, const char *fmt, ...)
{
        char line[512];
        va_list ap;

        if (!c->rep->problem)
                return;
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        c->rep->problem(c->rep->ctx, kind, line);
}

static void note_damaged(struct verify_ctx *c, struct digest_list *l, const struct digest *d)
{
        if (!c->collect)
                return;
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 16;
                struct digest *v = realloc(l->v, cap * sizeof *v);
                if (!v) {
                        c->oom = true;
                        return;
                }
                l->v = v;
                l->cap = cap;
        }
        l->v[l->n++] = *d;
}

static int collect_object(void *ctx, const struct digest *d, uint64_t size)
{
        struct verify_ctx *c = ctx;

        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 1024;
                struct known *v = realloc(c->v, cap * sizeof *v);
                if (!v)
                        return error_set(c->err, STACK_EFAIL, "out of memory");
                c->v = v;
                c->cap = cap;
        }
        c->v[c->n++] = (struct known){*d, size, false};
        return 0;
}

static int known_cmp(const void *a, const void *b)
{
        return memcmp(((const struct known *)a)->d.b, ((const struct known *)b)->d.b, DIGEST_LEN);
}

static int hash_file(struct verify_ctx *c, int dirfd, const char *name, struct digest *ret, uint64_t *ret_size)
{
        struct hasher h;
        uint64_t size = 0;
        int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        digest_init(&h);
        for (;;) {
                ssize_t n = read(fd, c->buf, HASH_BUF);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
                if (n == 0)
                        break;
                digest_update(&h, c->buf, (size_t)n);
                size += (uint64_t)n;
        }
        close(fd);
        digest_final(&h, ret);
        *ret_size = size;
        return 0;
}

/* Every file under objects/sha256/xx/: hash it, match it against the rows. */
static int walk_objects(struct verify_ctx *c)
{
        char top[PATH_MAX];
        DIR *d1;
        struct dirent *de1;
        int r = fs_path(top, sizeof top, "%s/objects/sha256", store_home(c->store));

        if (r < 0 || !(d1 = opendir(top)))
                return error_errno(c->err, STACK_ESTORE, r < 0 ? r : errno, "cannot read %s", top);
        while ((de1 = readdir(d1))) {
                int fd;
                DIR *d2;
                struct dirent *de2;

                if (de1->d_name[0] == '.')
                        continue;
                fd = openat(dirfd(d1), de1->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0 || !(d2 = fdopendir(fd))) {
                        if (fd >= 0)
                                close(fd);
                        problem(c, "extra", "objects/sha256/%s is not a fan-out directory", de1->d_name);
                        c->rep->extra++;
                        continue;
                }
                while ((de2 = readdir(d2))) {
                        char hex[DIGEST_HEX_LEN + 1];
                        struct digest name, actual;
                        struct known key, *k;
                        uint64_t size = 0;

                        if (!strcmp(de2->d_name, ".") || !strcmp(de2->d_name, ".."))
                                continue;
                        if (strlen(de1->d_name) != 2 || strlen(de2->d_name) != DIGEST_HEX_LEN - 2 ||
                            fs_path(hex, sizeof hex, "%s%s", de1->d_name, de2->d_name) < 0 ||
                            digest_from_hex(hex, &name) < 0) {
                                problem(c, "extra", "objects/sha256/%s/%s is not an object name", de1->d_name,
                                        de2->d_name);
                                c->rep->extra++;
                                continue;
                        }
                        key.d = name;
                        k = c->n ? bsearch(&key, c->v, c->n, sizeof *c->v, known_cmp) : NULL;
                        if (!k) {
                                problem(c, "extra", "object %s is referenced by nothing (gc removes it)", hex);
                                c->rep->extra++;
                                continue;
                        }
                        k->seen = true;
                        r = hash_file(c, dirfd(d2), de2->d_name, &actual, &size);
                        if (r < 0) {
                                problem(c, "corrupt", "object %s is unreadable: %s", hex, strerror(-r));
                                c->rep->corrupt++;
                                note_damaged(c, &c->objects, &name);
                                continue;
                        }
                        c->rep->objects++;
                        c->rep->bytes += size;
                        if (!digest_equal(&actual, &name) || size != k->size) {
                                problem(c, "corrupt",
                                        "object %s does not match its name or size (%llu bytes, index says %llu)", hex,
                                        (unsigned long long)size, (unsigned long long)k->size);
                                c->rep->corrupt++;
                                note_damaged(c, &c->objects, &name);
                        }
                }
                closedir(d2);
        }
        closedir(d1);
        return 0;
}

/* An object stored as its parts (spec/store.md "Image archives"): its recipe is read, the archive assembled
 * from the parts and hashed. A part that is missing or damaged (also reported on its own) or a recipe that
 * does not give the object's content makes the object corrupt, so repair drops the trees that need it. */
static void check_assembled(struct verify_ctx *c, const struct known *k, const struct digest *recipe)
{
        struct error aerr = ERROR_INIT;
        struct ia_reader *rd = NULL;
        char hex[DIGEST_HEX_LEN + 1];
        struct hasher h;
        struct digest actual;
        uint64_t size = 0;
        ssize_t n = 0;

        digest_to_hex(&k->d, hex);
        digest_init(&h);
        if (ia_open(c->store, recipe, &rd, &aerr) == 0)
                while ((n = ia_read(rd, c->buf, HASH_BUF, &aerr)) > 0) {
                        digest_update(&h, c->buf, (size_t)n);
                        size += (uint64_t)n;
                }
        ia_close(rd);
        digest_final(&h, &actual);
        if (aerr.code) {
                problem(c, "corrupt", "object %s cannot be assembled: %s", hex, aerr.msg);
        } else if (!digest_equal(&actual, &k->d) || size != k->size) {
                problem(c, "corrupt", "object %s assembled from its recipe does not match its name or size", hex);
        } else {
                c->rep->objects++;
                c->rep->bytes += size;
                return;
        }
        c->rep->corrupt++;
        note_damaged(c, &c->objects, &k->d);
}

static int check_tree(void *ctx, const struct digest *d)
{
        struct verify_ctx *c = ctx;
        struct error terr = ERROR_INIT;
        char hex[DIGEST_HEX_LEN + 1];
        struct digest actual;
        struct tree t;

        digest_to_hex(d, hex);
        c->rep->trees++;
        if (index_load_tree(store_index(c->store), d, &t, &terr) < 0) {
                problem(c, "bad-tree", "tree %s cannot be rebuilt: %s", hex, terr.msg);
                c->rep->bad_trees++;
                note_damaged(c, &c->trees, d);
                return 0;
        }
        if (tree_digest(&t, &actual) < 0 || !digest_equal(&actual, d)) {
                problem(c, "bad-tree", "tree %s: its rows do not give its digest", hex);
                c->rep->bad_trees++;
                note_damaged(c, &c->trees, d);
        }
        tree_release(&t);
        return 0;
}

static void count_temp(struct verify_ctx *c)
{
        char path[PATH_MAX];
        DIR *d;
        struct dirent *de;

        if (fs_path(path, sizeof path, "%s/tmp", store_home(c->store)) < 0 || !(d = opendir(path)))
                return;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
                        problem(c, "temp", "tmp/%s is left from an interrupted write (gc removes it)", de->d_name);
                        c->rep->temp++;
                }
        closedir(d);
}

static int verify_pass(struct verify_ctx *c);

int verify_store(struct store *s, struct verify_report *rep, struct error *err)
{
        struct verify_ctx c = {.store = s, .rep = rep, .err = err};

        return verify_pass(&c);
}

/* Unlink what repair dropped from the index (a corrupt file must not stay under its name: ingest would take it
 * for the real content), and every temp file. */
static void remove_files(struct verify_ctx *c, struct verify_repair_report *rr)
{
        char path[PATH_MAX];
        DIR *d;
        struct dirent *de;

        for (size_t i = 0; i < c->objects.n; i++)
                if (store_object_path(c->store, &c->objects.v[i], path, sizeof path) == 0 && unlink(path) == 0)
                        rr->removed_objects++;
        if (fs_path(path, sizeof path, "%s/tmp", store_home(c->store)) < 0 || !(d = opendir(path)))
                return;
        while ((de = readdir(d))) {
                char p[PATH_MAX];
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (fs_path(p, sizeof p, "%s/%s", path, de->d_name) == 0 && fs_rm_rf(p) == 0)
                        rr->removed_temp++;
        }
        closedir(d);
}

int verify_repair(struct store *s, struct verify_report *rep, struct verify_repair_report *ret, struct error *err)
{
        struct verify_report first = {0};
        struct verify_ctx c = {.store = s, .rep = &first, .err = err, .collect = true};
        struct verify_repair_report rr = {0};
        int r;

        memset(ret, 0, sizeof *ret);
        r = store_lock_exclusive(s, err); /* no writer adds rows or temp files while repair judges them */
        if (r < 0)
                return r;
        r = verify_pass(&c);
        if (r == -STACK_ESTORE && err->code == STACK_ESTORE && !c.oom) {
                error_clear(err); /* damage is what repair is for */
                r = 0;
        }
        if (r == 0 && c.oom)
                r = error_set(err, STACK_EFAIL, "out of memory");
        if (r == 0)
                r = index_drop_damaged(store_index(s), c.objects.v, c.objects.n, c.trees.v, c.trees.n, &rr.lost,
                                       &rr.n_lost, err);
        if (r == 0) {
                struct verify_report now = {.problem = rep->problem, .ctx = rep->ctx};
                remove_files(&c, &rr);
                r = verify_store(s, &now, err); /* what the store is now */
                *rep = now;
        }
        store_unlock(s);
        free(c.objects.v);
        free(c.trees.v);
        if (r < 0 && err->code != STACK_ESTORE) {
                lost_versions_free(rr.lost, rr.n_lost);
                return r;
        }
        *ret = rr;
        return r;
}

void verify_repair_report_release(struct verify_repair_report *rr)
{
        if (!rr)
                return;
        lost_versions_free(rr->lost, rr->n_lost);
        memset(rr, 0, sizeof *rr);
}

static int verify_pass(struct verify_ctx *cp)
{
        struct verify_ctx c = *cp;
        struct verify_report *rep = c.rep;
        struct store *s = c.store;
        struct error *err = c.err;
        uint64_t dv = 0, de = 0;
        int r;

        c.buf = malloc(HASH_BUF);
        if (!c.buf)
                return error_set(err, STACK_EFAIL, "out of memory");
        r = index_foreach_object(store_index(s), collect_object, &c, err);
        if (r < 0)
                goto done;
        if (c.n)
                qsort(c.v, c.n, sizeof *c.v, known_cmp);
        r = walk_objects(&c);
        if (r < 0)
                goto done;
        for (size_t i = 0; i < c.n; i++)
                if (!c.v[i].seen) {
                        char hex[DIGEST_HEX_LEN + 1];
                        struct digest recipe;
                        r = index_object_recipe(store_index(s), &c.v[i].d, &recipe, err);
                        if (r < 0)
                                goto done;
                        if (r == 1) { /* stored as its parts: assembled, hashed, compared */
                                check_assembled(&c, &c.v[i], &recipe);
                                r = 0;
                                continue;
                        }
                        digest_to_hex(&c.v[i].d, hex);
                        problem(&c, "missing", "object %s is in the index but not on disk", hex);
                        rep->missing++;
                        note_damaged(&c, &c.objects, &c.v[i].d);
                }
        r = index_foreach_tree(store_index(s), check_tree, &c, err);
        if (r < 0)
                goto done;
        r = index_count_dangling(store_index(s), &dv, &de, err);
        if (r < 0)
                goto done;
        if (dv)
                problem(&c, "dangling", "%llu version rows point to trees the index does not have",
                        (unsigned long long)dv);
        if (de)
                problem(&c, "dangling", "%llu entry rows point to objects or trees the index does not have",
                        (unsigned long long)de);
        rep->dangling = dv + de;
        count_temp(&c);
        if (rep->missing || rep->corrupt || rep->bad_trees || rep->dangling)
                r = error_set(
                        err, STACK_ESTORE,
                        "store is damaged: %llu missing, %llu corrupt objects, %llu bad trees, %llu dangling rows",
                        (unsigned long long)rep->missing, (unsigned long long)rep->corrupt,
                        (unsigned long long)rep->bad_trees, (unsigned long long)rep->dangling);
done:
        free(c.v);
        free(c.buf);
        cp->objects = c.objects;
        cp->trees = c.trees;
        cp->oom = c.oom;
        return r;
}
