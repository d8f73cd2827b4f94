/* cmd-config.c - `stack config SLUG[@VER]`: the effective compose file `stack run` would use (like `docker
 * compose config`), or the refusal with its exit code; nothing starts and nothing is remembered. */
#include "cli.h"
#include "orch/orch.h"
#include "run/run.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_config(int argc, char **argv)
{
        static const struct option opts[] = {{"offline", no_argument, NULL, 'o'},
                                             {"env", required_argument, NULL, 'e'},
                                             {"allow", required_argument, NULL, 'a'},
                                             {"catalog", required_argument, NULL, 'c'},
                                             {"insecure", no_argument, NULL, 'k'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        const char *env[CLI_MAX_ENV_ARGS + 1] = {0};
        struct orch_options oo = {.run = {.env = env, .warn = cli_warn}};
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct version_info v = {0};
        char *text = NULL;
        size_t n_env = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "e:h", opts, NULL)) != -1) {
                switch (c) {
                case 'o': oo.offline = true; break;
                case 'e':
                        if (cli_env_arg("config", optarg, env, &n_env))
                                return STACK_EXIT_USAGE;
                        break;
                case 'a':
                        if (cli_allow_arg("config", optarg, &oo.run.allow))
                                return STACK_EXIT_USAGE;
                        break;
                case 'c': oo.catalog = optarg; break;
                case 'k': oo.insecure = true; break;
                case 'h':
                        printf("usage: stack config SLUG[@VERSION] [--env K=V]... [--allow PERM]... [--offline]\n"
                               "                    [--catalog URL] [--insecure]\n"
                               "Prints the effective compose file stack run would start (variables resolved, the\n"
                               "policy's changes made), or why it would refuse, with the same exit code. Nothing\n"
                               "starts; --env values and --allow grants are not remembered.\n");
                        return 0;
                default: return cli_usage("config", "unknown option");
                }
        }
        if (optind + 1 != argc)
                return cli_usage("config", "expects SLUG[@VERSION]");
        r = cli_open_store(&s, &err);
        if (r == 0)
                r = orch_resolve(s, argv[optind], &oo, &v, &err);
        if (r == 0)
                r = run_config(s, &v, &oo.run, &text, &err);
        if (r < 0)
                r = cli_fail(&err);
        else
                fputs(text, stdout);
        free(text);
        version_info_release(&v);
        store_free(s);
        return r;
}
