/* pack.c - `stack pack`: a stack folder into a reproducible pax tar + zstd bundle.
 *
 * Reproducible means the bytes depend only on paths, contents, link targets and exec bits: entries are
 * built by hand from lstat (never archive_read_disk, which would bring owners, times, xattrs and ACLs),
 * sorted bytewise, and checked by the one rule import applies too (bundle.h: entry types and modes, then
 * tree.c's path and link rules, then the files stack.yaml names), so pack never writes a bundle import would
 * refuse.
 */
#include "pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "base/fsutil.h"
#include "tree.h"

struct packer {
        const char *dir;  /* as given */
        const char *what; /* "pack DIR", for messages */
        int root_fd;      /* DIR */
        struct tree tree; /* what goes into the bundle, sorted by tree_finalize() */
        /* The output and its temp file are left out when they lie inside DIR. */
        dev_t out_dir_dev;
        ino_t out_dir_ino;
        const char *out_base;
        const char *tmp_base;
        struct pack_writer *w; /* the output */
};

int pack_fail(const char *what, struct error *err, int code, const char *fmt, ...)
{
        char msg[sizeof err->msg];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        return error_set(err, code, "cannot %s: %s", what, msg);
}

/* Bytes import refuses in a path or link target: control characters and backslashes. */
static bool has_bad_char(const char *s)
{
        for (const unsigned char *c = (const unsigned char *)s; *c; c++)
                if (*c < 0x20 || *c == 0x7f || *c == '\\')
                        return true;
        return false;
}

/* A copy of s fit for a one-line message: control characters become '?'. out: size bytes. */
static const char *printable(const char *s, char *out, size_t size)
{
        size_t i;

        for (i = 0; s[i] && i + 1 < size; i++)
                out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
        out[i] = 0;
        return out;
}

/* Read stack.yaml from dir_fd, bounded by MANIFEST_MAX_SIZE. */
static int read_manifest_at(int dir_fd, const char *dir, struct manifest **ret, manifest_warn_fn warn, void *warn_ctx,
                            struct error *err)
{
        struct error local = ERROR_INIT;
        struct stat st;
        char *buf = NULL;
        size_t len = 0;
        int fd = -1, r;

        fd = openat(dir_fd, "stack.yaml", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return error_set(err, STACK_EREJECT, "cannot pack %s: it has no stack.yaml", dir);
                if (errno == ELOOP)
                        return error_set(err, STACK_EREJECT, "cannot pack %s: stack.yaml is a symlink, not a file",
                                         dir);
                return error_errno(err, STACK_EFAIL, errno, "cannot pack %s: cannot open stack.yaml", dir);
        }
        if (fstat(fd, &st) < 0) {
                r = error_errno(err, STACK_EFAIL, errno, "cannot pack %s: cannot stat stack.yaml", dir);
                goto fail;
        }
        if (!S_ISREG(st.st_mode)) {
                r = error_set(err, STACK_EREJECT, "cannot pack %s: stack.yaml is not a regular file", dir);
                goto fail;
        }
        if (st.st_size > MANIFEST_MAX_SIZE) {
                r = error_set(err, STACK_EREJECT, "cannot pack %s: stack.yaml is larger than %d bytes", dir,
                              MANIFEST_MAX_SIZE);
                goto fail;
        }
        buf = malloc(MANIFEST_MAX_SIZE + 1);
        if (!buf) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        for (;;) {
                ssize_t n = read(fd, buf + len, MANIFEST_MAX_SIZE + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = error_errno(err, STACK_EFAIL, errno, "cannot pack %s: cannot read stack.yaml", dir);
                        goto fail;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > MANIFEST_MAX_SIZE) {
                        r = error_set(err, STACK_EREJECT, "cannot pack %s: stack.yaml is larger than %d bytes", dir,
                                      MANIFEST_MAX_SIZE);
                        goto fail;
                }
        }
        r = manifest_parse(buf, len, ret, warn, warn_ctx, &local);
        if (r < 0)
                r = error_set(err, local.code ? local.code : STACK_EREJECT, "cannot pack %s: %s", dir,
                              local.code ? local.msg : "stack.yaml is invalid");
fail:
        free(buf);
        close(fd);
        return r;
}

int pack_read_manifest(const char *dir, struct manifest **ret, manifest_warn_fn warn, void *warn_ctx, struct error *err)
{
        int fd, r;

        if (!dir || !ret)
                return error_set(err, STACK_EFAIL, "pack_read_manifest: invalid arguments");
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_errno(err, STACK_EFAIL, errno, "cannot pack %s", dir);
        r = read_manifest_at(fd, dir, ret, warn, warn_ctx, err);
        close(fd);
        return r;
}

/* The entry as lstat sees it, through the rule import applies (bundle_add_entry). Only what needs the disk is
 * checked here: the name's bytes (so the message can show it) and a link target too long to read whole. */
static int add_entry(struct packer *p, int dir_fd, const char *name, const char *path, struct error *err)
{
        struct error local = ERROR_INIT;
        char target[TREE_MAX_PATH + 2], shown[256];
        struct stat st;
        ssize_t n;
        int r;

        if (has_bad_char(name))
                return pack_fail(p->what, err, STACK_EREJECT, "'%s' has a control character or backslash in its name",
                                 printable(path, shown, sizeof shown));
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return pack_fail(p->what, err, STACK_EFAIL, "cannot stat '%s': %s", path, strerror(errno));
        target[0] = 0;
        if (S_ISLNK(st.st_mode)) {
                n = readlinkat(dir_fd, name, target, sizeof target - 1);
                if (n < 0)
                        return pack_fail(p->what, err, STACK_EFAIL, "cannot read symlink '%s': %s", path,
                                         strerror(errno));
                if ((size_t)n > TREE_MAX_PATH)
                        return pack_fail(p->what, err, STACK_EREJECT, "symlink '%s' has a target longer than %d bytes",
                                         path, TREE_MAX_PATH);
                target[n] = 0;
        }
        r = bundle_add_entry(&p->tree, path, st.st_mode, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0, NULL, target,
                             &local);
        if (r < 0)
                return pack_fail(p->what, err, local.code ? local.code : STACK_EREJECT, "%s",
                                 local.code ? local.msg : "entry refused");
        return 0;
}

/* Add the entries of one directory (path "" is DIR itself). Subdirectories are added as entries and
 * listed later by walk(), so no directory stays open while another is read. */
static int list_dir(struct packer *p, const char *rel, struct error *err)
{
        char path[TREE_MAX_PATH + 2], shown[201];
        struct dirent *de;
        struct stat st;
        bool out_here;
        DIR *d = NULL;
        int fd, r = 0;

        fd = rel[0] ? openat(p->root_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    : openat(p->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return pack_fail(p->what, err, STACK_EFAIL, "cannot open directory '%s': %s", rel[0] ? rel : ".",
                                 strerror(errno));
        if (fstat(fd, &st) < 0) {
                r = pack_fail(p->what, err, STACK_EFAIL, "cannot stat directory '%s': %s", rel[0] ? rel : ".",
                              strerror(errno));
                close(fd);
                return r;
        }
        out_here = st.st_dev == p->out_dir_dev && st.st_ino == p->out_dir_ino;
        d = fdopendir(fd);
        if (!d) {
                r = pack_fail(p->what, err, STACK_EFAIL, "cannot read directory '%s': %s", rel[0] ? rel : ".",
                              strerror(errno));
                close(fd);
                return r;
        }
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno)
                                r = pack_fail(p->what, err, STACK_EFAIL, "cannot read directory '%s': %s",
                                              rel[0] ? rel : ".", strerror(errno));
                        break;
                }
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (out_here && (!strcmp(de->d_name, p->out_base) || !strcmp(de->d_name, p->tmp_base)))
                        continue;
                if (fs_path(path, sizeof path, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) < 0 ||
                    strlen(path) > TREE_MAX_PATH) {
                        r = pack_fail(p->what, err, STACK_EREJECT, "'%.200s/%s...' has a path longer than %d bytes",
                                      rel, printable(de->d_name, shown, sizeof shown), TREE_MAX_PATH);
                        break;
                }
                r = add_entry(p, dirfd(d), de->d_name, path, err);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

/* Breadth-first over the tree as it grows: every directory entry added is listed in turn. */
static int walk(struct packer *p, struct error *err)
{
        char rel[TREE_MAX_PATH + 1];
        int r;

        r = list_dir(p, "", err);
        for (size_t i = 0; r == 0 && i < p->tree.n; i++) {
                if (p->tree.v[i].type != ENTRY_DIR)
                        continue;
                /* list_dir() grows the tree, which may move its entries: copy the path first. */
                snprintf(rel, sizeof rel, "%s", p->tree.v[i].path);
                r = list_dir(p, rel, err);
        }
        return r;
}

int pack_check_tree(const char *what, struct tree *t, const struct manifest *m, struct error *err)
{
        struct error local = ERROR_INIT;
        int r;

        r = tree_finalize(t, &local);
        if (r == 0 && m)
                r = bundle_check_content(t, m, NULL, &local);
        if (r < 0)
                return pack_fail(what, err, local.code ? local.code : STACK_EREJECT, "%s",
                                 local.code ? local.msg : "tree refused");
        return 0;
}

/* ---- the writer (pack_writer_*, pack.h): pax tar + zstd to a temp file, hashed as it goes ---- */

struct pack_writer {
        const char *what; /* "pack DIR", "export SLUG@VER": "cannot <what>: ..." */
        char out_dir[PATH_MAX];
        struct fs_atomic out;
        struct archive *a;
        struct archive_entry *ae;
        locale_t c_locale;
        struct hasher hasher; /* every compressed byte goes to out.fd and through the hasher */
        uint64_t written;
};

static int writer_error(struct pack_writer *w, struct error *err, const char *path)
{
        const char *msg = archive_error_string(w->a);

        if (path)
                return pack_fail(w->what, err, STACK_EFAIL, "writing '%s': %s", path, msg ? msg : "archive error");
        return pack_fail(w->what, err, STACK_EFAIL, "writing the bundle: %s", msg ? msg : "archive error");
}

static la_ssize_t write_cb(struct archive *a, void *ctx, const void *buf, size_t len)
{
        struct pack_writer *w = ctx;
        int r;

        r = fs_write_all(w->out.fd, buf, len);
        if (r < 0) {
                archive_set_error(a, -r, "write failed: %s", strerror(-r));
                return -1;
        }
        digest_update(&w->hasher, buf, len);
        w->written += len;
        return (la_ssize_t)len;
}

int pack_writer_open(const char *out_path, const char *what, struct pack_writer **ret, struct error *err)
{
        struct pack_writer *w;
        const char *slash;
        int r;

        if (!out_path || !*out_path || !what || !ret)
                return error_set(err, STACK_EFAIL, "pack_writer_open: invalid arguments");
        slash = strrchr(out_path, '/');
        if (slash && !slash[1])
                return error_set(err, STACK_EFAIL, "output %s names a directory, not a file", out_path);
        w = calloc(1, sizeof *w);
        if (!w)
                return error_set(err, STACK_EFAIL, "out of memory");
        w->what = what;
        w->out = (struct fs_atomic){.fd = -1, .tmp = ""};
        if (!slash)
                r = fs_path(w->out_dir, sizeof w->out_dir, ".");
        else if (slash == out_path)
                r = fs_path(w->out_dir, sizeof w->out_dir, "/");
        else
                r = fs_path(w->out_dir, sizeof w->out_dir, "%.*s", (int)(slash - out_path), out_path);
        if (r < 0) {
                r = error_set(err, STACK_EFAIL, "output path %s is too long", out_path);
                goto fail;
        }
        /* mode 0666 less the umask, as the output would have if written directly */
        r = fs_atomic_open(&w->out, out_path, 0666);
        if (r < 0) {
                r = r == -ENAMETOOLONG
                            ? error_set(err, STACK_EFAIL, "output path %s is too long", out_path)
                            : error_errno(err, STACK_EFAIL, r, "cannot create a temp file in %s", w->out_dir);
                goto fail;
        }
        /* libarchive converts names through the current locale: pin it to "C" while it writes headers, so the
         * bytes do not depend on the caller's setlocale(). */
        w->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        if (w->c_locale == (locale_t)0) {
                r = error_errno(err, STACK_EFAIL, errno, "cannot set up the C locale");
                goto fail;
        }
        w->a = archive_write_new();
        w->ae = archive_entry_new();
        if (!w->a || !w->ae) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        digest_init(&w->hasher);
        /* No padding after the zstd frame: the last block ends where the compressed data does. */
        if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
            archive_write_add_filter_zstd(w->a) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
            archive_write_open(w->a, w, NULL, write_cb, NULL) != ARCHIVE_OK) {
                r = writer_error(w, err, NULL);
                goto fail;
        }
        *ret = w;
        return 0;
fail:
        pack_writer_free(w);
        return r;
}

const char *pack_writer_tmp(const struct pack_writer *w)
{
        return w->out.tmp;
}

const char *pack_writer_dir(const struct pack_writer *w)
{
        return w->out_dir;
}

int pack_writer_add(struct pack_writer *w, const struct tree_entry *e, uint64_t size, struct error *err)
{
        struct archive_entry *ae = w->ae;
        locale_t old_locale;
        int ar;

        archive_entry_clear(ae);
        archive_entry_set_pathname(ae, e->path);
        archive_entry_set_uid(ae, 0);
        archive_entry_set_gid(ae, 0);
        archive_entry_set_mtime(ae, 0, 0);
        switch (e->type) {
        case ENTRY_FILE:
                archive_entry_set_filetype(ae, AE_IFREG);
                archive_entry_set_perm(ae, e->mode);
                archive_entry_set_size(ae, (la_int64_t)size);
                break;
        case ENTRY_DIR:
                archive_entry_set_filetype(ae, AE_IFDIR);
                archive_entry_set_perm(ae, 0755);
                archive_entry_set_size(ae, 0);
                break;
        default:
                archive_entry_set_filetype(ae, AE_IFLNK);
                archive_entry_set_perm(ae, 0777);
                archive_entry_set_size(ae, 0);
                archive_entry_set_symlink(ae, e->target);
                break;
        }
        /* ARCHIVE_WARN: a name that is not ASCII could not be converted from the C locale; libarchive then
         * writes its bytes as they are (a pax header with hdrcharset=BINARY), which import reads back. */
        old_locale = uselocale(w->c_locale);
        ar = archive_write_header(w->a, ae);
        uselocale(old_locale);
        if (ar < ARCHIVE_WARN)
                return writer_error(w, err, e->path);
        return 0;
}

int pack_writer_data(struct pack_writer *w, const char *path, const void *buf, size_t n, struct error *err)
{
        if (archive_write_data(w->a, buf, n) != (la_ssize_t)n)
                return writer_error(w, err, path);
        return 0;
}

int pack_writer_commit(struct pack_writer *w, const char *out_path, uint64_t *ret_size, struct digest *ret_sha256,
                       struct error *err)
{
        locale_t old_locale = uselocale(w->c_locale);
        int ar = archive_write_close(w->a), r;

        uselocale(old_locale);
        if (ar != ARCHIVE_OK)
                return writer_error(w, err, NULL);
        r = fs_atomic_commit(&w->out);
        if (r < 0)
                return error_errno(err, STACK_EFAIL, r, "cannot write %s", out_path);
        *ret_size = w->written;
        digest_final(&w->hasher, ret_sha256);
        return 0;
}

void pack_writer_free(struct pack_writer *w)
{
        if (!w)
                return;
        archive_entry_free(w->ae);
        if (w->a)
                archive_write_free(w->a);
        fs_atomic_abort(&w->out);
        if (w->c_locale != (locale_t)0)
                freelocale(w->c_locale);
        free(w);
}

/* ---- pack_dir(): a directory through the writer ---- */

/* Copy one file's content, exactly the size fstat gave when the header was written. */
static int write_file_data(struct packer *p, int fd, const char *path, uint64_t size, char *buf, struct error *err)
{
        uint64_t left = size;
        ssize_t n;
        int r;

        while (left > 0) {
                n = read(fd, buf, left < PACK_CHUNK ? (size_t)left : PACK_CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return pack_fail(p->what, err, STACK_EFAIL, "cannot read '%s': %s", path, strerror(errno));
                if (n == 0)
                        return pack_fail(p->what, err, STACK_EFAIL, "'%s' shrank while it was being packed", path);
                r = pack_writer_data(p->w, path, buf, (size_t)n, err);
                if (r < 0)
                        return r;
                left -= (uint64_t)n;
        }
        do
                n = read(fd, buf, 1);
        while (n < 0 && errno == EINTR);
        if (n > 0)
                return pack_fail(p->what, err, STACK_EFAIL, "'%s' grew while it was being packed", path);
        return 0;
}

static int write_entry(struct packer *p, const struct tree_entry *e, char *buf, struct error *err)
{
        struct stat st = {0};
        int fd = -1, r;

        if (e->type == ENTRY_FILE) {
                fd = openat(p->root_fd, e->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
                if (fd < 0)
                        return pack_fail(p->what, err, STACK_EFAIL, "cannot open '%s': %s", e->path, strerror(errno));
                if (fstat(fd, &st) < 0) {
                        r = pack_fail(p->what, err, STACK_EFAIL, "cannot stat '%s': %s", e->path, strerror(errno));
                        goto fail;
                }
                if (!S_ISREG(st.st_mode)) {
                        r = pack_fail(p->what, err, STACK_EFAIL, "'%s' changed while it was being packed", e->path);
                        goto fail;
                }
        }
        r = pack_writer_add(p->w, e, (uint64_t)st.st_size, err);
        if (r == 0 && fd >= 0)
                r = write_file_data(p, fd, e->path, (uint64_t)st.st_size, buf, err);
fail:
        if (fd >= 0)
                close(fd);
        return r;
}

static int write_archive(struct packer *p, struct error *err)
{
        char *buf = malloc(PACK_CHUNK);
        int r = 0;

        if (!buf)
                return error_set(err, STACK_EFAIL, "out of memory");
        for (size_t i = 0; r == 0 && i < p->tree.n; i++)
                r = write_entry(p, &p->tree.v[i], buf, err);
        free(buf);
        return r;
}

void pack_result_release(struct pack_result *res)
{
        if (!res)
                return;
        free(res->slug);
        free(res->version);
        memset(res, 0, sizeof *res);
}

int pack_dir(const char *dir, const char *out_path, struct pack_result *ret, struct error *err)
{
        struct packer p = {.dir = dir, .root_fd = -1};
        struct manifest *m = NULL;
        struct pack_result res = {0};
        char what[PATH_MAX + 8];
        const char *slash;
        struct stat st;
        int r;

        if (!dir || !out_path || !*out_path || !ret)
                return error_set(err, STACK_EFAIL, "pack_dir: invalid arguments");
        tree_init(&p.tree);
        snprintf(what, sizeof what, "pack %s", dir);
        p.what = what;
        r = pack_writer_open(out_path, what, &p.w, err);
        if (r < 0)
                goto fail;
        slash = strrchr(out_path, '/');
        p.out_base = slash ? slash + 1 : out_path;
        p.tmp_base = strrchr(pack_writer_tmp(p.w), '/') + 1;

        p.root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (p.root_fd < 0) {
                r = error_errno(err, STACK_EFAIL, errno, "cannot pack %s", dir);
                goto fail;
        }
        r = read_manifest_at(p.root_fd, dir, &m, NULL, NULL, err);
        if (r < 0)
                goto fail;
        res.slug = strdup(m->slug);
        res.version = strdup(m->version);
        if (!res.slug || !res.version) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        if (stat(pack_writer_dir(p.w), &st) < 0) {
                r = error_errno(err, STACK_EFAIL, errno, "cannot stat %s", pack_writer_dir(p.w));
                goto fail;
        }
        p.out_dir_dev = st.st_dev;
        p.out_dir_ino = st.st_ino;

        r = walk(&p, err);
        if (r < 0)
                goto fail;
        r = pack_check_tree(p.what, &p.tree, m, err);
        if (r < 0)
                goto fail;
        r = write_archive(&p, err);
        if (r < 0)
                goto fail;
        r = pack_writer_commit(p.w, out_path, &res.size, &res.sha256, err);
        if (r < 0)
                goto fail;

        res.n_entries = p.tree.n;
        *ret = res;
        res = (struct pack_result){0};
        r = 0;
fail:
        pack_result_release(&res);
        pack_writer_free(p.w);
        if (p.root_fd >= 0)
                close(p.root_fd);
        tree_release(&p.tree);
        manifest_free(m);
        return r;
}

/* bundle_read_manifest(): the file read once, every byte through the hasher (as ingest does). */
struct bundle_reader {
        int fd;
        struct hasher hasher;
        uint64_t size;
        unsigned char *buf; /* PACK_CHUNK bytes */
        int read_errno;     /* errno of a failed read, 0 if none */
};

static la_ssize_t bundle_read_cb(struct archive *a, void *ctx, const void **buf)
{
        struct bundle_reader *br = ctx;
        ssize_t n;

        do
                n = read(br->fd, br->buf, PACK_CHUNK);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                br->read_errno = errno;
                archive_set_error(a, errno, "read failed");
                return -1;
        }
        digest_update(&br->hasher, br->buf, (size_t)n);
        br->size += (uint64_t)n;
        *buf = br->buf;
        return n;
}

/* A libarchive failure: our read's errno when that is what failed, else the archive's own message. */
static int bundle_fail(struct bundle_reader *br, struct archive *a, const char *path, const char *what,
                       struct error *err)
{
        const char *msg = archive_error_string(a);

        if (br->read_errno)
                return error_errno(err, STACK_EFAIL, br->read_errno, "cannot read %s", path);
        return error_set(err, STACK_EREJECT, "bundle %s %s (%s)", path, what, msg ? msg : "unknown error");
}

/* Copy stack.yaml's bytes out of the archive, bounded by MANIFEST_MAX_SIZE. */
static int bundle_read_yaml(struct bundle_reader *br, struct archive *a, struct archive_entry *e, const char *path,
                            char **ret, size_t *ret_len, struct error *err)
{
        char *buf;
        size_t len = 0;

        if (archive_entry_hardlink(e) || archive_entry_filetype(e) != AE_IFREG)
                return error_set(err, STACK_EREJECT, "bundle %s: stack.yaml is not a regular file", path);
        if (archive_entry_size_is_set(e) && archive_entry_size(e) > MANIFEST_MAX_SIZE)
                return error_set(err, STACK_EREJECT, "bundle %s: stack.yaml is larger than %d bytes", path,
                                 MANIFEST_MAX_SIZE);
        buf = malloc(MANIFEST_MAX_SIZE + 1);
        if (!buf)
                return error_set(err, STACK_EFAIL, "out of memory");
        for (;;) {
                la_ssize_t n = archive_read_data(a, buf + len, MANIFEST_MAX_SIZE + 1 - len);

                if (n < 0) {
                        free(buf);
                        return bundle_fail(br, a, path, "is corrupt at stack.yaml", err);
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > MANIFEST_MAX_SIZE) {
                        free(buf);
                        return error_set(err, STACK_EREJECT, "bundle %s: stack.yaml is larger than %d bytes", path,
                                         MANIFEST_MAX_SIZE);
                }
        }
        buf[len] = 0;
        *ret = buf;
        *ret_len = len;
        return 0;
}

int bundle_read_manifest(const char *path, struct manifest **ret_m, struct digest *ret_sha256, uint64_t *ret_size,
                         struct error *err)
{
        struct bundle_reader br = {.fd = -1};
        struct error local = ERROR_INIT;
        struct archive *a = NULL;
        struct archive_entry *e;
        struct manifest *m = NULL;
        struct digest d;
        struct stat st;
        char norm[TREE_MAX_PATH + 1], *yaml = NULL;
        size_t yaml_len = 0;
        bool first = true;
        int r, ar;

        if (!path || !ret_m)
                return error_set(err, STACK_EFAIL, "bundle_read_manifest: invalid arguments");
        br.fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (br.fd < 0)
                return error_errno(err, STACK_EFAIL, errno, "cannot open %s", path);
        if (fstat(br.fd, &st) < 0) {
                r = error_errno(err, STACK_EFAIL, errno, "cannot stat %s", path);
                goto fail;
        }
        if (!S_ISREG(st.st_mode)) {
                r = error_set(err, STACK_EFAIL, "%s is not a regular file", path);
                goto fail;
        }
        br.buf = malloc(PACK_CHUNK);
        a = archive_read_new();
        if (!br.buf || !a) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        digest_init(&br.hasher);
        if (bundle_archive_open(a, &br, bundle_read_cb) != ARCHIVE_OK) {
                r = bundle_fail(&br, a, path, "is not a zstd or gzip compressed tar archive", err);
                goto fail;
        }
        while ((ar = bundle_archive_next(a, &first, &e)) > 0) {
                /* Paths that do not normalise are not stack.yaml; import refuses them, catalog build skips them. */
                if (tree_path_normalize(archive_entry_pathname(e), norm, &local) < 0) {
                        error_clear(&local);
                        continue;
                }
                if (strcmp(norm, "stack.yaml"))
                        continue;
                if (yaml) {
                        r = error_set(err, STACK_EREJECT, "bundle %s has two stack.yaml entries", path);
                        goto fail;
                }
                r = bundle_read_yaml(&br, a, e, path, &yaml, &yaml_len, err);
                if (r < 0)
                        goto fail;
        }
        if (ar == BUNDLE_UNCOMPRESSED) {
                r = error_set(err, STACK_EREJECT,
                              "bundle %s is an uncompressed tar: a bundle is compressed with zstd or gzip", path);
                goto fail;
        }
        if (ar < 0) {
                r = bundle_fail(
                        &br, a, path,
                        ar == BUNDLE_NOT_ARCHIVE ? "is not a zstd or gzip compressed tar archive" : "is corrupt", err);
                goto fail;
        }
        /* The digest covers the whole file, including bytes after the end of the tar the reader did not need. */
        for (;;) {
                const void *buf;
                la_ssize_t n = bundle_read_cb(a, &br, &buf);

                if (n < 0) {
                        r = error_errno(err, STACK_EFAIL, br.read_errno, "cannot read %s", path);
                        goto fail;
                }
                if (n == 0)
                        break;
        }
        digest_final(&br.hasher, &d);
        if (!yaml) {
                r = error_set(err, STACK_EREJECT, "bundle %s has no stack.yaml", path);
                goto fail;
        }
        r = manifest_parse(yaml, yaml_len, &m, NULL, NULL, &local);
        if (r < 0) {
                r = error_set(err, local.code ? local.code : STACK_EREJECT, "bundle %s: %s", path,
                              local.code ? local.msg : "stack.yaml is invalid");
                goto fail;
        }
        *ret_m = m;
        m = NULL;
        if (ret_sha256)
                *ret_sha256 = d;
        if (ret_size)
                *ret_size = br.size;
        r = 0;
fail:
        manifest_free(m);
        free(yaml);
        if (a)
                archive_read_free(a);
        free(br.buf);
        close(br.fd);
        return r;
}
