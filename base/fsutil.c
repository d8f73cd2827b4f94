/* fsutil.c - file-system helpers: atomic writes (whole or streamed), bounded reads, recursive removal,
 * reflink-or-copy. */
#include "base/fsutil.h"
#include "base/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

int fs_path(char *buf, size_t size, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, size, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= size)
                return -ENAMETOOLONG;
        return 0;
}

int fs_mkdir_p(const char *path, mode_t mode)
{
        char tmp[PATH_MAX];
        size_t len = strlen(path);

        if (len == 0 || len >= sizeof tmp)
                return -ENAMETOOLONG;
        memcpy(tmp, path, len + 1);
        for (char *p = tmp + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int fs_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int fs_fsync_dir(const char *path)
{
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                r = -errno;
        close(fd);
        return r;
}

static int split_dir(const char *path, char *dir, size_t size)
{
        const char *slash = strrchr(path, '/');

        if (!slash)
                return fs_path(dir, size, ".");
        if (slash == path)
                return fs_path(dir, size, "/");
        return fs_path(dir, size, "%.*s", (int)(slash - path), path);
}

int fs_atomic_open(struct fs_atomic *a, const char *path, mode_t mode)
{
        const char *slash = strrchr(path, '/');
        char dir[PATH_MAX];
        int r;

        a->fd = -1;
        a->tmp[0] = 0;
        if (!*path || (slash && !slash[1]))
                return -EISDIR; /* names a directory, not a file */
        r = fs_path(a->path, sizeof a->path, "%s", path);
        if (r == 0)
                r = split_dir(path, dir, sizeof dir);
        if (r < 0)
                return r;
        for (int tries = 0; tries < 100; tries++) {
                uint64_t rnd = 0;

                if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
                        rnd = ((uint64_t)getpid() << 32) ^ ((uint64_t)tries << 16) ^ (uint64_t)rand();
                r = fs_path(a->tmp, sizeof a->tmp, "%s/.%s.%016llx.tmp", dir, slash ? slash + 1 : path,
                            (unsigned long long)rnd);
                if (r < 0)
                        break;
                a->fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
                if (a->fd >= 0)
                        return 0;
                r = -errno;
                if (r != -EEXIST)
                        break;
        }
        a->tmp[0] = 0;
        return r;
}

int fs_atomic_commit(struct fs_atomic *a)
{
        char dir[PATH_MAX];
        int r = 0;

        if (a->fd < 0 || !a->tmp[0])
                return -EBADF;
        if (fsync(a->fd) < 0)
                r = -errno;
        if (close(a->fd) < 0 && r == 0)
                r = -errno;
        a->fd = -1;
        if (r == 0 && rename(a->tmp, a->path) < 0)
                r = -errno;
        if (r < 0) {
                fs_atomic_abort(a);
                return r;
        }
        a->tmp[0] = 0;
        r = split_dir(a->path, dir, sizeof dir);
        return r < 0 ? r : fs_fsync_dir(dir);
}

void fs_atomic_abort(struct fs_atomic *a)
{
        if (!a)
                return;
        if (a->fd >= 0)
                close(a->fd);
        a->fd = -1;
        if (a->tmp[0])
                unlink(a->tmp);
        a->tmp[0] = 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
        struct fs_atomic a;
        int r;

        r = fs_atomic_open(&a, path, mode);
        if (r < 0)
                return r;
        r = fs_write_all(a.fd, data, len);
        if (r < 0) {
                fs_atomic_abort(&a);
                return r;
        }
        return fs_atomic_commit(&a);
}

int fs_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;
        size_t len = 0, cap = 4096;
        char *buf = NULL;

        if (fd < 0)
                return -errno;
        buf = malloc(cap + 1);
        if (!buf) {
                r = -ENOMEM;
                goto fail;
        }
        for (;;) {
                ssize_t n;
                if (len == cap) {
                        char *nb;
                        if (cap > max) {
                                r = -EFBIG;
                                goto fail;
                        }
                        cap *= 2;
                        nb = realloc(buf, cap + 1);
                        if (!nb) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        buf = nb;
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto fail;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max) {
                        r = -EFBIG;
                        goto fail;
                }
        }
        buf[len] = 0;
        *ret = buf;
        if (ret_len)
                *ret_len = len;
        buf = NULL;
fail:
        free(buf);
        close(fd);
        return r;
}

static int rm_rf_at(int parent, const char *name)
{
        struct stat st;
        int fd, r = 0;
        DIR *d;
        struct dirent *de;

        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(parent, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        /* A read-only directory (a checkout of a 0555 tree) must become writable to be emptied. */
        if ((st.st_mode & 0700) != 0700 && fchmodat(parent, name, (st.st_mode & 07777) | 0700, 0) < 0)
                return -errno;
        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                int q = rm_rf_at(dirfd(d), de->d_name);
                if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        if (r == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                r = -errno;
        return r;
}

int fs_rm_rf(const char *path)
{
        return rm_rf_at(AT_FDCWD, path);
}

int fs_swap_dir(const char *fresh, const char *dir, const char *aside, enum fs_swap_stage *ret_stage)
{
        enum fs_swap_stage stage = FS_SWAP_ASIDE;
        int r = 0;

        if (rename(dir, aside) < 0 && errno != ENOENT) {
                r = -errno;
        } else if (rename(fresh, dir) < 0) {
                r = -errno;
                stage = FS_SWAP_IN;
                rename(aside, dir);
        } else {
                stage = FS_SWAP_CLEAN;
                r = fs_rm_rf(aside);
        }
        if (r < 0 && ret_stage)
                *ret_stage = stage;
        return r;
}

int fs_clone_or_copy(int in_fd, int out_fd, uint64_t size)
{
        char buf[1 << 16];
        uint64_t done = 0;

        if (size == 0)
                return 0;
        if (ioctl(out_fd, FICLONE, in_fd) == 0)
                return 0;
        while (done < size) {
                ssize_t n = copy_file_range(in_fd, NULL, out_fd, NULL, size - done, 0);
                if (n <= 0)
                        break;
                done += (uint64_t)n;
        }
        if (done == size)
                return 0;
        /* copy_file_range refused (EXDEV on old kernels, EINVAL on some file systems): plain copy from where
         * it stopped. */
        if (lseek(in_fd, (off_t)done, SEEK_SET) < 0 || lseek(out_fd, (off_t)done, SEEK_SET) < 0)
                return -errno;
        while (done < size) {
                ssize_t n = read(in_fd, buf, sizeof buf);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO; /* the object is shorter than the index says */
                int r = fs_write_all(out_fd, buf, (size_t)n);
                if (r < 0)
                        return r;
                done += (uint64_t)n;
        }
        return 0;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void fs_names_free(char **v, size_t n)
{
        strv_free_n(v, n);
}

int fs_list_suffix(const char *dir, const char *suffix, bool strip, char ***ret, size_t *ret_n)
{
        size_t n = 0, cap = 0, slen = strlen(suffix);
        char **v = NULL;
        struct dirent *de;
        DIR *d = opendir(dir);
        int r = 0;

        if (!d) {
                if (errno != ENOENT)
                        return -errno;
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        for (;;) {
                size_t len;
                errno = 0;
                de = readdir(d);
                if (!de) {
                        r = errno ? -errno : 0;
                        break;
                }
                len = strlen(de->d_name);
                if (de->d_name[0] == '.' || len <= slen || strcmp(de->d_name + len - slen, suffix))
                        continue;
                if (n == cap) {
                        char **nv = realloc(v, (cap ? cap * 2 : 16) * sizeof *v);
                        if (!nv) {
                                r = -ENOMEM;
                                break;
                        }
                        v = nv;
                        cap = cap ? cap * 2 : 16;
                }
                v[n] = strndup(de->d_name, strip ? len - slen : len);
                if (!v[n]) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        closedir(d);
        if (r < 0) {
                fs_names_free(v, n);
                return r;
        }
        if (n > 1)
                qsort(v, n, sizeof *v, name_cmp);
        *ret = v;
        *ret_n = n;
        return 0;
}
