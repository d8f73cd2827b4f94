/* cmd-snapshot.c - `stack snapshot SLUG`, `stack snapshots [SLUG] [--json]`, `stack restore SLUG SNAPSHOT`. */
#include "cli.h"
#include "orch/upgrade.h"
#include "run/snapshot.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void say(void *ctx, const char *line)
{
        (void)ctx;
        printf("%s\n", line);
        fflush(stdout);
}

/* --json is stack snapshots'; snapshot and restore refuse it. */
static const struct cli_option no_json[] = {{"json", 0, .flag = NULL}, {0}};

static const char snapshot_help[] =
        "usage: stack snapshot SLUG\n"
        "Snapshot the stack's data dir and named volumes into the store (stack snapshots lists them,\n"
        "stack restore SLUG ID puts one back). Stop the stack first for a consistent copy of a database.\n";

int cmd_snapshot(int argc, char **argv)
{
        struct error err = ERROR_INIT;
        struct snapshot_row row = {0};
        struct snapshot_hooks h = {.warn = cli_warn};
        char size[32];
        struct store *s = NULL;
        const struct cli_command c = {"snapshot", snapshot_help, no_json, .args = {1, 1, "takes one SLUG"},
                                      .store = &s};
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        r = snapshot_take_manual(s, argv[optind], &h, &row, &err);
        if (r == 0)
                printf("snapshot %s of %s: %llu files, %s (%llu bytes new in the store)%s%s\n", row.id, row.slug,
                       (unsigned long long)row.files, cli_human_size(row.size, size), (unsigned long long)row.added,
                       *row.volumes ? "; volumes: " : "", row.volumes);
        snapshot_row_release(&row);
        store_free(s);
        return r < 0 ? cli_fail(&err) : 0;
}

static const char snapshots_help[] = "usage: stack snapshots [SLUG] [--json]\n"
                                     "A stack's snapshots, newest first: id, time, version, reason, size.\n";

int cmd_snapshots(int argc, char **argv)
{
        struct error err = ERROR_INIT;
        struct snapshot_row *v = NULL;
        size_t n = 0;
        bool json = false;
        struct store *s = NULL;
        const struct cli_command c = {"snapshots", snapshots_help, NULL, &json, .args = {0, 1, "takes one SLUG"},
                                      .store = &s};
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        r = snapshot_list(s, optind < argc ? argv[optind] : NULL, &v, &n, &err);
        if (r == 0 && json) {
                json_t *a = json_array();
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(a, snapshot_row_json(&v[i]));
                r = cli_print_json(a);
        } else if (r == 0) {
                printf("%-12s  %-20s  %-16s  %-12s  %-8s  %s\n", "ID", "TIME", "STACK", "VERSION", "REASON", "SIZE");
                for (size_t i = 0; i < n; i++) {
                        char t[32], size[32];
                        time_t tt = (time_t)v[i].created_at;
                        strftime(t, sizeof t, "%Y-%m-%d %H:%M:%S", localtime(&tt));
                        printf("%-12s  %-20s  %-16s  %-12s  %-8s  %s\n", v[i].id, t, v[i].slug, v[i].version,
                               v[i].reason, cli_human_size(v[i].size, size));
                }
        }
        snapshot_rows_free(v, n);
        store_free(s);
        return r < 0 ? cli_fail(&err) : r;
}

static const char restore_help[] =
        "usage: stack restore SLUG SNAPSHOT\n"
        "Stops the stack, puts its data dir and named volumes back exactly as in SNAPSHOT (a\n"
        "snapshot of SLUG: another stack's is refused, exit 3), and starts it again.\n"
        "The data as it was is snapshot first (reason restore).\n";

int cmd_restore(int argc, char **argv)
{
        struct upgrade_options uo = {.orch = {.run = {.warn = cli_warn}}, .settle_s = -1, .say = say};
        struct upgrade_result res = {0};
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        const struct cli_command c = {"restore", restore_help, no_json, .args = {2, 2, "takes SLUG SNAPSHOT"},
                                      .store = &s};
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        r = orch_restore(s, argv[optind], argv[optind + 1], &uo, &res, &err);
        if (r == 0)
                printf("restored %s from snapshot %s%s%s\n", argv[optind], argv[optind + 1],
                       res.info.row.id[0] ? ", run " : " (it was not running: not started)",
                       res.info.row.id[0] ? res.info.row.id : "");
        upgrade_result_release(&res);
        store_free(s);
        return r < 0 ? cli_fail(&err) : 0;
}
