/* cmd-fetch.c - `stack fetch SLUG[@VER]|URL|FILE`: verified content from a catalog, a URL or a file. */
#include "cli.h"
#include "fetch/fetch.h"
#include "run/run.h"
#include "progress.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int cmd_fetch(int argc, char **argv)
{
        struct fetch_options fo = {.warn = cli_warn};
        bool json = false, quiet = false, images = false;
        const struct cli_option opts[] = {{"quiet", 'q', .flag = &quiet},
                                          {"images", 0, .flag = &images},
                                          {"insecure", 0, .flag = &fo.insecure},
                                          {"catalog", 0, .arg = &fo.catalog},
                                          {0}};
        const struct cli_command c = {
                "fetch",
                "usage: stack fetch SLUG[@VERSION] | URL | FILE [--images] [--catalog URL] [--insecure] [--quiet]\n"
                "                   [--json]\n"
                "SLUG comes from the catalog at --catalog or $STACK_CATALOG (signed index.json); a URL or\n"
                "FILE needs a .sig beside it by a trusted key. --insecure accepts unsigned content and\n"
                "records it. Offline, a SLUG the store holds still resolves. --images also makes its images\n"
                "ready: registry images pulled, pinned to the version and kept in the store, as a run would.\n",
                opts, &json, .args = {1, 1, "expects SLUG[@VERSION], URL or FILE"}};
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct fetch_result res = {0};
        struct progress pr;
        struct stat st;
        const char *what;
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
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
        if (r == 0 && images) {
                struct run_options ro = {
                        .warn = cli_warn, .pull_progress = progress_pull, .note = progress_note, .pull_ctx = &pr};
                struct run_info info = {0};
                r = run_images(s, &res.v, &ro, &info, &err);
                run_info_release(&info);
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
