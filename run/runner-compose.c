/* runner-compose.c - the compose runner (runner.h: runner_compose; runner_service is the same with the
 * DockerService hooks of flavor.h): a version's run dir, policy, variables, images, compose up and states, as
 * named steps over one context; stop, rm, the Engine's view of a run, `stack config` and logs
 * (runner-compose-int.h, spec/run.md). */
#include "runner-compose-int.h"
#include "regimages.h"
#include "flavor.h"
#include "runner.h"
#include "rundir.h"
#include "runs.h"
#include "base/buf.h"
#include "base/wallclock.h"
#include "base/fsutil.h"
#include "base/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

static int read_manifest(struct store *s, const struct tree *t, struct manifest **ret, struct error *err)
{
        const struct tree_entry *e = tree_find(t, "stack.yaml");
        char *text = NULL;
        int fd, r;
        ssize_t n;

        if (!e || e->type != ENTRY_FILE || e->size > MANIFEST_MAX_SIZE)
                return error_set(err, STACK_ESTORE, "the stored version has no usable stack.yaml");
        fd = store_object_open(s, &e->digest);
        if (fd < 0)
                return error_errno(err, STACK_ESTORE, fd, "stack.yaml's object is unreadable (run stack verify)");
        text = malloc(e->size + 1);
        n = text ? pread(fd, text, e->size, 0) : -1;
        close(fd);
        if (n != (ssize_t)e->size) {
                free(text);
                return error_set(err, STACK_ESTORE, "stack.yaml's object is short (run stack verify)");
        }
        r = manifest_parse(text, e->size, ret, NULL, NULL, err);
        free(text);
        return r;
}

static unsigned declared_perms(const struct manifest *m)
{
        json_t *j, *v;
        const char *k;
        unsigned bits = 0;

        if (!m->permissions_yaml || !(j = json_loads(m->permissions_yaml, 0, NULL)))
                return 0;
        json_object_foreach(j, k, v) if (!json_is_false(v) && !json_is_null(v)) bits |= policy_perm_from_name(k);
        json_decref(j);
        return bits;
}

static bool marker_matches(const struct compose_paths *p, const struct digest *tree)
{
        struct stat st;

        return rundir_marker_ok(p->run_dir, tree) && stat(p->effective, &st) == 0;
}

/* The required variables (${VAR:?msg}) the policy found unset with the same lookup compose gets. */
static int check_required(const struct policy_result *pr, const struct compose_paths *p, struct error *err)
{
        char missing[512] = "";
        size_t len = 0;

        if (!pr->required_vars || !pr->required_vars[0])
                return 0;
        for (size_t i = 0; pr->required_vars[i] && len < sizeof missing - 64; i++)
                len += (size_t)snprintf(missing + len, sizeof missing - len, "%s%s", len ? ", " : "",
                                        pr->required_vars[i]);
        return error_set(
                err, STACK_EREJECT,
                "the compose file requires %s, which nothing provides: stack run --env %s=... (remembered in %s)",
                missing, pr->required_vars[0], p->env_file);
}

/* One start (or, dry, one `stack config`): what the steps below share. p: the stack's run dir; np: the new
 * version's, prepared beside it. */
struct start {
        const struct runner *rn;
        struct store *s;
        const struct version_info *v;
        const struct run_options *o;
        struct run_info *ret;
        struct error *err;
        struct tree t;
        struct manifest *m;
        struct engine *e;
        struct backend *b;
        struct compose_paths p, np;
        struct envlist env, dotenv;
        struct policy_result pr;
        struct policy_limits limits; /* config.json's, read once (spec/run.md "Limits") */
        struct run_row row, old;     /* the run being started; the stack's recorded one (have_old) */
        struct engine_container *c;
        size_t nc;
        struct judge_input jin;
        char **judged;
        char **pinned;                   /* the registry images' pins, for the judge */
        struct regimages_saving *saving; /* pulled images being saved into the store meanwhile */
        struct backend_early *early;     /* the creation's compose call, begun while the images come */
        char tree_hex[DIGEST_HEX_LEN + 1], lab_run[64], lab_slug[96], lab_tree[96], aside[PATH_MAX],
                suffix[RUNDIR_ID_LEN + 1];
        const char *labels[4];
        char *out, *reason, *service;
        struct run_swarm rec; /* swarm: the run's mark (runner-swarm.c) */
        bool have_old, fast, started, staging, placed, dry, compose_v1, swarm;
        double t0;
        int status;
};

static void start_release(struct start *st)
{
        backend_early_cancel(st->early);
        if (st->staging)
                fs_rm_rf(st->np.run_dir); /* a new version that did not get as far as the switch leaves nothing */
        if (st->placed && !st->started)
                fs_rm_rf(st->p.run_dir); /* nor a first start put in place early that was never recorded */
        engine_containers_free(st->c, st->nc);
        strv_free(st->judged);
        strv_free(st->pinned);
        free(st->out);
        free(st->reason);
        free(st->service);
        policy_result_release(&st->pr);
        envlist_release(&st->env);
        envlist_release(&st->dotenv);
        run_row_release(&st->old);
        manifest_free(st->m);
        tree_release(&st->t);
        backend_free(st->b);
        engine_free(st->e);
}

/* The version's tree and stack.yaml. */
static int load_version(struct start *st)
{
        int r = index_load_tree(store_index(st->s), &st->v->tree, &st->t, st->err);

        return r < 0 ? r : read_manifest(st->s, &st->t, &st->m, st->err);
}

static void set_labels(struct start *st, const char *run_id)
{
        digest_to_hex(&st->v->tree, st->tree_hex);
        snprintf(st->lab_run, sizeof st->lab_run, "io.stack.run=%s", run_id);
        snprintf(st->lab_slug, sizeof st->lab_slug, "io.stack.slug=%s", st->v->slug);
        snprintf(st->lab_tree, sizeof st->lab_tree, "io.stack.tree=%.64s", st->tree_hex);
        st->labels[0] = st->lab_run;
        st->labels[1] = st->lab_slug;
        st->labels[2] = st->lab_tree;
        st->labels[3] = NULL;
}

/* A version checked out into np.run_dir, judged and given its effective file: what run_start does before it
 * touches anything that runs, and all that run_config does. dry: nothing remembered (env, grants) and no data
 * dir made. */
static int prepare(struct start *st)
{
        struct store *s = st->s;
        const struct version_info *v = st->v;
        const struct run_options *o = st->o;
        const struct compose_paths *np = &st->np;
        struct policy_result *pr = &st->pr;
        unsigned remembered = 0, declared = declared_perms(st->m), extra;
        struct compose_vars vars = {.slug = v->slug, .env = &st->env, .dotenv = &st->dotenv};
        struct policy_input in = {.compose_path = np->compose,
                                  .run_dir = np->run_dir,
                                  .data_dir = np->data_dir,
                                  .tree = &st->t,
                                  .m = st->m,
                                  .labels = st->labels,
                                  .lookup = compose_vars_lookup,
                                  .compose_v1 = st->compose_v1,
                                  .lookup_ctx = &vars,
                                  .dry = st->dry,
                                  .project = np->project,
                                  .limits = &st->limits,
                                  .swarm = st->swarm};
        bool dry = st->dry;
        int r;

        r = policy_limits_load(store_home(s), &st->limits, st->err); /* the person's limits (spec/run.md "Limits") */
        if (r == 0)
                r = rundir_checkout(s, &st->t, &v->tree, np->run_dir, st->err);
        if (r == 0 && st->rn->compose_file) /* a DockerService's is generated (run/flavor.h) */
                r = st->rn->compose_file(s, v, &st->t, np->compose, o->warn, o->warn_ctx, st->err);
        if (r == 0) /* the new version's .env */
                r = compose_build_env(o, v->slug, np, dry, &st->env, &st->dotenv, st->err);
        if (r < 0)
                return r;
        allows_get(s, v->slug, &remembered, NULL);
        extra = o->allow & ~declared & ~remembered;
        for (unsigned bit = 1; bit; bit <<= 1)
                if ((extra & bit) && policy_perm_name(bit))
                        compose_warn(o, "--allow %s: %s's stack.yaml does not ask for it; granted anyway%s",
                                     policy_perm_name(bit), v->slug, dry ? "" : " (remembered for the stack)");
        in.allow = o->allow | remembered;
        r = policy_apply(&in, np->effective, pr, st->err);
        if (r < 0)
                return r;
        if ((o->allow & ~remembered) && !dry)
                allows_set(s, v->slug, remembered | o->allow, NULL);
        r = check_required(pr, np, st->err);
        for (size_t i = 0; r == 0 && pr->redirected && pr->redirected[i]; i++)
                compose_warn(o, "state kept outside the run dir: %s", pr->redirected[i]);
        for (size_t i = 0; r == 0 && pr->warnings && pr->warnings[i]; i++)
                compose_warn(o, "%s", pr->warnings[i]);
        if (r == 0 && !dry)
                r = compose_routes_save(np, pr, st->err);
        return r;
}

/* ---- run_start, step by step ---- */

/* The Engine and the compose tool, before touching anything; the version's tree and stack.yaml. */
static int start_open(struct start *st)
{
        int r = engine_open(&st->e, st->err);

        if (r == 0)
                r = backend_detect(st->s, &st->b, st->err);
        return r < 0 ? r : load_version(st);
}

/* The paths: the run dir, the fresh dir beside it, the name the old one is moved to; the project the stack's
 * recorded run was created under, kept. */
static int start_plan(struct start *st)
{
        struct store *s = st->s;
        const struct version_info *v = st->v;
        char staged[PATH_MAX];

        rundir_new_id(st->suffix);
        if (compose_make_paths(s, v->slug, v->compose, NULL, &st->p) < 0 ||
            rundir_path(s, v->slug, "new", st->suffix, staged, sizeof staged) < 0 ||
            rundir_path(s, v->slug, "old", st->suffix, st->aside, sizeof st->aside) < 0 ||
            compose_make_paths(s, v->slug, v->compose, staged, &st->np) < 0)
                return error_set(st->err, STACK_ESTORE, "store path too long");
        st->have_old = runs_get(s, v->slug, &st->old, NULL) == 0;
        /* the swarm when asked, when the stack's recorded run is there, or by the person's default */
        st->swarm = st->o->swarm || (st->have_old && swarm_is_run_dir(st->old.run_dir)) ||
                    (!st->dry && swarm_config_default(store_home(s)));
        if (st->have_old && st->old.project && st->old.project[0]) {
                snprintf(st->p.project, sizeof st->p.project, "%s", st->old.project);
                snprintf(st->np.project, sizeof st->np.project, "%s", st->old.project);
        }
        return 0;
}

/* The run dir: kept when it holds this tree (re-launch fast path), else the new version is checked out, checked
 * and given its effective file beside it while the old one keeps running: a version that cannot start leaves
 * the running one and its record as they were. Then the hosts it routes are asked for (o->routes_check). */
static int start_prepare(struct start *st)
{
        const struct version_info *v = st->v;
        const struct run_options *o = st->o;
        bool same = st->have_old && digest_equal(&st->old.tree, &v->tree);
        int r;

        st->fast = same && !st->swarm && marker_matches(&st->p, &v->tree) && !o->allow &&
                   !(o->env && o->env[0]); /* new values: resolved into a new effective file */
        if (same)
                snprintf(st->row.id, sizeof st->row.id, "%s", st->old.id);
        else
                rundir_new_id(st->row.id);
        set_labels(st, st->row.id);
        if (!st->fast) {
                st->staging = true;
                st->compose_v1 = !st->swarm && backend_v1_file(st->b); /* swarm: the v2 form, then converted */
                r = prepare(st);
                if (r < 0)
                        return r;
                for (size_t i = 0; r == 0 && i < st->pr.n_routes; i++)
                        r = compose_route_add(st->ret, st->pr.routes[i].service, st->pr.routes[i].host,
                                              (unsigned)st->pr.routes[i].port);
                compose_step(o, "checkout", &st->t0);
        } else {
                struct error ignored = ERROR_INIT;
                /* the judge's ceiling only: a file prepare() would refuse does not stop a re-launch */
                if (policy_limits_load(store_home(st->s), &st->limits, &ignored) < 0)
                        policy_limits_default(&st->limits);
                r = compose_build_env(o, v->slug, &st->p, false, &st->env, &st->dotenv, st->err);
                if (r == 0 && compose_routes_load(&st->p, st->ret) < 0)
                        r = -ENOMEM;
        }
        if (r == -ENOMEM)
                r = error_set(st->err, STACK_EFAIL, "out of memory");
        if (r == 0 && o->routes_check && st->ret->n_routes)
                r = o->routes_check(o->routes_ctx, v->slug, st->ret->routes, st->ret->n_routes, st->err);
        return r;
}

/* Images the Engine lacks: the bundle's archives loaded; a DockerService's built from its Dockerfile
 * (run/flavor.h); else the version's registry images pinned, pulled or loaded from the store (regimages.h). */
static int start_images(struct start *st)
{
        const struct run_options *o = st->o;
        char **bundle = NULL, **reg = NULL;
        int r = 0;

        /* A first start (no version runs) whose compose tool is docker-compose 1.x: the checkout goes in place now,
         * so that the tool can start loading in it while the images come (compose_create_early()). A start that
         * fails before it is recorded removes it again (start_release()). */
        if (!st->fast && !st->swarm && !st->dry && !st->have_old && backend_early_ok(st->b)) {
                r = rundir_switch(st->np.run_dir, st->p.run_dir, st->aside, st->err);
                st->staging = r < 0;
                st->placed = r == 0;
                if (r == 0)
                        compose_create_early(st->b, &st->p, &st->env, &st->early);
        }
        if (r == 0)
                r = compose_load_images(st->s, st->e, st->m, &st->t, &st->ret->images_loaded, &bundle, st->err);
        if (r == 0 && st->rn->build)
                r = st->rn->build(st->s, st->e, st->v, &st->t, o, st->err);
        else if (r == 0)
                r = regimages_needed(st->fast || st->placed ? st->p.effective : st->np.effective, bundle, &reg,
                                     st->err);
        if (r == 0 && reg) {
                struct regimages_options ro = {.offline = o->offline,
                                               .pull = o->pull,
                                               .progress = o->pull_progress,
                                               .progress_ctx = o->pull_ctx,
                                               .say = o->note,
                                               .say_ctx = o->pull_ctx,
                                               .background = !st->dry && !st->swarm};
                struct regimages_result rr = {0};
                r = regimages_ensure(st->s, st->e, st->v, reg, &ro, &rr, st->err);
                st->ret->images_loaded += rr.loaded;
                st->ret->images_pulled = rr.pulled;
                st->pinned = rr.pinned;
                st->saving = rr.saving;
        }
        strv_free(bundle);
        strv_free(reg);
        if (r == 0)
                compose_step(o, "images", &st->t0);
        if (r == 0 && st->swarm) { /* pushed where every node pulls from, and the swarm file written */
                r = swarm_prepare(st->s, st->e, &st->np, &st->pr, o, &st->rec, st->err);
                if (r == 0)
                        compose_step(o, "swarm-images", &st->t0);
        }
        return r;
}

/* Only now the switch: another version that runs is taken down (its volumes and data stay), and the prepared
 * dir becomes the run dir. */
static int start_switch(struct start *st)
{
        int r;

        if (st->have_old && !digest_equal(&st->old.tree, &st->v->tree)) {
                const char *down[] = {"down", "--remove-orphans", NULL};
                bool old_swarm = swarm_is_run_dir(st->old.run_dir); /* updated in place by the deploy */
                struct compose_paths op;
                if (st->o->before_switch) {
                        r = st->o->before_switch(st->o->switch_ctx, &st->old, st->err);
                        if (r < 0)
                                return r;
                        st->t0 = monotonic_s();
                }
                if (!old_swarm && compose_row_paths(st->s, &st->old, &op) == 0)
                        compose_call(st->b, &op, &st->env, down, false, &st->status, NULL, NULL);
                runs_delete(st->s, st->old.id, NULL);
                st->have_old = false;
                compose_step(st->o, "down", &st->t0);
        }
        if (st->staging) {
                r = rundir_switch(st->np.run_dir, st->p.run_dir, st->aside, st->err);
                if (r < 0)
                        return r;
                st->staging = false;
        }
        return 0;
}

/* The run recorded as starting: a new row, or the same version's row again. */
static int start_record(struct start *st)
{
        int r;

        st->row.slug = st->v->slug;
        st->row.version_id = st->v->id;
        st->row.tree = st->v->tree;
        st->row.state = RUN_STARTING;
        st->row.project = st->p.project;
        st->row.run_dir = st->p.run_dir;
        r = st->have_old ? runs_set_state(st->s, st->row.id, RUN_STARTING, NULL, st->err)
                         : runs_insert(st->s, &st->row, st->err);
        st->started = r == 0;
        return r;
}

/* Up. What the Engine is asked for is judged before anything starts (judge.h): the containers of a re-launch as
 * they are, else the project created with `up --no-start`, then started through the Engine or by `up -d`. */
static int start_up(struct start *st)
{
        const struct run_options *o = st->o;
        unsigned granted = 0;
        int r;

        allows_get(st->s, st->v->slug, &granted, NULL);
        st->jin = (struct judge_input){.project = st->p.project,
                                       .run_dir = st->p.run_dir,
                                       .data_dir = st->p.data_dir,
                                       .allow = granted | o->allow,
                                       .pinned = st->pinned};
        /* the ceiling the policy wrote: the person's limits, lowered by stack.yaml */
        compose_judge_limits(&st->limits, st->m, &st->jin);
        if (st->swarm) {
                r = swarm_up(st->e, st->p.run_dir, st->p.project, &st->env, &st->jin, &st->rec, st->ret,
                             o->timeout_s > 0 ? o->timeout_s : 120, &st->reason, st->err);
                compose_step(o, "swarm-deploy", &st->t0);
                return r;
        }
        /* Re-launch straight through the Engine when nothing changed since the last up (relaunch.c), else up. */
        r = compose_relaunch_hook(st->e, &st->p, &st->env, o, st->fast ? &st->old.state : NULL, &st->jin, st->ret,
                                  st->err);
        if (r == 0) {
                st->status = 0;
                compose_step(o, "engine-start", &st->t0);
        } else if (r > 0) {
                const char *up[] = {"up", "-d", "--remove-orphans", NULL};
                r = compose_create_judged(st->e, st->b, &st->p, &st->env, &st->early, &st->jin, &st->judged,
                                          &st->status, &st->out, st->err);
                if (r == 0 && st->status == 0) {
                        compose_step(o, "create+judge", &st->t0);
                        if (compose_start_created(st->e, &st->p, &st->env, o) == 0) {
                                compose_step(o, "engine-start", &st->t0);
                        } else {
                                free(st->out); /* up --no-start's */
                                st->out = NULL;
                                r = compose_call(st->b, &st->p, &st->env, up, false, &st->status, &st->out, st->err);
                                if (r == 0)
                                        compose_step(o, "up", &st->t0);
                        }
                }
        }
        if (r < 0)
                return r;
        if (st->status != 0) {
                char *tail = compose_tail_lines(st->out, 6);
                st->reason = tail;
                return error_set(st->err, STACK_ERUNTIME, "%s up failed (exit %d): %s", backend_name(st->b), st->status,
                                 tail && *tail ? tail : "no output");
        }
        return 0;
}

/* Running (and healthy), and only what the judge saw. A re-launch of a run that ran before needs no settle
 * window: that is the fast path, and a later exit still shows in stack ps. A first start (or one after a failure
 * or a change) gets it. */
static int start_wait(struct start *st)
{
        const struct run_options *o = st->o;
        int r;

        if (st->swarm) /* swarm_up() waited for every service's replicas */
                return 0;
        r = compose_wait_running(st->e, st->p.project, o->timeout_s > 0 ? o->timeout_s : 120,
                                 st->fast && st->old.state != RUN_FAILED ? 0 : RUN_SETTLE_MS, &st->reason, &st->service,
                                 &st->c, &st->nc, st->err);
        compose_step(o, "wait", &st->t0);
        if (r == -STACK_ERUNTIME && st->reason) {
                const char *logs[] = {"logs", "--no-color", "--tail", "5", st->service, NULL};
                char *lo = NULL, *tail, *full;
                if (!st->service)
                        logs[4] = NULL;
                if (compose_call(st->b, &st->p, &st->env, logs, false, &st->status, &lo, NULL) == 0) {
                        char *body = lo;
                        if (body && !strncmp(body, "Attaching to ", 13)) /* docker-compose v1's header line */
                                body = strchr(body, '\n') ? strchr(body, '\n') + 1 : body + strlen(body);
                        tail = compose_tail_lines(body, 5);
                        if (tail && asprintf(&full, "%s; last log lines: %s", st->reason, tail) >= 0) {
                                free(st->reason);
                                st->reason = full;
                        }
                        free(tail);
                }
                free(lo);
                return error_set(st->err, STACK_ERUNTIME, "run %s of %s failed: %s", st->row.id, st->v->slug,
                                 st->reason);
        }
        if (r == 0 && st->judged)
                r = compose_only_judged((const char *const *)st->judged, st->c, st->nc, st->err);
        if (r == -STACK_EREJECT)
                engine_project_stop(st->e, st->p.project, NULL, NULL);
        return r;
}

/* The images pulled for this start, saved into the store while it went on, recorded (regimages_finish()): whatever
 * the start came to, as they would have been before it. */
static int start_saved(struct start *st, struct error *err)
{
        struct regimages_result rr = {.saving = st->saving};
        int r;

        if (!st->saving)
                return 0;
        st->saving = NULL;
        r = regimages_finish(st->s, st->e, &rr, err);
        compose_step(st->o, "images-store", &st->t0);
        return r;
}

/* The run recorded as running; what compose made kept for the next re-launch; the addresses and routes. */
static int start_running(struct start *st)
{
        int r = runs_set_state(st->s, st->row.id, RUN_RUNNING, NULL, st->err);

        if (r < 0)
                return r;
        if (st->swarm) {
                r = runs_get(st->s, st->row.id, &st->ret->row, st->err);
                if (r == 0) {
                        compose_addresses(st->m, NULL, 0, st->ret);
                        swarm_routes(st->e, st->p.project, st->ret);
                }
                return r;
        }
        compose_relaunch_hook(st->e, &st->p, &st->env, st->o, NULL, &st->jin, st->ret, NULL);
        r = runs_get(st->s, st->row.id, &st->ret->row, st->err);
        if (r == 0) {
                st->ret->fast_path = st->fast;
                compose_addresses(st->m, st->c, st->nc, st->ret);
                compose_routes_ports(st->ret, st->c, st->nc);
        }
        return r;
}

static int compose_start(const struct runner *rn, struct store *s, const struct version_info *v,
                         const struct run_options *o, struct run_info *ret, struct error *err)
{
        struct start st = {.rn = rn, .s = s, .v = v, .o = o, .ret = ret, .err = err, .t0 = monotonic_s()};
        int r;

        tree_init(&st.t);
        r = start_open(&st);
        if (r == 0)
                r = start_plan(&st);
        if (r == 0)
                r = start_prepare(&st);
        if (r == 0)
                r = start_images(&st);
        if (r == 0)
                r = start_switch(&st);
        if (r == 0)
                r = start_record(&st);
        if (r == 0) {
                r = start_up(&st);
                if (r == 0)
                        r = start_wait(&st);
                if (r == 0 && (r = start_saved(&st, err)) < 0) /* a run whose images cannot be kept does not run */
                        engine_project_stop(st.e, st.p.project, NULL, NULL);
                if (r < 0)
                        runs_set_state(s, st.row.id, RUN_FAILED, st.reason ? st.reason : err->msg, NULL);
                else
                        r = start_running(&st);
        }
        if (st.saving) {
                struct error ignored = ERROR_INIT;
                start_saved(&st, &ignored);
        }
        start_release(&st);
        return r;
}

/* run_config() and run_images(): the preparation in a temp dir beside the run dirs, removed afterwards; then the
 * effective file read (ret), or the version's images made ready in the Engine (info). */
static int dry_prepare(struct store *s, const struct version_info *v, const struct run_options *o, char **ret,
                       struct run_info *info, struct error *err)
{
        static const struct run_options no_options = {0};
        struct start st = {.s = s, .v = v, .o = o ? o : &no_options, .err = err, .dry = true, .ret = info};
        char dir[PATH_MAX], suffix[RUNDIR_ID_LEN + 1];
        bool made = false, locked = false;
        int r;

        if (ret)
                *ret = NULL;
        tree_init(&st.t);
        if (!s || !v || !v->slug)
                return error_set(err, STACK_EFAIL, "run_config: invalid arguments");
        st.rn = runner_of_flavor(v->flavor);
        if (!st.rn->containers)
                return ret ? error_set(err, STACK_EFAIL,
                                       "%s is a StaticWebsite: it has no compose file (the proxy serves its files)",
                                       v->slug)
                           : 0; /* no images either */
        r = store_lock_shared(s, err);
        locked = r == 0;
        if (r == 0)
                r = load_version(&st);
        if (r < 0)
                goto done;
        rundir_new_id(suffix);
        if (rundir_path(s, v->slug, "config", suffix, dir, sizeof dir) < 0 ||
            compose_make_paths(s, v->slug, v->compose, dir, &st.np) < 0) {
                r = error_set(err, STACK_ESTORE, "store path too long");
                goto done;
        }
        set_labels(&st, "config");
        made = true;
        /* The file for the compose tool that would run it; without one, as written for compose v2. */
        st.compose_v1 = backend_detect(s, &st.b, NULL) == 0 && backend_v1_file(st.b);
        r = prepare(&st);
        if (r == 0 && ret) {
                r = fs_read_file(st.np.effective, 16 * 1024 * 1024, ret, NULL); /* the policy's output bound */
                if (r < 0)
                        r = error_errno(err, STACK_ESTORE, r, "cannot read %s", st.np.effective);
        } else if (r == 0) {
                r = engine_open(&st.e, err);
                if (r == 0)
                        r = start_images(&st);
        }
done:
        if (made)
                fs_rm_rf(dir);
        if (locked)
                store_unlock(s);
        start_release(&st);
        return r;
}

int run_config(struct store *s, const struct version_info *v, const struct run_options *o, char **ret,
               struct error *err)
{
        return dry_prepare(s, v, o, ret, NULL, err);
}

int run_images(struct store *s, const struct version_info *v, const struct run_options *o, struct run_info *ret,
               struct error *err)
{
        memset(ret, 0, sizeof *ret);
        return dry_prepare(s, v, o, NULL, ret, err);
}

/* ---- the Engine's view, stop, rm, logs ---- */

/* What the Engine says about a run's project now: "running", "unhealthy" (a healthcheck fails), "restarting",
 * "stopped" or "failed" (+ reason), and the ports its containers publish. */
static void compose_status(struct engine *e, const struct run_row *row, enum run_state *ret_state, char *reason,
                           size_t size, char **ret_ports)
{
        struct engine_container *c = NULL;
        struct error err = ERROR_INIT;
        char label[256], ports[512] = "";
        size_t n = 0, running = 0, restarting = 0, unhealthy = 0, len = 0;

        *ret_state = RUN_STOPPED;
        reason[0] = 0;
        snprintf(label, sizeof label, "com.docker.compose.project=%s", row->project);
        if (engine_list_containers(e, label, &c, &n, &err) < 0) {
                *ret_state = RUN_UNKNOWN; /* the caller says so, the recorded state stays */
                snprintf(reason, size, "%.*s", (int)(size ? size - 1 : 0), err.msg);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                if (!strcmp(c[i].state, "running"))
                        running++;
                if (!strcmp(c[i].state, "running") && c[i].health && !strcmp(c[i].health, "unhealthy"))
                        unhealthy++;
                else if (!strcmp(c[i].state, "restarting"))
                        restarting++;
                else if ((!strcmp(c[i].state, "exited") && c[i].exit_code != 0) || !strcmp(c[i].state, "dead"))
                        snprintf(reason, size, "service '%s' exited with code %d outside stack",
                                 c[i].service ? c[i].service : c[i].name, c[i].exit_code);
                for (size_t j = 0; j < c[i].n_ports && len < sizeof ports - 64; j++)
                        if (c[i].ports[j].public_port)
                                len += (size_t)snprintf(ports + len, sizeof ports - len, "%s%s:%u->%u/%s",
                                                        len ? ", " : "", c[i].ports[j].ip ? c[i].ports[j].ip : "?",
                                                        c[i].ports[j].public_port, c[i].ports[j].private_port,
                                                        c[i].ports[j].proto ? c[i].ports[j].proto : "tcp");
        }
        if (restarting && !reason[0])
                *ret_state = RUN_RESTARTING; /* the watcher (orch/watch.h) says why when it runs */
        else if (running && unhealthy && !reason[0])
                *ret_state = RUN_UNHEALTHY;
        else if (running && !reason[0])
                *ret_state = RUN_RUNNING;
        else if (reason[0])
                *ret_state = RUN_FAILED;
        *ret_ports = len ? strdup(ports) : NULL;
        engine_containers_free(c, n);
}

static int compose_stop(struct store *s, struct run_row *row, struct error *err)
{
        const char *args[] = {"stop", NULL};
        struct backend *b = NULL;
        struct compose_paths p;
        struct engine *e = NULL;
        int r;

        r = compose_row_paths(s, row, &p) < 0 ? error_set(err, STACK_ESTORE, "store path too long") : 0;
        if (r == 0)
                r = backend_detect(s, &b, err);
        if (r == 0)
                r = engine_open(&e, err);
        if (r == 0)
                r = runs_set_state(s, row->id, RUN_STOPPING, NULL, err);
        if (r == 0) {
                r = compose_simple(row->slug, &p, b, args, err);
                runs_set_state(s, row->id, r == 0 ? RUN_STOPPED : RUN_FAILED, r == 0 ? NULL : err->msg, NULL);
        }
        if (r == 0)
                row->state = RUN_STOPPED;
        engine_free(e);
        backend_free(b);
        return r;
}

/* The run dir, the data dir with purge, the row (none for a run dir left without one). */
static int remove_files(struct store *s, const struct compose_paths *p, const struct run_row *row, bool purge,
                        struct error *err)
{
        int r = fs_rm_rf(p->run_dir);

        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot remove %s", p->run_dir);
        if (purge) {
                r = fs_rm_rf(p->data_dir);
                if (r < 0)
                        return error_errno(err, STACK_ESTORE, r, "cannot remove %s", p->data_dir);
        }
        return row->id[0] ? runs_delete(s, row->id, err) : 0;
}

/* compose down when the effective file is there and compose accepts it; then, whatever compose said, the
 * project's containers and networks (volumes with purge) through the Engine by its label, the run dir, the
 * data dir with purge, the row (none for a run dir left without one). anyway: an Engine that does not answer or
 * fails does not stop the rest; what it could not remove is said in *ret_left. */
static int compose_remove(struct store *s, const struct run_row *ret, bool purge, bool anyway, char **ret_left,
                          struct error *err)
{
        const char *down[] = {"down", "--remove-orphans", NULL}, *down_v[] = {"down", "--remove-orphans", "-v", NULL};
        struct engine_removed rm = {0};
        struct backend *b = NULL;
        struct compose_paths p;
        struct engine *e = NULL;
        struct error eerr = ERROR_INIT;
        struct stat st;
        bool have_row = ret->id[0] != 0, locked = false, engine_ok = false;
        int r;

        r = compose_row_paths(s, ret, &p) < 0 ? error_set(err, STACK_ESTORE, "store path too long") : 0;
        if (r == 0) {
                r = engine_open(&e, anyway ? &eerr : err);
                if (r < 0 && anyway)
                        r = 0;
                engine_ok = r == 0 && e;
        }
        if (r == 0)
                r = store_lock_shared(s, err);
        locked = r == 0;
        if (r == 0 && have_row) /* the watcher (orch/watch.h) takes what follows for stack's own doing */
                runs_set_state(s, ret->id, RUN_STOPPING, NULL, NULL);
        if (r == 0 && engine_ok && stat(p.effective, &st) == 0 && backend_detect(s, &b, NULL) == 0)
                compose_simple(ret->slug, &p, b, purge ? down_v : down, NULL); /* the Engine does the rest */
        if (r == 0 && engine_ok) {
                r = engine_remove_project(e, p.project, purge, &rm, anyway ? &eerr : err);
                if (r < 0 && anyway)
                        r = 0;
        }
        if (r == 0 && anyway && eerr.code && ret_left &&
            asprintf(ret_left, "the containers%s of %s may be left on the Engine: %s",
                     purge ? ", networks and volumes" : " and networks", p.project, eerr.msg) < 0)
                *ret_left = NULL;
        if (r == 0 && anyway && !eerr.code && rm.kept && ret_left) {
                struct buf k = BUF_INIT(1u << 16);
                buf_add_str(&k, "left on the Engine (something else uses them): ");
                for (char **q = rm.kept; *q; q++) {
                        if (q != rm.kept)
                                buf_add_str(&k, "; ");
                        buf_add_str(&k, *q);
                }
                buf_add(&k, "", 1);
                if (k.oom || k.toobig)
                        buf_release(&k);
                else
                        *ret_left = buf_steal(&k, NULL);
        }
        if (r == 0)
                r = remove_files(s, &p, ret, purge, err);
        if (locked)
                store_unlock(s);
        engine_removed_release(&rm);
        engine_free(e);
        backend_free(b);
        return r;
}

int compose_remove_files(struct store *s, const struct run_row *row, bool purge, struct error *err)
{
        struct compose_paths p;
        int r = compose_row_paths(s, row, &p) < 0 ? error_set(err, STACK_ESTORE, "store path too long") : 0;

        if (r == 0)
                r = store_lock_shared(s, err);
        if (r == 0) {
                r = remove_files(s, &p, row, purge, err);
                store_unlock(s);
        }
        return r;
}

/* The operations both compose flavors share. */
#define COMPOSE_OPS                                                                                 \
        .containers = true, .start = compose_start, .stop = compose_stop, .remove = compose_remove, \
        .status = compose_status

const struct runner runner_compose = {.name = "DockerCompose", COMPOSE_OPS};

/* DockerService: the compose runner with its compose file generated and its image built (run/flavor.h). */
const struct runner runner_service = {
        .name = "DockerService",
        COMPOSE_OPS,
        .compose_file = flavor_service_compose,
        .build = flavor_service_build,
};
