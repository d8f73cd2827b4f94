/* resolve.c - POST /run's target: a slug (store first, then the catalog) or a bundle URL under the catalog. */
#include "resolve.h"

#include "fetch/catalog.h"
#include "fetch/sign.h"
#include "base/fsutil.h"
#include "store/index.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool slug_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || strchr("._-", s[i])))
                        return false;
        return true;
}

static bool version_valid(const char *v)
{
        size_t n = strlen(v);

        if (n == 0 || n > 128)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)v[i] < 0x21 || v[i] == 0x7f || v[i] == '@' || v[i] == '/')
                        return false;
        return true;
}

static int load_catalog(struct store *s, const char *base, struct catalog **ret, struct error *err)
{
        char dir[PATH_MAX];
        struct trust *t = NULL;
        int r = fs_path(dir, sizeof dir, "%s/keys/trusted", store_home(s));

        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "trusted keys path");
        r = trust_load(dir, &t, err);
        if (r == 0)
                r = catalog_load(s, base, t, false, ret, err);
        trust_free(t);
        return r;
}

static int put_ref(const char *slug, const char *version, char *ret_slug, size_t slug_size, char *ret_ref,
                   size_t ref_size, struct error *err)
{
        if (fs_path(ret_slug, slug_size, "%s", slug) < 0 || fs_path(ret_ref, ref_size, "%s@%s", slug, version) < 0)
                return error_set(err, STACK_EUSAGE, "slug or version too long");
        return 0;
}

/* The URL form: only under the catalog's base, then the index entry whose bundle URL is exactly this one. */
static int resolve_url(struct store *s, const char *catalog, const char *url, char *ret_slug, size_t slug_size,
                       char *ret_ref, size_t ref_size, struct error *err)
{
        struct catalog *c = NULL;
        size_t blen;
        int r;

        if (!strncasecmp(url, "file:", 5))
                return error_set(err, STACK_EREJECT, "file: URLs are refused: the API runs stacks from the catalog");
        if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
                return error_set(err, STACK_EREJECT, "only http(s) bundle URLs under the catalog are accepted");
        if (!catalog || !*catalog)
                return error_set(err, STACK_EREJECT,
                                 "%s is refused: no catalog is configured (stack serve --catalog URL or STACK_CATALOG)",
                                 url);
        blen = strlen(catalog);
        while (blen > 0 && catalog[blen - 1] == '/')
                blen--;
        if (strncmp(url, catalog, blen) != 0 || url[blen] != '/' || strstr(url, "/../") || strstr(url, "/./") ||
            strpbrk(url, "?#\\ \t\r\n"))
                return error_set(err, STACK_EREJECT, "%s is not under the catalog %.*s: refused", url, (int)blen,
                                 catalog);
        r = load_catalog(s, catalog, &c, err);
        if (r < 0)
                return r;
        r = error_set(err, STACK_ENOTFOUND, "the catalog's index names no bundle %s", url);
        for (size_t i = 0; i < c->n; i++)
                for (size_t k = 0; k < c->stacks[i].n; k++)
                        if (!strcmp(c->stacks[i].v[k].url, url)) {
                                error_clear(err);
                                r = put_ref(c->stacks[i].slug, c->stacks[i].v[k].version, ret_slug, slug_size, ret_ref,
                                            ref_size, err);
                                goto done;
                        }
done:
        catalog_free(c);
        return r;
}

int resolve_target(struct store *s, const char *catalog, const char *slug_or_url, const char *version, char *ret_slug,
                   size_t slug_size, char *ret_ref, size_t ref_size, struct error *err)
{
        struct version_info v = {0};
        struct catalog *c = NULL;
        const struct catalog_version *cv;
        int r;

        if (strstr(slug_or_url, "://") || !strncasecmp(slug_or_url, "file:", 5))
                return resolve_url(s, catalog, slug_or_url, ret_slug, slug_size, ret_ref, ref_size, err);
        if (strpbrk(slug_or_url, "/\\~") || slug_or_url[0] == '.')
                return error_set(err, STACK_EREJECT,
                                 "local paths are refused: the API runs stacks by slug or "
                                 "catalog URL");
        if (!slug_valid(slug_or_url))
                return error_set(err, STACK_EUSAGE, "'%.80s' is not a slug ([a-z0-9][a-z0-9._-]{0,62})", slug_or_url);
        if (version && !version_valid(version))
                return error_set(err, STACK_EUSAGE, "'%.80s' is not a version label", version);
        r = index_resolve(store_index(s), slug_or_url, version, &v, err);
        if (r == 0) {
                r = put_ref(v.slug, v.version, ret_slug, slug_size, ret_ref, ref_size, err);
                version_info_release(&v);
                return r;
        }
        if (r != -STACK_ENOTFOUND)
                return r;
        if (!catalog || !*catalog)
                return r; /* the store's message: what it has */
        error_clear(err);
        r = load_catalog(s, catalog, &c, err);
        if (r == 0)
                r = catalog_find(c, slug_or_url, version, &cv, err);
        if (r == 0)
                r = put_ref(slug_or_url, cv->version, ret_slug, slug_size, ret_ref, ref_size, err);
        catalog_free(c);
        return r;
}
