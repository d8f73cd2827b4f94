/* fuzz-imagearchive.c - image archives stored as their parts (store/imagearchive.h), in a store under the
 * harness's temp dir. First byte even: the rest is a bundle file given to the sink (a tar that looks like
 * docker save / an OCI layout is split into a recipe and parts, anything else stored whole); the file's digest
 * is the digest of its bytes, and a split file reads back byte-identical through ia_open()/ia_read(), and
 * ia_describe() and ia_recipe_parts() accept it. Odd: the rest is stored as an object and opened as a recipe
 * (a damaged store): read, described and listed, or refused with a message. The store starts afresh every
 * RESET_EVERY inputs so what the fuzzer writes stays small. */
#include "fuzz.h"

#include "base/digest.h"
#include "store/imagearchive.h"
#include "store/store.h"

#define RESET_EVERY 256

/* Objects a seed recipe may name (tests/fuzz/corpus/fuzz-imagearchive/recipe-*). */
static const char *const known[] = {"layer-bytes\n", "{\"architecture\":\"amd64\",\"os\":\"linux\"}", NULL};

static struct store *store;
static unsigned uses;

static void open_store(void)
{
        struct error err = ERROR_INIT;
        struct staging *st = NULL;
        char home[PATH_MAX];
        struct digest d;

        snprintf(home, sizeof home, "%s/home", fuzz_tmpdir());
        if (store) {
                store_free(store);
                store = NULL;
                fs_rm_rf(home);
        }
        if (store_open(home, &store, &err) != 0 || staging_new(store, &st, &err) != 0)
                abort();
        for (size_t i = 0; known[i]; i++)
                if (staging_put_buffer(st, known[i], strlen(known[i]), &d, &err) != 0)
                        abort();
        if (staging_commit(st, &err) != 0)
                abort();
        staging_free(st);
        uses = 0;
}

/* Read the archive a recipe describes; compare with want when not NULL. Returns ia_read's verdict. */
static int read_back(const struct digest *recipe, const uint8_t *want, size_t want_len)
{
        struct error err = ERROR_INIT;
        struct ia_reader *rd = NULL;
        unsigned char buf[4096];
        size_t off = 0;
        ssize_t n;
        int r = ia_open(store, recipe, &rd, &err);

        fuzz_check_verdict(r, &err);
        if (r < 0)
                return r;
        if (want && ia_size(rd) != want_len)
                abort();
        while ((n = ia_read(rd, buf, sizeof buf, &err)) > 0) {
                if (want && (off + (size_t)n > want_len || memcmp(want + off, buf, (size_t)n)))
                        abort();
                off += (size_t)n;
        }
        fuzz_check_verdict((int)n, &err);
        if (want && (n < 0 || off != want_len))
                abort();
        ia_close(rd);
        return (int)n;
}

static void describe(const struct digest *recipe, bool must_work)
{
        struct error err = ERROR_INIT;
        struct tree_part *parts = NULL;
        json_t *j = NULL;
        size_t n = 0;
        int r = ia_describe(store, recipe, &j, &err);

        fuzz_check_verdict(r, &err);
        if (must_work && r != 0)
                abort();
        json_decref(j);
        error_clear(&err);
        r = ia_recipe_parts(store, recipe, &parts, &n, &err);
        fuzz_check_verdict(r, &err);
        if (must_work && r != 0)
                abort();
        free(parts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct error err = ERROR_INIT;
        struct staging *st = NULL;
        struct ia_sink *k = NULL;
        struct tree_recipe *recipe = NULL;
        struct digest d, want;
        size_t off;
        int r;

        if (size < 1)
                return 0;
        if (!store || ++uses >= RESET_EVERY)
                open_store();
        if (staging_new(store, &st, &err) != 0)
                abort();
        if (data[0] & 1) {
                if (staging_put_buffer(st, data + 1, size - 1, &d, &err) != 0 || staging_commit(st, &err) != 0)
                        abort();
                (void)read_back(&d, NULL, 0);
                describe(&d, false);
                staging_free(st);
                return 0;
        }
        if (ia_sink_begin(store, st, &k, &err) != 0)
                abort();
        /* the bytes arrive in pieces, as they do from a decompressor: the first 600 (the tar test needs 512) */
        for (off = 1, r = 0; off < size && r == 0; off += 600)
                r = ia_sink_write(k, data + off, size - off < 600 ? size - off : 600, &err);
        if (r == 0)
                r = ia_sink_end(k, &d, &recipe, &err);
        fuzz_check_verdict(r, &err);
        if (r == 0) {
                digest_buffer(data + 1, size - 1, &want);
                if (!digest_equal(&d, &want))
                        abort();
                if (recipe) {
                        if (staging_commit(st, &err) != 0 || read_back(&recipe->digest, data + 1, size - 1) != 0)
                                abort();
                        describe(&recipe->digest, false);
                }
        }
        tree_recipe_free(recipe);
        ia_sink_free(k);
        staging_free(st);
        return 0;
}
