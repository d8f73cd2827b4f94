/* db.c - the SQLite layer under index.db's tables: one error line per failing statement, naming its job, and the
 * prepare -> bind -> step -> grow -> read row -> finalize loop written once (db_read_rows()).
 */
#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

struct db {
        sqlite3 *conn;
        char *name;
};

int db_open(const char *path, const char *name, struct db **ret, struct error *err)
{
        struct db *db = calloc(1, sizeof *db);
        int r;

        if (!db || !(db->name = strdup(name))) {
                free(db);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        if (sqlite3_open_v2(path, &db->conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK) {
                r = error_set(err, STACK_ESTORE, "cannot open %s: %s", path,
                              db->conn ? sqlite3_errmsg(db->conn) : "out of memory");
                goto fail;
        }
        /* Writers wait for each other (two imports at once both succeed); WAL keeps readers from blocking. */
        sqlite3_busy_timeout(db->conn, 60000);
        r = db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF", err);
        if (r < 0)
                goto fail;
        *ret = db;
        return 0;
fail:
        db_close(db);
        return r;
}

void db_close(struct db *db)
{
        if (!db)
                return;
        sqlite3_close(db->conn);
        free(db->name);
        free(db);
}

int db_error(struct db *db, struct error *err, const char *job)
{
        return error_set(err, STACK_ESTORE, "%s: %s: %s", db->name, job, sqlite3_errmsg(db->conn));
}

int db_exec(struct db *db, const char *sql, struct error *err)
{
        char *msg = NULL;

        if (sqlite3_exec(db->conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
                error_set(err, STACK_ESTORE, "%s: %s", db->name, msg ? msg : "error");
                sqlite3_free(msg);
                return -STACK_ESTORE;
        }
        return 0;
}

int db_prepare(struct db *db, const char *sql, sqlite3_stmt **ret, const char *job, struct error *err)
{
        if (sqlite3_prepare_v2(db->conn, sql, -1, ret, NULL) != SQLITE_OK) {
                *ret = NULL;
                return db_error(db, err, job);
        }
        return 0;
}

int db_step_done(struct db *db, sqlite3_stmt *st, const char *job, struct error *err)
{
        int rc = sqlite3_step(st), r = 0;

        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                r = db_error(db, err, job); /* before the reset, which would take the message */
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return r;
}

int db_step_row(struct db *db, sqlite3_stmt *st, const char *job, struct error *err)
{
        int rc = sqlite3_step(st);

        if (rc == SQLITE_ROW)
                return 1;
        if (rc == SQLITE_DONE)
                return 0;
        return db_error(db, err, job);
}

int db_finish(struct db *db, sqlite3_stmt *st, const char *job, unsigned *ret_changes, struct error *err)
{
        int r = db_step_done(db, st, job, err);

        sqlite3_finalize(st);
        if (r == 0 && ret_changes)
                *ret_changes = db_changes(db);
        return r;
}

int db_read_columns(sqlite3_stmt *st, const struct db_column *cols, size_t n, void *ret)
{
        char *base = ret;
        int r = 0;

        for (size_t i = 0; i < n; i++) {
                void *field = base + cols[i].offset;
                const char *text = (const char *)sqlite3_column_text(st, (int)i);
                int k;
                switch (cols[i].kind) {
                case DB_SKIP: break;
                case DB_TEXT:
                case DB_TEXT_REQ:
                        *(char **)field = text ? strdup(text) : NULL;
                        if (!*(char **)field && (text || cols[i].kind == DB_TEXT_REQ))
                                r = -ENOMEM;
                        break;
                case DB_CHARS: snprintf(field, cols[i].size, "%s", text ? text : ""); break;
                case DB_INT64: *(int64_t *)field = sqlite3_column_int64(st, (int)i); break;
                case DB_INT: *(int *)field = sqlite3_column_int(st, (int)i); break;
                case DB_DIGEST:
                        if (!text || digest_from_hex(text, field) < 0)
                                memset(field, 0, sizeof(struct digest));
                        break;
                case DB_ENUM:
                        k = db_enum_parse(cols[i].names, cols[i].size, text);
                        if (k < 0 && r == 0)
                                r = k;
                        *(int *)field = k < 0 ? 0 : k;
                        break;
                }
        }
        return r;
}

void db_release_columns(const struct db_column *cols, size_t n, void *row, size_t size)
{
        if (!row)
                return;
        for (size_t i = 0; i < n; i++)
                if (cols[i].kind == DB_TEXT || cols[i].kind == DB_TEXT_REQ)
                        free(*(char **)((char *)row + cols[i].offset));
        memset(row, 0, size);
}

const char *db_enum_name(const char *const *names, size_t n, int value)
{
        return value >= 0 && (size_t)value < n ? names[value] : "unknown";
}

int db_enum_parse(const char *const *names, size_t n, const char *name)
{
        for (size_t i = 0; name && i < n; i++)
                if (!strcmp(name, names[i]))
                        return (int)i;
        return -EINVAL;
}

void db_release_row(const struct db_rows *how, void *row)
{
        if (!row)
                return;
        if (how->release)
                how->release(row);
        else
                db_release_columns(how->cols, how->n_cols, row, how->size);
}

void db_free_rows(const struct db_rows *how, void *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                db_release_row(how, (char *)v + i * how->size);
        free(v);
}

int db_read_rows(struct db *db, sqlite3_stmt *st, const struct db_rows *how, void *ret_array, size_t *ret_n,
                 struct error *err)
{
        char *v = NULL;
        size_t n = 0, cap = 0;
        int r = 0, rc;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 8;
                        char *nv = realloc(v, ncap * how->size);
                        if (!nv) {
                                r = -ENOMEM;
                                break;
                        }
                        v = nv;
                        cap = ncap;
                }
                memset(v + n * how->size, 0, how->size);
                r = how->read ? how->read(how->ctx, st, v + n * how->size, err)
                              : db_read_columns(st, how->cols, how->n_cols, v + n * how->size);
                if (r < 0) {
                        db_release_row(how, v + n * how->size);
                        break;
                }
                if (r == 0)
                        n++;
                r = 0;
        }
        if (r == -ENOMEM)
                r = error_set(err, STACK_EFAIL, "out of memory");
        else if (r == -EINVAL)
                r = error_set(err, STACK_ESTORE, "%s: %s: a row holds a value this stack does not know", db->name,
                              how->job);
        else if (r == 0 && rc != SQLITE_DONE)
                r = db_error(db, err, how->job);
        sqlite3_finalize(st);
        if (r < 0) {
                db_free_rows(how, v, n);
                return r;
        }
        memcpy(ret_array, &v, sizeof v); /* the caller's T *: every object pointer is one void * here */
        *ret_n = n;
        return 0;
}

int db_query_rows(struct db *db, const char *sql, const char *param, const struct db_rows *how, void *ret_array,
                  size_t *ret_n, struct error *err)
{
        sqlite3_stmt *st;
        int r = db_prepare(db, sql, &st, how->job, err);

        if (r < 0)
                return r;
        if (param)
                sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
        return db_read_rows(db, st, how, ret_array, ret_n, err);
}

int db_read_int64(struct db *db, const char *sql, const char *arg, int64_t dflt, int64_t *ret, const char *job,
                  struct error *err)
{
        sqlite3_stmt *st;
        int r = db_prepare(db, sql, &st, job, err);

        if (r < 0)
                return r;
        if (arg)
                sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
        r = db_step_row(db, st, job, err);
        if (r >= 0) {
                *ret = r && sqlite3_column_type(st, 0) != SQLITE_NULL ? sqlite3_column_int64(st, 0) : dflt;
                r = 0;
        }
        sqlite3_finalize(st);
        return r;
}

int64_t db_query_int64(struct db *db, const char *sql, const char *arg, int64_t dflt)
{
        int64_t v;

        return db_read_int64(db, sql, arg, dflt, &v, "query", NULL) < 0 ? dflt : v;
}

int db_exec_texts(struct db *db, const char *sql, const char *text1, const char *text2, const char *job,
                  unsigned *ret_changes, struct error *err)
{
        const char *text[2] = {text1, text2};
        sqlite3_stmt *st;
        int r = db_prepare(db, sql, &st, job, err);

        if (r < 0)
                return r;
        for (int i = 0; i < 2 && i < sqlite3_bind_parameter_count(st); i++)
                db_bind_text_opt(st, i + 1, text[i]);
        return db_finish(db, st, job, ret_changes, err);
}

int db_vwrite(struct db *db, const char *sql, const char *job, unsigned *ret_changes, struct error *err,
              const char *types, va_list ap)
{
        sqlite3_stmt *st;
        int n, r = db_prepare(db, sql, &st, job, err);

        if (r < 0)
                return r;
        n = sqlite3_bind_parameter_count(st);
        if ((int)strlen(types) != n) { /* a caller's mistake, found by its first run */
                sqlite3_finalize(st);
                return error_set(err, STACK_EFAIL, "index.db: %s: %zu parameters given for %d", job, strlen(types), n);
        }
        for (int i = 1; types[i - 1]; i++) {
                const struct digest *d;
                const int64_t *d64;

                switch (types[i - 1]) {
                case 't': db_bind_text_opt(st, i, va_arg(ap, const char *)); break;
                case 'i': sqlite3_bind_int64(st, i, va_arg(ap, int64_t)); break;
                case 'I':
                        d64 = va_arg(ap, const int64_t *);
                        if (d64)
                                sqlite3_bind_int64(st, i, *d64);
                        break;
                case 'n': sqlite3_bind_int(st, i, va_arg(ap, int)); break;
                case 'd':
                        d = va_arg(ap, const struct digest *);
                        if (d)
                                db_bind_digest(st, i, d);
                        break;
                default:
                        sqlite3_finalize(st);
                        return error_set(err, STACK_EFAIL, "index.db: %s: bad parameter type '%c'", job, types[i - 1]);
                }
        }
        return db_finish(db, st, job, ret_changes, err);
}

int db_write(struct db *db, const char *sql, const char *job, unsigned *ret_changes, struct error *err,
             const char *types, ...)
{
        va_list ap;
        int r;

        va_start(ap, types);
        r = db_vwrite(db, sql, job, ret_changes, err, types, ap);
        va_end(ap);
        return r;
}

bool db_has_table(struct db *db, const char *table)
{
        return db_query_int64(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", table, 0) == 1;
}

int db_begin(struct db *db, struct error *err)
{
        return db_exec(db, "BEGIN IMMEDIATE", err);
}

int db_end(struct db *db, int r, struct error *err)
{
        if (r == 0)
                r = db_exec(db, "COMMIT", err);
        if (r < 0)
                db_rollback(db);
        return r;
}

void db_rollback(struct db *db)
{
        sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
}

int64_t db_last_id(struct db *db)
{
        return sqlite3_last_insert_rowid(db->conn);
}

unsigned db_changes(struct db *db)
{
        return (unsigned)sqlite3_changes(db->conn);
}

char *db_column_strdup(sqlite3_stmt *st, int col)
{
        const char *s = (const char *)sqlite3_column_text(st, col);

        return s ? strdup(s) : NULL;
}

int db_column_digest(sqlite3_stmt *st, int col, struct digest *ret)
{
        const char *hex = (const char *)sqlite3_column_text(st, col);

        return hex ? digest_from_hex(hex, ret) : -ENOENT;
}

void db_bind_digest(sqlite3_stmt *st, int col, const struct digest *d)
{
        char hex[DIGEST_HEX_LEN + 1];

        digest_to_hex(d, hex);
        sqlite3_bind_text(st, col, hex, DIGEST_HEX_LEN, SQLITE_TRANSIENT);
}

void db_bind_text_opt(sqlite3_stmt *st, int col, const char *text)
{
        if (text)
                sqlite3_bind_text(st, col, text, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, col);
}
