/* test-yamltree.c - what the loader calls a YAML null (the one definition stack.yaml and compose files share). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/yamltree.h"

/* The value of key "v" in the one-line document "v: <value>". */
static bool value_is_null(const char *value, enum yamltree_alias aliases)
{
        const struct yamltree_opts opts = {
                .name = "test.yaml",
                .limits = {.max_bytes = 4096,
                           .max_aliases = 4,
                           .max_nodes = 64,
                           .max_depth = 8,
                           .max_copy_depth = 8,
                           .max_copy_bytes = 4096},
                .aliases = aliases,
        };
        struct error err = ERROR_INIT;
        struct yamltree_node *root = NULL;
        char doc[256];
        bool null;

        snprintf(doc, sizeof doc, "a: &x ~\nv: %s\n", value);
        assert_int_equal(yamltree_load(&opts, doc, strlen(doc), &root, &err), 0);
        assert_int_equal(root->kind, YAMLTREE_MAP);
        assert_int_equal(root->n, 4);
        null = yamltree_is_null(root->items[3]);
        yamltree_free(root);
        return null;
}

/* Every value in the NULL-terminated list is (or is not) a null, each in its own document. */
static void expect(bool null, enum yamltree_alias aliases, const char *const *values)
{
        for (; *values; values++) {
                if (value_is_null(*values, aliases) != null)
                        fail_msg("v: %s: expected %s", *values, null ? "a null" : "not a null");
        }
}

static void untagged_plain_null_spellings_are_null(void **state)
{
        expect(true, YAMLTREE_ALIAS_COPY, (const char *const[]){"", "~", "null", "Null", "NULL", NULL});
}

static void other_spellings_are_strings(void **state)
{
        expect(false, YAMLTREE_ALIAS_COPY, (const char *const[]){"nULL", "none", "nul", "~~", "0", "false", NULL});
}

static void quoted_null_is_a_string(void **state)
{
        expect(false, YAMLTREE_ALIAS_COPY, (const char *const[]){"\"null\"", "'~'", "''", NULL});
}

static void null_tag_makes_any_scalar_null(void **state)
{
        expect(true, YAMLTREE_ALIAS_COPY, (const char *const[]){"!!null", "!!null ''", "!!null null", NULL});
}

static void other_tags_make_null_a_string(void **state)
{
        expect(false, YAMLTREE_ALIAS_COPY,
               (const char *const[]){"!!str null", "!!str", "! ~", "!custom null", "!reset null", NULL});
}

static void collections_and_no_node_are_not_null(void **state)
{
        expect(false, YAMLTREE_ALIAS_COPY, (const char *const[]){"[]", "{}", NULL});
        assert_false(yamltree_is_null(NULL));
}

static void an_alias_to_a_null_is_null_in_both_alias_modes(void **state)
{
        expect(true, YAMLTREE_ALIAS_COPY, (const char *const[]){"*x", NULL});
        expect(true, YAMLTREE_ALIAS_REF, (const char *const[]){"*x", NULL});
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(untagged_plain_null_spellings_are_null),
                cmocka_unit_test(other_spellings_are_strings),
                cmocka_unit_test(quoted_null_is_a_string),
                cmocka_unit_test(null_tag_makes_any_scalar_null),
                cmocka_unit_test(other_tags_make_null_a_string),
                cmocka_unit_test(collections_and_no_node_are_not_null),
                cmocka_unit_test(an_alias_to_a_null_is_null_in_both_alias_modes),
        };
        return cmocka_run_group_tests_name("yamltree", tests, NULL, NULL);
}
