/* cmd-fetch.c - `stack fetch SLUG[@VER]|URL|FILE`: verified content from a catalog, a URL or a file. */
#include "cli.h"
#include "fetch/fetch.h"
#include "progress.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* What fetch and import print for a result. */
int cli_print_fetch_result(const struct fetch_result *res, bool json)
{
        const struct version_info *v = &res->v;
        char tree[DIGEST_HEX_LEN + 1], down[32], added[32];

        digest_to_hex(&v->tree, tree);
        if (json) {
                json_t *o = cli_version_json(v);
                json_object_set_new(o, "cached", json_boolean(res->cached));
                json_object_set_new(o, "offline", json_boolean(res->offline));
                json_object_set_new(o, "new", json_boolean(res->new_version));
                json_object_set_new(o, "downloaded", json_integer((json_int_t)res->downloaded));
                json_object_set_new(o, "bytes_added", json_integer((json_int_t)res->added));
                return cli_print_json(o);
        }
        if (res->cached)
                printf("%s %s is already in the store (tree %.12s): nothing downloaded%s\n", v->slug, v->version, tree,
                       res->offline ? " (catalog not reached)" : "");
        else if (!res->new_version)
                printf("%s %s is already in the store (tree %.12s): now its newest fetch\n", v->slug, v->version, tree);
        else
                printf("fetched %s %s (tree %.12s): %llu files, %s read, %s new in the store, %s%s\n", v->slug,
                       v->version, tree, (unsigned long long)v->n_files, cli_human_size(res->downloaded, down),
                       cli_human_size(res->added, added), v->signer ? "signed by " : "",
                       v->signer     ? v->signer
                       : v->insecure ? "INSECURE (not signed by a trusted key)"
                                     : "unsigned");
        return 0;
}

int cmd_fetch(int argc, char **argv)
{
        static const struct option opts[] = {
                {"json", no_argument, NULL, 'j'},     {"quiet", no_argument, NULL, 'q'},
                {"insecure", no_argument, NULL, 'k'}, {"catalog", required_argument, NULL, 'c'},
                {"help", no_argument, NULL, 'h'},     {0}};
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct fetch_options fo = {.warn = cli_warn};
        struct fetch_result res = {0};
        struct progress pr;
        struct stat st;
        bool json = false, quiet = false;
        const char *what;
        int c, r;

        while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
                switch (c) {
                case 'j': json = true; break;
                case 'q': quiet = true; break;
                case 'k': fo.insecure = true; break;
                case 'c': fo.catalog = optarg; break;
                case 'h':
                        printf("usage: stack fetch SLUG[@VERSION] | URL | FILE [--catalog URL] [--insecure] [--quiet] [--json]\n"
                               "SLUG comes from the catalog at --catalog or $STACK_CATALOG (signed index.json); a URL or\n"
                               "FILE needs a .sig beside it by a trusted key. --insecure accepts unsigned content and\n"
                               "records it. Offline, a SLUG the store holds still resolves.\n");
                        return 0;
                default: return cli_usage("fetch", "unknown option");
                }
        }
        if (optind + 1 != argc)
                return cli_usage("fetch", "expects SLUG[@VERSION], URL or FILE");
        what = argv[optind];
        progress_init(&pr, what, quiet || json);
        fo.progress = progress_update;
        fo.progress_ctx = &pr;
        r = cli_open_store(&s, &err);
        if (r == 0) {
                if (strstr(what, "://") || strchr(what, '/') || (stat(what, &st) == 0 && S_ISREG(st.st_mode)))
                        r = fetch_bundle(s, what, &fo, &res, &err);
                else
                        r = fetch_ref(s, what, &fo, &res, &err);
        }
        progress_end(&pr);
        if (r < 0)
                r = cli_fail(&err);
        else
                r = cli_print_fetch_result(&res, json);
        fetch_result_release(&res);
        store_free(s);
        return r;
}
