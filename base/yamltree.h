/* yamltree.h - a bounded YAML loader: libyaml events -> a small tree of our own (one document).
 *
 * Calling sequence: fill a struct yamltree_opts (the file's name for messages, the limits, how aliases are
 * represented, flags); yamltree_load() the bytes into a tree allocated by the loader; walk it; yamltree_free()
 * the root (NULL is fine). The loader never reads files and never prints. The helpers at the end read and edit
 * a tree (the compose policy rewrites the document in place with them).
 *
 * Why not yaml_parser_load(): nodes and aliases are counted as the events arrive, so an alias bomb or a node
 * flood is refused at the event that crosses the limit, before anything is expanded. Aliases are either
 *   YAMLTREE_ALIAS_REF:  kept as a YAMLTREE_ALIAS node pointing at its anchored node (the tree is a DAG,
 *                        never copied, memory bounded by the input; the alias counts as one node), or
 *   YAMLTREE_ALIAS_COPY: expanded into a copy at the event that names it, every copied node counted against
 *                        max_nodes, copied nesting against max_copy_depth and copied scalar bytes against
 *                        max_copy_bytes (the tree then holds no YAMLTREE_ALIAS node).
 * YAMLTREE_MERGE (COPY only) then checks every mapping (keys are scalars and unique) and resolves merge keys
 * the way PyYAML and go-yaml do, in every spelling either reads as one: a plain `<<` (untagged or with the
 * non-specific tag `!`) and any key tagged !!merge whatever its text (`!!merge innocent: *x`,
 * `!!merge "<<": *x`); at most one merge key per mapping. The merge tag anywhere else (a value, a list item, a
 * collection) is refused. An alias to a node that is still open (contains it) is refused.
 *
 * Failures are a negative enum stack_code with one line in the error sink: STACK_EREJECT naming the file and
 * the line ("compose.yaml: too many YAML aliases (more than 64, line 12)"), STACK_EFAIL for out of memory.
 */
#ifndef STACK_YAMLTREE_H
#define STACK_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum yamltree_kind {
        YAMLTREE_SCALAR,
        YAMLTREE_SEQ,
        YAMLTREE_MAP,
        YAMLTREE_ALIAS, /* YAMLTREE_ALIAS_REF only */
};

struct yamltree_node {
        enum yamltree_kind kind;
        int style;   /* scalar: yaml_scalar_style_t; collection: yaml_{sequence,mapping}_style_t */
        char *tag;   /* explicit tag as parsed (NULL when the document gave none) */
        size_t line; /* 1-based; 0 for nodes a caller added */
        char *text;  /* scalar: NUL-terminated (may hold NULs, len says how long) */
        size_t len;
        struct yamltree_node **items; /* sequence: items; mapping: key, value, key, value ... (owned) */
        size_t n, cap;
        bool open;                          /* collection whose end event has not arrived yet */
        const struct yamltree_node *target; /* alias: the anchored node (not owned) */
        unsigned mark;                      /* the caller's: never read or set by the loader (0 when loaded) */
};

struct yamltree_limits {
        size_t max_bytes;      /* input larger than this is refused */
        size_t max_aliases;    /* alias references in the document */
        size_t max_nodes;      /* nodes in the document (alias copies included with YAMLTREE_ALIAS_COPY) */
        size_t max_depth;      /* nesting of sequences/mappings as written (> 0) */
        size_t max_copy_depth; /* YAMLTREE_ALIAS_COPY: nesting once aliases are expanded */
        size_t max_copy_bytes; /* YAMLTREE_ALIAS_COPY: scalar bytes copied by aliases */
};

enum yamltree_alias {
        YAMLTREE_ALIAS_REF,
        YAMLTREE_ALIAS_COPY,
};

enum {
        YAMLTREE_ROOT_MAPPING = 1 << 0,  /* the document must be a mapping ("... expected a mapping of keys") */
        YAMLTREE_MERGE = 1 << 1,         /* check mapping keys, resolve merge keys (YAMLTREE_ALIAS_COPY only) */
        YAMLTREE_ERROR_CONTEXT = 1 << 2, /* syntax errors also say libyaml's context ("(while parsing ...)") */
        YAMLTREE_OOM_NAMED = 1 << 3,     /* "<name>: out of memory" rather than "out of memory" */
};

struct yamltree_opts {
        const char *name; /* prefixes every message */
        struct yamltree_limits limits;
        enum yamltree_alias aliases;
        unsigned flags; /* YAMLTREE_* above */
};

/* Load one YAML document (an empty one is refused). *ret is set only on success. */
int yamltree_load(const struct yamltree_opts *opts, const void *data, size_t len, struct yamltree_node **ret,
                  struct error *err);

/* Free a node and what it owns (aliases' targets are not owned). NULL is fine. */
void yamltree_free(struct yamltree_node *n);

/* A YAML null as YAML 1.1 and compose read it: an untagged plain scalar that is empty, ~, null, Null or NULL,
 * or any scalar tagged !!null. A quoted scalar, or one with another tag (`!!str null`, `! ~`, `!custom null`),
 * is a string. An alias (YAMLTREE_ALIAS_REF) is followed; NULL (no node) is false. */
bool yamltree_is_null(const struct yamltree_node *n);

/* A value quoted into a message: at most ~60 bytes, control characters shown as '?', UTF-8 kept whole. */
const char *yamltree_show(const char *s, size_t len, char *buf, size_t size);

/* A plain decimal at the start of s[0..len): digits with an optional fraction, no sign or exponent, parsed by
 * hand so the locale cannot change it. Returns the characters used (0: none or overflow); whole and fraction
 * in *ret_int and *ret_frac. */
size_t yamltree_parse_decimal(const char *s, size_t len, uint64_t *ret_int, double *ret_frac);

/* ---- reading and editing a tree (a caller's own nodes or a loaded tree; aliases are not followed) ---- */

/* "scalar", "list" or "mapping", for messages. */
const char *yamltree_kind_name(const struct yamltree_node *n);
/* n is a scalar (NULL is not). */
bool yamltree_is_scalar(const struct yamltree_node *n);
/* n carries exactly this explicit tag ("!reset", YAML_STR_TAG ...). */
bool yamltree_tag_is(const struct yamltree_node *n, const char *tag);
/* n is a scalar whose text is s (NULL is not); _ci ignores ASCII case. */
bool yamltree_text_is(const struct yamltree_node *n, const char *s);
bool yamltree_text_is_ci(const struct yamltree_node *n, const char *s);
/* A new empty node of that kind; a scalar holding a copy of text[0..len) in that yaml_scalar_style_t. NULL on
 * out of memory. */
struct yamltree_node *yamltree_node_new(enum yamltree_kind kind);
struct yamltree_node *yamltree_scalar_new(const char *text, size_t len, int style);
/* Replace a scalar's text with text (owned from here on) and style; its tag is dropped and its mark cleared. */
void yamltree_scalar_replace(struct yamltree_node *n, char *text, int style);
/* Add n (owned on success) to a sequence's items or a mapping's key/value list. -ENOMEM. */
int yamltree_append(struct yamltree_node *parent, struct yamltree_node *n);
/* The value of key in mapping m (NULL when m is not a mapping or has no such key). */
struct yamltree_node *yamltree_map_get(const struct yamltree_node *m, const char *key);
/* Set key to v (owned from here on, also on failure), replacing what was there; a new key is a scalar in
 * key_style. -ENOMEM (also when v is NULL: a failed yamltree_scalar_new() can be passed straight in). */
int yamltree_map_set(struct yamltree_node *m, const char *key, int key_style, struct yamltree_node *v);
/* The same with a new scalar of text in style (the key plain). */
int yamltree_map_set_text(struct yamltree_node *m, const char *key, const char *text, int style);
/* Remove key (and free its value); returns the value instead when steal is set. */
struct yamltree_node *yamltree_map_del(struct yamltree_node *m, const char *key, bool steal);
/* A deep copy (NULL on out of memory, or when n is NULL); marks are not copied. */
struct yamltree_node *yamltree_copy(const struct yamltree_node *n);
/* Equality of two trees as compose reads them: kinds, texts and nullness (tags and styles aside). */
bool yamltree_equal(const struct yamltree_node *x, const struct yamltree_node *y);

/* ---- writing a tree ---- */

/* root as one YAML document (libyaml's emitter: each collection in its own style, indent 2, no line width,
 * '\n' breaks, UTF-8) appended to out, whose max bounds the text. An empty plain scalar is written `null` (in a
 * flow collection libyaml would write '', a string). Explicit tags are written as parsed, or refused when
 * no_tags. An alias node (YAMLTREE_ALIAS_REF) is written as a copy of its target, out's max bounding the expansion.
 * Returns 0; -EPROTO: a tag and no_tags; -E2BIG: out's max reached (out->toobig); -ENOMEM; -EINVAL: any other
 * emitter error (an invalid tag), libyaml's text for it in *ret_problem (may be NULL). */
struct buf;
int yamltree_emit(const struct yamltree_node *root, bool no_tags, struct buf *out, const char **ret_problem);

#endif
