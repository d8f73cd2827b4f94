/* fsutil.h - small file-system helpers shared by the store, checkout and pack.
 *
 * All return 0 or a negative errno; none prints. One atomic write for the project: a temp file beside the
 * target (".<name>.<16 hex>.tmp", O_EXCL, mode less the umask), written, fsync'ed, renamed over the target,
 * the directory fsync'ed. fs_write_atomic() does it for bytes in memory; for a stream:
 *   struct fs_atomic a;
 *   fs_atomic_open(&a, path, mode)     a.fd is the temp file, a.tmp its path (to skip it, to name it)
 *   fs_write_all(a.fd, ...) ...        as much as the stream holds
 *   fs_atomic_commit(&a)               fsync, close, rename, fsync the directory; the temp file is gone
 *                                      whatever it returns
 *   fs_atomic_abort(&a)                on any failure before commit: close and remove the temp file; safe
 *                                      after a failed open, after commit, and twice
 */
#ifndef STACK_FSUTIL_H
#define STACK_FSUTIL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* mkdir -p with mode for every created component. */
int fs_mkdir_p(const char *path, mode_t mode);
struct fs_atomic {
        int fd;              /* the temp file, open for writing; -1 once closed */
        char path[PATH_MAX]; /* the target */
        char tmp[PATH_MAX];  /* the temp file; "" when none is left */
};

int fs_atomic_open(struct fs_atomic *a, const char *path, mode_t mode);
int fs_atomic_commit(struct fs_atomic *a);
void fs_atomic_abort(struct fs_atomic *a);
/* Write data to path atomically (see above). */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* Read a whole file of at most max bytes into a NUL-terminated heap buffer; -EFBIG when larger. */
int fs_read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* Write all of buf to fd, retrying short writes and EINTR. */
int fs_write_all(int fd, const void *buf, size_t len);
/* Remove a tree (files, dirs, symlinks, read-only ones too) without following symlinks. ENOENT is 0. */
int fs_rm_rf(const char *path);
/* Put the directory fresh in the place of dir: dir (when there is one) is renamed to aside, fresh is renamed to
 * dir, then aside is removed. 0, or a negative errno with *ret_stage (may be NULL) naming the step that failed:
 * FS_SWAP_ASIDE (nothing changed), FS_SWAP_IN (the old dir was put back), FS_SWAP_CLEAN (fresh is in place,
 * aside is left, in part). aside must be on the file system of dir (a name beside it). */
enum fs_swap_stage { FS_SWAP_ASIDE, FS_SWAP_IN, FS_SWAP_CLEAN };
int fs_swap_dir(const char *fresh, const char *dir, const char *aside, enum fs_swap_stage *ret_stage);
/* fsync a directory by path. */
int fs_fsync_dir(const char *path);
/* Copy file contents from in_fd to a new out_fd: FICLONE reflink when the file system has it, else
 * copy_file_range, else read/write. Never a hard link. */
int fs_clone_or_copy(int in_fd, int out_fd, uint64_t size);
/* The names of the entries of dir ending in suffix (not starting with '.'), sorted bytewise; with strip, the
 * suffix removed. A missing dir has none. Free with fs_names_free(). */
int fs_list_suffix(const char *dir, const char *suffix, bool strip, char ***ret, size_t *ret_n);
void fs_names_free(char **v, size_t n);
/* snprintf into a path buffer; -ENAMETOOLONG when it does not fit. */
int fs_path(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
