/* db.h - the one small layer over SQLite that every table in index.db is written with (spec/store.md "Index",
 * "Module tables"): a connection handle, statements prepared and stepped with one error line each, column
 * copies, a list reader, transactions, and the module-schema record.
 *
 * Who holds the connection: the index opens it (db_open() in index_open()) and owns it. A module that keeps
 * tables in index.db never sees the raw sqlite3 handle: it declares its tables with DB_SCHEMA() and asks
 * index_module_db() (store/index.h) for the `struct db *`, migrated to its schema; statements are then
 * prepared, bound (sqlite3_bind_* on the statement), stepped and read through this header.
 *
 * Calling sequence for one statement:
 *   db_prepare(db, sql, &st, "read runs", err)   an error says "index.db: read runs: <SQLite's message>"
 *   sqlite3_bind_*(st, ...)
 *   db_step_done(db, st, job, err)               a write (the statement is reset and can be bound again), or
 *   db_step_row(db, st, job, err)                1 with a row to read, 0 when there is none, or
 *   db_read_rows(db, st, &how, &list, &n, err)   every row into a grown array (finalizes st; or, for all
 *                                                of it, db_query_rows()), or
 *   db_finish(db, st, job, &changes, err)        one write then finalize (st is finalized even on failure)
 *   sqlite3_finalize(st)                         safe on NULL
 * A transaction: db_begin(db, err) (BEGIN IMMEDIATE), then db_end(db, r, err): COMMIT when r == 0, else (or
 * when COMMIT fails) ROLLBACK; it returns the outcome. Every function that fails says why once into err.
 */
#ifndef STACK_DB_H
#define STACK_DB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h> /* offsetof, for the DB_*_COL macros */
#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"

struct db;
struct sqlite3_stmt;

/* A module's tables (spec/store.md "Module tables"): steps[i] takes them from schema version i to i + 1; never
 * edit a step that has shipped, add one. Declared once per module with DB_SCHEMA(), which checks at compile
 * time that there is one step per version:
 *   #define RUNS_SCHEMA_VERSION 1
 *   DB_SCHEMA(runs_schema, "run", RUNS_SCHEMA_VERSION, "CREATE TABLE runs(...);");  */
struct db_schema {
        const char *module; /* its row in module_schemas */
        int version;
        const char *const *steps;
};

#define DB_SCHEMA(name, module_name, schema_version, ...)                              \
        static const char *const name##_steps[] = {__VA_ARGS__};                       \
        _Static_assert(sizeof name##_steps / sizeof *name##_steps == (schema_version), \
                       "one migration per schema version");                            \
        static const struct db_schema name = {                                         \
                .module = (module_name), .version = (schema_version), .steps = name##_steps}

/* Open (create when missing) the database at path; name is what error lines start with ("index.db").
 * WAL, writers wait for each other (busy timeout). Close with db_close() (accepts NULL). */
int db_open(const char *path, const char *name, struct db **ret, struct error *err);
void db_close(struct db *db);

/* The error line "<name>: <job>: <SQLite's last message>"; returns -STACK_ESTORE. */
int db_error(struct db *db, struct error *err, const char *job);

/* One or more statements without parameters or rows. */
int db_exec(struct db *db, const char *sql, struct error *err);
int db_prepare(struct db *db, const char *sql, struct sqlite3_stmt **ret, const char *job, struct error *err);
/* Step a write (a row is accepted too); reset and clear the bindings so the statement can be used again. */
int db_step_done(struct db *db, struct sqlite3_stmt *st, const char *job, struct error *err);
/* Step a query: 1 with a row, 0 when done, or the error. */
int db_step_row(struct db *db, struct sqlite3_stmt *st, const char *job, struct error *err);
/* db_step_done() then finalize; *ret_changes (may be NULL) gets the rows changed. */
int db_finish(struct db *db, struct sqlite3_stmt *st, const char *job, unsigned *ret_changes, struct error *err);

/* A row's columns, in the statement's order, into the fields of a struct (db_read_columns()):
 *   static const struct db_column cols[] = {DB_CHARS_COL(struct run_row, id), DB_TEXT_COL(struct run_row, slug),
 *                                           DB_ENUM_COL(struct run_row, state, run_state_names), ...};
 * TEXT: a heap copy, NULL for NULL (TEXT_REQ: NULL is -ENOMEM, as a failed copy is); CHARS: into a char array
 * (truncated, "" for NULL); INT64/INT: int64_t or uint64_t / int fields; DIGEST: all zero when NULL or not a
 * digest; ENUM: the index of its name in names (an int-sized enum field), -EINVAL for another name; SKIP: a
 * column the caller reads itself. */
enum db_kind { DB_SKIP, DB_TEXT, DB_TEXT_REQ, DB_CHARS, DB_INT64, DB_INT, DB_DIGEST, DB_ENUM };
struct db_column {
        enum db_kind kind;
        size_t offset;
        size_t size; /* CHARS: the array's size; ENUM: the number of names */
        const char *const *names;
};
/* clang-format off */
#define DB_FIELD_COL(kind, type, field) {(kind), offsetof(type, field), sizeof((type *)0)->field, NULL}
#define DB_TEXT_COL(type, field)        DB_FIELD_COL(DB_TEXT, type, field)
#define DB_TEXT_REQ_COL(type, field)    DB_FIELD_COL(DB_TEXT_REQ, type, field)
#define DB_CHARS_COL(type, field)       DB_FIELD_COL(DB_CHARS, type, field)
#define DB_INT64_COL(type, field)       DB_FIELD_COL(DB_INT64, type, field)
#define DB_INT_COL(type, field)         DB_FIELD_COL(DB_INT, type, field)
#define DB_DIGEST_COL(type, field)      DB_FIELD_COL(DB_DIGEST, type, field)
#define DB_ENUM_COL(type, field, names) {DB_ENUM, offsetof(type, field), sizeof(names) / sizeof *(names), (names)}
#define DB_SKIP_COL                     {DB_SKIP, 0, 0, NULL}
/* clang-format on */

/* 0, or -ENOMEM / -EINVAL (see above) with the fields read so far set: release the struct either way. */
int db_read_columns(struct sqlite3_stmt *st, const struct db_column *cols, size_t n, void *ret);
/* Free the TEXT fields the columns name and zero the struct's `size` bytes; row may be NULL. */
void db_release_columns(const struct db_column *cols, size_t n, void *row, size_t size);

/* An enum stored by name (a state column): names[value]. db_enum_name() gives "unknown" out of range;
 * db_enum_parse() the value, or -EINVAL for a name not in the table. */
const char *db_enum_name(const char *const *names, size_t n, int value);
int db_enum_parse(const char *const *names, size_t n, const char *name);

/* Every row of a prepared, bound query into one array of elements of `size` bytes (zeroed before each row).
 * Each row is read by read() when set, else by db_read_columns(cols); released by release() when set, else by
 * db_release_columns(cols). read() returns 0 to keep the row, > 0 to skip it, -ENOMEM (the reader says "out of
 * memory"), -EINVAL (a value this stack does not know) or another negative code it set into err. On failure
 * the rows read so far, and the one that failed, are released and the array freed. The statement is always
 * finalized. ret_array is the address of the caller's `T *`; free the list with db_free_rows(). */
struct db_rows {
        size_t size;
        int (*read)(void *ctx, struct sqlite3_stmt *st, void *ret_elem, struct error *err);
        const struct db_column *cols;
        size_t n_cols;
        void (*release)(void *elem);
        void *ctx;
        const char *job; /* "read runs" */
};
int db_read_rows(struct db *db, struct sqlite3_stmt *st, const struct db_rows *how, void *ret_array, size_t *ret_n,
                 struct error *err);
/* The db_rows of a struct read and released by its column table alone (cols: a static array). */
/* clang-format off */
#define DB_ROWS(type, cols_, job_) \
        {.size = sizeof(type), .cols = (cols_), .n_cols = sizeof(cols_) / sizeof *(cols_), .job = (job_)}
/* clang-format on */
/* One row as how releases it (how->release, else its TEXT columns); row may be NULL. */
void db_release_row(const struct db_rows *how, void *row);
/* A list db_read_rows() gave: each of the n rows released as how says, then the array freed (v may be NULL). */
void db_free_rows(const struct db_rows *how, void *v, size_t n);
/* db_prepare() (job: how->job), an optional text parameter ?1 (NULL: none), then db_read_rows(). */
int db_query_rows(struct db *db, const char *sql, const char *param, const struct db_rows *how, void *ret_array,
                  size_t *ret_n, struct error *err);

/* The first column of the first row of sql (one optional text parameter ?1), dflt when there is no row or it
 * is NULL: db_read_int64() says why it failed; db_query_int64() gives dflt then too. */
int db_read_int64(struct db *db, const char *sql, const char *arg, int64_t dflt, int64_t *ret, const char *job,
                  struct error *err);
int64_t db_query_int64(struct db *db, const char *sql, const char *arg, int64_t dflt);
/* One statement without rows, its text parameters ?1, ?2 bound from text1, text2 (as many as it has; NULL binds
 * NULL); *ret_changes (may be NULL) gets the rows it changed. */
int db_exec_texts(struct db *db, const char *sql, const char *text1, const char *text2, const char *job,
                  unsigned *ret_changes, struct error *err);
/* One statement without rows, its parameters ?1, ?2, ... bound in order from the arguments after types, one
 * letter each: 't' a text (const char *; NULL binds NULL; it must outlive the call), 'i' an int64_t, 'I' an
 * int64_t through a pointer (const int64_t *, NULL binds NULL), 'n' an int, 'd' a digest (const struct digest *,
 * bound as its hex; NULL binds NULL). *ret_changes (may be NULL) gets the rows it
 * changed. db_vwrite() takes the arguments as a va_list. */
int db_write(struct db *db, const char *sql, const char *job, unsigned *ret_changes, struct error *err,
             const char *types, ...);
int db_vwrite(struct db *db, const char *sql, const char *job, unsigned *ret_changes, struct error *err,
              const char *types, va_list ap);
/* Whether a table exists (a module that has never written one need not create it to find out). */
bool db_has_table(struct db *db, const char *table);

/* Transactions (BEGIN IMMEDIATE; COMMIT or ROLLBACK by outcome). db_rollback() for an outcome already known. */
int db_begin(struct db *db, struct error *err);
int db_end(struct db *db, int r, struct error *err);
void db_rollback(struct db *db);

int64_t db_last_id(struct db *db);
unsigned db_changes(struct db *db);

/* Columns and parameters. db_column_strdup(): a heap copy of a text column, NULL when the column is NULL (or
 * out of memory); db_column_digest(): -ENOENT when NULL, -EINVAL when not a digest; db_bind_text_opt() binds
 * NULL for a NULL string (the text must outlive the step, as with SQLITE_STATIC). */
char *db_column_strdup(struct sqlite3_stmt *st, int col);
int db_column_digest(struct sqlite3_stmt *st, int col, struct digest *ret);
void db_bind_digest(struct sqlite3_stmt *st, int col, const struct digest *d);
void db_bind_text_opt(struct sqlite3_stmt *st, int col, const char *text);

#endif
