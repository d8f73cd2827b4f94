/* requests.h - the approval queue, the api module's records in index.db (spec/api.md "Requests table",
 * "Trusted stacks"), in orch/ so the daemon and the CLI both reach it: one row per POST /run (who asked, for
 * what, and what the person decided), and the stacks a token may start without asking.
 *
 * Every function takes the store and migrates the module's tables first (index_module_db), so the daemon
 * and the CLI (`stack approve`, `stack deny`, `stack ps`, `stack trust-stack`) share them from separate
 * processes. A request is born pending (or approved, for a token and a trusted stack) with an expiry time;
 * requests_decide() moves a pending, unexpired one to approved or denied; requests_expire() moves pending ones
 * past their time (or all, when the daemon that waited for them is gone) to expired. Rows come filled; release
 * each with request_row_release() or a list with request_rows_free().
 */
#ifndef STACK_REQUESTS_H
#define STACK_REQUESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "store/store.h"

#define REQUESTS_SCHEMA_VERSION 1
#define REQUEST_EXPIRY_DEFAULT  600 /* seconds a request waits for a decision; STACK_API_REQUEST_EXPIRY overrides */

/* A request's state; names as in the table and the API ("pending"). request_state_parse() gives the state, or
 * -EINVAL for another name. */
enum request_state {
        REQUEST_PENDING,
        REQUEST_APPROVED,
        REQUEST_DENIED,
        REQUEST_EXPIRED,
};
const char *request_state_name(enum request_state state);
int request_state_parse(const char *name);

/* who: "token" | "anonymous". run_id: "" until a run exists. */
struct request_row {
        char id[17], run_id[17];
        char *slug, *ref, *origin, *who, *reason; /* origin, reason: NULL when none */
        enum request_state state;
        int64_t requested_at, decided_at, expires_at; /* unix seconds; decided_at 0 while pending */
};

/* A new row with a fresh random id; state pending or approved (then reason says why). */
int requests_insert(struct store *s, const char *slug, const char *ref, const char *origin, const char *who,
                    enum request_state state, const char *reason, int64_t expires_at, struct request_row *ret,
                    struct error *err);
/* By id; STACK_ENOTFOUND when none. */
int requests_get(struct store *s, const char *id, struct request_row *ret, struct error *err);
/* ID, or SLUG: the oldest pending request for it. STACK_ENOTFOUND when nothing pending matches. */
int requests_find_pending(struct store *s, const char *id_or_slug, struct request_row *ret, struct error *err);
/* pending -> approved | denied, only while unexpired. STACK_ENOTFOUND when the row is unknown; STACK_EFAIL
 * naming its state when it is no longer pending (decided, or expired). */
int requests_decide(struct store *s, const char *id, enum request_state state, const char *reason, struct error *err);
/* pending -> expired: id NULL means every pending row; all false means only those past expires_at.
 * *ret_n (may be NULL) gets how many changed. */
int requests_expire(struct store *s, const char *id, bool all, const char *reason, unsigned *ret_n, struct error *err);
int requests_set_run(struct store *s, const char *id, const char *run_id, struct error *err);
/* state REQUESTS_ALL: all, newest first; else those in that state (an enum request_state), oldest first. */
#define REQUESTS_ALL (-1)
int requests_list(struct store *s, int state, struct request_row **ret, size_t *ret_n, struct error *err);
void request_row_release(struct request_row *r);
void request_rows_free(struct request_row *v, size_t n);

/* The trusted list: stacks a token-bearing POST /run starts without approval (anonymous ones always wait). */
int trusted_stack_add(struct store *s, const char *slug, struct error *err);
/* STACK_ENOTFOUND when slug is not on the list. */
int trusted_stack_remove(struct store *s, const char *slug, struct error *err);
int trusted_stack_has(struct store *s, const char *slug, bool *ret, struct error *err);
/* Slugs in order; free with request_strv_free(). */
int trusted_stack_list(struct store *s, char ***ret, size_t *ret_n, struct error *err);
void request_strv_free(char **v, size_t n);

#endif
