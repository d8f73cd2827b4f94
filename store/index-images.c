/* index-images.c - registry images pinned to a version (index.h, spec/store.md "Registry images"): the
 * version_images rows, read and replaced. */
#include "index-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

static const struct db_column image_cols[] = {
        DB_TEXT_REQ_COL(struct version_image, ref),      DB_TEXT_COL(struct version_image, repo_digest),
        DB_TEXT_REQ_COL(struct version_image, image_id), DB_DIGEST_COL(struct version_image, tree),
        DB_INT64_COL(struct version_image, size),        DB_INT_COL(struct version_image, layers),
        DB_INT64_COL(struct version_image, pinned_at),
};

static int read_image(void *ctx, sqlite3_stmt *st, void *ret, struct error *err)
{
        struct version_image *vi = ret;
        int r = db_read_columns(st, image_cols, sizeof image_cols / sizeof *image_cols, vi);

        (void)ctx;
        (void)err;
        vi->stored = sqlite3_column_type(st, 3) != SQLITE_NULL;
        return r;
}

static void release_image(void *elem)
{
        db_release_columns(image_cols, sizeof image_cols / sizeof *image_cols, elem, sizeof(struct version_image));
}

static const struct db_rows image_rows = {.size = sizeof(struct version_image),
                                          .read = read_image,
                                          .release = release_image,
                                          .job = "read version_images"};

int index_version_images(struct index *ix, int64_t version_id, struct version_image **ret, size_t *ret_n,
                         struct error *err)
{
        sqlite3_stmt *st;
        int r = db_prepare(ix->db,
                           "SELECT ref, repo_digest, image_id, tree, size, layers, pinned_at FROM version_images"
                           " WHERE version_id = ? ORDER BY ref",
                           &st, image_rows.job, err);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, version_id);
        return db_read_rows(ix->db, st, &image_rows, ret, ret_n, err);
}

int index_set_version_images(struct index *ix, int64_t version_id, const struct version_image *v, size_t n,
                             struct error *err)
{
        int r = db_begin(ix->db, err);

        if (r < 0)
                return r;
        r = db_write(ix->db, "DELETE FROM version_images WHERE version_id = ?", "write version_images", NULL, err, "i",
                     version_id);
        for (size_t i = 0; r == 0 && i < n; i++)
                r = db_write(ix->db,
                             "INSERT OR REPLACE INTO version_images(version_id, ref, repo_digest, image_id, tree, size,"
                             " layers, pinned_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                             "write version_images", NULL, err, "itttdiii", version_id, v[i].ref, v[i].repo_digest,
                             v[i].image_id, v[i].stored ? &v[i].tree : NULL, (int64_t)v[i].size, (int64_t)v[i].layers,
                             v[i].pinned_at);
        return db_end(ix->db, r, err);
}

int index_image_shared_bytes(struct index *ix, int64_t version_id, uint64_t *ret, struct error *err)
{
        int64_t bytes = 0;
        char id[32];
        int r;

        snprintf(id, sizeof id, "%lld", (long long)version_id);
        /* the parts of this version's image archives that another version's image archives name too */
        r = db_read_int64(ix->db,
                          "WITH mine(part) AS (SELECT DISTINCT p.part FROM version_images vi"
                          "  JOIN entries e ON e.tree = vi.tree JOIN recipes rc ON rc.object = e.object"
                          "  JOIN recipe_parts p ON p.recipe = rc.recipe WHERE vi.version_id = CAST(?1 AS INTEGER)),"
                          " other(part) AS (SELECT DISTINCT p.part FROM version_images vi"
                          "  JOIN entries e ON e.tree = vi.tree JOIN recipes rc ON rc.object = e.object"
                          "  JOIN recipe_parts p ON p.recipe = rc.recipe WHERE vi.version_id <> CAST(?1 AS INTEGER))"
                          " SELECT COALESCE(SUM(o.size), 0) FROM objects o WHERE o.digest IN (SELECT part FROM mine)"
                          "  AND o.digest IN (SELECT part FROM other)",
                          id, 0, &bytes, "read version_images", err);
        if (r == 0)
                *ret = (uint64_t)bytes;
        return r;
}

void version_images_free(struct version_image *v, size_t n)
{
        db_free_rows(&image_rows, v, n);
}
