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

int cmd_token(int argc, char **argv)
{
        static const struct option opts[] = {
                {"ttl", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'}, {0}};
        unsigned char secret[JWT_SECRET_LEN];
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        char path[PATH_MAX], *token = NULL, *end;
        long ttl = DEFAULT_TTL;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 't') {
                        errno = 0;
                        ttl = strtol(optarg, &end, 10);
                        if (errno || *end || !*optarg || ttl < 1)
                                return cli_usage("token", "--ttl wants a number of seconds, not '%s'", optarg);
                        if (ttl > JWT_MAX_TTL) {
                                fprintf(stderr, "stack: warning: --ttl %ld capped at %d seconds\n", ttl, JWT_MAX_TTL);
                                ttl = JWT_MAX_TTL;
                        }
                } else if (c == 'h') {
                        printf("usage: stack token [--ttl S]\n"
                               "Prints a bearer token for the API (stack serve): HS256 with $STACK_HOME/keys/api.secret,\n"
                               "aud %s, valid for S seconds (default %d, at most %d). Use it as\n"
                               "  curl -H \"Authorization: Bearer $(stack token)\" https://127.0.0.1:57404/runs\n",
                               JWT_AUDIENCE, DEFAULT_TTL, JWT_MAX_TTL);
                        return 0;
                } else
                        return cli_usage("token", "unknown option");
        }
        if (optind != argc)
                return cli_usage("token", "takes no arguments");
        r = cli_open_store(&s, &err);
        if (r == 0 && fs_path(path, sizeof path, "%s/keys/api.secret", store_home(s)) < 0)
                r = error_set(&err, STACK_ESTORE, "store path too long: %s", store_home(s));
        if (r == 0)
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
