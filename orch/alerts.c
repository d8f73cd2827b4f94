/* alerts.c - the alerts table (alerts.h): the watcher's findings, newest first, bounded. */
#include "alerts.h"

#include "base/wallclock.h"
#include "store/db.h"
#include "store/index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

DB_SCHEMA(alerts_schema, "alerts", ALERTS_SCHEMA_VERSION,
          "CREATE TABLE alerts(id TEXT PRIMARY KEY, slug TEXT NOT NULL, run_id TEXT NOT NULL, kind TEXT NOT NULL,"
          "  container TEXT, detail TEXT, at_ms INTEGER NOT NULL, dismissed_at_ms INTEGER);"
          "CREATE INDEX alerts_by_run ON alerts(run_id, dismissed_at_ms);");

#define ALERT_COLUMNS "id, slug, run_id, kind, container, detail, at_ms, dismissed_at_ms"

static const struct db_column alert_cols[] = {
        DB_CHARS_COL(struct alert, id),        DB_TEXT_REQ_COL(struct alert, slug),
        DB_TEXT_REQ_COL(struct alert, run_id), DB_TEXT_REQ_COL(struct alert, kind),
        DB_TEXT_COL(struct alert, container),  DB_TEXT_COL(struct alert, detail),
        DB_INT64_COL(struct alert, at_ms),     DB_INT64_COL(struct alert, dismissed_at_ms),
};

static const struct db_rows alert_rows = DB_ROWS(struct alert, alert_cols, "read alerts");

int alerts_add(struct store *s, const struct alert *a, char *ret_id, struct error *err)
{
        unsigned char b[8];
        char id[17];
        struct db *db = NULL;
        int r;

        if (!s || !a || !a->slug || !a->run_id || !a->kind)
                return error_set(err, STACK_EFAIL, "alerts_add: invalid arguments");
        if (getrandom(b, sizeof b, 0) != sizeof b)
                return error_set(err, STACK_EFAIL, "getrandom failed");
        for (size_t i = 0; i < sizeof b; i++)
                snprintf(id + 2 * i, 3, "%02x", b[i]);
        r = index_module_begin(store_index(s), &alerts_schema, &db, err);
        if (r < 0)
                return r;
        r = db_write(db, "INSERT INTO alerts(id, slug, run_id, kind, container, detail, at_ms) VALUES(?,?,?,?,?,?,?)",
                     "write alerts", NULL, err, "tttttti", id, a->slug, a->run_id, a->kind, a->container, a->detail,
                     a->at_ms ? a->at_ms : wallclock_ms());
        if (r == 0)
                r = db_write(db,
                             "DELETE FROM alerts WHERE rowid NOT IN (SELECT rowid FROM alerts ORDER BY rowid DESC"
                             " LIMIT ?1)",
                             "write alerts", NULL, err, "i", (int64_t)ALERTS_KEEP);
        r = db_end(db, r, err);
        if (r == 0 && ret_id)
                memcpy(ret_id, id, sizeof id);
        return r;
}

int alerts_list(struct store *s, bool include_dismissed, struct alert **ret, size_t *ret_n, struct error *err)
{
        return index_module_rows(store_index(s), &alerts_schema,
                                 include_dismissed
                                         ? "SELECT " ALERT_COLUMNS " FROM alerts ORDER BY at_ms DESC, rowid DESC"
                                         : "SELECT " ALERT_COLUMNS " FROM alerts WHERE dismissed_at_ms IS NULL"
                                           " ORDER BY at_ms DESC, rowid DESC",
                                 NULL, &alert_rows, ret, ret_n, err);
}

void alerts_free(struct alert *v, size_t n)
{
        db_free_rows(&alert_rows, v, n);
}

int alerts_dismiss(struct store *s, const char *id, struct error *err)
{
        int64_t found = 0;
        int r;

        if (!s || !id)
                return error_set(err, STACK_EFAIL, "alerts_dismiss: invalid arguments");
        r = index_module_int64(store_index(s), &alerts_schema, "SELECT COUNT(*) FROM alerts WHERE id = ?1", id, 0,
                               &found, "read alerts", err);
        if (r == 0 && !found)
                r = error_set(err, STACK_ENOTFOUND, "no alert '%s' (stack alerts --all lists them)", id);
        if (r == 0)
                r = index_module_write(
                        store_index(s), &alerts_schema,
                        "UPDATE alerts SET dismissed_at_ms = COALESCE(dismissed_at_ms, ?2) WHERE id = ?1",
                        "write alerts", NULL, err, "ti", id, wallclock_ms());
        return r;
}

unsigned alerts_count(struct store *s, const char *run_id)
{
        int64_t n = 0;

        if (!s || !run_id ||
            index_module_int64(store_index(s), &alerts_schema,
                               "SELECT COUNT(*) FROM alerts WHERE run_id = ?1 AND dismissed_at_ms IS NULL", run_id, 0,
                               &n, "read alerts", NULL) < 0)
                return 0;
        return (unsigned)n;
}

json_t *alert_json(const struct alert *a)
{
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:I}", "id", a->id, "slug", a->slug ? a->slug : "",
                              "run_id", a->run_id ? a->run_id : "", "kind", a->kind ? a->kind : "", "container",
                              a->container, "detail", a->detail, "at", (json_int_t)a->at_ms);

        if (o)
                json_object_set_new(o, "dismissed_at",
                                    a->dismissed_at_ms ? json_integer(a->dismissed_at_ms) : json_null());
        return o;
}
