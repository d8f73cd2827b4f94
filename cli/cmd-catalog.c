/* cmd-catalog.c - `stack catalog build DIR [--key KEY]`: DIR/index.json (and index.json.sig) for the bundles
 * in DIR, the way a publisher prepares a catalog to serve (spec/catalog.md "catalog build").
 *
 * The output depends only on the bundles' bytes and file names: bundles are read in name order, stacks are
 * listed by slug, versions oldest first, and the signature is deterministic ECDSA, so building twice gives
 * the same files.
 */
#include "cli.h"
#include "fetch/sign.h"
#include "store/fsutil.h"
#include "store/index.h"
#include "store/semver.h"
#include "store/pack.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bundle {
        char *file; /* name inside DIR: the index's url */
        struct manifest *m;
        char sha256[DIGEST_HEX_LEN + 1];
        uint64_t size;
};

struct catalog {
        struct bundle *v;
        size_t n, cap;
};

static void catalog_release(struct catalog *c)
{
        for (size_t i = 0; i < c->n; i++) {
                free(c->v[i].file);
                manifest_free(c->v[i].m);
        }
        free(c->v);
        memset(c, 0, sizeof *c);
}

/* Stacks by slug; inside one, by file name (sorted again by version below). */
static int cmp_slug_file(const void *a, const void *b)
{
        const struct bundle *x = a, *y = b;
        int c = strcmp(x->m->slug, y->m->slug);

        return c ? c : strcmp(x->file, y->file);
}

/* Older first: by semver when both versions parse and differ, else by file name. */
static int cmp_version(const struct bundle *x, const struct bundle *y)
{
        int c;

        if (semver_compare(x->m->version, y->m->version, &c) == 0 && c != 0)
                return c;
        return strcmp(x->file, y->file);
}

/* A stable insertion sort of one stack's versions: with labels that are not all semver the rule above is not
 * transitive, and insertion over name order keeps the result fixed for a given set of files. */
static void sort_versions(struct bundle *v, size_t n)
{
        for (size_t i = 1; i < n; i++) {
                struct bundle b = v[i];
                size_t j = i;

                while (j > 0 && cmp_version(&v[j - 1], &b) > 0) {
                        v[j] = v[j - 1];
                        j--;
                }
                v[j] = b;
        }
}

static json_t *version_json(const struct bundle *b)
{
        return json_pack("{s:s, s:s, s:s, s:I}", "version", b->m->version, "url", b->file, "sha256", b->sha256, "size",
                         (json_int_t)b->size);
}

/* Group, order and check the bundles, then the index document. */
static int build_index(struct catalog *c, json_t **ret, size_t *ret_stacks, struct error *err)
{
        json_t *root, *stacks;
        size_t n_stacks = 0;

        qsort(c->v, c->n, sizeof *c->v, cmp_slug_file);
        root = json_pack("{s:i, s:[]}", "schema", 1, "stacks");
        if (!root)
                return error_set(err, STACK_EFAIL, "out of memory");
        stacks = json_object_get(root, "stacks");
        for (size_t i = 0, end; i < c->n; i = end) {
                const struct bundle *newest;
                json_t *st, *versions;

                for (end = i + 1; end < c->n && !strcmp(c->v[end].m->slug, c->v[i].m->slug); end++)
                        ;
                for (size_t a = i; a < end; a++)
                        for (size_t b = a + 1; b < end; b++)
                                if (!strcmp(c->v[a].m->version, c->v[b].m->version)) {
                                        json_decref(root);
                                        return error_set(err, STACK_EREJECT, "%s and %s are both %s %s: keep one of them",
                                                         c->v[a].file, c->v[b].file, c->v[a].m->slug, c->v[a].m->version);
                                }
                sort_versions(c->v + i, end - i);
                /* The stack's title and description come from its newest version. */
                newest = &c->v[end - 1];
                st = json_pack("{s:s, s:s, s:s, s:[]}", "slug", newest->m->slug, "title", newest->m->name, "description",
                               newest->m->description, "versions");
                versions = st ? json_object_get(st, "versions") : NULL;
                for (size_t k = i; versions && k < end; k++)
                        if (json_array_append_new(versions, version_json(&c->v[k])) < 0)
                                versions = NULL;
                if (!versions || json_array_append_new(stacks, st) < 0) {
                        if (!versions)
                                json_decref(st);
                        json_decref(root);
                        return error_set(err, STACK_EFAIL, "out of memory");
                }
                n_stacks++;
        }
        *ret = root;
        *ret_stacks = n_stacks;
        return 0;
}

static int read_bundles(const char *dir, struct catalog *c, struct error *err)
{
        char **names = NULL, path[PATH_MAX], sz[32];
        size_t n = 0;
        int r;

        r = fs_list_suffix(dir, ".stack", false, &names, &n);
        if (r < 0)
                return error_errno(err, STACK_EFAIL, r, "cannot list %s", dir);
        if (n == 0) {
                r = error_set(err, STACK_EFAIL, "%s holds no *.stack bundles", dir);
                goto fail;
        }
        c->v = calloc(n, sizeof *c->v);
        if (!c->v) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        for (size_t i = 0; i < n; i++) {
                struct bundle *b = &c->v[c->n];
                struct digest d;

                if (fs_path(path, sizeof path, "%s/%s", dir, names[i]) < 0) {
                        r = error_set(err, STACK_EFAIL, "path %s/%s is too long", dir, names[i]);
                        goto fail;
                }
                r = bundle_read_manifest(path, &b->m, &d, &b->size, err);
                if (r < 0)
                        goto fail;
                b->file = names[i];
                names[i] = NULL;
                digest_to_hex(&d, b->sha256);
                c->n++;
                printf("%s: %s %s (%s, sha256 %s)\n", b->file, b->m->slug, b->m->version, cli_human_size(b->size, sz),
                       b->sha256);
        }
        r = 0;
fail:
        fs_names_free(names, n);
        return r;
}

static int catalog_build(const char *dir, const char *key, struct error *err)
{
        struct catalog c = {0};
        struct digest probe = {{0}};
        unsigned char sig[SIGN_MAX_SIG];
        char index_path[PATH_MAX], sig_path[PATH_MAX], fp[24], *text = NULL;
        json_t *root = NULL;
        size_t n_stacks = 0, sig_len;
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
        r = read_bundles(dir, &c, err);
        if (r < 0)
                goto fail;
        r = build_index(&c, &root, &n_stacks, err);
        if (r < 0)
                goto fail;
        text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        /* json_dumps() leaves no final newline; a file should end with one. */
        {
                size_t len = strlen(text);
                char *t = realloc(text, len + 2);
                if (!t) {
                        r = error_set(err, STACK_EFAIL, "out of memory");
                        goto fail;
                }
                text = t;
                text[len] = '\n';
                text[len + 1] = 0;
        }
        r = fs_write_atomic(index_path, text, strlen(text), 0644);
        if (r < 0) {
                r = error_errno(err, STACK_EFAIL, r, "cannot write %s", index_path);
                goto fail;
        }
        printf("wrote %s: %zu stack%s, %zu version%s\n", index_path, n_stacks, n_stacks == 1 ? "" : "s", c.n,
               c.n == 1 ? "" : "s");
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
        json_decref(root);
        catalog_release(&c);
        return r;
}

int cmd_catalog(int argc, char **argv)
{
        static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        struct error err = ERROR_INIT;
        const char *key = NULL;
        int c;

        while ((c = getopt_long(argc, argv, "hk:", opts, NULL)) != -1) {
                if (c == 'k')
                        key = optarg;
                else if (c == 'h') {
                        printf("usage: stack catalog build DIR [--key KEY]\n"
                               "Writes DIR/index.json listing every DIR/*.stack bundle (slug, title, versions oldest first,\n"
                               "each with its file name, SHA-256 and size). With --key, also signs it: DIR/index.json.sig.\n"
                               "Serve DIR as it is (https://, http:// or file://) and point STACK_CATALOG at it.\n");
                        return 0;
                } else
                        return cli_usage("catalog", "unknown option");
        }
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
