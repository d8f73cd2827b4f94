/* upgrade.c - upgrade, automatic rollback, rollback, restore, and finishing what a crash interrupted
 * (spec/run.md "Upgrades and snapshots"). The journal (upgrade-journal.c) is written before each step.
 */
#include "upgrade.h"
#include "base/wallclock.h"
#include "upgrade-int.h"

#include "fetch/fetch.h"
#include "run/engine.h"
#include "run/runs.h"
#include "run/run.h"
#include "store/index.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The test-only kill hook: STACK_TEST_KILL_AT=<point> makes the process SIGKILL itself there. */
static void kill_point(const char *point)
{
        const char *k = getenv("STACK_TEST_KILL_AT");
        const char *g = getenv("STACK_TEST_ENGINE_GONE_AT");

        if (k && !strcmp(k, point)) {
                fflush(NULL);
                kill(getpid(), SIGKILL);
        }
        if (g && !strcmp(g, point)) /* test-only: every later Engine call finds no Engine */
                setenv("DOCKER_HOST", "unix:///nonexistent/stack-test-engine-gone.sock", 1);
}

void upgrade_result_release(struct upgrade_result *r)
{
        if (!r)
                return;
        free(r->from);
        free(r->to);
        free(r->snapshot);
        run_info_release(&r->info);
        memset(r, 0, sizeof *r);
}

/* A line of what happens, to o->say (o not NULL). */
#define say(o, ...) error_say((o)->say, (o)->say_ctx, __VA_ARGS__)

static void timed(const struct upgrade_options *o, const char *what, double *t0)
{
        double t = monotonic_s();

        if (o->orch.run.step)
                o->orch.run.step(o->orch.run.step_ctx, what, t - *t0);
        *t0 = t;
}

/* The stack's recorded run is on the swarm (its run dir says so). */
static bool run_is_swarm(struct store *s, const char *slug)
{
        struct run_row row = {0};
        struct run_swarm sw;
        bool on = runs_get(s, slug, &row, NULL) == 0 && run_swarm_get(row.run_dir, &sw) == 0;

        run_row_release(&row);
        return on;
}

/* A stack on the swarm: every service keeps its replicas running until end, and no update of swarm's is rolled
 * back or paused. */
static int swarm_health_wait(struct engine *e, const char *project, double end, struct error *err)
{
        int r = 0;

        while (r == 0) {
                struct run_swarm_look lk;
                r = run_swarm_look(e, project, &lk, err);
                if (r == 0 && (lk.failed || lk.short_of))
                        r = error_set(err, STACK_ERUNTIME, "%s", lk.why);
                else if (r == 0 && !lk.services)
                        r = error_set(err, STACK_ERUNTIME, "no service of %s is left on the swarm", project);
                if (r < 0 || monotonic_s() >= end)
                        break;
                nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
        }
        return r;
}

/* After run_start: healthchecks pass (run_start waited for them), and every container keeps running for the
 * settle time. A failure names the container, its exit code and its last log lines. */
static int health_wait(struct store *s, const char *slug, int settle_s, struct error *err)
{
        struct engine *e = NULL;
        char label[256], project[RUN_PROJECT_MAX];
        double end = monotonic_s() + settle_s;
        int r;

        run_project_of(s, slug, project, sizeof project);
        snprintf(label, sizeof label, "com.docker.compose.project=%s", project);
        r = engine_open(&e, err);
        if (r == 0 && run_is_swarm(s, slug)) {
                r = swarm_health_wait(e, project, end, err);
                engine_free(e);
                return r;
        }
        while (r == 0) {
                struct engine_container *c = NULL;
                size_t n = 0;
                r = engine_list_containers(e, label, &c, &n, err);
                for (size_t i = 0; r == 0 && i < n; i++) {
                        const char *svc = c[i].service ? c[i].service : c[i].name;
                        char why[256] = "";
                        if (!strcmp(c[i].state, "exited") && c[i].exit_code != 0)
                                snprintf(why, sizeof why, "service '%s' exited with code %d", svc, c[i].exit_code);
                        else if (!strcmp(c[i].state, "dead") || !strcmp(c[i].state, "restarting"))
                                snprintf(why, sizeof why, "service '%s' is %s", svc, c[i].state);
                        else if (c[i].health && !strcmp(c[i].health, "unhealthy"))
                                snprintf(why, sizeof why, "service '%s' is unhealthy", svc);
                        if (why[0]) {
                                char *logs = NULL;
                                engine_container_logs(e, c[i].id, 5, &logs, NULL);
                                for (char *p = logs; p && *p; p++)
                                        if (*p == '\n' && p[1])
                                                *p = ' ';
                                r = error_set(err, STACK_ERUNTIME, "%s; last log lines: %s", why,
                                              logs && *logs ? logs : "(none)");
                                free(logs);
                        }
                }
                if (r == 0 && n == 0)
                        r = error_set(err, STACK_ERUNTIME, "no container of %s is left", slug);
                engine_containers_free(c, n);
                if (r < 0 || monotonic_s() >= end)
                        break;
                nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
        }
        engine_free(e);
        return r;
}

static bool process_alive(int pid)
{
        return pid > 0 && pid != getpid() && (kill(pid, 0) == 0 || errno == EPERM);
}

/* After orch_recover(): an upgrade of slug it could not finish refuses a new upgrade, rollback or restore of
 * that stack (one at a time), saying how to clear it. */
static int refuse_pending(struct store *s, const char *slug, struct error *err)
{
        struct journal *v = NULL;
        size_t n = 0;
        int r = journal_query(s, "slug = ? AND state IN (" PENDING_STATES ")", slug, &v, &n, err);

        if (r == 0 && n)
                r = process_alive(v[0].pid)
                            ? error_set(err, STACK_ERUNTIME, "an upgrade of %s is in progress (process %d)", slug,
                                        v[0].pid)
                            : error_set(err, STACK_ERUNTIME,
                                        "an earlier upgrade of %s could not complete its rollback (at %s: %s): "
                                        "stack upgrade --abandon %s gives up on it",
                                        slug, journal_state_name(v[0].state),
                                        v[0].message ? v[0].message : "interrupted", slug);
        journals_free(v, n);
        return r;
}

/* The start of every change of a stack: ret zeroed, the store locked (unlocked again on failure), interrupted
 * upgrades finished, and none left pending for slug. */
static int change_begin(struct store *s, const char *slug, const struct upgrade_options *o, struct upgrade_result *ret,
                        struct error *err)
{
        int r;

        memset(ret, 0, sizeof *ret);
        r = store_lock_shared(s, err);
        if (r < 0)
                return r;
        r = orch_recover(s, o->say, o->say_ctx, err);
        if (r == 0)
                r = refuse_pending(s, slug, err);
        if (r < 0)
                store_unlock(s);
        return r;
}

/* New down, snapshot restored, old up. The journal says rollback first, rolled-back once the old one runs. */
static int roll_back(struct store *s, struct journal *j, const struct upgrade_options *o, const char *why,
                     struct run_info *info, struct error *err)
{
        struct version_info old = {0};
        struct snapshot_row snap = {0};
        struct run_row row = {0};
        struct error e2 = ERROR_INIT;
        double t0 = monotonic_s();
        int r;

        bool swarm = run_is_swarm(s, j->slug); /* the old version goes back where the new one ran */

        r = journal_set(s, j, J_ROLLBACK, NULL, why, err);
        if (r < 0)
                return r;
        kill_point("rollback");
        r = orch_stop(s, j->slug, true, false, o->orch.run.warn, o->orch.run.warn_ctx, &row, &e2);
        run_row_release(&row);
        if (r < 0 && e2.code != STACK_EFAIL && e2.code != STACK_ENOTFOUND) {
                /* the Engine is gone: nothing more can be done now */
                return error_set(err, e2.code, "%s", e2.msg);
        }
        timed(o, "down", &t0);
        kill_point("after-rollback-down");
        if (j->snapshot) {
                r = snapshot_get(s, j->snapshot, &snap, err);
                if (r == 0)
                        r = snapshot_restore(s, j->slug, &snap, NULL, err);
                snapshot_row_release(&snap);
                if (r < 0)
                        return r;
                timed(o, "restore", &t0);
        }
        kill_point("after-restore");
        if (j->from_id > 0) {
                r = index_get_version(store_index(s), j->from_id, &old, err);
                if (r == 0) {
                        struct orch_options oo = o->orch;
                        oo.run.env = NULL;
                        oo.run.allow = 0;
                        oo.run.before_switch = NULL;
                        oo.run.swarm = oo.run.swarm || swarm;
                        run_info_release(info);
                        r = orch_run_version(s, &old, &oo, info, err);
                }
                version_info_release(&old);
                if (r < 0)
                        return r;
                timed(o, "up", &t0);
        }
        return journal_set(s, j, J_ROLLED_BACK, NULL, NULL, err);
}

struct switch_ctx {
        struct store *s;
        struct journal *j;
        const struct upgrade_options *o;
        const char *from_label;
        char *snapshot;
        double t0;
};

static int before_switch(void *ctx, const struct run_row *old, struct error *err)
{
        struct switch_ctx *c = ctx;
        struct snapshot_row snap = {0};
        struct snapshot_hooks h = {.warn = c->o->orch.run.warn, .ctx = c->o->orch.run.warn_ctx};
        int r;

        (void)old;
        r = journal_set(c->s, c->j, J_SNAPSHOT, NULL, NULL, err);
        if (r < 0)
                return r;
        kill_point("before-snapshot");
        c->t0 = monotonic_s();
        /* Stopped first: nothing the old version writes after the snapshot can be lost by a rollback. */
        {
                struct engine *e = NULL;
                char project[RUN_PROJECT_MAX];
                run_project_of(c->s, c->j->slug, project, sizeof project);
                r = engine_open(&e, err);
                if (r == 0)
                        r = engine_project_stop(e, project, NULL, err);
                if (r == 0 && run_is_swarm(c->s, c->j->slug)) /* its stateless services keep serving */
                        r = engine_stack_stop_stateful(e, project, NULL, err);
                engine_free(e);
                if (r < 0)
                        return r;
                timed(c->o, "stop", &c->t0);
        }
        kill_point("after-stop");
        r = snapshot_take(c->s, c->j->slug, c->from_label, "upgrade", &h, &snap, err);
        if (r < 0)
                return r;
        timed(c->o, "snapshot", &c->t0);
        c->snapshot = strdup(snap.id);
        say(c->o, "snapshot %s of %s: %llu files, %llu bytes (%llu bytes new in the store)%s%s", snap.id, c->j->slug,
            (unsigned long long)snap.files, (unsigned long long)snap.size, (unsigned long long)snap.added,
            snap.volumes && *snap.volumes ? "; volumes: " : "", snap.volumes ? snap.volumes : "");
        r = journal_set(c->s, c->j, J_SWITCH, snap.id, NULL, err);
        snapshot_row_release(&snap);
        if (r == 0)
                kill_point("after-snapshot");
        return r;
}

static void step_hook(void *ctx, const char *what, double seconds)
{
        const struct upgrade_options *o = ctx;

        if (o->orch.run.step)
                o->orch.run.step(o->orch.run.step_ctx, what, seconds);
        if (!strcmp(what, "down"))
                kill_point("after-down");
}

/* The target's `settle:` (spec/manifest.md), or -1. */
static int manifest_settle(struct store *s, const struct version_info *v)
{
        struct tree t;
        struct manifest *m = NULL;
        const struct tree_entry *e;
        char *text = NULL;
        int fd, settle = -1;

        tree_init(&t);
        if (index_load_tree(store_index(s), &v->tree, &t, NULL) == 0 && (e = tree_find(&t, "stack.yaml")) &&
            e->size <= MANIFEST_MAX_SIZE && (fd = store_object_open(s, &e->digest)) >= 0) {
                text = malloc(e->size + 1);
                if (text && pread(fd, text, e->size, 0) == (ssize_t)e->size &&
                    manifest_parse(text, e->size, &m, NULL, NULL, NULL) == 0)
                        settle = m->settle_s;
                close(fd);
        }
        manifest_free(m);
        free(text);
        tree_release(&t);
        return settle;
}

/* The version to upgrade to: --to, else the catalog's newest (when a catalog is configured and not offline),
 * else the store's newest. */
static int resolve_target(struct store *s, const char *slug, const struct upgrade_options *o, struct version_info *ret,
                          struct error *err)
{
        const char *cat = o->orch.catalog ? o->orch.catalog : getenv("STACK_CATALOG");
        char ref[512];

        if (o->to) {
                snprintf(ref, sizeof ref, "%s@%s", slug, o->to);
                return orch_resolve(s, ref, &o->orch, ret, err);
        }
        if (!o->orch.offline && cat && *cat) {
                struct fetch_options fo = {.catalog = o->orch.catalog,
                                           .insecure = o->orch.insecure,
                                           .warn = o->orch.run.warn,
                                           .warn_ctx = o->orch.run.warn_ctx};
                struct fetch_result fr = {0};
                int r = fetch_ref(s, slug, &fo, &fr, err);
                if (r < 0)
                        return r;
                *ret = fr.v;
                memset(&fr.v, 0, sizeof fr.v);
                fetch_result_release(&fr);
                return 0;
        }
        return index_resolve(store_index(s), slug, NULL, ret, err);
}

int orch_upgrade(struct store *s, const char *slug, const struct upgrade_options *o, struct upgrade_result *ret,
                 struct error *err)
{
        struct version_info target = {0}, from = {0};
        struct run_row cur = {0};
        struct journal j = {0};
        struct switch_ctx sc = {.s = s, .o = o};
        struct orch_options oo;
        struct version_image *old_pins = NULL;
        size_t n_old_pins = 0;
        bool have_cur, repin = false;
        int r, settle = o->settle_s;
        double t0;

        r = change_begin(s, slug, o, ret, err);
        if (r < 0)
                return r;
        r = resolve_target(s, slug, o, &target, err);
        if (r < 0)
                goto out;
        ret->to = strdup(target.version);
        if (settle < 0)
                settle = manifest_settle(s, &target);
        if (settle < 0)
                settle = UPGRADE_SETTLE_S;
        have_cur = runs_get(s, slug, &cur, NULL) == 0 && !strcmp(cur.slug, slug);
        if (!have_cur) {
                /* Nothing runs: what stack run would start, started. */
                say(o, "%s is not running: starting %s, as stack run %s@%s would (nothing to snapshot or roll back)",
                    slug, target.version, slug, target.version);
                ret->fresh = true;
                r = orch_run_version(s, &target, &o->orch, &ret->info, err);
                goto out;
        }
        if (index_get_version(store_index(s), cur.version_id, &from, NULL) == 0)
                ret->from = strdup(from.version);
        else
                ret->from = strdup(cur.version ? cur.version : "?");
        repin = o->pull && digest_equal(&cur.tree, &target.tree);
        if (digest_equal(&cur.tree, &target.tree) && !repin) {
                ret->nothing = true;
                say(o, "%s already runs %s: nothing to do", slug, target.version);
                goto out;
        }
        if (cur.state != RUN_RUNNING)
                say(o, "%s is %s (not running): upgrading what stack run %s would start, %s -> %s", slug,
                    run_state_name(cur.state), slug, ret->from, target.version);
        else if (repin)
                say(o, "upgrading %s %s: its registry images pulled again", slug, target.version);
        else
                say(o, "upgrading %s: %s -> %s", slug, ret->from, target.version);
        if (repin && index_version_images(store_index(s), cur.version_id, &old_pins, &n_old_pins, err) < 0) {
                r = -STACK_ESTORE;
                goto out;
        }
        r = journal_new(s, slug, cur.version_id, target.id, &j, err);
        if (r < 0)
                goto out;
        kill_point("after-prepare");
        sc.j = &j;
        sc.from_label = ret->from;
        oo = o->orch;
        oo.run.before_switch = before_switch;
        oo.run.switch_ctx = &sc;
        oo.run.step = step_hook;
        oo.run.step_ctx = (void *)o;
        oo.run.pull = o->pull;
        r = repin ? before_switch(&sc, &cur, err) : 0; /* the same tree: run_start never switches */
        if (r == 0)
                r = orch_run_version(s, &target, &oo, &ret->info, err);
        if (sc.snapshot)
                ret->snapshot = strdup(sc.snapshot);
        if (r < 0 && j.state == J_PREPARE) {
                /* refused or failed before the snapshot: the old version was never touched */
                journal_set(s, &j, J_ABANDONED, NULL, err->msg, NULL);
                goto out;
        }
        kill_point("after-up");
        t0 = monotonic_s();
        if (r == 0)
                r = journal_set(s, &j, J_HEALTH, NULL, NULL, err);
        if (r == 0) {
                r = health_wait(s, slug, settle, err);
                timed(o, "health", &t0);
        }
        if (r == 0) {
                r = journal_set(s, &j, J_COMPLETE, NULL, NULL, err);
                kill_point("after-health");
                if (r == 0)
                        r = journal_set(s, &j, J_DONE, NULL, NULL, err);
                goto out;
        }
        {
                char why[sizeof err->msg];
                int code = err->code;
                struct error rb = ERROR_INIT;
                snprintf(why, sizeof why, "%s", err->msg);
                error_clear(err);
                say(o, "%s %s failed (%s): rolling back to %s", slug, target.version, why, ret->from);
                if (repin) /* the old images again: roll_back() starts the version with its old pins */
                        r = index_set_version_images(store_index(s), cur.version_id, old_pins, n_old_pins, &rb);
                if (r == 0 || !repin)
                        r = roll_back(s, &j, o, why, &ret->info, &rb);
                if (r < 0) {
                        r = error_set(err, rb.code ? rb.code : STACK_ERUNTIME,
                                      "upgrade of %s to %s failed (%s) and the rollback is not finished: %s; the next "
                                      "stack command completes it",
                                      slug, target.version, why, rb.msg);
                        goto out;
                }
                ret->rolled_back = true;
                r = error_set(err, code == STACK_EREJECT ? STACK_EREJECT : STACK_ERUNTIME,
                              "upgrade of %s to %s rolled back: %s runs again with its data as before: %s", slug,
                              target.version, ret->from, why);
        }
out:
        version_images_free(old_pins, n_old_pins);
        free(sc.snapshot);
        journal_release(&j);
        run_row_release(&cur);
        version_info_release(&target);
        version_info_release(&from);
        store_unlock(s);
        return r;
}

int orch_recover(struct store *s, void (*sayfn)(void *ctx, const char *line), void *ctx, struct error *err)
{
        struct upgrade_options o = {.settle_s = -1, .say = sayfn, .say_ctx = ctx};
        struct journal *v = NULL;
        size_t n = 0;
        int r;

        if (!have_journal(s))
                return 0;
        r = journal_query(s, "state IN (" PENDING_STATES ")", NULL, &v, &n, err);
        if (r < 0 || !n) {
                journals_free(v, n);
                return r;
        }
        r = store_lock_shared(s, err);
        for (size_t i = 0; r == 0 && i < n; i++) {
                struct journal *j = &v[i];
                struct run_info info = {0};
                if (process_alive(j->pid))
                        continue; /* still at it */
                if (j->state == J_PREPARE) {
                        say(&o, "stack: an upgrade of %s was interrupted before anything stopped: it runs as before",
                            j->slug);
                        r = journal_set(s, j, J_ABANDONED, NULL, "interrupted before the switch", err);
                } else if (j->state == J_COMPLETE) {
                        say(&o, "stack: the interrupted upgrade of %s had completed: the new version runs", j->slug);
                        r = journal_set(s, j, J_DONE, NULL, NULL, err);
                } else {
                        /* Said once: a rollback that cannot complete (the Engine still gone, its snapshot collected,
                         * the old version failing) is retried quietly by later commands until it completes or a
                         * person gives up on it (stack upgrade --abandon). */
                        struct error rb = ERROR_INIT;
                        struct upgrade_options quiet = o;
                        if (j->tries)
                                quiet.say = NULL;
                        else
                                say(&o, "stack: an upgrade of %s was interrupted (at %s): completing its rollback",
                                    j->slug, journal_state_name(j->state));
                        r = roll_back(s, j, &quiet, "interrupted", &info, &rb);
                        if (r < 0) {
                                journal_exec(s, "UPDATE upgrades SET tries = tries + 1 WHERE id = ?2", NULL, j->id,
                                             NULL, NULL);
                                if (j->tries)
                                        r = 0; /* already said: `stack upgrade SLUG` says it again */
                                else
                                        r = error_set(err, rb.code ? rb.code : STACK_ERUNTIME,
                                                      "the interrupted upgrade of %s is still to be rolled back: %s "
                                                      "(later commands retry without a word; stack upgrade --abandon "
                                                      "%s gives up on it)",
                                                      j->slug, rb.msg, j->slug);
                        } else {
                                say(&o,
                                    "stack: rolled back %s: the version before the upgrade runs again with its "
                                    "data as before",
                                    j->slug);
                        }
                }
                run_info_release(&info);
        }
        if (n)
                store_unlock(s);
        journals_free(v, n);
        return r;
}

int orch_rollback(struct store *s, const char *slug, const struct upgrade_options *o, struct upgrade_result *ret,
                  struct error *err)
{
        struct journal *v = NULL;
        size_t n = 0;
        struct snapshot_row now = {0};
        struct version_info from = {0}, to = {0};
        struct run_info info = {0};
        int r;

        r = change_begin(s, slug, o, ret, err);
        if (r < 0)
                return r;
        r = journal_query(s, "slug = ? AND state = 'done'", slug, &v, &n, err);
        if (r == 0 && !n)
                r = error_set(err, STACK_EFAIL, "%s has no completed upgrade to roll back", slug);
        if (r == 0)
                r = index_get_version(store_index(s), v[0].from_id, &from, err);
        if (r == 0 && index_get_version(store_index(s), v[0].to_id, &to, NULL) == 0)
                ret->from = strdup(to.version);
        if (r == 0) {
                ret->to = strdup(from.version);
                r = snapshot_take(s, slug, ret->from, "rollback", NULL, &now, err);
        }
        if (r == 0) {
                say(o,
                    "rolling %s back: %s -> %s; the data as it is now is kept in snapshot %s; restoring snapshot "
                    "%s, taken before the upgrade",
                    slug, ret->from ? ret->from : "?", from.version, now.id, v[0].snapshot ? v[0].snapshot : "-");
                ret->snapshot = strdup(now.id);
                r = journal_set(s, &v[0], J_ROLLBACK, NULL, "stack rollback", err);
        }
        if (r == 0)
                r = roll_back(s, &v[0], o, "stack rollback", &ret->info, err);
        if (r == 0)
                r = journal_set(s, &v[0], J_REVERTED, NULL, NULL, err);
        run_info_release(&info);
        snapshot_row_release(&now);
        version_info_release(&from);
        version_info_release(&to);
        journals_free(v, n);
        store_unlock(s);
        return r;
}

int orch_restore(struct store *s, const char *slug, const char *snapshot_id, const struct upgrade_options *o,
                 struct upgrade_result *ret, struct error *err)
{
        struct snapshot_row snap = {0}, now = {0};
        struct run_row cur = {0}, row = {0};
        struct version_info v = {0};
        bool have_cur;
        int r;

        r = change_begin(s, slug, o, ret, err);
        if (r < 0)
                return r;
        r = snapshot_get(s, snapshot_id, &snap, err);
        if (r == 0 && strcmp(snap.slug, slug))
                r = error_set(err, STACK_EREJECT,
                              "snapshot %s is of stack '%s', not '%s': a stack is only restored from its own "
                              "snapshots",
                              snap.id, snap.slug, slug);
        if (r < 0)
                goto out;
        have_cur = runs_get(s, slug, &cur, NULL) == 0 && !strcmp(cur.slug, slug);
        r = snapshot_take(s, slug, have_cur ? cur.version : "-", "restore", NULL, &now, err);
        if (r < 0)
                goto out;
        ret->snapshot = strdup(now.id);
        say(o, "restoring %s from snapshot %s (version %s, reason %s); the data as it is now is kept in snapshot %s",
            slug, snap.id, snap.version, snap.reason, now.id);
        if (have_cur) {
                r = orch_stop(s, slug, true, false, o->orch.run.warn, o->orch.run.warn_ctx, &row, err);
                if (r < 0)
                        goto out;
        }
        r = snapshot_restore(s, slug, &snap, NULL, err);
        if (r == 0 && have_cur && index_get_version(store_index(s), cur.version_id, &v, err) == 0) {
                r = orch_run_version(s, &v, &o->orch, &ret->info, err);
        }
out:
        snapshot_row_release(&snap);
        snapshot_row_release(&now);
        run_row_release(&cur);
        run_row_release(&row);
        version_info_release(&v);
        store_unlock(s);
        return r;
}

int upgrade_abandon(struct store *s, const char *slug, char **ret_said, struct error *err)
{
        struct journal *v = NULL;
        struct run_row cur = {0};
        struct snapshot_row snap = {0};
        size_t n = 0;
        char *text = NULL, was[32] = "";
        bool have_cur, have_snap;
        int r, k;

        *ret_said = NULL;
        r = store_lock_shared(s, err);
        if (r < 0)
                return r;
        r = journal_query(s, "slug = ? AND state IN (" PENDING_STATES ")", slug, &v, &n, err);
        if (r == 0 && !n)
                r = error_set(err, STACK_EFAIL, "%s has no upgrade left to finish: nothing to abandon", slug);
        if (r == 0 && process_alive(v[0].pid))
                r = error_set(err, STACK_ERUNTIME, "an upgrade of %s is in progress (process %d): not abandoned", slug,
                              v[0].pid);
        if (r == 0)
                snprintf(was, sizeof was, "%s", journal_state_name(v[0].state));
        for (size_t i = 0; r == 0 && i < n; i++)
                r = journal_set(s, &v[i], J_ABANDONED, NULL, "abandoned (stack upgrade --abandon)", err);
        if (r < 0)
                goto out;
        have_cur = runs_get(s, slug, &cur, NULL) == 0 && !strcmp(cur.slug, slug);
        have_snap = v[0].snapshot && snapshot_get(s, v[0].snapshot, &snap, NULL) == 0;
        {
                char run[512], kept[256] = "";
                if (have_cur)
                        snprintf(run, sizeof run, "its run %s is version %s, %s as recorded (stack ps asks the Engine)",
                                 cur.id, cur.version, run_state_name(cur.state));
                else
                        snprintf(run, sizeof run, "it has no run (stack run %s starts one)", slug);
                if (have_snap)
                        snprintf(kept, sizeof kept,
                                 "; snapshot %s holds it as it was before the upgrade (stack restore %s %s)", snap.id,
                                 slug, snap.id);
                k = asprintf(&text,
                             "abandoned the upgrade of %s (it was at %s: %s); %s; the data is as the last version "
                             "that ran left it%s",
                             slug, was, v[0].message ? v[0].message : "interrupted", run, kept);
        }
        if (k < 0)
                r = error_set(err, STACK_EFAIL, "out of memory");
        else {
                *ret_said = text;
                text = NULL;
        }
out:
        free(text);
        run_row_release(&cur);
        snapshot_row_release(&snap);
        journals_free(v, n);
        store_unlock(s);
        return r;
}
