/* main.c - the `stack` command: a thin dispatcher over the engine's modules (one file per command). */
#include "cli.h"
#include "orch/upgrade.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct command {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *usage;
};

static const struct command commands[] = {
        {"pack", cmd_pack, "pack DIR [-o FILE]            build a reproducible bundle from a stack folder"},
        {"fetch", cmd_fetch,
         "fetch SLUG[@VER]|URL|FILE     verified download into the store (catalog: $STACK_CATALOG)"},
        {"import", cmd_import,
         "import FILE [--json]          add a bundle file to the store (unsigned unless FILE.sig checks)"},
        {"export", cmd_export,
         "export SLUG[@VER] -o FILE     one bundle with the version's files and images (--key KEY signs it)"},
        {"ls", cmd_ls, "ls [SLUG] [--json]            list the versions in the store"},
        {"show", cmd_show, "show SLUG[@VER] [--json]      metadata, tree digest and files of a version"},
        {"checkout", cmd_checkout, "checkout SLUG[@VER] DIR       write a version's files into a new directory"},
        {"verify", cmd_verify,
         "verify [--repair] [--json]    re-hash the store and check the index (exit 4 on damage)"},
        {"gc", cmd_gc, "gc [--dry-run] [--keep N]      remove what no run, pin or newest version reaches (--images)"},
        {"pin", cmd_pin, "pin SLUG@VER                  keep a version through gc"},
        {"unpin", cmd_pin, "unpin SLUG@VER                let gc collect a version again"},
        {"run", cmd_run, "run SLUG[@VER] [--offline]     run a stack on the Docker Engine (--env K=V, --allow PERM)"},
        {"config", cmd_config,
         "config SLUG[@VER] [--env K=V]  the effective compose file run would use, or the refusal"},
        {"ps", cmd_ps, "ps [--json]                   runs and their states"},
        {"swarm", cmd_swarm, "swarm status [--json]         the Docker Swarm stack deploys to (stack run --swarm)"},
        {"top", cmd_top, "top [SLUG] [--json]           what each running stack and container uses (CPU, memory, I/O)"},
        {"alerts", cmd_alerts, "alerts [--json] [--dismiss ID] what the watcher of serve found (--all)"},
        {"stop", cmd_stop, "stop ID|SLUG                  stop a run's containers"},
        {"rm", cmd_stop, "rm ID|SLUG [--purge]          take a run down; its data stays unless --purge"},
        {"logs", cmd_logs, "logs ID|SLUG [-f]             a run's logs"},
        {"keygen", cmd_keygen, "keygen NAME                   write a publisher key pair NAME.key and NAME.pub"},
        {"sign", cmd_sign, "sign FILE --key KEY [-o SIG]  write a detached signature FILE.sig"},
        {"trust", cmd_trust, "trust add PUBKEY|ls|rm NAME   manage the trusted publisher keys"},
        {"catalog", cmd_catalog, "catalog build DIR [--key KEY] write DIR/index.json for the bundles in DIR"},
        {"serve", cmd_serve, "serve [--port N] [--origin O]  the localhost HTTPS API (--address A, --print-cert)"},
        {"token", cmd_token, "token [--ttl S]               print a short-lived bearer token for the API"},
        {"open", cmd_open,
         "open [--print] [--port N]     the page of stack serve in the browser (one-time login link)"},
        {"approve", cmd_approve, "approve ID|SLUG               start a run a website asked for (stack ps lists them)"},
        {"deny", cmd_approve, "deny ID|SLUG [--reason R]     refuse a run a website asked for"},
        {"trust-stack", cmd_trust_stack, "trust-stack add|ls|rm SLUG    stacks a token starts without approval"},
        {"proxy", cmd_proxy, "proxy status|start|stop       the https front door (STACK_PROXY_PORT; see --help)"},
        {"ca", cmd_ca, "ca [--path]                   the local CA and how to trust it"},
        {"upgrade", cmd_upgrade, "upgrade SLUG [--to VER]       a new version, rolled back with its data if it fails"},
        {"rollback", cmd_upgrade, "rollback SLUG                 back to the version and data before the last upgrade"},
        {"snapshot", cmd_snapshot, "snapshot SLUG                 snapshot a stack's data dir and named volumes"},
        {"snapshots", cmd_snapshots,
         "snapshots [SLUG] [--json]     a stack's snapshots (id, time, version, reason, size)"},
        {"restore", cmd_restore, "restore SLUG SNAPSHOT         stop, put the data back as in SNAPSHOT, start again"},
};

static void recover_say(void *ctx, const char *line)
{
        (void)ctx;
        fprintf(stderr, "%s\n", line);
}

/* An upgrade a crash interrupted is finished by the next command (orch/upgrade.h); only for a store that exists,
 * and never for commands that do not use one. */
static void recover_upgrades(const char *cmd)
{
        static const char *const skip[] = {"pack", "keygen", "sign", "catalog", "token", "ca", NULL};
        char home[4096], path[4096 + 16];
        struct store *s = NULL;
        struct error err = ERROR_INIT;

        for (size_t i = 0; skip[i]; i++)
                if (!strcmp(cmd, skip[i]))
                        return;
        if (store_default_home(home, sizeof home) < 0)
                return;
        snprintf(path, sizeof path, "%s/index.db", home);
        if (access(path, F_OK) < 0 || store_open(NULL, &s, &err) < 0)
                return;
        if (orch_recover(s, recover_say, NULL, &err) < 0)
                fprintf(stderr, "stack: warning: %s\n", err.msg);
        store_free(s);
}

static void usage(FILE *f)
{
        fprintf(f, "usage: stack COMMAND [ARGS]\n\ncommands:\n");
        for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
                fprintf(f, "  stack %s\n", commands[i].usage);
        fprintf(f, "\nenvironment: STACK_HOME (store; default $XDG_DATA_HOME/stack or ~/.local/share/stack)\n"
                   "exit codes: 0 ok, 1 failure, 2 usage, 3 bundle rejected, 4 store error, 5 runtime error, "
                   "6 network error\n");
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                usage(stderr);
                return STACK_EXIT_USAGE;
        }
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
                usage(stdout);
                return 0;
        }
        if (!strcmp(argv[1], "--version")) {
                printf("stack 0.1.0\n");
                return 0;
        }
        for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
                if (!strcmp(argv[1], commands[i].name)) {
                        recover_upgrades(argv[1]);
                        optind = 0; /* GNU getopt: start over for the command's own options */
                        return commands[i].fn(argc - 1, argv + 1);
                }
        fprintf(stderr, "stack: unknown command '%s' (see stack --help)\n", argv[1]);
        return STACK_EXIT_USAGE;
}
