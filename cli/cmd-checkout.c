/* cmd-checkout.c - `stack checkout SLUG[@VER] DIR`: a version's files into a new directory. */
#include "cli.h"
#include "store/checkout.h"
#include "store/index.h"

#include <getopt.h>
#include <stdio.h>

int cmd_checkout(int argc, char **argv)
{
        struct store *s = NULL;
        const struct cli_command c = {"checkout",
                                      "usage: stack checkout SLUG[@VERSION] DIR\n"
                                      "Writes the version's files into DIR (which must not exist or be empty).\n",
                                      .args = {2, 2, "expects SLUG[@VERSION] DIR"}, .store = &s};
        struct error err = ERROR_INIT;
        struct version_info v = {0};
        struct tree t;
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        tree_init(&t);
        r = cli_load_version(s, argv[optind], &v, &t, &err);
        if (r == 0)
                r = checkout_tree(s, &t, argv[optind + 1], &err);
        if (r < 0)
                r = cli_fail(&err);
        else
                printf("checked out %s %s (%zu entries) into %s\n", v.slug, v.version, t.n, argv[optind + 1]);
        tree_release(&t);
        version_info_release(&v);
        store_free(s);
        return r;
}
