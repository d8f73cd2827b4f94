/* test-checkout.c - a version from the store into a directory: exact files, modes and symlinks; never over
 * an existing target; never a hard link into the store; nothing left behind when it fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/checkout.h"
#include "base/fsutil.h"
#include "store/index.h"
#include "store/store.h"
#include "store/verify.h"
#include "testlib.h"

static const char run_sh[] = "#!/bin/sh\necho run\n";
static const char page[] = "<h1>checked out</h1>\n";

struct fixture {
        struct store *s;
        struct tree tree;
        struct tl_imported imp;
        char parent[PATH_MAX]; /* where checkouts go */
};

static int setup(void **state)
{
        struct error err = ERROR_INIT;
        struct fixture *f = calloc(1, sizeof *f);
        struct tl_entry e[7];

        assert_non_null(f);
        f->s = tl_store_new();
        tl_valid_entries(e, "co", "1.0");
        e[2] = (struct tl_entry){
                .path = "bin/run.sh", .type = 'f', .mode = 0700, .data = run_sh, .len = sizeof run_sh - 1};
        e[3] = (struct tl_entry){
                .path = "site/index.html", .type = 'f', .mode = 0600, .data = page, .len = sizeof page - 1};
        e[4] = (struct tl_entry){.path = "site/home.html", .type = 'l', .target = "index.html"};
        e[5] = (struct tl_entry){.path = "top", .type = 'l', .target = "site/index.html"};
        e[6] = (struct tl_entry){.path = "data/empty", .type = 'd', .mode = 0700};
        if (tl_import(f->s, TL_ZSTD, e, 7, NULL, &f->imp, &err) < 0)
                fail_msg("import: %s", err.msg);
        if (index_load_tree(store_index(f->s), &f->imp.tree, &f->tree, &err) < 0)
                fail_msg("load_tree: %s", err.msg);
        snprintf(f->parent, sizeof f->parent, "%s", tl_tmpdir());
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        tree_release(&f->tree);
        store_free(f->s);
        free(f);
        return 0;
}

static void target(struct fixture *f, const char *name, char *out)
{
        assert_int_equal(fs_path(out, PATH_MAX, "%s/%s", f->parent, name), 0);
}

static void assert_file(const char *dir, const char *rel, const char *content, mode_t mode)
{
        char path[PATH_MAX], *data = NULL;
        struct stat st;
        size_t len = 0;

        assert_int_equal(fs_path(path, sizeof path, "%s/%s", dir, rel), 0);
        if (lstat(path, &st) < 0)
                fail_msg("%s is missing", path);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, mode);
        assert_int_equal(st.st_nlink, 1);
        assert_int_equal(fs_read_file(path, 1 << 20, &data, &len), 0);
        assert_int_equal(len, strlen(content));
        assert_memory_equal(data, content, len);
        free(data);
}

static void assert_symlink(const char *dir, const char *rel, const char *want)
{
        char path[PATH_MAX], buf[PATH_MAX];
        ssize_t n;

        assert_int_equal(fs_path(path, sizeof path, "%s/%s", dir, rel), 0);
        n = readlink(path, buf, sizeof buf - 1);
        if (n < 0)
                fail_msg("%s is not a symlink", path);
        buf[n] = 0;
        assert_string_equal(buf, want);
}

static void assert_dir(const char *dir, const char *rel)
{
        char path[PATH_MAX];
        struct stat st;

        assert_int_equal(fs_path(path, sizeof path, "%s/%s", dir, rel), 0);
        if (lstat(path, &st) < 0)
                fail_msg("%s is missing", path);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0755);
}

/* Nothing named like a checkout's temp dir (DIR.tmp-XXXXXX) left in parent. */
static void assert_no_temp_dir(const char *parent)
{
        DIR *d = opendir(parent);
        struct dirent *de;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (strstr(de->d_name, ".tmp-"))
                        fail_msg("%s/%s was left behind", parent, de->d_name);
        closedir(d);
}

/* The tree entry at path and the path of its object file. */
static const struct tree_entry *object_of(struct fixture *f, const char *path, char *obj)
{
        const struct tree_entry *te = tree_find(&f->tree, path);

        assert_non_null(te);
        assert_int_equal(store_object_path(f->s, &te->digest, obj, PATH_MAX), 0);
        return te;
}

static void checkout_writes_files_modes_and_symlinks_into_a_new_directory(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct tl_entry e[2];
        char dir[PATH_MAX];

        target(f, "new", dir);
        assert_int_equal(checkout_tree(f->s, &f->tree, dir, &err), 0);
        tl_valid_entries(e, "co", "1.0");
        assert_file(dir, "stack.yaml", e[0].data, 0644);
        assert_file(dir, "compose.yaml", e[1].data, 0644);
        assert_file(dir, "bin/run.sh", run_sh, 0755);
        assert_file(dir, "site/index.html", page, 0644);
        assert_symlink(dir, "site/home.html", "index.html");
        assert_symlink(dir, "top", "site/index.html");
        assert_dir(dir, "bin");
        assert_dir(dir, "data");
        assert_dir(dir, "data/empty");
        assert_int_equal(tl_count_dir(dir), 6); /* stack.yaml compose.yaml bin site top data: nothing more */
        assert_int_equal(tl_count_dir(f->parent), 1);
        assert_no_temp_dir(f->parent);
}

static void checkout_refuses_an_existing_target_and_leaves_it_alone(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        char dir[PATH_MAX], keep[PATH_MAX], file[PATH_MAX];

        target(f, "busy", dir);
        assert_int_equal(mkdir(dir, 0755), 0);
        assert_int_equal(fs_path(keep, sizeof keep, "%s/mine.txt", dir), 0);
        assert_int_equal(fs_write_atomic(keep, "mine", 4, 0644), 0);
        assert_true(checkout_tree(f->s, &f->tree, dir, &err) < 0);
        assert_non_null(strstr(err.msg, "exists"));
        assert_file(dir, "mine.txt", "mine", 0644);
        assert_int_equal(tl_count_dir(dir), 1);

        /* a file in the way is refused too */
        error_clear(&err);
        target(f, "afile", file);
        assert_int_equal(fs_write_atomic(file, "x", 1, 0644), 0);
        assert_true(checkout_tree(f->s, &f->tree, file, &err) < 0);
        assert_non_null(strstr(err.msg, "exists"));
        assert_file(f->parent, "afile", "x", 0644);
        assert_no_temp_dir(f->parent);
}

static void checkout_into_an_empty_directory_fills_it(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        char dir[PATH_MAX];

        target(f, "empty", dir);
        assert_int_equal(mkdir(dir, 0755), 0);
        assert_int_equal(checkout_tree(f->s, &f->tree, dir, &err), 0);
        assert_file(dir, "site/index.html", page, 0644);
        assert_no_temp_dir(f->parent);
}

static void checkout_accepts_a_target_written_with_a_trailing_slash(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        char dir[PATH_MAX], slashed[PATH_MAX];

        /* what a shell's completion gives for an existing empty directory, and what people type for a new one */
        target(f, "slashed", dir);
        assert_int_equal(mkdir(dir, 0755), 0);
        assert_int_equal(fs_path(slashed, sizeof slashed, "%s/", dir), 0);
        if (checkout_tree(f->s, &f->tree, slashed, &err) < 0)
                fail_msg("checkout into %s: %s", slashed, err.msg);
        assert_file(dir, "site/index.html", page, 0644);
        target(f, "fresh", dir);
        assert_int_equal(fs_path(slashed, sizeof slashed, "%s//", dir), 0);
        if (checkout_tree(f->s, &f->tree, slashed, &err) < 0)
                fail_msg("checkout into %s: %s", slashed, err.msg);
        assert_file(dir, "bin/run.sh", run_sh, 0755);
        assert_no_temp_dir(f->parent);
}

static void checked_out_files_are_not_hard_links_to_objects(void **state)
{
        static const char scribble[] = "<h1>changed by a container</h1>\n";
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct verify_report rep = {0};
        char dir[PATH_MAX], path[PATH_MAX], obj[PATH_MAX], buf[256];
        const struct tree_entry *te = object_of(f, "site/index.html", obj);
        struct stat a, b;
        ssize_t n;
        int fd;

        target(f, "mine", dir);
        assert_int_equal(checkout_tree(f->s, &f->tree, dir, &err), 0);
        assert_int_equal(fs_path(path, sizeof path, "%s/site/index.html", dir), 0);
        assert_int_equal(stat(path, &a), 0);
        assert_int_equal(stat(obj, &b), 0);
        assert_false(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
        assert_int_equal(b.st_nlink, 1);

        /* the checkout is the caller's to write */
        fd = open(path, O_WRONLY | O_TRUNC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, scribble, sizeof scribble - 1), sizeof scribble - 1);
        close(fd);
        assert_file(dir, "site/index.html", scribble, 0644);
        fd = store_object_open(f->s, &te->digest);
        assert_true(fd >= 0);
        n = read(fd, buf, sizeof buf);
        close(fd);
        assert_int_equal(n, sizeof page - 1);
        assert_memory_equal(buf, page, sizeof page - 1);
        assert_int_equal(verify_store(f->s, &rep, &err), 0);
        assert_int_equal(rep.corrupt, 0);
}

static void checkout_stops_with_a_store_error_when_an_object_is_missing(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        char dir[PATH_MAX], obj[PATH_MAX], hex[DIGEST_HEX_LEN + 1];
        const struct tree_entry *te = object_of(f, "bin/run.sh", obj);

        assert_int_equal(unlink(obj), 0);
        target(f, "broken", dir);
        assert_true(checkout_tree(f->s, &f->tree, dir, &err) < 0);
        assert_int_equal(err.code, STACK_ESTORE);
        digest_to_hex(&te->digest, hex);
        assert_non_null(strstr(err.msg, hex));
        assert_non_null(strstr(err.msg, "'bin/run.sh'"));
        assert_int_equal(access(dir, F_OK), -1);
        assert_no_temp_dir(f->parent);
}

static void checkout_stops_with_a_store_error_when_an_object_has_the_wrong_size(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        char dir[PATH_MAX], obj[PATH_MAX];

        object_of(f, "site/index.html", obj);
        assert_int_equal(chmod(obj, 0644), 0);
        assert_int_equal(truncate(obj, 3), 0);
        target(f, "short", dir);
        assert_true(checkout_tree(f->s, &f->tree, dir, &err) < 0);
        assert_int_equal(err.code, STACK_ESTORE);
        assert_non_null(strstr(err.msg, "wrong size"));
        assert_int_equal(access(dir, F_OK), -1);
        assert_no_temp_dir(f->parent);
}

static void failed_checkout_puts_back_the_empty_target_it_was_given(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        char dir[PATH_MAX], obj[PATH_MAX];
        struct stat st;

        object_of(f, "compose.yaml", obj);
        assert_int_equal(unlink(obj), 0);
        target(f, "waiting", dir);
        assert_int_equal(mkdir(dir, 0750), 0);
        assert_true(checkout_tree(f->s, &f->tree, dir, &err) < 0);
        assert_int_equal(err.code, STACK_ESTORE);
        assert_int_equal(lstat(dir, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(tl_count_dir(dir), 0);
        assert_no_temp_dir(f->parent);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(checkout_writes_files_modes_and_symlinks_into_a_new_directory),
                T(checkout_refuses_an_existing_target_and_leaves_it_alone),
                T(checkout_into_an_empty_directory_fills_it),
                T(checkout_accepts_a_target_written_with_a_trailing_slash),
                T(checked_out_files_are_not_hard_links_to_objects),
                T(checkout_stops_with_a_store_error_when_an_object_is_missing),
                T(checkout_stops_with_a_store_error_when_an_object_has_the_wrong_size),
                T(failed_checkout_puts_back_the_empty_target_it_was_given),
        };
#undef T
        return cmocka_run_group_tests_name("checkout", tests, NULL, NULL);
}
