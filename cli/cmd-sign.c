/* cmd-sign.c - `stack sign FILE --key KEY [-o SIG]`: a detached signature over FILE's exact bytes. */
#include "cli.h"
#include "fetch/sign.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>

int cmd_sign(int argc, char **argv)
{
        static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        struct error err = ERROR_INIT;
        char sig[PATH_MAX], fp[24];
        const char *file, *key = NULL, *out = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "hk:o:", opts, NULL)) != -1) {
                if (c == 'k')
                        key = optarg;
                else if (c == 'o')
                        out = optarg;
                else if (c == 'h') {
                        printf("usage: stack sign FILE --key KEY [-o SIG]\n"
                               "Signs the SHA-256 of FILE's bytes with the private key KEY (from stack keygen) and writes\n"
                               "the DER ECDSA signature to SIG, by default FILE.sig.\n");
                        return 0;
                } else
                        return cli_usage("sign", "unknown option");
        }
        if (optind + 1 != argc)
                return cli_usage("sign", "expects one FILE");
        if (!key || !*key)
                return cli_usage("sign", "needs --key KEY");
        if (out && !*out)
                return cli_usage("sign", "-o needs a file name");
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
