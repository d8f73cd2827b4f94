/* cmd-swarm.c - `stack swarm status`: the Docker Swarm stack sees through its Engine (spec/run.md "Swarm"): its
 * state, its nodes (role, availability, state, address, Engine version) and the stacks that run on it with the
 * node that holds each one's data. */
#include "cli.h"
#include "run/engine.h"
#include "run/run.h"
#include "run/runs.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
        "usage: stack swarm status [--json]\n"
        "       stack swarm registry status|start|stop [--json]   the registry every node pulls from\n"
        "What stack sees of the Docker Swarm its Engine belongs to: the swarm's state, its nodes (hostname, id,\n"
        "role, availability, state, address, Engine version) and the stacks deployed on it (stack run --swarm),\n"
        "each with the node that holds its data and the registry its images come from.\n";

static json_t *nodes_json(const struct engine_node *v, size_t n)
{
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_pack("{s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:b,s:s?}", "hostname",
                                                   v[i].hostname, "id", v[i].id, "role", v[i].role, "availability",
                                                   v[i].availability, "state", v[i].state, "address", v[i].addr,
                                                   "engine", v[i].version, "leader", v[i].leader, "message",
                                                   v[i].message && *v[i].message ? v[i].message : NULL));
        return a;
}

static json_t *stacks_json(struct store *s)
{
        struct run_row *rows = NULL;
        size_t n = 0;
        json_t *a = json_array();

        if (runs_list(s, &rows, &n, NULL) < 0)
                return a;
        for (size_t i = 0; a && i < n; i++) {
                struct run_swarm sw;
                if (run_swarm_get(rows[i].run_dir, &sw) == 0)
                        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:s}", "slug", rows[i].slug, "state",
                                                           run_state_name(rows[i].state), "node", sw.node_name,
                                                           "node_id", sw.node, "registry", sw.registry));
        }
        run_rows_free(rows, n);
        return a;
}

int cmd_swarm(int argc, char **argv)
{
        bool json = false;
        struct store *s = NULL;
        const struct cli_command c = {"swarm", help, NULL, &json, .args = {1, 1, "expects status"}, .store = &s};
        struct error err = ERROR_INIT;
        struct engine *e = NULL;
        struct engine_swarm sw;
        struct engine_node *nodes = NULL;
        size_t n = 0;
        json_t *stacks = NULL;
        int r;

        if (argc > 1 && !strcmp(argv[1], "registry")) /* cli/cmd-swarm-registry.c */
                return cmd_swarm_registry(argc - 1, argv + 1);
        r = cli_parse(&c, argc, argv);
        if (r != CLI_PARSED)
                return r;
        if (strcmp(argv[optind], "status") != 0) {
                store_free(s);
                return cli_usage("swarm", "expects status");
        }
        r = engine_open(&e, &err);
        if (r == 0)
                r = engine_swarm_info(e, &sw, &err);
        if (r == 0 && sw.manager)
                r = engine_nodes(e, &nodes, &n, &err);
        if (r < 0) {
                r = cli_fail(&err);
                goto done;
        }
        stacks = stacks_json(s);
        if (json) {
                json_t *o = json_pack("{s:s,s:b,s:s,s:s,s:i,s:i}", "state", sw.state, "manager", sw.manager, "node_id",
                                      sw.node_id, "node_address", sw.node_addr, "nodes_count", sw.nodes, "managers",
                                      sw.managers);
                json_object_set_new(o, "engine", json_string(engine_socket(e)));
                json_object_set_new(o, "nodes", nodes_json(nodes, n));
                json_object_set(o, "stacks", stacks);
                r = cli_print_json(o);
                goto done;
        }
        printf("swarm: %s%s (Engine %s)\n", sw.state,
               !strcmp(sw.state, "active") ? (sw.manager ? ", this Engine is a manager"
                                                         : ", this Engine is a worker: "
                                                           "stack needs a manager")
                                           : ": `docker swarm init` makes this Engine a single-node swarm",
               engine_socket(e));
        if (n) {
                printf("%-20s %-26s %-8s %-12s %-8s %-16s %s\n", "NODE", "ID", "ROLE", "AVAILABILITY", "STATE",
                       "ADDRESS", "ENGINE");
                for (size_t i = 0; i < n; i++)
                        printf("%-20s %-26s %-8s %-12s %-8s %-16s %s%s\n", nodes[i].hostname ?: "?", nodes[i].id ?: "?",
                               nodes[i].role ?: "?", nodes[i].availability ?: "?", nodes[i].state ?: "?",
                               nodes[i].addr ?: "?", nodes[i].version ?: "?",
                               !strcmp(nodes[i].id ?: "", sw.node_id) ? "  (this one)" : "");
        }
        {
                size_t i;
                json_t *st;
                if (!json_array_size(stacks))
                        printf("no stack runs on the swarm (stack run SLUG --swarm deploys one)\n");
                json_array_foreach(stacks, i, st) printf("stack %s (%s): data on node %s, images from %s\n",
                                                         json_string_value(json_object_get(st, "slug")),
                                                         json_string_value(json_object_get(st, "state")),
                                                         json_string_value(json_object_get(st, "node")),
                                                         json_string_value(json_object_get(st, "registry")));
        }
done:
        json_decref(stacks);
        engine_nodes_free(nodes, n);
        engine_free(e);
        store_free(s);
        return r;
}
