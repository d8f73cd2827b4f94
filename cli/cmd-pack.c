/* cmd-pack.c - `stack pack DIR [-o FILE]`: a stack folder into a reproducible bundle. */
#include "cli.h"
#include "store/pack.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* The default output name carries the version: it must be one plain file name in the current directory. */
static bool name_part_ok(const char *s)
{
        if (!*s || s[0] == '.')
                return false;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p == '/' || *p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

static const char help[] = "usage: stack pack DIR [-o FILE]\n"
                           "Builds a bundle (pax tar + zstd) from the stack folder DIR, reproducibly: sorted entries,\n"
                           "owner 0:0, mtime 0, normalised modes. FILE defaults to <slug>-<version>.stack in the\n"
                           "current directory, slug and version from DIR/stack.yaml.\n";

int cmd_pack(int argc, char **argv)
{
        const char *dir, *out = NULL;
        const struct cli_option opts[] = {{"output", 'o', .arg = &out, .empty = "-o needs a file name"}, {0}};
        const struct cli_command c = {"pack", help, opts, .args = {1, 1, "expects one DIR"}};
        struct error err = ERROR_INIT;
        struct manifest *m = NULL;
        struct pack_result res = {0};
        char name[PATH_MAX], hex[DIGEST_HEX_LEN + 1], sz[32];
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        dir = argv[optind];

        /* Read once here for the warnings and the default name; pack_dir() checks it again on its own. */
        r = pack_read_manifest(dir, &m, cli_warn, NULL, &err);
        if (r < 0)
                return cli_fail(&err);
        if (!out) {
                if (!name_part_ok(m->version)) {
                        r = cli_usage("pack", "version '%s' cannot be part of a file name: give -o FILE", m->version);
                        goto done;
                }
                if (snprintf(name, sizeof name, "%s-%s.stack", m->slug, m->version) >= (int)sizeof name) {
                        r = cli_usage("pack", "slug and version make too long a file name: give -o FILE");
                        goto done;
                }
                out = name;
        }
        r = pack_dir(dir, out, &res, &err);
        if (r < 0) {
                r = cli_fail(&err);
                goto done;
        }
        digest_to_hex(&res.sha256, hex);
        printf("packed %s %s -> %s (%llu entries, %s, sha256 %s)\n", res.slug, res.version, out,
               (unsigned long long)res.n_entries, cli_human_size(res.size, sz), hex);
        r = 0;
done:
        pack_result_release(&res);
        manifest_free(m);
        return r;
}
