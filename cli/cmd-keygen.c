/* cmd-keygen.c - `stack keygen NAME`: a publisher key pair, NAME.key (private, 0600) and NAME.pub. */
#include "cli.h"
#include "fetch/sign.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>

static const char help[] =
        "usage: stack keygen NAME\n"
        "Writes a new ECDSA P-256 publisher key pair: NAME.key (private, mode 0600, keep it secret)\n"
        "and NAME.pub (hand it to the people who trust your catalog: stack trust add NAME.pub).\n"
        "NAME may include a directory; existing files are never overwritten.\n";

int cmd_keygen(int argc, char **argv)
{
        const struct cli_command c = {"keygen", help, .args = {1, 1, "expects one NAME"}};
        struct error err = ERROR_INIT;
        char pub[PATH_MAX], fp[24];
        const char *name;
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        name = argv[optind];
        if (!*name)
                return cli_usage("keygen", "NAME is empty");
        if (snprintf(pub, sizeof pub, "%s.pub", name) >= (int)sizeof pub)
                return cli_usage("keygen", "NAME is too long");
        r = sign_keygen(name, &err);
        if (r == 0)
                r = sign_fingerprint(pub, fp, &err);
        if (r < 0)
                return cli_fail(&err);
        printf("wrote %s.key (private, keep it secret) and %s.pub (fingerprint %s)\n", name, name, fp);
        return 0;
}
