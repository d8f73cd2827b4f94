/* tree.h - a version's file list, its canonical serialisation and its digest (spec/store.md "Trees").
 *
 * Calling sequence: tree_init(); tree_add() each entry as it arrives (paths are normalised and checked
 * one by one); tree_finalize() once all are in: it adds the parent directories a bundle left implicit,
 * sorts, and refuses duplicates, entries below a file or a symlink, and symlinks that resolve outside the
 * tree. Only then tree_serialize(), tree_digest(), tree_find(). tree_release() is safe at any point.
 *
 * Refusals are STACK_EREJECT with one line naming the entry.
 */
#ifndef STACK_TREE_H
#define STACK_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"

#define TREE_MAX_PATH         1024 /* bytes in a normalised path */
#define TREE_MAX_SYMLINK_HOPS 40

enum entry_type {
        ENTRY_FILE = 'f',
        ENTRY_DIR = 'd',
        ENTRY_SYMLINK = 'l',
};

/* A file stored as its parts (spec/store.md "Image archives"): the recipe object lists the archive's header
 * blocks verbatim and its member objects in order; store/imagearchive.h assembles it as a stream. parts (the
 * member objects, for the index) are filled by ingest; a tree loaded from the index has n_parts 0. */
struct tree_part {
        struct digest digest;
        uint64_t size;
};
struct tree_recipe {
        struct digest digest; /* the recipe object */
        uint64_t size;        /* its bytes */
        struct tree_part *parts;
        size_t n_parts;
};

struct tree_entry {
        char *path;                 /* normalised: relative, no "." / ".." / empty components, no trailing '/' */
        char type;                  /* enum entry_type */
        uint32_t mode;              /* normalised: 0644 or 0755 for files, 0755 for dirs, 0777 for symlinks */
        uint64_t size;              /* files: content bytes; else 0 */
        struct digest digest;       /* files: SHA-256 of the content; else zero */
        char *target;               /* symlinks: the link text as in the bundle; else NULL */
        struct tree_recipe *recipe; /* files assembled from a recipe, else NULL; not part of the digest */
};

struct tree {
        struct tree_entry *v;
        size_t n, cap;
        bool finalized;
};

void tree_init(struct tree *t);
void tree_release(struct tree *t);

/* Normalise a path from a bundle into out (TREE_MAX_PATH + 1 bytes): strips "./" and duplicate or
 * trailing slashes; refuses absolute paths, ".." components, control characters, backslashes and the
 * empty path with -EINVAL (message in err, naming the raw path). */
int tree_path_normalize(const char *raw, char *out, struct error *err);

/* Add one entry. path is normalised here. mode: only its permission bits are read; set-id and sticky bits
 * are refused. For files, digest/size describe the content; for symlinks target is the link text. */
int tree_add(struct tree *t, const char *path, char type, uint32_t mode, uint64_t size, const struct digest *digest,
             const char *target, struct error *err);

/* Mark the entry tree_add() added last as assembled from r (the tree owns r from here, even on failure). */
int tree_set_last_recipe(struct tree *t, struct tree_recipe *r);
void tree_recipe_free(struct tree_recipe *r);

int tree_finalize(struct tree *t, struct error *err);

/* Canonical text (see spec/store.md): heap buffer, caller frees. */
int tree_serialize(const struct tree *t, char **ret, size_t *ret_len);
/* SHA-256 of the canonical text. */
int tree_digest(const struct tree *t, struct digest *ret);
/* Binary search on a finalized tree; NULL when absent. */
const struct tree_entry *tree_find(const struct tree *t, const char *path);

#endif
