/* requests.c - the api module's tables in index.db: api_requests (POST /run and its decision) and
 * api_trusted (the trusted list). The only file that speaks SQL about them.
 */
#include "requests.h"

#include "base/mem.h"
#include "store/db.h"
#include "store/index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* Migration i takes the module's tables from version i to i + 1. Never edit one that has shipped: add another.
 * The module keeps its name "api" (module_schemas, table names) from when the daemon alone owned the tables. */
DB_SCHEMA(requests_schema, "api", REQUESTS_SCHEMA_VERSION,
          "CREATE TABLE api_requests(id TEXT PRIMARY KEY, slug TEXT NOT NULL, ref TEXT NOT NULL, origin TEXT,"
          "  who TEXT NOT NULL CHECK(who IN ('token','anonymous')),"
          "  state TEXT NOT NULL CHECK(state IN ('pending','approved','denied','expired')),"
          "  reason TEXT, run_id TEXT NOT NULL DEFAULT '', requested_at INTEGER NOT NULL,"
          "  decided_at INTEGER NOT NULL DEFAULT 0, expires_at INTEGER NOT NULL);"
          "CREATE INDEX api_requests_by_state ON api_requests(state, requested_at);"
          "CREATE TABLE api_trusted(slug TEXT PRIMARY KEY, added_at INTEGER NOT NULL);");

#define REQUEST_COLUMNS "id, slug, ref, origin, who, state, reason, run_id, requested_at, decided_at, expires_at"

static const char *const request_state_names[] = {
        [REQUEST_PENDING] = "pending",
        [REQUEST_APPROVED] = "approved",
        [REQUEST_DENIED] = "denied",
        [REQUEST_EXPIRED] = "expired",
};

_Static_assert(sizeof request_state_names / sizeof *request_state_names == REQUEST_EXPIRED + 1,
               "one name per request state");
_Static_assert(sizeof(enum request_state) == sizeof(int), "read as an int (DB_ENUM_COL)");

#define N_STATES (sizeof request_state_names / sizeof *request_state_names)

const char *request_state_name(enum request_state state)
{
        return db_enum_name(request_state_names, N_STATES, (int)state);
}

int request_state_parse(const char *name)
{
        return db_enum_parse(request_state_names, N_STATES, name);
}

static const struct db_column request_cols[] = {
        DB_CHARS_COL(struct request_row, id),           DB_TEXT_REQ_COL(struct request_row, slug),
        DB_TEXT_REQ_COL(struct request_row, ref),       DB_TEXT_COL(struct request_row, origin),
        DB_TEXT_REQ_COL(struct request_row, who),       DB_ENUM_COL(struct request_row, state, request_state_names),
        DB_TEXT_COL(struct request_row, reason),        DB_CHARS_COL(struct request_row, run_id),
        DB_INT64_COL(struct request_row, requested_at), DB_INT64_COL(struct request_row, decided_at),
        DB_INT64_COL(struct request_row, expires_at),
};

static const struct db_rows request_rows = DB_ROWS(struct request_row, request_cols, "read api_requests");

void request_row_release(struct request_row *r)
{
        db_release_row(&request_rows, r);
}

void request_rows_free(struct request_row *v, size_t n)
{
        db_free_rows(&request_rows, v, n);
}

/* Run a query bound to one text parameter (NULL: none) and collect its rows. */
static int rows_query(struct store *s, const char *sql, const char *param, struct request_row **ret, size_t *ret_n,
                      struct error *err)
{
        return index_module_rows(store_index(s), &requests_schema, sql, param, &request_rows, ret, ret_n, err);
}

/* The first row of a query, or STACK_ENOTFOUND. */
static int row_query(struct store *s, const char *sql, const char *param, struct request_row *ret, struct error *err)
{
        struct request_row *v = NULL;
        size_t n = 0;
        int r = rows_query(s, sql, param, &v, &n, err);

        if (r < 0)
                return r;
        if (n == 0) {
                free(v);
                return -STACK_ENOTFOUND;
        }
        *ret = v[0];
        memset(&v[0], 0, sizeof v[0]);
        request_rows_free(v, n);
        return 0;
}

int requests_insert(struct store *s, const char *slug, const char *ref, const char *origin, const char *who,
                    enum request_state state, const char *reason, int64_t expires_at, struct request_row *ret,
                    struct error *err)
{
        unsigned char b[8];
        char id[17];
        int r;

        if (getrandom(b, sizeof b, 0) != sizeof b)
                return error_set(err, STACK_EFAIL, "getrandom failed");
        for (size_t i = 0; i < sizeof b; i++)
                snprintf(id + 2 * i, 3, "%02x", b[i]);
        r = index_module_write(store_index(s), &requests_schema,
                               "INSERT INTO api_requests(id, slug, ref, origin, who, state, reason, requested_at,"
                               " decided_at, expires_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                               " CASE WHEN ?6 = 'pending' THEN 0 ELSE ?8 END, ?9)",
                               "write api tables", NULL, err, "tttttttii", id, slug, ref, origin, who,
                               request_state_name(state), reason, (int64_t)time(NULL), expires_at);
        if (r < 0)
                return r;
        r = requests_get(s, id, ret, err);
        return r;
}

int requests_get(struct store *s, const char *id, struct request_row *ret, struct error *err)
{
        int r = row_query(s, "SELECT " REQUEST_COLUMNS " FROM api_requests WHERE id = ?", id, ret, err);

        if (r == -STACK_ENOTFOUND)
                return error_set(err, STACK_ENOTFOUND, "no request '%s' (stack ps lists pending ones)", id);
        return r;
}

int requests_find_pending(struct store *s, const char *id_or_slug, struct request_row *ret, struct error *err)
{
        int r = row_query(s,
                          "SELECT " REQUEST_COLUMNS " FROM api_requests WHERE state = 'pending' AND (id = ?1 OR"
                          " slug = ?1) ORDER BY id = ?1 DESC, requested_at, rowid LIMIT 1",
                          id_or_slug, ret, err);

        if (r == -STACK_ENOTFOUND)
                return error_set(err, STACK_ENOTFOUND, "no pending request '%s' (stack ps lists them)", id_or_slug);
        return r;
}

int requests_decide(struct store *s, const char *id, enum request_state state, const char *reason, struct error *err)
{
        struct request_row row;
        unsigned changed = 0;
        int64_t now = (int64_t)time(NULL);
        int r;

        if (state != REQUEST_APPROVED && state != REQUEST_DENIED)
                return error_set(err, STACK_EFAIL, "requests_decide: bad state %s", request_state_name(state));
        r = index_module_write(store_index(s), &requests_schema,
                               "UPDATE api_requests SET state = ?1, reason = ?2, decided_at = ?3 WHERE id = ?4 AND"
                               " state = 'pending' AND expires_at > ?3",
                               "write api tables", &changed, err, "ttit", request_state_name(state), reason, now, id);
        if (r < 0 || changed)
                return r;
        r = requests_get(s, id, &row, err);
        if (r < 0)
                return r;
        r = error_set(err, STACK_EFAIL, "request %s (%s) is %s, not pending", row.id, row.slug,
                      row.state != REQUEST_PENDING ? request_state_name(row.state) : "past its expiry time");
        request_row_release(&row);
        return r;
}

int requests_expire(struct store *s, const char *id, bool all, const char *reason, unsigned *ret_n, struct error *err)
{
        return index_module_write(store_index(s), &requests_schema,
                                  "UPDATE api_requests SET state = 'expired', reason = ?1, decided_at = ?2 WHERE"
                                  " state = 'pending' AND (?3 IS NULL OR id = ?3) AND (?4 OR expires_at <= ?2)",
                                  "write api tables", ret_n, err, "titn", reason, (int64_t)time(NULL), id, (int)all);
}

int requests_set_run(struct store *s, const char *id, const char *run_id, struct error *err)
{
        return index_module_exec(store_index(s), &requests_schema, "UPDATE api_requests SET run_id = ?1 WHERE id = ?2",
                                 run_id, id, "write api tables", NULL, err);
}

int requests_list(struct store *s, int state, struct request_row **ret, size_t *ret_n, struct error *err)
{
        if (state < 0)
                return rows_query(s,
                                  "SELECT " REQUEST_COLUMNS " FROM api_requests ORDER BY requested_at DESC, rowid DESC",
                                  NULL, ret, ret_n, err);
        return rows_query(s,
                          "SELECT " REQUEST_COLUMNS " FROM api_requests WHERE state = ? ORDER BY requested_at, rowid",
                          request_state_name((enum request_state)state), ret, ret_n, err);
}

int trusted_stack_add(struct store *s, const char *slug, struct error *err)
{
        return index_module_write(store_index(s), &requests_schema,
                                  "INSERT OR IGNORE INTO api_trusted(slug, added_at) VALUES(?, ?)", "write api tables",
                                  NULL, err, "ti", slug, (int64_t)time(NULL));
}

int trusted_stack_remove(struct store *s, const char *slug, struct error *err)
{
        unsigned changed = 0;
        int r = index_module_exec(store_index(s), &requests_schema, "DELETE FROM api_trusted WHERE slug = ?", slug,
                                  NULL, "write api tables", &changed, err);

        if (r == 0 && !changed)
                r = error_set(err, STACK_ENOTFOUND, "%s is not on the trusted list (stack trust-stack ls)", slug);
        return r;
}

void request_strv_free(char **v, size_t n)
{
        strv_free_n(v, n);
}

static void slug_release(void *v)
{
        free(*(char **)v);
}

int trusted_stack_list(struct store *s, char ***ret, size_t *ret_n, struct error *err)
{
        static const struct db_column cols[] = {{DB_TEXT_REQ, 0, sizeof(char *), NULL}}; /* the element itself */
        static const struct db_rows how = {
                .size = sizeof(char *), .cols = cols, .n_cols = 1, .release = slug_release, .job = "read api_trusted"};

        return index_module_rows(store_index(s), &requests_schema, "SELECT slug FROM api_trusted ORDER BY slug", NULL,
                                 &how, ret, ret_n, err);
}

int trusted_stack_has(struct store *s, const char *slug, bool *ret, struct error *err)
{
        int64_t one;
        int r = index_module_int64(store_index(s), &requests_schema, "SELECT 1 FROM api_trusted WHERE slug = ?", slug,
                                   0, &one, "read api_trusted", err);

        if (r == 0)
                *ret = one == 1;
        return r;
}
