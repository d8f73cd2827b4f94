/* testlib.h - helpers for tests that drive the real `stack` binary: hostile bundles made on the spot,
 * running the binary, and snapshots of a store to prove a refused input changed nothing. */
#ifndef STACK_TESTLIB_H
#define STACK_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tl_entry {
        const char *path;
        char type;            /* 'f' file, 'd' dir, 'l' symlink, 'h' hard link, 'c' char device, 'p' fifo */
        unsigned mode;        /* permission bits incl. setuid etc.; 0 = 0644 / 0755 */
        const void *data;     /* file content (NULL with len > 0: that many zero bytes; 'R' fill: see fill) */
        size_t len;
        const char *target;   /* symlink / hard link target */
        char fill;            /* 0: data or zeros; 'r': pseudo-random bytes of len */
};

enum tl_compression { TL_ZSTD, TL_GZIP, TL_NONE };

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

#endif
