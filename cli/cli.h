/* cli.h - what the command files share (cli/cli.c): the dispatcher's table, the option parser, the store opener,
 * the failure and usage lines, output helpers. spec/cli.md.
 *
 * A command is `int cmd_X(int argc, char **argv)`: argv[0] is the command's name; it describes its options and
 * arguments once and reads them with cli_parse() (getopt_long; optind is reset by the dispatcher), prints results
 * to stdout, and returns the exit code. Failures go through cli_fail(): one line "stack: <message>" on stderr,
 * the error's code as exit code; a usage error through cli_usage() (exit 2).
 *
 *   bool purge = false, json = false;
 *   struct store *s = NULL;
 *   const struct cli_option opts[] = {{"purge", 0, .flag = &purge}, {0}};
 *   const struct cli_command cmd = {"rm", "usage: stack rm ID|SLUG [--purge]\n...", opts, &json,
 *                                   .args = {1, 1, "expects a run ID or a SLUG"}, .store = &s};
 *   int r = cli_parse(&cmd, argc, argv);
 *   if (r != CLI_PARSED)
 *           return r;   0 after --help or -h (cmd.help printed), STACK_EXIT_USAGE after the usage line, or
 *                       the store's error code (its line printed)
 *   ... argv[optind] to argv[argc - 1] are the arguments; s is open: store_free(s) at the end ...
 */
#ifndef STACK_CLI_H
#define STACK_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/error.h"
#include "store/store.h"

int cmd_pack(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_checkout(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_swarm(int argc, char **argv);
int cmd_swarm_registry(int argc, char **argv); /* `stack swarm registry ...`: argv[0] "registry" */
int cmd_alerts(int argc, char **argv);
int cmd_stop(int argc, char **argv); /* stop and rm: argv[0] says which, as for approve|deny, pin|unpin,
                                       * upgrade|rollback */
int cmd_logs(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_catalog(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_open(int argc, char **argv);
int cmd_approve(int argc, char **argv);
int cmd_trust_stack(int argc, char **argv);
int cmd_proxy(int argc, char **argv);
int cmd_ca(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_pin(int argc, char **argv);
int cmd_upgrade(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_snapshots(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_top(int argc, char **argv);

/* One option of a command: --name (and -short_name when not 0), with one of the four actions, or none: then
 * the option is refused as unknown (stop's table shared with rm, where only rm has --purge). */
struct cli_option {
        const char *name;
        char short_name;
        bool *flag;       /* takes no argument: set to true */
        const char **arg; /* takes an argument: kept as given */
        int *number;      /* takes an argument: through atoi(), unchecked (as the options using it always were) */
        int (*parse)(void *ctx, const char *cmd, const char *arg); /* takes an argument, checked and kept by the
                                                                    * command: 0, or the exit code of cli_usage() */
        void *ctx;
        /* .arg only: the usage error when the option is absent or given empty (need), or given empty (empty);
         * checked by cli_parse() once the arguments are counted. NULL: no such check. */
        const char *need, *empty;
};

struct cli_command {
        const char *name;                 /* "stack NAME: ..." in usage errors */
        const char *help;                 /* printed as is on stdout by --help and -h */
        const struct cli_option *options; /* ends with {0}; NULL: none but --help (and --json) */
        bool *json;                       /* --json sets it; NULL: the command has no --json */
        struct {
                int min, max;      /* how many arguments; max < 0: any number (the command checks) */
                const char *usage; /* the usage error when their number is wrong */
        } args;
        bool no_options;      /* only "--help" or "-h" as first argument; any other is an argument */
        struct store **store; /* not NULL: the store opened into it once the arguments are right
                                           * (store_free() it); cli_fail() and its code when it cannot be */
};

/* Read argv's options as cmd describes them (then open the store when cmd->store asks for it). An option not in the table, or one missing its argument:
 * "stack NAME: unknown option (see stack NAME --help)" (after getopt's own line), exit 2. */
#define CLI_PARSED (-1)
int cli_parse(const struct cli_command *cmd, int argc, char **argv);

/* --env K=V for run and config, a cli_option parse: kv appended to env->v (NULL-terminated, at most
 * CLI_MAX_ENV_ARGS). --allow NAME, a cli_option parse: the permission's bit or-ed into *(unsigned *)bits. */
#define CLI_MAX_ENV_ARGS 64
struct cli_env {
        const char *v[CLI_MAX_ENV_ARGS + 1];
        size_t n;
};
int cli_env_arg(void *env, const char *cmd, const char *kv);
int cli_allow_arg(void *bits, const char *cmd, const char *name);
/* Print "stack: <err->msg>" and return its exit code (stack_exit_code(err->code); 1 if unset). */
int cli_fail(const struct error *err);
/* Print "stack <cmd>: <message>" plus a hint to --help; return 2 (STACK_EXIT_USAGE). */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Open the store at $STACK_HOME (or the default). */
int cli_open_store(struct store **ret, struct error *err);
/* The version ref names ("slug[@version]") and its tree, for show and checkout (release both, also on failure). */
struct version_info;
struct tree;
int cli_load_version(struct store *s, const char *ref, struct version_info *v, struct tree *t, struct error *err);
/* A manifest_warn_fn that prints "stack: warning: <line>" on stderr. */
void cli_warn(void *ctx, const char *line);
/* "1.2 MiB" style. buf: 32 bytes. */
const char *cli_human_size(uint64_t bytes, char *buf);
struct fetch_result;
/* What fetch and import print for a result (json: the version object plus cached/offline/new/bytes). */
int cli_print_fetch_result(const struct fetch_result *res, bool json);
/* A version as the JSON object ls and show print. */
json_t *cli_version_json(const struct version_info *v);
/* Print a JSON value to stdout (indented, newline) and free it; returns 0 or 1 (STACK_EXIT_FAIL). */
int cli_print_json(json_t *v);

#endif
