/* checkout.c - a tree from the store into a directory: reflink or copy, never a hard link. */
#include "checkout.h"
#include "base/fsutil.h"
#include "imagearchive.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct put_out {
        int fd;
        const char *path;
};

static int put_write(void *ctx, const void *buf, size_t n, struct error *err)
{
        struct put_out *o = ctx;
        int r = fs_write_all(o->fd, buf, n);

        return r < 0 ? error_errno(err, STACK_EFAIL, r, "cannot write '%s'", o->path) : 0;
}

/* A file stored as its parts: assembled from its recipe, streamed into the new file. */
static int put_assembled(struct store *s, const struct tree_entry *e, int dirfd, struct error *err)
{
        struct put_out o = {.path = e->path};
        int r;

        o.fd = openat(dirfd, e->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (o.fd < 0)
                return error_errno(err, STACK_EFAIL, errno, "cannot create '%s'", e->path);
        r = ia_file_stream(s, e, put_write, &o, err);
        if (r == 0 && fchmod(o.fd, e->mode) < 0)
                r = error_errno(err, STACK_EFAIL, errno, "cannot write '%s'", e->path);
        if (close(o.fd) < 0 && r == 0)
                r = error_errno(err, STACK_EFAIL, errno, "cannot write '%s'", e->path);
        return r;
}

static int put_file(struct store *s, const struct tree_entry *e, int dirfd, struct error *err)
{
        char hex[DIGEST_HEX_LEN + 1];
        struct stat st;
        int in = -1, out = -1, r;

        digest_to_hex(&e->digest, hex);
        in = store_object_open(s, &e->digest);
        if (in == -ENOENT && e->recipe)
                return put_assembled(s, e, dirfd, err);
        if (in < 0)
                return error_errno(err, STACK_ESTORE, in, "store object %s for '%s' is unreadable (run stack verify)",
                                   hex, e->path);
        if (fstat(in, &st) < 0 || (uint64_t)st.st_size != e->size) {
                r = error_set(err, STACK_ESTORE, "store object %s for '%s' has the wrong size (run stack verify)", hex,
                              e->path);
                goto done;
        }
        out = openat(dirfd, e->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0) {
                r = error_errno(err, STACK_EFAIL, errno, "cannot create '%s'", e->path);
                goto done;
        }
        r = fs_clone_or_copy(in, out, e->size);
        if (r == 0 && fchmod(out, e->mode) < 0)
                r = -errno;
        if (r < 0)
                r = error_errno(err, STACK_EFAIL, r, "cannot write '%s'", e->path);
done:
        if (in >= 0)
                close(in);
        if (out >= 0 && close(out) < 0 && r == 0)
                r = error_errno(err, STACK_EFAIL, errno, "cannot write '%s'", e->path);
        return r;
}

int checkout_tree(struct store *s, const struct tree *t, const char *dir_arg, struct error *err)
{
        char dir[PATH_MAX], tmp[PATH_MAX];
        struct stat st;
        size_t len;
        int dirfd = -1, r = 0;
        bool replace_empty = false;

        if (!t->finalized)
                return error_set(err, STACK_EFAIL, "checkout_tree: tree not finalized");
        /* "out/" names out: the temp directory goes beside it, not inside */
        if (fs_path(dir, sizeof dir, "%s", dir_arg) < 0)
                return error_set(err, STACK_EFAIL, "'%s': path too long", dir_arg);
        for (len = strlen(dir); len > 1 && dir[len - 1] == '/'; len--)
                dir[len - 1] = 0;
        if (lstat(dir, &st) == 0) {
                if (!S_ISDIR(st.st_mode) || rmdir(dir) < 0)
                        return error_set(err, STACK_EFAIL, "'%s' exists and is not an empty directory", dir);
                replace_empty = true; /* removed now, renamed into place at the end */
        }
        r = fs_path(tmp, sizeof tmp, "%s.tmp-XXXXXX", dir);
        if (r < 0 || !mkdtemp(tmp)) {
                r = error_errno(err, STACK_EFAIL, r < 0 ? r : errno, "cannot create a directory beside '%s'", dir);
                goto restore;
        }
        chmod(tmp, 0755);
        dirfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0) {
                r = error_errno(err, STACK_EFAIL, errno, "cannot open %s", tmp);
                goto fail;
        }
        /* Sorted order puts every directory before what it holds. Symlinks come last, so nothing is ever written
         * through one. */
        for (size_t i = 0; i < t->n; i++) {
                const struct tree_entry *e = &t->v[i];
                if (e->type == ENTRY_DIR && mkdirat(dirfd, e->path, 0755) < 0) {
                        r = error_errno(err, STACK_EFAIL, errno, "cannot create directory '%s'", e->path);
                        goto fail;
                }
                if (e->type == ENTRY_FILE) {
                        r = put_file(s, e, dirfd, err);
                        if (r < 0)
                                goto fail;
                }
        }
        for (size_t i = 0; i < t->n; i++) {
                const struct tree_entry *e = &t->v[i];
                if (e->type == ENTRY_SYMLINK && symlinkat(e->target, dirfd, e->path) < 0) {
                        r = error_errno(err, STACK_EFAIL, errno, "cannot create symlink '%s'", e->path);
                        goto fail;
                }
        }
        if (rename(tmp, dir) < 0) {
                r = error_errno(err, STACK_EFAIL, errno, "cannot rename checkout into '%s'", dir);
                goto fail;
        }
        close(dirfd);
        return 0;
fail:
        if (dirfd >= 0)
                close(dirfd);
        fs_rm_rf(tmp);
restore:
        if (replace_empty)
                mkdir(dir, st.st_mode & 07777);
        return r;
}
