/* cmd-ls.c - `stack ls [SLUG]`: the versions the store holds. */
#include "cli.h"
#include "store/index.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char help[] = "usage: stack ls [SLUG] [--json]\n"
                           "Lists the versions in the store, newest fetch first.\n";

int cmd_ls(int argc, char **argv)
{
        bool json = false;
        struct store *s = NULL;
        const struct cli_command c = {"ls", help, NULL, &json, .args = {0, 1, "expects at most one SLUG"}, .store = &s};
        struct error err = ERROR_INIT;
        struct version_info *v = NULL;
        struct lost_version *lost = NULL;
        size_t n = 0, n_lost = 0;
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        r = index_list_versions(store_index(s), optind < argc ? argv[optind] : NULL, &v, &n, &err);
        if (r < 0) {
                r = cli_fail(&err);
                goto done;
        }
        if (json) {
                json_t *a = json_array();
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(a, cli_version_json(&v[i]));
                r = cli_print_json(a);
                goto done;
        }
        if (index_list_lost(store_index(s), &lost, &n_lost, NULL) < 0)
                n_lost = 0;
        if (n == 0 && n_lost == 0) {
                printf("the store holds no stacks yet (stack import FILE adds one)\n");
                goto done;
        }
        printf("%-24s %-12s %6s %10s %10s  %-12s %-16s %s\n", "SLUG", "VERSION", "FILES", "SIZE", "IMAGES", "TREE",
               "FETCHED", "SIGNER");
        for (size_t i = 0; i < n; i++) {
                char tree[DIGEST_HEX_LEN + 1], size[32], images[32] = "-", when[32];
                time_t t = (time_t)v[i].fetched_at;
                struct tm tm;

                digest_to_hex(&v[i].tree, tree);
                strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime_r(&t, &tm));
                if (v[i].image_bytes) /* registry images kept for it (stack show lists them) */
                        cli_human_size(v[i].image_bytes, images);
                printf("%-24s %-12s %6llu %10s %10s  %.12s %-16s %s\n", v[i].slug, v[i].version,
                       (unsigned long long)v[i].n_files, cli_human_size(v[i].size, size), images, tree, when,
                       v[i].signer     ? v[i].signer
                       : v[i].insecure ? "insecure"
                                       : "unsigned");
        }
        /* Versions verify --repair dropped because their content was damaged. */
        for (size_t i = 0; i < n_lost; i++)
                if (optind >= argc || !strcmp(lost[i].slug, argv[optind]))
                        printf("%-24s %-12s lost: damaged content dropped by verify --repair; stack fetch %s@%s brings "
                               "it back\n",
                               lost[i].slug, lost[i].version, lost[i].slug, lost[i].version);
done:
        lost_versions_free(lost, n_lost);
        version_list_free(v, n);
        store_free(s);
        return r;
}
