/* cli.c - what the commands share (cli.h): the option parser, the one-line failure and usage messages, the
 * store opener and the output helpers. */
#include "cli.h"
#include "fetch/fetch.h"
#include "run/policy.h"
#include "store/index.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPTIONS 16
#define VAL_BASE    256 /* getopt_long's val for option i without a short name: VAL_BASE + i */
#define VAL_JSON    (VAL_BASE + MAX_OPTIONS)

/* The options of argv (getopt_long over a table made from cmd's): CLI_PARSED, or the exit code to return. */
static int read_options(const struct cli_command *cmd, int argc, char **argv)
{
        struct option longs[MAX_OPTIONS + 3] = {{0}};
        char shorts[2 * MAX_OPTIONS + 2] = "h";
        size_t n = 0, ns = 1;
        int c, r;

        for (; cmd->options && cmd->options[n].name; n++) {
                const struct cli_option *o = &cmd->options[n];
                bool takes_arg = o->arg || o->number || o->parse;

                if (n == MAX_OPTIONS)
                        abort(); /* a table this file was not made for: a programming error */
                longs[n] = (struct option){o->name, takes_arg ? required_argument : no_argument, NULL,
                                           o->short_name ? o->short_name : VAL_BASE + (int)n};
                if (o->short_name) {
                        shorts[ns++] = o->short_name;
                        if (takes_arg)
                                shorts[ns++] = ':';
                }
        }
        longs[n++] = (struct option){"help", no_argument, NULL, 'h'};
        if (cmd->json)
                longs[n] = (struct option){"json", no_argument, NULL, VAL_JSON};
        while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
                const struct cli_option *o = NULL;

                if (c == 'h') {
                        fputs(cmd->help, stdout);
                        return 0;
                }
                if (c == VAL_JSON) {
                        *cmd->json = true;
                        continue;
                }
                for (size_t i = 0; cmd->options && cmd->options[i].name && !o; i++)
                        if (c == (cmd->options[i].short_name ? cmd->options[i].short_name : VAL_BASE + (int)i))
                                o = &cmd->options[i];
                if (!o || !(o->flag || o->arg || o->number || o->parse))
                        return cli_usage(cmd->name, "unknown option");
                if (o->flag)
                        *o->flag = true;
                else if (o->arg)
                        *o->arg = optarg;
                else if (o->number)
                        *o->number = atoi(optarg);
                else if ((r = o->parse(o->ctx, cmd->name, optarg)) != 0)
                        return r;
        }
        return CLI_PARSED;
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv)
{
        int r;

        if (!cmd->no_options) {
                r = read_options(cmd, argc, argv);
                if (r != CLI_PARSED)
                        return r;
        } else if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
                fputs(cmd->help, stdout);
                return 0;
        } else {
                optind = 1;
        }
        if (argc - optind < cmd->args.min || (cmd->args.max >= 0 && argc - optind > cmd->args.max))
                return cli_usage(cmd->name, "%s", cmd->args.usage);
        for (const struct cli_option *o = cmd->options; o && o->name; o++) {
                if (o->arg && o->need && (!*o->arg || !**o->arg))
                        return cli_usage(cmd->name, "%s", o->need);
                if (o->arg && o->empty && *o->arg && !**o->arg)
                        return cli_usage(cmd->name, "%s", o->empty);
        }
        if (cmd->store) {
                struct error err = ERROR_INIT;

                if (cli_open_store(cmd->store, &err) < 0)
                        return cli_fail(&err);
        }
        return CLI_PARSED;
}

int cli_fail(const struct error *err)
{
        fprintf(stderr, "stack: %s\n", err->code ? err->msg : "failed");
        return err->code ? stack_exit_code(err->code) : STACK_EXIT_FAIL;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "stack %s: ", cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (see stack %s --help)\n", cmd);
        return STACK_EXIT_USAGE;
}

int cli_open_store(struct store **ret, struct error *err)
{
        return store_open(NULL, ret, err);
}

int cli_load_version(struct store *s, const char *ref, struct version_info *v, struct tree *t, struct error *err)
{
        int r = index_resolve_ref(store_index(s), ref, v, err);

        return r < 0 ? r : index_load_tree(store_index(s), &v->tree, t, err);
}

void cli_warn(void *ctx, const char *line)
{
        (void)ctx;
        fprintf(stderr, "stack: warning: %s\n", line);
}

const char *cli_human_size(uint64_t bytes, char *buf)
{
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = (double)bytes;
        int u = 0;

        while (v >= 1024 && u < 4) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, 32, "%llu B", (unsigned long long)bytes);
        else
                snprintf(buf, 32, "%.1f %s", v, units[u]);
        return buf;
}

int cli_print_json(json_t *v)
{
        int r;

        if (!v)
                return STACK_EXIT_FAIL;
        r = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(v);
        fputc('\n', stdout);
        return r < 0 ? STACK_EXIT_FAIL : 0;
}

int cli_allow_arg(void *bits, const char *cmd, const char *name)
{
        unsigned bit = policy_perm_from_name(name);

        if (!bit)
                return cli_usage(cmd,
                                 "--allow %s: not a permission (privileged, host-network, host-pid, host-ipc, cap-add, "
                                 "devices, docker-socket, host-bind, listen, volume-driver, external, "
                                 "other-containers, remote-build, logging, ulimits, oom, route)",
                                 name);
        *(unsigned *)bits |= bit;
        return 0;
}

int cli_env_arg(void *env, const char *cmd, const char *kv)
{
        struct cli_env *e = env;

        if (e->n == CLI_MAX_ENV_ARGS || !strchr(kv, '=') || kv[0] == '=')
                return cli_usage(cmd, "--env takes KEY=VALUE (at most %d)", CLI_MAX_ENV_ARGS);
        e->v[e->n++] = kv;
        return 0;
}

json_t *cli_version_json(const struct version_info *v)
{
        char tree[DIGEST_HEX_LEN + 1], bundle[DIGEST_HEX_LEN + 1];

        digest_to_hex(&v->tree, tree);
        if (v->has_bundle)
                digest_to_hex(&v->bundle, bundle);
        return json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s, s:s?, s:I, s:s?, s:b, s:s?, s:I, s:I, s:I, s:I}", "slug",
                         v->slug, "version", v->version, "name", v->name, "description", v->description, "flavor",
                         v->flavor, "tree", tree, "bundle", v->has_bundle ? bundle : NULL, "bundle_size",
                         (json_int_t)v->bundle_size, "signer", v->signer, "insecure", v->insecure, "source", v->source,
                         "fetched_at", (json_int_t)v->fetched_at, "files", (json_int_t)v->n_files, "size",
                         (json_int_t)v->size, "image_bytes", (json_int_t)v->image_bytes);
}

int cli_print_fetch_result(const struct fetch_result *res, bool json)
{
        const struct version_info *v = &res->v;
        char tree[DIGEST_HEX_LEN + 1], down[32], added[32];

        digest_to_hex(&v->tree, tree);
        if (json) {
                json_t *o = cli_version_json(v);
                json_object_set_new(o, "cached", json_boolean(res->cached));
                json_object_set_new(o, "offline", json_boolean(res->offline));
                json_object_set_new(o, "new", json_boolean(res->new_version));
                json_object_set_new(o, "downloaded", json_integer((json_int_t)res->downloaded));
                json_object_set_new(o, "bytes_added", json_integer((json_int_t)res->added));
                return cli_print_json(o);
        }
        if (res->cached)
                printf("%s %s is already in the store (tree %.12s): nothing downloaded%s\n", v->slug, v->version, tree,
                       res->offline ? " (catalog not reached)" : "");
        else if (!res->new_version)
                printf("%s %s is already in the store (tree %.12s): now its newest fetch\n", v->slug, v->version, tree);
        else
                printf("fetched %s %s (tree %.12s): %llu files, %s read, %s new in the store, %s%s\n", v->slug,
                       v->version, tree, (unsigned long long)v->n_files, cli_human_size(res->downloaded, down),
                       cli_human_size(res->added, added), v->signer ? "signed by " : "",
                       v->signer     ? v->signer
                       : v->insecure ? "INSECURE (not signed by a trusted key)"
                                     : "unsigned");
        return 0;
}
