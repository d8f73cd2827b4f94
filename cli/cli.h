/* cli.h - what the command files share: the dispatcher's table, the store opener, output helpers.
 *
 * A command is `int cmd_X(int argc, char **argv)`: argv[0] is the command's name; it parses its own options
 * with getopt_long (optind is reset by the dispatcher), prints results to stdout, and returns the exit code.
 * Failures go through cli_fail(): one line "stack: <message>" on stderr, the error's code as exit code.
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
int cmd_ls(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_checkout(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_catalog(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_open(int argc, char **argv);
int cmd_approve(int argc, char **argv);
int cmd_deny(int argc, char **argv);
int cmd_trust_stack(int argc, char **argv);
int cmd_proxy(int argc, char **argv);
int cmd_ca(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_pin(int argc, char **argv);
int cmd_unpin(int argc, char **argv);
int cmd_upgrade(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_snapshots(int argc, char **argv);
int cmd_restore(int argc, char **argv);

#define CLI_MAX_ENV_ARGS 64
/* --allow NAME for run and config: the permission's bit or-ed into *bits; 0, or a usage error's exit code. */
int cli_allow_arg(const char *cmd, const char *name, unsigned *bits);
/* --env K=V for run and config: appended to env (room for CLI_MAX_ENV_ARGS + 1); 0, or a usage exit code. */
int cli_env_arg(const char *cmd, const char *kv, const char **env, size_t *n_env);
/* Print "stack: <err->msg>" and return its exit code (stack_exit_code(err->code); 1 if unset). */
int cli_fail(const struct error *err);
/* Print "stack <cmd>: <message>" plus a hint to --help; return 2 (STACK_EXIT_USAGE). */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Open the store at $STACK_HOME (or the default). */
int cli_open_store(struct store **ret, struct error *err);
/* A manifest_warn_fn that prints "stack: warning: <line>" on stderr. */
void cli_warn(void *ctx, const char *line);
/* "1.2 MiB" style. buf: 32 bytes. */
const char *cli_human_size(uint64_t bytes, char *buf);
struct version_info;
struct fetch_result;
struct run_row;
/* A run as the JSON object ps and run print. */
json_t *cli_run_json(const struct run_row *r);
/* What fetch and import print for a result (json: the version object plus cached/offline/new/bytes). */
int cli_print_fetch_result(const struct fetch_result *res, bool json);
/* A version as the JSON object ls and show print. */
json_t *cli_version_json(const struct version_info *v);
/* Print a JSON value to stdout (indented, newline) and free it; returns 0 or 1 (STACK_EXIT_FAIL). */
int cli_print_json(json_t *v);

#endif
