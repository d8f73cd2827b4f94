/* cmd-sign.c - `stack sign FILE --key KEY [-o SIG]`: a detached signature over FILE's exact bytes. */
#include "cli.h"
#include "fetch/sign.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>

static const char help[] = "usage: stack sign FILE --key KEY [-o SIG]\n"
                           "Signs the SHA-256 of FILE's bytes with the private key KEY (from stack keygen) and writes\n"
                           "the DER ECDSA signature to SIG, by default FILE.sig.\n";

int cmd_sign(int argc, char **argv)
{
        const char *file, *key = NULL, *out = NULL;
        const struct cli_option opts[] = {{"key", 'k', .arg = &key, .need = "needs --key KEY"},
                                          {"output", 'o', .arg = &out, .empty = "-o needs a file name"},
                                          {0}};
        const struct cli_command c = {"sign", help, opts, .args = {1, 1, "expects one FILE"}};
        struct error err = ERROR_INIT;
        char sig[PATH_MAX], fp[24];
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        file = argv[optind];
        if (!out) {
                if (snprintf(sig, sizeof sig, "%s.sig", file) >= (int)sizeof sig)
                        return cli_usage("sign", "FILE is too long");
                out = sig;
        }
        r = sign_file(file, key, out, &err);
        if (r == 0)
                r = sign_fingerprint(key, fp, &err);
        if (r < 0)
                return cli_fail(&err);
        printf("signed %s -> %s (key %s)\n", file, out, fp);
        return 0;
}
