/* cmd-approve.c - `stack approve ID|SLUG`, `stack deny ID|SLUG [--reason R]` (the daemon's waiting POST /run
 * requests, spec/api.md "Approval"; what approving one approves is printed first, orch/approval.h) and `stack trust-stack add|ls|rm SLUG` (the stacks a token starts at once). */
#include "cli.h"
#include "orch/approval.h"
#include "orch/requests.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

/* What the request approves (approval_describe's object), before the decision. */
static void print_approval(const struct request_row *row, const json_t *a)
{
        const char *signer = json_string_value(json_object_get(a, "signer"));
        const char *fp = json_string_value(json_object_get(a, "fingerprint"));
        json_t *limits = json_object_get(a, "limits"), *v;
        char sz[32], sz2[32];
        size_t i;

        printf("request %s: %s, asked by %s%s%s\n", row->id, row->ref, row->who, row->origin ? " from " : "",
               row->origin ? row->origin : "");
        if (!json_is_true(json_object_get(a, "in_store"))) {
                printf("  not in the store yet: fetched from the catalog once approved\n");
                return;
        }
        printf("  signer:      %s%s%s%s\n", signer ? signer : "unsigned", fp ? " (" : "", fp ? fp : "", fp ? ")" : "");
        printf("  permissions:");
        json_array_foreach(json_object_get(a, "permissions"), i, v)
                printf("%s %s%s", i ? "," : "", json_string_value(json_object_get(v, "name")),
                       json_is_true(json_object_get(v, "granted")) ? " (granted already)" : "");
        printf("%s\n", json_array_size(json_object_get(a, "permissions")) ? "" : " none beyond the default sandbox");
        json_array_foreach(json_object_get(a, "images"), i, v)
        {
                json_t *size = json_object_get(v, "size");
                printf("  %s %s (%s%s%s)\n",
                       i ? "            " : "images:     ", json_string_value(json_object_get(v, "ref")),
                       json_is_integer(size) ? cli_human_size((uint64_t)json_integer_value(size), sz) : "size unknown",
                       json_is_true(json_object_get(v, "cached")) ? ", cached" : ", to pull",
                       strcmp(json_string_value(json_object_get(v, "source")), "bundle") ? "" : ", in the bundle");
        }
        json_array_foreach(json_object_get(a, "ports"), i, v)
        {
                const char *label = json_string_value(json_object_get(v, "label"));
                printf("  %s %s %d%s%s\n",
                       i ? "            " : "ports:      ", json_string_value(json_object_get(v, "service")),
                       (int)json_integer_value(json_object_get(v, "port")), label ? " " : "", label ? label : "");
        }
        json_array_foreach(json_object_get(a, "addresses"), i, v)
                printf("  %s %s\n", i ? "            " : "address:    ", json_string_value(v));
        printf("  limits:      %g CPUs, %s memory, %d processes per container\n",
               json_number_value(json_object_get(limits, "cpus")),
               cli_human_size((uint64_t)json_integer_value(json_object_get(limits, "memory")), sz),
               (int)json_integer_value(json_object_get(limits, "pids")));
        printf("  store:       %s%s%s\n", cli_human_size((uint64_t)json_integer_value(json_object_get(a, "size")), sz),
               json_integer_value(json_object_get(a, "image_bytes")) ? ", registry images " : "",
               json_integer_value(json_object_get(a, "image_bytes"))
                       ? cli_human_size((uint64_t)json_integer_value(json_object_get(a, "image_bytes")), sz2)
                       : "");
}

int cmd_approve(int argc, char **argv)
{
        bool approve = strcmp(argv[0], "deny") != 0; /* stack deny: the same with approve false */
        const char *cmd = approve ? "approve" : "deny", *reason = NULL;
        const struct cli_option opts[] = {{"reason", 0, .arg = approve ? NULL : &reason}, {0}};
        char help[512];
        struct store *s = NULL;
        const struct cli_command c = {cmd, help, opts, .args = {1, 1, "expects a request ID or a SLUG"}, .store = &s};
        struct error err = ERROR_INIT;
        struct request_row row = {0};
        int r;

        snprintf(help, sizeof help,
                 "usage: stack %s ID|SLUG%s\n%s the request a website made through stack serve (ID, or the oldest "
                 "pending one\nfor SLUG; stack ps lists them). The daemon notices within a second.\n",
                 cmd, approve ? "" : " [--reason TEXT]", approve ? "Approves" : "Denies");
        r = cli_parse(&c, argc, argv);
        if (r != CLI_PARSED)
                return r;
        r = requests_find_pending(s, argv[optind], &row, &err);
        if (r == 0) {
                struct engine *e = NULL;
                json_t *a = NULL;
                if (engine_open(&e, NULL) < 0)
                        e = NULL; /* then an image counts as cached only when the store holds it */
                if (approval_describe(s, e, row.ref, &a, NULL) == 0)
                        print_approval(&row, a);
                json_decref(a);
                engine_free(e);
        }
        if (r == 0)
                r = requests_decide(
                        s, row.id, approve ? REQUEST_APPROVED : REQUEST_DENIED,
                        approve ? "approved with stack approve" : (reason ? reason : "denied with stack deny"), &err);
        if (r < 0)
                r = cli_fail(&err);
        else
                printf("%s request %s: %s (asked by %s%s%s)\n", approve ? "approved" : "denied", row.id, row.ref,
                       row.who, row.origin ? " from " : "", row.origin ? row.origin : "");
        request_row_release(&row);
        store_free(s);
        return r;
}

int cmd_trust_stack(int argc, char **argv)
{
        const struct cli_command c = {
                "trust-stack",
                "usage: stack trust-stack add SLUG | ls | rm SLUG\nThe trusted list: a POST /run with a valid token for "
                "a stack on it starts at once;\nany other request (and every one without a token) waits for stack "
                "approve.\n",
                .args = {0, -1, NULL}, .no_options = true};
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        const char *sub = argc > 1 ? argv[1] : "";
        char **v = NULL;
        size_t n = 0;
        int r;

        r = cli_parse(&c, argc, argv);
        if (r != CLI_PARSED)
                return r;
        if (!((!strcmp(sub, "ls") && argc == 2) || ((!strcmp(sub, "add") || !strcmp(sub, "rm")) && argc == 3)))
                return cli_usage("trust-stack", "expects add SLUG, ls or rm SLUG");
        r = cli_open_store(&s, &err);
        if (r == 0 && !strcmp(sub, "add"))
                r = trusted_stack_add(s, argv[2], &err);
        else if (r == 0 && !strcmp(sub, "rm"))
                r = trusted_stack_remove(s, argv[2], &err);
        else if (r == 0)
                r = trusted_stack_list(s, &v, &n, &err);
        if (r < 0)
                r = cli_fail(&err);
        else if (!strcmp(sub, "ls"))
                for (size_t i = 0; i < n; i++)
                        printf("%s\n", v[i]);
        else
                printf("%s %s the trusted list\n", argv[2], !strcmp(sub, "add") ? "is on" : "is off");
        request_strv_free(v, n);
        store_free(s);
        return r;
}
