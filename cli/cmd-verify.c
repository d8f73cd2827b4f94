/* cmd-verify.c - `stack verify`: re-hash the store, check the index; exit 4 on damage. */
#include "cli.h"
#include "store/verify.h"

#include <getopt.h>
#include <stdio.h>

struct findings {
        bool json;
        json_t *list;
};

static void on_problem(void *ctx, const char *kind, const char *detail)
{
        struct findings *f = ctx;

        if (f->json)
                json_array_append_new(f->list, json_pack("{s:s, s:s}", "kind", kind, "detail", detail));
        else
                printf("%-8s %s\n", kind, detail);
}

int cmd_verify(int argc, char **argv)
{
        static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct findings f = {0};
        struct verify_report rep = {.problem = on_problem, .ctx = &f};
        char size[32];
        int c, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'j')
                        f.json = true;
                else if (c == 'h') {
                        printf("usage: stack verify [--json]\n"
                               "Re-hashes every object and checks the index. Exit 4 when something referenced is missing or\n"
                               "corrupt; unreferenced objects and temp files are garbage (gc removes them), not damage.\n");
                        return 0;
                } else
                        return cli_usage("verify", "unknown option");
        }
        if (optind != argc)
                return cli_usage("verify", "takes no arguments");
        f.list = json_array();
        r = cli_open_store(&s, &err);
        if (r == 0)
                r = verify_store(s, &rep, &err);
        if (r < 0 && err.code != STACK_ESTORE) { /* could not verify at all */
                json_decref(f.list);
                r = cli_fail(&err);
                goto done;
        }
        if (f.json) {
                cli_print_json(json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "ok", r == 0,
                                         "objects", (json_int_t)rep.objects, "bytes", (json_int_t)rep.bytes, "trees",
                                         (json_int_t)rep.trees, "missing", (json_int_t)rep.missing, "corrupt",
                                         (json_int_t)rep.corrupt, "bad_trees", (json_int_t)rep.bad_trees, "dangling",
                                         (json_int_t)rep.dangling, "extra", (json_int_t)rep.extra, "temp",
                                         (json_int_t)rep.temp, "problems", f.list));
        } else {
                json_decref(f.list);
                printf("checked %llu objects (%s) and %llu trees: %llu missing, %llu corrupt, %llu bad trees, %llu dangling "
                       "rows; garbage: %llu unreferenced objects, %llu temp files\n",
                       (unsigned long long)rep.objects, cli_human_size(rep.bytes, size), (unsigned long long)rep.trees,
                       (unsigned long long)rep.missing, (unsigned long long)rep.corrupt,
                       (unsigned long long)rep.bad_trees, (unsigned long long)rep.dangling,
                       (unsigned long long)rep.extra, (unsigned long long)rep.temp);
        }
        if (r < 0)
                r = cli_fail(&err);
done:
        store_free(s);
        return r;
}
