/* cmd-ps.c - `stack ps`: runs and their states, reconciled with the Engine. */
#include "cli.h"
#include "orch/requests.h"
#include "orch/alerts.h"
#include "orch/orch.h"
#include "orch/usage.h"
#include "run/run.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A reason as one table cell: its first line, at most REASON_CELL characters (UTF-8 kept whole), "…" when
 * cut. The whole reason is in --json and stack logs. */
#define REASON_CELL 60
static const char *reason_cell(const char *reason, char *buf, size_t size)
{
        size_t n = strcspn(reason, "\r\n"), chars = 0, i = 0;

        for (; i < n; i++)
                if (((unsigned char)reason[i] & 0xC0) != 0x80 && chars++ == REASON_CELL)
                        break;
        if (i < n || reason[n])
                snprintf(buf, size, "%.*s…", (int)i, reason);
        else
                snprintf(buf, size, "%.*s", (int)i, reason);
        return buf;
}

static void age(int64_t since, char *buf, size_t size)
{
        long long d = (long long)(time(NULL) - since);

        if (d < 120)
                snprintf(buf, size, "%llds", d);
        else if (d < 7200)
                snprintf(buf, size, "%lldm", d / 60);
        else if (d < 172800)
                snprintf(buf, size, "%lldh", d / 3600);
        else
                snprintf(buf, size, "%lldd", d / 86400);
}

/* Requests a website made through stack serve that wait for stack approve|deny (spec/api.md "Approval"); a
 * warning and none when they cannot be read. */
static void pending_list(struct store *s, struct request_row **ret, size_t *ret_n)
{
        struct error err = ERROR_INIT;

        *ret = NULL;
        *ret_n = 0;
        requests_expire(s, NULL, false, "no decision in time", NULL, NULL);
        if (requests_list(s, REQUEST_PENDING, ret, ret_n, &err) < 0)
                fprintf(stderr, "stack: warning: %s\n", err.msg);
}

/* A pending request as an entry of ps --json: its id, stack and state "pending", who asked and when. */
static json_t *pending_json(const struct request_row *p)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:I, s:I}", "id", p->id, "slug", p->slug, "state",
                         request_state_name(p->state), "ref", p->ref, "who", p->who, "origin", p->origin,
                         "requested_at", (json_int_t)p->requested_at, "expires_at", (json_int_t)p->expires_at);
}

static void print_pending(struct store *s)
{
        struct request_row *p = NULL;
        size_t n = 0;

        pending_list(s, &p, &n);
        if (n) {
                printf("%-16s %-20s %-9s %5s  %s\n", "REQUEST", "STACK", "STATE", "AGE", "ASKED BY");
                for (size_t i = 0; i < n; i++) {
                        char a[32];
                        age(p[i].requested_at, a, sizeof a);
                        printf("%-16s %-20s %-9s %5s  %s%s%s   (stack approve %s)\n", p[i].id, p[i].ref,
                               request_state_name(p[i].state), a, p[i].who, p[i].origin ? " from " : "",
                               p[i].origin ? p[i].origin : "", p[i].slug);
                }
                printf("\n");
        }
        request_rows_free(p, n);
}

/* A run's addresses (front door first, orch_list), as a JSON array of strings. */
static json_t *addresses_json(const struct run_info *info)
{
        json_t *a = json_array();

        for (size_t i = 0; i < info->n_addresses; i++)
                if (info->addresses[i].url)
                        json_array_append_new(a, json_string(info->addresses[i].url));
        return a;
}

static const char help[] = "usage: stack ps [--json]\n"
                           "Runs with their state (checked against the Engine), stack, version, age, health (and the\n"
                           "failing check's last output) and restarts; the requests waiting for approval.\n";

/* Health and restarts of the runs the Engine runs (usage.h); none when it does not answer (the state says). */
static struct usage_total *health_of(const struct run_info *v, size_t n)
{
        struct usage_total *h = calloc(n ? n : 1, sizeof *h);
        struct engine *e = NULL;

        if (!h || engine_open(&e, NULL) < 0)
                return h;
        for (size_t i = 0; i < n; i++)
                if (v[i].row.state != RUN_STOPPED && v[i].row.state != RUN_UNKNOWN && v[i].row.state != RUN_PENDING)
                        usage_health(e, &v[i].row, &h[i], NULL);
        engine_free(e);
        return h;
}

/* A run on the swarm (run_info.swarm): where its data is, its services, replicas and tasks. */
static void swarm_print(const struct run_info *i)
{
        json_t *sw = i->swarm ? json_loads(i->swarm, 0, NULL) : NULL, *s, *t;
        size_t k, j;

        if (!sw)
                return;
        printf("  on the swarm; its data on node %s\n", json_string_value(json_object_get(sw, "node")) ?: "?");
        json_array_foreach(json_object_get(sw, "services"), k, s)
        {
                printf("  service %-28s %lld/%lld", json_string_value(json_object_get(s, "name")) ?: "?",
                       json_integer_value(json_object_get(s, "running")),
                       json_integer_value(json_object_get(s, "desired")));
                json_array_foreach(json_object_get(s, "tasks"), j, t)
                {
                        const char *e = json_string_value(json_object_get(t, "error"));
                        printf("%s %s on %s%s%s%s",
                               j ? "," : "  tasks:", json_string_value(json_object_get(t, "state")) ?: "?",
                               json_string_value(json_object_get(t, "node")) ?: "?", e ? " (" : "", e ? e : "",
                               e ? ")" : "");
                }
                printf("\n");
        }
        json_decref(sw);
}

int cmd_ps(int argc, char **argv)
{
        bool json = false;
        struct store *s = NULL;
        const struct cli_command c = {"ps", help, NULL, &json, .args = {0, 0, "takes no arguments"}, .store = &s};
        struct error err = ERROR_INIT;
        struct run_info *v = NULL;
        struct usage_total *h = NULL;
        size_t n = 0;
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        r = orch_list(s, &v, &n, &err);
        if (r < 0) {
                r = cli_fail(&err);
                goto done;
        }
        h = health_of(v, n);
        if (!h) {
                error_set(&err, STACK_EFAIL, "out of memory");
                r = cli_fail(&err);
                goto done;
        }
        if (json) {
                json_t *a = json_array();
                struct request_row *p = NULL;
                size_t np = 0;
                pending_list(s, &p, &np);
                for (size_t i = 0; i < np; i++)
                        json_array_append_new(a, pending_json(&p[i]));
                request_rows_free(p, np);
                for (size_t i = 0; i < n; i++) {
                        json_t *o = orch_run_json(&v[i].row, true);
                        json_object_set_new(o, "ports", v[i].ports ? json_string(v[i].ports) : json_null());
                        json_object_set_new(o, "addresses", addresses_json(&v[i]));
                        json_object_set_new(o, "health", h[i].health ? json_string(h[i].health) : json_null());
                        json_object_set_new(o, "health_output",
                                            h[i].failing[0] ? json_string(h[i].failing) : json_null());
                        json_object_set_new(o, "restarts", json_integer(h[i].restarts));
                        json_object_set_new(o, "alerts", json_integer(alerts_count(s, v[i].row.id)));
                        orch_swarm_json(o, &v[i]);
                        json_array_append_new(a, o);
                }
                r = cli_print_json(a);
                goto done;
        }
        print_pending(s);
        if (!n) {
                printf("no runs (stack run SLUG starts one)\n");
                goto done;
        }
        printf("%-12s %-20s %-12s %-9s %5s  %-9s %8s  %-28s %s\n", "RUN", "STACK", "VERSION", "STATE", "AGE", "HEALTH",
               "RESTARTS", "PORTS", "REASON");
        for (size_t i = 0; i < n; i++) {
                char a[32], cell[4 * REASON_CELL + 8];
                unsigned k_alerts;
                age(v[i].row.created_at, a, sizeof a);
                printf("%-12s %-20s %-12s %-9s %5s  %-9s %8u  %-28s %s\n", v[i].row.id, v[i].row.slug, v[i].row.version,
                       run_state_name(v[i].row.state), a, h[i].health ? h[i].health : "-", h[i].restarts,
                       v[i].ports ? v[i].ports : "-",
                       v[i].row.reason ? reason_cell(v[i].row.reason, cell, sizeof cell) : "");
                if (h[i].failing[0])
                        printf("  health check failing: %s\n", reason_cell(h[i].failing, cell, sizeof cell));
                if ((k_alerts = alerts_count(s, v[i].row.id)))
                        printf("  %u alert%s (stack alerts lists them)\n", k_alerts, k_alerts == 1 ? "" : "s");
                for (size_t k = 0; k < v[i].n_addresses; k++)
                        if (v[i].addresses[k].url && !strncmp(v[i].addresses[k].url, "https://", 8))
                                printf("  %s\n", v[i].addresses[k].url);
                swarm_print(&v[i]);
        }
done:
        free(h);
        run_infos_free(v, n);
        store_free(s);
        return r;
}
