/* index.c - index.db: the index's schema and migrations, opening it, and the tables other modules keep in it
 * (module_schemas). Publishing is index-publish.c, reading index-query.c, gc's sweep index-sweep.c, verify's
 * repair index-repair.c; every file speaks SQL through store/db.h.
 */
#include "index-int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

/* Migration i takes the schema from user_version i to i + 1. Never edit one that has shipped: add another. */
DB_SCHEMA(index_schema, NULL, INDEX_SCHEMA_VERSION,
          "CREATE TABLE stacks(slug TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);"
          "CREATE TABLE objects(digest TEXT PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;"
          "CREATE TABLE trees(digest TEXT PRIMARY KEY, n_entries INTEGER NOT NULL, n_files INTEGER NOT NULL,"
          "  size INTEGER NOT NULL) WITHOUT ROWID;"
          "CREATE TABLE entries(tree TEXT NOT NULL, path TEXT NOT NULL,"
          "  type TEXT NOT NULL CHECK(type IN ('f','d','l')), mode INTEGER NOT NULL, size INTEGER NOT NULL,"
          "  object TEXT, target TEXT, PRIMARY KEY(tree, path)) WITHOUT ROWID;"
          "CREATE INDEX entries_by_object ON entries(object) WHERE object IS NOT NULL;"
          "CREATE TABLE versions(id INTEGER PRIMARY KEY, slug TEXT NOT NULL, version TEXT NOT NULL,"
          "  tree TEXT NOT NULL UNIQUE, bundle TEXT, bundle_size INTEGER, signer TEXT,"
          "  insecure INTEGER NOT NULL DEFAULT 0, source TEXT, name TEXT, description TEXT, flavor TEXT,"
          "  compose TEXT, fetched_at INTEGER NOT NULL, fetch_seq INTEGER NOT NULL);"
          "CREATE INDEX versions_by_slug ON versions(slug, fetch_seq);"
          "CREATE TABLE bundles(digest TEXT PRIMARY KEY, size INTEGER NOT NULL, version_id INTEGER NOT NULL,"
          "  fetched_at INTEGER NOT NULL) WITHOUT ROWID;"
          "CREATE TABLE pins(version_id INTEGER PRIMARY KEY);",
          /* 2: was the run module's runs and allows tables, created here before each module kept its own schema
         * (run/runs.c now creates them). Stores that ran it keep those tables; 3 records them as the run
         * module's version 1. */
          "",
          /* 3: each module that keeps tables in index.db records its own schema version here */
          "CREATE TABLE module_schemas(module TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;"
          "INSERT INTO module_schemas(module, version)"
          "  SELECT 'run', 1 WHERE EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs');",
          /* 4: versions `verify --repair` dropped because their content was damaged: refetchable, listed by ls */
          ("CREATE TABLE lost(slug TEXT NOT NULL, version TEXT NOT NULL, tree TEXT NOT NULL, source TEXT,"
           "  lost_at INTEGER NOT NULL, PRIMARY KEY(slug, version)) WITHOUT ROWID;"),
          /* 5: files stored as their parts (image archives): the entry's object is assembled from a recipe object,
         * which names its parts; both are objects rows too, kept while an entry needs the assembled object */
          ("CREATE TABLE recipes(object TEXT PRIMARY KEY, recipe TEXT NOT NULL) WITHOUT ROWID;"
           "CREATE TABLE recipe_parts(recipe TEXT NOT NULL, part TEXT NOT NULL, PRIMARY KEY(recipe, part))"
           "  WITHOUT ROWID;"
           "CREATE INDEX recipe_parts_by_part ON recipe_parts(part);"),
          /* 6: registry images pinned to a version (index-images.c): the image each reference ran as, and the
           * store tree holding it (a docker save archive stored as its parts), NULL when it was not kept */
          ("CREATE TABLE version_images(version_id INTEGER NOT NULL, ref TEXT NOT NULL, repo_digest TEXT,"
           "  image_id TEXT NOT NULL, tree TEXT, size INTEGER NOT NULL DEFAULT 0, layers INTEGER NOT NULL DEFAULT 0,"
           "  pinned_at INTEGER NOT NULL, PRIMARY KEY(version_id, ref)) WITHOUT ROWID;"
           "CREATE INDEX version_images_by_tree ON version_images(tree) WHERE tree IS NOT NULL;"));

static int migrate(struct index *ix, struct error *err)
{
        int have, r;

        r = db_begin(ix->db, err);
        if (r < 0)
                return r;
        have = (int)db_query_int64(ix->db, "PRAGMA user_version", NULL, 0);
        if (have > index_schema.version) {
                r = error_set(err, STACK_ESTORE,
                              "index.db has schema version %d, newer than this stack (%d): upgrade stack", have,
                              index_schema.version);
                goto fail;
        }
        for (int i = have; i < index_schema.version; i++) {
                char sql[64];
                r = db_exec(ix->db, index_schema.steps[i], err);
                if (r < 0)
                        goto fail;
                snprintf(sql, sizeof sql, "PRAGMA user_version = %d", i + 1);
                r = db_exec(ix->db, sql, err);
                if (r < 0)
                        goto fail;
        }
fail:
        return db_end(ix->db, r, err);
}

int index_open(const char *path, struct index **ret, struct error *err)
{
        struct index *ix = calloc(1, sizeof *ix);
        int r;

        if (!ix)
                return error_set(err, STACK_EFAIL, "out of memory");
        r = db_open(path, "index.db", &ix->db, err);
        if (r == 0)
                r = migrate(ix, err);
        if (r < 0) {
                index_free(ix);
                return r;
        }
        *ret = ix;
        return 0;
}

void index_free(struct index *ix)
{
        if (!ix)
                return;
        db_close(ix->db);
        free(ix);
}

struct db *index_db(struct index *ix)
{
        return ix ? ix->db : NULL;
}

static int module_version(struct index *ix, const char *module, int *ret, struct error *err)
{
        sqlite3_stmt *st;
        int r = db_prepare(ix->db, "SELECT version FROM module_schemas WHERE module = ?", &st, "read module_schemas",
                           err);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
        r = db_step_row(ix->db, st, "read module_schemas", err);
        if (r >= 0) {
                *ret = r ? sqlite3_column_int(st, 0) : 0;
                r = 0;
        }
        sqlite3_finalize(st);
        return r;
}

static int migrate_module(struct index *ix, const struct db_schema *sc, struct error *err)
{
        int have, r;

        if (!ix || !sc || !sc->module || (sc->version > 0 && !sc->steps) || sc->version < 0)
                return error_set(err, STACK_EFAIL, "index_module_db: invalid arguments");
        r = module_version(ix, sc->module, &have, err); /* the common case: current, and no write lock taken */
        if (r < 0 || have == sc->version)
                return r;
        r = db_begin(ix->db, err);
        if (r < 0)
                return r;
        r = module_version(ix, sc->module, &have, err); /* another process may have migrated meanwhile */
        if (r < 0)
                goto fail;
        if (have > sc->version) {
                r = error_set(err, STACK_ESTORE,
                              "index.db: the %s tables have schema version %d, newer than this stack (%d):"
                              " upgrade stack",
                              sc->module, have, sc->version);
                goto fail;
        }
        for (int i = have; i < sc->version; i++) {
                r = db_exec(ix->db, sc->steps[i], err);
                if (r < 0)
                        goto fail;
        }
        r = db_write(ix->db,
                     "INSERT INTO module_schemas(module, version) VALUES(?1, ?2)"
                     " ON CONFLICT(module) DO UPDATE SET version = ?2",
                     "write module_schemas", NULL, err, "tn", sc->module, sc->version);
fail:
        return db_end(ix->db, r, err);
}

int index_module_db(struct index *ix, const struct db_schema *schema, struct db **ret, struct error *err)
{
        int r = migrate_module(ix, schema, err);

        if (r == 0)
                *ret = ix->db;
        return r;
}

int index_module_prepare(struct index *ix, const struct db_schema *schema, const char *sql, struct db **ret_db,
                         sqlite3_stmt **ret, const char *job, struct error *err)
{
        int r = index_module_db(ix, schema, ret_db, err);

        return r < 0 ? r : db_prepare(*ret_db, sql, ret, job, err);
}

int index_module_begin(struct index *ix, const struct db_schema *schema, struct db **ret_db, struct error *err)
{
        int r = index_module_db(ix, schema, ret_db, err);

        return r < 0 ? r : db_begin(*ret_db, err);
}

int index_module_rows(struct index *ix, const struct db_schema *schema, const char *sql, const char *param,
                      const struct db_rows *how, void *ret_array, size_t *ret_n, struct error *err)
{
        struct db *db = NULL;
        int r = index_module_db(ix, schema, &db, err);

        return r < 0 ? r : db_query_rows(db, sql, param, how, ret_array, ret_n, err);
}

int index_module_exec(struct index *ix, const struct db_schema *schema, const char *sql, const char *text1,
                      const char *text2, const char *job, unsigned *ret_changes, struct error *err)
{
        struct db *db = NULL;
        int r = index_module_db(ix, schema, &db, err);

        return r < 0 ? r : db_exec_texts(db, sql, text1, text2, job, ret_changes, err);
}

int index_module_write(struct index *ix, const struct db_schema *schema, const char *sql, const char *job,
                       unsigned *ret_changes, struct error *err, const char *types, ...)
{
        struct db *db = NULL;
        va_list ap;
        int r = index_module_db(ix, schema, &db, err);

        if (r < 0)
                return r;
        va_start(ap, types);
        r = db_vwrite(db, sql, job, ret_changes, err, types, ap);
        va_end(ap);
        return r;
}

int index_module_int64(struct index *ix, const struct db_schema *schema, const char *sql, const char *text,
                       int64_t dflt, int64_t *ret, const char *job, struct error *err)
{
        struct db *db = NULL;
        int r = index_module_db(ix, schema, &db, err);

        return r < 0 ? r : db_read_int64(db, sql, text, dflt, ret, job, err);
}

bool index_has_table(struct index *ix, const char *table)
{
        return db_has_table(ix->db, table);
}
