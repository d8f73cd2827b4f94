/* images.c - the loaded_images table: which image references stack loaded into the Engine, and from which
 * archive object. The module's own rows in index.db, with their own migrations.
 */
#include "images.h"

#include "engine.h"
#include "base/mem.h"
#include "store/imagearchive.h"
#include "store/db.h"
#include "store/index.h"

#include <errno.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

DB_SCHEMA(images_schema, "images", IMAGES_SCHEMA_VERSION,
          "CREATE TABLE loaded_images(ref TEXT NOT NULL, archive TEXT NOT NULL, loaded_at INTEGER NOT NULL,"
          "  PRIMARY KEY(ref, archive)) WITHOUT ROWID;");

/* A statement on the module's table (migrated first). */
static int prepare(struct store *s, const char *sql, struct db **ret_db, sqlite3_stmt **ret, const char *job,
                   struct error *err)
{
        return index_module_prepare(store_index(s), &images_schema, sql, ret_db, ret, job, err);
}

int images_record(struct store *s, const struct digest *archive, char *const *refs, struct error *err)
{
        char hex[DIGEST_HEX_LEN + 1];
        sqlite3_stmt *st;
        struct db *db;
        int r;

        if (!s || !archive || !refs || !refs[0])
                return 0;
        r = prepare(s,
                    "INSERT INTO loaded_images(ref, archive, loaded_at) VALUES(?1, ?2, ?3)"
                    " ON CONFLICT(ref, archive) DO UPDATE SET loaded_at = ?3",
                    &db, &st, "record loaded image", err);
        if (r < 0)
                return r;
        digest_to_hex(archive, hex);
        for (size_t i = 0; r == 0 && refs[i]; i++) {
                sqlite3_bind_text(st, 1, refs[i], -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, hex, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
                r = db_step_done(db, st, "record loaded image", err);
        }
        sqlite3_finalize(st);
        return r;
}

static const struct db_column image_cols[] = {DB_TEXT_REQ_COL(struct loaded_image, ref)};

static int image_from_row(void *ctx, sqlite3_stmt *st, void *ret, struct error *err)
{
        struct loaded_image *v = ret;

        if (!sqlite3_column_text(st, 0) || db_column_digest(st, 1, &v->archive) < 0)
                return 1; /* a row we cannot read names nothing we may remove */
        return db_read_columns(st, image_cols, 1, v);
}

static const struct db_rows image_rows = {.size = sizeof(struct loaded_image),
                                          .read = image_from_row,
                                          .cols = image_cols,
                                          .n_cols = 1,
                                          .job = "read loaded images"};

int images_list(struct store *s, struct loaded_image **ret, size_t *ret_n, struct error *err)
{
        return index_module_rows(store_index(s), &images_schema,
                                 "SELECT ref, archive FROM loaded_images ORDER BY ref, archive", NULL, &image_rows, ret,
                                 ret_n, err);
}

int images_forget(struct store *s, const char *ref, struct error *err)
{
        return index_module_exec(store_index(s), &images_schema, "DELETE FROM loaded_images WHERE ref = ?", ref, NULL,
                                 "forget loaded image", NULL, err);
}

void loaded_images_free(struct loaded_image *v, size_t n)
{
        db_free_rows(&image_rows, v, n);
}

/* ---- image archives stored as their parts ---- */

struct assembled {
        struct ia_reader *rd;
        struct error err; /* what the store said when a read failed */
};

static ssize_t assembled_read(void *ctx, void *buf, size_t n)
{
        struct assembled *as = ctx;
        ssize_t k = ia_read(as->rd, buf, n, &as->err);

        return k < 0 ? -EIO : k;
}

static int64_t assembled_skip(void *ctx, int64_t n)
{
        struct assembled *as = ctx;

        return ia_skip(as->rd, n);
}

static int assembled_open(struct store *s, const struct tree_entry *te, struct assembled *as, struct error *err)
{
        as->err = (struct error)ERROR_INIT;
        as->rd = NULL;
        return ia_open(s, &te->recipe->digest, &as->rd, err);
}

/* The references of an archive stored as its parts, read from the assembled stream. */
static int assembled_refs(struct store *s, const struct tree_entry *te, const char *what, char ***ret,
                          struct error *err)
{
        struct assembled as;
        int r = assembled_open(s, te, &as, err);

        if (r < 0)
                return r;
        r = ia_archive_refs_stream(assembled_read, assembled_skip, &as, ret, &as.err);
        if (r < 0)
                r = error_set(err, as.err.code, "image archive %s: %s", what, as.err.msg);
        ia_close(as.rd);
        return r;
}

static int assembled_load(struct store *s, struct engine *e, const struct tree_entry *te, const char *what,
                          struct error *err)
{
        struct assembled as;
        int r = assembled_open(s, te, &as, err);

        if (r < 0)
                return r;
        r = engine_image_load_stream(e, assembled_read, &as, ia_size(as.rd), what, err);
        if (r < 0 && as.err.code) { /* the store's own line says which part failed */
                error_clear(err);
                r = error_set(err, as.err.code, "image archive %s: %s", what, as.err.msg);
        }
        ia_close(as.rd);
        return r;
}

/* The references of an archive stored whole, read from its object (fd is left at an unspecified offset). */
static int whole_refs(int fd, const char *what, char ***ret, struct error *err)
{
        struct error aerr = ERROR_INIT;
        int r = ia_archive_refs(fd, ret, &aerr);

        return r < 0 ? error_set(err, aerr.code, "image archive %s: %s", what, aerr.msg) : r;
}

int images_load_entry(struct store *s, struct engine *e, const struct tree_entry *te, const char *what, bool force,
                      unsigned *ret_loaded, char ***ret_refs, struct error *err)
{
        int fd = store_object_open(s, &te->digest), r;
        bool parts = fd == -ENOENT && te->recipe, all = true;
        char **refs = NULL;

        if (fd < 0 && !parts)
                return error_errno(err, STACK_ESTORE, fd,
                                   "image archive %s is missing from the store (run stack verify)", what);
        r = parts ? assembled_refs(s, te, what, &refs, err) : whole_refs(fd, what, &refs, err);
        for (size_t k = 0; r == 0 && refs && refs[k] && all && !force; k++) {
                bool have = false;
                r = engine_image_exists(e, refs[k], &have, err);
                all = have;
        }
        if (r == 0 && (force || !all || !refs || !refs[0])) {
                if (parts)
                        r = assembled_load(s, e, te, what, err);
                else if (lseek(fd, 0, SEEK_SET) < 0)
                        r = error_errno(err, STACK_ESTORE, errno, "cannot read %s", what);
                else
                        r = engine_image_load(e, fd, te->size, what, err);
                if (r == 0)
                        (*ret_loaded)++;
                if (r == 0) /* gc --images may remove only what stack loaded; a failed record costs nothing */
                        images_record(s, &te->digest, refs, NULL);
        }
        if (r == 0 && ret_refs && strv_extend(ret_refs, refs) < 0)
                r = error_set(err, STACK_EFAIL, "out of memory");
        strv_free(refs);
        if (fd >= 0)
                close(fd);
        return r;
}
