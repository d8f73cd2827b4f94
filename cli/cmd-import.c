/* cmd-import.c - `stack import FILE`: a bundle someone handed over, into the store (unsigned). */
#include "cli.h"
#include "store/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_import(int argc, char **argv)
{
        static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct ingest *ing = NULL;
        const struct manifest *m;
        struct publish_info pi = {0};
        char tree_hex[DIGEST_HEX_LEN + 1], bundle_hex[DIGEST_HEX_LEN + 1], source[PATH_MAX], sz[32], added[32];
        bool json = false, is_new = false;
        int64_t id = 0;
        int c, fd = -1, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'j')
                        json = true;
                else if (c == 'h') {
                        printf("usage: stack import FILE [--json]\n"
                               "Adds a bundle file (zstd or gzip tar) to the store, recorded as unsigned.\n");
                        return 0;
                } else
                        return cli_usage("import", "unknown option");
        }
        if (optind + 1 != argc)
                return cli_usage("import", "expects one FILE");
        fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                error_errno(&err, STACK_EFAIL, errno, "cannot open %s", argv[optind]);
                return cli_fail(&err);
        }
        r = cli_open_store(&s, &err);
        if (r == 0)
                r = ingest_new(s, NULL, &ing, &err);
        if (r == 0) {
                ingest_set_warn(ing, cli_warn, NULL);
                r = ingest_read_fd(ing, fd, &err);
        }
        if (r == 0) {
                if (!realpath(argv[optind], source))
                        snprintf(source, sizeof source, "%s", argv[optind]);
                pi.bundle = ingest_bundle_digest(ing);
                pi.bundle_size = ingest_bundle_size(ing);
                pi.source = source;
                r = ingest_publish(ing, &pi, &id, &is_new, &err);
        }
        if (r < 0) {
                r = cli_fail(&err);
                goto done;
        }
        m = ingest_manifest(ing);
        digest_to_hex(ingest_tree_digest(ing), tree_hex);
        digest_to_hex(ingest_bundle_digest(ing), bundle_hex);
        if (json) {
                r = cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:b}", "slug", m->slug, "version",
                                             m->version, "tree", tree_hex, "bundle", bundle_hex, "new", is_new,
                                             "entries", (json_int_t)ingest_tree(ing)->n, "bytes_added",
                                             (json_int_t)ingest_bytes_added(ing), "signed", 0));
        } else if (is_new) {
                printf("imported %s %s: tree %.12s, %zu entries, %s bundle, %s new in the store (unsigned)\n", m->slug,
                       m->version, tree_hex, ingest_tree(ing)->n, cli_human_size(ingest_bundle_size(ing), sz),
                       cli_human_size(ingest_bytes_added(ing), added));
        } else {
                printf("%s %s is already in the store (tree %.12s): now its newest fetch\n", m->slug, m->version, tree_hex);
        }
done:
        ingest_free(ing);
        store_free(s);
        close(fd);
        return r;
}
