/* fuzz-catalog.c - a catalog's index.json (fetch/catalog.h): parsed (no signature: that is checked on the
 * bytes before parsing), looked up, and written back; what catalog_to_json() writes parses to the same
 * catalog (its documented inverse). */
#include "fuzz.h"

#include "fetch/catalog.h"

#define BASE "https://catalog.example/stacks"

static void same(const struct catalog *a, const struct catalog *b)
{
        if (a->n != b->n)
                abort();
        for (size_t i = 0; i < a->n; i++) {
                const struct catalog_stack *x = &a->stacks[i], *y = &b->stacks[i];
                if (strcmp(x->slug, y->slug) || x->n != y->n)
                        abort();
                for (size_t k = 0; k < x->n; k++)
                        if (strcmp(x->v[k].version, y->v[k].version) || strcmp(x->v[k].url, y->v[k].url) ||
                            x->v[k].size != y->v[k].size ||
                            memcmp(&x->v[k].sha256, &y->v[k].sha256, sizeof x->v[k].sha256))
                                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct error err = ERROR_INIT;
        struct catalog *c = NULL, *again = NULL;
        const struct catalog_version *v;
        char *json = NULL;
        int r = catalog_parse((const char *)data, size, BASE, &c, &err);

        fuzz_check_verdict(r, &err);
        if (r < 0)
                return 0;
        for (size_t i = 0; i < c->n; i++) {
                error_clear(&err);
                r = catalog_find(c, c->stacks[i].slug, NULL, &v, &err);
                fuzz_check_verdict(r, &err);
                for (size_t k = 0; k < c->stacks[i].n; k++) {
                        error_clear(&err);
                        r = catalog_find(c, c->stacks[i].slug, c->stacks[i].v[k].version, &v, &err);
                        fuzz_check_verdict(r, &err);
                }
        }
        error_clear(&err);
        r = catalog_to_json(c, &json, &err);
        fuzz_check_verdict(r, &err);
        if (r == 0) {
                error_clear(&err);
                if (catalog_parse(json, strlen(json), BASE, &again, &err) != 0)
                        abort(); /* the writer's output is an index the parser accepts */
                same(c, again);
                catalog_free(again);
        }
        free(json);
        catalog_free(c);
        return 0;
}
