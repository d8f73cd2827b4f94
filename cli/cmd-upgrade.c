/* cmd-upgrade.c - `stack upgrade SLUG [--to VER] [--offline]`, `stack upgrade --abandon SLUG` and
 * `stack rollback SLUG`. */
#include "cli.h"
#include "progress.h"
#include "orch/upgrade.h"
#include "run/policy.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void say(void *ctx, const char *line)
{
        (void)ctx;
        printf("%s\n", line);
        fflush(stdout);
}

static void print_step(void *ctx, const char *step, double seconds)
{
        (void)ctx;
        fprintf(stderr, "timing: %-8s %.3f s\n", step, seconds);
}

int cmd_upgrade(int argc, char **argv)
{
        bool upgrade = strcmp(argv[0], "rollback") != 0; /* stack rollback: the same with upgrade false */
        const char *cmd = upgrade ? "upgrade" : "rollback";
        struct upgrade_options uo = {.orch = {.run = {.warn = cli_warn}}, .settle_s = -1, .say = say};
        bool abandon = false, timings = false;
        const struct cli_option opts[] = {{"to", 0, .arg = &uo.to},
                                          {"offline", 0, .flag = &uo.orch.offline},
                                          {"pull", 0, .flag = &uo.pull},
                                          {"catalog", 0, .arg = &uo.orch.catalog},
                                          {"insecure", 0, .flag = &uo.orch.insecure},
                                          {"settle", 0, .number = &uo.settle_s},
                                          {"timeout", 0, .number = &uo.orch.run.timeout_s},
                                          {"timings", 0, .flag = &timings},
                                          {"abandon", 0, .flag = &abandon},
                                          {0}};
        char help[1536];
        const struct cli_command c = {cmd, help, opts, .args = {1, 1, "takes one SLUG"}};
        struct upgrade_result res = {0};
        struct progress pr;
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        int r;

        if (upgrade)
                snprintf(help, sizeof help,
                         "usage: stack upgrade SLUG [--to VER] [--offline | --pull] [--settle S] [--timings]\n"
                         "Upgrades a stack to the catalog's newest version (--offline: the store's newest;\n"
                         "--to VER: that one). The new version is prepared beside the running one, the\n"
                         "data dir and named volumes are snapshot, then old down, new up, and it must stay\n"
                         "healthy (healthchecks, or every container running for --settle S, default %d s).\n"
                         "Otherwise it rolls back: new down, data restored, old up (exit 5).\n"
                         "External volumes and host binds granted with --allow host-bind are not snapshot.\n"
                         "--pull pulls the registry images' tags again and pins the version to what comes\n"
                         "(the running version too: an upgrade of its images, rolled back the same way).\n"
                         "stack upgrade --abandon SLUG gives up on an upgrade whose rollback could not\n"
                         "complete (each command retries it until then) and says what state the stack is in.\n",
                         UPGRADE_SETTLE_S);
        else
                snprintf(help, sizeof help,
                         "usage: stack rollback SLUG\nBack to the version that ran before the last upgrade, with the "
                         "data restored from the snapshot\ntaken before it (the data as it is now is snapshot "
                         "first).\n");
        r = cli_parse(&c, argc, argv);
        if (r != CLI_PARSED)
                return r;
        if (timings)
                uo.orch.run.step = print_step;
        abandon = abandon && upgrade; /* rollback takes --abandon and ignores it, as it always did */
        if (!upgrade && (uo.to || uo.orch.offline || uo.pull))
                return cli_usage(cmd, "takes no --to, --offline or --pull");
        if (uo.pull && uo.orch.offline)
                return cli_usage(cmd, "--pull needs the registry: not with --offline");
        if (abandon) {
                char *said = NULL;
                if (uo.to || uo.orch.offline || uo.orch.catalog)
                        return cli_usage(cmd, "--abandon takes no --to, --offline or --catalog");
                r = cli_open_store(&s, &err);
                if (r == 0)
                        r = upgrade_abandon(s, argv[optind], &said, &err);
                if (r == 0)
                        printf("%s\n", said);
                free(said);
                store_free(s);
                return r < 0 ? cli_fail(&err) : 0;
        }
        progress_init(&pr, argv[optind], false);
        uo.orch.run.pull_progress = progress_pull;
        uo.orch.run.note = progress_note;
        uo.orch.run.pull_ctx = &pr;
        r = cli_open_store(&s, &err);
        if (r == 0)
                r = upgrade ? orch_upgrade(s, argv[optind], &uo, &res, &err)
                            : orch_rollback(s, argv[optind], &uo, &res, &err);
        if (r == 0 && upgrade && !res.nothing && !res.fresh && res.from && res.to && !strcmp(res.from, res.to))
                printf("upgraded %s %s: images pulled again and pinned, run %s (snapshot %s holds the data as it "
                       "was)\n",
                       argv[optind], res.to, res.info.row.id, res.snapshot ? res.snapshot : "-");
        else if (r == 0 && upgrade && !res.nothing && !res.fresh)
                printf("upgraded %s: %s -> %s, run %s (snapshot %s holds the data as it was; stack rollback %s goes "
                       "back)\n",
                       argv[optind], res.from, res.to, res.info.row.id, res.snapshot ? res.snapshot : "-",
                       argv[optind]);
        else if (r == 0 && upgrade && res.fresh)
                printf("started %s %s, run %s\n", argv[optind], res.to, res.info.row.id);
        else if (r == 0 && !upgrade)
                printf("rolled back %s: %s -> %s, run %s, data restored from before the upgrade (the data it had is "
                       "in snapshot %s)\n",
                       argv[optind], res.from ? res.from : "?", res.to, res.info.row.id, res.snapshot);
        if (r == 0 && (!res.nothing || res.fresh))
                printf("not snapshot: external volumes and host paths granted with --allow host-bind\n");
        upgrade_result_release(&res);
        store_free(s);
        return r < 0 ? cli_fail(&err) : 0;
}
