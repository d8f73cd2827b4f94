/* test-gc.c - gc_run(): what roots keep (runs, pins, the newest N), what goes (versions, trees, entries,
 * objects, temp files, orphan run dirs), the order (index first, files after), dry runs, the lock; and
 * verify_repair(). Assertions are on rows and files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gc/gc.h"
#include "run/runs.h"
#include "base/fsutil.h"
#include "store/db.h"
#include "store/index.h"
#include "store/store.h"
#include "store/verify.h"
#include "testlib.h"

static long long query(struct store *s, const char *text)
{
        return db_query_int64(index_db(store_index(s)), text, NULL, -1);
}

static void import(struct store *s, const char *slug, const char *version, struct tl_imported *ret)
{
        struct error err = ERROR_INIT;
        char marker[64];

        snprintf(marker, sizeof marker, "%s %s", slug, version);
        if (tl_import_version(s, slug, version, marker, ret, &err) < 0)
                fail_msg("import %s@%s: %s", slug, version, err.msg);
}

static bool has_version(struct store *s, int64_t id)
{
        struct version_info v = {0};
        int r = index_get_version(store_index(s), id, &v, NULL);

        version_info_release(&v);
        return r == 0;
}

static bool has_object_file(struct store *s, const char *content)
{
        struct digest d;

        digest_buffer(content, strlen(content), &d);
        return store_has_object(s, &d);
}

static void gc(struct store *s, unsigned keep, bool dry, struct gc_report *rep)
{
        struct gc_options o = GC_OPTIONS_INIT;
        struct error err = ERROR_INIT;

        o.keep = keep;
        o.dry_run = dry;
        if (gc_run(s, &o, rep, &err) < 0)
                fail_msg("gc: %s", err.msg);
}

static void gc_keeps_the_newest_n_versions_of_each_stack(void **state)
{
        struct store *s = tl_store_new();
        struct tl_imported a1, a2, a3, b1;
        struct gc_report rep;

        import(s, "alpha", "1", &a1);
        import(s, "alpha", "2", &a2);
        import(s, "alpha", "3", &a3);
        import(s, "beta", "1", &b1);
        gc(s, 2, false, &rep);
        assert_false(has_version(s, a1.id));
        assert_true(has_version(s, a2.id));
        assert_true(has_version(s, a3.id));
        assert_true(has_version(s, b1.id)); /* another stack's only version */
        assert_int_equal(rep.versions, 1);
        assert_int_equal(rep.kept_versions, 3);
        assert_false(has_object_file(s, "alpha 1"));
        assert_true(has_object_file(s, "alpha 2"));
        gc_report_release(&rep);
        store_free(s);
}

static void gc_keeps_pinned_version(void **state)
{
        struct store *s = tl_store_new();
        struct error err = ERROR_INIT;
        struct tl_imported v1, v2, v3;
        struct gc_report rep;

        import(s, "web", "1", &v1);
        import(s, "web", "2", &v2);
        import(s, "web", "3", &v3);
        assert_int_equal(index_set_pin(store_index(s), v1.id, true, NULL, &err), 0);
        gc(s, 1, false, &rep);
        assert_true(has_version(s, v1.id));
        assert_true(has_object_file(s, "web 1"));
        assert_false(has_version(s, v2.id));
        assert_false(has_object_file(s, "web 2"));
        assert_true(has_version(s, v3.id));
        assert_int_equal(rep.root_pins, 1);
        gc_report_release(&rep);
        /* unpinned, it goes */
        assert_int_equal(index_set_pin(store_index(s), v1.id, false, NULL, &err), 0);
        gc(s, 1, false, &rep);
        assert_false(has_version(s, v1.id));
        assert_false(has_object_file(s, "web 1"));
        assert_int_equal(query(s, "SELECT COUNT(*) FROM pins"), 0);
        gc_report_release(&rep);
        store_free(s);
}

static void gc_keeps_running_versions_version(void **state)
{
        struct store *s = tl_store_new();
        struct error err = ERROR_INIT;
        struct tl_imported v1, v2, v3;
        struct run_row row = {0};
        struct gc_report rep;

        import(s, "app", "1", &v1);
        snprintf(row.id, sizeof row.id, "%s", "00c0ffee00c0ffee");
        row.slug = "app";
        row.state = RUN_RUNNING;
        row.project = "stack-app";
        row.run_dir = "/nowhere";
        row.version_id = v1.id;
        row.tree = v1.tree;
        assert_int_equal(runs_insert(s, &row, &err), 0);
        import(s, "app", "2", &v2);
        import(s, "app", "3", &v3);
        gc(s, 1, false, &rep);
        assert_true(has_version(s, v1.id));
        assert_true(has_object_file(s, "app 1"));
        assert_false(has_version(s, v2.id));
        assert_int_equal(rep.root_runs, 1);
        gc_report_release(&rep);
        /* a removed run (its row deleted) no longer holds it */
        assert_int_equal(runs_delete(s, row.id, &err), 0);
        gc(s, 1, false, &rep);
        assert_false(has_version(s, v1.id));
        assert_false(has_object_file(s, "app 1"));
        gc_report_release(&rep);
        store_free(s);
}

static void gc_removes_unreachable_objects_after_commit(void **state)
{
        struct store *s = tl_store_new();
        struct tl_imported v1, v2;
        struct verify_report vr = {0};
        struct error err = ERROR_INIT;
        struct gc_report rep;
        char stray[PATH_MAX];
        struct digest d;

        import(s, "site", "1", &v1);
        import(s, "site", "2", &v2);
        /* an object a crash left between staging_commit and the index transaction: named by nothing */
        digest_buffer("left by a crash", 15, &d);
        assert_int_equal(store_object_path(s, &d, stray, sizeof stray), 0);
        stray[strlen(stray) - 63] = 0;
        mkdir(stray, 0755);
        assert_int_equal(store_object_path(s, &d, stray, sizeof stray), 0);
        assert_int_equal(fs_write_atomic(stray, "left by a crash", 15, 0444), 0);
        gc(s, 1, false, &rep);
        assert_false(has_version(s, v1.id));
        assert_int_equal(query(s, "SELECT COUNT(*) FROM trees"), 1);
        assert_int_equal(query(s, "SELECT COUNT(*) FROM entries WHERE tree NOT IN (SELECT digest FROM trees)"), 0);
        assert_int_equal(query(s, "SELECT COUNT(*) FROM objects WHERE digest NOT IN (SELECT object FROM entries"
                                  " WHERE object IS NOT NULL)"),
                         0);
        assert_int_equal(access(stray, F_OK), -1);
        /* stack.yaml and marker.txt of 1 went (compose.yaml is shared with 2), and the stray object */
        assert_int_equal(rep.objects, 3);
        assert_true(rep.object_bytes > 15);
        assert_int_equal(rep.trees, 1);
        assert_true(has_object_file(s, "site 2"));
        assert_int_equal(verify_store(s, &vr, &err), 0);
        assert_int_equal(vr.extra, 0);
        gc_report_release(&rep);
        store_free(s);
}

static void dry_run_changes_nothing(void **state)
{
        struct store *s = tl_store_new();
        struct tl_imported v;
        struct tl_snapshot before, after;
        struct gc_report rep;
        char path[PATH_MAX];

        import(s, "dry", "1", &v);
        import(s, "dry", "2", &v);
        import(s, "dry", "3", &v);
        snprintf(path, sizeof path, "%s/tmp/obj-0123456789abcdef", store_home(s));
        assert_int_equal(fs_write_atomic(path, "half", 4, 0444), 0);
        snprintf(path, sizeof path, "%s/runs/ghost", store_home(s));
        assert_int_equal(fs_mkdir_p(path, 0755), 0);
        assert_int_equal(tl_snapshot(store_home(s), &before), 0);
        gc(s, 1, true, &rep);
        assert_true(rep.dry_run);
        assert_int_equal(rep.versions, 2);
        assert_int_equal(rep.objects, 4);
        assert_int_equal(rep.temp_files, 1);
        assert_int_equal(rep.run_dirs, 1);
        assert_int_equal(tl_snapshot(store_home(s), &after), 0);
        assert_true(tl_snapshot_equal(&before, &after));
        assert_int_equal(access(path, F_OK), 0);
        gc_report_release(&rep);
        /* and the real run removes what the dry run announced */
        gc(s, 1, false, &rep);
        assert_int_equal(rep.versions, 2);
        assert_int_equal(rep.objects, 4);
        assert_int_equal(access(path, F_OK), -1);
        gc_report_release(&rep);
        store_free(s);
}

static void gc_removes_temp_files_and_orphan_run_dirs_but_never_data(void **state)
{
        struct store *s = tl_store_new();
        struct error err = ERROR_INIT;
        struct run_row row = {0};
        struct tl_imported v;
        struct gc_report rep;
        char tmp[PATH_MAX], ghost[PATH_MAX], staged[PATH_MAX], live[PATH_MAX], data[PATH_MAX];

        import(s, "kept", "1", &v);
        snprintf(row.id, sizeof row.id, "%s", "1111222233334444");
        row.slug = "kept";
        row.state = RUN_STOPPED;
        row.project = "stack-kept";
        row.run_dir = "/x";
        row.version_id = v.id;
        row.tree = v.tree;
        assert_int_equal(runs_insert(s, &row, &err), 0);
        snprintf(tmp, sizeof tmp, "%s/tmp/obj-00000000000000aa", store_home(s));
        snprintf(ghost, sizeof ghost, "%s/runs/ghost/sub", store_home(s));
        snprintf(staged, sizeof staged, "%s/runs/.kept.new-0123456789abcdef", store_home(s));
        snprintf(live, sizeof live, "%s/runs/kept", store_home(s));
        snprintf(data, sizeof data, "%s/data/ghost", store_home(s));
        assert_int_equal(fs_write_atomic(tmp, "x", 1, 0444), 0);
        assert_int_equal(fs_mkdir_p(ghost, 0755), 0);
        assert_int_equal(fs_mkdir_p(staged, 0755), 0);
        assert_int_equal(fs_mkdir_p(live, 0755), 0);
        assert_int_equal(fs_mkdir_p(data, 0755), 0);
        gc(s, 1, false, &rep);
        assert_int_equal(access(tmp, F_OK), -1);
        ghost[strlen(ghost) - 4] = 0;
        assert_int_equal(access(ghost, F_OK), -1);
        assert_int_equal(access(staged, F_OK), -1);
        assert_int_equal(access(live, F_OK), 0); /* it has a run row */
        assert_int_equal(access(data, F_OK), 0); /* data is never gc's */
        assert_int_equal(rep.temp_files, 1);
        assert_int_equal(rep.run_dirs, 2);
        gc_report_release(&rep);
        store_free(s);
}

static void gc_waits_for_a_writer_then_names_it(void **state)
{
        struct store *s = tl_store_new(), *w = NULL;
        struct gc_options o = GC_OPTIONS_INIT;
        struct error err = ERROR_INIT;
        struct gc_report rep;
        struct tl_imported v;

        import(s, "locked", "1", &v);
        store_unlock(s);
        assert_int_equal(store_open(store_home(s), &w, &err), 0);
        assert_int_equal(store_lock_shared(w, &err), 0);
        setenv("STACK_LOCK_WAIT", "1", 1);
        /* the holder is this very process, which the message never names (tests/e2e/gc.sh checks the naming) */
        assert_int_equal(gc_run(s, &o, &rep, &err), -STACK_ESTORE);
        assert_non_null(strstr(err.msg, "locked"));
        assert_non_null(strstr(err.msg, "waited 1 s"));
        assert_true(has_version(s, v.id));
        store_unlock(w);
        error_clear(&err);
        assert_int_equal(gc_run(s, &o, &rep, &err), 0);
        gc_report_release(&rep);
        unsetenv("STACK_LOCK_WAIT");
        store_free(w);
        store_free(s);
}

static void crash_after_the_index_commit_leaves_only_garbage(void **state)
{
        struct store *s = tl_store_new();
        struct verify_report vr = {0};
        struct error err = ERROR_INIT;
        struct index_sweep sw;
        struct tl_imported v1, v2;
        struct gc_report rep;

        import(s, "half", "1", &v1);
        import(s, "half", "2", &v2);
        /* gc's index half, as gc_run does it, then "killed" before a single unlink */
        assert_int_equal(index_sweep_begin(store_index(s), &err), 0);
        assert_int_equal(index_sweep_keep_version(store_index(s), v2.id, &err), 0);
        assert_int_equal(index_sweep_run(store_index(s), &sw, &err), 0);
        assert_int_equal(index_sweep_end(store_index(s), true, &err), 0);
        assert_int_equal(sw.versions, 1);
        assert_int_equal(verify_store(s, &vr, &err), 0); /* no row points at anything missing */
        assert_int_equal(vr.extra, 2);                   /* only unreferenced objects */
        gc(s, 1, false, &rep);
        assert_int_equal(rep.objects, 2);
        gc_report_release(&rep);
        store_free(s);
}

static void repair_drops_the_version_of_a_missing_object_and_lists_it_lost(void **state)
{
        struct store *s = tl_store_new();
        struct verify_report vr = {0};
        struct verify_repair_report rr = {0};
        struct lost_version *lost = NULL;
        struct error err = ERROR_INIT;
        struct tl_imported v1, v2;
        char path[PATH_MAX];
        size_t n_lost = 0;
        struct digest d;

        import(s, "fix", "1", &v1);
        import(s, "fix", "2", &v2);
        digest_buffer("fix 1", 5, &d);
        assert_int_equal(store_object_path(s, &d, path, sizeof path), 0);
        assert_int_equal(unlink(path), 0);
        snprintf(path, sizeof path, "%s/tmp/obj-00000000000000bb", store_home(s));
        assert_int_equal(fs_write_atomic(path, "x", 1, 0444), 0);
        assert_int_equal(verify_store(s, &vr, &err), -STACK_ESTORE);
        error_clear(&err);
        if (verify_repair(s, &vr, &rr, &err) < 0)
                fail_msg("repair: %s", err.msg);
        assert_int_equal(rr.n_lost, 1);
        assert_string_equal(rr.lost[0].slug, "fix");
        assert_string_equal(rr.lost[0].version, "1");
        assert_int_equal(rr.removed_temp, 1);
        assert_int_equal(access(path, F_OK), -1);
        assert_false(has_version(s, v1.id));
        assert_true(has_version(s, v2.id));
        assert_int_equal(vr.missing + vr.corrupt + vr.bad_trees + vr.dangling, 0);
        assert_int_equal(index_list_lost(store_index(s), &lost, &n_lost, &err), 0);
        assert_int_equal(n_lost, 1);
        lost_versions_free(lost, n_lost);
        verify_repair_report_release(&rr);
        /* publishing it again takes it off the lost list */
        store_unlock(s);
        import(s, "fix", "1", &v1);
        assert_int_equal(index_list_lost(store_index(s), &lost, &n_lost, &err), 0);
        assert_int_equal(n_lost, 0);
        assert_true(has_object_file(s, "fix 1"));
        lost_versions_free(lost, n_lost);
        store_free(s);
}

static void repair_removes_a_corrupt_object_so_the_next_import_rewrites_it(void **state)
{
        struct store *s = tl_store_new();
        struct verify_report vr = {0};
        struct verify_repair_report rr = {0};
        struct error err = ERROR_INIT;
        struct tl_imported v;
        char path[PATH_MAX];
        struct digest d;

        import(s, "rot", "1", &v);
        digest_buffer("rot 1", 5, &d);
        assert_int_equal(store_object_path(s, &d, path, sizeof path), 0);
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(fs_write_atomic(path, "ROT 1", 5, 0444), 0);
        assert_int_equal(verify_repair(s, &vr, &rr, &err), 0);
        assert_int_equal(rr.n_lost, 1);
        assert_int_equal(access(path, F_OK), -1);
        verify_repair_report_release(&rr);
        store_unlock(s);
        import(s, "rot", "1", &v);
        memset(&vr, 0, sizeof vr);
        assert_int_equal(verify_store(s, &vr, &err), 0);
        assert_int_equal(vr.corrupt, 0);
        assert_true(has_object_file(s, "rot 1"));
        store_free(s);
}

/* A long-lived handle (stack serve keeps one) that imported something must not keep gc out afterwards; nested
 * locks are released by the outermost unlock only. */
static void gc_is_not_kept_out_by_a_handle_that_finished_an_import(void **state)
{
        struct store *s = tl_store_new(), *g = NULL;
        struct gc_options o = GC_OPTIONS_INIT;
        struct error err = ERROR_INIT;
        struct gc_report rep;
        struct tl_imported v;

        import(s, "served", "1", &v); /* no store_unlock(): the import let go of the lock itself */
        assert_int_equal(store_open(store_home(s), &g, &err), 0);
        setenv("STACK_LOCK_WAIT", "1", 1);
        assert_int_equal(gc_run(g, &o, &rep, &err), 0);
        gc_report_release(&rep);
        /* nested: the inner unlock keeps the lock, the outer one lets it go */
        assert_int_equal(store_lock_shared(s, &err), 0);
        assert_int_equal(store_lock_shared(s, &err), 0);
        store_unlock(s);
        assert_int_equal(gc_run(g, &o, &rep, &err), -STACK_ESTORE);
        error_clear(&err);
        store_unlock(s);
        assert_int_equal(gc_run(g, &o, &rep, &err), 0);
        gc_report_release(&rep);
        unsetenv("STACK_LOCK_WAIT");
        store_free(g);
        store_free(s);
        (void)state;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(gc_keeps_the_newest_n_versions_of_each_stack),
                cmocka_unit_test(gc_keeps_pinned_version),
                cmocka_unit_test(gc_keeps_running_versions_version),
                cmocka_unit_test(gc_removes_unreachable_objects_after_commit),
                cmocka_unit_test(dry_run_changes_nothing),
                cmocka_unit_test(gc_removes_temp_files_and_orphan_run_dirs_but_never_data),
                cmocka_unit_test(gc_waits_for_a_writer_then_names_it),
                cmocka_unit_test(gc_is_not_kept_out_by_a_handle_that_finished_an_import),
                cmocka_unit_test(crash_after_the_index_commit_leaves_only_garbage),
                cmocka_unit_test(repair_drops_the_version_of_a_missing_object_and_lists_it_lost),
                cmocka_unit_test(repair_removes_a_corrupt_object_so_the_next_import_rewrites_it),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
