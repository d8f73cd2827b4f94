/* manifest-int.h - what the parts of the manifest parser share (store/manifest*.c); not an interface outside
 * store/.
 *
 * Calling sequence: manifest_parse() (manifest.c) loads the YAML tree, fills a struct manifest_ctx, walks the
 * top level and hands the `permissions` mapping to manifest_permissions_json() (manifest-json.c), which writes
 * it out as JSON text. Every function taking a ctx returns 0 or a negative stack_code after error_set() into
 * c->err, with a message starting "stack.yaml: ".
 */
#ifndef STACK_MANIFEST_INT_H
#define STACK_MANIFEST_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "manifest.h"
#include "base/yamltree.h"

#define MANIFEST_MAX_DEPTH       64    /* nesting of sequences/mappings, aliases included */
#define MANIFEST_MAX_PERMISSIONS 65536 /* bytes of re-emitted `permissions` */

struct manifest_ctx {
        struct error *err;
        char **warnings;
        size_t n_warnings, n_dropped;
};

/* STACK_EFAIL "stack.yaml: out of memory". */
int manifest_oom(struct manifest_ctx *c);

/* A scalar unquoted and not tagged !!str (may be a bool/number/null). */
bool manifest_node_plain(const struct yamltree_node *n);

/* The node an alias stands for (n itself when it is not an alias; NULL stays NULL). */
const struct yamltree_node *manifest_deref(const struct yamltree_node *n);

/* Whether n (an alias is followed) is the scalar s. */
bool manifest_scalar_is(const struct yamltree_node *n, const char *s);

/* Mapping keys must be scalars and unique; `where` names the mapping ("ports[2]", "" for the top level).
 * Sorted, so a mapping of many keys costs n log n. */
int manifest_map_check(struct manifest_ctx *c, const struct yamltree_node *map, const char *where);

/* The `permissions` mapping v (aliases expanded) as JSON text, which is also flow YAML, at most
 * MANIFEST_MAX_PERMISSIONS bytes and MANIFEST_MAX_DEPTH levels; *ret is the caller's to free. */
int manifest_permissions_json(struct manifest_ctx *c, const struct yamltree_node *v, char **ret);

#endif
