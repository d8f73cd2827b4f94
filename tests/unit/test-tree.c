/* test-tree.c - tree rules and identity: what makes two bundles the same version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/index.h"
#include "base/semver.h"
#include "store/tree.h"

static struct digest dg(char c)
{
        struct digest d;
        memset(d.b, c, sizeof d.b);
        return d;
}

static void add_file(struct tree *t, const char *path, unsigned mode, char content)
{
        struct digest d = dg(content);
        assert_int_equal(tree_add(t, path, ENTRY_FILE, mode, 1, &d, NULL, NULL), 0);
}

static void digest_ignores_entry_order_and_implicit_dirs(void **state)
{
        struct tree a, b;
        struct digest da, db;

        tree_init(&a);
        tree_init(&b);
        add_file(&a, "stack.yaml", 0644, 'y');
        add_file(&a, "site/css/a.css", 0644, 'c');
        add_file(&a, "site/index.html", 0644, 'i');
        /* b: other order, explicit directory entries with odd modes, "./" prefixes */
        assert_int_equal(tree_add(&b, "./site/", ENTRY_DIR, 0700, 0, NULL, NULL, NULL), 0);
        add_file(&b, "./site/index.html", 0600, 'i');
        assert_int_equal(tree_add(&b, "site/css", ENTRY_DIR, 0777, 0, NULL, NULL, NULL), 0);
        add_file(&b, "site//css/a.css", 0640, 'c');
        add_file(&b, "stack.yaml", 0444, 'y');
        assert_int_equal(tree_finalize(&a, NULL), 0);
        assert_int_equal(tree_finalize(&b, NULL), 0);
        assert_int_equal(a.n, 5);
        assert_int_equal(b.n, 5);
        assert_int_equal(tree_digest(&a, &da), 0);
        assert_int_equal(tree_digest(&b, &db), 0);
        assert_true(digest_equal(&da, &db));
        tree_release(&a);
        tree_release(&b);
}

static void digest_changes_with_exec_bit_and_content(void **state)
{
        struct tree a, b, c;
        struct digest da, db, dc;

        tree_init(&a);
        tree_init(&b);
        tree_init(&c);
        add_file(&a, "run.sh", 0644, 'x');
        add_file(&b, "run.sh", 0700, 'x');
        add_file(&c, "run.sh", 0644, 'z');
        assert_int_equal(tree_finalize(&a, NULL), 0);
        assert_int_equal(tree_finalize(&b, NULL), 0);
        assert_int_equal(tree_finalize(&c, NULL), 0);
        assert_int_equal(b.v[0].mode, 0755);
        tree_digest(&a, &da);
        tree_digest(&b, &db);
        tree_digest(&c, &dc);
        assert_false(digest_equal(&da, &db));
        assert_false(digest_equal(&da, &dc));
        tree_release(&a);
        tree_release(&b);
        tree_release(&c);
}

static void serialisation_is_the_documented_text(void **state)
{
        struct tree t;
        char *text;
        size_t len;

        tree_init(&t);
        add_file(&t, "a/b.txt", 0644, 0);
        assert_int_equal(tree_add(&t, "a/l", ENTRY_SYMLINK, 0777, 0, NULL, "b.txt", NULL), 0);
        assert_int_equal(tree_finalize(&t, NULL), 0);
        assert_int_equal(tree_serialize(&t, &text, &len), 0);
        assert_string_equal(text, "stack-tree 1\n"
                                  "d 0755 0 -\ta\n"
                                  "f 0644 1 0000000000000000000000000000000000000000000000000000000000000000\ta/b.txt\n"
                                  "l 0777 0 -\ta/l\tb.txt\n");
        free(text);
        tree_release(&t);
}

static void symlink_inside_the_tree_is_accepted(void **state)
{
        struct tree t;

        tree_init(&t);
        add_file(&t, "conf/app.conf", 0644, 'a');
        assert_int_equal(tree_add(&t, "x/y/link", ENTRY_SYMLINK, 0777, 0, NULL, "../../conf/app.conf", NULL), 0);
        assert_int_equal(tree_add(&t, "dangling", ENTRY_SYMLINK, 0777, 0, NULL, "not/there", NULL), 0);
        assert_int_equal(tree_finalize(&t, NULL), 0);
        tree_release(&t);
}

static void symlink_to_dot_then_dotdot_is_refused(void **state)
{
        struct tree t;
        struct error err = ERROR_INIT;

        /* here -> . is harmless alone, but here/../x lexically "x" really resolves above the root only when
         * here is followed: the resolver follows it. */
        tree_init(&t);
        assert_int_equal(tree_add(&t, "here", ENTRY_SYMLINK, 0777, 0, NULL, ".", NULL), 0);
        assert_int_equal(tree_add(&t, "out", ENTRY_SYMLINK, 0777, 0, NULL, "here/../etc", NULL), 0);
        assert_int_equal(tree_finalize(&t, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "'out'"));
        tree_release(&t);
}

static void file_below_a_file_is_refused(void **state)
{
        struct tree t;
        struct error err = ERROR_INIT;

        tree_init(&t);
        add_file(&t, "a", 0644, 'a');
        add_file(&t, "a/b", 0644, 'b');
        assert_int_equal(tree_finalize(&t, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "below the file 'a'"));
        tree_release(&t);
}

static void paths_with_control_characters_are_refused(void **state)
{
        char out[TREE_MAX_PATH + 1];
        struct error err = ERROR_INIT;

        assert_int_equal(tree_path_normalize("a\nb", out, &err), -EINVAL);
        assert_int_equal(err.code, STACK_EREJECT);
        assert_int_equal(tree_path_normalize("./", out, NULL), -EINVAL);
        assert_int_equal(tree_path_normalize("a/./b//c/", out, NULL), 0);
        assert_string_equal(out, "a/b/c");
}

static void semver_orders_versions(void **state)
{
        int c;

        assert_int_equal(semver_compare("1.2.10", "1.2.9", &c), 0);
        assert_true(c > 0);
        assert_int_equal(semver_compare("v2.0", "1.9.9", &c), 0);
        assert_true(c > 0);
        assert_int_equal(semver_compare("1.0.0-rc.1", "1.0.0", &c), 0);
        assert_true(c < 0);
        assert_int_equal(semver_compare("1.0.0-rc.2", "1.0.0-rc.10", &c), 0);
        assert_true(c < 0);
        assert_int_equal(semver_compare("6.4", "6.4.0", &c), 0);
        assert_int_equal(c, 0);
        assert_int_equal(semver_compare("latest", "1.0", &c), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(digest_ignores_entry_order_and_implicit_dirs),
                cmocka_unit_test(digest_changes_with_exec_bit_and_content),
                cmocka_unit_test(serialisation_is_the_documented_text),
                cmocka_unit_test(symlink_inside_the_tree_is_accepted),
                cmocka_unit_test(symlink_to_dot_then_dotdot_is_refused),
                cmocka_unit_test(file_below_a_file_is_refused),
                cmocka_unit_test(paths_with_control_characters_are_refused),
                cmocka_unit_test(semver_orders_versions),
        };
        return cmocka_run_group_tests_name("tree", tests, NULL, NULL);
}
