/* upgrade-journal.c - the upgrade journal, the table `upgrades` (module "upgrade", spec/run.md "The journal and
 * a crash"): one row per upgrade, its state written before each step; and what gc and `stack rm` ask of it.
 */
#include "upgrade.h"
#include "upgrade-int.h"

#include "store/db.h"
#include "store/index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define SCHEMA_VERSION 2
DB_SCHEMA(upgrade_schema, "upgrade", SCHEMA_VERSION,
          "CREATE TABLE upgrades(id INTEGER PRIMARY KEY AUTOINCREMENT, slug TEXT NOT NULL,"
          "  state TEXT NOT NULL CHECK(state IN ('prepare','snapshot','switch','health','complete','done',"
          "    'rollback','rolled-back','abandoned','reverted')),"
          "  from_id INTEGER, to_id INTEGER, snapshot TEXT, pid INTEGER NOT NULL, message TEXT,"
          "  started_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
          "CREATE INDEX upgrades_by_slug ON upgrades(slug, id);",
          /* 2: how many times orch_recover() failed to finish a row (it says so once, then retries quietly) */
          "ALTER TABLE upgrades ADD COLUMN tries INTEGER NOT NULL DEFAULT 0;");

static const char *const journal_state_names[] = {
        [J_PREPARE] = "prepare",     [J_SNAPSHOT] = "snapshot", [J_SWITCH] = "switch", [J_HEALTH] = "health",
        [J_COMPLETE] = "complete",   [J_ROLLBACK] = "rollback", [J_DONE] = "done",     [J_ROLLED_BACK] = "rolled-back",
        [J_ABANDONED] = "abandoned", [J_REVERTED] = "reverted",
};

_Static_assert(sizeof journal_state_names / sizeof *journal_state_names == J_REVERTED + 1,
               "one name per journal state");

_Static_assert(sizeof(enum journal_state) == sizeof(int), "read as an int (DB_ENUM_COL)");

const char *journal_state_name(enum journal_state state)
{
        return db_enum_name(journal_state_names, sizeof journal_state_names / sizeof *journal_state_names, (int)state);
}

/* An upgrade still to be finished (orch_recover()). */
bool journal_pending(enum journal_state state)
{
        return state <= J_ROLLBACK;
}

static const struct db_column journal_cols[] = {
        DB_INT64_COL(struct journal, id),
        DB_TEXT_REQ_COL(struct journal, slug),
        DB_ENUM_COL(struct journal, state, journal_state_names),
        DB_TEXT_COL(struct journal, snapshot),
        DB_TEXT_COL(struct journal, message),
        DB_INT64_COL(struct journal, from_id),
        DB_INT64_COL(struct journal, to_id),
        DB_INT_COL(struct journal, pid),
        DB_INT_COL(struct journal, tries),
};

static const struct db_rows journal_rows = DB_ROWS(struct journal, journal_cols, "read upgrades");

void journal_release(struct journal *j)
{
        db_release_row(&journal_rows, j);
}

/* A statement on the journal (migrated first). */
static int prepare(struct store *s, const char *sql, struct db **ret_db, sqlite3_stmt **ret, const char *job,
                   struct error *err)
{
        return index_module_prepare(store_index(s), &upgrade_schema, sql, ret_db, ret, job, err);
}

int journal_new(struct store *s, const char *slug, int64_t from_id, int64_t to_id, struct journal *j, struct error *err)
{
        struct db *db;
        int64_t now = (int64_t)time(NULL);
        int r = index_module_db(store_index(s), &upgrade_schema, &db, err);

        memset(j, 0, sizeof *j);
        if (r == 0)
                r = db_write(db,
                             "INSERT INTO upgrades(slug, state, from_id, to_id, pid, started_at, updated_at)"
                             " VALUES(?, 'prepare', ?, ?, ?, ?, ?)",
                             "write upgrades", NULL, err, "tIinii", slug, from_id > 0 ? &from_id : NULL, to_id,
                             (int)getpid(), now, now);
        if (r < 0)
                return r;
        j->id = db_last_id(db);
        j->slug = strdup(slug);
        j->state = J_PREPARE;
        if (!j->slug) {
                journal_release(j);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        j->from_id = from_id;
        j->to_id = to_id;
        j->pid = (int)getpid();
        return r;
}

/* The journal's next state, durable before the step it names starts. */
int journal_set(struct store *s, struct journal *j, enum journal_state state, const char *snapshot, const char *message,
                struct error *err)
{
        int r = index_module_write(store_index(s), &upgrade_schema,
                                   "UPDATE upgrades SET state = ?, snapshot = COALESCE(?, snapshot),"
                                   " message = COALESCE(?, message), pid = ?, updated_at = ? WHERE id = ?",
                                   "write upgrades", NULL, err, "tttnii", journal_state_name(state), snapshot, message,
                                   (int)getpid(), (int64_t)time(NULL), j->id);

        if (r == 0) {
                char *nsnap = snapshot ? strdup(snapshot) : NULL;
                if (snapshot && !nsnap)
                        return error_set(err, STACK_EFAIL, "out of memory");
                j->state = state;
                if (snapshot) {
                        free(j->snapshot);
                        j->snapshot = nsnap;
                }
        }
        return r;
}

int journal_query(struct store *s, const char *where, const char *arg, struct journal **ret, size_t *ret_n,
                  struct error *err)
{
        char sql[512];

        *ret = NULL;
        *ret_n = 0;
        snprintf(sql, sizeof sql,
                 "SELECT id, slug, state, snapshot, message, from_id, to_id, pid, tries FROM upgrades WHERE %s ORDER "
                 "BY id DESC",
                 where);
        return index_module_rows(store_index(s), &upgrade_schema, sql, arg, &journal_rows, ret, ret_n, err);
}

void journals_free(struct journal *v, size_t n)
{
        db_free_rows(&journal_rows, v, n);
}

/* One statement on the journal with an optional text and integer parameter (?1, ?2). */
int journal_exec(struct store *s, const char *sql, const char *text, int64_t num, unsigned *ret_changes,
                 struct error *err)
{
        struct db *db;
        sqlite3_stmt *st;
        int r = prepare(s, sql, &db, &st, "write upgrades", err);

        if (r < 0)
                return r;
        if (text)
                sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, num);
        return db_finish(db, st, "write upgrades", ret_changes, err);
}

/* A store that never upgraded has no journal: nothing is written to find that out. */
bool have_journal(struct store *s)
{
        return index_has_table(store_index(s), "upgrades");
}

int upgrade_roots(struct store *s, int64_t **ret_versions, size_t *ret_nv, char ***ret_snapshots, size_t *ret_ns,
                  struct error *err)
{
        struct journal *v = NULL;
        size_t n = 0, nv = 0, ns = 0;
        int64_t *vers = NULL;
        char **snaps = NULL;
        int r = journal_query(s, "1", NULL, &v, &n, err);

        *ret_versions = NULL;
        *ret_snapshots = NULL;
        *ret_nv = *ret_ns = 0;
        if (r == 0 && n) {
                vers = calloc(2 * n, sizeof *vers);
                snaps = calloc(n + 1, sizeof *snaps);
                if (!vers || !snaps)
                        r = error_set(err, STACK_EFAIL, "out of memory");
        }
        /* Per stack, its newest completed upgrade: the version `stack rollback` goes back to and its snapshot;
         * rows still pending keep both of their versions and their snapshot. */
        for (size_t i = 0; r == 0 && i < n; i++) {
                bool pending = journal_pending(v[i].state);
                bool newest_done = v[i].state == J_DONE;
                for (size_t k = 0; k < i && newest_done; k++)
                        newest_done = strcmp(v[k].slug, v[i].slug) || v[k].state != J_DONE;
                if (!newest_done && !pending)
                        continue;
                if (v[i].from_id > 0)
                        vers[nv++] = v[i].from_id;
                if (pending && v[i].to_id > 0)
                        vers[nv++] = v[i].to_id;
                if (v[i].snapshot)
                        snaps[ns++] = strdup(v[i].snapshot);
        }
        journals_free(v, n);
        if (r < 0) {
                free(vers);
                for (size_t i = 0; i < ns; i++)
                        free(snaps[i]);
                free(snaps);
                return r;
        }
        *ret_versions = vers;
        *ret_nv = nv;
        *ret_snapshots = snaps;
        *ret_ns = ns;
        return 0;
}

int upgrade_forget(struct store *s, const char *slug, bool all, struct error *err)
{
        if (!have_journal(s))
                return 0;
        if (all)
                return journal_exec(s, "DELETE FROM upgrades WHERE slug = ?1", slug, 0, NULL, err);
        return journal_exec(s,
                            "UPDATE upgrades SET state = 'abandoned', message = 'the stack was removed (stack rm)'"
                            " WHERE slug = ?1 AND state IN (" PENDING_STATES ")",
                            slug, 0, NULL, err);
}
