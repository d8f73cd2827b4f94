/* fuzz-yamltree.c - the bounded YAML loader (base/yamltree.h): any bytes load into a tree or are refused with
 * a message; every tree can be walked (aliases followed once) and freed. The first byte picks the options the
 * engine's callers use: alias references or copies, merge keys, a mapping at the root. */
#include "fuzz.h"

#include "base/yamltree.h"

static size_t walk(const struct yamltree_node *n, unsigned depth)
{
        char show[128];
        size_t count = 1;

        if (!n || depth > 200)
                return 0;
        (void)yamltree_is_null(n);
        switch (n->kind) {
        case YAMLTREE_SCALAR:
                if (n->text[n->len] != '\0')
                        abort();
                (void)yamltree_show(n->text, n->len, show, sizeof show);
                {
                        uint64_t whole;
                        double frac;
                        (void)yamltree_parse_decimal(n->text, n->len, &whole, &frac);
                }
                break;
        case YAMLTREE_SEQ:
        case YAMLTREE_MAP:
                if (n->open || (n->kind == YAMLTREE_MAP && n->n % 2))
                        abort();
                for (size_t i = 0; i < n->n; i++)
                        count += walk(n->items[i], depth + 1);
                break;
        case YAMLTREE_ALIAS:
                if (!n->target)
                        abort();
                count += n->target->kind == YAMLTREE_ALIAS ? 0 : 1;
                break;
        }
        return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct yamltree_opts opts = {
                .name = "fuzz.yaml",
                .limits = {.max_bytes = 1024 * 1024,
                           .max_aliases = 64,
                           .max_nodes = 100000,
                           .max_depth = 64,
                           .max_copy_depth = 128,
                           .max_copy_bytes = 4 * 1024 * 1024},
        };
        struct error err = ERROR_INIT;
        struct yamltree_node *root = NULL;
        unsigned mode;
        int r;

        if (size < 1)
                return 0;
        mode = data[0];
        opts.aliases = (mode & 1) ? YAMLTREE_ALIAS_COPY : YAMLTREE_ALIAS_REF;
        if ((mode & 1) && (mode & 2))
                opts.flags |= YAMLTREE_MERGE;
        if (mode & 4)
                opts.flags |= YAMLTREE_ROOT_MAPPING;
        if (mode & 8)
                opts.flags |= YAMLTREE_ERROR_CONTEXT | YAMLTREE_OOM_NAMED;
        r = yamltree_load(&opts, data + 1, size - 1, &root, &err);
        fuzz_check_verdict(r, &err);
        if (r == 0) {
                if (!root)
                        abort();
                (void)walk(root, 0);
        } else if (root) {
                abort();
        }
        yamltree_free(root);
        return 0;
}
