/* test-snapshot.c - the snapshot module (run/snapshot.h) on a data dir: the table (rows, order, ids, forget, gc
 * roots), what a second snapshot adds to the store, a restore that brings back exactly the snapshot (added files
 * removed, changed ones restored, modes and symlinks), and a snapshot of another stack refused. The stacks have
 * no compose project on the Engine, so no volume is involved (tests/e2e/upgrade.sh covers volumes); the Engine
 * is only asked which volumes the project has. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "run/snapshot.h"
#include "store/fsutil.h"
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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(table_rows_ids_and_roots),
                cmocka_unit_test(restore_is_exactly_the_snapshot),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
