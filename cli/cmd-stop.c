/* cmd-stop.c - `stack stop ID|SLUG` and `stack rm ID|SLUG [--purge]`. */
#include "cli.h"
#include "orch/orch.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int cmd_stop(int argc, char **argv)
{
        bool rm = !strcmp(argv[0], "rm"); /* stack rm: the same with rm true */
        bool purge = false;
        const struct cli_option opts[] = {{"purge", 0, .flag = rm ? &purge : NULL}, {0}};
        struct store *s = NULL;
        const struct cli_command c = {
                rm ? "rm" : "stop",
                rm ? "usage: stack rm ID|SLUG [--purge]\nTakes the run down and removes its run dir. The stack's "
                     "versions, volumes and data dir stay\nunless --purge (which deletes its named volumes and "
                     "$STACK_HOME/data/SLUG).\n"
                   : "usage: stack stop ID|SLUG\nStops the run's containers (they stay; stack run starts them "
                     "again).\n",
                opts, .args = {1, 1, "expects a run ID or a SLUG"}, .store = &s};
        struct error err = ERROR_INIT;
        struct run_row row = {0};
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
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
