/* store.c - the store on disk: where things live, the lock that keeps gc away from writers, and staged
 * object writes.
 *
 * Objects of one ingest are written to temp files in a folder of its own in tmp/ while they stream in; staging_commit() makes them
 * durable with one syncfs() and only then renames them to their names, so a crash can never leave a
 * half-written file under an object's name (the name is the promise that the content matches).
 * A large (streamed) temp file's writeback is started as soon as it is written (sync_file_range,
 * SYNC_FILE_RANGE_WRITE: no wait), so the disk works while the ingest goes on and the first syncfs() has less
 * left to do; durability still comes from the syncfs() alone. (Not for small files: one call each costs the
 * ingest more than it saves.)
 */
#include "store.h"
#include "base/fsutil.h"
#include "index.h"

#include <errno.h>
#include <linux/fs.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct store {
        char home[PATH_MAX];
        struct index *index;
        int lock_fd;
        unsigned lock_depth;   /* store_lock_* calls not yet matched by store_unlock() */
        int lock_how;          /* LOCK_SH or LOCK_EX while lock_depth > 0 */
        char holder[PATH_MAX]; /* locks/<pid>.<n> while this handle holds the lock, else "" */
};

struct staged {
        char name[24]; /* "obj-<16 hex>" in the staging's folder; empty once renamed */
        struct digest digest;
};

struct staging {
        struct store *store;
        struct staged *v;
        size_t n, cap;
        uint32_t *slots;    /* open-addressing set over v: index + 1, 0 = empty */
        size_t n_slots;     /* power of two, kept above 2 * n */
        char dir[PATH_MAX]; /* tmp/in-<16 hex>: this ingest's temp files */
        int fd;             /* the streamed object being written, -1 when none */
        char cur_tmp[PATH_MAX];
        struct hasher cur_hash;
        uint64_t written;
        bool committed;
};

int store_default_home(char *buf, size_t size)
{
        const char *h = getenv("STACK_HOME"), *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

        if (h && *h)
                return fs_path(buf, size, "%s", h);
        if (x && *x)
                return fs_path(buf, size, "%s/stack", x);
        if (home && *home)
                return fs_path(buf, size, "%s/.local/share/stack", home);
        return -ENOENT;
}

/* Opening a new index switches it to WAL and migrates it; two processes doing that at once can get SQLITE_BUSY
 * without the busy handler being asked, so opening is serialised by a short lock of its own (not the store
 * lock, which writers hold for a whole ingest). */
static int open_index(struct store *s, struct error *err)
{
        char path[PATH_MAX];
        int fd, r;

        r = fs_path(path, sizeof path, "%s/index.lock", s->home);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "store path");
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return error_errno(err, STACK_ESTORE, errno, "cannot open %s", path);
        while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
                ;
        r = fs_path(path, sizeof path, "%s/index.db", s->home);
        if (r == 0)
                r = index_open(path, &s->index, err);
        else
                r = error_errno(err, STACK_ESTORE, r, "store path");
        close(fd); /* releases the lock */
        return r;
}

int store_open(const char *home, struct store **ret, struct error *err)
{
        static const char *const dirs[] = {"objects/sha256", "tmp", "keys/trusted", "locks", NULL};
        char path[PATH_MAX];
        struct store *s;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return error_set(err, STACK_EFAIL, "out of memory");
        s->lock_fd = -1;
        r = home ? fs_path(s->home, sizeof s->home, "%s", home) : store_default_home(s->home, sizeof s->home);
        if (r < 0) {
                r = error_set(err, STACK_ESTORE, "no store location: set STACK_HOME or HOME");
                goto fail;
        }
        for (int i = 0; dirs[i]; i++) {
                r = fs_path(path, sizeof path, "%s/%s", s->home, dirs[i]);
                if (r == 0)
                        r = fs_mkdir_p(path, 0755);
                if (r < 0) {
                        r = error_errno(err, STACK_ESTORE, r, "cannot create %s", path);
                        goto fail;
                }
        }
        r = fs_path(path, sizeof path, "%s/lock", s->home);
        if (r == 0) {
                s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
                r = s->lock_fd < 0 ? -errno : 0;
        }
        if (r < 0) {
                r = error_errno(err, STACK_ESTORE, r, "cannot open %s", path);
                goto fail;
        }
        r = open_index(s, err);
        if (r < 0)
                goto fail;
        *ret = s;
        return 0;
fail:
        store_free(s);
        return r;
}

void store_free(struct store *s)
{
        if (!s)
                return;
        index_free(s->index);
        store_unlock(s);
        if (s->lock_fd >= 0)
                close(s->lock_fd);
        free(s);
}

const char *store_home(const struct store *s)
{
        return s->home;
}

struct index *store_index(struct store *s)
{
        return s->index;
}

/* Who holds the lock: each holder leaves locks/<pid>.<n> saying how and which command, so that a process that
 * waits in vain can name them. A file whose process is gone (killed) names no one. */
static void note_holder(struct store *s, int how)
{
        static unsigned n;
        char cmd[256] = "", line[320];
        size_t len = 0;
        int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

        if (fd >= 0) {
                ssize_t got = read(fd, cmd, sizeof cmd - 1);
                len = got > 0 ? (size_t)got : 0;
                close(fd);
        }
        for (size_t i = 0; i + 1 < len; i++)
                if (!cmd[i])
                        cmd[i] = ' ';
        cmd[len] = 0;
        if (fs_path(s->holder, sizeof s->holder, "%s/locks/%ld.%u", s->home, (long)getpid(), n++) < 0) {
                s->holder[0] = 0;
                return;
        }
        snprintf(line, sizeof line, "%s %s\n", how == LOCK_EX ? "exclusive" : "shared", cmd);
        if (fs_write_atomic(s->holder, line, strlen(line), 0644) < 0)
                s->holder[0] = 0;
}

static void name_holders(const struct store *s, char *buf, size_t size)
{
        char dir[PATH_MAX];
        size_t len = 0;
        DIR *d;
        struct dirent *de;

        buf[0] = 0;
        if (fs_path(dir, sizeof dir, "%s/locks", s->home) < 0 || !(d = opendir(dir)))
                return;
        while ((de = readdir(d)) && len + 64 < size) {
                char path[PATH_MAX], *text = NULL, *nl;
                long pid = strtol(de->d_name, NULL, 10);

                if (pid <= 0 || pid == (long)getpid() || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
                        continue;
                if (fs_path(path, sizeof path, "%s/%s", dir, de->d_name) < 0 ||
                    fs_read_file(path, 512, &text, NULL) < 0)
                        continue;
                if ((nl = strchr(text, '\n')))
                        *nl = 0;
                len += (size_t)snprintf(buf + len, size - len, "%spid %ld, %s", len ? "; " : "", pid, text);
                free(text);
        }
        closedir(d);
        if (len >= size)
                buf[size - 1] = 0;
}

static int lock_wait_s(void)
{
        const char *v = getenv("STACK_LOCK_WAIT");
        char *end;
        long n;

        if (!v || !*v)
                return STORE_LOCK_WAIT_S;
        n = strtol(v, &end, 10);
        return *end || n < 0 || n > 3600 ? STORE_LOCK_WAIT_S : (int)n;
}

static int lock(struct store *s, int how, struct error *err)
{
        int wait_s = lock_wait_s();

        /* Nested: an operation inside another (a fetch inside orch_run, an ingest inside a fetch) keeps the lock
         * its caller holds, so gc never gets in between; only the outermost store_unlock() lets it go. */
        if (s->lock_depth && (s->lock_how == how || s->lock_how == LOCK_EX)) {
                s->lock_depth++;
                return 0;
        }

        /* flock converts a lock this handle holds (taking the same kind again is a no-op, so a fetch then a run in
         * one process never lets gc in between); the holder note is rewritten to say the new kind. */
        for (int waited_ms = 0;; waited_ms += 50) {
                char who[512];
                if (flock(s->lock_fd, how | LOCK_NB) == 0) {
                        if (s->holder[0])
                                unlink(s->holder);
                        note_holder(s, how);
                        s->lock_how = how;
                        s->lock_depth++;
                        return 0;
                }
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return error_errno(err, STACK_ESTORE, errno, "cannot lock the store at %s", s->home);
                if (waited_ms >= wait_s * 1000) {
                        name_holders(s, who, sizeof who);
                        return error_set(err, STACK_ESTORE,
                                         "the store at %s is locked (%s) by another stack process: %s; waited %d s",
                                         s->home, how == LOCK_EX ? "gc needs it alone" : "gc holds it",
                                         who[0] ? who : "holder unknown", wait_s);
                }
                nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
        }
}

int store_lock_shared(struct store *s, struct error *err)
{
        return lock(s, LOCK_SH, err);
}

int store_lock_exclusive(struct store *s, struct error *err)
{
        return lock(s, LOCK_EX, err);
}

void store_unlock(struct store *s)
{
        if (!s->lock_depth || --s->lock_depth)
                return;
        if (s->holder[0]) {
                unlink(s->holder);
                s->holder[0] = 0;
        }
        flock(s->lock_fd, LOCK_UN);
}

int store_object_path(const struct store *s, const struct digest *d, char *buf, size_t size)
{
        char hex[DIGEST_HEX_LEN + 1];

        digest_to_hex(d, hex);
        return fs_path(buf, size, "%s/objects/sha256/%.2s/%s", s->home, hex, hex + 2);
}

bool store_has_object(const struct store *s, const struct digest *d)
{
        char path[PATH_MAX];
        struct stat st;

        return store_object_path(s, d, path, sizeof path) == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int store_object_open(const struct store *s, const struct digest *d)
{
        char path[PATH_MAX];
        int r = store_object_path(s, d, path, sizeof path), fd;

        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        return fd < 0 ? -errno : fd;
}

static uint64_t random_u64(int salt)
{
        uint64_t rnd;

        if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
                rnd = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)salt;
        return rnd;
}

/* tmp/ an Orlov top directory (FS_TOPDIR_FL, ext2/3/4; elsewhere refused, and nothing changes): each ingest's
 * folder, named at random, then goes to a block group of its own (chosen from the name's hash) instead of the
 * one tmp/ is in, where its files' inodes are allocated. On an ext4 without a journal each file created there
 * skips, one by one, every inode of the group freed in the last minute (recently_deleted()): after a mass
 * deletion (gc, or the previous store removed) a fetch of thousands of files spent a third of its CPU time in
 * that scan. */
static void tmp_topdir(const char *tmp)
{
        int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC), flags;

        if (fd < 0)
                return;
        if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && !(flags & FS_TOPDIR_FL)) {
                flags |= FS_TOPDIR_FL;
                (void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
        }
        close(fd);
}

int staging_new(struct store *s, struct staging **ret, struct error *err)
{
        struct staging *st = calloc(1, sizeof *st);
        char tmp[PATH_MAX];
        int r;

        if (!st)
                return error_set(err, STACK_EFAIL, "out of memory");
        st->store = s;
        st->fd = -1;
        r = fs_path(tmp, sizeof tmp, "%s/tmp", s->home);
        if (r == 0)
                tmp_topdir(tmp);
        for (int i = 0; r == 0 && i < 16; i++) {
                r = fs_path(st->dir, sizeof st->dir, "%s/in-%016llx", tmp, (unsigned long long)random_u64(i));
                if (r == 0 && mkdir(st->dir, 0755) == 0)
                        break;
                if (r == 0)
                        r = errno == EEXIST && i < 15 ? 0 : -errno;
        }
        if (r < 0) {
                free(st);
                return error_errno(err, STACK_ESTORE, r, "cannot create a temp folder in %s", tmp);
        }
        *ret = st;
        return 0;
}

static int temp_open(struct staging *st, char *path, size_t size, struct error *err)
{
        for (int i = 0; i < 16; i++) {
                int fd, r;

                r = fs_path(path, size, "%s/obj-%016llx", st->dir, (unsigned long long)random_u64(i));
                if (r < 0)
                        return error_errno(err, STACK_ESTORE, r, "temp path");
                fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
                if (fd >= 0)
                        return fd;
                if (errno != EEXIST)
                        return error_errno(err, STACK_ESTORE, errno, "cannot create %s", path);
        }
        return error_set(err, STACK_ESTORE, "cannot create a temp file in %s", st->dir);
}

static size_t slot_of(const struct digest *d, size_t n_slots)
{
        uint64_t h;

        memcpy(&h, d->b, sizeof h); /* a SHA-256 is already uniformly spread */
        return (size_t)h & (n_slots - 1);
}

static bool staged_has(const struct staging *st, const struct digest *d)
{
        if (!st->n_slots)
                return false;
        for (size_t i = slot_of(d, st->n_slots);; i = (i + 1) & (st->n_slots - 1)) {
                if (!st->slots[i])
                        return false;
                if (digest_equal(&st->v[st->slots[i] - 1].digest, d))
                        return true;
        }
}

static int slots_grow(struct staging *st)
{
        size_t n_slots = st->n_slots ? st->n_slots * 2 : 256;
        uint32_t *slots = calloc(n_slots, sizeof *slots);

        if (!slots)
                return -ENOMEM;
        for (size_t k = 0; k < st->n; k++) {
                size_t i = slot_of(&st->v[k].digest, n_slots);
                while (slots[i])
                        i = (i + 1) & (n_slots - 1);
                slots[i] = (uint32_t)(k + 1);
        }
        free(st->slots);
        st->slots = slots;
        st->n_slots = n_slots;
        return 0;
}

static int staged_push(struct staging *st, const char *tmp, const struct digest *d, struct error *err)
{
        const char *base = strrchr(tmp, '/');

        if (st->n == st->cap) {
                size_t cap = st->cap ? st->cap * 2 : 64;
                struct staged *v = realloc(st->v, cap * sizeof *v);
                if (!v)
                        return error_set(err, STACK_EFAIL, "out of memory");
                st->v = v;
                st->cap = cap;
        }
        snprintf(st->v[st->n].name, sizeof st->v[st->n].name, "%s", base ? base + 1 : tmp);
        st->v[st->n].digest = *d;
        st->n++;
        if (2 * st->n >= st->n_slots) {
                if (slots_grow(st) < 0) /* rebuilds the set with the new entry in it */
                        return error_set(err, STACK_EFAIL, "out of memory");
        } else {
                size_t i = slot_of(d, st->n_slots);
                while (st->slots[i])
                        i = (i + 1) & (st->n_slots - 1);
                st->slots[i] = (uint32_t)st->n;
        }
        return 0;
}

/* Start writing the file's dirty pages back now, without waiting (an optimisation only: errors are left to
 * syncfs() in staging_commit). */
static void start_writeback(int fd)
{
        (void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

int staging_put_buffer(struct staging *st, const void *data, size_t len, struct digest *ret, struct error *err)
{
        char tmp[PATH_MAX];
        struct digest d;
        int fd, r;

        digest_buffer(data, len, &d);
        if (store_has_object(st->store, &d) || staged_has(st, &d)) {
                *ret = d;
                return 0;
        }
        fd = temp_open(st, tmp, sizeof tmp, err);
        if (fd < 0)
                return fd;
        r = fs_write_all(fd, data, len);
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0)
                r = staged_push(st, tmp, &d, err);
        else
                r = error_errno(err, STACK_ESTORE, r, "cannot write %s", tmp);
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        st->written += len;
        *ret = d;
        return 0;
}

int staging_begin(struct staging *st, struct error *err)
{
        int fd;

        if (st->fd >= 0)
                return error_set(err, STACK_EFAIL, "staging_begin: an object is already open");
        fd = temp_open(st, st->cur_tmp, sizeof st->cur_tmp, err);
        if (fd < 0)
                return fd;
        st->fd = fd;
        digest_init(&st->cur_hash);
        return 0;
}

int staging_write(struct staging *st, const void *data, size_t len, struct error *err)
{
        int r;

        if (st->fd < 0)
                return error_set(err, STACK_EFAIL, "staging_write: no object is open");
        digest_update(&st->cur_hash, data, len);
        r = fs_write_all(st->fd, data, len);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot write %s", st->cur_tmp);
        st->written += len;
        return 0;
}

static int staged_tmp_path(const struct staging *st, size_t i, char *buf, size_t size)
{
        return fs_path(buf, size, "%s/%s", st->dir, st->v[i].name);
}

static void staging_abort_current(struct staging *st)
{
        if (st->fd < 0)
                return;
        close(st->fd);
        unlink(st->cur_tmp);
        st->fd = -1;
}

int staging_end(struct staging *st, struct digest *ret, struct error *err)
{
        struct digest d;
        int r = 0;

        if (st->fd < 0)
                return error_set(err, STACK_EFAIL, "staging_end: no object is open");
        digest_final(&st->cur_hash, &d);
        start_writeback(st->fd);
        if (close(st->fd) < 0)
                r = error_errno(err, STACK_ESTORE, errno, "cannot write %s", st->cur_tmp);
        st->fd = -1;
        if (r == 0 && (store_has_object(st->store, &d) || staged_has(st, &d))) {
                unlink(st->cur_tmp); /* dedup: the store (or this bundle) has it already */
        } else if (r == 0) {
                r = staged_push(st, st->cur_tmp, &d, err);
        }
        if (r < 0) {
                unlink(st->cur_tmp);
                return r;
        }
        *ret = d;
        return 0;
}

uint64_t staging_bytes_written(const struct staging *st)
{
        return st->written;
}

int staging_commit(struct staging *st, struct error *err)
{
        char path[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX], hex[DIGEST_HEX_LEN + 1];
        int fd, r;

        if (st->fd >= 0)
                return error_set(err, STACK_EFAIL, "staging_commit: an object is still open");
        if (st->n == 0) {
                st->committed = true;
                return 0;
        }
        /* One syncfs for the whole bundle instead of an fsync per object: the contents are durable before any
         * of them gets its name. */
        fd = open(st->store->home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_errno(err, STACK_ESTORE, errno, "cannot open %s", st->store->home);
        r = syncfs(fd) < 0 ? -errno : 0;
        if (r < 0) {
                close(fd);
                return error_errno(err, STACK_ESTORE, r, "cannot sync %s", st->store->home);
        }
        for (size_t i = 0; i < st->n; i++) {
                digest_to_hex(&st->v[i].digest, hex);
                r = fs_path(dir, sizeof dir, "%s/objects/sha256/%.2s", st->store->home, hex);
                if (r == 0)
                        r = mkdir(dir, 0755) < 0 && errno != EEXIST ? -errno : 0;
                if (r == 0)
                        r = store_object_path(st->store, &st->v[i].digest, path, sizeof path);
                if (r == 0)
                        r = staged_tmp_path(st, i, tmp, sizeof tmp);
                if (r == 0 && rename(tmp, path) < 0)
                        r = -errno;
                if (r < 0) {
                        close(fd);
                        return error_errno(err, STACK_ESTORE, r, "cannot store object %s", hex);
                }
                st->v[i].name[0] = 0;
        }
        /* And the names are durable before the index can point at them. */
        r = syncfs(fd) < 0 ? -errno : 0;
        close(fd);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot sync %s", st->store->home);
        st->committed = true;
        return 0;
}

void staging_free(struct staging *st)
{
        if (!st)
                return;
        staging_abort_current(st);
        for (size_t i = 0; i < st->n; i++) {
                char tmp[PATH_MAX];
                if (st->v[i].name[0] && staged_tmp_path(st, i, tmp, sizeof tmp) == 0)
                        unlink(tmp);
        }
        rmdir(st->dir);
        free(st->v);
        free(st->slots);
        free(st);
}
