/* cmd-logs.c - `stack logs ID|SLUG [-f]`: why a run failed (its whole recorded reason), then the compose tool's
 * logs of it. */
#include "cli.h"
#include "run/run.h"
#include "run/runs.h"

#include <getopt.h>
#include <stdio.h>

int cmd_logs(int argc, char **argv)
{
        static const struct option opts[] = {{"follow", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {0}};
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct run_row row = {0};
        bool follow = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
                if (c == 'f')
                        follow = true;
                else if (c == 'h') {
                        printf("usage: stack logs ID|SLUG [-f]\n");
                        return 0;
                } else
                        return cli_usage("logs", "unknown option");
        }
        if (optind + 1 != argc)
                return cli_usage("logs", "expects a run ID or a SLUG");
        r = cli_open_store(&s, &err);
        if (r == 0 && runs_get(s, argv[optind], &row, NULL) == 0 && row.reason)
                printf("run %s of %s is %s: %s\n", row.id, row.slug, run_state_name(row.state), row.reason);
        if (r == 0) {
                fflush(stdout);
                r = run_logs(s, argv[optind], follow, &err);
        }
        if (r < 0)
                r = cli_fail(&err);
        run_row_release(&row);
        store_free(s);
        return r;
}
