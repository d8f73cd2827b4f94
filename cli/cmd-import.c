/* cmd-import.c - `stack import FILE`: a bundle someone handed over, into the store. No signature needed
 * (recorded as unsigned); a FILE.sig beside it is checked and recorded, and a bad one refuses the file. */
#include "cli.h"
#include "fetch/fetch.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int cmd_import(int argc, char **argv)
{
        bool json = false;
        const struct cli_command c = {
                "import",
                "usage: stack import FILE [--json]\n"
                "Adds a bundle file (zstd or gzip tar) to the store, recorded as unsigned; a FILE.sig\n"
                "beside it must verify against a trusted key and is recorded.\n",
                NULL, &json, .args = {1, 1, "expects one FILE"}};
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct fetch_options fo = {.allow_unsigned = true, .warn = cli_warn};
        struct fetch_result res = {0};
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        if (strstr(argv[optind], "://"))
                return cli_usage("import", "takes a local FILE; use stack fetch for a URL");
        r = cli_open_store(&s, &err);
        if (r == 0)
                r = fetch_bundle(s, argv[optind], &fo, &res, &err);
        if (r < 0) {
                r = cli_fail(&err);
        } else if (json || !res.new_version) {
                r = cli_print_fetch_result(&res, json);
        } else {
                char tree[DIGEST_HEX_LEN + 1], sz[32], added[32];
                digest_to_hex(&res.v.tree, tree);
                printf("imported %s %s: tree %.12s, %llu files, %s bundle, %s new in the store (%s)\n", res.v.slug,
                       res.v.version, tree, (unsigned long long)res.v.n_files, cli_human_size(res.downloaded, sz),
                       cli_human_size(res.added, added), res.v.signer ? res.v.signer : "unsigned");
        }
        fetch_result_release(&res);
        store_free(s);
        return r;
}
