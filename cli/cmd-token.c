/* cmd-token.c - `stack token [--ttl S]`: print a short-lived bearer token for the API (spec/api.md). */
#include "cli.h"
#include "api/jwt.h"
#include "base/fsutil.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <mbedtls/platform_util.h>

#define DEFAULT_TTL 120

static int ttl_arg(void *ret, const char *cmd, const char *arg)
{
        long *ttl = ret;
        char *end;

        errno = 0;
        *ttl = strtol(arg, &end, 10);
        if (errno || *end || !*arg || *ttl < 1)
                return cli_usage(cmd, "--ttl wants a number of seconds, not '%s'", arg);
        if (*ttl > JWT_MAX_TTL) {
                fprintf(stderr, "stack: warning: --ttl %ld capped at %d seconds\n", *ttl, JWT_MAX_TTL);
                *ttl = JWT_MAX_TTL;
        }
        return 0;
}

int cmd_token(int argc, char **argv)
{
        long ttl = DEFAULT_TTL;
        const struct cli_option opts[] = {{"ttl", 0, .parse = ttl_arg, .ctx = &ttl}, {0}};
        char help[512];
        struct store *s = NULL;
        const struct cli_command c = {"token", help, opts, .args = {0, 0, "takes no arguments"}, .store = &s};
        unsigned char secret[JWT_SECRET_LEN];
        struct error err = ERROR_INIT;
        char path[PATH_MAX], *token = NULL;
        int r;

        snprintf(help, sizeof help,
                 "usage: stack token [--ttl S]\n"
                 "Prints a bearer token for the API (stack serve): HS256 with $STACK_HOME/keys/api.secret,\n"
                 "aud %s, valid for S seconds (default %d, at most %d). Use it as\n"
                 "  curl -H \"Authorization: Bearer $(stack token)\" https://127.0.0.1:57404/runs\n",
                 JWT_AUDIENCE, DEFAULT_TTL, JWT_MAX_TTL);
        r = cli_parse(&c, argc, argv);
        if (r != CLI_PARSED)
                return r;
        if (fs_path(path, sizeof path, "%s/keys/api.secret", store_home(s)) < 0)
                r = error_set(&err, STACK_ESTORE, "store path too long: %s", store_home(s));
        else
                r = jwt_secret_load(path, true, secret, &err);
        if (r == 0)
                r = jwt_mint(secret, sizeof secret, (int64_t)time(NULL), (int)ttl, &token, &err);
        mbedtls_platform_zeroize(secret, sizeof secret);
        store_free(s);
        if (r < 0)
                return cli_fail(&err);
        printf("%s\n", token);
        free(token);
        return 0;
}
