/* images.c - the loaded_images table: which image references stack loaded into the Engine, and from which
 * archive object. The module's own rows in index.db, with their own migrations.
 */
#include "images.h"

#include "engine.h"
#include "store/imagearchive.h"
#include "store/index.h"

#include <errno.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#define MODULE "images"

static const char *const migrations[] = {
        "CREATE TABLE loaded_images(ref TEXT NOT NULL, archive TEXT NOT NULL, loaded_at INTEGER NOT NULL,"
        "  PRIMARY KEY(ref, archive)) WITHOUT ROWID;",
};

_Static_assert(sizeof migrations / sizeof *migrations == IMAGES_SCHEMA_VERSION, "one migration per schema version");

static int prepare(struct store *s, const char *sql, sqlite3 **ret_db, sqlite3_stmt **ret, struct error *err)
{
        struct index *ix = store_index(s);
        int r = index_migrate_module(ix, MODULE, migrations, IMAGES_SCHEMA_VERSION, err);

        if (r < 0)
                return r;
        *ret_db = index_db(ix);
        if (sqlite3_prepare_v2(*ret_db, sql, -1, ret, NULL) != SQLITE_OK)
                return error_set(err, STACK_ESTORE, "index.db: prepare: %s", sqlite3_errmsg(*ret_db));
        return 0;
}

int images_record(struct store *s, const struct digest *archive, char *const *refs, struct error *err)
{
        char hex[DIGEST_HEX_LEN + 1];
        sqlite3_stmt *st;
        sqlite3 *db;
        int r;

        if (!s || !archive || !refs || !refs[0])
                return 0;
        r = prepare(s,
                    "INSERT INTO loaded_images(ref, archive, loaded_at) VALUES(?1, ?2, ?3)"
                    " ON CONFLICT(ref, archive) DO UPDATE SET loaded_at = ?3",
                    &db, &st, err);
        if (r < 0)
                return r;
        digest_to_hex(archive, hex);
        for (size_t i = 0; r == 0 && refs[i]; i++) {
                sqlite3_bind_text(st, 1, refs[i], -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, hex, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
                if (sqlite3_step(st) != SQLITE_DONE)
                        r = error_set(err, STACK_ESTORE, "index.db: record loaded image: %s", sqlite3_errmsg(db));
                sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        return r;
}

int images_list(struct store *s, struct loaded_image **ret, size_t *ret_n, struct error *err)
{
        struct loaded_image *v = NULL;
        size_t n = 0, cap = 0;
        sqlite3_stmt *st;
        sqlite3 *db;
        int r, rc;

        r = prepare(s, "SELECT ref, archive FROM loaded_images ORDER BY ref, archive", &db, &st, err);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *ref = (const char *)sqlite3_column_text(st, 0);
                const char *hex = (const char *)sqlite3_column_text(st, 1);
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 8;
                        struct loaded_image *nv = realloc(v, ncap * sizeof *nv);
                        if (!nv) {
                                r = error_set(err, STACK_EFAIL, "out of memory");
                                goto fail;
                        }
                        v = nv;
                        cap = ncap;
                }
                if (!ref || !hex || digest_from_hex(hex, &v[n].archive) < 0)
                        continue; /* a row we cannot read names nothing we may remove */
                if (!(v[n].ref = strdup(ref))) {
                        r = error_set(err, STACK_EFAIL, "out of memory");
                        goto fail;
                }
                n++;
        }
        if (rc != SQLITE_DONE) {
                r = error_set(err, STACK_ESTORE, "index.db: read loaded images: %s", sqlite3_errmsg(db));
                goto fail;
        }
        sqlite3_finalize(st);
        *ret = v;
        *ret_n = n;
        return 0;
fail:
        sqlite3_finalize(st);
        loaded_images_free(v, n);
        return r;
}

int images_forget(struct store *s, const char *ref, struct error *err)
{
        sqlite3_stmt *st;
        sqlite3 *db;
        int r = prepare(s, "DELETE FROM loaded_images WHERE ref = ?", &db, &st, err);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
                r = error_set(err, STACK_ESTORE, "index.db: forget loaded image: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return r;
}

void loaded_images_free(struct loaded_image *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i].ref);
        free(v);
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

int images_load_assembled(struct store *s, struct engine *e, const struct tree_entry *te, const char *what,
                          unsigned *ret_loaded, struct error *err)
{
        struct assembled as;
        char **refs = NULL;
        bool all = true;
        int r;

        r = assembled_open(s, te, &as, err);
        if (r < 0)
                return r;
        r = ia_archive_refs_stream(assembled_read, assembled_skip, &as, &refs, &as.err);
        if (r < 0)
                r = error_set(err, as.err.code, "image archive %s: %s", what, as.err.msg);
        ia_close(as.rd);
        for (size_t k = 0; r == 0 && refs && refs[k] && all; k++) {
                bool have = false;
                r = engine_image_exists(e, refs[k], &have, err);
                all = have;
        }
        if (r == 0 && (!all || !refs || !refs[0])) {
                r = assembled_open(s, te, &as, err);
                if (r == 0) {
                        r = engine_image_load_stream(e, assembled_read, &as, ia_size(as.rd), what, err);
                        if (r < 0 && as.err.code) { /* the store's own line says which part failed */
                                error_clear(err);
                                r = error_set(err, as.err.code, "image archive %s: %s", what, as.err.msg);
                        }
                        ia_close(as.rd);
                }
                if (r == 0)
                        (*ret_loaded)++;
                if (r == 0) /* gc --images may remove only what stack loaded; a failed record costs nothing */
                        images_record(s, &te->digest, refs, NULL);
        }
        ia_refs_free(refs);
        return r;
}
