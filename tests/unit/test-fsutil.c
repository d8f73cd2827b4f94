/* test-fsutil.c - the one atomic write, whole and streamed: the target is either the old or the new bytes,
 * and no temp file is left beside it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/fsutil.h"

static int entries(const char *dir)
{
        struct dirent *de;
        DIR *d = opendir(dir);
        int n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static void read_back(const char *path, const char *want)
{
        char *data = NULL;
        size_t len = 0;

        assert_int_equal(fs_read_file(path, 1024, &data, &len), 0);
        assert_int_equal(len, strlen(want));
        assert_memory_equal(data, want, len);
        free(data);
}

static void streamed_commit_replaces_the_target_and_leaves_no_temp_file(void **state)
{
        char dir[] = "/tmp/test-fsutil-XXXXXX", path[PATH_MAX];
        struct fs_atomic a;
        struct stat st;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/out.txt", dir);
        assert_int_equal(fs_write_atomic(path, "old", 3, 0644), 0);
        assert_int_equal(fs_atomic_open(&a, path, 0600), 0);
        assert_true(a.fd >= 0);
        assert_int_equal(strncmp(a.tmp, dir, strlen(dir)), 0); /* beside the target: rename stays on one fs */
        assert_int_equal(fs_write_all(a.fd, "new ", 4), 0);
        assert_int_equal(fs_write_all(a.fd, "bytes", 5), 0);
        read_back(path, "old"); /* nothing visible before the commit */
        assert_int_equal(entries(dir), 2);
        assert_int_equal(fs_atomic_commit(&a), 0);
        read_back(path, "new bytes");
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(entries(dir), 1);
        fs_atomic_abort(&a); /* after a commit: nothing to do, the target stays */
        read_back(path, "new bytes");
        assert_int_equal(fs_rm_rf(dir), 0);
}

static void abort_keeps_the_old_target_and_removes_the_temp_file(void **state)
{
        char dir[] = "/tmp/test-fsutil-XXXXXX", path[PATH_MAX];
        struct fs_atomic a;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/out.txt", dir);
        assert_int_equal(fs_write_atomic(path, "old", 3, 0644), 0);
        assert_int_equal(fs_atomic_open(&a, path, 0644), 0);
        assert_int_equal(fs_write_all(a.fd, "half", 4), 0);
        fs_atomic_abort(&a);
        fs_atomic_abort(&a); /* twice is fine */
        read_back(path, "old");
        assert_int_equal(entries(dir), 1);
        assert_int_equal(fs_rm_rf(dir), 0);
}

static void open_refuses_a_directory_name_and_a_missing_directory(void **state)
{
        struct fs_atomic a;

        assert_int_equal(fs_atomic_open(&a, "/tmp/", 0644), -EISDIR);
        assert_int_equal(fs_atomic_open(&a, "", 0644), -EISDIR);
        assert_int_equal(fs_atomic_open(&a, "/nonexistent-dir-of-test-fsutil/x", 0644), -ENOENT);
        fs_atomic_abort(&a); /* after a failed open */
        assert_int_equal(fs_write_atomic("/nonexistent-dir-of-test-fsutil/x", "x", 1, 0644), -ENOENT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(streamed_commit_replaces_the_target_and_leaves_no_temp_file),
                cmocka_unit_test(abort_keeps_the_old_target_and_removes_the_temp_file),
                cmocka_unit_test(open_refuses_a_directory_name_and_a_missing_directory),
        };
        return cmocka_run_group_tests_name("fsutil", tests, NULL, NULL);
}
