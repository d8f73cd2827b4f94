/* store.h - the content-addressed store on disk: layout, lock, objects (spec/store.md).
 *
 * Calling sequence:
 *   store_open(home or NULL, &s, err)      creates the layout on first use, opens the index (index.h)
 *   store_lock_shared(s, err)              a writer (import, fetch, run) holds it while it writes;
 *   store_lock_exclusive(s, err)           gc holds it; readers take no lock and never block
 *   staging_new(s, &st, err)               objects written by one ingest, invisible until committed:
 *     staging_put_buffer() / staging_begin() + staging_write() + staging_end()   (any number)
 *     staging_commit(st, err)              one syncfs, then renames: every staged object becomes durable
 *                                          under its name; only after this may the index reference them
 *   staging_free(st)                       unlinks what was not committed (safe after a failure)
 *   store_free(s)
 *
 * A crash at any point leaves at most temp files in tmp/ and unreferenced objects, which gc removes.
 * Objects are read-only (0444) and never handed out as hard links.
 */
#ifndef STACK_STORE_H
#define STACK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"

struct store;
struct index;
struct staging;

/* home: NULL means $STACK_HOME, else $XDG_DATA_HOME/stack, else ~/.local/share/stack. */
int store_open(const char *home, struct store **ret, struct error *err);
/* The home store_open(NULL, ...) opens, into buf; -ENOENT when none of those is set, -ENAMETOOLONG. */
int store_default_home(char *buf, size_t size);
void store_free(struct store *s);

const char *store_home(const struct store *s);
struct index *store_index(struct store *s);

/* Held until the matching store_unlock() or store_free(); calls nest (each lock is matched by one unlock, and
 * only the outermost unlock releases it; a shared lock inside an exclusive one keeps it exclusive). Waits up to STORE_LOCK_WAIT_S ($STACK_LOCK_WAIT seconds when set),
 * then fails with STACK_ESTORE naming the holders (each holder leaves locks/<pid>.<n>: "shared|exclusive
 * <command line>"). Taking the other kind converts the lock this handle holds. */
#define STORE_LOCK_WAIT_S 60
int store_lock_shared(struct store *s, struct error *err);
int store_lock_exclusive(struct store *s, struct error *err);
void store_unlock(struct store *s);

/* objects/sha256/<2 hex>/<62 hex> under the store's home. */
int store_object_path(const struct store *s, const struct digest *d, char *buf, size_t size);
bool store_has_object(const struct store *s, const struct digest *d);
/* Open an object read-only; -ENOENT when missing. */
int store_object_open(const struct store *s, const struct digest *d);

int staging_new(struct store *s, struct staging **ret, struct error *err);
/* A whole object in memory: hashed first, written only when the store lacks it. */
int staging_put_buffer(struct staging *st, const void *data, size_t len, struct digest *ret, struct error *err);
/* A streamed object: begin, write any number of times, end (which returns its digest). */
int staging_begin(struct staging *st, struct error *err);
int staging_write(struct staging *st, const void *data, size_t len, struct error *err);
int staging_end(struct staging *st, struct digest *ret, struct error *err);
/* Bytes written to new temp files so far (objects the store already had cost nothing). */
uint64_t staging_bytes_written(const struct staging *st);
int staging_commit(struct staging *st, struct error *err);
void staging_free(struct staging *st);

#endif
