/* cmd-stop.c - `stack stop ID|SLUG` and `stack rm ID|SLUG [--purge]`. */
#include "cli.h"
#include "orch/orch.h"

#include <getopt.h>
#include <stdio.h>

static int stop_or_rm(int argc, char **argv, bool rm)
{
        static const struct option opts[] = {{"purge", no_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'}, {0}};
        const char *cmd = rm ? "rm" : "stop";
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct run_row row = {0};
        bool purge = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'p' && rm)
                        purge = true;
                else if (c == 'h') {
                        if (rm)
                                printf("usage: stack rm ID|SLUG [--purge]\nTakes the run down and removes its run dir. The "
                                       "stack's versions, volumes and data dir stay\nunless --purge (which deletes its "
                                       "named volumes and $STACK_HOME/data/SLUG).\n");
                        else
                                printf("usage: stack stop ID|SLUG\nStops the run's containers (they stay; stack run starts "
                                       "them again).\n");
                        return 0;
                } else
                        return cli_usage(cmd, "unknown option");
        }
        if (optind + 1 != argc)
                return cli_usage(cmd, "expects a run ID or a SLUG");
        r = cli_open_store(&s, &err);
        if (r == 0)
                r = rm ? orch_remove(s, argv[optind], purge, cli_warn, NULL, &row, &err)
                       : orch_stop(s, argv[optind], false, false, cli_warn, NULL, &row, &err);
        if (r < 0)
                r = cli_fail(&err);
        else if (rm && !row.id[0])
                printf("removed what was left of %s%s\n", row.slug, purge ? " and its data" : "");
        else if (rm)
                printf("removed run %s of %s%s\n", row.id, row.slug,
                       purge ? " and its data" : " (its data and versions stay; --purge deletes the data)");
        else
                printf("stopped run %s of %s\n", row.id, row.slug);
        run_row_release(&row);
        store_free(s);
        return r;
}

int cmd_stop(int argc, char **argv)
{
        return stop_or_rm(argc, argv, false);
}

int cmd_rm(int argc, char **argv)
{
        return stop_or_rm(argc, argv, true);
}
