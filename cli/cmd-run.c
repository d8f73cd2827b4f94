/* cmd-run.c - `stack run SLUG[@VER]`: a stack from the store (fetched if missing) running on the Engine. */
#include "cli.h"
#include "progress.h"
#include "run/policy.h"
#include "orch/orch.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_step(void *ctx, const char *step, double seconds)
{
        (void)ctx;
        fprintf(stderr, "timing: %-8s %.3f s\n", step, seconds);
}

int cli_allow_arg(const char *cmd, const char *name, unsigned *bits)
{
        unsigned bit = policy_perm_from_name(name);

        if (!bit)
                return cli_usage(cmd,
                                 "--allow %s: not a permission (privileged, host-network, host-pid, host-ipc, cap-add, "
                                 "devices, docker-socket, host-bind, listen, volume-driver, external, "
                                 "other-containers, remote-build, logging, ulimits, oom, route)",
                                 name);
        *bits |= bit;
        return 0;
}

int cli_env_arg(const char *cmd, const char *kv, const char **env, size_t *n_env)
{
        if (*n_env == CLI_MAX_ENV_ARGS || !strchr(kv, '=') || kv[0] == '=')
                return cli_usage(cmd, "--env takes KEY=VALUE (at most %d)", CLI_MAX_ENV_ARGS);
        env[(*n_env)++] = kv;
        return 0;
}

int cmd_run(int argc, char **argv)
{
        static const struct option opts[] = {{"offline", no_argument, NULL, 'o'},
                                             {"env", required_argument, NULL, 'e'},
                                             {"allow", required_argument, NULL, 'a'},
                                             {"catalog", required_argument, NULL, 'c'},
                                             {"insecure", no_argument, NULL, 'k'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"timeout", required_argument, NULL, 't'},
                                             {"timings", no_argument, NULL, 'T'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        const char *env[CLI_MAX_ENV_ARGS + 1] = {0};
        struct orch_options oo = {.run = {.env = env, .warn = cli_warn}};
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct run_info info = {0};
        struct progress pr;
        bool json = false, quiet = false;
        size_t n_env = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "e:hq", opts, NULL)) != -1) {
                switch (c) {
                case 'o': oo.offline = true; break;
                case 'e':
                        if (cli_env_arg("run", optarg, env, &n_env))
                                return STACK_EXIT_USAGE;
                        break;
                case 'a':
                        if (cli_allow_arg("run", optarg, &oo.run.allow))
                                return STACK_EXIT_USAGE;
                        break;
                case 'c': oo.catalog = optarg; break;
                case 'k': oo.insecure = true; break;
                case 'j': json = true; break;
                case 'q': quiet = true; break;
                case 't': oo.run.timeout_s = atoi(optarg); break;
                case 'T': oo.run.step = print_step; break;
                case 'h':
                        printf("usage: stack run SLUG[@VERSION] [--offline] [--env K=V]... [--allow PERM]... [--catalog URL]\n"
                               "                 [--insecure] [--timeout S] [--timings] [--json] [--quiet]\n"
                               "Runs a stack from the store (fetched first if the store lacks it, never with --offline)\n"
                               "on the Docker Engine, and prints where it answers. --env values and --allow grants are\n"
                               "remembered for the stack; --allow grants a permission even when the stack's stack.yaml\n"
                               "does not ask for it (after a warning). stack config shows what would run.\n");
                        return 0;
                default: return cli_usage("run", "unknown option");
                }
        }
        if (optind + 1 != argc)
                return cli_usage("run", "expects SLUG[@VERSION]");
        progress_init(&pr, argv[optind], quiet || json);
        oo.progress = progress_update;
        oo.progress_ctx = &pr;
        r = cli_open_store(&s, &err);
        if (r == 0)
                r = orch_run(s, argv[optind], &oo, &info, &err);
        progress_end(&pr);
        if (r < 0) {
                r = cli_fail(&err);
                goto done;
        }
        if (oo.run.step && info.relaunch_why) /* --timings: why the fast path could not skip compose up */
                fprintf(stderr, "timing: relaunch compose: %s\n", info.relaunch_why);
        if (json) {
                json_t *o = cli_run_json(&info.row), *a = json_array();
                for (size_t i = 0; i < info.n_addresses; i++)
                        json_array_append_new(a, json_pack("{s:s?, s:s?, s:s?}", "service", info.addresses[i].service,
                                                           "label", info.addresses[i].label, "url",
                                                           info.addresses[i].url));
                json_object_set_new(o, "addresses", a);
                json_object_set_new(o, "fast_path", json_boolean(info.fast_path));
                json_object_set_new(o, "images_loaded", json_integer(info.images_loaded));
                json_object_set_new(o, "relaunch", json_string(info.relaunch ? info.relaunch : "compose"));
                if (info.relaunch_why)
                        json_object_set_new(o, "relaunch_reason", json_string(info.relaunch_why));
                r = cli_print_json(o);
                goto done;
        }
        printf("%s %s is running (run %s%s)\n", info.row.slug, info.row.version, info.row.id,
               !info.fast_path ? ""
               : info.relaunch && !strcmp(info.relaunch, "engine")
                       ? ", from its existing run dir, its containers started through the Engine"
                       : ", from its existing run dir");
        for (size_t i = 0; i < info.n_addresses; i++)
                printf("  %s: %s\n", info.addresses[i].label ? info.addresses[i].label : info.addresses[i].service,
                       info.addresses[i].url);
done:
        run_info_release(&info);
        store_free(s);
        return r;
}
