/* snapshot.c - data dirs and named volumes into store trees and back (spec/run.md "Upgrades and snapshots").
 *
 * A snapshot is one tree: data/... (the data dir), volumes/<name>/... (each named volume) and snapshot.meta,
 * whose lines give every entry's real kind, mode, owner and time (a tree normalises modes and holds no
 * owners; symlinks are kept as files holding their target, so a link pointing anywhere can be snapshot).
 */
#include "snapshot-int.h"

#include "base/mem.h"
#include "run/engine.h"
#include "run/run.h"
#include "run/rundir.h"
#include "run/runs.h"
#include "base/buf.h"
#include "store/checkout.h"
#include "base/fsutil.h"
#include "store/db.h"
#include "store/index.h"
#include "store/tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#define MODULE     "snapshot"
#define SMALL_FILE (1u << 20) /* hashed in memory first: content the store has costs no write */

DB_SCHEMA(snapshot_schema, MODULE, SNAPSHOT_SCHEMA_VERSION,
          "CREATE TABLE snapshots(id TEXT PRIMARY KEY, slug TEXT NOT NULL, version TEXT NOT NULL,"
          "  reason TEXT NOT NULL CHECK(reason IN ('upgrade','rollback','manual','restore')),"
          "  created_at INTEGER NOT NULL, seq INTEGER NOT NULL, tree TEXT NOT NULL, size INTEGER NOT NULL,"
          "  added INTEGER NOT NULL, files INTEGER NOT NULL, volumes TEXT NOT NULL, helper TEXT);"
          "CREATE INDEX snapshots_by_slug ON snapshots(slug, seq);");

#define COLUMNS "id, slug, version, reason, created_at, tree, size, added, files, volumes, helper"

static const struct db_column snapshot_cols[] = {
        DB_CHARS_COL(struct snapshot_row, id),         DB_TEXT_REQ_COL(struct snapshot_row, slug),
        DB_TEXT_REQ_COL(struct snapshot_row, version), DB_TEXT_REQ_COL(struct snapshot_row, reason),
        DB_INT64_COL(struct snapshot_row, created_at), DB_DIGEST_COL(struct snapshot_row, tree),
        DB_INT64_COL(struct snapshot_row, size),       DB_INT64_COL(struct snapshot_row, added),
        DB_INT64_COL(struct snapshot_row, files),      DB_TEXT_REQ_COL(struct snapshot_row, volumes),
        DB_TEXT_COL(struct snapshot_row, helper),
};

static const struct db_rows snapshot_rows = DB_ROWS(struct snapshot_row, snapshot_cols, "read snapshots");

void snapshot_row_release(struct snapshot_row *r)
{
        db_release_row(&snapshot_rows, r);
}

void snapshot_rows_free(struct snapshot_row *v, size_t n)
{
        db_free_rows(&snapshot_rows, v, n);
}

static int query_rows(struct store *s, const char *sql, const char *arg, struct snapshot_row **ret, size_t *ret_n,
                      struct error *err)
{
        return index_module_rows(store_index(s), &snapshot_schema, sql, arg, &snapshot_rows, ret, ret_n, err);
}

int snapshot_list(struct store *s, const char *slug, struct snapshot_row **ret, size_t *ret_n, struct error *err)
{
        *ret = NULL;
        *ret_n = 0;
        if (slug)
                return query_rows(s, "SELECT " COLUMNS " FROM snapshots WHERE slug = ? ORDER BY seq DESC", slug, ret,
                                  ret_n, err);
        return query_rows(s, "SELECT " COLUMNS " FROM snapshots ORDER BY slug, seq DESC", NULL, ret, ret_n, err);
}

int snapshot_get(struct store *s, const char *id, struct snapshot_row *ret, struct error *err)
{
        struct snapshot_row *v = NULL;
        size_t n = 0;
        char pat[40];
        int r;

        memset(ret, 0, sizeof *ret);
        if (!id || strlen(id) < 4 || strlen(id) > 16 || strspn(id, "0123456789abcdef") != strlen(id))
                return error_set(err, STACK_EUSAGE, "'%s' is not a snapshot id (hex, as stack snapshots lists it)",
                                 id ? id : "");
        snprintf(pat, sizeof pat, "%s*", id);
        r = query_rows(s, "SELECT " COLUMNS " FROM snapshots WHERE id GLOB ?", pat, &v, &n, err);
        if (r < 0)
                return r;
        if (n != 1) {
                snapshot_rows_free(v, n);
                return error_set(err, STACK_ENOTFOUND, n ? "snapshot id '%s' is ambiguous" : "no snapshot '%s'", id);
        }
        *ret = v[0];
        free(v);
        return 0;
}

int snapshot_forget(struct store *s, const char *slug, unsigned *ret_n, struct error *err)
{
        return index_module_exec(store_index(s), &snapshot_schema, "DELETE FROM snapshots WHERE slug = ?", slug, NULL,
                                 "delete snapshots", ret_n, err);
}

int snapshot_roots(struct store *s, unsigned keep, const char *const *pinned,
                   int (*fn)(void *ctx, const struct digest *tree, struct error *err), void *ctx, uint64_t *ret_n,
                   struct error *err)
{
        struct snapshot_row *v = NULL;
        size_t n = 0, in_stack = 0;
        uint64_t kept = 0;
        int r = snapshot_list(s, NULL, &v, &n, err); /* by slug, newest first */

        for (size_t i = 0; r == 0 && i < n; i++) {
                bool pin = false;
                in_stack = i > 0 && !strcmp(v[i].slug, v[i - 1].slug) ? in_stack + 1 : 0;
                for (size_t k = 0; pinned && pinned[k]; k++)
                        pin |= !strcmp(pinned[k], v[i].id);
                if (in_stack < keep || pin) {
                        r = fn(ctx, &v[i].tree, err);
                        kept++;
                }
        }
        if (ret_n)
                *ret_n = kept;
        snapshot_rows_free(v, n);
        return r;
}

/* ---- taking one ---- */

struct builder {
        struct store *s;
        struct staging *st;
        struct tree t;
        struct buf meta;
        uint64_t size, files;
        const struct snapshot_hooks *h;
};

/* A warning to h->warn (h may be NULL). */
#define hook_warn(h, ...) error_say((h) ? (h)->warn : NULL, (h) ? (h)->ctx : NULL, __VA_ARGS__)

static int meta_line(struct builder *b, char kind, mode_t mode, uid_t uid, gid_t gid, int64_t mtime, const char *path,
                     struct error *err)
{
        char line[TREE_MAX_PATH + 128];
        int k = snprintf(line, sizeof line, "%c %04o %u %u %" PRId64 "\t%s\n", kind, (unsigned)(mode & 07777),
                         (unsigned)uid, (unsigned)gid, mtime, path);

        if (k < 0 || (size_t)k >= sizeof line || buf_add(&b->meta, line, (size_t)k) < 0)
                return error_set(err, STACK_EFAIL, "out of memory");
        return 0;
}

/* A file whose content is in the staging area as d: its entry, counted. */
static int add_file(struct builder *b, const char *path, mode_t mode, uint64_t size, const struct digest *d,
                    struct error *err)
{
        int r = tree_add(&b->t, path, ENTRY_FILE, (mode & 0111) ? 0755 : 0644, size, d, NULL, err);

        if (r == 0) {
                b->size += size;
                b->files++;
        }
        return r;
}

static int add_blob(struct builder *b, const char *path, const void *data, size_t len, mode_t mode, struct error *err)
{
        struct digest d;
        int r = staging_put_buffer(b->st, data, len, &d, err);

        return r == 0 ? add_file(b, path, mode, len, &d, err) : r;
}

/* A file's content from a reader: in memory up to SMALL_FILE, streamed beyond. */
typedef ssize_t (*read_fn)(void *ctx, void *buf, size_t len);

static int add_stream(struct builder *b, const char *path, uint64_t size, mode_t mode, read_fn rd, void *ctx,
                      struct error *err)
{
        char *buf;
        uint64_t got = 0;
        struct digest d;
        int r = 0;

        if (size <= SMALL_FILE) {
                buf = malloc(size ? size : 1);
                if (!buf)
                        return error_set(err, STACK_EFAIL, "out of memory");
                while (got < size) {
                        ssize_t k = rd(ctx, buf + got, size - got);
                        if (k <= 0) {
                                free(buf);
                                return error_set(err, STACK_ESTORE, "snapshot: reading %s failed", path);
                        }
                        got += (uint64_t)k;
                }
                r = add_blob(b, path, buf, size, mode, err);
                free(buf);
                return r;
        }
        buf = malloc(1u << 20);
        if (!buf)
                return error_set(err, STACK_EFAIL, "out of memory");
        r = staging_begin(b->st, err);
        while (r == 0 && got < size) {
                ssize_t k = rd(ctx, buf, size - got < (1u << 20) ? size - got : (1u << 20));
                if (k <= 0)
                        r = error_set(err, STACK_ESTORE, "snapshot: reading %s failed", path);
                else
                        r = staging_write(b->st, buf, (size_t)k, err);
                got += k > 0 ? (uint64_t)k : 0;
        }
        free(buf);
        if (r == 0)
                r = staging_end(b->st, &d, err);
        return r == 0 ? add_file(b, path, mode, size, &d, err) : r;
}

static ssize_t fd_read(void *ctx, void *buf, size_t len)
{
        ssize_t k;

        do
                k = read(*(int *)ctx, buf, len);
        while (k < 0 && errno == EINTR);
        return k;
}

static int walk(struct builder *b, int dfd, const char *prefix, struct error *err)
{
        DIR *d = fdopendir(dfd);
        struct dirent *de;
        int r = 0;

        if (!d) {
                close(dfd);
                return error_errno(err, STACK_ESTORE, errno, "snapshot: cannot read %s", prefix);
        }
        while (r == 0 && (de = readdir(d))) {
                char path[TREE_MAX_PATH + 2];
                struct stat st;
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if ((size_t)snprintf(path, sizeof path, "%s/%s", prefix, de->d_name) > TREE_MAX_PATH) {
                        r = error_set(err, STACK_EFAIL, "snapshot: path too long: %.100s...", path);
                        break;
                }
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = error_errno(err, STACK_ESTORE, errno, "snapshot: cannot stat %s", path);
                        break;
                }
                if (S_ISDIR(st.st_mode)) {
                        int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        r = tree_add(&b->t, path, ENTRY_DIR, 0755, 0, NULL, NULL, err);
                        if (r == 0)
                                r = meta_line(b, 'd', st.st_mode, st.st_uid, st.st_gid, st.st_mtime, path, err);
                        if (r == 0 && cfd < 0)
                                r = error_errno(err, STACK_ESTORE, errno, "snapshot: cannot open %s", path);
                        if (r == 0)
                                r = walk(b, cfd, path, err);
                } else if (S_ISREG(st.st_mode)) {
                        int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0) {
                                r = error_errno(err, STACK_ESTORE, errno, "snapshot: cannot open %s", path);
                                break;
                        }
                        r = add_stream(b, path, (uint64_t)st.st_size, st.st_mode, fd_read, &fd, err);
                        close(fd);
                        if (r == 0)
                                r = meta_line(b, 'f', st.st_mode, st.st_uid, st.st_gid, st.st_mtime, path, err);
                } else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t k = readlinkat(dirfd(d), de->d_name, target, sizeof target);
                        if (k < 0 || (size_t)k >= sizeof target) {
                                r = error_errno(err, STACK_ESTORE, k < 0 ? errno : ENAMETOOLONG,
                                                "snapshot: cannot read link %s", path);
                                break;
                        }
                        r = add_blob(b, path, target, (size_t)k, 0644, err);
                        if (r == 0)
                                r = meta_line(b, 'l', 0777, st.st_uid, st.st_gid, st.st_mtime, path, err);
                } else {
                        hook_warn(b->h, "snapshot: %s is not a file, directory or symlink: not kept", path);
                }
        }
        closedir(d);
        return r;
}

static int snapshot_data_dir(struct builder *b, const char *dir, struct error *err)
{
        struct stat st;
        int fd;

        if (lstat(dir, &st) < 0) {
                if (errno == ENOENT)
                        return 0; /* no data dir: restoring the snapshot removes one made later */
                return error_errno(err, STACK_ESTORE, errno, "snapshot: cannot stat %s", dir);
        }
        if (!S_ISDIR(st.st_mode))
                return error_set(err, STACK_ESTORE, "snapshot: %s is not a directory", dir);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return error_errno(err, STACK_ESTORE, errno, "snapshot: cannot open %s", dir);
        if (tree_add(&b->t, "data", ENTRY_DIR, 0755, 0, NULL, NULL, err) < 0 ||
            meta_line(b, 'd', st.st_mode, st.st_uid, st.st_gid, st.st_mtime, "data", err) < 0) {
                close(fd);
                return -STACK_EFAIL;
        }
        return walk(b, fd, "data", err);
}

static ssize_t archive_data(void *ctx, void *buf, size_t len)
{
        la_ssize_t k = archive_read_data(ctx, buf, len);

        return k < 0 ? -1 : (ssize_t)k;
}

/* The layouts of GET /containers/{id}/archive?path=/vol (spec/run.md "Upgrades and snapshots"): Docker names
 * the directory asked for and its contents under it ("vol/", "vol/f"); Podman names them from the root of the
 * directory ("/", "/f"); either may prefix "./". The first entry tells which: the directory "vol" itself is
 * Docker's; anything else is relative to the volume. An entry that does not fit the layout is an error, never
 * skipped: a snapshot that leaves something out without a word loses it at the next rollback. */
enum archive_layout { LAYOUT_UNKNOWN, LAYOUT_NAMED, LAYOUT_ROOT };

static const char *strip_leading(const char *p)
{
        for (;;) {
                if (*p == '/')
                        p++;
                else if (p[0] == '.' && p[1] == '/')
                        p += 2;
                else if (p[0] == '.' && !p[1])
                        p++;
                else
                        return p;
        }
}

/* The path of an archive entry inside the volume ("" for its root), or NULL when it does not fit the layout. */
static const char *volume_rel(const char *p, bool dir, enum archive_layout *layout)
{
        const char *name = &VOLUME_MOUNT[1]; /* "vol" */
        size_t n = strlen(name);

        p = strip_leading(p);
        if (*layout == LAYOUT_UNKNOWN)
                *layout = dir && !strncmp(p, name, n) && (!p[n] || (p[n] == '/' && !*strip_leading(p + n)))
                                  ? LAYOUT_NAMED
                                  : LAYOUT_ROOT;
        if (*layout == LAYOUT_ROOT)
                return p;
        if (strncmp(p, name, n) || (p[n] && p[n] != '/'))
                return NULL;
        return strip_leading(p + n);
}

/* The tar GET /containers/{id}/archive?path=/vol gave, in either layout, into volumes/<name>/... */
static int read_volume_tar(struct builder *b, const char *name, int fd, struct error *err)
{
        struct archive *a = archive_read_new();
        struct archive_entry *ae;
        char prefix[300];
        enum archive_layout layout = LAYOUT_UNKNOWN;
        uint64_t entries = 0, kept = 0;
        int r = 0, rc;

        if (!a)
                return error_set(err, STACK_EFAIL, "out of memory");
        snprintf(prefix, sizeof prefix, "volumes/%s", name);
        archive_read_support_format_tar(a);
        if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
                r = error_set(err, STACK_ERUNTIME, "volume %s: the Engine's archive: %s", name,
                              archive_error_string(a));
                goto done;
        }
        while (r == 0 && (rc = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
                const char *p = archive_entry_pathname(ae), *rest;
                const char *link = archive_entry_hardlink(ae);
                char path[TREE_MAX_PATH + 2];
                mode_t mode = archive_entry_mode(ae);
                if (!p || !(rest = volume_rel(p, AE_IFDIR == archive_entry_filetype(ae), &layout))) {
                        r = error_set(err, STACK_ERUNTIME,
                                      "volume %s: the Engine's archive has an entry outside the volume (%.200s): "
                                      "refusing a snapshot that would leave it out",
                                      name, p ? p : "(no name)");
                        break;
                }
                if (*rest)
                        entries++;
                if ((size_t)snprintf(path, sizeof path, "%s%s%s", prefix, *rest ? "/" : "", rest) > TREE_MAX_PATH) {
                        r = error_set(err, STACK_EFAIL, "volume %s: path too long", name);
                        break;
                }
                while (strlen(path) && path[strlen(path) - 1] == '/')
                        path[strlen(path) - 1] = 0;
                if (link) {
                        hook_warn(b->h, "volume %s: %s is a hard link: kept as a copy", name, path);
                        /* tar leaves its data out: find the linked file's entry */
                        const char *lrest = volume_rel(link, false, &layout);
                        char lpath[TREE_MAX_PATH + 2];
                        const struct tree_entry *te = NULL;
                        snprintf(lpath, sizeof lpath, "%s/%s", prefix, lrest ? lrest : "");
                        for (size_t i = 0; lrest && i < b->t.n && !te; i++)
                                if (!strcmp(b->t.v[i].path, lpath))
                                        te = &b->t.v[i];
                        if (!te || !lrest) {
                                r = error_set(err, STACK_ERUNTIME, "volume %s: hard link %s to nothing", name, path);
                                break;
                        }
                        struct digest dd = te->digest;
                        uint64_t sz = te->size;
                        r = tree_add(&b->t, path, ENTRY_FILE, te->mode, sz, &dd, NULL, err);
                        b->size += sz;
                        b->files++;
                } else if (AE_IFDIR == archive_entry_filetype(ae)) {
                        r = tree_add(&b->t, path, ENTRY_DIR, 0755, 0, NULL, NULL, err);
                } else if (AE_IFREG == archive_entry_filetype(ae)) {
                        r = add_stream(b, path, (uint64_t)archive_entry_size(ae), mode, archive_data, a, err);
                } else if (AE_IFLNK == archive_entry_filetype(ae)) {
                        const char *t = archive_entry_symlink(ae);
                        r = add_blob(b, path, t ? t : "", t ? strlen(t) : 0, 0644, err);
                        mode = 0777;
                } else {
                        hook_warn(b->h, "volume %s: %s is not a file, directory or symlink: not kept", name, path);
                        continue;
                }
                if (r == 0 && *rest)
                        kept++;
                if (r == 0)
                        r = meta_line(b,
                                      link                                     ? 'f'
                                      : AE_IFDIR == archive_entry_filetype(ae) ? 'd'
                                      : AE_IFLNK == archive_entry_filetype(ae) ? 'l'
                                                                               : 'f',
                                      mode, (uid_t)archive_entry_uid(ae), (gid_t)archive_entry_gid(ae),
                                      (int64_t)archive_entry_mtime(ae), path, err);
        }
        if (r == 0 && rc != ARCHIVE_EOF)
                r = error_set(err, STACK_ERUNTIME, "volume %s: the Engine's archive: %s", name,
                              archive_error_string(a));
        if (r == 0 && entries && !kept)
                r = error_set(err, STACK_ERUNTIME,
                              "volume %s: the Engine's archive holds %" PRIu64 " entries and none could be kept: "
                              "refusing an empty snapshot of a volume that is not empty",
                              name, entries);
done:
        archive_read_free(a);
        return r;
}

int snapshot_read_volume_archive(struct store *s, const char *name, int fd, char **ret_meta, uint64_t *ret_files,
                                 struct error *err)
{
        struct builder b = {.s = s};
        int r;

        tree_init(&b.t);
        buf_init(&b.meta, 256u << 20);
        r = store_lock_shared(s, err);
        if (r < 0)
                return r;
        r = staging_new(s, &b.st, err);
        if (r == 0)
                r = read_volume_tar(&b, name, fd, err);
        if (r == 0 && buf_add(&b.meta, "", 1) < 0)
                r = error_set(err, STACK_EFAIL, "out of memory");
        if (r == 0) {
                *ret_meta = buf_steal(&b.meta, NULL);
                *ret_files = b.files;
        }
        staging_free(b.st); /* never committed: the objects it wrote go with it */
        tree_release(&b.t);
        buf_release(&b.meta);
        store_unlock(s);
        return r;
}

int snapshot_tmp_file(struct store *s, char *path, size_t size, struct error *err)
{
        int fd;

        if (fs_path(path, size, "%s/tmp/snap-XXXXXX", store_home(s)) < 0)
                return error_set(err, STACK_ESTORE, "store path too long");
        fd = mkstemp(path);
        if (fd < 0)
                return error_errno(err, STACK_ESTORE, errno, "cannot create %s", path);
        return fd;
}

/* An image the project's containers were created from (for the helper), or NULL. */
static char *project_image(struct engine *e, const char *project)
{
        struct engine_container *c = NULL;
        size_t n = 0;
        char label[256], *img = NULL;
        struct error err = ERROR_INIT;

        /* compose's label, or on a swarm (run/runner-swarm.c) the one docker stack deploy gives its containers */
        for (int k = 0; k < 2 && !img; k++) {
                snprintf(label, sizeof label, "%s=%s", k ? "com.docker.stack.namespace" : "com.docker.compose.project",
                         project);
                if (engine_list_containers(e, label, &c, &n, &err) == 0)
                        for (size_t i = 0; i < n && !img; i++)
                                if (c[i].image)
                                        img = strdup(c[i].image);
                engine_containers_free(c, n);
                c = NULL;
                n = 0;
        }
        return img;
}

static int snapshot_volume(struct builder *b, struct engine *e, const char *image, const char *name, struct error *err)
{
        char path[PATH_MAX], *id = NULL;
        int fd, r;

        fd = snapshot_tmp_file(b->s, path, sizeof path, err);
        if (fd < 0)
                return fd;
        unlink(path);
        r = engine_helper_create(e, image, name, VOLUME_MOUNT, &id, err);
        if (r == 0)
                r = engine_archive_get(e, id, VOLUME_MOUNT, fd, err);
        if (id)
                engine_container_delete(e, id, NULL);
        free(id);
        if (r == 0 && lseek(fd, 0, SEEK_SET) < 0)
                r = error_errno(err, STACK_ESTORE, errno, "snapshot: seek");
        if (r == 0)
                r = read_volume_tar(b, name, fd, err);
        close(fd);
        return r;
}

static int insert_row(struct store *s, const struct snapshot_row *row, struct error *err)
{
        return index_module_write(store_index(s), &snapshot_schema,
                                  "INSERT INTO snapshots(id, slug, version, reason, created_at, seq, tree, size, added,"
                                  " files, volumes, helper) VALUES(?,?,?,?,?,"
                                  " (SELECT COALESCE(MAX(seq), 0) + 1 FROM snapshots),?,?,?,?,?,?)",
                                  "insert snapshot", NULL, err, "ttttidiiitt", row->id, row->slug, row->version,
                                  row->reason, row->created_at, &row->tree, (int64_t)row->size, (int64_t)row->added,
                                  (int64_t)row->files, row->volumes, row->helper);
}

int snapshot_take(struct store *s, const char *slug, const char *version, const char *reason,
                  const struct snapshot_hooks *h, struct snapshot_row *ret, struct error *err)
{
        struct builder b = {.s = s, .h = h};
        struct engine *e = NULL;
        struct buf vols = BUF_INIT(1u << 20);
        char data_dir[PATH_MAX], project[RUN_PROJECT_MAX], **names = NULL, *image = NULL;
        struct snapshot_row row = {0};
        int r;

        memset(ret, 0, sizeof *ret);
        if (!s || !slug || !reason)
                return error_set(err, STACK_EFAIL, "snapshot_take: invalid arguments");
        tree_init(&b.t);
        buf_init(&b.meta, 256u << 20);
        r = store_lock_shared(s, err);
        if (r < 0)
                return r;
        run_project_of(s, slug, project, sizeof project);
        if (fs_path(data_dir, sizeof data_dir, "%s/data/%s", store_home(s), slug) < 0)
                r = error_set(err, STACK_ESTORE, "store path too long");
        if (r == 0)
                r = staging_new(s, &b.st, err);
        if (r == 0)
                r = snapshot_data_dir(&b, data_dir, err);
        if (r == 0)
                r = engine_open(&e, err);
        if (r == 0)
                r = engine_list_volumes(e, project, &names, err);
        if (r == 0 && names && names[0]) {
                image = project_image(e, project);
                if (!image) { /* taken down (stack rm keeps the volumes): the image an earlier snapshot used */
                        struct snapshot_row *v = NULL;
                        size_t n = 0;
                        if (snapshot_list(s, slug, &v, &n, NULL) == 0)
                                for (size_t i = 0; i < n && !image; i++)
                                        if (v[i].helper)
                                                image = strdup(v[i].helper);
                        snapshot_rows_free(v, n);
                }
                if (!image)
                        r = error_set(err, STACK_ERUNTIME,
                                      "snapshot: %s has named volumes but no container to take an image from "
                                      "(start it once: stack run %s)",
                                      slug, slug);
        }
        for (size_t i = 0; r == 0 && names && names[i]; i++) {
                r = snapshot_volume(&b, e, image, names[i], err); /* finalize adds volumes/ and a missing root */
                if (r == 0 && ((vols.len && buf_add(&vols, " ", 1) < 0) || buf_add_str(&vols, names[i]) < 0))
                        r = error_set(err, STACK_EFAIL, "out of memory");
        }
        if (r == 0) {
                uint64_t sz = b.size, nf = b.files;
                r = add_blob(&b, META_NAME, b.meta.p ? b.meta.p : "", b.meta.len, 0644, err);
                b.size = sz; /* the meta file is ours: not counted as the stack's data */
                b.files = nf;
        }
        if (r == 0)
                r = tree_finalize(&b.t, err);
        if (r == 0)
                r = tree_digest(&b.t, &row.tree);
        if (r == 0) {
                row.added = staging_bytes_written(b.st);
                r = staging_commit(b.st, err);
        }
        if (r == 0)
                r = index_put_tree(store_index(s), &b.t, &row.tree, err);
        if (r == 0) {
                rundir_new_id(row.id);
                row.slug = (char *)slug;
                row.version = (char *)(version ? version : "-");
                row.reason = (char *)reason;
                row.created_at = (int64_t)time(NULL);
                row.size = b.size;
                row.files = b.files;
                row.volumes = vols.p ? vols.p : "";
                row.helper = image;
                r = insert_row(s, &row, err);
        }
        if (r == 0)
                r = snapshot_get(s, row.id, ret, err);
        staging_free(b.st);
        tree_release(&b.t);
        buf_release(&b.meta);
        buf_release(&vols);
        strv_free(names);
        engine_free(e);
        free(image);
        store_unlock(s);
        return r;
}

/* ---- what the CLI and the API share ---- */

int snapshot_take_manual(struct store *s, const char *slug, const struct snapshot_hooks *h, struct snapshot_row *ret,
                         struct error *err)
{
        struct run_row cur = {0};
        bool have = runs_get(s, slug, &cur, NULL) == 0 && !strcmp(cur.slug, slug);
        int r = snapshot_take(s, slug, have ? cur.version : "-", "manual", h, ret, err);

        run_row_release(&cur);
        return r;
}

json_t *snapshot_row_json(const struct snapshot_row *r)
{
        char tree[DIGEST_HEX_LEN + 1];

        digest_to_hex(&r->tree, tree);
        return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:s}", "id", r->id, "slug", r->slug, "version",
                         r->version, "reason", r->reason, "created_at", (json_int_t)r->created_at, "tree", tree, "size",
                         (json_int_t)r->size, "added", (json_int_t)r->added, "files", (json_int_t)r->files, "volumes",
                         r->volumes ? r->volumes : "");
}
