/* policyfx.c - the policy_apply() fixture (policyfx.h). */
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

#include "policyfx.h"
#include "base/fsutil.h"
#include "testlib.h"

/* shipped: NULL-terminated paths; a trailing '/' makes a directory. */
void fx_init(struct fx *f, const char *const *shipped)
{
        struct digest d;
        size_t i;

        memset(f, 0, sizeof *f);
        snprintf(f->dir, sizeof f->dir, "%s", tl_tmpdir());
        snprintf(f->run, sizeof f->run, "%s/run", f->dir);
        snprintf(f->data, sizeof f->data, "%s/data/demo", f->dir);
        snprintf(f->compose, sizeof f->compose, "%s/compose.yaml", f->run);
        snprintf(f->out, sizeof f->out, "%s/.stack-compose.yaml", f->run);
        assert_int_equal(mkdir(f->run, 0755), 0);
        tree_init(&f->tree);
        memset(d.b, 'x', sizeof d.b);
        assert_int_equal(tree_add(&f->tree, "compose.yaml", ENTRY_FILE, 0644, 1, &d, NULL, NULL), 0);
        for (i = 0; shipped && shipped[i]; i++) {
                size_t n = strlen(shipped[i]);
                char path[PATH_MAX];

                if (shipped[i][n - 1] == '/') {
                        snprintf(path, sizeof path, "%.*s", (int)n - 1, shipped[i]);
                        assert_int_equal(tree_add(&f->tree, path, ENTRY_DIR, 0755, 0, NULL, NULL, NULL), 0);
                } else {
                        assert_int_equal(tree_add(&f->tree, shipped[i], ENTRY_FILE, 0644, 1, &d, NULL, NULL), 0);
                }
        }
        assert_int_equal(tree_finalize(&f->tree, NULL), 0);
        assert_int_equal(manifest_parse(MANIFEST, strlen(MANIFEST), &f->m, NULL, NULL, NULL), 0);
}

void fx_release(struct fx *f)
{
        policy_result_release(&f->res);
        tree_release(&f->tree);
        manifest_free(f->m);
        free(f->text);
}

bool fx_exists(const char *path)
{
        struct stat st;

        return lstat(path, &st) == 0;
}

int fx_apply(struct fx *f, const char *yaml, unsigned allow)
{
        struct policy_input in = {.compose_path = f->compose,
                                  .run_dir = f->run,
                                  .data_dir = f->data,
                                  .tree = &f->tree,
                                  .m = f->m,
                                  .allow = allow,
                                  .compose_v1 = f->v1,
                                  .project = PROJECT};
        size_t len;
        int r;

        assert_int_equal(fs_write_atomic(f->compose, yaml, strlen(yaml), 0644), 0);
        unlink(f->out);
        policy_result_release(&f->res);
        error_clear(&f->err);
        free(f->text);
        f->text = NULL;
        r = policy_apply(&in, f->out, &f->res, &f->err);
        if (r == 0)
                assert_int_equal(fs_read_file(f->out, 1 << 24, &f->text, &len), 0);
        else
                assert_false(fx_exists(f->out));
        return r;
}

void fx_refused(const char *yaml, unsigned bit, const char *what, bool v1)
{
        struct fx f;
        const char *name = policy_perm_name(bit);
        char want[160];

        fx_init(&f, NULL);
        f.v1 = v1;
        if (fx_apply(&f, yaml, 0) != -STACK_EREJECT)
                fail_msg("accepted without '%s':\n%s", name, yaml);
        assert_int_equal(f.err.code, STACK_EREJECT);
        if (!strstr(f.err.msg, what))
                fail_msg("message '%s' does not say '%s'", f.err.msg, what);
        snprintf(want, sizeof want, "(needs permission '%s'); grant what demo needs with: stack run demo --allow %s",
                 name, name);
        if (!strstr(f.err.msg, want))
                fail_msg("message '%s' does not say '%s'", f.err.msg, want);
        assert_true(f.res.needed & bit);
        if (fx_apply(&f, yaml, bit) != 0)
                fail_msg("refused with '%s' granted: %s", name, f.err.msg);
        fx_release(&f);
}

void fx_accepted(const char *yaml)
{
        struct fx f;

        fx_init(&f, NULL);
        if (fx_apply(&f, yaml, 0) != 0)
                fail_msg("refused: %s\n%s", f.err.msg, yaml);
        fx_release(&f);
}
