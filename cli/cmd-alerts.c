/* cmd-alerts.c - `stack alerts [--json] [--all] [--dismiss ID]`: what the watcher of `stack serve` found
 * (orch/alerts.h, spec/run.md "Watching"). */
#include "cli.h"
#include "orch/alerts.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int cmd_alerts(int argc, char **argv)
{
        bool json = false, all = false;
        const char *dismiss = NULL;
        const struct cli_option opts[] = {{"all", 0, .flag = &all}, {"dismiss", 0, .arg = &dismiss}, {0}};
        struct store *s = NULL;
        const struct cli_command c = {
                "alerts",
                "usage: stack alerts [--json] [--all] [--dismiss ID]\nWhat the watcher of `stack serve` found: execs "
                "into a stack's containers, containers created\noutside stack, docker update, configuration drift, "
                "OOM kills, restart loops.\n--all includes the dismissed ones; --dismiss ID dismisses one.\n",
                opts,
                &json,
                .args = {0, 0, "takes no arguments"},
                .store = &s};
        struct error err = ERROR_INIT;
        struct alert *v = NULL;
        size_t n = 0;
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        if (dismiss) {
                r = alerts_dismiss(s, dismiss, &err);
                if (r < 0)
                        r = cli_fail(&err);
                else if (json)
                        r = cli_print_json(json_pack("{s:s}", "dismissed", dismiss));
                else
                        printf("dismissed alert %s\n", dismiss);
                store_free(s);
                return r;
        }
        r = alerts_list(s, all, &v, &n, &err);
        if (r < 0) {
                r = cli_fail(&err);
        } else if (json) {
                json_t *list = json_array();
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(list, alert_json(&v[i]));
                r = cli_print_json(list);
        } else if (!n) {
                printf("no alerts%s\n", all ? "" : " (--all includes the dismissed ones)");
        } else {
                printf("%-16s  %-20s  %-17s  %-17s  %-20s  %s\n", "ID", "TIME", "STACK", "KIND", "CONTAINER", "DETAIL");
                for (size_t i = 0; i < n; i++) {
                        char when[32];
                        time_t t = (time_t)(v[i].at_ms / 1000);
                        struct tm tm;
                        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
                        printf("%-16s  %-20s  %-17s  %-17s  %-20s  %s%s\n", v[i].id, when, v[i].slug, v[i].kind,
                               v[i].container ? v[i].container : "-", v[i].detail ? v[i].detail : "",
                               v[i].dismissed_at_ms ? " (dismissed)" : "");
                }
        }
        alerts_free(v, n);
        store_free(s);
        return r;
}
