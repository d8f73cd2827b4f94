/* testlib.h - helpers for tests that drive the real `stack` binary: hostile bundles made on the spot,
 * running the binary, and snapshots of a store to prove a refused input changed nothing; and, for the unit
 * tests of the store modules, bundles ingested in-process (tl_import*). */
#ifndef STACK_TESTLIB_H
#define STACK_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"
#include "store/ingest.h"
#include "store/store.h"

struct tl_entry {
        const char *path;
        char type;        /* 'f' file, 'd' dir, 'l' symlink, 'h' hard link, 'c' char device, 'p' fifo */
        unsigned mode;    /* permission bits incl. setuid etc.; 0 = 0644 / 0755 */
        const void *data; /* file content (NULL with len > 0: that many zero bytes; 'R' fill: see fill) */
        size_t len;
        const char *target; /* symlink / hard link target */
        char fill;          /* 0: data or zeros; 'r': pseudo-random bytes of len */
};

enum tl_compression { TL_ZSTD, TL_GZIP, TL_NONE };

/* A JSON file of the source tree ($STACK_SRC/rel, or ./rel), NULL (said on stderr) when it cannot be read. */
struct json_t;
struct json_t *tl_load_json(const char *rel);

/* A fresh temp directory removed at exit (by tl_cleanup, registered with atexit). */
const char *tl_tmpdir(void);
/* Write a bundle from entries. Returns 0 or -1. */
int tl_write_bundle(const char *path, enum tl_compression c, const struct tl_entry *e, size_t n);
/* The minimal valid stack.yaml + compose.yaml entries for slug/version, written into out[0..1]. */
void tl_valid_entries(struct tl_entry out[2], const char *slug, const char *version);

/* Run $STACK_BIN with args (NULL-terminated) and STACK_HOME=home; extra_env "K=V" or NULL. Captures output
 * into tl_out / tl_err (NUL-terminated, truncated at 64 KiB). Returns the exit code, or -1. */
extern char tl_out[65536], tl_err[65536];
int tl_run(const char *home, const char *extra_env, const char *const *args);
/* Lines in s (a final line without newline counts). */
int tl_count_lines(const char *s);

/* What a store holds: rows of every table, object files, temp files, and a digest over all their names. */
struct tl_snapshot {
        long long versions, trees, entries, objects, stacks, bundles;
        long long object_files, temp_files;
        uint64_t names_hash;
};
int tl_snapshot(const char *home, struct tl_snapshot *ret);
bool tl_snapshot_equal(const struct tl_snapshot *a, const struct tl_snapshot *b);

/* A store in a fresh temp home; aborts (with the message on stderr) when it cannot be opened. */
struct store *tl_store_new(void);
/* Write a bundle of entries to a fresh temp file and read it into a new ingest of s (limits NULL: the
 * defaults, which read STACK_MAX_*), not published: the caller publishes it or not, then ingest_free()s it.
 * Returns 0 with *ret set, or the ingest's negative code with err filled (nothing left to free then). */
int tl_ingest(struct store *s, enum tl_compression c, const struct tl_entry *e, size_t n,
              const struct ingest_limits *limits, struct ingest **ret, struct error *err);

/* What tl_import() published. */
struct tl_imported {
        int64_t id;
        bool is_new;
        struct digest tree, bundle;
};

/* tl_ingest(), then publish as unsigned with the bundle's digest. Returns 0, or the negative code with err
 * filled (nothing published then). ret may be NULL. */
int tl_import(struct store *s, enum tl_compression c, const struct tl_entry *e, size_t n,
              const struct ingest_limits *limits, struct tl_imported *ret, struct error *err);
/* A valid stack slug@version (tl_valid_entries) plus one file "marker.txt" holding marker, so that two
 * markers give two trees. zstd-compressed. */
int tl_import_version(struct store *s, const char *slug, const char *version, const char *marker,
                      struct tl_imported *ret, struct error *err);
/* Entries in a directory (not . and ..), or -1 when it cannot be read. */
int tl_count_dir(const char *dir);
/* Run SQL on the store's index.db from a connection of its own (to damage a store on purpose, or to make
 * the next write fail). Returns 0, or -1 with the error on stderr. */
int tl_sql(const char *home, const char *sql);

#endif
