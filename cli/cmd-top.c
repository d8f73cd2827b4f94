/* cmd-top.c - `stack top [SLUG] [--json]`: what each running stack and each of its containers uses now (CPU %,
 * memory used / limit, network and block I/O, pids), one-shot (spec/cli.md "stack top"). */
#include "cli.h"
#include "orch/usage.h"
#include "run/runs.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct top_run {
        struct run_row row;
        struct usage_container *c;
        size_t n;
        struct usage_total total;
};

static json_t *container_json(const struct usage_container *c)
{
        json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:i}", "id", c->id, "name", c->name, "service",
                              c->service, "state", c->state, "health", c->health, "health_output",
                              c->health_output[0] ? c->health_output : NULL, "restarts", (int)c->restarts);

        if (o)
                json_object_set_new(o, "usage", c->stats ? usage_json(&c->use) : json_null());
        return o;
}

static json_t *run_json(const struct top_run *t)
{
        json_t *o =
                json_pack("{s:s, s:s, s:s, s:s?, s:i, s:o, s:o}", "id", t->row.id, "slug", t->row.slug, "state",
                          run_state_name(t->row.state), "health", t->total.health, "restarts", (int)t->total.restarts,
                          "usage", usage_json(&t->total.use), "limits", usage_limits_json(&t->total));
        json_t *a = json_array();

        for (size_t i = 0; o && a && i < t->n; i++)
                json_array_append_new(a, container_json(&t->c[i]));
        if (o)
                json_object_set_new(o, "containers", a);
        return o;
}

static void print_line(const char *name, bool indent, const struct engine_stats *u, const char *health,
                       unsigned restarts)
{
        char mu[32], ml[32], rx[32], tx[32], br[32], bw[32], mem[80], net[80], blk[80];

        snprintf(mem, sizeof mem, "%s / %s", cli_human_size(u->mem_used, mu), cli_human_size(u->mem_limit, ml));
        snprintf(net, sizeof net, "%s / %s", cli_human_size(u->net_rx, rx), cli_human_size(u->net_tx, tx));
        snprintf(blk, sizeof blk, "%s / %s", cli_human_size(u->blk_read, br), cli_human_size(u->blk_write, bw));
        printf("%s%-*s %7.2f%%  %-23s %-21s %-21s %5u  %-9s %u\n", indent ? "  " : "", indent ? 28 : 30, name,
               u->cpu_percent, mem, net, blk, u->pids, health ? health : "-", restarts);
}

static void print_run(const struct top_run *t)
{
        char head[128];

        snprintf(head, sizeof head, "%s (%s)", t->row.slug, t->row.id);
        print_line(head, false, &t->total.use, t->total.health, t->total.restarts);
        for (size_t i = 0; i < t->n; i++) {
                const struct usage_container *c = &t->c[i];
                if (c->stats)
                        print_line(c->name ? c->name : c->id, true, &c->use, c->health, c->restarts);
                else
                        printf("  %-28s %s\n", c->name ? c->name : c->id, c->state ? c->state : "?");
        }
}

/* Two samples USAGE_CPU_WINDOW_MS apart of every run at once (the CPU % is the share between them). */
static int sample(struct engine *e, struct top_run *v, size_t n, struct error *err)
{
        struct timespec wait = {USAGE_CPU_WINDOW_MS / 1000, (USAGE_CPU_WINDOW_MS % 1000) * 1000000L};
        int r = 0;

        for (size_t i = 0; r == 0 && i < n; i++)
                r = usage_sample(e, &v[i].row, NULL, 0, &v[i].c, &v[i].n, &v[i].total, err);
        if (r < 0)
                return r;
        nanosleep(&wait, NULL);
        for (size_t i = 0; r == 0 && i < n; i++) {
                struct usage_container *c = NULL;
                size_t nc = 0;
                r = usage_sample(e, &v[i].row, v[i].c, v[i].n, &c, &nc, &v[i].total, err);
                usage_containers_free(v[i].c, v[i].n);
                v[i].c = c;
                v[i].n = nc;
        }
        return r;
}

static const char help[] =
        "usage: stack top [SLUG] [--json]\n"
        "What each running stack (or SLUG's run) and each of its containers uses now: CPU %, memory used /\n"
        "limit, network and block I/O (read / written), pids, health and restarts.\n";

int cmd_top(int argc, char **argv)
{
        bool json = false;
        struct store *s = NULL;
        const struct cli_command c = {"top", help, NULL, &json, .args = {0, 1, "takes at most one SLUG"}, .store = &s};
        struct error err = ERROR_INIT;
        struct engine *e = NULL;
        struct run_row *rows = NULL;
        struct top_run *v = NULL;
        size_t n_rows = 0, n = 0;
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        r = engine_open(&e, &err);
        if (r == 0 && optind < argc) {
                n_rows = 1;
                rows = calloc(1, sizeof *rows);
                r = rows ? runs_get(s, argv[optind], rows, &err) : error_set(&err, STACK_EFAIL, "out of memory");
                if (r < 0)
                        n_rows = 0;
        } else if (r == 0)
                r = runs_list(s, &rows, &n_rows, &err);
        if (r == 0 && n_rows && !(v = calloc(n_rows, sizeof *v)))
                r = error_set(&err, STACK_EFAIL, "out of memory");
        for (size_t i = 0; r == 0 && i < n_rows; i++) /* the rows move into v */
                if (optind < argc || rows[i].state == RUN_RUNNING || rows[i].state == RUN_STARTING) {
                        v[n++].row = rows[i];
                        memset(&rows[i], 0, sizeof rows[i]);
                }
        if (r == 0)
                r = sample(e, v, n, &err);
        if (r < 0) {
                r = cli_fail(&err);
                goto done;
        }
        if (json) {
                json_t *a = json_array();
                for (size_t i = 0; a && i < n; i++)
                        json_array_append_new(a, run_json(&v[i]));
                r = cli_print_json(a);
                goto done;
        }
        if (!n) {
                printf("nothing runs (stack run SLUG starts a stack)\n");
                goto done;
        }
        printf("%-30s %8s  %-23s %-21s %-21s %5s  %-9s %s\n", "STACK / CONTAINER", "CPU %", "MEM USAGE / LIMIT",
               "NET I/O", "BLOCK I/O", "PIDS", "HEALTH", "RESTARTS");
        for (size_t i = 0; i < n; i++)
                print_run(&v[i]);
done:
        for (size_t i = 0; v && i < n; i++) {
                run_row_release(&v[i].row);
                usage_containers_free(v[i].c, v[i].n);
        }
        free(v);
        run_rows_free(rows, n_rows);
        engine_free(e);
        store_free(s);
        return r;
}
