/* cmd-swarm-registry.c - `stack swarm registry status|start|stop`: the managed registry the swarm backend pushes
 * a version's images to (spec/run.md "The managed registry"). cmd_swarm_registry() is called by `stack swarm`
 * with argv[0] "registry" and the subcommand in argv[1].
 */
#include "cli.h"
#include "run/swarm-registry.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define USAGE                                                                                                       \
        "usage: stack swarm registry status [--json]   is the managed registry running, where, with what storage\n" \
        "       stack swarm registry start             start it (it starts by itself before a swarm deploy)\n"      \
        "       stack swarm registry stop              stop it (what it stores stays)\n"                            \
        "Settings: $STACK_HOME/config.json \"swarm\": {\"registry_port\": 45000, \"registry_addr\": \"IP\"}, or\n"  \
        "{\"registry\": \"host:port\"} for a registry you run (then stack starts none).\n"

static int print_status(const struct swreg_status *st, bool json)
{
        if (json) {
                json_t *j = json_pack("{s:b, s:s, s:b, s:b}", "managed", st->managed, "host", st->host, "running",
                                      st->pid > 0, "answers", st->answers);

                if (j && st->managed) {
                        json_object_set_new(j, "pid", json_integer(st->pid));
                        json_object_set_new(j, "dir", json_string(st->dir));
                }
                return cli_print_json(j);
        }
        if (!st->managed)
                printf("registry: %s (named in config.json: stack starts none)\n", st->host);
        else if (st->pid)
                printf("registry: running (pid %d) on http://%s/v2/, %s\nstorage: %s/data\n", (int)st->pid, st->host,
                       st->answers ? "answering" : "not answering", st->dir);
        else
                printf("registry: not running (would listen on %s)\nstorage: %s/data\n", st->host, st->dir);
        return 0;
}

int cmd_swarm_registry(int argc, char **argv)
{
        bool json = false;
        struct store *s = NULL;
        const struct cli_command c = {
                "swarm registry", USAGE, NULL, &json, .args = {1, 1, "wants status, start or stop"}, .store = &s};
        struct error err = ERROR_INIT;
        struct swreg_options o;
        struct swreg_status st;
        char buf[1024], host[320];
        const char *sub;
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        sub = argv[optind];
        if (strcmp(sub, "status") && strcmp(sub, "start") && strcmp(sub, "stop")) {
                store_free(s);
                return cli_usage("swarm registry", "unknown subcommand '%s'", sub);
        }
        if (json && strcmp(sub, "status")) {
                store_free(s);
                return cli_usage("swarm registry", "--json goes with status");
        }
        r = swreg_options_load(store_home(s), &o, buf, sizeof buf, &err);
        if (r == 0 && !strcmp(sub, "status"))
                r = swreg_status(s, &o, &st, &err);
        else if (r == 0 && !strcmp(sub, "start"))
                r = swreg_ensure(s, &o, host, sizeof host, &err);
        else if (r == 0)
                r = swreg_stop(s, &err);
        store_free(s);
        if (r < 0)
                return cli_fail(&err);
        if (!strcmp(sub, "status"))
                return print_status(&st, json);
        if (!strcmp(sub, "start"))
                printf("%s\n", host);
        return 0;
}
