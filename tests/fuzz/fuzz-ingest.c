/* fuzz-ingest.c - a whole bundle into the store (store/ingest.h) as import and fetch read it: the compression
 * filter, libarchive's tar reader, every entry's checks (bundle.h, tree.h), stack.yaml (manifest.h) and image
 * archives split into parts (imagearchive.h), in a store under the harness's temp dir. First byte even: the
 * rest is a tar, which the harness compresses with zstd first (so the fuzzer works on tar headers, not on
 * compressed bytes); odd: the rest is the bundle as it arrives. Never published: the ingest is read, checked
 * and freed, and leaves no temp file. */
#include "fuzz.h"

#include <dirent.h>

#include <zstd.h>

#include "store/ingest.h"
#include "store/store.h"

#define RESET_EVERY 256

static struct store *store;
static unsigned uses;
static char home[PATH_MAX];

struct feed {
        const uint8_t *p;
        size_t n, off;
};

static ssize_t feed_read(void *ctx, const void **ret_buf, struct error *err)
{
        struct feed *f = ctx;
        size_t n = f->n - f->off < 1000 ? f->n - f->off : 1000;

        (void)err;
        *ret_buf = f->p + f->off;
        f->off += n;
        return (ssize_t)n;
}

static void open_store(void)
{
        struct error err = ERROR_INIT;

        snprintf(home, sizeof home, "%s/home", fuzz_tmpdir());
        if (store) {
                store_free(store);
                store = NULL;
                fs_rm_rf(home);
        }
        if (store_open(home, &store, &err) != 0)
                abort();
        uses = 0;
}

/* Temp files an ingest leaves in tmp/ once freed: none. */
static size_t temp_files(void)
{
        char dir[PATH_MAX];
        struct dirent *e;
        size_t n = 0;
        DIR *d;

        snprintf(dir, sizeof dir, "%s/tmp", home);
        d = opendir(dir);
        if (!d)
                return 0;
        while ((e = readdir(d)))
                n += e->d_name[0] != '.';
        closedir(d);
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct ingest_limits lim = {
                .max_entries = 1000, .max_unpacked = 64 << 20, .max_ratio = 200, .ratio_grace = 1 << 20};
        struct error err = ERROR_INIT;
        struct ingest *ing = NULL;
        struct feed f = {0};
        uint8_t *z = NULL;
        int r;

        if (size < 1)
                return 0;
        if (!store || ++uses >= RESET_EVERY)
                open_store();
        if (data[0] & 1) {
                f.p = data + 1;
                f.n = size - 1;
        } else {
                size_t cap = ZSTD_compressBound(size - 1), zn;
                z = malloc(cap);
                if (!z)
                        abort();
                zn = ZSTD_compress(z, cap, data + 1, size - 1, 1);
                if (ZSTD_isError(zn))
                        abort();
                f.p = z;
                f.n = zn;
        }
        if (ingest_new(store, &lim, &ing, &err) != 0)
                abort();
        r = ingest_read(ing, feed_read, &f, &err);
        fuzz_check_verdict(r, &err);
        if (r == 0 && (!ingest_manifest(ing) || !ingest_tree(ing) || !ingest_tree(ing)->finalized))
                abort();
        ingest_free(ing);
        if (temp_files())
                abort();
        free(z);
        return 0;
}
