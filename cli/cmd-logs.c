/* cmd-logs.c - `stack logs ID|SLUG [-f]`: why a run failed (its whole recorded reason), then the compose tool's
 * logs of it. */
#include "cli.h"
#include "run/run.h"
#include "run/runs.h"

#include <getopt.h>
#include <stdio.h>

int cmd_logs(int argc, char **argv)
{
        bool follow = false;
        const struct cli_option opts[] = {{"follow", 'f', .flag = &follow}, {0}};
        struct store *s = NULL;
        const struct cli_command c = {"logs", "usage: stack logs ID|SLUG [-f]\n", opts,
                                      .args = {1, 1, "expects a run ID or a SLUG"}, .store = &s};
        struct error err = ERROR_INIT;
        struct run_row row = {0};
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        if (runs_get(s, argv[optind], &row, NULL) == 0 && row.reason)
                printf("run %s of %s is %s: %s\n", row.id, row.slug, run_state_name(row.state), row.reason);
        fflush(stdout);
        r = run_logs(s, argv[optind], follow, &err);
        if (r < 0)
                r = cli_fail(&err);
        run_row_release(&row);
        store_free(s);
        return r;
}
