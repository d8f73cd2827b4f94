/* cmd-trust.c - `stack trust add PUBKEY | ls [--json] | rm NAME|FINGERPRINT`: the publisher keys whose
 * signatures fetch accepts, kept as PEM files in $STACK_HOME/keys/trusted. */
#include "cli.h"
#include "fetch/sign.h"
#include "base/fsutil.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct find_ctx {
        const char *fp;
        char name[128];
};

static void find_fp(void *ctx, const char *name, const char *fp)
{
        struct find_ctx *f = ctx;

        if (!f->name[0] && !strcmp(fp, f->fp))
                snprintf(f->name, sizeof f->name, "%s", name);
}

static void print_key(void *ctx, const char *name, const char *fp)
{
        (void)ctx;
        printf("%-32s %s\n", name, fp);
}

static void json_key(void *ctx, const char *name, const char *fp)
{
        json_array_append_new(ctx, json_pack("{s:s, s:s}", "name", name, "fingerprint", fp));
}

static int trust_add_cmd(const char *dir, const char *path, struct error *err)
{
        struct error ignored = ERROR_INIT;
        struct find_ctx known = {0};
        struct trust *t = NULL;
        char fp[24] = "", *name = NULL;
        int r;

        /* Looked up first only to say "already trusted": trust_add() makes every check and says why it refuses. */
        if (sign_fingerprint(path, fp, &ignored) == 0 && trust_load(dir, &t, &ignored) == 0) {
                known.fp = fp;
                trust_list(t, find_fp, &known);
        }
        r = trust_add(dir, path, &name, err);
        if (r == 0 && !fp[0])
                r = sign_fingerprint(path, fp, err);
        if (r < 0)
                goto done;
        if (known.name[0])
                printf("%s is already trusted as %s (%s)\n", path, name, fp);
        else
                printf("trusted %s (%s): stack fetch accepts what this key signs\n", name, fp);
done:
        trust_free(t);
        free(name);
        return r;
}

static int trust_ls_cmd(const char *dir, bool json, struct error *err)
{
        struct trust *t = NULL;
        json_t *a;
        int r;

        r = trust_load(dir, &t, err);
        if (r < 0)
                return r;
        if (json) {
                a = json_array();
                if (a)
                        trust_list(t, json_key, a);
                r = cli_print_json(a) ? error_set(err, STACK_EFAIL, "cannot print JSON") : 0;
        } else if (trust_count(t) == 0) {
                printf("no trusted publisher keys (stack trust add KEY.pub adds one)\n");
        } else {
                printf("%-32s %s\n", "NAME", "FINGERPRINT");
                trust_list(t, print_key, NULL);
        }
        trust_free(t);
        return r;
}

int cmd_trust(int argc, char **argv)
{
        bool json = false;
        const struct cli_command c = {
                "trust",
                "usage: stack trust add PUBKEY | ls [--json] | rm NAME|FINGERPRINT\n"
                "The publisher keys whose signatures stack fetch accepts, in $STACK_HOME/keys/trusted.\n"
                "  add PUBKEY   trust a public key (a .pub from stack keygen), named after its file\n"
                "  ls           list the trusted keys: name and fingerprint (sha256:16 hex digits)\n"
                "  rm KEY       stop trusting a key, given by name or fingerprint\n",
                NULL, &json, .args = {1, -1, "expects add, ls or rm"}};
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        char dir[PATH_MAX];
        const char *sub;
        int r = cli_parse(&c, argc, argv), nargs;

        if (r != CLI_PARSED)
                return r;
        sub = argv[optind];
        nargs = argc - optind - 1;
        if (!strcmp(sub, "add") || !strcmp(sub, "rm")) {
                if (nargs != 1)
                        return cli_usage("trust", "%s expects one %s", sub,
                                         !strcmp(sub, "add") ? "PUBKEY" : "NAME or FINGERPRINT");
                if (json)
                        return cli_usage("trust", "--json goes with ls");
        } else if (!strcmp(sub, "ls")) {
                if (nargs != 0)
                        return cli_usage("trust", "ls takes no arguments");
        } else {
                return cli_usage("trust", "unknown subcommand '%s': expects add, ls or rm", sub);
        }

        /* Opening the store creates its layout, keys/trusted included. */
        r = cli_open_store(&s, &err);
        if (r < 0)
                goto done;
        if (fs_path(dir, sizeof dir, "%s/keys/trusted", store_home(s)) < 0) {
                r = error_set(&err, STACK_EFAIL, "store path %s is too long", store_home(s));
                goto done;
        }
        if (!strcmp(sub, "add")) {
                r = trust_add_cmd(dir, argv[optind + 1], &err);
        } else if (!strcmp(sub, "rm")) {
                r = trust_remove(dir, argv[optind + 1], &err);
                if (r == 0)
                        printf("removed %s from the trusted keys\n", argv[optind + 1]);
        } else {
                r = trust_ls_cmd(dir, json, &err);
        }
done:
        store_free(s);
        return r < 0 ? cli_fail(&err) : 0;
}
