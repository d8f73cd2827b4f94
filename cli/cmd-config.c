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
        struct cli_env env = {0};
        struct orch_options oo = {.run = {.env = env.v, .warn = cli_warn}};
        const struct cli_option opts[] = {{"offline", 0, .flag = &oo.offline},
                                          {"env", 'e', .parse = cli_env_arg, .ctx = &env},
                                          {"allow", 0, .parse = cli_allow_arg, .ctx = &oo.run.allow},
                                          {"catalog", 0, .arg = &oo.catalog},
                                          {"insecure", 0, .flag = &oo.insecure},
                                          {0}};
        struct store *s = NULL;
        const struct cli_command c = {
                "config",
                "usage: stack config SLUG[@VERSION] [--env K=V]... [--allow PERM]... [--offline]\n"
                "                    [--catalog URL] [--insecure]\n"
                "Prints the effective compose file stack run would start (variables resolved, the\n"
                "policy's changes made), or why it would refuse, with the same exit code. Nothing\n"
                "starts; --env values and --allow grants are not remembered.\n",
                opts, .args = {1, 1, "expects SLUG[@VERSION]"}, .store = &s};
        struct error err = ERROR_INIT;
        struct version_info v = {0};
        char *text = NULL;
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
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
