/* bundle.h - what a bundle may hold (spec/bundle.md "Entries" and "Required content"): the one rule that
 * `stack pack` (store/pack.c, from a directory) and import and fetch (store/ingest.c, from an archive) apply,
 * so pack never writes a bundle import would refuse.
 *
 * Calling sequence: tree_init(); bundle_add_entry() for each entry as it is read; tree_finalize() (duplicates,
 * entries below files or symlinks, symlinks that resolve outside, loops); bundle_check_content() with the
 * bundle's parsed stack.yaml; bundle_flavor() for the flavor it runs as. Reading a bundle archive:
 * bundle_archive_open() a new libarchive reader, then bundle_archive_next() until it returns 0 (the end) or
 * says why the archive is no bundle (a plain tar is refused). Refusals are STACK_EREJECT with one line naming
 * the entry or the file.
 */
#ifndef STACK_BUNDLE_H
#define STACK_BUNDLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <archive.h>

#include "base/digest.h"
#include "base/error.h"
#include "manifest.h"
#include "tree.h"

/* One entry. mode is an st_mode: the type bits say what it is (libarchive's AE_IF* are the same values),
 * and only regular files, directories and symlinks may be in a bundle; set-id and sticky bits are refused;
 * path and link-target rules are tree_add()'s. size and digest describe a file's content, target a
 * symlink's text. */
int bundle_add_entry(struct tree *t, const char *path, mode_t mode, uint64_t size, const struct digest *digest,
                     const char *target, struct error *err);

/* On a finalized tree: the compose file stack.yaml names (else the first of the default names present) and
 * every image archive it lists are regular files there, and the bundle has something to run: a compose file,
 * else a root Dockerfile, else a root index.html (bundle_flavor()). *ret_compose (may be NULL) is the compose
 * file's path, owned by the tree; NULL when there is none. */
int bundle_check_content(const struct tree *t, const struct manifest *m, const char **ret_compose, struct error *err);

/* The flavor a bundle runs as, by its content, whatever stack.yaml's `flavor` says (spec/bundle.md "Flavors"):
 * a compose file (compose: the one bundle_check_content found, NULL when none) -> DockerCompose; else a regular
 * file `Dockerfile` at the root -> DockerService; else `index.html` at the root -> StaticWebsite; else -1. */
int bundle_flavor(const struct tree *t, const char *compose);

/* Open a (new, unopened) libarchive reader a for the formats a bundle may be in: a zstd- or gzip-compressed
 * tar, its bytes read through cb(a, ctx, ...). Returns archive_read_open()'s result, ARCHIVE_OK on success
 * (libarchive detects compression and format while opening and reading the first header). */
int bundle_archive_open(struct archive *a, void *ctx, archive_read_callback *cb);

/* The next entry of a reader bundle_archive_open() opened; *first is true before the first call (it is false
 * after it). Returns 1 with *ret_e, 0 at the end of the archive, or why a is no bundle (archive_error_string(a)
 * says more): BUNDLE_NOT_ARCHIVE, the first header does not read (not a compressed tar); BUNDLE_CORRUPT, a later
 * one does not; BUNDLE_UNCOMPRESSED, the first header reads but the tar is not compressed at all, which a bundle
 * may not be. A failure of the reader's callback looks like either of the first two: its caller knows. */
enum { BUNDLE_NOT_ARCHIVE = -1, BUNDLE_CORRUPT = -2, BUNDLE_UNCOMPRESSED = -3 };
int bundle_archive_next(struct archive *a, bool *first, struct archive_entry **ret_e);

#endif
