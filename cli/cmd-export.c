/* cmd-export.c - `stack export SLUG[@VER] -o FILE [--key KEY] [--require-images]`: a version and the registry
 * images it runs with as one bundle, for `stack import` on another machine (store/export.h). */
#include "cli.h"
#include "fetch/sign.h"
#include "store/export.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
        "usage: stack export SLUG[@VER] -o FILE [--key KEY] [--require-images]\n"
        "Writes one bundle, as stack pack would, with the version's files and the registry images it runs\n"
        "with (images/registry/, listed in stack.yaml), for stack import then stack run --offline elsewhere.\n"
        "An image the store lacks is left out with a warning (--require-images: refused). --key KEY signs\n"
        "it as stack sign does (FILE.sig); without, it is unsigned and an old FILE.sig is removed.\n";

int cmd_export(int argc, char **argv)
{
        const char *out = NULL, *key = NULL;
        bool require = false;
        struct store *s = NULL;
        const struct cli_option opts[] = {{"output", 'o', .arg = &out, .need = "needs -o FILE"},
                                          {"key", 'k', .arg = &key, .empty = "--key needs a key file"},
                                          {"require-images", 0, .flag = &require},
                                          {0}};
        const struct cli_command c = {"export", help, opts, .args = {1, 1, "expects one SLUG[@VER]"}};
        struct error err = ERROR_INIT;
        struct version_info v = {0};
        struct export_options eo = {.warn = cli_warn};
        struct export_result res = {0};
        char sig[PATH_MAX], fp[24] = "", hex[DIGEST_HEX_LEN + 1], sz[32];
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        if (snprintf(sig, sizeof sig, "%s.sig", out) >= (int)sizeof sig)
                return cli_usage("export", "FILE is too long");
        eo.require_images = require;
        /* a key that cannot sign is found out before the bundle is written */
        if (key) {
                unsigned char probe[SIGN_MAX_SIG];
                size_t probe_len = 0;

                r = sign_digest(key, &(struct digest){{0}}, probe, &probe_len, &err);
                if (r == 0)
                        r = sign_fingerprint(key, fp, &err);
        } else {
                r = 0;
        }
        if (r == 0)
                r = cli_open_store(&s, &err);
        if (r == 0)
                r = index_resolve_ref(store_index(s), argv[optind], &v, &err);
        if (r == 0)
                r = export_version(s, &v, out, &eo, &res, &err);
        if (r == 0 && key) {
                r = sign_file(out, key, sig, &err);
                if (r < 0) /* no unsigned bundle where a signed one was asked for */
                        unlink(out);
        } else if (r == 0 && unlink(sig) < 0 && errno != ENOENT) {
                r = error_errno(&err, STACK_EFAIL, errno, "cannot remove the old %s", sig);
        }
        if (r < 0) {
                r = cli_fail(&err);
                goto done;
        }
        digest_to_hex(&res.sha256, hex);
        printf("exported %s %s -> %s (%llu entries, %zu registry image%s, %s, sha256 %s, %s)\n", v.slug, v.version, out,
               (unsigned long long)res.n_entries, res.n_images, res.n_images == 1 ? "" : "s",
               cli_human_size(res.size, sz), hex, key ? "signed" : "unsigned");
        if (key)
                printf("signed %s -> %s (key %s)\n", out, sig, fp);
        r = 0;
done:
        version_info_release(&v);
        store_free(s);
        return r;
}
