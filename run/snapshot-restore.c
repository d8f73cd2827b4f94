/* snapshot-restore.c - a snapshot back into the data dir and the named volumes (snapshot.h: snapshot_restore;
 * spec/run.md "Upgrades and snapshots"). */
#include "snapshot-int.h"

#include "base/mem.h"
#include "run/engine.h"
#include "run/run.h"
#include "run/rundir.h"
#include "run/runs.h"
#include "base/buf.h"
#include "store/checkout.h"
#include "base/fsutil.h"
#include "store/tree.h"

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

/* ---- restoring one ---- */

struct meta_entry {
        char kind;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        int64_t mtime;
        char *path;
};

static void meta_free(struct meta_entry *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i].path);
        free(v);
}

static int meta_parse(char *text, struct meta_entry **ret, size_t *ret_n, struct error *err)
{
        struct meta_entry *v = NULL;
        size_t n = 0, cap = 0;
        char *line, *save = NULL;

        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char kind, *tab = strchr(line, '\t');
                unsigned mode, uid, gid;
                long long mtime;
                if (!tab || sscanf(line, "%c %o %u %u %lld", &kind, &mode, &uid, &gid, &mtime) != 5) {
                        meta_free(v, n);
                        return error_set(err, STACK_ESTORE, "snapshot: " META_NAME " is damaged");
                }
                if (n == cap) {
                        struct meta_entry *nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof *v);
                        if (!nv) {
                                meta_free(v, n);
                                return error_set(err, STACK_EFAIL, "out of memory");
                        }
                        v = nv;
                }
                v[n] = (struct meta_entry){kind, mode, uid, gid, mtime, strdup(tab + 1)};
                if (!v[n++].path) {
                        meta_free(v, n);
                        return error_set(err, STACK_EFAIL, "out of memory");
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static bool under(const char *path, const char *prefix)
{
        size_t k = strlen(prefix);

        return !strncmp(path, prefix, k) && (path[k] == 0 || path[k] == '/');
}

static int set_times(const char *path, int64_t mtime, bool link)
{
        struct timespec ts[2] = {{(time_t)mtime, 0}, {(time_t)mtime, 0}};

        return utimensat(AT_FDCWD, path, ts, link ? AT_SYMLINK_NOFOLLOW : 0);
}

/* The checked-out files under root get their recorded kind, owner, mode and time (dirs last, deepest first). */
static int apply_meta(const char *root, const struct meta_entry *v, size_t n, const char *prefix, struct error *err)
{
        char path[PATH_MAX];

        for (size_t i = 0; i < n; i++) {
                if (!under(v[i].path, prefix) || v[i].kind == 'd')
                        continue;
                if (fs_path(path, sizeof path, "%s/%s", root, v[i].path) < 0)
                        return error_set(err, STACK_ESTORE, "path too long");
                if (v[i].kind == 'l') {
                        char *target = NULL;
                        size_t len = 0;
                        int r = fs_read_file(path, PATH_MAX, &target, &len);
                        if (r == 0 && (unlink(path) < 0 || symlink(target, path) < 0))
                                r = -errno;
                        free(target);
                        if (r < 0)
                                return error_errno(err, STACK_ESTORE, -r, "restore: symlink %s", v[i].path);
                        if (lchown(path, v[i].uid, v[i].gid) < 0 && errno != EPERM)
                                return error_errno(err, STACK_ESTORE, errno, "restore: chown %s", v[i].path);
                        set_times(path, v[i].mtime, true);
                        continue;
                }
                if ((chown(path, v[i].uid, v[i].gid) < 0 && errno != EPERM) || chmod(path, v[i].mode) < 0)
                        return error_errno(err, STACK_ESTORE, errno, "restore: chown/chmod %s", v[i].path);
                set_times(path, v[i].mtime, false);
        }
        for (size_t i = n; i-- > 0;) {
                if (!under(v[i].path, prefix) || v[i].kind != 'd')
                        continue;
                if (fs_path(path, sizeof path, "%s/%s", root, v[i].path) < 0)
                        return error_set(err, STACK_ESTORE, "path too long");
                if ((chown(path, v[i].uid, v[i].gid) < 0 && errno != EPERM) || chmod(path, v[i].mode) < 0)
                        return error_errno(err, STACK_ESTORE, errno, "restore: chown/chmod %s", v[i].path);
                set_times(path, v[i].mtime, false);
        }
        return 0;
}

static int restore_data(struct store *s, const char *slug, const char *root, const struct meta_entry *v, size_t n,
                        struct error *err)
{
        char data_dir[PATH_MAX], src[PATH_MAX], aside[PATH_MAX], hex[RUNDIR_ID_LEN + 1];
        enum fs_swap_stage stage;
        bool have = false;
        int r;

        for (size_t i = 0; i < n && !have; i++)
                have = !strcmp(v[i].path, "data");
        rundir_new_id(hex);
        if (fs_path(data_dir, sizeof data_dir, "%s/data/%s", store_home(s), slug) < 0 ||
            fs_path(src, sizeof src, "%s/data", root) < 0 ||
            fs_path(aside, sizeof aside, "%s/data/.%s.old-%s", store_home(s), slug, hex) < 0)
                return error_set(err, STACK_ESTORE, "store path too long");
        if (have) {
                r = apply_meta(root, v, n, "data", err);
                if (r < 0)
                        return r;
                r = fs_swap_dir(src, data_dir, aside, &stage); /* a leftover aside is harmless */
                if (r < 0 && stage != FS_SWAP_CLEAN)
                        return error_errno(err, STACK_ESTORE, r,
                                           stage == FS_SWAP_ASIDE ? "restore: cannot move %s aside"
                                                                  : "restore: cannot put %s in place",
                                           data_dir);
                fs_fsync_dir(data_dir);
                return 0;
        }
        r = fs_rm_rf(data_dir);
        return r < 0 ? error_errno(err, STACK_ESTORE, -r, "restore: cannot remove %s", data_dir) : 0;
}

/* A pax tar of volumes/<name>/... as vol/..., for PUT /containers/{id}/archive?path=/. */
static int volume_tar(const char *root, const char *name, const struct meta_entry *v, size_t n, int fd,
                      struct error *err)
{
        struct archive *a = archive_write_new();
        struct archive_entry *ae = archive_entry_new();
        char prefix[300], path[PATH_MAX], name_in[TREE_MAX_PATH + 8], buf[1 << 16];
        int r = 0;

        if (!a || !ae) {
                archive_write_free(a);
                archive_entry_free(ae);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        snprintf(prefix, sizeof prefix, "volumes/%s", name);
        archive_write_set_format_pax_restricted(a);
        if (archive_write_open_fd(a, fd) != ARCHIVE_OK)
                r = error_set(err, STACK_ESTORE, "restore: %s", archive_error_string(a));
        for (size_t i = 0; r == 0 && i < n; i++) {
                int in = -1;
                struct stat st;
                if (!under(v[i].path, prefix))
                        continue;
                snprintf(name_in, sizeof name_in, "vol%s", v[i].path + strlen(prefix));
                if (fs_path(path, sizeof path, "%s/%s", root, v[i].path) < 0) {
                        r = error_set(err, STACK_ESTORE, "path too long");
                        break;
                }
                archive_entry_clear(ae);
                archive_entry_set_pathname(ae, name_in);
                archive_entry_set_uid(ae, v[i].uid);
                archive_entry_set_gid(ae, v[i].gid);
                archive_entry_set_mtime(ae, (time_t)v[i].mtime, 0);
                archive_entry_set_perm(ae, v[i].mode);
                if (v[i].kind == 'd') {
                        archive_entry_set_filetype(ae, AE_IFDIR);
                } else if (v[i].kind == 'l') {
                        char *target = NULL;
                        size_t len = 0;
                        if (fs_read_file(path, PATH_MAX, &target, &len) < 0) {
                                r = error_set(err, STACK_ESTORE, "restore: cannot read %s", v[i].path);
                                break;
                        }
                        archive_entry_set_filetype(ae, AE_IFLNK);
                        archive_entry_set_symlink(ae, target);
                        free(target);
                } else {
                        in = open(path, O_RDONLY | O_CLOEXEC);
                        if (in < 0 || fstat(in, &st) < 0) {
                                r = error_errno(err, STACK_ESTORE, errno, "restore: cannot open %s", v[i].path);
                                if (in >= 0)
                                        close(in);
                                break;
                        }
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_size(ae, st.st_size);
                }
                if (archive_write_header(a, ae) != ARCHIVE_OK)
                        r = error_set(err, STACK_ESTORE, "restore: %s", archive_error_string(a));
                while (r == 0 && in >= 0) {
                        ssize_t k = read(in, buf, sizeof buf);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                r = error_errno(err, STACK_ESTORE, errno, "restore: reading %s", v[i].path);
                        if (k <= 0)
                                break;
                        if (archive_write_data(a, buf, (size_t)k) != k)
                                r = error_set(err, STACK_ESTORE, "restore: %s", archive_error_string(a));
                }
                if (in >= 0)
                        close(in);
        }
        if (archive_write_close(a) != ARCHIVE_OK && r == 0)
                r = error_set(err, STACK_ESTORE, "restore: %s", archive_error_string(a));
        archive_entry_free(ae);
        archive_write_free(a);
        return r;
}

static int restore_volume(struct store *s, struct engine *e, const char *helper, const char *name, const char *root,
                          const struct meta_entry *v, size_t n, struct error *err)
{
        char path[PATH_MAX], *id = NULL;
        off_t size;
        int fd, r;

        fd = snapshot_tmp_file(s, path, sizeof path, err);
        if (fd < 0)
                return fd;
        unlink(path);
        r = volume_tar(root, name, v, n, fd, err);
        if (r == 0 && ((size = lseek(fd, 0, SEEK_END)) < 0 || lseek(fd, 0, SEEK_SET) < 0))
                r = error_errno(err, STACK_ESTORE, errno, "restore: seek");
        /* Emptied first: exactly the snapshot's files afterwards, whatever was added since. */
        if (r == 0)
                r = engine_volume_recreate(e, name, err);
        if (r == 0)
                r = engine_helper_create(e, helper, name, VOLUME_MOUNT, &id, err);
        if (r == 0)
                r = engine_archive_put(e, id, "/", fd, (uint64_t)size, err);
        if (id)
                engine_container_delete(e, id, NULL);
        free(id);
        close(fd);
        return r;
}

int snapshot_restore(struct store *s, const char *slug, const struct snapshot_row *row, const struct snapshot_hooks *h,
                     struct error *err)
{
        struct tree t;
        struct engine *e = NULL;
        struct meta_entry *meta = NULL;
        size_t n_meta = 0;
        const struct tree_entry *me;
        char root[PATH_MAX], project[RUN_PROJECT_MAX], hex[13], *text = NULL, **now = NULL, *vols = NULL, *save = NULL,
                                                                *name;
        int r, fd;

        (void)h;
        if (!s || !slug || !row || !row->slug)
                return error_set(err, STACK_EFAIL, "snapshot_restore: invalid arguments");
        if (strcmp(slug, row->slug))
                return error_set(err, STACK_EREJECT,
                                 "snapshot %s is of stack '%s', not '%s': a stack is only restored from its own "
                                 "snapshots",
                                 row->id, row->slug, slug);
        tree_init(&t);
        r = store_lock_shared(s, err);
        if (r < 0)
                return r;
        rundir_new_id(hex);
        run_project_of(s, slug, project, sizeof project);
        r = index_load_tree(store_index(s), &row->tree, &t, err);
        me = r == 0 ? tree_find(&t, META_NAME) : NULL;
        if (r == 0 && !me)
                r = error_set(err, STACK_ESTORE, "snapshot %s: no " META_NAME " in its tree", row->id);
        if (r == 0) {
                fd = store_object_open(s, &me->digest);
                if (fd < 0)
                        r = error_set(err, STACK_ESTORE, "snapshot %s: its content is missing from the store", row->id);
                else {
                        text = calloc(1, me->size + 1);
                        if (!text || read(fd, text, me->size) != (ssize_t)me->size)
                                r = error_set(err, STACK_ESTORE, "snapshot %s: cannot read " META_NAME, row->id);
                        close(fd);
                }
        }
        if (r == 0)
                r = meta_parse(text, &meta, &n_meta, err);
        if (r == 0 && fs_path(root, sizeof root, "%s/tmp/restore-%s", store_home(s), hex) < 0)
                r = error_set(err, STACK_ESTORE, "store path too long");
        if (r == 0)
                r = checkout_tree(s, &t, root, err);
        /* Volumes first (the Engine may refuse: the data dir is then still as it was), then the data dir. */
        if (r == 0)
                r = engine_open(&e, err);
        if (r == 0)
                r = engine_list_volumes(e, project, &now, err);
        if (r == 0 && !(vols = strdup(row->volumes ? row->volumes : "")))
                r = error_set(err, STACK_EFAIL, "out of memory");
        for (name = r == 0 ? strtok_r(vols, " ", &save) : NULL; r == 0 && name; name = strtok_r(NULL, " ", &save)) {
                if (!row->helper)
                        r = error_set(err, STACK_ESTORE, "snapshot %s: no helper image recorded", row->id);
                else
                        r = restore_volume(s, e, row->helper, name, root, meta, n_meta, err);
        }
        /* A volume made after the snapshot is data the snapshot did not have. */
        for (size_t i = 0; r == 0 && now && now[i]; i++) {
                char pat[300];
                snprintf(pat, sizeof pat, " %s ", now[i]);
                char *all = NULL;
                if (asprintf(&all, " %s ", row->volumes ? row->volumes : "") < 0)
                        r = error_set(err, STACK_EFAIL, "out of memory");
                else if (!strstr(all, pat))
                        r = engine_volume_delete(e, now[i], err);
                free(all);
        }
        if (r == 0)
                r = restore_data(s, slug, root, meta, n_meta, err);
        fs_rm_rf(root);
        strv_free(now);
        engine_free(e);
        meta_free(meta, n_meta);
        free(text);
        free(vols);
        tree_release(&t);
        store_unlock(s);
        return r;
}
