/* cmd-ca.c - `stack ca [--path]`: the local CA's certificate (made on first use) and the commands that make
 * browsers and the system trust it (spec/proxy.md "Certificates"). */
#include "cli.h"
#include "api/cert.h"
#include "tls/ca.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>

static const char help[] = "usage: stack ca [--path]\n"
                           "Prints the local CA certificate that signs the proxy's certificates (made on first\n"
                           "use) and the commands that trust it; --path prints only its path.\n";

int cmd_ca(int argc, char **argv)
{
        bool only_path = false, created = false;
        const struct cli_option opts[] = {{"path", 0, .flag = &only_path}, {0}};
        struct store *s = NULL;
        const struct cli_command c = {"ca", help, opts, .args = {0, 0, "takes no arguments"}, .store = &s};
        struct error err = ERROR_INIT;
        char path[PATH_MAX], fp[CERT_FP_LEN];
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        r = ca_ensure(store_home(s), &created, &err);
        if (r == 0 && ca_path(store_home(s), "cert", path, sizeof path) < 0)
                r = error_set(&err, STACK_ESTORE, "store path too long: %s", store_home(s));
        if (r == 0 && !only_path)
                r = cert_fingerprint(path, fp, &err);
        store_free(s);
        if (r < 0)
                return cli_fail(&err);
        if (only_path) {
                printf("%s\n", path);
                return 0;
        }
        if (created)
                fprintf(stderr, "stack ca: made a new local CA\n");
        printf("local CA certificate: %s\n"
               "sha256 fingerprint: %s\n\n"
               "Trust it for Chromium and Firefox (your NSS database; certutil is in libnss3-tools):\n"
               "  certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n 'stack local CA' -i %s\n"
               "  (Firefox keeps one database per profile: -d sql:$HOME/.mozilla/firefox/PROFILE)\n"
               "Trust it system-wide (curl, wget, other programs using the system store):\n"
               "  sudo cp %s /usr/local/share/ca-certificates/stack-local-ca.crt && sudo update-ca-certificates\n"
               "Or for one command: curl --cacert %s https://SLUG.stack.localhost/\n",
               path, fp, path, path, path);
        return 0;
}
