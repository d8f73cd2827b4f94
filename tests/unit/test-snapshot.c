/* test-snapshot.c - the snapshot module (run/snapshot.h) on a data dir: the table (rows, order, ids, forget, gc
 * roots), what a second snapshot adds to the store, a restore that brings back exactly the snapshot (added files
 * removed, changed ones restored, modes and symlinks), and a snapshot of another stack refused. The stacks have
 * no compose project on the Engine, so no volume is involved (tests/e2e/upgrade.sh covers volumes); the Engine
 * is only asked which volumes the project has. The volume archives the Engines give (Docker's "vol/...",
 * Podman's "/..." and "./..." layouts) are written here with libarchive and read as snapshot_take reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "run/snapshot.h"
#include "base/fsutil.h"
#include "store/store.h"
#include "testlib.h"

static void put(const char *path, const char *text)
{
        assert_int_equal(fs_write_atomic(path, text, strlen(text), 0644), 0);
}

static char *get(const char *path)
{
        char *t = NULL;
        size_t n = 0;

        return fs_read_file(path, 1 << 20, &t, &n) == 0 ? t : NULL;
}

static int count_roots(void *ctx, const struct digest *tree, struct error *err)
{
        (void)tree;
        (void)err;
        (*(int *)ctx)++;
        return 0;
}

static void table_rows_ids_and_roots(void **state)
{
        const char *home = tl_tmpdir();
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct snapshot_row a = {0}, b = {0}, c = {0}, g = {0}, *v = NULL;
        size_t n = 0;
        char dir[1024], f[4096], big[200000];
        unsigned forgot = 0;
        uint64_t kept = 0;
        int roots = 0;

        (void)state;
        assert_int_equal(store_open(home, &s, &err), 0);
        snprintf(dir, sizeof dir, "%s/data/upunit", home);
        assert_int_equal(fs_mkdir_p(dir, 0755), 0);
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = 0;
        snprintf(f, sizeof f, "%s/big", dir);
        put(f, big);
        snprintf(f, sizeof f, "%s/small", dir);
        put(f, "one");
        assert_int_equal(snapshot_take(s, "upunit", "1.0", "manual", NULL, &a, &err), 0);
        assert_string_equal(a.slug, "upunit");
        assert_string_equal(a.version, "1.0");
        assert_string_equal(a.reason, "manual");
        assert_int_equal(a.files, 2);
        assert_int_equal(a.size, sizeof big - 1 + 3);
        assert_true(a.added >= a.size); /* everything was new (plus the meta file) */
        assert_string_equal(a.volumes, "");
        /* one small change: only it (and the meta file) is new */
        put(f, "two");
        assert_int_equal(snapshot_take(s, "upunit", "1.0", "upgrade", NULL, &b, &err), 0);
        assert_true(b.added < 2000);
        assert_false(digest_equal(&a.tree, &b.tree));
        assert_int_equal(snapshot_take(s, "upunit", "2.0", "rollback", NULL, &c, &err), 0);
        /* unchanged data, same tree (times and owners are the same too) */
        assert_true(digest_equal(&b.tree, &c.tree));
        /* a reason the table does not know is refused */
        assert_int_equal(snapshot_take(s, "upunit", "2.0", "whenever", NULL, &g, &err), -STACK_ESTORE);
        error_clear(&err);

        assert_int_equal(snapshot_list(s, "upunit", &v, &n, &err), 0);
        assert_int_equal(n, 3);
        assert_string_equal(v[0].id, c.id); /* newest first */
        assert_string_equal(v[2].id, a.id);
        snapshot_rows_free(v, n);

        char prefix[8];
        snprintf(prefix, sizeof prefix, "%.6s", b.id);
        assert_int_equal(snapshot_get(s, prefix, &g, &err), 0);
        assert_string_equal(g.id, b.id);
        snapshot_row_release(&g);
        assert_int_equal(snapshot_get(s, "ffffffffffff", &g, &err), -STACK_ENOTFOUND);
        error_clear(&err);
        assert_int_equal(snapshot_get(s, "not-hex", &g, &err), -STACK_EUSAGE);
        error_clear(&err);

        assert_int_equal(snapshot_roots(s, 2, NULL, count_roots, &roots, &kept, &err), 0);
        assert_int_equal(roots, 2);
        roots = 0;
        const char *pinned[] = {a.id, NULL};
        assert_int_equal(snapshot_roots(s, 1, pinned, count_roots, &roots, &kept, &err), 0);
        assert_int_equal(roots, 2); /* the newest, and the one the journal names */

        assert_int_equal(snapshot_forget(s, "upunit", &forgot, &err), 0);
        assert_int_equal(forgot, 3);
        assert_int_equal(snapshot_list(s, "upunit", &v, &n, &err), 0);
        assert_int_equal(n, 0);
        snapshot_rows_free(v, n);
        snapshot_row_release(&a);
        snapshot_row_release(&b);
        snapshot_row_release(&c);
        store_free(s);
}

static void restore_is_exactly_the_snapshot(void **state)
{
        const char *home = tl_tmpdir();
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct snapshot_row a = {0}, other = {0};
        char dir[1024], f[4096], link[4096], sub[2048], *t;
        struct stat st;

        (void)state;
        assert_int_equal(store_open(home, &s, &err), 0);
        snprintf(dir, sizeof dir, "%s/data/upunit2", home);
        snprintf(sub, sizeof sub, "%s/sub", dir);
        assert_int_equal(fs_mkdir_p(sub, 0755), 0);
        assert_int_equal(chmod(sub, 0700), 0);
        snprintf(f, sizeof f, "%s/kept", sub);
        put(f, "as it was");
        assert_int_equal(chmod(f, 0600), 0);
        snprintf(link, sizeof link, "%s/link", dir);
        assert_int_equal(symlink("/etc/hostname", link), 0);
        assert_int_equal(snapshot_take(s, "upunit2", "1.0", "manual", NULL, &a, &err), 0);
        assert_int_equal(a.files, 2);

        put(f, "changed");
        snprintf(f, sizeof f, "%s/added", dir);
        put(f, "added later");
        unlink(link);
        assert_int_equal(snapshot_restore(s, "upunit2", &a, NULL, &err), 0);
        assert_int_equal(access(f, F_OK), -1); /* added later: gone */
        snprintf(f, sizeof f, "%s/kept", sub);
        t = get(f);
        assert_non_null(t);
        assert_string_equal(t, "as it was");
        free(t);
        assert_int_equal(stat(f, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(stat(sub, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        char target[256] = "";
        assert_true(readlink(link, target, sizeof target - 1) > 0);
        assert_string_equal(target, "/etc/hostname");

        /* another stack's snapshot: refused, nothing changes */
        snprintf(f, sizeof f, "%s/kept", sub);
        put(f, "changed again");
        assert_int_equal(snapshot_take(s, "upunit3", "1.0", "manual", NULL, &other, &err), 0);
        assert_int_equal(snapshot_restore(s, "upunit2", &other, NULL, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "of stack 'upunit3', not 'upunit2'"));
        error_clear(&err);
        t = get(f);
        assert_string_equal(t, "changed again");
        free(t);
        /* a snapshot of no data dir: restoring it removes the data dir made since */
        snprintf(dir, sizeof dir, "%s/data/upunit3", home);
        assert_int_equal(fs_mkdir_p(dir, 0755), 0);
        assert_int_equal(snapshot_restore(s, "upunit3", &other, NULL, &err), 0);
        assert_int_equal(access(dir, F_OK), -1);
        snapshot_row_release(&a);
        snapshot_row_release(&other);
        store_free(s);
}

/* One tar entry: kind 'd' dir, 'f' file (text), 'p' fifo, 'h' hard link to text. */
struct tar_entry {
        char kind;
        const char *path, *text;
};

static void write_tar(const char *path, const struct tar_entry *v)
{
        struct archive *a = archive_write_new();
        struct archive_entry *ae;

        assert_non_null(a);
        assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
        for (; v->path; v++) {
                ae = archive_entry_new();
                archive_entry_set_pathname(ae, v->path);
                archive_entry_set_mtime(ae, 1700000000, 0);
                archive_entry_set_uid(ae, 1000);
                archive_entry_set_gid(ae, 1000);
                switch (v->kind) {
                case 'd':
                        archive_entry_set_filetype(ae, AE_IFDIR);
                        archive_entry_set_perm(ae, 0755);
                        break;
                case 'p':
                        archive_entry_set_filetype(ae, AE_IFIFO);
                        archive_entry_set_perm(ae, 0644);
                        break;
                case 'h':
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_perm(ae, 0644);
                        archive_entry_set_hardlink(ae, v->text);
                        break;
                default:
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_perm(ae, 0644);
                        archive_entry_set_size(ae, (la_int64_t)strlen(v->text));
                }
                assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
                if (v->kind == 'f')
                        assert_int_equal(archive_write_data(a, v->text, strlen(v->text)), (la_ssize_t)strlen(v->text));
                archive_entry_free(ae);
        }
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
}

/* Read one synthetic archive as snapshot_take would: its return code, meta and file count. */
static int read_layout(struct store *s, const struct tar_entry *v, char **meta, uint64_t *files, struct error *err)
{
        char path[1024];
        int fd, r;

        snprintf(path, sizeof path, "%s/vol.tar", tl_tmpdir());
        write_tar(path, v);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        *meta = NULL;
        *files = 0;
        r = snapshot_read_volume_archive(s, "appdata", fd, meta, files, err);
        close(fd);
        return r;
}

static void assert_two_files_kept(const char *meta, uint64_t files)
{
        assert_int_equal(files, 3);
        assert_non_null(strstr(meta, "d 0755 1000 1000 1700000000\tvolumes/appdata\n"));
        assert_non_null(strstr(meta, "f 0644 1000 1000 1700000000\tvolumes/appdata/version\n"));
        assert_non_null(strstr(meta, "d 0755 1000 1000 1700000000\tvolumes/appdata/sub\n"));
        assert_non_null(strstr(meta, "\tvolumes/appdata/sub/log\n"));
        assert_non_null(strstr(meta, "\tvolumes/appdata/sub/same\n")); /* the hard link, as a copy */
        assert_null(strstr(meta, "vol/"));
}

static void volume_archives_of_every_engine_layout(void **state)
{
        /* Docker: GET /containers/{id}/archive?path=/vol names the directory and everything under it. */
        static const struct tar_entry docker[] = {{'d', "vol/", NULL},
                                                  {'f', "vol/version", "1.0.0\n"},
                                                  {'d', "vol/sub/", NULL},
                                                  {'f', "vol/sub/log", "1.0.0 1.0.1\n"},
                                                  {'h', "vol/sub/same", "vol/sub/log"},
                                                  {0, NULL, NULL}};
        /* Podman 4.3 and 5.4: the same directory named from its root. */
        static const struct tar_entry podman[] = {{'d', "/", NULL},
                                                  {'f', "/version", "1.0.0\n"},
                                                  {'d', "/sub", NULL},
                                                  {'f', "/sub/log", "1.0.0 1.0.1\n"},
                                                  {'h', "/sub/same", "/sub/log"},
                                                  {0, NULL, NULL}};
        static const struct tar_entry dotted[] = {{'d', "./", NULL},
                                                  {'f', "./version", "1.0.0\n"},
                                                  {'d', "./sub/", NULL},
                                                  {'f', "./sub/log", "1.0.0 1.0.1\n"},
                                                  {'h', "./sub/same", "./sub/log"},
                                                  {0, NULL, NULL}};
        static const struct tar_entry docker_dotted[] = {{'d', "./vol", NULL},
                                                         {'f', "./vol/version", "1.0.0\n"},
                                                         {'d', "./vol/sub", NULL},
                                                         {'f', "./vol/sub/log", "1.0.0 1.0.1\n"},
                                                         {'h', "./vol/sub/same", "vol/sub/log"},
                                                         {0, NULL, NULL}};
        /* A volume holding a directory called "vol", in Podman's layout: not mistaken for Docker's. */
        static const struct tar_entry podman_vol_dir[] = {{'d', "/", NULL},
                                                          {'d', "/vol", NULL},
                                                          {'f', "/vol/x", "x\n"},
                                                          {'f', "/version", "1.0.0\n"},
                                                          {0, NULL, NULL}};
        /* Docker's layout with an entry outside it: refused, never skipped. */
        static const struct tar_entry stray[] = {{'d', "vol/", NULL},
                                                 {'f', "vol/version", "1.0.0\n"},
                                                 {'f', "elsewhere/data", "lost\n"},
                                                 {0, NULL, NULL}};
        /* Entries, none of which can be kept: an empty snapshot of a volume that is not empty. */
        static const struct tar_entry nothing_kept[] = {{'d', "/", NULL}, {'p', "/fifo", NULL}, {0, NULL, NULL}};
        /* An empty volume is an empty snapshot, in either layout. */
        static const struct tar_entry empty_docker[] = {{'d', "vol/", NULL}, {0, NULL, NULL}};
        static const struct tar_entry empty_podman[] = {{'d', "/", NULL}, {0, NULL, NULL}};
        const struct tar_entry *good[] = {docker, podman, dotted, docker_dotted};
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        uint64_t files = 0;
        char *meta = NULL;

        (void)state;
        assert_int_equal(store_open(tl_tmpdir(), &s, &err), 0);
        for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
                assert_int_equal(read_layout(s, good[i], &meta, &files, &err), 0);
                assert_two_files_kept(meta, files);
                free(meta);
        }
        assert_int_equal(read_layout(s, podman_vol_dir, &meta, &files, &err), 0);
        assert_int_equal(files, 2);
        assert_non_null(strstr(meta, "\tvolumes/appdata/vol/x\n"));
        assert_non_null(strstr(meta, "\tvolumes/appdata/version\n"));
        free(meta);

        assert_int_equal(read_layout(s, stray, &meta, &files, &err), -STACK_ERUNTIME);
        assert_non_null(strstr(err.msg, "volume appdata"));
        assert_non_null(strstr(err.msg, "elsewhere/data"));
        assert_null(meta);
        error_clear(&err);
        assert_int_equal(read_layout(s, nothing_kept, &meta, &files, &err), -STACK_ERUNTIME);
        assert_non_null(strstr(err.msg, "none could be kept"));
        error_clear(&err);

        assert_int_equal(read_layout(s, empty_docker, &meta, &files, &err), 0);
        assert_int_equal(files, 0);
        assert_non_null(strstr(meta, "\tvolumes/appdata\n"));
        free(meta);
        assert_int_equal(read_layout(s, empty_podman, &meta, &files, &err), 0);
        assert_int_equal(files, 0);
        free(meta);
        store_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(table_rows_ids_and_roots),
                cmocka_unit_test(restore_is_exactly_the_snapshot),
                cmocka_unit_test(volume_archives_of_every_engine_layout),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
