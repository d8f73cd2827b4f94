/* test-catalog.c - index.json written by the publisher's side (catalog_add + catalog_to_json) and read back by
 * the client's (catalog_parse): the same catalog both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fetch/catalog.h"

#define BASE "https://catalog.example/stacks"

static void add(struct catalog *c, const char *slug, const char *title, const char *version, const char *url, int fill,
                uint64_t size)
{
        struct catalog_version v = {.version = (char *)version, .url = (char *)url, .size = size};
        struct error err = ERROR_INIT;

        memset(v.sha256.b, fill, sizeof v.sha256.b);
        assert_int_equal(catalog_add(c, slug, title, title ? "a description" : NULL, &v, &err), 0);
}

static void catalog_written_then_parsed_round_trips(void **state)
{
        struct catalog *c = NULL, *back = NULL, *none = NULL;
        struct error err = ERROR_INIT;
        const struct catalog_version *v;
        char *text = NULL, *again = NULL;

        assert_int_equal(catalog_new(NULL, &c, &err), 0);
        /* in file-name order, as catalog build adds them */
        add(c, "web", "Web 1.10", "1.10", "web-1.10.stack", 1, 100);
        add(c, "web", "Web 1.9", "1.9", "web-1.9.stack", 2, 90);
        add(c, "alpha", NULL, "latest", "https://elsewhere.example/alpha.stack", 3, 7);
        assert_int_equal(catalog_to_json(c, &text, &err), 0);
        assert_int_equal(text[strlen(text) - 1], '\n');

        assert_int_equal(catalog_parse(text, strlen(text), BASE, &back, &err), 0);
        assert_int_equal(back->n, 2);
        assert_string_equal(back->stacks[0].slug, "alpha"); /* stacks by slug */
        assert_null(back->stacks[0].title);
        assert_null(back->stacks[0].description);
        assert_string_equal(back->stacks[0].v[0].url, "https://elsewhere.example/alpha.stack");
        assert_string_equal(back->stacks[1].slug, "web");
        assert_string_equal(back->stacks[1].title, "Web 1.10"); /* the newest version's */
        assert_string_equal(back->stacks[1].description, "a description");
        assert_int_equal(back->stacks[1].n, 2);
        assert_string_equal(back->stacks[1].v[0].version, "1.9"); /* oldest first, by semver */
        assert_string_equal(back->stacks[1].v[0].url, BASE "/web-1.9.stack");
        assert_int_equal(back->stacks[1].v[0].size, 90);
        assert_int_equal(back->stacks[1].v[0].sha256.b[0], 2);
        assert_string_equal(back->stacks[1].v[1].version, "1.10");
        assert_int_equal(back->stacks[1].v[1].sha256.b[31], 1);
        assert_int_equal(catalog_find(back, "web", NULL, &v, &err), 0);
        assert_string_equal(v->version, "1.10");

        /* and the parsed catalog writes the same text again: urls under its base come out relative */
        assert_int_equal(catalog_to_json(back, &again, &err), 0);
        assert_string_equal(again, text);

        /* an empty catalog is a valid one */
        free(again);
        again = NULL;
        assert_int_equal(catalog_new(BASE, &none, &err), 0);
        assert_int_equal(catalog_to_json(none, &again, &err), 0);
        catalog_free(back);
        back = NULL;
        assert_int_equal(catalog_parse(again, strlen(again), BASE, &back, &err), 0);
        assert_int_equal(back->n, 0);

        free(text);
        free(again);
        catalog_free(c);
        catalog_free(back);
        catalog_free(none);
}

/* Found by tests/fuzz/fuzz-catalog: urls under the base that a relative form would not give back (the rest
 * holds "://", or starts with "./") are written whole, so the written index parses to the same urls. */
static void catalog_writes_urls_it_reads_back_the_same(void **state)
{
        static const char *const urls[] = {BASE "/://hello-1.1.stack", BASE "/./x.stack", BASE "/.//y.stack",
                                           BASE "/z.stack"};
        struct catalog *c = NULL, *back = NULL;
        struct error err = ERROR_INIT;
        char *text = NULL, label[8];

        assert_int_equal(catalog_new(BASE, &c, &err), 0);
        for (size_t i = 0; i < sizeof urls / sizeof *urls; i++) {
                snprintf(label, sizeof label, "1.%zu", i);
                add(c, "hello", NULL, label, urls[i], 1, 1);
        }
        assert_int_equal(catalog_to_json(c, &text, &err), 0);
        assert_non_null(strstr(text, "\"url\": \"z.stack\"")); /* a plain one is still written relative */
        assert_int_equal(catalog_parse(text, strlen(text), BASE, &back, &err), 0);
        assert_int_equal(back->stacks[0].n, 4);
        for (size_t i = 0; i < sizeof urls / sizeof *urls; i++)
                assert_string_equal(back->stacks[0].v[i].url, urls[i]);
        free(text);
        catalog_free(c);
        catalog_free(back);
}

static void catalog_refuses_two_bundles_with_one_version(void **state)
{
        struct catalog *c = NULL;
        struct error err = ERROR_INIT;
        struct catalog_version v = {.version = "1.0", .url = "web-b.stack"};

        assert_int_equal(catalog_new(NULL, &c, &err), 0);
        add(c, "web", "Web", "1.0", "web-a.stack", 1, 1);
        assert_int_equal(catalog_add(c, "web", "Web", NULL, &v, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "web-a.stack and web-b.stack are both web 1.0"));
        assert_int_equal(c->stacks[0].n, 1);
        catalog_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(catalog_written_then_parsed_round_trips),
                cmocka_unit_test(catalog_writes_urls_it_reads_back_the_same),
                cmocka_unit_test(catalog_refuses_two_bundles_with_one_version),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
