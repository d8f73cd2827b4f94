/* history.c - the run_history table: one row per change of a run's state, bounded per run (history.h). */
#include "history.h"

#include "base/wallclock.h"
#include "store/db.h"
#include "store/index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

DB_SCHEMA(history_schema, "history", HISTORY_SCHEMA_VERSION,
          "CREATE TABLE run_history(run_id TEXT NOT NULL, at_ms INTEGER NOT NULL, state TEXT NOT NULL,"
          "  reason TEXT, container TEXT);"
          "CREATE INDEX run_history_by_run ON run_history(run_id, at_ms);");

/* The names are the runs table's (run_state_name()); read back through run_state_parse(). */
static int history_from_row(void *ctx, sqlite3_stmt *st, void *ret, struct error *err);

static void history_release(void *p)
{
        struct history_row *h = p;

        free(h->reason);
        free(h->container);
}

static const struct db_rows history_rows = {.size = sizeof(struct history_row),
                                            .read = history_from_row,
                                            .release = history_release,
                                            .job = "read run_history"};

static int history_from_row(void *ctx, sqlite3_stmt *st, void *ret, struct error *err)
{
        struct history_row *h = ret;
        const unsigned char *id = sqlite3_column_text(st, 0), *state = sqlite3_column_text(st, 2);
        int k;

        snprintf(h->run_id, sizeof h->run_id, "%s", id ? (const char *)id : "");
        h->at_ms = sqlite3_column_int64(st, 1);
        k = run_state_parse(state ? (const char *)state : "");
        if (k < 0)
                return -EINVAL;
        h->state = (enum run_state)k;
        h->reason = db_column_strdup(st, 3);
        h->container = db_column_strdup(st, 4);
        if ((!h->reason && sqlite3_column_type(st, 3) != SQLITE_NULL) ||
            (!h->container && sqlite3_column_type(st, 4) != SQLITE_NULL))
                return -ENOMEM;
        return 0;
}

int history_add(struct store *s, const char *run_id, enum run_state state, const char *reason, const char *container,
                struct error *err)
{
        struct db *db = NULL;
        int r;

        if (!s || !run_id)
                return error_set(err, STACK_EFAIL, "history_add: invalid arguments");
        r = index_module_begin(store_index(s), &history_schema, &db, err);
        if (r < 0)
                return r;
        r = db_write(db, "INSERT INTO run_history(run_id, at_ms, state, reason, container) VALUES(?,?,?,?,?)",
                     "write run_history", NULL, err, "tittt", run_id, wallclock_ms(), run_state_name(state), reason,
                     container);
        if (r == 0) /* the newest HISTORY_KEEP of this run stay (rowid order: the order they were written in) */
                r = db_write(db,
                             "DELETE FROM run_history WHERE run_id = ?1 AND rowid NOT IN (SELECT rowid FROM"
                             " run_history WHERE run_id = ?1 ORDER BY rowid DESC LIMIT ?2)",
                             "write run_history", NULL, err, "ti", run_id, (int64_t)HISTORY_KEEP);
        return db_end(db, r, err);
}

int history_list(struct store *s, const char *run_id, struct history_row **ret, size_t *ret_n, struct error *err)
{
        if (!s || !run_id || !ret || !ret_n)
                return error_set(err, STACK_EFAIL, "history_list: invalid arguments");
        return index_module_rows(store_index(s), &history_schema,
                                 "SELECT run_id, at_ms, state, reason, container FROM run_history WHERE run_id = ?1"
                                 " ORDER BY rowid DESC",
                                 run_id, &history_rows, ret, ret_n, err);
}

void history_rows_free(struct history_row *v, size_t n)
{
        db_free_rows(&history_rows, v, n);
}
