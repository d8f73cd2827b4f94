/* cmd-catalog.c - `stack catalog build DIR [--key KEY]`: DIR/index.json (and index.json.sig) for the bundles
 * in DIR, the way a publisher prepares a catalog to serve (spec/catalog.md "catalog build").
 *
 * The output depends only on the bundles' bytes and file names: bundles are read in name order, and the index
 * (fetch/catalog.h: stacks by slug, versions oldest first) and the deterministic ECDSA signature follow from
 * them, so building twice gives the same files.
 */
#include "cli.h"
#include "fetch/catalog.h"
#include "fetch/sign.h"
#include "base/fsutil.h"
#include "store/pack.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every bundle in dir (*.stack), in name order, into c (catalog.h orders and checks them). */
static int read_bundles(const char *dir, struct catalog *c, size_t *ret_n, struct error *err)
{
        char **names = NULL, path[PATH_MAX], sz[32], hex[DIGEST_HEX_LEN + 1];
        size_t n = 0;
        int r;

        r = fs_list_suffix(dir, ".stack", false, &names, &n);
        if (r < 0)
                return error_errno(err, STACK_EFAIL, r, "cannot list %s", dir);
        if (n == 0) {
                r = error_set(err, STACK_EFAIL, "%s holds no *.stack bundles", dir);
                goto fail;
        }
        for (size_t i = 0; i < n; i++) {
                struct manifest *m = NULL;
                struct catalog_version v = {.url = names[i]}; /* the file name: relative to the catalog's base */

                if (fs_path(path, sizeof path, "%s/%s", dir, names[i]) < 0) {
                        r = error_set(err, STACK_EFAIL, "path %s/%s is too long", dir, names[i]);
                        goto fail;
                }
                r = bundle_read_manifest(path, &m, &v.sha256, &v.size, err);
                if (r < 0)
                        goto fail;
                v.version = m->version;
                digest_to_hex(&v.sha256, hex);
                printf("%s: %s %s (%s, sha256 %s)\n", names[i], m->slug, m->version, cli_human_size(v.size, sz), hex);
                r = catalog_add(c, m->slug, m->name, m->description, &v, err);
                manifest_free(m);
                if (r < 0)
                        goto fail;
        }
        *ret_n = n;
        r = 0;
fail:
        fs_names_free(names, n);
        return r;
}

static int catalog_build(const char *dir, const char *key, struct error *err)
{
        struct catalog *c = NULL;
        struct digest probe = {{0}};
        unsigned char sig[SIGN_MAX_SIG];
        char index_path[PATH_MAX], sig_path[PATH_MAX], fp[24], *text = NULL;
        size_t n_versions = 0, sig_len;
        int r;

        if (fs_path(index_path, sizeof index_path, "%s/index.json", dir) < 0 ||
            fs_path(sig_path, sizeof sig_path, "%s/index.json.sig", dir) < 0)
                return error_set(err, STACK_EFAIL, "path %s is too long", dir);
        /* A key that cannot sign fails now, before any output is written. */
        if (key) {
                r = sign_digest(key, &probe, sig, &sig_len, err);
                if (r == 0)
                        r = sign_fingerprint(key, fp, err);
                if (r < 0)
                        return r;
        }
        r = catalog_new(NULL, &c, err);
        if (r == 0)
                r = read_bundles(dir, c, &n_versions, err);
        if (r == 0)
                r = catalog_to_json(c, &text, err);
        if (r < 0)
                goto fail;
        r = fs_write_atomic(index_path, text, strlen(text), 0644);
        if (r < 0) {
                r = error_errno(err, STACK_EFAIL, r, "cannot write %s", index_path);
                goto fail;
        }
        printf("wrote %s: %zu stack%s, %zu version%s\n", index_path, c->n, c->n == 1 ? "" : "s", n_versions,
               n_versions == 1 ? "" : "s");
        if (key) {
                r = sign_file(index_path, key, sig_path, err);
                if (r < 0)
                        goto fail;
                printf("signed %s -> %s (key %s)\n", index_path, sig_path, fp);
        } else if (unlink(sig_path) == 0) {
                /* A signature of the previous index would make every client refuse this one as tampered. */
                printf("removed %s: it signed the previous index.json (sign with --key KEY)\n", sig_path);
        } else if (errno != ENOENT) {
                r = error_errno(err, STACK_EFAIL, errno, "cannot remove the stale %s", sig_path);
                goto fail;
        }
        r = 0;
fail:
        free(text);
        catalog_free(c);
        return r;
}

static const char help[] =
        "usage: stack catalog build DIR [--key KEY]\n"
        "Writes DIR/index.json listing every DIR/*.stack bundle (slug, title, versions oldest first,\n"
        "each with its file name, SHA-256 and size). With --key, also signs it: DIR/index.json.sig.\n"
        "Serve DIR as it is (https://, http:// or file://) and point STACK_CATALOG at it.\n";

int cmd_catalog(int argc, char **argv)
{
        const char *key = NULL;
        const struct cli_option opts[] = {{"key", 'k', .arg = &key}, {0}};
        const struct cli_command c = {"catalog", help, opts, .args = {0, -1, NULL}};
        struct error err = ERROR_INIT;
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        if (optind >= argc || strcmp(argv[optind], "build"))
                return cli_usage("catalog", "expects: build DIR");
        if (argc - optind != 2)
                return cli_usage("catalog", "build expects one DIR");
        if (key && !*key)
                return cli_usage("catalog", "--key needs a file name");
        if (catalog_build(argv[optind + 1], key, &err) < 0)
                return cli_fail(&err);
        return 0;
}
