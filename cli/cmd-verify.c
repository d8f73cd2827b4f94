/* cmd-verify.c - `stack verify [--repair]`: re-hash the store, check the index; exit 4 on damage. --repair drops
 * what is damaged, then refetches the versions that lost content from the catalog when it can. */
#include "cli.h"
#include "fetch/fetch.h"
#include "store/index.h"
#include "store/verify.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Bring back, from the catalog ($STACK_CATALOG), each version repair dropped; a line for each. Returns how many
 * came back. */
static size_t refetch_lost(struct store *s, const struct verify_repair_report *rr, json_t *list)
{
        const char *catalog = getenv("STACK_CATALOG");
        size_t back = 0;

        for (size_t i = 0; i < rr->n_lost; i++) {
                struct fetch_options o = {.catalog = catalog};
                struct fetch_result res = {0};
                struct error err = ERROR_INIT;
                char ref[512], line[2048];
                bool ok;

                snprintf(ref, sizeof ref, "%s@%s", rr->lost[i].slug, rr->lost[i].version);
                ok = catalog && *catalog && fetch_ref(s, ref, &o, &res, &err) == 0 && !res.offline;
                if (ok)
                        snprintf(line, sizeof line, "%s: damaged content dropped, refetched from the catalog", ref);
                else if (!catalog || !*catalog)
                        snprintf(line, sizeof line,
                                 "%s: damaged content dropped; `stack fetch %s` brings it back (no catalog set)", ref,
                                 ref);
                else
                        snprintf(line, sizeof line, "%s: damaged content dropped; refetch failed: %.900s", ref,
                                 err.code ? err.msg : "the catalog is offline");
                if (ok)
                        back++;
                if (list)
                        json_array_append_new(
                                list, json_pack("{s:s, s:s}", "kind", ok ? "refetched" : "lost", "detail", line));
                else
                        printf("%-8s %s\n", ok ? "refetch" : "lost", line);
                fetch_result_release(&res);
        }
        return back;
}

int cmd_verify(int argc, char **argv)
{
        struct findings f = {0};
        bool repair = false;
        const struct cli_option opts[] = {{"repair", 0, .flag = &repair}, {0}};
        const struct cli_command c = {
                "verify",
                "usage: stack verify [--repair] [--json]\n"
                "Re-hashes every object and checks the index. Exit 4 when something referenced is missing or\n"
                "corrupt; unreferenced objects and temp files are garbage (gc removes them), not damage.\n"
                "--repair drops the rows of damaged content (the versions it held become refetchable and\n"
                "stack ls lists them), removes temp files, refetches from $STACK_CATALOG when it can, and\n"
                "exits 0 when the store is whole afterwards.\n",
                opts, &f.json, .args = {0, 0, "takes no arguments"}};
        struct verify_repair_report rr = {0};
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct verify_report rep = {.problem = on_problem, .ctx = &f};
        char size[32];
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        f.list = json_array();
        r = cli_open_store(&s, &err);
        if (r == 0 && !repair)
                r = verify_store(s, &rep, &err);
        if (r == 0 && repair) {
                r = verify_repair(s, &rep, &rr, &err);
                if (rr.n_lost && refetch_lost(s, &rr, f.json ? f.list : NULL) > 0 && r == 0) {
                        struct verify_report again = {.problem = on_problem, .ctx = &f};
                        r = verify_store(s, &again, &err); /* what the refetches brought is checked too */
                        rep = again;
                }
        }
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
        verify_repair_report_release(&rr);
        store_free(s);
        return r;
}
