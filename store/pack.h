/* pack.h - a stack folder into a reproducible bundle (spec/bundle.md).
 *
 * Calling sequence:
 *   pack_read_manifest(dir, &m, warn, ctx, err)   optional: parse DIR/stack.yaml (for the default output name
 *                                                 `<slug>-<version>.stack` and to show its warnings);
 *                                                 manifest_free(m) when done
 *   pack_dir(dir, out_path, &res, err)            walk DIR, check every entry, write the bundle
 *   pack_result_release(&res)                     always; safe on a zeroed or failed result
 *   bundle_read_manifest(file, &m, &sha, &size)   the other way: a bundle file's stack.yaml, its digest, size
 *
 * pack_dir() parses and checks stack.yaml itself (it does not trust the caller to have done so), walks DIR
 * without following symlinks, sorts the paths bytewise and writes pax tar + zstd: uid/gid 0, no owner names,
 * mtime 0, no atime/ctime, no xattrs or ACLs, modes normalised (dirs 0755, files 0755 or 0644 after their
 * exec bits, symlinks 0777). The same tree gives the same bytes whoever owns it, whenever it was touched.
 * The output file itself is left out when it lies inside DIR.
 *
 * The bundle is written to a temp file beside out_path (O_EXCL), fsync'ed and renamed into place only on
 * success: a failed pack leaves no output and no temp file. Refusals (what `stack import` would refuse:
 * fifos, sockets, devices, setuid/setgid/sticky bits, symlinks that are absolute or resolve outside DIR,
 * paths import cannot take, a missing or invalid stack.yaml, a missing compose file or image archive) are
 * STACK_EREJECT with one line naming the path; I/O failures are STACK_EFAIL.
 *
 * The writer pack_dir() uses, for another source of entries (store/export.c writes a version from the store):
 *   pack_writer_open(out_path, what, &w, err)     a temp file beside out_path (O_EXCL); `what` ("pack DIR") is
 *                                                 named by every message, "cannot <what>: ...", and must outlive w
 *   pack_writer_add(w, e, size, err)              one entry's header, normalised as above; entries in tree order
 *   pack_writer_data(w, path, buf, n, err) ...    a file's size bytes, in any pieces
 *   pack_writer_commit(w, out_path, &size, &sha256, err)   ends the archive, fsyncs and renames it into place
 *   pack_writer_free(w)                           always; removes the temp file unless the commit succeeded
 */
#ifndef STACK_PACK_H
#define STACK_PACK_H

#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"
#include "manifest.h"
#include "tree.h"

#define PACK_CHUNK (256 * 1024) /* file data is streamed in chunks this size */

struct pack_result {
        char *slug;           /* from stack.yaml */
        char *version;        /* from stack.yaml */
        uint64_t n_entries;   /* archive entries written: files, directories, symlinks */
        uint64_t size;        /* bytes of the bundle file */
        struct digest sha256; /* SHA-256 of the bundle file */
};

/* Read and parse DIR/stack.yaml; STACK_EREJECT when it is missing, not a regular file or invalid.
 * warn may be NULL. *ret is written only on success. */
int pack_read_manifest(const char *dir, struct manifest **ret, manifest_warn_fn warn, void *warn_ctx,
                       struct error *err);

/* Pack DIR into out_path (replaced if it exists). *ret is written only on success. */
int pack_dir(const char *dir, const char *out_path, struct pack_result *ret, struct error *err);

void pack_result_release(struct pack_result *res);

struct pack_writer;
int pack_writer_open(const char *out_path, const char *what, struct pack_writer **ret, struct error *err);
/* The temp file's path and the output's directory (valid until pack_writer_free()). */
const char *pack_writer_tmp(const struct pack_writer *w);
const char *pack_writer_dir(const struct pack_writer *w);
/* size: a file's bytes (what pack_writer_data() will hand over), ignored for directories and symlinks. */
int pack_writer_add(struct pack_writer *w, const struct tree_entry *e, uint64_t size, struct error *err);
/* path: the entry the bytes belong to, for messages. */
int pack_writer_data(struct pack_writer *w, const char *path, const void *buf, size_t n, struct error *err);
int pack_writer_commit(struct pack_writer *w, const char *out_path, uint64_t *ret_size, struct digest *ret_sha256,
                       struct error *err);
void pack_writer_free(struct pack_writer *w);
/* The checks import makes once every entry is in (pack's and export's): tree_finalize() (duplicates, entries below
 * files or symlinks, links leaving the tree), then, when m is not NULL, bundle_check_content() (the compose file,
 * the image archives stack.yaml lists). A refusal is one line naming what, "cannot <what>: ...". */
int pack_check_tree(const char *what, struct tree *t, const struct manifest *m, struct error *err);
/* One line, "cannot <what>: <message>" (what: "pack DIR", "export SLUG@VER"), with code: pack's and export's
 * messages. Returns -code, as error_set(). */
int pack_fail(const char *what, struct error *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Read a bundle file's stack.yaml without a store (for `stack catalog build`): one pass through libarchive
 * (zstd or gzip, tar), every byte of the file hashed, including any after the end of the tar. Entries other
 * than stack.yaml are skipped, not checked: import and fetch check them. A file that is not a compressed tar,
 * has no stack.yaml (or two, or one that is not a regular file or is larger than MANIFEST_MAX_SIZE), or whose
 * stack.yaml is invalid is STACK_EREJECT naming the file. Outputs are written only on success; ret_sha256
 * and ret_size may be NULL. */
int bundle_read_manifest(const char *path, struct manifest **ret_m, struct digest *ret_sha256, uint64_t *ret_size,
                         struct error *err);

#endif
