/* cmd-run.c - `stack run SLUG[@VER]`: a stack from the store (fetched if missing) running on the Engine. */
#include "cli.h"
#include "progress.h"
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

static const char help[] =
        "usage: stack run SLUG[@VERSION] [--offline] [--env K=V]... [--allow PERM]... [--catalog URL]\n"
        "                 [--insecure] [--timeout S] [--timings] [--swarm] [--json] [--quiet]\n"
        "Runs a stack from the store (fetched first if the store lacks it, never with --offline)\n"
        "on the Docker Engine, and prints where it answers. --env values and --allow grants are\n"
        "remembered for the stack; --allow grants a permission even when the stack's stack.yaml\n"
        "does not ask for it (after a warning). stack config shows what would run. --swarm deploys it\n"
        "on the Docker Swarm the Engine manages (stack swarm status); a stack that runs there stays there.\n";

int cmd_run(int argc, char **argv)
{
        struct cli_env env = {0};
        struct orch_options oo = {.run = {.env = env.v, .warn = cli_warn}};
        bool json = false, quiet = false, timings = false;
        const struct cli_option opts[] = {{"offline", 0, .flag = &oo.offline},
                                          {"env", 'e', .parse = cli_env_arg, .ctx = &env},
                                          {"allow", 0, .parse = cli_allow_arg, .ctx = &oo.run.allow},
                                          {"catalog", 0, .arg = &oo.catalog},
                                          {"insecure", 0, .flag = &oo.insecure},
                                          {"quiet", 'q', .flag = &quiet},
                                          {"timeout", 0, .number = &oo.run.timeout_s},
                                          {"timings", 0, .flag = &timings},
                                          {"swarm", 0, .flag = &oo.run.swarm},
                                          {0}};
        const struct cli_command c = {"run", help, opts, &json, .args = {1, 1, "expects SLUG[@VERSION]"}};
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct run_info info = {0};
        struct progress pr;
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        if (timings)
                oo.run.step = print_step;
        progress_init(&pr, argv[optind], quiet || json);
        oo.progress = progress_update;
        oo.progress_ctx = &pr;
        oo.run.pull_progress = progress_pull;
        oo.run.note = progress_note;
        oo.run.pull_ctx = &pr;
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
                json_t *o = orch_run_json(&info.row, true);
                json_object_set_new(o, "addresses", orch_addresses_json(&info));
                json_object_set_new(o, "fast_path", json_boolean(info.fast_path));
                json_object_set_new(o, "images_loaded", json_integer(info.images_loaded));
                json_object_set_new(o, "images_pulled", json_integer(info.images_pulled));
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
