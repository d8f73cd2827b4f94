/* test-imagearchive.c - image archives stored as their parts: split and assembled back byte-identical (ustar
 * with pax headers for long names, GNU long names), each member an object, shared members stored once; a
 * truncated archive, a tar that is not an image and a file that is no tar stored whole; an OCI layout split;
 * a damaged part found while assembling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "store/checkout.h"
#include "store/imagearchive.h"
#include "store/db.h"
#include "store/index.h"
#include "store/verify.h"
#include "store/store.h"
#include "testlib.h"

struct member {
        const char *name;
        size_t size; /* 0 with dir set: a directory */
        bool dir;
        unsigned seed;
};

struct mem {
        unsigned char *p;
        size_t len, cap;
};

static la_ssize_t mem_write(struct archive *a, void *ud, const void *buf, size_t n)
{
        struct mem *m = ud;

        (void)a;
        if (m->len + n > m->cap) {
                m->cap = (m->len + n) * 2;
                m->p = realloc(m->p, m->cap);
                assert_non_null(m->p);
        }
        memcpy(m->p + m->len, buf, n);
        m->len += n;
        return (la_ssize_t)n;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
        for (size_t i = 0; i < n; i++) {
                seed = seed * 1103515245u + 12345u;
                p[i] = (unsigned char)(seed >> 16);
        }
}

static const char MANIFEST[] = "[{\"Config\":\"c.json\",\"RepoTags\":[\"t/x:1\"],\"Layers\":[\"base/layer.tar\"]}]";

/* A tar of the members (format: ARCHIVE_FORMAT_TAR_PAX_RESTRICTED or _GNUTAR); manifest.json added when
 * with_manifest. */
static struct mem make_tar(int format, const struct member *m, size_t n, bool with_manifest)
{
        struct mem out = {0};
        struct archive *a = archive_write_new();
        struct archive_entry *e = archive_entry_new();

        assert_int_equal(archive_write_set_format(a, format), ARCHIVE_OK);
        assert_int_equal(archive_write_open(a, &out, NULL, mem_write, NULL), ARCHIVE_OK);
        for (size_t i = 0; i < n + with_manifest; i++) {
                bool man = i == n;
                size_t size = man ? strlen(MANIFEST) : m[i].size;
                unsigned char *data = malloc(size + 1);

                assert_non_null(data);
                if (man)
                        memcpy(data, MANIFEST, size);
                else
                        fill(data, size, m[i].seed);
                archive_entry_clear(e);
                archive_entry_set_pathname(e, man ? "manifest.json" : m[i].name);
                archive_entry_set_filetype(e, !man && m[i].dir ? AE_IFDIR : AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_size(e, (la_int64_t)size);
                archive_entry_set_mtime(e, 1700000000, 0);
                assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
                if (size)
                        assert_int_equal(archive_write_data(a, data, size), (la_ssize_t)size);
                free(data);
        }
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        archive_entry_free(e);
        return out;
}

struct stored {
        struct digest digest;
        struct tree_recipe *recipe;
};

/* Through a sink in uneven chunks, then committed. */
static struct stored store_file(struct store *s, const unsigned char *p, size_t len)
{
        struct error err = ERROR_INIT;
        struct staging *st;
        struct ia_sink *k;
        struct stored out = {0};
        struct digest want;

        assert_int_equal(staging_new(s, &st, &err), 0);
        assert_int_equal(ia_sink_begin(s, st, &k, &err), 0);
        for (size_t off = 0; off < len;) {
                size_t n = len - off < 70001 ? len - off : 70001;
                assert_int_equal(ia_sink_write(k, p + off, n, &err), 0);
                off += n;
        }
        if (ia_sink_end(k, &out.digest, &out.recipe, &err) < 0)
                fail_msg("ia_sink_end: %s", err.msg);
        ia_sink_free(k);
        digest_buffer(p, len, &want);
        assert_true(digest_equal(&want, &out.digest));
        assert_int_equal(staging_commit(st, &err), 0);
        staging_free(st);
        return out;
}

static void assemble(struct store *s, const struct digest *recipe, struct mem *ret)
{
        struct error err = ERROR_INIT;
        struct ia_reader *rd;
        unsigned char buf[4099];
        ssize_t n;

        memset(ret, 0, sizeof *ret);
        if (ia_open(s, recipe, &rd, &err) < 0)
                fail_msg("ia_open: %s", err.msg);
        while ((n = ia_read(rd, buf, sizeof buf, &err)) > 0)
                mem_write(NULL, ret, buf, (size_t)n);
        if (n < 0)
                fail_msg("ia_read: %s", err.msg);
        assert_int_equal(ret->len, ia_size(rd));
        ia_close(rd);
}

static void object_is(struct store *s, const struct digest *d, const unsigned char *p, size_t len)
{
        struct stat st;
        unsigned char *buf = malloc(len + 1);
        int fd = store_object_open(s, d);

        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal((size_t)st.st_size, len);
        assert_int_equal(pread(fd, buf, len, 0), (ssize_t)len);
        assert_memory_equal(buf, p, len);
        free(buf);
        close(fd);
}

static int object_files(struct store *s)
{
        char top[PATH_MAX], sub[PATH_MAX + 300];
        DIR *d;
        struct dirent *de;
        int n = 0;

        snprintf(top, sizeof top, "%s/objects/sha256", store_home(s));
        d = opendir(top);
        assert_non_null(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.') {
                        snprintf(sub, sizeof sub, "%s/%s", top, de->d_name);
                        n += tl_count_dir(sub);
                }
        closedir(d);
        return n;
}

static char long_name[300];

static const struct member *members(size_t *n)
{
        static struct member m[4];

        memset(long_name, 'x', 200);
        memcpy(long_name + 200, "/layer.tar", 11); /* longer than ustar's 100 + 155: a pax or GNU header */
        m[0] = (struct member){"base/", 0, true, 0};
        m[1] = (struct member){"base/layer.tar", 1536 * 1024 + 7, false, 1};
        m[2] = (struct member){long_name, 3000, false, 2};
        m[3] = (struct member){"c.json", 300, false, 3};
        *n = 4;
        return m;
}

static void split_and_reassemble(int format)
{
        struct store *s = tl_store_new();
        size_t n;
        const struct member *m = members(&n);
        struct mem tar = make_tar(format, m, n, true), back;
        struct stored got = store_file(s, tar.p, tar.len);
        unsigned char *data;

        assert_non_null(got.recipe);
        assert_int_equal(got.recipe->n_parts, 4);       /* three members with content and manifest.json */
        assert_false(store_has_object(s, &got.digest)); /* the archive itself is not an object */
        assemble(s, &got.recipe->digest, &back);
        assert_int_equal(back.len, tar.len);
        assert_memory_equal(back.p, tar.p, tar.len);
        /* skipping lands where reading would have */
        {
                struct error err = ERROR_INIT;
                struct ia_reader *rd;
                unsigned char buf[1000];
                assert_int_equal(ia_open(s, &got.recipe->digest, &rd, &err), 0);
                assert_int_equal(ia_read(rd, buf, 700, &err), 700);
                assert_int_equal(ia_skip(rd, 1 << 20), 1 << 20);
                assert_int_equal(ia_read(rd, buf, 1000, &err) > 0, 1);
                assert_memory_equal(buf, tar.p + 700 + (1 << 20), 10);
                assert_int_equal(ia_skip(rd, (int64_t)tar.len), (int64_t)tar.len - 700 - (1 << 20) - 1000);
                ia_close(rd);
        }
        /* each member's content is an object of its own */
        data = malloc(m[1].size);
        fill(data, m[1].size, m[1].seed);
        object_is(s, &got.recipe->parts[0].digest, data, m[1].size);
        fill(data, m[2].size, m[2].seed);
        object_is(s, &got.recipe->parts[1].digest, data, m[2].size);
        free(data);
        tree_recipe_free(got.recipe);
        free(tar.p);
        free(back.p);
        store_free(s);
}

static void ustar_with_pax_headers_splits_and_reassembles_byte_identical(void **state)
{
        (void)state;
        split_and_reassemble(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
}

static void gnu_long_names_split_and_reassemble_byte_identical(void **state)
{
        (void)state;
        split_and_reassemble(ARCHIVE_FORMAT_TAR_GNUTAR);
}

static void a_layer_shared_by_two_archives_is_stored_once(void **state)
{
        struct store *s = tl_store_new();
        size_t n;
        struct member m2[4];
        const struct member *m = members(&n);
        struct mem t1, t2;
        struct stored a, b;
        int before;

        (void)state;
        memcpy(m2, m, sizeof m2);
        m2[2].seed = 99; /* the small layer differs, the 1.5 MiB base is the same */
        t1 = make_tar(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, m, n, true);
        t2 = make_tar(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, m2, n, true);
        a = store_file(s, t1.p, t1.len);
        before = object_files(s);
        b = store_file(s, t2.p, t2.len);
        assert_non_null(a.recipe);
        assert_non_null(b.recipe);
        assert_true(digest_equal(&a.recipe->parts[0].digest, &b.recipe->parts[0].digest));
        assert_false(digest_equal(&a.recipe->parts[1].digest, &b.recipe->parts[1].digest));
        /* the second archive added its own small layer and its recipe, nothing else */
        assert_int_equal(object_files(s), before + 2);
        tree_recipe_free(a.recipe);
        tree_recipe_free(b.recipe);
        free(t1.p);
        free(t2.p);
        store_free(s);
}

static void a_truncated_archive_is_stored_whole(void **state)
{
        struct store *s = tl_store_new();
        size_t n;
        const struct member *m = members(&n);
        struct mem tar = make_tar(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, m, n, true);
        size_t cut = 900 * 1024; /* inside base/layer.tar's content */
        struct stored got;

        (void)state;
        got = store_file(s, tar.p, cut);
        assert_null(got.recipe);
        object_is(s, &got.digest, tar.p, cut);
        free(tar.p);
        store_free(s);
}

static void a_tar_that_is_not_an_image_and_a_plain_file_are_stored_whole(void **state)
{
        struct store *s = tl_store_new();
        size_t n;
        const struct member *m = members(&n);
        struct mem tar = make_tar(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, m, n, false); /* no manifest.json */
        unsigned char *plain = malloc(2 << 20);
        struct stored got;

        (void)state;
        got = store_file(s, tar.p, tar.len);
        assert_null(got.recipe);
        object_is(s, &got.digest, tar.p, tar.len);
        fill(plain, 2 << 20, 7);
        got = store_file(s, plain, 2 << 20);
        assert_null(got.recipe);
        object_is(s, &got.digest, plain, 2 << 20);
        free(plain);
        free(tar.p);
        store_free(s);
}

static void an_oci_layout_is_split_too(void **state)
{
        struct store *s = tl_store_new();
        const struct member m[] = {
                {"oci-layout", 30, false, 4},         {"index.json", 400, false, 5},
                {"blobs/sha256/", 0, true, 0},        {"blobs/sha256/aaaa", 1200 * 1024, false, 6},
                {"blobs/sha256/bbbb", 700, false, 7},
        };
        struct mem tar = make_tar(ARCHIVE_FORMAT_TAR_USTAR, m, 5, false), back;
        struct stored got;

        (void)state;
        got = store_file(s, tar.p, tar.len);
        assert_non_null(got.recipe);
        assert_int_equal(got.recipe->n_parts, 4);
        assemble(s, &got.recipe->digest, &back);
        assert_int_equal(back.len, tar.len);
        assert_memory_equal(back.p, tar.p, tar.len);
        tree_recipe_free(got.recipe);
        free(tar.p);
        free(back.p);
        store_free(s);
}

static void a_damaged_part_stops_the_assembly_with_a_store_error(void **state)
{
        struct store *s = tl_store_new();
        struct error err = ERROR_INIT;
        size_t n;
        const struct member *m = members(&n);
        struct mem tar = make_tar(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, m, n, true);
        struct stored got = store_file(s, tar.p, tar.len);
        char path[PATH_MAX];
        struct ia_reader *rd;
        unsigned char buf[65536];
        ssize_t k;

        (void)state;
        assert_non_null(got.recipe);
        assert_int_equal(store_object_path(s, &got.recipe->parts[0].digest, path, sizeof path), 0);
        assert_int_equal(truncate(path, 1000), 0);
        assert_int_equal(ia_open(s, &got.recipe->digest, &rd, &err), 0);
        while ((k = ia_read(rd, buf, sizeof buf, &err)) > 0)
                ;
        assert_true(k < 0);
        assert_int_equal(err.code, STACK_ESTORE);
        assert_non_null(strstr(err.msg, "base/layer.tar"));
        ia_close(rd);
        tree_recipe_free(got.recipe);
        free(tar.p);
        store_free(s);
}

static bool has_object_row(struct store *s, const struct digest *d)
{
        char hex[DIGEST_HEX_LEN + 1];

        digest_to_hex(d, hex);
        return db_query_int64(index_db(store_index(s)), "SELECT 1 FROM objects WHERE digest = ?", hex, 0) == 1;
}

/* The whole store path: ingest, publish, load, checkout, verify, the index sweep, verify after damage. */
static void two_versions_through_the_store_share_a_layer_until_one_is_collected(void **state)
{
        struct store *s = tl_store_new();
        struct error err = ERROR_INIT;
        size_t n;
        struct member m2[4];
        const struct member *m = members(&n);
        struct mem t[2];
        struct tl_imported v[2];
        struct tree tr[2];
        const struct tree_entry *te[2];
        struct verify_report rep = {0};
        struct index_sweep sw;
        char dir[PATH_MAX], file[PATH_MAX + 32], path[PATH_MAX];
        struct stat st;

        (void)state;
        memcpy(m2, m, sizeof m2);
        m2[2].seed = 77;
        t[0] = make_tar(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, m, n, true);
        t[1] = make_tar(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, m2, n, true);
        for (int i = 0; i < 2; i++) {
                struct tl_entry e[3];
                tl_valid_entries(e, "lyunit", i ? "2.0" : "1.0");
                e[2] = (struct tl_entry){.path = "images/app.tar", .type = 'f', .data = t[i].p, .len = t[i].len};
                if (tl_import(s, TL_ZSTD, e, 3, NULL, &v[i], &err) < 0)
                        fail_msg("import: %s", err.msg);
                assert_int_equal(index_load_tree(store_index(s), &v[i].tree, &tr[i], &err), 0);
                te[i] = tree_find(&tr[i], "images/app.tar");
                assert_non_null(te[i]);
                assert_non_null(te[i]->recipe);
                assert_false(store_has_object(s, &te[i]->digest));
        }
        assert_int_equal(verify_store(s, &rep, &err), 0);
        assert_int_equal(rep.corrupt + rep.missing + rep.dangling + rep.extra, 0);

        snprintf(dir, sizeof dir, "%s/co", tl_tmpdir());
        assert_int_equal(checkout_tree(s, &tr[1], dir, &err), 0);
        snprintf(file, sizeof file, "%s/images/app.tar", dir);
        {
                int fd = open(file, O_RDONLY);
                unsigned char *buf = malloc(t[1].len);
                assert_true(fd >= 0);
                assert_int_equal(fstat(fd, &st), 0);
                assert_int_equal((size_t)st.st_size, t[1].len);
                assert_int_equal(read(fd, buf, t[1].len), (ssize_t)t[1].len);
                assert_memory_equal(buf, t[1].p, t[1].len);
                free(buf);
                close(fd);
        }

        /* keep version 2 only: the shared layer and v2's own stay, v1's own layer and recipe go */
        {
                struct tree_part *p1, *p2;
                size_t n1, n2;
                assert_int_equal(ia_recipe_parts(s, &te[0]->recipe->digest, &p1, &n1, &err), 0);
                assert_int_equal(ia_recipe_parts(s, &te[1]->recipe->digest, &p2, &n2, &err), 0);
                assert_int_equal(index_sweep_begin(store_index(s), &err), 0);
                assert_int_equal(index_sweep_keep_version(store_index(s), v[1].id, &err), 0);
                assert_int_equal(index_sweep_run(store_index(s), &sw, &err), 0);
                assert_int_equal(index_sweep_end(store_index(s), true, &err), 0);
                assert_true(has_object_row(s, &p2[0].digest)); /* shared base layer */
                assert_true(digest_equal(&p1[0].digest, &p2[0].digest));
                assert_true(has_object_row(s, &p2[1].digest));
                assert_false(has_object_row(s, &p1[1].digest)); /* only v1 had it */
                assert_false(has_object_row(s, &te[0]->recipe->digest));
                assert_true(has_object_row(s, &te[1]->recipe->digest));
                assert_true(has_object_row(s, &te[1]->digest)); /* the archive itself: a row, no file */

                /* damage the shared layer: verify finds the part and the archive that needs it */
                assert_int_equal(store_object_path(s, &p2[0].digest, path, sizeof path), 0);
                free(p1);
                free(p2);
        }
        assert_int_equal(chmod(path, 0644), 0);
        {
                int fd = open(path, O_WRONLY);
                assert_true(fd >= 0);
                assert_int_equal(pwrite(fd, "X", 1, 100), 1);
                close(fd);
        }
        memset(&rep, 0, sizeof rep);
        assert_int_equal(verify_store(s, &rep, &err), -STACK_ESTORE);
        assert_int_equal(rep.corrupt, 2);
        tree_release(&tr[0]);
        tree_release(&tr[1]);
        free(t[0].p);
        free(t[1].p);
        store_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(ustar_with_pax_headers_splits_and_reassembles_byte_identical),
                cmocka_unit_test(gnu_long_names_split_and_reassemble_byte_identical),
                cmocka_unit_test(a_layer_shared_by_two_archives_is_stored_once),
                cmocka_unit_test(a_truncated_archive_is_stored_whole),
                cmocka_unit_test(a_tar_that_is_not_an_image_and_a_plain_file_are_stored_whole),
                cmocka_unit_test(an_oci_layout_is_split_too),
                cmocka_unit_test(a_damaged_part_stops_the_assembly_with_a_store_error),
                cmocka_unit_test(two_versions_through_the_store_share_a_layer_until_one_is_collected),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
