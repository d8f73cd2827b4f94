/* test-yamltree.c - what the loader calls a YAML null (the one definition stack.yaml and compose files share), and
 * merge keys in every spelling PyYAML (compose v1) or go-yaml (compose v2) merges; and the helpers that read and
 * edit a tree. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <yaml.h>

#include "base/yamltree.h"

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

/* ---- merge keys ---- */

static int load_merged(const char *doc, struct yamltree_node **root, struct error *err)
{
        const struct yamltree_opts opts = {
                .name = "test.yaml",
                .limits = {.max_bytes = 4096,
                           .max_aliases = 8,
                           .max_nodes = 256,
                           .max_depth = 8,
                           .max_copy_depth = 16,
                           .max_copy_bytes = 4096},
                .aliases = YAMLTREE_ALIAS_COPY,
                .flags = YAMLTREE_MERGE,
        };

        return yamltree_load(&opts, doc, strlen(doc), root, err);
}

static const struct yamltree_node *get(const struct yamltree_node *m, const char *key)
{
        size_t i;

        for (i = 0; m && m->kind == YAMLTREE_MAP && i + 1 < m->n; i += 2)
                if (m->items[i]->len == strlen(key) && memcmp(m->items[i]->text, key, m->items[i]->len) == 0)
                        return m->items[i + 1];
        return NULL;
}

static void every_merge_spelling_is_merged(void **state)
{
        static const char *const keys[] = {"<<",
                                           "! <<",
                                           "!!merge innocent",
                                           "!!merge \"<<\"",
                                           "!!merge '<<'",
                                           "!<tag:yaml.org,2002:merge> x",
                                           "!!merge x-anything"};
        char doc[256];
        size_t i;

        for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                struct error err = ERROR_INIT;
                struct yamltree_node *root = NULL;
                const struct yamltree_node *svc;

                snprintf(doc, sizeof doc, "a: &a {p: true, q: 1}\ns:\n  %s: *a\n  q: 2\n", keys[i]);
                if (load_merged(doc, &root, &err) != 0)
                        fail_msg("%s: %s", keys[i], err.msg);
                svc = get(root, "s");
                assert_non_null(svc);
                assert_int_equal(svc->n, 4); /* p and q, the merge key gone */
                assert_string_equal(get(svc, "p")->text, "true");
                assert_string_equal(get(svc, "q")->text, "2");
                yamltree_free(root);
        }
}

static void a_quoted_or_tagged_string_key_is_not_a_merge(void **state)
{
        static const char *const keys[] = {"\"<<\"", "'<<'", "!!str <<"};
        char doc[256];
        size_t i;

        for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                struct error err = ERROR_INIT;
                struct yamltree_node *root = NULL;

                snprintf(doc, sizeof doc, "a: &a {p: true}\ns:\n  %s: *a\n", keys[i]);
                assert_int_equal(load_merged(doc, &root, &err), 0);
                assert_null(get(get(root, "s"), "p"));
                assert_non_null(get(get(root, "s"), "<<"));
                yamltree_free(root);
        }
}

static void the_merge_tag_elsewhere_and_two_merge_keys_are_refused(void **state)
{
        static const struct {
                const char *doc, *want;
        } cases[] = {
                {"s: !!merge x\n", "only allowed on a mapping key (line 1)"},
                {"s: [!!merge x]\n", "only allowed on a mapping key"},
                {"s: !!merge {a: 1}\n", "only allowed on a mapping key"},
                {"s:\n  <<: !!merge {a: 1}\n", "only allowed on a mapping key"},
                {"s:\n  !!merge k: v\n", "merges a scalar, not a mapping"},
                {"s:\n  !!merge k: [v]\n", "merges a scalar, not a mapping"},
                {"s:\n  <<: {a: 1}\n  !!merge k: {b: 2}\n", "more than one merge key"},
        };
        size_t i;

        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct error err = ERROR_INIT;
                struct yamltree_node *root = NULL;

                assert_int_equal(load_merged(cases[i].doc, &root, &err), -STACK_EREJECT);
                if (!strstr(err.msg, cases[i].want))
                        fail_msg("%s: '%s' does not say '%s'", cases[i].doc, err.msg, cases[i].want);
                assert_null(root);
        }
}

/* ---- reading and editing a tree ---- */

static void map_set_replaces_then_adds_and_map_del_removes_or_steals(void **state)
{
        struct yamltree_node *m = yamltree_node_new(YAMLTREE_MAP), *v;

        assert_non_null(m);
        assert_int_equal(yamltree_map_set_text(m, "image", "web:1", YAML_PLAIN_SCALAR_STYLE), 0);
        assert_int_equal(yamltree_map_set_text(m, "user", "app", YAML_PLAIN_SCALAR_STYLE), 0);
        assert_int_equal(yamltree_map_set_text(m, "image", "web:2", YAML_PLAIN_SCALAR_STYLE),
                         0); /* replaced in place */
        assert_int_equal(m->n, 4);
        assert_true(yamltree_text_is(m->items[0], "image"));
        assert_true(yamltree_text_is(yamltree_map_get(m, "image"), "web:2"));
        assert_true(yamltree_text_is_ci(yamltree_map_get(m, "user"), "APP"));
        assert_null(yamltree_map_get(m, "absent"));
        assert_null(yamltree_map_get(yamltree_map_get(m, "user"), "x")); /* a scalar is no mapping */
        assert_int_equal(yamltree_map_set(m, "x", YAML_PLAIN_SCALAR_STYLE, NULL),
                         -ENOMEM); /* a failed scalar_new passed in */

        v = yamltree_map_del(m, "image", true);
        assert_true(yamltree_text_is(v, "web:2"));
        yamltree_free(v);
        assert_null(yamltree_map_del(m, "user", false));
        assert_int_equal(m->n, 0);
        yamltree_free(m);
}

static void a_copy_is_equal_and_independent(void **state)
{
        struct yamltree_node *m = yamltree_node_new(YAMLTREE_MAP), *seq = yamltree_node_new(YAMLTREE_SEQ), *c, *l;

        assert_non_null(m);
        assert_non_null(seq);
        assert_int_equal(yamltree_append(seq, yamltree_scalar_new("a", 1, YAML_PLAIN_SCALAR_STYLE)), 0);
        assert_int_equal(yamltree_append(seq, yamltree_scalar_new("", 0, YAML_PLAIN_SCALAR_STYLE)), 0); /* a null */
        assert_int_equal(yamltree_map_set(m, "list", YAML_PLAIN_SCALAR_STYLE, seq), 0);
        assert_string_equal(yamltree_kind_name(seq), "list");
        assert_string_equal(yamltree_kind_name(m), "mapping");

        c = yamltree_copy(m);
        assert_non_null(c);
        assert_true(yamltree_equal(m, c));
        l = yamltree_map_get(c, "list");
        assert_true(yamltree_is_scalar(l->items[0]));
        l->items[0]->style = YAML_DOUBLE_QUOTED_SCALAR_STYLE; /* styles aside: still equal */
        assert_true(yamltree_equal(m, c));
        yamltree_scalar_replace(l->items[1], strdup(""), YAML_SINGLE_QUOTED_SCALAR_STYLE); /* '' is no null */
        assert_false(yamltree_equal(m, c));
        yamltree_scalar_replace(l->items[1], strdup(""), YAML_PLAIN_SCALAR_STYLE);
        assert_true(yamltree_equal(m, c));
        yamltree_scalar_replace(l->items[0], strdup("b"), YAML_PLAIN_SCALAR_STYLE);
        assert_false(yamltree_equal(m, c));
        assert_true(yamltree_text_is(seq->items[0], "a")); /* the original is untouched */
        assert_null(yamltree_copy(NULL));
        yamltree_free(c);
        yamltree_free(m);
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
                cmocka_unit_test(every_merge_spelling_is_merged),
                cmocka_unit_test(a_quoted_or_tagged_string_key_is_not_a_merge),
                cmocka_unit_test(the_merge_tag_elsewhere_and_two_merge_keys_are_refused),
                cmocka_unit_test(map_set_replaces_then_adds_and_map_del_removes_or_steals),
                cmocka_unit_test(a_copy_is_equal_and_independent),
        };
        return cmocka_run_group_tests_name("yamltree", tests, NULL, NULL);
}
