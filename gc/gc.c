/* gc.c - mark from roots in SQLite, commit, then sweep the files: versions, trees, objects, temp files, orphan
 * run dirs, and (on request) images stack loaded that only collected versions brought.
 */
#include "gc.h"

#include "base/mem.h"
#include "run/engine.h"
#include "run/images.h"
#include "run/runs.h"
#include "run/snapshot.h"
#include "base/fsutil.h"
#include "store/index.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct gc_roots {
        int64_t *versions;
        size_t n_versions, cap_versions;
        struct digest *trees;
        size_t n_trees, cap_trees;
        char **snapshots; /* NULL-terminated (or NULL): snapshot ids a provider above needs */
        size_t n_snapshots, cap_snapshots;
};

static int grow(void **v, size_t *cap, size_t n, size_t size, struct error *err)
{
        size_t ncap;
        void *nv;

        if (n < *cap)
                return 0;
        ncap = *cap ? *cap * 2 : 64;
        nv = realloc(*v, ncap * size);
        if (!nv)
                return error_set(err, STACK_EFAIL, "out of memory");
        *v = nv;
        *cap = ncap;
        return 0;
}

int gc_roots_add_version(struct gc_roots *r, int64_t version_id, struct error *err)
{
        int rc = grow((void **)&r->versions, &r->cap_versions, r->n_versions, sizeof *r->versions, err);

        if (rc == 0)
                r->versions[r->n_versions++] = version_id;
        return rc;
}

int gc_roots_add_tree(struct gc_roots *r, const struct digest *tree, struct error *err)
{
        int rc = grow((void **)&r->trees, &r->cap_trees, r->n_trees, sizeof *r->trees, err);

        if (rc == 0)
                r->trees[r->n_trees++] = *tree;
        return rc;
}

int gc_roots_keep_snapshot(struct gc_roots *r, const char *id, struct error *err)
{
        int rc = grow((void **)&r->snapshots, &r->cap_snapshots, r->n_snapshots + 1, sizeof *r->snapshots, err);

        if (rc == 0 && !(r->snapshots[r->n_snapshots] = strdup(id)))
                rc = error_set(err, STACK_EFAIL, "out of memory");
        if (rc == 0)
                r->snapshots[++r->n_snapshots] = NULL;
        return rc;
}

static void roots_release(struct gc_roots *r)
{
        free(r->versions);
        free(r->trees);
        for (size_t i = 0; i < r->n_snapshots; i++)
                free(r->snapshots[i]);
        free(r->snapshots);
}

/* ---- root providers ---- */

static int roots_of_runs(struct store *s, const struct gc_options *o, struct gc_roots *r, uint64_t *ret_n,
                         struct error *err)
{
        struct run_row *v = NULL;
        size_t n = 0;
        int rc = runs_list(s, &v, &n, err);

        for (size_t i = 0; rc == 0 && i < n; i++) {
                rc = gc_roots_add_version(r, v[i].version_id, err);
                if (rc == 0) /* the tree too: the run dir is a checkout of it, whatever became of the version row */
                        rc = gc_roots_add_tree(r, &v[i].tree, err);
        }
        *ret_n = n;
        run_rows_free(v, n);
        return rc;
}

static int roots_of_pins(struct store *s, const struct gc_options *o, struct gc_roots *r, uint64_t *ret_n,
                         struct error *err)
{
        int64_t *v = NULL;
        size_t n = 0;
        int rc = index_list_pins(store_index(s), &v, &n, err);

        for (size_t i = 0; rc == 0 && i < n; i++)
                rc = gc_roots_add_version(r, v[i], err);
        *ret_n = n;
        free(v);
        return rc;
}

static int roots_of_newest(struct store *s, const struct gc_options *o, struct gc_roots *r, uint64_t *ret_n,
                           struct error *err)
{
        struct version_info *v = NULL;
        size_t n = 0, in_stack = 0;
        uint64_t kept = 0;
        int rc = index_list_versions(store_index(s), NULL, &v, &n, err); /* by slug, newest fetch first */

        for (size_t i = 0; rc == 0 && i < n; i++) {
                in_stack = i > 0 && !strcmp(v[i].slug, v[i - 1].slug) ? in_stack + 1 : 0;
                if (in_stack < o->keep) {
                        rc = gc_roots_add_version(r, v[i].id, err);
                        kept++;
                }
        }
        *ret_n = kept;
        version_list_free(v, n);
        return rc;
}

static int add_tree(void *ctx, const struct digest *tree, struct error *err)
{
        return gc_roots_add_tree(ctx, tree, err);
}

static int roots_of_snapshots(struct store *s, const struct gc_options *o, struct gc_roots *r, uint64_t *ret_n,
                              struct error *err)
{
        return snapshot_roots(s, o->keep_snapshots, (const char *const *)r->snapshots, add_tree, r, ret_n, err);
}

struct provider {
        const char *name;
        int (*collect)(struct store *s, const struct gc_options *o, struct gc_roots *r, uint64_t *ret_n,
                       struct error *err);
};

/* gc's own, before the caller's (o->providers); "snapshots" runs last: it keeps what those asked for too. */
static const struct provider providers[] = {
        {"runs", roots_of_runs},
        {"pins", roots_of_pins},
        {"newest", roots_of_newest},
};

static int roots_collect(struct store *s, const struct gc_options *o, struct gc_roots *roots, struct gc_report *rep,
                         struct error *err)
{
        uint64_t n = 0;
        int r = 0;

        for (size_t i = 0; r == 0 && i < sizeof providers / sizeof *providers; i++) {
                n = 0;
                r = providers[i].collect(s, o, roots, &n, err);
                if (!strcmp(providers[i].name, "runs"))
                        rep->root_runs = n;
                else if (!strcmp(providers[i].name, "pins"))
                        rep->root_pins = n;
                else if (!strcmp(providers[i].name, "newest"))
                        rep->root_newest = n;
        }
        for (size_t i = 0; r == 0 && i < o->n_providers; i++)
                r = o->providers[i].add(o->providers[i].ctx, s, roots, err);
        if (r == 0)
                r = roots_of_snapshots(s, o, roots, &n, err);
        return r;
}

/* ---- the set that survives ---- */

struct digests {
        struct digest *v;
        size_t n, cap;
        struct error *err;
};

static int collect_digest(void *ctx, const struct digest *d, uint64_t size)
{
        struct digests *ds = ctx;
        int r = grow((void **)&ds->v, &ds->cap, ds->n, sizeof *ds->v, ds->err);

        if (r == 0)
                ds->v[ds->n++] = *d;
        return r;
}

static int digest_cmp(const void *a, const void *b)
{
        return memcmp(((const struct digest *)a)->b, ((const struct digest *)b)->b, DIGEST_LEN);
}

static bool digests_have(const struct digests *ds, const struct digest *d)
{
        return ds->n && bsearch(d, ds->v, ds->n, sizeof *ds->v, digest_cmp);
}

/* Mark and sweep the index; *survivors gets the objects it still names, sorted. */
static int sweep_index(struct store *s, const struct gc_roots *roots, bool commit, struct gc_report *rep,
                       struct digests *survivors, struct error *err)
{
        struct index *ix = store_index(s);
        struct index_sweep sw = {0};
        int r = index_sweep_begin(ix, err);

        if (r < 0)
                return r;
        for (size_t i = 0; r == 0 && i < roots->n_versions; i++)
                r = index_sweep_keep_version(ix, roots->versions[i], err);
        for (size_t i = 0; r == 0 && i < roots->n_trees; i++)
                r = index_sweep_keep_tree(ix, &roots->trees[i], err);
        if (r == 0)
                r = index_sweep_run(ix, &sw, err);
        survivors->err = err;
        if (r == 0)
                r = index_foreach_object(ix, collect_digest, survivors, err);
        if (r < 0) {
                index_sweep_end(ix, false, NULL);
                return r;
        }
        r = index_sweep_end(ix, commit, err);
        if (r < 0)
                return r;
        if (survivors->n)
                qsort(survivors->v, survivors->n, sizeof *survivors->v, digest_cmp);
        rep->versions = sw.versions;
        rep->stacks = sw.stacks;
        rep->trees = sw.trees;
        rep->entries = sw.entries;
        return 0;
}

/* ---- files ---- */

static uint64_t size_at(int dirfd, const char *name)
{
        struct stat st;

        return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? (uint64_t)st.st_size : 0;
}

/* The pass over objects/sha256/xx/ by a few threads, each taking whole fan-out directories in turn: unlinking is
 * the file system's cost, and the waits in it (the journal, the other writers of a busy machine) overlap when
 * several directories are emptied at once (about half the wall time of one thread on ext4, on a quiet or a busy
 * machine). Each directory is unlinked through its own fd; nothing is fsynced (the index was committed first, and
 * an object file that survives a crash is only unreferenced, as it was before the sweep). */
#define SWEEP_THREADS 4

struct object_sweep {
        int top; /* objects/sha256 */
        char (*dirs)[NAME_MAX + 1];
        size_t n_dirs;
        const struct digests *keep;
        bool dry;
        pthread_mutex_t lock; /* next, the totals, the first failure */
        size_t next;
        uint64_t objects, bytes;
        int fail_errno;
        char fail_name[2 * NAME_MAX + 2];
};

/* One fan-out directory; *ret_name gets the file that could not be removed. Returns 0 or a negative errno. */
static int sweep_object_dir(struct object_sweep *sw, const char *dir, uint64_t *ret_objects, uint64_t *ret_bytes,
                            char *ret_name, size_t name_size)
{
        DIR *d;
        struct dirent *de;
        int r = 0, fd = openat(sw->top, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0 || !(d = fdopendir(fd))) {
                if (fd >= 0)
                        close(fd);
                return 0; /* not a fan-out directory: not ours to judge */
        }
        while ((de = readdir(d))) {
                char hex[DIGEST_HEX_LEN + 1];
                struct digest dg;

                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (strlen(dir) == 2 && strlen(de->d_name) == DIGEST_HEX_LEN - 2 &&
                    fs_path(hex, sizeof hex, "%s%s", dir, de->d_name) == 0 && digest_from_hex(hex, &dg) == 0 &&
                    digests_have(sw->keep, &dg))
                        continue;
                (*ret_objects)++;
                *ret_bytes += size_at(dirfd(d), de->d_name);
                if (!sw->dry && unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
                        r = -errno;
                        snprintf(ret_name, name_size, "%s", de->d_name);
                        break;
                }
        }
        closedir(d);
        return r;
}

static void *sweep_objects_worker(void *arg)
{
        struct object_sweep *sw = arg;
        uint64_t objects = 0, bytes = 0;

        for (;;) {
                char name[NAME_MAX + 1] = "";
                size_t i;
                int r;

                pthread_mutex_lock(&sw->lock);
                i = sw->fail_errno ? sw->n_dirs : sw->next++;
                pthread_mutex_unlock(&sw->lock);
                if (i >= sw->n_dirs)
                        break;
                r = sweep_object_dir(sw, sw->dirs[i], &objects, &bytes, name, sizeof name);
                if (r < 0) {
                        pthread_mutex_lock(&sw->lock);
                        if (!sw->fail_errno) {
                                sw->fail_errno = -r;
                                snprintf(sw->fail_name, sizeof sw->fail_name, "%s/%s", sw->dirs[i], name);
                        }
                        pthread_mutex_unlock(&sw->lock);
                        break;
                }
        }
        pthread_mutex_lock(&sw->lock);
        sw->objects += objects;
        sw->bytes += bytes;
        pthread_mutex_unlock(&sw->lock);
        return NULL;
}

/* A file the index no longer names goes. */
static int sweep_objects(struct store *s, const struct digests *keep, bool dry, struct gc_report *rep,
                         struct error *err)
{
        struct object_sweep sw = {.top = -1, .keep = keep, .dry = dry, .lock = PTHREAD_MUTEX_INITIALIZER};
        pthread_t t[SWEEP_THREADS];
        size_t n_threads = 0, cap = 0;
        char top[PATH_MAX];
        DIR *d1 = NULL;
        struct dirent *de1;
        int r = fs_path(top, sizeof top, "%s/objects/sha256", store_home(s));

        if (r < 0 || !(d1 = opendir(top)))
                return error_errno(err, STACK_ESTORE, r < 0 ? r : errno, "cannot read %s", top);
        sw.top = dirfd(d1);
        while (r == 0 && (de1 = readdir(d1))) {
                if (!strcmp(de1->d_name, ".") || !strcmp(de1->d_name, ".."))
                        continue;
                r = grow((void **)&sw.dirs, &cap, sw.n_dirs, sizeof *sw.dirs, err);
                if (r == 0)
                        snprintf(sw.dirs[sw.n_dirs++], sizeof *sw.dirs, "%s", de1->d_name);
        }
        while (r == 0 && n_threads < SWEEP_THREADS && n_threads < sw.n_dirs &&
               pthread_create(&t[n_threads], NULL, sweep_objects_worker, &sw) == 0)
                n_threads++;
        if (r == 0 && n_threads == 0)
                sweep_objects_worker(&sw); /* no thread to be had: this one does it all */
        for (size_t i = 0; i < n_threads; i++)
                pthread_join(t[i], NULL);
        rep->objects += sw.objects;
        rep->object_bytes += sw.bytes;
        if (r == 0 && sw.fail_errno)
                r = error_errno(err, STACK_ESTORE, sw.fail_errno, "cannot remove objects/sha256/%s", sw.fail_name);
        free(sw.dirs);
        closedir(d1);
        return r;
}

/* Everything in tmp/: under the exclusive lock no writer is running, so all of it was left by a crash. */
static int sweep_temp(struct store *s, bool dry, struct gc_report *rep, struct error *err)
{
        char dir[PATH_MAX], path[PATH_MAX];
        DIR *d;
        struct dirent *de;
        int r = fs_path(dir, sizeof dir, "%s/tmp", store_home(s));

        if (r < 0 || !(d = opendir(dir)))
                return 0;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                rep->temp_files++;
                rep->temp_bytes += size_at(dirfd(d), de->d_name);
                if (dry)
                        continue;
                r = fs_path(path, sizeof path, "%s/%s", dir, de->d_name);
                if (r == 0)
                        r = fs_rm_rf(path);
                if (r < 0) {
                        r = error_errno(err, STACK_ESTORE, r, "cannot remove %s", path);
                        break;
                }
        }
        closedir(d);
        return r;
}

/* Holder notes of processes that are gone (killed while they held the lock): they name no one. */
static void sweep_lock_notes(struct store *s, bool dry)
{
        char dir[PATH_MAX];
        DIR *d;
        struct dirent *de;

        if (dry || fs_path(dir, sizeof dir, "%s/locks", store_home(s)) < 0 || !(d = opendir(dir)))
                return;
        while ((de = readdir(d))) {
                long pid = strtol(de->d_name, NULL, 10);
                if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
                        unlinkat(dirfd(d), de->d_name, 0);
        }
        closedir(d);
}

/* runs/<slug> without a run row, and runs/.<slug>.new-* / .old-* a crashed run left. The data dirs are never
 * touched (they live in data/, not runs/). */
static int sweep_run_dirs(struct store *s, bool dry, struct gc_report *rep, struct error *err)
{
        char dir[PATH_MAX], path[PATH_MAX];
        struct run_row *v = NULL;
        size_t n = 0;
        DIR *d;
        struct dirent *de;
        int r = fs_path(dir, sizeof dir, "%s/runs", store_home(s));

        if (r < 0 || !(d = opendir(dir)))
                return 0;
        r = runs_list(s, &v, &n, err);
        while (r == 0 && (de = readdir(d))) {
                bool orphan = true;

                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (de->d_name[0] == '.')
                        orphan = strstr(de->d_name, ".new-") || strstr(de->d_name, ".old-");
                else
                        for (size_t i = 0; orphan && i < n; i++)
                                orphan = strcmp(v[i].slug, de->d_name) != 0;
                if (!orphan)
                        continue;
                rep->run_dirs++;
                if (dry)
                        continue;
                r = fs_path(path, sizeof path, "%s/%s", dir, de->d_name);
                if (r == 0)
                        r = fs_rm_rf(path);
                if (r < 0)
                        r = error_errno(err, STACK_ESTORE, r, "cannot remove %s", path);
        }
        closedir(d);
        run_rows_free(v, n);
        return r;
}

/* ---- images ---- */

static int strv_push(char ***v, size_t *n, const char *s, struct error *err)
{
        char **nv = realloc(*v, (*n + 2) * sizeof *nv);

        if (!nv)
                return error_set(err, STACK_EFAIL, "out of memory");
        *v = nv;
        if (!(nv[*n] = strdup(s)))
                return error_set(err, STACK_EFAIL, "out of memory");
        nv[++*n] = NULL;
        return 0;
}

/* A reference stack loaded goes when no surviving object is an archive that names it and no container uses it. */
static int sweep_images(struct store *s, const struct digests *keep, bool dry, struct gc_report *rep, struct error *err)
{
        struct loaded_image *v = NULL;
        struct engine *e = NULL;
        size_t n = 0, n_rm = 0, n_kept = 0;
        int r = images_list(s, &v, &n, err);

        if (r == 0 && n)
                r = engine_open(&e, err);
        for (size_t i = 0; r == 0 && i < n; i++) {
                bool needed = false, used = false, removed = false;
                char line[512];

                if (i > 0 && !strcmp(v[i].ref, v[i - 1].ref))
                        continue; /* rows are sorted by ref: this one was decided with the first */
                for (size_t k = i; k < n && !strcmp(v[k].ref, v[i].ref) && !needed; k++)
                        needed = digests_have(keep, &v[k].archive);
                if (needed)
                        continue;
                r = engine_image_used(e, v[i].ref, &used, err);
                if (r < 0)
                        break;
                if (used) {
                        snprintf(line, sizeof line, "%s: a container uses it", v[i].ref);
                        r = strv_push(&rep->images_kept, &n_kept, line, err);
                        continue;
                }
                if (dry) {
                        r = strv_push(&rep->images, &n_rm, v[i].ref, err);
                        continue;
                }
                r = engine_image_remove(e, v[i].ref, &removed, err);
                if (r == 0 && removed)
                        r = strv_push(&rep->images, &n_rm, v[i].ref, err);
                if (r == 0) /* removed, or already gone: either way nothing of ours is left to remove */
                        r = images_forget(s, v[i].ref, err);
        }
        engine_free(e);
        loaded_images_free(v, n);
        return r;
}

/* ---- the whole run ---- */

int gc_run(struct store *s, const struct gc_options *o, struct gc_report *ret, struct error *err)
{
        struct gc_roots roots = {0};
        struct digests survivors = {0};
        struct gc_report rep = {0};
        struct index_counts before;
        int r;

        memset(ret, 0, sizeof *ret);
        if (!s || !o)
                return error_set(err, STACK_EFAIL, "gc_run: invalid arguments");
        if (o->keep < 1)
                return error_set(err, STACK_EUSAGE, "gc keeps at least the newest version of each stack (--keep 1)");
        rep.dry_run = o->dry_run;
        r = store_lock_exclusive(s, err);
        if (r < 0)
                return r;
        r = roots_collect(s, o, &roots, &rep, err);
        if (r == 0)
                r = index_counts(store_index(s), &before, err);
        if (r == 0)
                r = sweep_index(s, &roots, !o->dry_run, &rep, &survivors, err);
        if (r == 0)
                rep.kept_versions = before.versions - rep.versions;
        if (r == 0)
                r = sweep_objects(s, &survivors, o->dry_run, &rep, err);
        if (r == 0)
                r = sweep_temp(s, o->dry_run, &rep, err);
        if (r == 0)
                r = sweep_run_dirs(s, o->dry_run, &rep, err);
        if (r == 0)
                sweep_lock_notes(s, o->dry_run);
        if (r == 0 && o->images)
                r = sweep_images(s, &survivors, o->dry_run, &rep, err);
        store_unlock(s);
        roots_release(&roots);
        free(survivors.v);
        if (r < 0) {
                gc_report_release(&rep);
                return r;
        }
        *ret = rep;
        return 0;
}

void gc_report_release(struct gc_report *r)
{
        if (!r)
                return;
        strv_free(r->images);
        strv_free(r->images_kept);
        memset(r, 0, sizeof *r);
}
