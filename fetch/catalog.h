/* catalog.h - a catalog's signed index: fetched, verified, cached, revalidated (spec/catalog.md).
 *
 * Calling sequence: catalog_load(store, base_url, trust, insecure, &c, err) fetches <base>/index.json (with the
 * validators of the cached copy, so an unchanged index costs one request answered 304), verifies
 * index.json.sig against the trusted keys (unless insecure), parses it and caches index + signature under
 * $STACK_HOME/catalogs/<id>/; catalog_find() picks a version; catalog_free(). The writer (catalog_new, catalog_add,
 * catalog_to_json) builds the same struct for a publisher and prints it as index.json.
 * Errors: STACK_ENETWORK when the catalog cannot be reached (the caller may fall back to the store),
 * STACK_EREJECT for an unsigned / wrongly signed / malformed index, STACK_ENOTFOUND for an unknown slug/version.
 */
#ifndef STACK_CATALOG_H
#define STACK_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fetch/sign.h"
#include "base/digest.h"
#include "base/error.h"
#include "store/store.h"

#define CATALOG_MAX_INDEX (16 * 1024 * 1024)

struct catalog_version {
        char *version;
        char *url; /* absolute when parsed; as given to catalog_add() when built */
        struct digest sha256;
        uint64_t size;
};

struct catalog_stack {
        char *slug, *title, *description; /* title, description: NULL when the index has none */
        struct catalog_version *v;        /* in index order: later entries are newer when labels are not semver */
        size_t n;
};

struct catalog {
        char *base; /* without trailing slash */
        struct catalog_stack *stacks;
        size_t n;
        char *signer;     /* NULL when loaded with insecure and unsigned */
        bool revalidated; /* the server answered 304: the cached index is current */
};

int catalog_load(struct store *s, const char *base_url, const struct trust *t, bool insecure, struct catalog **ret,
                 struct error *err);
/* Parse index.json text (no signature check); base resolves relative bundle URLs. */
int catalog_parse(const char *json, size_t len, const char *base, struct catalog **ret, struct error *err);
/* version NULL: the newest (semver when both labels parse, else the later entry). */
int catalog_find(const struct catalog *c, const char *slug, const char *version, const struct catalog_version **ret,
                 struct error *err);
void catalog_free(struct catalog *c);

/* Writing an index (stack catalog build): catalog_new(NULL or base) -> catalog_add() for each bundle, in
 * file-name order -> catalog_to_json() -> catalog_free(). catalog_to_json() is the inverse of catalog_parse():
 * parsing its text with the same base gives the same catalog. */
int catalog_new(const char *base, struct catalog **ret, struct error *err);
/* A version into its stack (created when new; stacks kept in slug order). Versions stay oldest first: by semver
 * when both labels parse and differ, else in the order added. The stack's title and description are those of
 * its newest version. A label the stack already has is STACK_EREJECT naming both urls. */
int catalog_add(struct catalog *c, const char *slug, const char *title, const char *description,
                const struct catalog_version *v, struct error *err);
/* index.json (schema 1, two-space indent, final newline) into *ret (heap); urls under c->base are written
 * relative to it. */
int catalog_to_json(const struct catalog *c, char **ret, struct error *err);

#endif
