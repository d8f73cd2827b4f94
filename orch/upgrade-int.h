/* upgrade-int.h - what upgrade.c and upgrade-journal.c share; the interface is orch/upgrade.h.
 *
 * The journal (table `upgrades`, module "upgrade"): journal_new() writes a row in state prepare; journal_set()
 * records each next state (committed before the step it names starts); journal_query() reads rows by a WHERE
 * clause (newest first; free with journals_free()); journal_exec() runs one statement on the table;
 * have_journal() says whether the table exists (a store that never upgraded has none, and nothing is written to
 * find that out).
 */
#ifndef STACK_UPGRADE_INT_H
#define STACK_UPGRADE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "store/store.h"

/* States: prepare -> snapshot -> switch -> health -> complete -> done; from switch or health on a failure:
 * rollback -> rolled-back; prepare/snapshot that fail: abandoned (nothing was changed); stack rollback of a done
 * upgrade: reverted. Rows in prepare..rollback whose process is gone are finished by orch_recover(). */

#define PENDING_STATES "'prepare','snapshot','switch','health','complete','rollback'"

enum journal_state {
        J_PREPARE,
        J_SNAPSHOT,
        J_SWITCH,
        J_HEALTH,
        J_COMPLETE,
        J_ROLLBACK, /* the last of the pending states (PENDING_STATES) */
        J_DONE,
        J_ROLLED_BACK,
        J_ABANDONED,
        J_REVERTED,
};

struct journal {
        int64_t id;
        char *slug, *snapshot, *message;
        enum journal_state state;
        int64_t from_id, to_id;
        int pid, tries;
};

/* One name per state, as in the table; journal_pending(): prepare .. rollback, still to be finished. */
const char *journal_state_name(enum journal_state state);
bool journal_pending(enum journal_state state);

int journal_new(struct store *s, const char *slug, int64_t from_id, int64_t to_id, struct journal *j,
                struct error *err);
int journal_set(struct store *s, struct journal *j, enum journal_state state, const char *snapshot, const char *message,
                struct error *err);
int journal_query(struct store *s, const char *where, const char *arg, struct journal **ret, size_t *ret_n,
                  struct error *err);
/* One statement with an optional text and integer parameter (?1, ?2). */
int journal_exec(struct store *s, const char *sql, const char *text, int64_t num, unsigned *ret_changes,
                 struct error *err);
bool have_journal(struct store *s);
void journal_release(struct journal *j);
void journals_free(struct journal *v, size_t n);

#endif
