/* cmd-proxy.c - `stack proxy status|start|stop` and, for tests and debugging, `stack proxy route|placeholder|
 * unroute` (spec/proxy.md). */
#include "cli.h"
#include "proxy/proxy.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define USAGE                                                                                                    \
        "usage: stack proxy status [--json]     is the proxy running, on which port, with which routes\n"        \
        "       stack proxy start               start it (or reload it) from its routes table\n"                 \
        "       stack proxy stop                stop it (routes stay in the table)\n"                            \
        "       stack proxy route SLUG ADDR:PORT[,..] [--host H]       route H (default SLUG.stack.localhost)\n" \
        "       stack proxy placeholder SLUG waiting|starting|stopped|failed [--host H]   a 503 page\n"          \
        "       stack proxy unroute SLUG [--host H]                     remove SLUG's routes (or only H)\n"      \
        "Ports: STACK_PROXY_PORT (https, default 443), STACK_PROXY_HTTP_PORT (the redirect; default 80 unless\n" \
        "STACK_PROXY_PORT is set). The proxy is caddy (STACK_PROXY_BIN, else PATH).\n"

static int print_status(json_t *st)
{
        json_t *routes = json_object_get(st, "routes"), *v;
        size_t i;

        if (json_is_true(json_object_get(st, "running")))
                printf("proxy: running (pid %lld), https on 127.0.0.1:%lld",
                       json_integer_value(json_object_get(st, "pid")), json_integer_value(json_object_get(st, "port")));
        else
                printf("proxy: not running (would listen on 127.0.0.1:%lld)",
                       json_integer_value(json_object_get(st, "port")));
        if (json_integer_value(json_object_get(st, "http_port")) > 0)
                printf(", http redirect on 127.0.0.1:%lld", json_integer_value(json_object_get(st, "http_port")));
        printf("\nadmin socket: %s\nroutes: %zu\n", json_string_value(json_object_get(st, "admin")),
               json_array_size(routes));
        json_array_foreach(routes, i, v)
        {
                const char *up = json_string_value(json_object_get(v, "upstream")),
                           *root = json_string_value(json_object_get(v, "root"));

                printf("  %-40s %-16s %s%s\n", json_string_value(json_object_get(v, "address")),
                       json_string_value(json_object_get(v, "slug")),
                       up     ? "-> "
                       : root ? "files: "
                              : "placeholder: ",
                       up     ? up
                       : root ? root
                              : json_string_value(json_object_get(v, "state")));
        }
        json_decref(st);
        return 0;
}

static int parse_state(const char *s, enum proxy_state *ret)
{
        for (int i = PROXY_WAITING; i <= PROXY_FAILED; i++)
                if (strcmp(s, proxy_state_name((enum proxy_state)i)) == 0) {
                        *ret = (enum proxy_state)i;
                        return 0;
                }
        return -1;
}

int cmd_proxy(int argc, char **argv)
{
        const char *sub, *host = NULL;
        bool json = false;
        const struct cli_option opts[] = {{"host", 0, .arg = &host}, {0}};
        const struct cli_command c = {"proxy", USAGE, opts, &json,
                                      .args = {1, -1, "wants status, start, stop, route, placeholder or unroute"}};
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        char host_buf[320], addr[400];
        enum proxy_state state = PROXY_WAITING;
        json_t *st = NULL;
        int r = cli_parse(&c, argc, argv), nargs;

        if (r != CLI_PARSED)
                return r;
        sub = argv[optind++];
        nargs = argc - optind;
        if ((!strcmp(sub, "status") || !strcmp(sub, "start") || !strcmp(sub, "stop")) && nargs != 0)
                return cli_usage("proxy", "%s takes no arguments", sub);
        if ((!strcmp(sub, "route") || !strcmp(sub, "placeholder")) && nargs != 2)
                return cli_usage("proxy", "%s wants SLUG and %s", sub, !strcmp(sub, "route") ? "UPSTREAM" : "STATE");
        if (!strcmp(sub, "unroute") && nargs != 1)
                return cli_usage("proxy", "unroute wants SLUG");
        if (!strcmp(sub, "placeholder") && parse_state(argv[optind + 1], &state) < 0)
                return cli_usage("proxy", "state '%s' is not waiting, starting, stopped or failed", argv[optind + 1]);
        if (nargs > 0 && !host) {
                snprintf(host_buf, sizeof host_buf, "%.250s.%s", argv[optind], PROXY_DOMAIN);
                host = host_buf;
        }
        r = cli_open_store(&s, &err);
        if (r < 0)
                return cli_fail(&err);
        if (!strcmp(sub, "status"))
                r = proxy_status(s, &st, &err);
        else if (!strcmp(sub, "start"))
                r = proxy_start(s, &err);
        else if (!strcmp(sub, "stop"))
                r = proxy_stop(s, &err);
        else if (!strcmp(sub, "route"))
                r = proxy_route_set(s, argv[optind], host, argv[optind + 1], &err);
        else if (!strcmp(sub, "placeholder"))
                r = proxy_route_placeholder(s, argv[optind], host, state, &err);
        else if (!strcmp(sub, "unroute"))
                r = proxy_route_remove(s, argv[optind], host != host_buf ? host : NULL, &err);
        else {
                store_free(s);
                return cli_usage("proxy", "unknown subcommand '%s'", sub);
        }
        store_free(s);
        if (r < 0)
                return cli_fail(&err);
        if (st)
                return json ? cli_print_json(st) : print_status(st);
        if ((!strcmp(sub, "route") || !strcmp(sub, "placeholder")) && proxy_host_address(host, addr, sizeof addr) == 0)
                printf("%s\n", addr);
        return 0;
}
